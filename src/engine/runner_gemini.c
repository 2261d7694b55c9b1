/*
 * runner_gemini.c - Gemini CLI: `gemini --output-format json -p ...`, the
 * prompt on stdin, one JSON object on stdout at the end: {session_id,
 * response, stats, error?} (agent-clis.md 1.3).  Documented exit codes:
 * 1 general/API error, 42 input error, 53 turn limit.
 *
 * Also the `text` protocol of user runners: stdout is the answer, the
 * outputs are the last JSON object in it, exit 0 is success.
 */
#include "../base/compat.h"
#include "runner_proto.h"

static void gemini_args(struct strv *argv, const struct stage_request *rq)
{
	strv_push(argv, "--output-format");
	strv_push(argv, "json");
	if (rq->model) {
		strv_push(argv, "--model");
		strv_push(argv, rq->model);
	}
	strv_push(argv, "-p");
	strv_push(argv, "Follow the instructions given on standard input.");
}

static void no_line(struct runner_job *job, const char *line, size_t len, runner_emit_fn emit,
		    void *ctx)
{
	UNUSED(job), UNUSED(line), UNUSED(len), UNUSED(emit), UNUSED(ctx);
}

static void gemini_usage(struct runner_job *job, const json_t *stats)
{
	const json_t *models = json_object_get(stats, "models"), *m;
	const char *name;
	json_object_foreach((json_t *)models, name, m) {
		const json_t *t = json_object_get(m, "tokens");
		job->input_tokens += (int64_t)json_integer_value(json_object_get(t, "prompt"));
		job->output_tokens += (int64_t)json_integer_value(json_object_get(t, "candidates"));
		if (!job->model)
			job->model = xstrdup(name);
	}
}

static const char *gemini_exit_class(int code)
{
	return code == 42 ? "input_error" : code == 53 ? "max_turns" : runner_exit_class(code);
}

static void gemini_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	json_t *j = json_loadb(job->whole.buf, job->whole.len, 0, NULL);
	if (json_is_object(j)) {
		job->session_id = json_str_dup(j, "session_id");
		job->result_text = json_str_dup(j, "response");
		gemini_usage(job, json_object_get(j, "stats"));
	}
	const json_t *e = json_object_get(j, "error");
	if (exit_code || e) {
		const char *m = json_string_value(json_object_get(e, "message"));
		res->error_class = exit_code ? gemini_exit_class(exit_code) : "agent_error";
		res->error = xasprintf("gemini: %s", m ? m : exit_code == 42 ? "input error"
					: exit_code == 53 ? "turn limit exceeded" : "failed");
	} else if (!json_is_object(j)) {
		res->error_class = "protocol_error";
		res->error = xstrdup("gemini's output is not one JSON object");
	} else {
		result_outputs(job, res);
		res->ok = true;
	}
	json_decref(j);
}

const struct proto_ops proto_gemini = { "gemini", "gemini", gemini_args, no_line,
					gemini_finish };

static void text_line(struct runner_job *job, const char *line, size_t len, runner_emit_fn emit,
		      void *ctx)
{
	UNUSED(job);
	emit(ctx, "log", 1, line, len);
}

static void text_args(struct strv *argv, const struct stage_request *rq)
{
	UNUSED(argv), UNUSED(rq);
}

static void text_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	if (exit_code) {
		res->error_class = runner_exit_class(exit_code);
		res->error = xasprintf("the runner exited with status %d", exit_code);
		return;
	}
	job->result_text = xstrndup(job->whole.buf ? job->whole.buf : "", job->whole.len);
	result_outputs(job, res);
	res->ok = true;
}

const struct proto_ops proto_text = { "text", NULL, text_args, text_line, text_finish };
