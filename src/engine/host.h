/*
 * Room engine/ (docs/ARCHITECTURE.md): running workflows: the pure
 * scheduler (scheduler.h), the host loop (host.c) and its parts
 * (host_attempt, host_fan_out, host_handoff, host_prompt, host_deliver)
 * over host_core.c, making runs (run_start.h, host_create.c), re-runs,
 * handoffs, outputs, the plan's context, the engine's config.toml and
 * runner checks (config.h).  Uses every room below it; export/, server/
 * and cli/ use it.  This header is its door; host_int.h is private to
 * host*.c.
 *
 * host.h - hosting a run: the loop that joins the scheduler, the store,
 * the runners and the child processes.
 *
 * Each turn of the loop: take posted commands, ask the scheduler what is
 * due, write all of it to the store in one transaction, then act (spawn,
 * signal); wait on the children (poll) until output, an exit or the next
 * timer; write what ended, then feed it back to the scheduler.  A state
 * change is therefore always durable before anything acts on it, and a
 * host killed at any point leaves a run that `resume` can finish.
 */
#ifndef SM_ENGINE_HOST_H
#define SM_ENGINE_HOST_H

#include "config.h"
#include "../store/store.h"
#include "../swdl/workflow.h"

#include <signal.h>

/* Artifacts the run's agents and context modules need, copied into the snapshot. */
struct artifact_text {
	const char *ref, *path;
};

struct run_create {
	const struct swdl_loaded *loaded;
	const json_t *params;           /* coerced parameters */
	const char *source;             /* the workflow file */
	const char *workdir;            /* where command stages run (default cwd) */
	const char *runner;             /* default agent runner (NULL: claude) */
	long max_parallel;
	const struct artifact_text *artifacts;
	size_t nr_artifacts;
	const struct engine_config *config; /* runners, for versions in the manifest */
	const json_t *packs;            /* {stage: {text, manifest}} (context packs) or NULL */
	const char *rerun_of;           /* a re-run: the run it re-runs, else NULL */
	const struct stage_reuse *reuse; /* a re-run: per stage, what it reuses (or NULL) */
};

/*
 * What a run executes: {workflow (merged), artifacts (their texts), packs,
 * bindings} (new reference), or NULL with *err.
 */
json_t *host_snapshot_json(const struct run_create *rc, char **err);
/* The SHA-256 of a snapshot's text, in hex: a run's workflow_hash. */
#define HOST_HASH_HEX 65
void host_snapshot_hash(const char *snapshot, char hash[HOST_HASH_HEX]);
/* Record a new run of wf (rn->id is set to out, its new id) with its stages pending. */
int host_store_run(struct store *st, const struct swdl_workflow *wf, struct run_new *rn,
		   char out[24], char **err);
/* Snapshot the workflow and create the run (status pending).  out gets its id. */
int host_create_run(struct store *st, const struct run_create *rc, char out[24], char **err);

/* Called for every event the host writes (for a live view). */
typedef void (*host_event_fn)(void *ctx, const char *type, const char *stage_id, int attempt,
			      const json_t *data);

struct host_opts {
	const char *home;                /* attempt files go to <home>/runs/<run>/ */
	const struct engine_config *config; /* runners, prices, notifier */
	host_event_fn on_event;
	void *ctx;
	volatile sig_atomic_t *interrupted; /* set by a signal handler: cancel the run */
	double lease_stale_after;        /* seconds; 0: 15 */
	int kill_grace_ms;               /* SIGTERM to SIGKILL; 0: 5000 */
	const char *host_kind;           /* "cli", "web" (recorded with the lease); NULL: keep */
	/* Called once the run is ours and its state restored (ok), or could not be. */
	void (*on_hosting)(void *hosting_ctx, bool ok);
	void *hosting_ctx;
	/* One stage of a run elsewhere (stage_exec.h): one attempt, no workflow hooks. */
	bool stage_exec;
	/* With stage_exec: a fan-out whose items run elsewhere (NULL: all run here). */
	const struct items_elsewhere *items_elsewhere;
};

/*
 * A fan-out stage whose items run in pods of their own (Argo's withParam):
 * the host runs the stage, but an item it does not run here ends at once
 * with the result given for it.  ITEMS_LIST: none runs (each "completed",
 * no outputs; the list is what is wanted); ITEMS_ONE: only `item` runs,
 * with the retries its stage's policy gives it;
 * ITEMS_GATHER: none runs, each ends as `results[item]` says ({status,
 * error_class, error, outputs}; missing: failed, class "item_lost").
 */
struct items_elsewhere {
	enum { ITEMS_LIST, ITEMS_ONE, ITEMS_GATHER } mode;
	size_t stage;
	long item;
	json_t *results;                 /* ITEMS_GATHER: {"INDEX": result} */
};

/*
 * Host run `run_id` until it reaches a final state.  Takes the lease
 * (SM_ERR "held by pid N" when a live host has it), restores the state
 * from the store and adopts the attempts a dead host left running: a live
 * monitor is followed again, an attempt that ended meanwhile is collected
 * as if it had been watched, and one with neither ("host_lost") is run
 * again at once without counting against its retries.  *status gets the
 * final run status ("completed", "failed", "cancelled").  Leaving early
 * (an error, the lease lost) leaves running attempts to a later host.
 */
int host_run(struct store *st, const char *run_id, const struct host_opts *o,
	     char status[16], char **err);

#endif
