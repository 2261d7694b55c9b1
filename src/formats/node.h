/*
 * node.h - the located tree every input format loads into.
 *
 * YAML, JSON (and later TOML) files all become the same tree of nodes,
 * each keeping the file:line:col where it starts, so every later check can
 * point at the exact spot.  Nodes live in the document's arena and are
 * immutable once loaded; a YAML alias shares the anchored node.
 */
#ifndef SM_NODE_H
#define SM_NODE_H

#include "../base/compat.h"
#include "../base/arena.h"
#include "../base/diag.h"

#include <jansson.h>

enum node_kind {
	NODE_NULL,
	NODE_BOOL,
	NODE_INT,
	NODE_FLOAT,
	NODE_STRING,
	NODE_SEQ,
	NODE_MAP,
	NODE_DATETIME, /* TOML only: text holds it (RFC 3339, 'T' and 'Z' upper case) */
};

/* The kind of a NODE_DATETIME, kept in `style`. */
enum node_datetime {
	NODE_DT_OFFSET,     /* 1979-05-27T07:32:00Z */
	NODE_DT_LOCAL,      /* 1979-05-27T07:32:00 */
	NODE_DT_DATE,       /* 1979-05-27 */
	NODE_DT_TIME,       /* 07:32:00 */
};

enum node_style {
	NODE_STYLE_PLAIN,   /* untyped text: typed by the core schema */
	NODE_STYLE_QUOTED,  /* '…' or "…": always a string */
	NODE_STYLE_BLOCK,   /* | or >: always a string */
};

struct node_pair;

/*
 * 48 bytes: a workflow of 10,000 stages holds about 700,000 of these, so
 * the layout matters.  Scalars use text/len/v; collections items or
 * pairs, nr and weight.
 */
struct node {
	struct loc loc;
	const char *text; /* scalars: decoded text (NUL-terminated); "" otherwise */
	union {
		union {
			bool b;
			int64_t i;
			double f;
		} v;                      /* typed value of a scalar */
		struct node **items;      /* NODE_SEQ */
		struct node_pair *pairs;  /* NODE_MAP */
	};
	uint32_t len;     /* scalar text length (inputs are capped far below 4 GiB) */
	uint32_t nr;      /* items in a sequence, pairs in a mapping */
	uint32_t weight;  /* nodes in this subtree, aliases counted expanded */
	uint8_t kind;     /* enum node_kind */
	uint8_t style;    /* enum node_style */
};

struct node_pair {
	struct node *key; /* always a scalar */
	struct node *value;
};

_Static_assert(sizeof(struct node) <= 48, "struct node grew");

static inline bool node_is_scalar(const struct node *n)
{
	return n->kind != NODE_SEQ && n->kind != NODE_MAP;
}

/* "null", "boolean", "integer", "number", "string", "list", "mapping", "datetime" */
const char *node_kind_name(enum node_kind kind);
/* Value of `key` in mapping `map`, or NULL (also when map is not a map). */
struct node *node_map_get(const struct node *map, const char *key);
/* The key node of `key` in `map`, or NULL. */
struct node *node_map_key(const struct node *map, const char *key);
/*
 * Follow a dotted path of mapping keys and [i] sequence indices
 * ("stages[2].inputs.x.source") and return the deepest node reached, so a
 * diagnostic about a missing field still points at its nearest parent.
 */
const struct node *node_path_nearest(const struct node *root, const char *path);
/* Convert to a JSON value (new reference). */
json_t *node_to_json(const struct node *n);
/* Build a node tree from a JSON value; every node gets `loc`. */
struct node *node_from_json(struct arena *a, const json_t *j, const struct loc *loc);

/*
 * Building trees (for documents the program writes, such as manifests).
 * Collections get room for `cap` children; *_add must stay within it.
 */
struct node *node_new_string(struct arena *a, const char *text);
struct node *node_new_map(struct arena *a, size_t cap);
struct node *node_new_seq(struct arena *a, size_t cap);
void node_map_add(struct arena *a, struct node *map, const char *key, struct node *value);
void node_seq_add(struct node *seq, struct node *item);
/* A shallow copy of `map` with room for `extra` more pairs. */
struct node *node_map_copy(struct arena *a, const struct node *map, size_t extra);
/* Replace the value of `key` in `map` (a copy from node_map_copy) or add it. */
void node_map_set(struct arena *a, struct node *map, const char *key, struct node *value);

/* Core-schema typing of a plain scalar's text (YAML 1.2 §10.3). */
void node_type_plain_scalar(struct node *n);

#endif
