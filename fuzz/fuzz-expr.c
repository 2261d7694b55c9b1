/*
 * fuzz-expr: parse and evaluate arbitrary text as an expression, as a
 * condition and as a template, against a small fixed context.
 */
#include "base/compat.h"
#include "swdl/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *context(void)
{
	static json_t *ctx;
	if (!ctx)
		ctx = json_loads("{\"parameters\": {\"a\": 1, \"s\": \"x\", \"l\": [1, 2], "
				 "\"o\": {\"k\": null}}, \"stages\": {\"s1\": {\"status\": "
				 "\"completed\", \"outputs\": {\"r\": \"[1,2]\"}}}, \"env\": {}, "
				 "\"run\": {\"id\": \"r\"}, \"workflow\": {}, \"context\": {}}",
				 0, NULL);
	return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = xstrndup((const char *)data, size);
	struct arena a = ARENA_INIT;
	struct expr_error err;
	char *eval_err = NULL;
	struct expr *e = expr_parse(&a, text, strlen(text), &err);
	if (e) {
		json_t *v = expr_eval(e, context(), &eval_err);
		if (v) {
			struct strbuf sb = STRBUF_INIT;
			expr_value_to_text(&sb, v);
			strbuf_release(&sb);
		}
		json_decref(v);
		free(eval_err);
	}
	size_t off;
	expr_parse_condition(&a, text, &e, &off, &err);
	struct tmpl t;
	if (tmpl_parse(&a, text, &t, &err) == SM_OK) {
		struct strbuf sb = STRBUF_INIT;
		eval_err = NULL;
		tmpl_render(&t, context(), &sb, &eval_err);
		free(eval_err);
		strbuf_release(&sb);
	}
	arena_free(&a);
	free(text);
	return 0;
}
