/*
 * runner_codex.c - OpenAI Codex: `codex exec --json -`, the prompt (agent
 * body first: codex has no system prompt flag) on stdin, JSONL events on
 * stdout.  Facts and their sources: docs/agent-protocols.md; fixtures in
 * tests/runners/codex/.
 *
 * The answer is the last completed agent_message.  turn.completed's usage
 * is the thread's running total (input includes the cached input, output
 * includes reasoning), so the last one is the attempt's, never a sum.  A
 * top-level `error` event is not fatal by itself (codex reports its own
 * reconnects that way); turn.failed is, and so is an exit without
 * turn.completed, whose message is the last error seen.
 */
#include "../base/compat.h"
#include "runner_proto.h"

#include <time.h>

static void codex_args(struct strv *argv, const struct stage_request *rq)
{
	strv_push(argv, "exec");
	strv_push(argv, "--json");
	strv_push(argv, "--skip-git-repo-check");
	if (rq->model) {
		strv_push(argv, "--model");
		strv_push(argv, rq->model);
	}
	runner_delivery_args(argv, rq, PROTO_CODEX);
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
	} else if (completed && !strcmp(type, "error")) { /* a warning, not a failure */
		emit_log(emit, ctx, "codex warning: %s",
			 or_str(json_string_value(json_object_get(item, "message")), "?"));
	}
}

/* turn.completed: the thread's totals so far (cached and cache-write are parts of input). */
static void on_usage(struct runner_job *job, const json_t *u)
{
	int64_t in = json_count(u, "input_tokens"), cached = json_count(u, "cached_input_tokens");
	int64_t written = json_count(u, "cache_write_input_tokens");
	usage_set_clear(&job->usage);
	struct model_usage *m = usage_set_get(&job->usage, job->model);
	m->cache_read = cached < in ? cached : in;
	m->cache_write = written < in - m->cache_read ? written : in - m->cache_read;
	m->input = in - m->cache_read - m->cache_write;
	m->output = json_count(u, "output_tokens");
	m->thinking = json_count(u, "reasoning_output_tokens");
	runner_usage_totals(job);
}

/* Does `text` contain `word`, ignoring case? */
static bool has(const char *text, const char *word)
{
	return strcasestr(text, word) != NULL;
}

/*
 * When a rate-limited turn may try again: "try again in 3 minutes" /
 * "in 45 seconds" / "in 2 hours" (codex's usage-limit message), from now.
 */
static int64_t retry_in(const char *text)
{
	const char *p = text;
	while ((p = strstr(p, " in "))) {
		char *end;
		double v = strtod(p + 4, &end);
		p += 4;
		if (end == p || v <= 0 || v > 1e6)
			continue;
		while (*end == ' ')
			end++;
		double unit = !strncasecmp(end, "sec", 3) || *end == 's' ? 1
			: !strncasecmp(end, "min", 3) || *end == 'm' ? 60
			: !strncasecmp(end, "hour", 4) || *end == 'h' ? 3600
			: !strncasecmp(end, "day", 3) || *end == 'd' ? 86400 : 0;
		if (unit)
			return (int64_t)time(NULL) + (int64_t)(v * unit + 0.999);
	}
	return 0;
}

/*
 * "try again at 12:05 PM." / "try again at Dec 6th, 2026 11:05 AM." (codex
 * 0.171's usage-limit text): local time, no zone, as codex printed it on
 * this machine.  A bare time already past is tomorrow's.
 */
static int64_t retry_at_clock(const char *text)
{
	const char *p = strcasestr(text, "try again at ");
	char buf[64];
	size_t n = 0;
	if (!p)
		return 0;
	for (p += 13; *p && n + 1 < sizeof(buf); p++) {
		/* "6th," -> "6,": strptime knows no ordinals */
		if (n && buf[n - 1] >= '0' && buf[n - 1] <= '9' && (!strncmp(p, "st", 2) ||
		    !strncmp(p, "nd", 2) || !strncmp(p, "rd", 2) || !strncmp(p, "th", 2))) {
			p++;
			continue;
		}
		buf[n++] = *p;
	}
	buf[n] = '\0';
	time_t now = time(NULL);
	struct tm tm, today;
	localtime_r(&now, &today);
	const char *end;
	tm = today;
	if ((end = strptime(buf, "%b %d, %Y %I:%M %p", &tm)) && (!*end || *end == '.')) {
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		return (int64_t)mktime(&tm);
	}
	tm = today;
	if ((end = strptime(buf, "%I:%M %p", &tm)) && (!*end || *end == '.')) {
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		return (int64_t)(t < now ? t + 86400 : t);
	}
	return 0;
}

/* The class of a codex error message (its texts: docs/agent-protocols.md). */
static const char *codex_error_class(struct runner_job *job, const char *m)
{
	if (has(m, "429") || has(m, "too many requests") || has(m, "rate limit") ||
	    has(m, "usage limit") || has(m, "quota")) {
		job->retry_at = retry_in(m);
		if (!job->retry_at)
			job->retry_at = retry_at_clock(m);
		return "rate_limited";
	}
	if (has(m, "context window") || has(m, "context_length_exceeded"))
		return "prompt_too_long";
	if (has(m, "401") || has(m, "unauthorized") || has(m, "403 forbidden") ||
	    has(m, "not logged in") || has(m, "api key"))
		return "auth_error";
	if (has(m, "500") || has(m, "502") || has(m, "503") || has(m, "504") ||
	    has(m, "internal server error") || has(m, "server_error") || has(m, "overloaded") ||
	    has(m, "stream disconnected") || has(m, "unexpected status") ||
	    has(m, "exceeded retry limit"))
		return "api_error";
	return "agent_error";
}

static void on_error(struct runner_job *job, const char *type, const json_t *ev,
		     runner_emit_fn emit, void *ctx)
{
	const json_t *e = json_object_get(ev, "error");
	const char *m = json_string_value(json_object_get(json_is_object(e) ? e : ev, "message"));
	emit_log(emit, ctx, "codex error: %s", or_str(m, "?"));
	free(job->last_error);
	job->last_error = m ? xstrdup(m) : NULL;
	if (!strcmp(type, "turn.failed")) {
		job->got_result = true;
		job->result_error = true;
		job_set_error(job, codex_error_class(job, or_str(m, "")), "codex: %s",
			      or_str(m, "the turn failed"));
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
		/* work went on after an `error` line: it was a reconnect, not the end */
		free(job->last_error);
		job->last_error = NULL;
		on_item(job, json_object_get(ev, "item"), !strcmp(type, "item.completed"), emit,
			ctx);
	} else if (!strcmp(type, "turn.completed")) {
		on_usage(job, json_object_get(ev, "usage"));
		job->got_result = true;
		job->result_error = false;
	} else if (!strcmp(type, "turn.failed") || !strcmp(type, "error")) {
		on_error(job, type, ev, emit, ctx);
	}
	json_decref(ev);
}

static void codex_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	if (job->result_error) {
		res->error_class = job->error_class;
		res->error = xstrdup(job->error);
	} else if (job->got_result) {
		/* turn.completed is the answer, whatever the exit after it */
		result_outputs(job, res);
		res->ok = true;
	} else if (job->last_error) {
		res->error_class = codex_error_class(job, job->last_error);
		if (!strcmp(res->error_class, "agent_error") && exit_code)
			res->error_class = runner_exit_class(exit_code);
		res->error = xasprintf("codex: %s", job->last_error);
	} else if (exit_code) {
		res->error_class = runner_exit_class(exit_code);
		res->error = xasprintf("codex exited with status %d without turn.completed",
				       exit_code);
	} else {
		res->error_class = "protocol_error";
		res->error = xstrdup("codex's output ended without turn.completed");
	}
}

const struct proto_ops proto_codex = { "codex", codex_args, codex_line,
				       codex_finish };
