/*
 * cmd_context.c - `skillmeat context preview`: the exact context pack a
 * workflow's stages would receive, and why each item is in or out.
 */
#include "cli.h"
#include "engine/plan_context.h"
#include "collection/collection.h"

#include <getopt.h>

static const char context_usage[] =
"usage: skillmeat context COMMAND [options]\n"
"\n"
"Context packs: the text injected into each stage of a workflow, made of\n"
"its context modules (ctx:NAME = context/NAME.md of the collection) and of\n"
"memory items of the project (skillmeat memory), within a token budget.\n";

static const char preview_usage[] =
"usage: skillmeat context preview WORKFLOW [STAGE] [options]\n"
"\n"
"Print the exact text each stage (or STAGE) would receive, as a run started\n"
"now would pack it: modules first, then memory items grouped by type.\n"
"\n"
"  -p, --param KEY=VALUE   set a parameter (as for workflow plan)\n"
"      --project DIR       whose memory (default: the current directory)\n"
"      --bind ROLE=TYPE:NAME  bind a declared role (as for workflow plan)\n"
"      --no-overrides      ignore .skillmeat-workflow-overrides.*\n"
"      --overrides-dir DIR look for the overrides file from DIR up\n"
"      --allow-missing     preview even if modules are missing\n"
"      --format FORMAT     text (default) or json: per stage the text and the\n"
"                          manifest (included and excluded items, tokens)\n"
"\n"
"Exit status: 0 shown, 1 invalid workflow, unknown stage or bad module.\n";

struct preview_opts {
	struct plan_param params[MAX_PARAMS];
	size_t nr_params;
	struct role_binding binds[MAX_PARAMS];
	size_t nr_binds;
	const char *project, *overrides_dir, *workflow, *stage;
	bool no_overrides, allow_missing;
	enum output_format format;
};

enum { OPT_PROJECT = 256, OPT_NO_OVERRIDES, OPT_OVERRIDES_DIR, OPT_ALLOW_MISSING, OPT_FORMAT,
       OPT_BIND };

static void parse_preview(int argc, char **argv, struct preview_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' }, { "param", required_argument, NULL, 'p' },
		{ "project", required_argument, NULL, OPT_PROJECT },
		{ "no-overrides", no_argument, NULL, OPT_NO_OVERRIDES },
		{ "overrides-dir", required_argument, NULL, OPT_OVERRIDES_DIR },
		{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "bind", required_argument, NULL, OPT_BIND }, { NULL, 0, NULL, 0 },
	};
	const char *cmd = "context preview";
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(preview_usage, stdout); exit(EXIT_OK);
		case 'p': add_param_arg(cmd, o->params, &o->nr_params, optarg); break;
		case OPT_PROJECT: o->project = optarg; break;
		case OPT_NO_OVERRIDES: o->no_overrides = true; break;
		case OPT_OVERRIDES_DIR: o->overrides_dir = optarg; break;
		case OPT_ALLOW_MISSING: o->allow_missing = true; break;
		case OPT_FORMAT: o->format = parse_format(cmd, optarg); break;
		case OPT_BIND: add_bind_arg(cmd, o->binds, &o->nr_binds, optarg); break;
		default: die_bad_option(cmd, longopts, argv[optind - 1]);
		}
	}
	if (optind == argc || argc - optind > 2)
		die_usage(cmd, optind == argc ? "missing WORKFLOW" : "unexpected argument '%s'",
			  argv[argc - 1]);
	o->workflow = argv[optind];
	o->stage = optind + 1 < argc ? argv[optind + 1] : NULL;
}

static void print_preview(const struct plan_context *pc, const struct preview_opts *o)
{
	const struct swdl_workflow *wf = &pc->l->wf;
	json_t *out = json_object();
	bool first = true;
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		const struct stage_context *sc = &pc->st[i];
		if (o->stage && strcmp(o->stage, s->id))
			continue;
		if (o->format == FORMAT_JSON) {
			json_object_set_new(out, s->id, sc->has_pack ? json_pack("{s:s, s:O}", "text",
					    sc->pack.text, "manifest", sc->pack.manifest) : json_null());
			continue;
		}
		if (!o->stage)
			printf("%s==> %s (%s): %s\n", first ? "" : "\n", s->id, s->name, !sc->has_pack
			       ? "no context pack" : "context pack");
		first = false;
		if (sc->has_pack && !o->stage)
			printf("    %zu module%s, %zu memory item%s, %lld of %lld tokens\n\n",
			       sc->pack.nr_modules, sc->pack.nr_modules == 1 ? "" : "s",
			       sc->pack.nr_items, sc->pack.nr_items == 1 ? "" : "s",
			       (long long)sc->pack.tokens, (long long)sc->pack.budget);
		if (sc->has_pack)
			fputs(sc->pack.text, stdout);
	}
	if (o->format == FORMAT_JSON)
		print_json_new(out);
	else
		json_decref(out);
}

static int context_preview(int argc, char **argv)
{
	struct preview_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct collection *c = NULL;
	struct ref_table refs = { 0 };
	struct plan_context pc = { 0 };
	json_t *params = NULL;
	int rc = EXIT_FAIL;
	parse_preview(argc, argv, &o);
	char *path = resolve_workflow_arg("context preview", o.workflow);
	if (!path)
		return EXIT_FAIL;
	struct swdl_load_opts lo = { !o.no_overrides, o.overrides_dir, NULL, true, o.binds,
		o.nr_binds };
	swdl_load_file(path, &lo, &l, &dl);
	if (!dl.errors)
		params = swdl_plan_parameters(&l->wf, o.params, o.nr_params, true, &dl);
	if (params)
		swdl_plan_fan_out(&l->wf, params, &dl);
	if (!dl.errors && !open_collection_optional(&c, &dl) && c)
		collection_check_workflow(c, &l->wf, o.allow_missing, &refs, &dl);
	if (!dl.errors && o.stage && swdl_stage_find(&l->wf, o.stage) < 0) {
		error_msg("context preview: %s has no stage '%s'", path, o.stage);
		goto out;
	}
	if (!dl.errors && cli_plan_context(&pc, l, c, c ? &refs : NULL, o.project, &dl))
		goto out;
	diag_list_sort(&dl);
	const struct doc *docs[2] = { l ? l->doc : NULL, l ? l->overrides_doc : NULL };
	print_diags(&dl, docs, 2);
	if (dl.errors) {
		fprintf(stderr, "%s: cannot preview: %zu error%s\n", path, dl.errors,
			dl.errors == 1 ? "" : "s");
		goto out;
	}
	print_preview(&pc, &o);
	rc = EXIT_OK;
out:
	plan_context_release(&pc);
	json_decref(params);
	ref_table_release(&refs);
	collection_free(c);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(path);
	return rc;
}

const struct cmd context_cmds[] = {
	{ "preview", context_preview, "print the context pack of a workflow's stages", NULL },
	{ NULL, NULL, NULL, NULL },
};

int cmd_context(int argc, char **argv)
{
	return run_subcommand("context", context_usage, context_cmds, argc, argv);
}
