/*
 * plan_context.h - the context packs and cost estimates of a workflow's
 * stages, computed once for `workflow plan`, `context preview` and
 * `workflow run` (which stores the packs in the run's snapshot).
 */
#ifndef SM_ENGINE_PLAN_CONTEXT_H
#define SM_ENGINE_PLAN_CONTEXT_H

#include "../collection/refs.h"
#include "../context/estimate.h"
#include "../context/stage.h"
#include "../swdl/plan.h"
#include "../swdl/workflow.h"

struct stage_context {
	bool has_pack;
	struct pack_result pack;
	struct stage_estimate est;
};

struct plan_context {
	const struct swdl_loaded *l;
	struct memory_db *mem;
	struct context_env env;
	struct price_table prices;
	char *project;
	struct stage_context *st;    /* one per stage */
};

/*
 * Pack every stage: modules from `c` (may be NULL), memory of `project_dir`
 * (NULL: the current directory) from home/memory.db, prices from
 * home/config.toml.  Problems with module files go to dl; other failures
 * return SM_ERR with *err.  Release even after a failure.
 */
int plan_context_init(struct plan_context *pc, const char *home, const struct swdl_loaded *l,
		      const struct collection *c, const struct ref_table *refs,
		      const char *project_dir, struct diag_list *dl, char **err);
void plan_context_release(struct plan_context *pc);

/* Callbacks that add the packs and estimates to a plan. */
struct plan_extra plan_context_extra(struct plan_context *pc);

/* {stage_id: {text, manifest}} for the stages that receive a pack. */
json_t *plan_context_packs(const struct plan_context *pc);

#endif
