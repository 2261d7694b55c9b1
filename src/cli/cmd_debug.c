/*
 * cmd_debug.c - `skillmeat debug …`: entry points for tests, tools and
 * curious users (the jq --run-tests / git test-tool idea).
 */
#include "cli.h"
#include "swdl/expr.h"

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

int cmd_debug(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "load", cmd_load, "print a YAML/JSON file as the loader sees it" },
		{ "eval", cmd_eval, "evaluate an expression or template" },
		{ NULL, NULL, NULL },
	};
	return run_subcommand("debug", debug_usage, cmds, argc, argv);
}
