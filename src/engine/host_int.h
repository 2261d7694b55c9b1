/*
 * host_int.h - the host's state, shared by the files of the host (the loop
 * in host.c, prompts and interpolation in host_prompt.c).  Private to
 * src/engine/host*.c.
 */
#ifndef SM_ENGINE_HOST_INT_H
#define SM_ENGINE_HOST_INT_H

#include "host.h"
#include "proc.h"
#include "scheduler.h"

struct host;

struct slot {
	struct host *h;
	bool used, spawned;
	size_t stage;
	int attempt;
	double started;
	struct proc proc;
	struct runner_job job;
	const char *kill_reason;   /* set once we decided to stop it */
	double hard_kill_at;       /* SIGKILL due (0: none) */
	char *spawn_error;         /* could not start: the attempt fails with it */
	const char *spawn_class;
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
	size_t *starts;            /* one loop turn's stages to start */
	double usd;
	int64_t tokens;
	double last_heartbeat;
	struct arena scratch;
	bool fresh;                /* first hosting: run_started, on_start hook */
	bool lost_lease;
};

/* ---- host_prompt.c: run-time interpolation and what an agent is sent ---- */

/* A template's value: one ${{ }} alone keeps its JSON value, else text. */
json_t *host_render_value(struct host *h, const char *text, char **err);
char *host_render_text(struct host *h, const char *text, char **err);
/* A stage's inputs from their sources; *cls gets the failure class. */
json_t *host_resolve_inputs(struct host *h, const struct swdl_stage *s, const char **cls,
			    char **err);
/* The text of an artifact in the run's snapshot, or NULL. */
const char *host_artifact_text(const struct host *h, const char *ref);
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
