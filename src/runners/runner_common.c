/*
 * runner_common.c - what the protocol files (runner_claude.c, ...), the
 * delivery (runner_deliver.c) and the runner set (runner.c) all use, and
 * which calls none of them: protocol names, exit classes, usage sets,
 * events and errors of a job, JSON members, outputs from an answer.
 */
#include "../base/compat.h"
#include "runner_proto.h"

#include <stdarg.h>

/* The protocols' names, as config.toml spells them (runner.h's enum order). */
static const char *const protocol_names[] = {
	[PROTO_COMMAND] = "command", [PROTO_CLAUDE] = "claude", [PROTO_CODEX] = "codex",
	[PROTO_GEMINI] = "gemini", [PROTO_TEXT] = "text",
};

const char *runner_protocol_name(enum runner_protocol p)
{
	return protocol_names[p];
}

const char *runner_exit_class(int code)
{
	static const char *const classes[] = { "exit_0", "exit_1", "exit_2", "exit_3",
		"exit_4", "exit_5", "exit_6", "exit_7", "exit_8", "exit_9", "exit_10" };
	if (code >= 0 && code < (int)ARRAY_SIZE(classes))
		return classes[code];
	if (code == 126)
		return "exit_126";
	if (code == 127)
		return "exit_127";
	if (code == 130)
		return "exit_130";
	if (code == 137)
		return "exit_137";
	if (code == 143)
		return "exit_143";
	return "exit_other";
}

/* ---- usage ----------------------------------------------------------------------------- */

struct model_usage *usage_set_get(struct usage_set *u, const char *model)
{
	const char *name = model && *model ? model : "";
	for (size_t i = 0; i < u->nr; i++)
		if (!strcmp(u->m[i].model, name))
			return &u->m[i];
	ALLOC_GROW(u->m, u->nr + 1, u->alloc);
	u->m[u->nr] = (struct model_usage){ .model = xstrdup(name), .usd = -1 };
	return &u->m[u->nr++];
}

void usage_set_clear(struct usage_set *u)
{
	for (size_t i = 0; i < u->nr; i++)
		free(u->m[i].model);
	free(u->m);
	memset(u, 0, sizeof(*u));
}

int64_t usage_set_tokens(const struct usage_set *u)
{
	int64_t t = 0;
	for (size_t i = 0; i < u->nr; i++)
		t += u->m[i].input + u->m[i].cache_read + u->m[i].cache_write + u->m[i].output;
	return t;
}

void runner_usage_totals(struct runner_job *job)
{
	if (!job->usage.nr)
		return;
	int64_t in = 0, out = 0;
	for (size_t i = 0; i < job->usage.nr; i++) {
		const struct model_usage *m = &job->usage.m[i];
		in += m->input + m->cache_read + m->cache_write;
		out += m->output;
	}
	job->input_tokens = in;
	job->output_tokens = out;
}

/* ---- helpers for the protocols ---------------------------------------------- */

void emit_log(runner_emit_fn emit, void *ctx, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	emit(ctx, "log", 1, sb.buf, sb.len);
	strbuf_release(&sb);
}

void job_set_error(struct runner_job *job, const char *error_class, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	free(job->error);
	job->error = strbuf_detach(&sb, NULL);
	job->error_class = error_class;
}

int64_t json_count(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 0;
}

char *json_str_dup(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? xstrdup(s) : NULL;
}

/* Try to parse text[start..end] as a JSON object. */
static json_t *object_at(const char *start, size_t len)
{
	json_t *j = json_loadb(start, len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

const char *runner_last_json_fence(const char *text)
{
	const char *fence = NULL;
	for (const char *p = text ? strstr(text, "```json") : NULL; p; p = strstr(p + 1, "```json"))
		fence = p;
	return fence;
}

json_t *runner_extract_json(const char *text)
{
	if (!text)
		return NULL;
	const char *fence = runner_last_json_fence(text);
	if (fence) {
		const char *body = strchr(fence, '\n');
		const char *end = body ? strstr(body, "```") : NULL;
		json_t *j = end ? object_at(body, (size_t)(end - body)) : NULL;
		if (j)
			return j;
	}
	/* Else the last '{' from which an object parses to the last '}'. */
	const char *close = strrchr(text, '}');
	if (!close)
		return NULL;
	unsigned tries = 0;
	for (const char *p = close; p >= text && tries < 4096; p--) {
		if (*p != '{')
			continue;
		tries++;
		json_t *j = object_at(p, (size_t)(close - p + 1));
		if (j)
			return j;
	}
	return NULL;
}

void result_outputs(struct runner_job *job, struct runner_result *res)
{
	if (json_is_object(job->structured))
		res->outputs = json_incref(job->structured);
	else
		res->outputs = runner_extract_json(job->result_text);
}
