/*
 * runner_claude.c - Claude Code: `claude -p --output-format stream-json
 * --verbose`, the prompt on stdin, the agent body appended to the system
 * prompt, one NDJSON message a line (shared/reference/agent-clis.md 1.1.4).
 *
 * Success is exit 0 *and* a result message with is_error false: an API
 * failure can arrive as subtype "success" with is_error true, so the class
 * comes from subtype, terminal_reason and api_error_status together.
 */
#include "../base/compat.h"
#include "runner_proto.h"

static void claude_args(struct strv *argv, const struct stage_request *rq)
{
	strv_push(argv, "-p");
	strv_push(argv, "--output-format");
	strv_push(argv, "stream-json");
	strv_push(argv, "--verbose");
	if (rq->session_id) {
		strv_push(argv, "--session-id");
		strv_push(argv, rq->session_id);
	}
	if (rq->model) {
		strv_push(argv, "--model");
		strv_push(argv, rq->model);
	}
	if (rq->system_prompt && *rq->system_prompt) {
		strv_push(argv, "--append-system-prompt-file");
		strv_pushf(argv, "%s/system-prompt.md", rq->attempt_dir);
	}
	if (rq->budget && rq->budget->max_turns) {
		strv_push(argv, "--max-turns");
		strv_pushf(argv, "%lld", (long long)rq->budget->max_turns);
	}
	if (rq->budget && rq->budget->max_usd > 0) {
		strv_push(argv, "--max-budget-usd");
		strv_pushf(argv, "%.4f", rq->budget->max_usd);
	}
}

static int64_t int_of(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static void add_usage(struct runner_job *job, const json_t *usage, bool replace)
{
	if (!json_is_object(usage))
		return;
	int64_t in = int_of(usage, "input_tokens") + int_of(usage, "cache_creation_input_tokens") +
		     int_of(usage, "cache_read_input_tokens");
	int64_t out = int_of(usage, "output_tokens");
	job->input_tokens = replace ? in : job->input_tokens + in;
	job->output_tokens = replace ? out : job->output_tokens + out;
}

static void on_assistant(struct runner_job *job, const json_t *msg, runner_emit_fn emit,
			 void *ctx)
{
	const json_t *message = json_object_get(msg, "message");
	const json_t *content = json_object_get(message, "content");
	size_t i;
	const json_t *block;
	add_usage(job, json_object_get(message, "usage"), false);
	json_array_foreach(content, i, block) {
		const char *type = json_string_value(json_object_get(block, "type"));
		if (!type)
			continue;
		if (!strcmp(type, "text"))
			emit_log(emit, ctx, "%s", json_string_value(json_object_get(block, "text")));
		else if (!strcmp(type, "tool_use"))
			emit_log(emit, ctx, "tool: %s",
				 json_string_value(json_object_get(block, "name")));
	}
}

/* The failure class of a result message with is_error or an error subtype. */
static const char *result_class(const char *subtype, const char *reason, const json_t *msg)
{
	if (subtype && !strcmp(subtype, "error_max_turns"))
		return "max_turns";
	if (subtype && !strcmp(subtype, "error_max_budget_usd"))
		return "budget_exceeded";
	if (subtype && !strcmp(subtype, "error_max_structured_output_retries"))
		return "output_invalid";
	if ((reason && !strcmp(reason, "api_error")) || json_object_get(msg, "api_error_status"))
		return "api_error";
	if (reason && !strcmp(reason, "prompt_too_long"))
		return "prompt_too_long";
	return "agent_error";
}

static void on_result(struct runner_job *job, const json_t *msg)
{
	const char *subtype = json_string_value(json_object_get(msg, "subtype"));
	const char *reason = json_string_value(json_object_get(msg, "terminal_reason"));
	job->got_result = true;
	job->result_error = json_is_true(json_object_get(msg, "is_error")) ||
			    (subtype && strcmp(subtype, "success"));
	free(job->result_text);
	job->result_text = json_str_dup(msg, "result");
	json_decref(job->structured);
	job->structured = json_incref(json_object_get(msg, "structured_output"));
	job->usd = json_number_value(json_object_get(msg, "total_cost_usd"));
	add_usage(job, json_object_get(msg, "usage"), true);
	if (!job->session_id)
		job->session_id = json_str_dup(msg, "session_id");
	if (!job->result_error)
		return;
	const json_t *errors = json_object_get(msg, "errors");
	const char *first = json_string_value(json_array_get(errors, 0));
	job_set_error(job, result_class(subtype, reason, msg), "claude: %s%s%s",
		      subtype ? subtype : "error", first || job->result_text ? ": " : "",
		      first ? first : job->result_text ? job->result_text : "");
}

static void claude_line(struct runner_job *job, const char *line, size_t len,
			runner_emit_fn emit, void *ctx)
{
	json_t *msg = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(msg, "type"));
	const char *subtype = json_string_value(json_object_get(msg, "subtype"));
	if (!type) {
		if (len)
			emit_log(emit, ctx, "(not a protocol message) %.*s", (int)(len > 200 ? 200 : len),
				 line);
	} else if (!strcmp(type, "system") && subtype && !strcmp(subtype, "init")) {
		free(job->session_id);
		job->session_id = json_str_dup(msg, "session_id");
		free(job->model);
		job->model = json_str_dup(msg, "model");
		emit_log(emit, ctx, "claude %s started (model %s)",
			 or_str(json_string_value(json_object_get(msg, "claude_code_version")), "?"),
			 job->model ? job->model : "?");
		if (json_array_size(json_object_get(msg, "mcp_server_errors")) ||
		    json_array_size(json_object_get(msg, "plugin_errors")))
			emit_log(emit, ctx, "warning: MCP server or plugin errors at start-up");
	} else if (!strcmp(type, "system") && subtype && !strcmp(subtype, "api_retry")) {
		emit_log(emit, ctx, "API retry %lld/%lld: %s",
			 (long long)int_of(msg, "attempt"), (long long)int_of(msg, "max_retries"),
			 or_str(json_string_value(json_object_get(msg, "error")), "error"));
	} else if (!strcmp(type, "assistant")) {
		on_assistant(job, msg, emit, ctx);
	} else if (!strcmp(type, "result")) {
		on_result(job, msg);
	}
	json_decref(msg);
}

static void claude_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	if (!job->got_result) {
		res->error_class = exit_code ? runner_exit_class(exit_code) : "protocol_error";
		res->error = exit_code
			? xasprintf("claude exited with status %d without a result", exit_code)
			: xstrdup("claude's output ended without a result message");
		return;
	}
	if (job->result_error) {
		res->error_class = job->error_class;
		res->error = xstrdup(job->error);
		return;
	}
	if (exit_code) {
		res->error_class = runner_exit_class(exit_code);
		res->error = xasprintf("claude exited with status %d after a result", exit_code);
		return;
	}
	result_outputs(job, res);
	res->ok = true;
}

const struct proto_ops proto_claude = { "claude", "claude", claude_args, claude_line,
					claude_finish };
