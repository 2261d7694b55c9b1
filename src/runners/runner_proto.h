/*
 * runner_proto.h - what each runner protocol implements (private to the
 * runner files).
 */
#ifndef SM_RUNNERS_RUNNER_PROTO_H
#define SM_RUNNERS_RUNNER_PROTO_H

#include "runner.h"
#include "../base/strv.h"

struct proto_ops {              /* its name: runner_protocol_name (runner_common.c) */
	const char *program;   /* argv[0] of the built-in runner */
	/* Arguments after the program, for the built-in argv. */
	void (*args)(struct strv *argv, const struct stage_request *rq);
	/* One complete line of stdout. */
	void (*line)(struct runner_job *job, const char *line, size_t len, runner_emit_fn emit,
		     void *ctx);
	void (*finish)(struct runner_job *job, int exit_code, struct runner_result *res);
};

extern const struct proto_ops proto_command, proto_claude, proto_codex, proto_gemini,
	proto_text;

/* Helpers shared by the protocols (runner_common.c). */
void emit_log(runner_emit_fn emit, void *ctx, const char *fmt, ...) SM_PRINTF(3, 4);
void job_set_error(struct runner_job *job, const char *error_class, const char *fmt, ...)
	SM_PRINTF(3, 4);
/* Write the delivery's files into the attempt folder (delivered.json records them). */
int runner_delivery_write(const struct stage_request *rq, enum runner_protocol proto,
			  char **err);
/* The flags that hand the written delivery to the CLI. */
void runner_delivery_args(struct strv *argv, const struct stage_request *rq,
			  enum runner_protocol proto);
/* Variables that hand the written delivery to the CLI (gemini's settings file). */
void runner_delivery_env(struct strv *env, const struct stage_request *rq,
			 enum runner_protocol proto);
/* Outputs from the agent's final text or structured object. */
void result_outputs(struct runner_job *job, struct runner_result *res);
static inline const char *or_str(const char *s, const char *dflt)
{
	return s ? s : dflt;
}
/* A token count member: its value when a positive integer, else 0. */
int64_t json_count(const json_t *obj, const char *key);
/* Copy a JSON string member (NULL if absent). */
char *json_str_dup(const json_t *obj, const char *key);

#endif
