/*
 * cmd_debug.c - `skillmeat debug …`: entry points for tests, tools and
 * curious users (the jq --run-tests / git test-tool idea).
 */
#include "cli.h"
#include "server/server.h"
#include "swdl/expr.h"
#include "formats/toml_write.h"
#include "engine/config.h"
#include "run_view.h"

#include <getopt.h>
#include "collection/collection.h"

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

static const char replay_usage[] =
"usage: skillmeat debug runner-replay PROTOCOL STDOUT [--stderr FILE] [--exit N] [--model M]\n"
"\n"
"Feed a captured agent transcript through runner PROTOCOL's parser (claude,\n"
"codex, gemini, text) exactly as a run would, in small chunks, and print\n"
"how the attempt is judged as one JSON object: ok, error_class, error,\n"
"model, tokens per model, cost and where it came from, retry_at, outputs.\n"
"Prices come from the built-in table and $SKILLMEAT_HOME/config.toml;\n"
"--model is the stage's model (used when the CLI names none).\n";

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

static void replay_emit(void *ctx, const char *kind, int stream, const char *text, size_t len)
{
	UNUSED(ctx), UNUSED(kind), UNUSED(stream), UNUSED(text), UNUSED(len);
}

static void replay_feed(struct runner_job *job, int stream, const char *path)
{
	FILE *f = fopen(path, "rb");
	char buf[4093]; /* odd-sized chunks: lines arrive split as they do from a pipe */
	size_t n;
	if (!f) {
		error_msg("%s: %s", path, strerror(errno));
		exit(EXIT_USAGE);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)))
		runner_feed(job, stream, buf, n, replay_emit, NULL);
	fclose(f);
}

static json_t *replay_usage_json(const struct runner_job *job)
{
	json_t *models = json_object();
	for (size_t i = 0; i < job->usage.nr; i++) {
		const struct model_usage *m = &job->usage.m[i];
		json_t *u = json_pack("{s:I, s:I, s:I, s:I, s:I}", "input_tokens",
			(json_int_t)m->input, "cache_read_tokens", (json_int_t)m->cache_read,
			"cache_write_tokens", (json_int_t)m->cache_write, "output_tokens",
			(json_int_t)m->output, "thinking_tokens", (json_int_t)m->thinking);
		if (m->usd >= 0)
			json_object_set_new(u, "usd", json_real(m->usd));
		json_object_set_new(models, *m->model ? m->model : "(unnamed)", u);
	}
	return models;
}

static int cmd_runner_replay(int argc, char **argv)
{
	static const struct option longopts[] = { { "stderr", required_argument, NULL, 'e' },
		{ "exit", required_argument, NULL, 'x' }, { "model", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 } };
	const char *err_path = NULL, *model = NULL;
	int exit_code = 0, c;
	if (want_help(argc, argv)) {
		fputs(replay_usage, stdout);
		return EXIT_OK;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'e')
			err_path = optarg;
		else if (c == 'x')
			exit_code = atoi(optarg);
		else if (c == 'm')
			model = optarg;
		else
			die_bad_option("debug runner-replay", longopts, argv[optind - 1]);
	}
	if (argc - optind != 2)
		die_usage("debug runner-replay", "expected PROTOCOL and STDOUT");
	struct engine_config cfg;
	char *home = skillmeat_home();
	if (load_engine_config(home, &cfg))
		exit(EXIT_USAGE);
	const struct runner_def *def = runner_set_find(&cfg.runners, argv[optind]);
	if (!def || def->proto == PROTO_COMMAND)
		die_usage("debug runner-replay", "unknown protocol '%s'", argv[optind]);
	struct runner_job job;
	struct runner_result res;
	struct strbuf note = STRBUF_INIT;
	runner_job_attach(def, "/nonexistent", &job);
	replay_feed(&job, 1, argv[optind + 1]);
	if (err_path)
		replay_feed(&job, 2, err_path);
	runner_finish(&job, exit_code, replay_emit, NULL, &res);
	runner_cost(&job, &cfg.prices, model, &note);
	print_json_new(json_pack("{s:b, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:o, s:f, s:b, s:I, s:O, "
		"s:s?}", "ok", res.ok, "error_class", res.error_class, "error", res.error,
		"model", job.model, "session_id", job.session_id, "input_tokens",
		(json_int_t)job.input_tokens, "output_tokens", (json_int_t)job.output_tokens,
		"models", replay_usage_json(&job), "usd", job.usd, "usd_reported",
		job.reported_usd >= 0, "retry_at", (json_int_t)job.retry_at, "outputs", res.outputs,
		"note", note.len ? note.buf : NULL));
	strbuf_release(&note);
	runner_result_release(&res);
	runner_job_release(&job);
	engine_config_release(&cfg);
	free(home);
	return EXIT_OK;
}

const struct cmd debug_cmds[] = {
	{ "runner-replay", cmd_runner_replay, "judge a captured agent transcript as a run would",
	  NULL },
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
