/*
 * cmd_debug.c - `skillmeat debug …`: entry points for tests, tools and
 * curious users (the jq --run-tests / git test-tool idea).
 */
#include "cli.h"
#include "server/server.h"
#include "swdl/expr.h"
#include "formats/toml_write.h"

static const char load_usage[] =
"usage: skillmeat debug load PATH\n"
"\n"
"Load a YAML or JSON file with the same loader and limits workflows use,\n"
"and print the resulting tree as JSON (scalars typed by the YAML 1.2 core\n"
"schema, merge keys applied).  Exit 1 with located diagnostics on error.\n";

static const char eval_usage[] =
"usage: skillmeat debug eval EXPRESSION [CONTEXT_JSON]\n"
"\n"
"Evaluate a ${{ }} expression body (or, when it contains ${{, a template)\n"
"against CONTEXT_JSON, an object of namespaces such as\n"
"'{\"parameters\": {\"x\": 1}}', and print the result as JSON.\n";

static const char toml_usage[] =
"usage: skillmeat debug toml-decode [PATH]\n"
"\n"
"Decode TOML (from PATH, or standard input) and print it as toml-test's\n"
"tagged JSON: tables as objects, arrays as arrays, and every value as\n"
"{\"type\": T, \"value\": \"text\"}.  Exit 1 with a located error when the\n"
"input is not valid TOML 1.0.  This is the decoder interface the\n"
"toml-test conformance suite drives.\n";

static const char debug_usage[] =
"usage: skillmeat debug COMMAND [ARGS]\n"
"\n"
"Low-level entry points for tests and tools.\n";

static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

static int cmd_load(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		fputs(load_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 2)
		die_usage("debug load", "expected one PATH");
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = NULL;
	int r = doc_load_file(argv[1], NULL, &d, &dl);
	if (r) {
		print_diags(&dl, NULL, 0);
	} else {
		json_t *j = d->root ? node_to_json(d->root) : json_null();
		print_json(j);
		json_decref(j);
	}
	doc_free(d);
	diag_list_release(&dl);
	return r ? EXIT_FAIL : EXIT_OK;
}

static int cmd_eval(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		fputs(eval_usage, stdout);
		return EXIT_OK;
	}
	if (argc < 2 || argc > 3)
		die_usage("debug eval", "expected EXPRESSION [CONTEXT_JSON]");
	json_error_t jerr;
	json_t *ctx = json_loads(argc == 3 ? argv[2] : "{}", 0, &jerr);
	if (!ctx || !json_is_object(ctx)) {
		error_msg("debug eval: CONTEXT_JSON must be a JSON object: %s", ctx ? "" : jerr.text);
		json_decref(ctx);
		return EXIT_USAGE;
	}
	struct arena a = ARENA_INIT;
	struct expr_error perr;
	char *err = NULL;
	int rc = EXIT_FAIL;
	json_t *v = NULL;
	if (strstr(argv[1], "${{")) {
		struct tmpl t;
		struct strbuf sb = STRBUF_INIT;
		if (tmpl_parse(&a, argv[1], &t, &perr))
			error_msg("parse error at offset %zu: %s", perr.pos, perr.msg);
		else if (tmpl_render(&t, ctx, &sb, &err))
			error_msg("%s", err);
		else
			v = json_stringn(sb.buf, sb.len);
		strbuf_release(&sb);
	} else {
		struct expr *e = expr_parse(&a, argv[1], strlen(argv[1]), &perr);
		if (!e)
			error_msg("parse error at offset %zu: %s", perr.pos, perr.msg);
		else if (!(v = expr_eval(e, ctx, &err)))
			error_msg("%s", err);
	}
	if (v) {
		struct strbuf sb = STRBUF_INIT;
		expr_value_to_json(&sb, v);
		puts(sb.buf);
		strbuf_release(&sb);
		rc = EXIT_OK;
	}
	json_decref(v);
	json_decref(ctx);
	free(err);
	arena_free(&a);
	return rc;
}

static const char *const datetime_types[] = {
	"datetime", "datetime-local", "date-local", "time-local",
};

static void tagged_json(struct jsonw *w, const struct node *n)
{
	const char *type = NULL;
	switch (n->kind) {
	case NODE_MAP:
		jw_object(w);
		for (size_t i = 0; i < n->nr; i++) {
			jw_keyn(w, n->pairs[i].key->text, n->pairs[i].key->len);
			tagged_json(w, n->pairs[i].value);
		}
		jw_end(w);
		return;
	case NODE_SEQ:
		jw_array(w);
		for (size_t i = 0; i < n->nr; i++)
			tagged_json(w, n->items[i]);
		jw_end(w);
		return;
	case NODE_STRING: type = "string"; break;
	case NODE_INT: type = "integer"; break;
	case NODE_FLOAT: type = "float"; break;
	case NODE_BOOL: type = "bool"; break;
	case NODE_DATETIME: type = datetime_types[n->style & 3]; break;
	case NODE_NULL: type = "null"; break;
	}
	jw_object(w);
	jw_kstring(w, "type", type);
	jw_key(w, "value");
	if (n->kind == NODE_INT) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld", (long long)n->v.i);
		jw_string(w, buf);
	} else {
		jw_stringn(w, n->text, n->len);
	}
	jw_end(w);
}

static int cmd_toml_decode(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		fputs(toml_usage, stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		die_usage("debug toml-decode", "expected at most one PATH");
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf in = STRBUF_INIT;
	struct doc *d = NULL;
	const char *name = argc == 2 ? argv[1] : "<stdin>";
	int r = strbuf_read_file(&in, argc == 2 ? argv[1] : "/dev/stdin", 16u << 20);
	if (r) {
		error_msg("%s: %s", name, r == SM_ELIMIT ? "input over 16 MiB" : strerror(errno));
		strbuf_release(&in);
		return EXIT_FAIL;
	}
	r = doc_load_buffer(name, in.buf, in.len, DOC_TOML, NULL, &d, &dl);
	if (r) {
		print_diags(&dl, NULL, 0);
	} else {
		struct strbuf sb = STRBUF_INIT;
		struct jsonw w;
		jw_init(&w, &sb, true);
		tagged_json(&w, d->root);
		print_jw(&w);
	}
	doc_free(d);
	strbuf_release(&in);
	diag_list_release(&dl);
	return r ? EXIT_FAIL : EXIT_OK;
}

static const char toml_encode_usage[] =
"usage: skillmeat debug toml-encode [PATH]\n"
"\n"
"Decode TOML (from PATH, or standard input) and write it back out with\n"
"skillmeat's TOML encoder, the one that writes collection manifests.\n";

static int cmd_toml_encode(int argc, char **argv)
{
	if (want_help(argc, argv)) {
		fputs(toml_encode_usage, stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		die_usage("debug toml-encode", "expected at most one PATH");
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	struct doc *d = NULL;
	const char *name = argc == 2 ? argv[1] : "<stdin>";
	int r = strbuf_read_file(&in, argc == 2 ? argv[1] : "/dev/stdin", 16u << 20);
	if (r)
		error_msg("%s: %s", name, r == SM_ELIMIT ? "input over 16 MiB" : strerror(errno));
	else if ((r = doc_load_buffer(name, in.buf, in.len, DOC_TOML, NULL, &d, &dl)))
		print_diags(&dl, NULL, 0);
	else if (!toml_write(&out, d->root))
		fwrite(out.buf, 1, out.len, stdout);
	doc_free(d);
	strbuf_release(&in);
	strbuf_release(&out);
	diag_list_release(&dl);
	return r ? EXIT_FAIL : EXIT_OK;
}

static void print_route(void *ctx, const char *method, const char *path)
{
	UNUSED(ctx);
	printf("%s %s\n", method, path);
}

static int cmd_routes(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--help")) {
		puts("usage: skillmeat debug routes\n\nPrint the HTTP API's routes (for the "
		     "OpenAPI check).");
		return EXIT_OK;
	}
	server_list_routes(print_route, NULL);
	return EXIT_OK;
}

const struct cmd debug_cmds[] = {
	{ "load", cmd_load, "print a YAML/JSON file as the loader sees it", NULL },
	{ "eval", cmd_eval, "evaluate an expression or template", NULL },
	{ "toml-decode", cmd_toml_decode, "decode TOML to toml-test's tagged JSON", NULL },
	{ "toml-encode", cmd_toml_encode, "decode TOML and write it back with our encoder", NULL },
	{ "routes", cmd_routes, "the HTTP API's routes, one \"METHOD PATH\" a line" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_debug(int argc, char **argv)
{
	return run_subcommand("debug", debug_usage, debug_cmds, argc, argv);
}
