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
};

enum node_style {
	NODE_STYLE_PLAIN,   /* untyped text: typed by the core schema */
	NODE_STYLE_QUOTED,  /* '…' or "…": always a string */
	NODE_STYLE_BLOCK,   /* | or >: always a string */
};

struct node_pair;

struct node {
	enum node_kind kind;
	enum node_style style;
	struct loc loc;
	const char *text; /* scalars: decoded text (NUL-terminated) */
	size_t len;
	union {
		bool b;
		int64_t i;
		double f;
	} v;
	size_t nr; /* items in a sequence, pairs in a mapping */
	union {
		struct node **items;
		struct node_pair *pairs;
	};
	size_t weight; /* nodes in this subtree, aliases counted expanded */
};

struct node_pair {
	struct node *key; /* always a scalar */
	struct node *value;
};

static inline bool node_is_scalar(const struct node *n)
{
	return n->kind != NODE_SEQ && n->kind != NODE_MAP;
}

/* "null", "boolean", "integer", "number", "string", "list", "mapping" */
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

/* Core-schema typing of a plain scalar's text (YAML 1.2 §10.3). */
void node_type_plain_scalar(struct node *n);

#endif
