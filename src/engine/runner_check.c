/*
 * runner_check.c - is each configured runner usable here: its program
 * found on PATH, answering --version within a few seconds, at a version
 * this engine reads correctly.  Known version limits come from the CLIs'
 * own histories (docs/agent-protocols.md).
 */
#include "../base/compat.h"
#include "config.h"
#include "../supervise/supervise.h"
#include "../base/fsutil.h"

#include <unistd.h>

/* `program --version` must answer within this. */
#define VERSION_PROBE_S 5

json_t *runner_program_version(const char *program)
{
	const char *argv[] = { program, "--version", NULL };
	struct proc_spec ps = { argv, NULL, NULL, NULL, 0, 4096, NULL, NULL };
	struct proc p;
	char *err = NULL;
	int r = proc_run(&ps, VERSION_PROBE_S, &p, &err);
	if (r == SM_ERR) {
		json_t *e = json_pack("{s:s}", "error", err);
		free(err);
		return e;
	}
	const struct strbuf *text = p.out.len ? &p.out : &p.err;
	size_t n = strcspn(text->buf, "\r\n");
	json_t *v = r == SM_OK && !p.exit_code && n
		? json_pack("{s:s%}", "version", text->buf, n > 200 ? (size_t)200 : n)
		: json_pack("{s:s}", "error", r ? "--version did not finish" : "--version failed");
	if (!v) /* not UTF-8 */
		v = json_pack("{s:s}", "error", "--version printed something that is not text");
	proc_release(&p);
	return v;
}

/* The program's path: as given when it has a slash, else the first match on PATH. */
static char *find_program(const char *program)
{
	if (strchr(program, '/'))
		return access(program, X_OK) ? NULL : xstrdup(program);
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *dir = n ? xstrndup(p, n) : xstrdup(".");
		char *full = path_join(dir, program);
		free(dir);
		if (!access(full, X_OK) && !fs_is_dir(full))
			return full;
		free(full);
		p = end ? end + 1 : p + n;
	}
	return NULL;
}

/* The first a.b.c in text, as a comparable number (a*1e6 + b*1e3 + c); -1 if none. */
static long long version_number(const char *text)
{
	for (const char *p = text; *p; p++) {
		unsigned a, b, c;
		int used = 0;
		if (*p >= '0' && *p <= '9' && (p == text || p[-1] < '0' || p[-1] > '9') &&
		    sscanf(p, "%u.%u.%u%n", &a, &b, &c, &used) == 3 && used)
			return (long long)a * 1000000 + b * 1000 + c;
	}
	return -1;
}

/* What a version lacks, worst first: [incompatible?, note], or NULL when nothing. */
static const char *version_note(enum runner_protocol proto, long long v, bool *incompatible)
{
	*incompatible = false;
	if (v < 0)
		return "the version could not be read; features are assumed present";
	if (proto == PROTO_GEMINI && v < 6000) {
		*incompatible = true;
		return "--output-format json needs Gemini CLI 0.6.0 or later";
	}
	if (proto == PROTO_GEMINI && v < 30000)
		return "before 0.30 stats name no roles: the model that did the work is guessed";
	if (proto == PROTO_CLAUDE && v < 2001045)
		return "before 2.1.45 a rate limit does not say when it resets";
	if (proto == PROTO_CLAUDE && v < 2001110)
		return "before 2.1.110 an API error's HTTP status is not reported";
	return NULL;
}

json_t *runner_check(const struct runner_set *rs, const char *const *only, size_t nr_only)
{
	json_t *out = json_array();
	for (size_t i = 0; i < rs->nr; i++) {
		const struct runner_def *d = &rs->defs[i];
		bool wanted = !nr_only;
		for (size_t k = 0; k < nr_only; k++)
			wanted |= !strcmp(only[k], d->name);
		if (d->proto == PROTO_COMMAND || !wanted)
			continue;
		const char *prog = runner_program(d);
		char *path = find_program(prog);
		json_t *r = json_pack("{s:s, s:s, s:s, s:s?}", "name", d->name, "protocol",
				      runner_protocol_name(d->proto), "program", prog, "path", path);
		if (!path) {
			json_object_set_new(r, "version", json_null());
			json_object_set_new(r, "status", json_string("not_found"));
			json_object_set_new(r, "note", json_string("not on PATH"));
		} else {
			json_t *ver = runner_program_version(path);
			const char *text = json_string_value(json_object_get(ver, "version"));
			bool bad = false;
			const char *note = text ? version_note(d->proto, version_number(text), &bad)
				: json_string_value(json_object_get(ver, "error"));
			json_object_set(r, "version", text ? json_object_get(ver, "version")
					: json_null());
			json_object_set_new(r, "status", json_string(!text ? "broken" : bad
				? "incompatible" : note ? "degraded" : "ok"));
			json_object_set_new(r, "note", note ? json_string(note) : json_null());
			json_decref(ver);
		}
		free(path);
		json_array_append_new(out, r);
	}
	return out;
}
