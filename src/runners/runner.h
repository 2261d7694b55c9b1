/*
 * Room runners/ (docs/ARCHITECTURE.md): the agent and command protocols
 * (claude, codex, gemini, text, command), the runner set of config.toml
 * and what an attempt is given (runner_deliver.c).  A runner turns a stage
 * request into argv, environment and files, and a child's output into
 * events, usage and outputs; it starts nothing (engine/ does, through
 * supervise/).  Uses base/, formats/, swdl/, context/ (prices).  This
 * header is its door; runner_proto.h is private to runner*.c.
 *
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
#ifndef SM_RUNNERS_RUNNER_H
#define SM_RUNNERS_RUNNER_H

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

/*
 * What a stage binds besides its prompt, delivered the way each CLI loads
 * it (runner_deliver.c, docs/running.md "What each CLI is given"): skills
 * as skills, MCP servers as MCP configuration, the agent's frontmatter and
 * the stage's permissions as flags.  Written into the attempt's folder,
 * never into the user's own config or repository.
 */
struct stage_delivery {
	const json_t *skills;        /* {name: {files: {path: {text|base64, executable}}}} */
	const json_t *mcp_servers;   /* {name: {command, args, env} | {type, url, headers}} */
	const char *permission_mode; /* Claude Code's names; NULL: the CLI's own default */
	const char *const *tools;            /* the built-in tools available (agent's tools) */
	const char *const *allowed_tools;    /* NULL-terminated, or NULL */
	const char *const *disallowed_tools; /* NULL-terminated, or NULL */
};

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
	const struct stage_delivery *delivery; /* agents: bound artifacts, or NULL */
};

/*
 * Tokens of one model within an attempt, as the CLI reported them.  Input
 * is split as every vendor bills it: uncached input, input read from the
 * prompt cache, input written to it; output includes thinking.
 */
struct model_usage {
	char *model;
	int64_t input, cache_read, cache_write, output;
	int64_t thinking;            /* of output: thinking/reasoning (for the record) */
	double usd;                  /* the CLI's own figure for this model; < 0: none */
};

struct usage_set {
	struct model_usage *m;
	size_t nr, alloc;
};
/* The entry of `model` (created empty, usd -1, when new). */
struct model_usage *usage_set_get(struct usage_set *u, const char *model);
void usage_set_clear(struct usage_set *u);
/* All tokens of the set, input of every kind plus output. */
int64_t usage_set_tokens(const struct usage_set *u);

/* A line of the child's output over this is not kept (the attempt fails). */
#define RUNNER_MAX_LINE ((size_t)64 << 20)

struct runner_job {
	enum runner_protocol proto;
	char **argv, **env;
	char *cwd, *output_file;
	char *input_file;            /* the child's stdin (the prompt); NULL: /dev/null */
	/* parsing */
	struct strbuf partial[2];    /* an unfinished line of stdout, stderr */
	struct strbuf whole[2];      /* gemini/text: all of stdout, stderr (capped) */
	bool overflow;               /* a line or a whole stream went past its cap */
	bool got_result, result_error;
	char *result_text, *error, *session_id, *model, *version;
	const char *error_class;
	json_t *structured;
	/* usage: per model once the CLI's final figures came; live tokens before */
	struct usage_set usage;
	json_t *msg_tokens;          /* claude: message id -> tokens counted for it */
	double reported_usd;         /* the CLI's own total cost; < 0: none */
	double usd;                  /* the attempt's cost, set by runner_cost() */
	int64_t input_tokens, output_tokens; /* totals (live while it runs) */
	int64_t retry_at;            /* rate_limited: when the CLI says it resets (unix s) */
	char *last_error;            /* the last error message seen (codex `error` events) */
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

/*
 * The attempt's cost: the CLI's own total when it gave one, else each
 * model's figure or its tokens at the table's prices (fallback_model when
 * the CLI named none).  Sets job->usd; a line for the log goes to `note`
 * (empty when there is nothing to say).
 */
struct price_table;
double runner_cost(struct runner_job *job, const struct price_table *t,
		   const char *fallback_model, struct strbuf *note);
/* Recompute input_tokens/output_tokens from the usage set (when it has entries). */
void runner_usage_totals(struct runner_job *job);

/*
 * What runner `proto` cannot take of a delivery, one line each ("skill
 * 'x': codex loads skills only from its home"), or an empty buffer.
 */
void runner_delivery_gaps(enum runner_protocol proto, const struct stage_delivery *d,
			  struct strbuf *out);

/* "exit_3" and the like, as static strings. */
const char *runner_exit_class(int exit_code);

#endif
