/*
 * pack.h - a stage's context pack: the text injected into its prompt and
 * a manifest of what went in, what stayed out and why.
 *
 * Packing (docs/context.md):
 *  1. the budget is the stage's memory.max_tokens (stage keys override
 *     the workflow's context.memory; default 2000);
 *  2. module texts go first, in the workflow's order (global modules,
 *     then the stage's), each if it fits the budget and its own cap;
 *  3. candidate memory items (active or stable, of the project in scope)
 *     are selected by the memory query (categories, min_confidence), by a
 *     module's selectors, or as a module's listed items;
 *  4. they are ranked by confidence, then recency (updated_at), then
 *     status (stable before active), then id, and taken greedily: an
 *     item that does not fit is left out and the next one is tried;
 *  5. the text is rendered: "# Context Pack", the modules, then the items
 *     grouped by type in a fixed order.
 * Tokens are the sum of the estimates (tokens.h) of the pieces: header,
 * each module section, each type heading, each item line.  The same
 * inputs always give the same pack, byte for byte.
 */
#ifndef SM_CONTEXT_PACK_H
#define SM_CONTEXT_PACK_H

#include "module.h"
#include "../swdl/model.h"

#include <jansson.h>

#define PACK_DEFAULT_BUDGET 2000

struct pack_request {
	const char *stage_id;
	const struct ctx_module *const *modules;   /* NULL entries: missing modules */
	const char *const *module_refs;            /* the refs, for missing ones */
	size_t nr_modules;
	const struct swdl_memory *memory;          /* the merged query; NULL: none */
	int64_t budget;
	const struct item_facts *items;            /* candidates */
	size_t nr_items;
};

struct pack_result {
	char *text;                  /* "" when nothing was packed */
	int64_t tokens, budget;
	size_t nr_modules, nr_items; /* included */
	json_t *manifest;
};

void context_pack(const struct pack_request *rq, struct pack_result *out);
void pack_result_release(struct pack_result *r);

#endif
