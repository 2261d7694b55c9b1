/*
 * stage_exec.h - run one stage of a workflow whose other stages run
 * elsewhere (an Argo Workflows task: docs/argo.md).
 *
 * The input is a run bundle (what `workflow export` writes: the run's
 * snapshot, its parameters) and the results of the stages it depends on.
 * The stage runs exactly as a local host runs it, because a local host
 * runs it: a run is made from the bundle in a scratch SkillMeat home, the
 * other stages are recorded as they ended elsewhere, and the host hosts it
 * with one attempt (the orchestrator retries; a fan-out's item retries in
 * its pod) and no workflow hooks.
 */
#ifndef SM_EXPORT_STAGE_EXEC_H
#define SM_EXPORT_STAGE_EXEC_H

#include "../engine/run_start.h"

#define RUN_BUNDLE_FORMAT "skillmeat-run-bundle/1"

/* A bundle: the snapshot object plus "format" and "parameters" (new reference). */
json_t *run_bundle_json(const struct run_create *rc, char **err);
/* The prepared run (run_start.h) as a run bundle for elsewhere (new reference). */
json_t *run_prepared_bundle(const struct run_request *rq, struct run_prepared *p, char **err);

struct stage_exec_request {
	const char *home;            /* scratch home: the run's database and attempt files */
	const char *bundle;          /* the bundle's JSON text */
	const char *stage_id;
	json_t *upstream;            /* {stage: {status, outputs, handoff}} of stages that ended */
	const char *workdir;         /* where command stages run (NULL: the current directory) */
	const char *runner;          /* default agent runner (NULL: claude) */
	const struct engine_config *config;
	host_event_fn on_event;
	void *ctx;
	/* A fan-out run as Argo's withParam runs it (docs/argo.md): STAGE_EXEC_WHOLE runs
	 * every item here; the others are an items_elsewhere mode plus one. */
	enum { STAGE_EXEC_WHOLE, STAGE_EXEC_LIST, STAGE_EXEC_ITEM, STAGE_EXEC_GATHER } part;
	long item;                   /* STAGE_EXEC_ITEM: the index; -1: a placeholder item */
	json_t *item_results;        /* STAGE_EXEC_GATHER: {"INDEX": item result} */
	int retries;                 /* attempts made elsewhere before this one (Argo's
				      * {{retries}}): this one is number retries + 1 */
};

/*
 * Run the stage.  *result: {stage_id, status (completed, failed, skipped),
 * attempt, error_class, error, retryable, outputs, handoff} (new
 * reference).  SM_ERR with *err when it could not be run at all (a bad
 * bundle, an unknown stage, a missing upstream result).
 */
int stage_exec(const struct stage_exec_request *rq, json_t **result, char **err);

/*
 * The other parts of a fan-out.  STAGE_EXEC_LIST: *result is {stage_id,
 * status, items: [0, 1, ..., n-1]} (["none"] when the stage has no item
 * to run: skipped, failed before its list, an empty list: Argo's withParam
 * never gets an empty list).  STAGE_EXEC_ITEM: {stage_id, item, status,
 * tries, error_class, error, retryable, outputs} of that item ({item:
 * null, status: "none"} for a placeholder), retried here as the stage's
 * retry policy says (its pod reports a failure, it does not fail: Argo
 * aggregates only the outputs of items that succeeded).  STAGE_EXEC_GATHER: the
 * stage's result, as stage_exec's.
 */

/*
 * Item results as Argo aggregates a withParam task's output parameters
 * ([{"result": "<item result JSON>"}, ...], in any order) or as a list of
 * item results, into {"INDEX": result}; placeholders and entries whose
 * result is empty (a pod that wrote none) are left out.
 * SM_ERR with *err naming the entry that is not one.
 */
int stage_exec_item_results(const json_t *list, json_t **map, char **err);

/*
 * A gate's result from the decision Argo's suspend node carries (docs/argo.md):
 * "approve" completed, "reject" failed (gate_rejected), "timeout" failed
 * (gate_timeout).  NULL with *err for another word.
 */
json_t *stage_exec_gate_result(const char *decision, char **err);

#endif
