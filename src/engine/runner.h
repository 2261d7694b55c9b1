/*
 * runner.h - turn a resolved stage into a child process, and the child's
 * output back into log lines, usage and a JSON outputs object.
 *
 * A runner is a protocol plus an argv: the built-in ones are `claude`
 * (claude -p, stream-json), `codex` (codex exec --json), `gemini`
 * (gemini -p, JSON output) and `command` (a script; outputs written to
 * $SKILLMEAT_OUTPUT).  Users add runners in config.toml:
 *
 *   [runners.my-agent]
 *   command = ["my-agent", "--model", "{model}"]
 *   protocol = "claude"          # claude | codex | gemini | text
 *
 * The prompt always goes to the child's stdin (no ARG_MAX, no quoting);
 * the system prompt, prompt and inputs are also written to the attempt's
 * directory, whose files the argv may name: {system_prompt_file},
 * {prompt_file}, {inputs_file}, {context_file}, {model}, {session_id},
 * {max_turns}, {max_budget_usd}, {workdir}.  A stage's context pack is
 * also in the file named by $SKILLMEAT_CONTEXT (command stages read it
 * there; agents get it in their prompt).
 */
#ifndef SM_ENGINE_RUNNER_H
#define SM_ENGINE_RUNNER_H

#include "../base/strbuf.h"
#include "../swdl/model.h"

#include <jansson.h>

enum runner_protocol { PROTO_COMMAND, PROTO_CLAUDE, PROTO_CODEX, PROTO_GEMINI, PROTO_TEXT };

struct runner_def {
	char *name;
	enum runner_protocol proto;
	char **argv;      /* template (NULL-terminated); NULL: the protocol's own program */
	char **extra;     /* extra arguments appended to a built-in argv */
};

/* The built-in runners, then those of config.toml's [runners] table. */
struct runner_set {
	size_t nr;
	struct runner_def *defs;
};
void runner_set_init(struct runner_set *rs);
int runner_set_load(struct runner_set *rs, const struct node *runners, const char *file,
		    char **err);
/* The program a runner starts (argv[0] of its command, or the protocol's). */
const char *runner_program(const struct runner_def *def);
const struct runner_def *runner_set_find(const struct runner_set *rs, const char *name);
void runner_set_release(struct runner_set *rs);
const char *runner_protocol_name(enum runner_protocol p);

struct swdl_workflow;
struct diag_list;
/* Every stage's roles.primary.runner is known (else a located error each; SM_ERR). */
int runner_check_workflow(const struct runner_set *rs, const struct swdl_workflow *wf,
			  const char *config_path, struct diag_list *dl);

/* Everything one attempt of a stage needs, resolved by the host. */
struct stage_request {
	const struct swdl_stage *stage;
	const char *run_id, *attempt_dir, *workdir;
	int attempt;
	const char *system_prompt;   /* agent body; NULL for command stages */
	const char *prompt;          /* instructions, context, inputs, output contract */
	const json_t *inputs;
	const char *model, *session_id;
	const struct swdl_budget *budget;
	const char *const *env;      /* extra KEY=VALUE (stage env, interpolated) */
	size_t nr_env;
	const char *cwd;             /* command stages: resolved working directory */
	const char *context;         /* the stage's context pack, or NULL */
};

struct runner_job {
	enum runner_protocol proto;
	char **argv, **env;
	char *cwd, *output_file;
	char *input_file;            /* the child's stdin (the prompt); NULL: /dev/null */
	/* parsing */
	struct strbuf partial[2];    /* an unfinished line of stdout, stderr */
	struct strbuf whole;         /* gemini/text: all of stdout (capped) */
	bool got_result, result_error;
	char *result_text, *error, *session_id, *model;
	const char *error_class;
	json_t *structured;
	double usd;
	int64_t input_tokens, output_tokens;
};

/* A line for the run's events: kind "output" (raw protocol line) or "log". */
typedef void (*runner_emit_fn)(void *ctx, const char *kind, int stream, const char *text,
			       size_t len);

int runner_prepare(const struct runner_def *def, const struct stage_request *rq,
		   struct runner_job *job, char **err);
/*
 * The job of an attempt an earlier host prepared in `attempt_dir` (nothing
 * is written): enough to parse its output and collect its result.  A
 * runner no longer in the config (def NULL) is read as plain text.
 */
void runner_job_attach(const struct runner_def *def, const char *attempt_dir,
		       struct runner_job *job);
/* Output of the child (stream 1 stdout, 2 stderr), in any chunks. */
void runner_feed(struct runner_job *job, int stream, const char *data, size_t len,
		 runner_emit_fn emit, void *ctx);

struct runner_result {
	bool ok;
	const char *error_class;     /* static: exit_N classes are interned */
	char *error;
	json_t *outputs;             /* an object (may be empty) */
};
/* After the child exited (exit code, or 128 + signal). */
void runner_finish(struct runner_job *job, int exit_code, runner_emit_fn emit, void *ctx,
		   struct runner_result *res);
void runner_job_release(struct runner_job *job);
void runner_result_release(struct runner_result *res);

/* Where the last ```json fence of text starts, or NULL. */
const char *runner_last_json_fence(const char *text);
/* The last JSON object in free text: a ```json block, else a {...} that parses. */
json_t *runner_extract_json(const char *text);

/* "exit_3" and the like, as static strings. */
const char *runner_exit_class(int exit_code);

#endif
