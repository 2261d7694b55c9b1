/*
 * host_int.h - the host's state, shared by the files of the host (the loop
 * in host.c, prompts and interpolation in host_prompt.c).  Private to
 * src/engine/host*.c.  Calls go one way: the loop calls its parts, the
 * parts call host_core.c (events, persistence), never the loop.
 */
#ifndef SM_ENGINE_HOST_INT_H
#define SM_ENGINE_HOST_INT_H

#include "host.h"
#include "../supervise/supervise.h"
#include "scheduler.h"

struct host;

struct slot {
	struct host *h;
	bool used, spawned;
	bool replaying;            /* rebuilding the runner's state: no events */
	bool pid_saved;            /* the program's pid is in the store */
	size_t stage;
	int item;                  /* the fan-out item it runs, or -1 */
	int attempt;
	double started;
	struct attempt att;
	int64_t saved_off[2];      /* log offsets last written to the store */
	struct runner_job job;
	const char *kill_reason;   /* set once we decided to stop it */
	double kill_at;            /* SIGTERM not before (a timeout counts from the real start) */
	double hard_kill_at;       /* SIGKILL due (0: none) */
	double signalled_at;       /* when SIGTERM went out (0: not yet) */
	double result_at;          /* when its final message was read (0: not yet) */
	/* log events: lines and bytes recorded one event each, per stream; past the
	 * budget a turn's lines are one event pointing at their byte range */
	int64_t event_lines[2], event_bytes[2], skipped_from[2], skipped_lines[2];
	int64_t agent_lines, agent_bytes; /* the parser's log lines of an agent's stdout */
	bool over_limit;           /* a stream passed the stage's output limit */
	char *spawn_error;         /* could not start: the attempt fails with it */
	char *summary;             /* the answer to handoff.summary_prompt, or NULL */
	char *git_after;           /* the work tree once it ended (handoff_git_state), or NULL */
	const char *spawn_class;
	json_t *given;             /* the result of an item run elsewhere (items_elsewhere) */
};

struct host {
	struct store *st;
	const char *run_id;
	const struct host_opts *o;
	char token[33];
	struct swdl_loaded *l;
	const struct swdl_workflow *wf;
	json_t *artifacts, *params, *ctx, *stage_ctx;
	json_t *packs;             /* {stage: {text, manifest}}; NULL in runs made before packs */
	char *workdir, *runner, *run_dir;
	struct sched sched;
	struct slot *slots;
	size_t nr_slots;
	struct start {             /* one loop turn's attempts to start */
		size_t stage;
		int item;
		int attempt;
	} *starts;
	json_t **fan_items;        /* per stage: a started fan-out's item list, else NULL */
	json_t **fan_outputs;      /* per stage: each item's outputs (null until it has some) */
	char *items_error;         /* why the last item list could not be made */
	json_t *handoffs;          /* {stage id: handoff record} of the stages ended */
	char *git_root;            /* the git work tree the run works in, or NULL */
	char *git_exclude;         /* the pathspec that keeps git out of the home, or NULL */
	char *git_turn;            /* this turn's state of the tree, taken at most once */
	double usd;
	int64_t tokens;
	double last_heartbeat;
	struct arena scratch;
	struct monitor_zygote zygote; /* forks the attempts' monitors */
	bool fresh;                /* first hosting: run_started, on_start hook */
	bool lost_lease;
};

/* ---- host_core.c: events and persistence, for the loop and every part ---- */

/* Write an event (data is stolen; NULL: {}) and tell the live view. */
void host_event(struct host *h, const char *type, const char *stage_id, int attempt,
		json_t *data);
const char *host_stage_id(const struct host *h, size_t i);
/* stages.<id> = {status, outputs} in the expression context. */
void host_ctx_stage(struct host *h, size_t i, const char *status, json_t *outputs);
int host_persist_stage(struct host *h, size_t i, const char *error, const char *outputs);
void host_persist_run(struct host *h);

/* An event time: "2026-12-02T13:04:05Z". */
json_t *host_json_time(int64_t t);

/* ---- host_attempt.c: the life of an attempt ---- */

const char *host_runner_of(const struct host *h, const struct swdl_stage *s);
/* A free slot for a new attempt (there is always one); item -1 for a stage. */
struct slot *host_slot_for(struct host *h, size_t stage, int item, int attempt);
/* Prepare and start the slot's attempt; a failure is kept for host_finish_slot. */
void host_spawn(struct host *h, struct slot *sl);
/* Read new log output into events; finish attempts that ended.  True: more to read. */
bool host_follow_slots(struct host *h);
void host_finish_slot(struct host *h, struct slot *sl);
/* Send the signals owed (stops decided, grace periods over). */
void host_signal_slots(struct host *h);
/* Seconds until the next signal owed, or -1. */
double host_next_signal(const struct host *h);
/* Forget every slot; live monitors go on without us. */
void host_release_slots(struct host *h);

/* An attempt recorded as running when this host took the run over. */
struct adoptee {
	size_t stage;
	int item;
	int attempt;
	const char *runner;
	double started_at;
	int64_t out_off, err_off;
};
/* Follow it again (its monitor lives), collect it (it ended), or count it lost. */
void host_adopt(struct host *h, const struct adoptee *ad);

/* ---- host_fan_out.c: fan-out stages ---- */

/* The scheduler's callback: evaluate the stage's item list (kept in h->fan_items). */
int host_fan_out_items(void *ctx, const struct swdl_stage *s, size_t *n, const char **cls);
/* Write a started fan-out (its list, its items pending); settle it if it has none. */
void host_fan_out_expanded(struct host *h, size_t stage);
/* Write an item's state (outputs: JSON text or NULL). */
void host_persist_item(struct host *h, size_t stage, size_t item, const char *error,
		       const char *outputs);
/* An item's attempt ended (or was lost: res NULL): record it, settle the stage if done. */
void host_fan_out_item_ended(struct host *h, struct slot *sl, struct runner_result *res);
/* The fan-out's items and their states from the store (a new host). */
int host_fan_out_restore(struct host *h, size_t stage, const char *items_json,
			 struct adoptee *ads, size_t *nr);
/* fan_out.{item,index} in the context while an item's attempt is prepared (NULL: remove). */
void host_fan_out_ctx(struct host *h, const struct slot *sl);

/* ---- host_handoff.c: what a stage hands on ---- */

/*
 * Find the git work tree the run works in, once, when the host starts:
 * not between recording an attempt as running and starting it, where a
 * host's death would lose the attempt.
 */
void host_handoff_init(struct host *h);
/* Does the stage's record list its files from git (agent stages, or handoff.files_changed)? */
bool host_handoff_wants_files(const struct swdl_stage *s);
/* A stage is about to start for the first time: note the work tree's state. */
void host_handoff_begin(struct host *h, size_t stage);
/*
 * Note the work tree's state for each attempt that has ended, before the
 * loop takes the database's write lock: git may take seconds.
 */
void host_handoff_prefetch(struct host *h);
/*
 * A stage ended (completed or failed): build, store and keep its record.
 * sl: the attempt that ended it (for a fan-out, its last item's), or NULL;
 * res: that attempt's result (NULL for a fan-out).
 */
void host_handoff_end(struct host *h, size_t stage, const struct slot *sl,
		      const struct runner_result *res);
/* The handoffs of the stages `s` depends on, for its prompt (within max bytes), or NULL. */
char *host_handoff_prompt(struct host *h, const struct swdl_stage *s, size_t max);
/* Write them as JSON into dir/handoff.json; *path gets its path. */
int host_handoff_file(struct host *h, const struct swdl_stage *s, const char *dir,
		      char **path, char **err);
/* Restore a stage's record from the store. */
void host_handoff_restore(struct host *h, size_t stage, const char *text);

/* ---- host_prompt.c: run-time interpolation and what an agent is sent ---- */

/* A template's value: one ${{ }} alone keeps its JSON value, else text. */
json_t *host_render_value(struct host *h, const char *text, char **err);
char *host_render_text(struct host *h, const char *text, char **err);
/* A stage's inputs from their sources; *cls gets the failure class. */
json_t *host_resolve_inputs(struct host *h, const struct swdl_stage *s, const char **cls,
			    char **err);
/* The text of an artifact in the run's snapshot, or NULL. */
const char *host_artifact_text(const struct host *h, const char *ref);

/* What an agent attempt is given besides its prompt (host_deliver.c). */
struct attempt_delivery {
	struct stage_delivery d;     /* points into the fields below */
	json_t *skills, *mcp;
	const char **tools, **allowed, **disallowed;
	const char *model;           /* the agent's frontmatter model (claude), or NULL */
	const char *body;            /* the agent's text without its frontmatter */
	const char *undeliverable;   /* an mcp: tool with no command or url, or NULL */
};
void host_delivery_build(struct host *h, const struct swdl_stage *s, enum runner_protocol proto,
			 struct attempt_delivery *ad);
void host_delivery_release(struct attempt_delivery *ad);
/* The stage's context pack from the snapshot, or NULL. */
const char *host_pack_text(const struct host *h, const struct swdl_stage *s);
/* An agent stage's prompt: instructions, context, inputs, output contract. */
char *host_build_prompt(struct host *h, const struct swdl_stage *s, const json_t *inputs,
			char **err);
/* "KEY=value" of config.env and the stage's env, interpolated (*nr of them). */
char **host_stage_env(struct host *h, const struct swdl_stage *s, size_t *nr, char **err);
/* A hook's shell command, each interpolated value single-quoted. */
char *host_hook_command(struct host *h, const char *text, char **err);

#endif
