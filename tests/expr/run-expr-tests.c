/*
 * run-expr-tests - data-driven expression tests (the jq ".test" idea).
 *
 * Each case is three lines, cases separated by blank lines, '#' comments:
 *   an expression (or "tmpl: <template text>" to render a template)
 *   the context as JSON ("{}" for none)
 *   the expected value as JSON, or "%%FAIL <exact error message>"
 * Parse errors read "parse error at <pos>: <message>".
 */
#include "base/compat.h"
#include "base/strbuf.h"
#include "swdl/expr.h"

static int run_case(const char *file, int line, const char *src, const char *ctx_text,
		    const char *expected)
{
	struct arena a = ARENA_INIT;
	struct strbuf got = STRBUF_INIT;
	struct expr_error perr;
	char *err = NULL;
	json_error_t jerr;
	json_t *ctx = json_loads(ctx_text, 0, &jerr);
	int ok = 0;
	if (!ctx) {
		fprintf(stderr, "%s:%d: bad context JSON: %s\n", file, line + 1, jerr.text);
		goto out;
	}
	bool is_tmpl = !strncmp(src, "tmpl: ", 6);
	if (is_tmpl) {
		struct tmpl t;
		if (tmpl_parse(&a, src + 6, &t, &perr))
			strbuf_addf(&got, "%%%%FAIL parse error at %zu: %s", perr.pos, perr.msg);
		else if (tmpl_render(&t, ctx, &got, &err))
			strbuf_addf(&got, "%%%%FAIL %s", err);
		if (strncmp(got.buf, "%%FAIL", 6) != 0) {
			json_t *s = json_stringn(got.buf, got.len);
			strbuf_reset(&got);
			expr_value_to_json(&got, s);
			json_decref(s);
		}
	} else {
		struct expr *e = expr_parse(&a, src, strlen(src), &perr);
		json_t *v = NULL;
		if (!e)
			strbuf_addf(&got, "%%%%FAIL parse error at %zu: %s", perr.pos, perr.msg);
		else if (!(v = expr_eval(e, ctx, &err)))
			strbuf_addf(&got, "%%%%FAIL %s", err);
		else
			expr_value_to_json(&got, v);
		json_decref(v);
	}
	/* Compare values structurally where both sides are JSON. */
	if (!strncmp(expected, "%%FAIL", 6) || !strncmp(got.buf, "%%FAIL", 6)) {
		ok = !strcmp(expected, got.buf);
	} else {
		json_t *x = json_loads(expected, JSON_DECODE_ANY, NULL);
		json_t *y = json_loads(got.buf, JSON_DECODE_ANY, NULL);
		ok = x && y && json_equal(x, y) && json_typeof(x) == json_typeof(y);
		json_decref(x);
		json_decref(y);
	}
	if (!ok)
		fprintf(stderr, "%s:%d: %s\n  expected: %s\n  got:      %s\n", file, line, src,
			expected, got.buf);
out:
	json_decref(ctx);
	free(err);
	strbuf_release(&got);
	arena_free(&a);
	return ok;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void run_file(const char *path, int *pass, int *fail)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: cannot open\n", path);
		(*fail)++;
		return;
	}
	char *lines[3] = { NULL, NULL, NULL };
	int start = 0, nr = 0, lineno = 0;
	char buf[8192];
	for (;;) {
		bool eof = !fgets(buf, sizeof(buf), f);
		if (!eof) {
			lineno++;
			chomp(buf);
			if (buf[0] == '#')
				continue;
		}
		if (eof || !buf[0]) {
			if (nr == 3)
				run_case(path, start, lines[0], lines[1], lines[2]) ? (*pass)++ : (*fail)++;
			else if (nr) {
				fprintf(stderr, "%s:%d: a case needs 3 lines, has %d\n", path, start, nr);
				(*fail)++;
			}
			for (int i = 0; i < nr; i++)
				free(lines[i]);
			nr = 0;
			if (eof)
				break;
			continue;
		}
		if (nr == 0)
			start = lineno;
		if (nr < 3)
			lines[nr++] = xstrdup(buf);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0;
	for (int i = 1; i < argc; i++)
		run_file(argv[i], &pass, &fail);
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
