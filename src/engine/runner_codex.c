/*
 * runner_codex.c - OpenAI Codex: `codex exec --json -`, the prompt (agent
 * body first: codex has no system prompt flag) on stdin, JSONL events on
 * stdout (agent-clis.md 1.2).  The answer is the last completed
 * agent_message; turn.completed carries the usage (no cost: codex reports
 * none); turn.failed or a top-level error fails the stage.
 */
#include "../base/compat.h"
#include "runner_proto.h"

static void codex_args(struct strv *argv, const struct stage_request *rq)
{
	strv_push(argv, "exec");
	strv_push(argv, "--json");
	strv_push(argv, "--skip-git-repo-check");
	if (rq->model) {
		strv_push(argv, "--model");
		strv_push(argv, rq->model);
	}
	strv_push(argv, "-");
}

static void on_item(struct runner_job *job, const json_t *item, bool completed,
		    runner_emit_fn emit, void *ctx)
{
	const char *type = json_string_value(json_object_get(item, "type"));
	if (!type)
		return;
	if (completed && !strcmp(type, "agent_message")) {
		free(job->result_text);
		job->result_text = json_str_dup(item, "text");
		emit_log(emit, ctx, "%s", or_str(job->result_text, ""));
	} else if (!completed && !strcmp(type, "command_execution")) {
		emit_log(emit, ctx, "$ %s", or_str(json_string_value(json_object_get(item,
			 "command")), "?"));
	} else if (completed && !strcmp(type, "file_change")) {
		emit_log(emit, ctx, "file change");
	} else if (!completed && !strcmp(type, "mcp_tool_call")) {
		emit_log(emit, ctx, "tool: %s", or_str(json_string_value(json_object_get(item,
			 "tool")), "?"));
	}
}

static void codex_line(struct runner_job *job, const char *line, size_t len,
		       runner_emit_fn emit, void *ctx)
{
	json_t *ev = json_loadb(line, len, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (!type) {
		if (len)
			emit_log(emit, ctx, "(not a protocol message) %.*s",
				 (int)(len > 200 ? 200 : len), line);
	} else if (!strcmp(type, "thread.started")) {
		free(job->session_id);
		job->session_id = json_str_dup(ev, "thread_id");
		emit_log(emit, ctx, "codex thread %s started", or_str(job->session_id, "?"));
	} else if (!strcmp(type, "item.started") || !strcmp(type, "item.completed")) {
		on_item(job, json_object_get(ev, "item"), !strcmp(type, "item.completed"), emit,
			ctx);
	} else if (!strcmp(type, "turn.completed")) {
		const json_t *u = json_object_get(ev, "usage");
		job->input_tokens += (int64_t)json_integer_value(json_object_get(u, "input_tokens"));
		job->output_tokens += (int64_t)json_integer_value(json_object_get(u,
									 "output_tokens"));
		job->got_result = true;
	} else if (!strcmp(type, "turn.failed") || !strcmp(type, "error")) {
		const json_t *e = json_object_get(ev, "error");
		const char *m = json_string_value(json_object_get(json_is_object(e) ? e : ev,
								  "message"));
		emit_log(emit, ctx, "codex error: %s", or_str(m, "?"));
		if (!strcmp(type, "turn.failed")) {
			job->got_result = true;
			job->result_error = true;
			job_set_error(job, "agent_error", "codex: %s", or_str(m, "turn failed"));
		}
	}
	json_decref(ev);
}

static void codex_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	if (job->result_error) {
		res->error_class = job->error_class;
		res->error = xstrdup(job->error);
	} else if (exit_code) {
		res->error_class = runner_exit_class(exit_code);
		res->error = xasprintf("codex exited with status %d", exit_code);
	} else if (!job->got_result) {
		res->error_class = "protocol_error";
		res->error = xstrdup("codex's output ended without turn.completed");
	} else {
		result_outputs(job, res);
		res->ok = true;
	}
}

const struct proto_ops proto_codex = { "codex", "codex", codex_args, codex_line,
				       codex_finish };
