/*
 * memory.h - project memory: short facts a team wants every agent to know
 * (constraints, decisions, fixes, patterns, gotchas, style rules,
 * learnings), kept in SQLite at $SKILLMEAT_HOME/memory.db.
 *
 * An item belongs to a project (the project directory's absolute path),
 * has a type, a content, a confidence in 0..1 and a status:
 *
 *   candidate --promote--> active --promote--> stable
 *        \___________\____________\__deprecate__> deprecated
 *
 * Only active and stable items are ever packed into a stage's context.
 * Provenance is a JSON object: who or what made it (author, run_id,
 * stage, workflow, source) and the status transitions with their reasons.
 * The same content twice in one project is one item (content_hash).
 */
#ifndef SM_CONTEXT_MEMORY_H
#define SM_CONTEXT_MEMORY_H

#include "../base/compat.h"
#include "../base/arena.h"

#include <jansson.h>

enum memory_type {
	MEM_CONSTRAINT, MEM_DECISION, MEM_FIX, MEM_PATTERN, MEM_GOTCHA, MEM_STYLE_RULE,
	MEM_LEARNING, MEM_NR_TYPES
};
enum memory_status { MEM_CANDIDATE, MEM_ACTIVE, MEM_STABLE, MEM_DEPRECATED, MEM_NR_STATUS };

const char *memory_type_name(enum memory_type t);
int memory_type_from_name(const char *name);       /* -1 when unknown */
const char *memory_status_name(enum memory_status s);
int memory_status_from_name(const char *name);     /* -1 when unknown */

/* Longest content accepted (bytes). */
#define MEMORY_MAX_CONTENT (64 * 1024)

struct memory_item {
	char id[33];                /* 32 hex digits */
	const char *project, *content;
	enum memory_type type;
	enum memory_status status;
	double confidence;
	const char *provenance;     /* JSON object text */
	const char *anchors;        /* JSON array text: [{path, type, …}] */
	double created_at, updated_at;
	const char *stage;          /* provenance.stage (or .workflow_stage), or NULL */
	const char *paths;          /* anchors[].path, one a line, or NULL */
};

struct memory_db;

int memory_open(const char *path, struct memory_db **out, char **err);
void memory_close(struct memory_db *m);
char *memory_default_path(const char *home);

struct memory_new {
	const char *project, *content;
	enum memory_type type;
	enum memory_status status;
	double confidence;
	json_t *provenance;         /* borrowed; may be NULL */
	json_t *anchors;            /* borrowed; may be NULL */
	double created_at;          /* 0: now */
};

/*
 * Add an item.  When the project already has the same content, nothing is
 * added, *duplicate is set and id gets the existing item's id.
 */
int memory_add(struct memory_db *m, const struct memory_new *n, char id[33], bool *duplicate,
	       char **err);

struct memory_query {
	const char *project;        /* NULL: every project */
	unsigned types;             /* bit (1 << type); 0: all */
	unsigned statuses;          /* bit (1 << status); 0: all */
	double min_confidence;
	size_t limit;               /* 0: no limit */
	bool for_packing;           /* any order, provenance and anchors left out (faster) */
};

/* Items matching q, newest first; strings live in `a`. */
int memory_list(struct memory_db *m, const struct memory_query *q, struct arena *a,
		struct memory_item **items, size_t *nr, char **err);

/* One item by id or unique id prefix (SM_ENOENT: none; SM_ERR: ambiguous). */
int memory_get(struct memory_db *m, const char *id, struct arena *a, struct memory_item *out,
	       char **err);

/* Move an item to `to` (promote/deprecate), recording the transition. */
int memory_set_status(struct memory_db *m, const char *id, enum memory_status to,
		      const char *reason, char **err);
int memory_delete(struct memory_db *m, const char *id, char **err);

/* Several changes as one (import: all or nothing). */
int memory_begin(struct memory_db *m);
int memory_commit(struct memory_db *m);
void memory_rollback(struct memory_db *m);

/* An item as a JSON object (the export format). */
json_t *memory_item_json(const struct memory_item *it);

#endif
