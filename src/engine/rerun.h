/*
 * rerun.h - re-running a run: a new run of the workflow's current
 * definition (its own id, rerun_of recorded) where the stages that need not
 * run again take the original run's recorded outputs, handoff record and
 * fan-out items (status "reused": not executed, no cost); the stages after
 * them see them exactly as if they had just run.
 *
 * What runs again:
 *   all (no flag)       every stage (GitHub's "re-run all jobs");
 *   failed              every stage that did not complete, and all after it;
 *   from STAGE...       those stages and all after them (and, as with
 *                       failed, any that did not complete);
 *   reuse_unchanged     with any of these: a stage that would run is reused
 *                       when it completed in the original and its definition,
 *                       the artifacts it uses (their text), its context pack,
 *                       the parameters and the workflow's config are all
 *                       equal, and every stage before it is reused
 *                       (memoization, as `argo resubmit --memoized`).
 * Refused (with the reason): a run that has not ended, a different workflow,
 * a stage named by from that the definition lacks, a completed stage the
 * definition no longer has, reused outputs that no longer fit the stage's
 * output contract, and a re-run where nothing would run.
 */
#ifndef SM_ENGINE_RERUN_H
#define SM_ENGINE_RERUN_H

#include "run_start.h"

enum rerun_mode { RERUN_ALL, RERUN_FAILED, RERUN_FROM };

struct rerun_opts {
	enum rerun_mode mode;
	const char *const *from;         /* RERUN_FROM: stage ids */
	size_t nr_from;
	bool reuse_unchanged;
	const struct plan_param *params; /* given now: over the original's */
	size_t nr_params;
	const struct role_binding *bindings; /* given now: over those the original was given */
	size_t nr_bindings;
};

/* What the original run recorded. */
struct rerun_origin {
	char id[24];
	char status[16];
	char *workflow_id, *source, *workdir, *runner;
	long max_parallel;
	json_t *params, *snapshot, *manifest;
	json_t *stages;                  /* {id: {status, outputs, handoff, items, started_at,
					    finished_at}}: texts as stored */
};

int rerun_origin_load(struct store *st, const char *run_id, struct rerun_origin *o, char **err);
void rerun_origin_release(struct rerun_origin *o);

/* The request of the re-run (the strings it points to live in `keep`). */
struct rerun_request {
	struct run_request rq;
	struct plan_param *params;
	struct role_binding *binds;
	char **keep;
	size_t nr_keep;
};
/* From the origin and the options; home: the SkillMeat home.  SM_ERR with *err. */
int rerun_request_init(struct rerun_request *r, const char *home, const struct rerun_origin *o,
		       const struct rerun_opts *ro, char **err);
void rerun_request_release(struct rerun_request *r);

/* For each stage of the new definition: reused or run, and why. */
struct rerun_decision {
	bool reuse;
	char *why;
	char *outputs;                   /* reused: the outputs, checked against the contract */
};
struct rerun_plan {
	size_t nr;
	struct rerun_decision *d;        /* indexed as the workflow's stages */
};

/* Decide for the prepared re-run; a refusal is SM_ERR with *err. */
int rerun_decide(const struct rerun_origin *o, const struct rerun_opts *ro,
		 struct rerun_request *r, struct run_prepared *p, struct rerun_plan *plan,
		 char **err);
void rerun_plan_release(struct rerun_plan *plan);
/* {rerun_of, stages: [{id, action: "reuse"|"run", reason}]} (new reference). */
json_t *rerun_plan_json(const struct rerun_origin *o, const struct rerun_plan *plan,
			const struct swdl_workflow *wf);

/* Record the re-run (pending, reused stages with their records and events); out: its id. */
int rerun_create(struct store *st, struct rerun_request *r, struct run_prepared *p,
		 const struct engine_config *cfg, const struct rerun_origin *o,
		 const struct rerun_plan *plan, char out[24], char **err);

#endif
