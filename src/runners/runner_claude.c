/*
 * runner_claude.c - Claude Code: `claude -p --output-format stream-json
 * --verbose`, the prompt on stdin, the agent body appended to the system
 * prompt, one NDJSON message a line.  Every fact about the protocol used
 * here is in docs/agent-protocols.md with its source; the fixtures in
 * tests/runners/claude/ are built from them.
 *
 * Usage: Claude Code writes one `assistant` line per content block, each
 * repeating its message's id and usage, so live tokens are counted once
 * per message id; the result's modelUsage (per model, with its cost) or
 * usage replaces them when it comes.
 *
 * The class of a failure comes from the real fields: api_error_status only
 * when it is a number (every result carries it, null when there was no
 * HTTP status), terminal_reason, a synthetic assistant message's `error`
 * kind and a rejected rate_limit_event, never from the subtype alone.
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
	runner_delivery_args(argv, rq, PROTO_CLAUDE);
}

/* Messages counted per id; past this many ids a new one is added, not remembered. */
#define MAX_MESSAGES 100000

static int64_t record_input(const json_t *r)
{
	return json_integer_value(json_array_get(r, 0)) + json_integer_value(json_array_get(r, 1)) +
	       json_integer_value(json_array_get(r, 2));
}

/* One assistant line's usage: counted once per message id, the latest figures kept. */
static void count_message(struct runner_job *job, const json_t *message)
{
	const json_t *u = json_object_get(message, "usage");
	const char *id = json_string_value(json_object_get(message, "id"));
	const char *model = json_string_value(json_object_get(message, "model"));
	if (!json_is_object(u) || (model && !strcmp(model, "<synthetic>")))
		return;
	json_t *rec = json_pack("[I, I, I, I, s]", (json_int_t)json_count(u, "input_tokens"),
				(json_int_t)json_count(u, "cache_read_input_tokens"),
				(json_int_t)json_count(u, "cache_creation_input_tokens"),
				(json_int_t)json_count(u, "output_tokens"), model ? model : "");
	if (!job->msg_tokens)
		job->msg_tokens = json_object();
	char anon[32];
	if (!id) { /* no id: its own message */
		snprintf(anon, sizeof(anon), "#%zu", json_object_size(job->msg_tokens));
		id = anon;
	}
	/* live totals, for budgets while it runs: this message's latest figures only */
	const json_t *old = json_object_get(job->msg_tokens, id);
	if (old) {
		job->input_tokens -= record_input(old);
		job->output_tokens -= json_integer_value(json_array_get(old, 3));
	}
	job->input_tokens += record_input(rec);
	job->output_tokens += json_integer_value(json_array_get(rec, 3));
	if (old || json_object_size(job->msg_tokens) < MAX_MESSAGES)
		json_object_set_new(job->msg_tokens, id, rec);
	else
		json_decref(rec); /* counted, not remembered */
}

/* Without a result: the usage set from the messages seen. */
static void usage_from_messages(struct runner_job *job)
{
	const char *k;
	json_t *r;
	json_object_foreach(job->msg_tokens, k, r) {
		struct model_usage *m = usage_set_get(&job->usage,
			json_string_value(json_array_get(r, 4)));
		m->input += json_integer_value(json_array_get(r, 0));
		m->cache_read += json_integer_value(json_array_get(r, 1));
		m->cache_write += json_integer_value(json_array_get(r, 2));
		m->output += json_integer_value(json_array_get(r, 3));
	}
}

/* A synthetic assistant message's `error` kind (SDKAssistantMessageError) as our class. */
static const char *assistant_error_class(const char *kind)
{
	static const struct { const char *kind, *cls; } map[] = {
		{ "rate_limit", "rate_limited" }, { "authentication_failed", "auth_error" },
		{ "oauth_org_not_allowed", "auth_error" }, { "account_on_hold", "auth_error" },
		{ "verification_required", "auth_error" }, { "cloud_credential_error", "auth_error" },
		{ "billing_error", "billing_error" }, { "model_not_found", "model_not_found" },
		{ "max_output_tokens", "max_output_tokens" },
		/* overloaded, server_error, invalid_request, unknown, and kinds added later */
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(map[i].kind, kind))
			return map[i].cls;
	return "api_error";
}

static void on_assistant(struct runner_job *job, const json_t *msg, runner_emit_fn emit,
			 void *ctx)
{
	const json_t *message = json_object_get(msg, "message");
	const json_t *content = json_object_get(message, "content");
	const char *error = json_string_value(json_object_get(msg, "error"));
	size_t i;
	const json_t *block;
	count_message(job, message);
	json_array_foreach(content, i, block) {
		const char *type = json_string_value(json_object_get(block, "type"));
		const char *text = json_string_value(json_object_get(block, "text"));
		if (!type)
			continue;
		if (!strcmp(type, "text") && text) {
			emit_log(emit, ctx, "%s", text);
			if (error) { /* the synthetic message's text is the error's */
				free(job->last_error);
				job->last_error = xstrdup(text);
			}
		} else if (!strcmp(type, "tool_use")) {
			emit_log(emit, ctx, "tool: %s",
				 or_str(json_string_value(json_object_get(block, "name")), "?"));
		}
	}
	if (error)
		job->error_class = assistant_error_class(error);
}

/* rate_limit_event: a rejected request says when the limit resets (unix seconds). */
static void on_rate_limit(struct runner_job *job, const json_t *msg, runner_emit_fn emit,
			  void *ctx)
{
	const json_t *info = json_object_get(msg, "rate_limit_info");
	const char *status = json_string_value(json_object_get(info, "status"));
	int64_t resets = json_count(info, "resetsAt");
	if (!status || strcmp(status, "rejected"))
		return;
	job->error_class = "rate_limited";
	if (resets)
		job->retry_at = resets;
	emit_log(emit, ctx, "rate limited (%s)%s", or_str(json_string_value(json_object_get(info,
		 "rateLimitType")), "limit"), resets ? "; it resets at the time recorded" : "");
}

static void on_api_retry(struct runner_job *job, const json_t *msg, runner_emit_fn emit,
			 void *ctx)
{
	const char *error = json_string_value(json_object_get(msg, "error"));
	int64_t status = json_count(msg, "error_status");
	emit_log(emit, ctx, "API retry %lld/%lld in %lld ms: %s%s%.0lld",
		 (long long)json_count(msg, "attempt"), (long long)json_count(msg, "max_retries"),
		 (long long)json_count(msg, "retry_delay_ms"), or_str(error, "error"),
		 status ? " " : "", (long long)status);
	if (status == 429 || (error && !strcmp(error, "rate_limit")))
		job->error_class = "rate_limited";
}

/* The result's usage: modelUsage per model with its cost, else usage under the init model. */
static void result_usage(struct runner_job *job, const json_t *msg)
{
	const json_t *mu = json_object_get(msg, "modelUsage"), *u = json_object_get(msg, "usage");
	const json_t *cost = json_object_get(msg, "total_cost_usd");
	const char *name;
	const json_t *v;
	usage_set_clear(&job->usage);
	if (json_is_number(cost))
		job->reported_usd = json_number_value(cost);
	if (json_object_size(mu)) {
		json_object_foreach((json_t *)mu, name, v) {
			struct model_usage *m = usage_set_get(&job->usage, name);
			m->input = json_count(v, "inputTokens");
			m->cache_read = json_count(v, "cacheReadInputTokens");
			m->cache_write = json_count(v, "cacheCreationInputTokens");
			m->output = json_count(v, "outputTokens");
			if (json_is_number(json_object_get(v, "costUSD")))
				m->usd = json_number_value(json_object_get(v, "costUSD"));
		}
	} else if (json_is_object(u)) {
		struct model_usage *m = usage_set_get(&job->usage, job->model);
		m->input = json_count(u, "input_tokens");
		m->cache_read = json_count(u, "cache_read_input_tokens");
		m->cache_write = json_count(u, "cache_creation_input_tokens");
		m->output = json_count(u, "output_tokens");
	} else {
		usage_from_messages(job);
	}
	/* The model that did the work: the session's, else the one that wrote the most. */
	const struct model_usage *best = NULL;
	for (size_t i = 0; i < job->usage.nr; i++) {
		const struct model_usage *m = &job->usage.m[i];
		if (job->model && !strcmp(m->model, job->model))
			return;
		if (!best || m->output > best->output)
			best = m;
	}
	if (best && *best->model) {
		free(job->model);
		job->model = xstrdup(best->model);
	}
}

/* The class of a failed result, from the most specific field there is. */
static const char *result_class(struct runner_job *job, const char *subtype, const json_t *msg)
{
	const char *reason = json_string_value(json_object_get(msg, "terminal_reason"));
	const json_t *status = json_object_get(msg, "api_error_status");
	if (subtype && !strcmp(subtype, "error_max_turns"))
		return "max_turns";
	if (subtype && !strcmp(subtype, "error_max_budget_usd"))
		return "budget_exceeded";
	if (subtype && !strcmp(subtype, "error_max_structured_output_retries"))
		return "output_invalid";
	if (json_is_integer(status)) {
		json_int_t st = json_integer_value(status);
		return st == 429 ? "rate_limited" : st == 401 || st == 403 ? "auth_error"
			: job->error_class ? job->error_class : "api_error";
	}
	if (job->error_class) /* a synthetic error message or a rejected rate limit */
		return job->error_class;
	if (reason) {
		static const struct { const char *reason, *cls; } map[] = {
			{ "api_error", "api_error" }, { "prompt_too_long", "prompt_too_long" },
			{ "max_turns", "max_turns" }, { "budget_exhausted", "budget_exceeded" },
			{ "blocking_limit", "rate_limited" },
			{ "structured_output_retry_exhausted", "output_invalid" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(map[i].reason, reason))
				return map[i].cls;
	}
	return "agent_error";
}

/* What went wrong, in the CLI's own words (no subtype noise). */
static void result_message(struct runner_job *job, const char *subtype, const json_t *msg,
			   const char *cls)
{
	const char *first = json_string_value(json_array_get(json_object_get(msg, "errors"), 0));
	const char *text = first ? first : job->result_text && *job->result_text ? job->result_text
			   : job->last_error;
	if (text)
		job_set_error(job, cls, "claude: %s", text);
	else if (!strcmp(cls, "max_turns"))
		job_set_error(job, cls, "claude: stopped at the turn limit after %lld turns",
			      (long long)json_count(msg, "num_turns"));
	else if (!strcmp(cls, "budget_exceeded"))
		job_set_error(job, cls, "claude: stopped at its --max-budget-usd");
	else
		job_set_error(job, cls, "claude: the run failed (%s)", or_str(subtype, "error"));
}

static void on_result(struct runner_job *job, const json_t *msg)
{
	const char *subtype = json_string_value(json_object_get(msg, "subtype"));
	job->got_result = true;
	job->result_error = json_is_true(json_object_get(msg, "is_error")) ||
			    (subtype && strcmp(subtype, "success"));
	free(job->result_text);
	job->result_text = json_str_dup(msg, "result");
	json_decref(job->structured);
	job->structured = json_incref(json_object_get(msg, "structured_output"));
	if (!job->session_id)
		job->session_id = json_str_dup(msg, "session_id");
	result_usage(job, msg);
	if (job->result_error)
		result_message(job, subtype, msg, result_class(job, subtype, msg));
}

static void on_init(struct runner_job *job, const json_t *msg, runner_emit_fn emit, void *ctx)
{
	free(job->session_id);
	job->session_id = json_str_dup(msg, "session_id");
	free(job->model);
	job->model = json_str_dup(msg, "model");
	free(job->version);
	job->version = json_str_dup(msg, "claude_code_version");
	emit_log(emit, ctx, "claude %s started (model %s)", or_str(job->version, "?"),
		 or_str(job->model, "?"));
	/* Invalid --mcp-config entries are skipped silently and the run goes on. */
	if (json_array_size(json_object_get(msg, "mcp_server_errors")) ||
	    json_array_size(json_object_get(msg, "plugin_errors")))
		emit_log(emit, ctx, "warning: MCP server or plugin errors at start-up");
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
		on_init(job, msg, emit, ctx);
	} else if (!strcmp(type, "system") && subtype && !strcmp(subtype, "api_retry")) {
		on_api_retry(job, msg, emit, ctx);
	} else if (!strcmp(type, "rate_limit_event")) {
		on_rate_limit(job, msg, emit, ctx);
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
		usage_from_messages(job);
		res->error_class = job->error_class ? job->error_class
				   : exit_code ? runner_exit_class(exit_code) : "protocol_error";
		if (job->last_error)
			res->error = xasprintf("claude: %s", job->last_error);
		else
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
	/* A successful result is the answer, whatever the exit after it. */
	result_outputs(job, res);
	res->ok = true;
}

const struct proto_ops proto_claude = { "claude", claude_args, claude_line,
					claude_finish };
