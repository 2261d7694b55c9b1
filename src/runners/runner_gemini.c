/*
 * runner_gemini.c - Gemini CLI: `gemini --output-format json -p ...`, the
 * prompt on stdin.  Facts and their sources: docs/agent-protocols.md;
 * fixtures in tests/runners/gemini/.
 *
 * Success: one pretty-printed object on stdout at the end, {session_id,
 * response, stats, warnings?} (an `error` there with exit 0 is an invalid
 * stream).  A fatal error leaves stdout empty and writes {session_id,
 * error: {type, message, code}} to *stderr*, and the exit status is the
 * CLI's FatalError code (41 auth, 42 input, 44 sandbox, 52 config, 53 turn
 * limit, 54 tool, 55 untrusted folder, 130 cancelled) or, for an API
 * error, the HTTP status modulo 256 (429 exits 173).
 *
 * Also the `text` protocol of user runners: stdout is the answer, the
 * outputs are the last JSON object in it, exit 0 is success.
 */
#include "../base/compat.h"
#include "runner_proto.h"

#include <time.h>

static void gemini_args(struct strv *argv, const struct stage_request *rq)
{
	strv_push(argv, "--output-format");
	strv_push(argv, "json");
	if (rq->model) {
		strv_push(argv, "--model");
		strv_push(argv, rq->model);
	}
	runner_delivery_args(argv, rq, PROTO_GEMINI);
	strv_push(argv, "-p");
	strv_push(argv, "Follow the instructions given on standard input.");
}

static void no_line(struct runner_job *job, const char *line, size_t len, runner_emit_fn emit,
		    void *ctx)
{
	UNUSED(job), UNUSED(line), UNUSED(len), UNUSED(emit), UNUSED(ctx);
}

/* Output tokens a model wrote for the main agent loop (all of its output before roles). */
static int64_t main_output(const json_t *m)
{
	const json_t *roles = json_object_get(m, "roles"), *t;
	if (json_is_object(roles)) {
		t = json_object_get(json_object_get(roles, "main"), "tokens");
		return t ? json_count(t, "candidates") + json_count(t, "thoughts") + 1 : 0;
	}
	t = json_object_get(m, "tokens");
	return json_count(t, "candidates") + json_count(t, "thoughts");
}

/*
 * stats.models: prompt includes cached, thoughts are billed as output
 * besides candidates, tool-use prompt tokens are input.  The model that
 * did the work is the one with roles.main (since 0.30), else the one that
 * wrote the most, never the router's classifier when another wrote.
 */
static void gemini_usage(struct runner_job *job, const json_t *stats)
{
	const json_t *models = json_object_get(stats, "models"), *v;
	const char *name, *best = NULL;
	int64_t best_out = -1;
	json_object_foreach((json_t *)models, name, v) {
		const json_t *t = json_object_get(v, "tokens");
		struct model_usage *m = usage_set_get(&job->usage, name);
		int64_t prompt = json_count(t, "prompt"), cached = json_count(t, "cached");
		m->cache_read = cached < prompt ? cached : prompt;
		m->input = prompt - m->cache_read + json_count(t, "tool");
		m->thinking = json_count(t, "thoughts");
		m->output = json_count(t, "candidates") + m->thinking;
		int64_t out = main_output(v);
		bool lite = strstr(name, "flash-lite") != NULL;
		if (out > best_out || (best && out == best_out && !lite)) {
			best = name;
			best_out = out;
		}
	}
	if (best) {
		free(job->model);
		job->model = xstrdup(best);
	}
}

/* The class of a fatal error: its exit code, else the HTTP status it carries. */
static const char *gemini_class(int exit_code, json_int_t http)
{
	static const struct { int code; const char *cls; } fatal[] = {
		{ 41, "auth_error" }, { 42, "input_error" }, { 44, "sandbox_error" },
		{ 52, "config_error" }, { 53, "max_turns" }, { 54, "tool_error" },
		{ 55, "config_error" }, { 130, "interrupted" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(fatal); i++)
		if (exit_code == fatal[i].code)
			return fatal[i].cls;
	/* process.exit(status): the OS keeps status % 256 (429 -> 173, 503 -> 247) */
	if (!http && exit_code > 128 && exit_code < 256) {
		for (int st = 400; st < 600 && !http; st++)
			if (st % 256 == exit_code)
				http = st;
	}
	if (http == 429)
		return "rate_limited";
	if (http == 401 || http == 403)
		return "auth_error";
	if (http >= 400 && http < 600)
		return "api_error";
	return exit_code ? runner_exit_class(exit_code) : "agent_error";
}

/* "Please retry in 23.5s" / "retryDelay": "24s": when a quota error may be retried. */
static int64_t gemini_retry_at(const char *m)
{
	const char *p = m ? strstr(m, "retry in ") : NULL;
	if (!p)
		p = m ? strstr(m, "retryDelay") : NULL;
	while (p && *p && (*p < '0' || *p > '9'))
		p++;
	double s = p && *p ? strtod(p, NULL) : 0;
	return s > 0 && s < 1e6 ? (int64_t)time(NULL) + (int64_t)(s + 0.999) : 0;
}

/* The first non-empty line of stderr without its colour codes (errors raised before the run). */
static char *first_stderr_line(const struct strbuf *err)
{
	if (!err->len)
		return NULL;
	const char *p = err->buf, *end = err->buf + err->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		struct strbuf sb = STRBUF_INIT;
		for (const char *c = p; c < stop; c++) {
			if (*c == '\x1b' && c + 1 < stop && c[1] == '[') { /* CSI ... letter */
				for (c += 2; c < stop && !((*c >= '@' && *c <= '~')); c++)
					;
				continue;
			}
			if ((unsigned char)*c >= 0x20 || *c == '\t')
				strbuf_addch(&sb, *c);
		}
		if (sb.len)
			return strbuf_detach(&sb, NULL);
		strbuf_release(&sb);
		p = stop + 1;
	}
	return NULL;
}

static void gemini_error(struct runner_job *job, int exit_code, const json_t *e,
			 struct runner_result *res)
{
	const char *m = json_string_value(json_object_get(e, "message"));
	const json_t *code = json_object_get(e, "code");
	json_int_t http = json_is_integer(code) ? json_integer_value(code) : 0;
	if (json_is_string(code))
		http = strtol(json_string_value(code), NULL, 10);
	res->error_class = gemini_class(exit_code, http);
	if (!strcmp(res->error_class, "rate_limited"))
		job->retry_at = gemini_retry_at(m);
	char *line = m ? NULL : first_stderr_line(&job->whole[1]);
	if (m || line)
		res->error = xasprintf("gemini: %s", m ? m : line);
	else
		res->error = xasprintf("gemini exited with status %d and wrote no error report",
				       exit_code);
	free(line);
}

static void gemini_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	json_t *out = job->whole[0].len ? json_loadb(job->whole[0].buf, job->whole[0].len, 0, NULL)
		      : NULL;
	json_t *err = job->whole[1].len ? runner_extract_json(job->whole[1].buf) : NULL;
	if (json_is_object(out)) {
		job->session_id = json_str_dup(out, "session_id");
		job->result_text = json_str_dup(out, "response");
		gemini_usage(job, json_object_get(out, "stats"));
	}
	const json_t *e = json_object_get(out, "error");
	if (!e)
		e = json_object_get(err, "error");
	if (!job->session_id && err)
		job->session_id = json_str_dup(err, "session_id");
	if (exit_code || e) {
		gemini_error(job, exit_code, e, res);
		if (!exit_code && !strcmp(res->error_class, "agent_error"))
			res->error_class = "invalid_stream"; /* error on stdout, exit 0 */
	} else if (!job->whole[0].len) {
		/* a signal makes gemini exit 0 with nothing written (cli/utils/cleanup.ts) */
		res->error_class = "interrupted";
		res->error = xstrdup("gemini exited 0 without its JSON answer (it does so when "
				     "signalled)");
	} else if (!json_is_object(out)) {
		res->error_class = "protocol_error";
		res->error = xstrdup("gemini's output is not one JSON object");
	} else {
		result_outputs(job, res);
		res->ok = true;
	}
	json_decref(out);
	json_decref(err);
}

const struct proto_ops proto_gemini = { "gemini", gemini_args, no_line,
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
	job->result_text = xstrndup(job->whole[0].buf ? job->whole[0].buf : "", job->whole[0].len);
	result_outputs(job, res);
	res->ok = true;
}

const struct proto_ops proto_text = { NULL, text_args, text_line, text_finish };
