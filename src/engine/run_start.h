/*
 * run_start.h - what `workflow run` and the API's POST /workflow-executions
 * share: load and check a workflow, coerce its parameters, resolve its
 * artifacts, pack its stages' context, then snapshot it as a new run.
 */
#ifndef SM_ENGINE_RUN_START_H
#define SM_ENGINE_RUN_START_H

#include "host.h"
#include "plan_context.h"

struct run_request {
	const char *home, *path;         /* SkillMeat home, workflow file */
	const struct plan_param *params;
	size_t nr_params;
	bool allow_extra, allow_missing, no_overrides;
	const char *overrides_dir;
	const char *workdir;             /* NULL: the current directory */
	const char *runner;              /* default agent runner (NULL: claude) */
	long max_parallel;
	const struct role_binding *bindings; /* --bind / the request's "bindings" */
	size_t nr_bindings;
	const char *rerun_of;            /* a re-run (rerun.h): the run it re-runs */
	const struct stage_reuse *reuse; /* and per stage what it reuses; else NULL */
};

struct run_prepared {
	struct swdl_loaded *l;           /* kept for printing diagnostics with their source */
	struct collection *c;
	struct ref_table refs;
	json_t *params;
	struct plan_context pc;
	char *workdir;                   /* absolute */
	char *source;                    /* the workflow file, absolute (what a re-run loads) */
};

/*
 * Load, validate, coerce, check artifacts and pack.  Problems with the
 * workflow go to dl (nothing is written anywhere); other failures return
 * SM_ERR with *err.  Release p in every case.
 */
int run_prepare(const struct run_request *rq, struct run_prepared *p, struct diag_list *dl,
		char **err);
/* Snapshot a prepared run into the store (status pending); out gets its id. */
int run_prepared_create(const struct run_request *rq, struct run_prepared *p, struct store *st,
			const struct engine_config *cfg, char out[24], char **err);
/*
 * What host_create_run and run_bundle_json (stage_exec.h) need, from a
 * prepared run (cfg may be NULL); run_create_release frees what it made.
 */
void run_prepared_create_of(const struct run_request *rq, struct run_prepared *p,
			    const struct engine_config *cfg, struct run_create *cr);
void run_create_release(struct run_create *cr);
/* What the run's snapshot would be (host.h), for comparing with another run's. */
json_t *run_prepared_snapshot(const struct run_request *rq, struct run_prepared *p, char **err);
void run_prepared_release(struct run_prepared *p);

#endif
