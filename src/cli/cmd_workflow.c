/*
 * cmd_workflow.c - `skillmeat workflow validate|plan|show`.
 */
#include "cli.h"
#include "rerun_cli.h"
#include "run_view.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "engine/config.h"
#include "swdl/workflow.h"
#include "swdl/plan.h"
#include "engine/plan_context.h"
#include "swdl/model_json.h"
#include "collection/refs.h"
#include "formats/yaml_write.h"

#include <getopt.h>


static const char validate_usage[] =
"usage: skillmeat workflow validate WORKFLOW [--strict] [--format text|json]\n"
"\n"
"WORKFLOW is a file (YAML, JSON or TOML) or a workflow stored in the active\n"
"collection (by stored name, id or display name).\n"
"\n"
"Check a workflow without running it: syntax, schema,\n"
"stage graph, expressions and artifact references.  Every problem is\n"
"reported with file:line:col.\n"
"\n"
"  --strict            treat warnings as errors\n"
"  --format FORMAT     text (default) or json (every diagnostic, on stdout)\n"
"  -h, --help          show this help\n"
"\n"
"Exit status: 0 valid, 1 invalid (or warnings with --strict), 2 usage error.\n";

static const char plan_usage[] =
"usage: skillmeat workflow plan WORKFLOW [--param KEY=VALUE]... [options]\n"
"\n"
"WORKFLOW is a file or a workflow stored in the active collection.\n"
"\n"
"Show what a run would do: the batches of stages (stages in one batch may\n"
"run in parallel), each stage's agent, model, tools, inputs and their\n"
"sources, outputs, context modules, condition, timeout, retry policy and\n"
"gate settings, and estimates of the total time and cost.  Project overrides from\n"
".skillmeat-workflow-overrides.yaml (searched from the current directory\n"
"upward) are applied and shown.  When there is an active collection, every\n"
"agent, skill, tool and context module the workflow names must be in it.\n"
"\n"
"  -p, --param KEY=VALUE     set a parameter; VALUE is converted to the\n"
"                            parameter's declared type (boolean, integer,\n"
"                            number, string; arrays and objects as JSON)\n"
"  --bind ROLE=TYPE:NAME     bind a role the workflow declares to an artifact\n"
"                            (wins over the overrides file and the default)\n"
"  --allow-extra-params      pass parameters the workflow does not declare\n"
"  --allow-missing           plan even when artifacts are not in the collection\n"
"  --no-overrides            ignore project override files\n"
"  --overrides-dir DIR       search for the overrides file from DIR\n"
"  --project DIR             the project whose memory feeds the context\n"
"                            packs (default: the current directory)\n"
"  --format FORMAT           text (default) or json\n"
"  -h, --help                show this help\n"
"\n"
"What a re-run of an earlier run of WORKFLOW would do (`workflow rerun`):\n"
"  --rerun-of RUN            plan the re-run of RUN (an id, a unique prefix or\n"
"                            `last`) as `workflow rerun RUN` would start it:\n"
"                            RUN's parameters and bindings (-p and --bind win),\n"
"                            its overrides file; and say for each stage whether\n"
"                            it would be reused or run again, and why\n"
"  --failed                  with --rerun-of: run again what did not complete\n"
"  --from STAGE              with --rerun-of: run again STAGE and every stage\n"
"                            after it (repeat, or separate with commas)\n"
"  --reuse-unchanged         with --rerun-of: also reuse the stages whose\n"
"                            definition, artifacts, context pack, parameters\n"
"                            and workflow config are those of RUN\n"
"\n"
"Each stage that has context modules or a memory query shows its context\n"
"pack (modules, memory items, tokens used of its budget); each agent stage\n"
"an estimate of its tokens and cost (prices: docs/running.md), with totals\n"
"per batch and for the run.  `skillmeat context preview` prints the text.\n"
"\n"
"Exit status: 0 planned, 1 invalid workflow or parameters (or the re-run\n"
"would be refused: the reason is printed), 2 usage error.\n";

static const char show_usage[] =
"usage: skillmeat workflow show WORKFLOW [--format text|json]\n"
"\n"
"Show a workflow's metadata, parameters and stages, with defaults filled\n"
"in.  The JSON form is the normalised workflow.\n"
"\n"
"  --format FORMAT     text (default) or json\n"
"  -h, --help          show this help\n";

static const char convert_usage[] =
"usage: skillmeat workflow convert WORKFLOW [--to swdl|json]\n"
"\n"
"Write a workflow in the canonical SWDL form on stdout: the seed's short\n"
"form (workflow_id, roles.primary as a string, context_policy, stages run\n"
"in the order written) becomes workflow:, roles.primary.artifact, context\n"
"and depends_on; upstream's fan_out.source becomes items; YAML 1.1 values\n"
"of typed fields (off, 017, 1_000) become their YAML 1.2 spelling.\n"
"Defaults are not filled in and project overrides are not applied, so the\n"
"result plans exactly like the input.  From a YAML file, its comments are\n"
"kept.\n"
"\n"
"  --to FORMAT         swdl (YAML, the default) or json\n"
"  -h, --help          show this help\n"
"\n"
"Exit status: 0 written, 1 the workflow has errors (nothing written),\n"
"2 usage error.\n";

static const char workflow_usage[] =
"usage: skillmeat workflow COMMAND [ARGS]\n"
"\n"
"Validate, plan, store and inspect SWDL workflows.  WORKFLOW arguments are\n"
"files, or workflows stored in the active collection.\n";

static void show_diags(const struct diag_list *dl, const struct swdl_loaded *l)
{
	const struct doc *docs[2] = { l ? l->doc : NULL, l ? l->overrides_doc : NULL };
	print_diags(dl, docs, 2);
}

struct common_opts {
	enum output_format format;
	bool strict, no_overrides, allow_extra, allow_missing;
	const char *overrides_dir, *project;
	struct plan_param params[MAX_PARAMS];
	size_t nr_params;
	struct role_binding binds[MAX_PARAMS];
	size_t nr_binds;
	const char *path;
	const char *rerun_of;            /* plan --rerun-of RUN, with ro's mode */
	struct rerun_opts ro;
	const char *from[MAX_FROM];
};

enum { OPT_STRICT = 256, OPT_FORMAT, OPT_NO_OVERRIDES, OPT_OVERRIDES_DIR, OPT_ALLOW_EXTRA,
       OPT_ALLOW_MISSING, OPT_PROJECT, OPT_BIND, OPT_RERUN_OF, OPT_FAILED, OPT_FROM, OPT_REUSE };

/* plan --rerun-of: the re-run is planned as `workflow rerun` starts it, so the options
 * that choose how a workflow is loaded do not apply; --failed and the others need it. */
static void check_rerun_opts(const char *cmd, struct common_opts *o, bool failed)
{
	const char *other = o->no_overrides ? "--no-overrides" : o->overrides_dir ? "--overrides-dir"
		: o->allow_extra ? "--allow-extra-params" : o->allow_missing ? "--allow-missing"
		: o->project ? "--project" : NULL;
	if (o->rerun_of && other)
		die_usage(cmd, "%s cannot be used with --rerun-of: the re-run is planned as "
			  "`workflow rerun` would start it (RUN's overrides file and checks)", other);
	if (!o->rerun_of && (failed || o->ro.nr_from || o->ro.reuse_unchanged))
		die_usage(cmd, "--failed, --from and --reuse-unchanged need --rerun-of RUN");
	if (failed && o->ro.nr_from)
		die_usage(cmd, "--failed and --from cannot be used together");
	o->ro.mode = failed ? RERUN_FAILED : o->ro.nr_from ? RERUN_FROM : RERUN_ALL;
	o->ro.from = o->from;
	o->ro.params = o->params;
	o->ro.nr_params = o->nr_params;
	o->ro.bindings = o->binds;
	o->ro.nr_bindings = o->nr_binds;
}

static void parse_opts(const char *cmd, const char *usage, int argc, char **argv,
		       struct common_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "param", required_argument, NULL, 'p' },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "no-overrides", no_argument, NULL, OPT_NO_OVERRIDES },
		{ "overrides-dir", required_argument, NULL, OPT_OVERRIDES_DIR },
		{ "allow-extra-params", no_argument, NULL, OPT_ALLOW_EXTRA },
		{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
		{ "project", required_argument, NULL, OPT_PROJECT },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "rerun-of", required_argument, NULL, OPT_RERUN_OF },
		{ "failed", no_argument, NULL, OPT_FAILED },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "reuse-unchanged", no_argument, NULL, OPT_REUSE },
		{ NULL, 0, NULL, 0 },
	};
	bool is_plan = !strcmp(cmd, "workflow plan"), is_validate = !strcmp(cmd, "workflow validate");
	bool failed = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			exit(EXIT_OK);
		case OPT_FORMAT:
			o->format = parse_format(cmd, optarg);
			break;
		case OPT_STRICT:
			if (!is_validate)
				goto bad;
			o->strict = true;
			break;
		case 'p':
			if (!is_plan)
				goto bad;
			add_param_arg(cmd, o->params, &o->nr_params, optarg);
			break;
		case OPT_PROJECT:
			if (!is_plan)
				goto bad;
			o->project = optarg;
			break;
		case OPT_BIND:
			if (!is_plan)
				goto bad;
			add_bind_arg(cmd, o->binds, &o->nr_binds, optarg);
			break;
		case OPT_RERUN_OF:
		case OPT_FAILED:
		case OPT_FROM:
		case OPT_REUSE:
			if (!is_plan)
				goto bad;
			if (c == OPT_RERUN_OF)
				o->rerun_of = optarg;
			else if (c == OPT_FAILED)
				failed = true;
			else if (c == OPT_FROM)
				add_from_arg(cmd, o->from, &o->ro.nr_from, optarg);
			else
				o->ro.reuse_unchanged = true;
			break;
		case OPT_NO_OVERRIDES:
		case OPT_OVERRIDES_DIR:
		case OPT_ALLOW_EXTRA:
		case OPT_ALLOW_MISSING:
			if (!is_plan)
				goto bad;
			if (c == OPT_NO_OVERRIDES)
				o->no_overrides = true;
			else if (c == OPT_OVERRIDES_DIR)
				o->overrides_dir = optarg;
			else if (c == OPT_ALLOW_EXTRA)
				o->allow_extra = true;
			else
				o->allow_missing = true;
			break;
		default:
			goto bad;
		}
	}
	if (optind + 1 != argc)
		die_usage(cmd, optind == argc ? "missing WORKFLOW" : "unexpected argument '%s'",
			  argv[optind + (optind < argc)]);
	o->path = argv[optind];
	if (is_plan)
		check_rerun_opts(cmd, o, failed);
	return;
bad:
	die_bad_option(cmd, longopts, argv[optind - 1]);
}

static int cmd_validate(int argc, char **argv)
{
	struct common_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	parse_opts("workflow validate", validate_usage, argc, argv, &o);
	char *path = resolve_workflow_arg("workflow validate", o.path);
	if (!path)
		return EXIT_FAIL;
	swdl_load_file(path, NULL, &l, &dl);
	cli_check_runners(l, &dl);
	diag_list_sort(&dl);
	bool valid = dl.errors == 0 && (!o.strict || dl.warnings == 0);
	if (o.format == FORMAT_JSON) {
		struct strbuf sb = STRBUF_INIT;
		struct jsonw w;
		jw_init(&w, &sb, true);
		jw_object(&w);
		jw_kbool(&w, "valid", valid);
		jw_kstring(&w, "file", path);
		jw_kint(&w, "error_count", (int64_t)dl.errors);
		jw_kint(&w, "warning_count", (int64_t)dl.warnings);
		jw_kbool(&w, "strict", o.strict);
		jw_key(&w, "diagnostics");
		diag_list_write_json(&w, &dl, DIAG_ERROR, false);
		jw_end(&w);
		print_jw(&w);
	} else {
		show_diags(&dl, l);
		if (valid)
			printf("%s: valid (%zu warning%s)\n", path, dl.warnings,
			       dl.warnings == 1 ? "" : "s");
		else
			printf("%s: invalid: %zu error%s, %zu warning%s%s\n", path, dl.errors,
			       dl.errors == 1 ? "" : "s", dl.warnings, dl.warnings == 1 ? "" : "s",
			       dl.errors ? "" : " (treated as errors: --strict)");
	}
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(path);
	return valid ? EXIT_OK : EXIT_FAIL;
}

static void print_plan_errors(const struct common_opts *o, const char *path,
			      const struct diag_list *dl, const struct swdl_loaded *l)
{
	if (o->format == FORMAT_JSON) {
		struct strbuf sb = STRBUF_INIT;
		struct jsonw w;
		jw_init(&w, &sb, true);
		jw_object(&w);
		jw_kbool(&w, "valid", false);
		jw_key(&w, "diagnostics");
		diag_list_write_json(&w, dl, DIAG_ERROR, false);
		jw_end(&w);
		print_jw(&w);
	} else {
		show_diags(dl, l);
		fprintf(stderr, "%s: cannot plan: %zu error%s\n", path, dl->errors,
			dl->errors == 1 ? "" : "s");
	}
}

static void write_plan(const struct common_opts *o, const struct swdl_loaded *l, json_t *params,
		       const struct plan_refs *rp, const struct plan_extra *extra,
		       const struct diag_list *dl)
{
	if (o->format == FORMAT_JSON) {
		struct strbuf sb = STRBUF_INIT;
		struct jsonw w;
		jw_init(&w, &sb, true);
		jw_set_sink(&w, stdout);
		swdl_plan_write_json(&w, &l->wf, &l->dag, params, &l->po, rp, extra, dl);
		print_jw(&w);
	} else {
		struct strbuf sb = STRBUF_INIT;
		show_diags(dl, l);
		swdl_plan_to_text(&sb, &l->wf, &l->dag, params, &l->po, rp, extra);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	}
}

/* ---- plan --rerun-of: the re-run's plan, and what each stage of it would reuse ------ */

/* The plan's own extra (context packs, estimates), then the re-run's decisions at the end. */
struct rerun_extra {
	struct plan_extra inner;
	json_t *decisions;               /* rerun_plan_json's */
};

static void rx_stage_json(void *data, struct jsonw *w, const struct swdl_stage *s)
{
	const struct rerun_extra *x = data;
	x->inner.stage_json(x->inner.data, w, s);
}

static void rx_stage_text(void *data, struct strbuf *out, const struct swdl_stage *s)
{
	const struct rerun_extra *x = data;
	x->inner.stage_text(x->inner.data, out, s);
}

/* Called after the plan's "estimate" key: its value, then "rerun" beside it. */
static void rx_tail_json(void *data, struct jsonw *w)
{
	const struct rerun_extra *x = data;
	if (x->inner.tail_json)
		x->inner.tail_json(x->inner.data, w);
	else
		jw_null(w);
	jw_key(w, "rerun");
	jw_value(w, x->decisions);
}

static void rx_tail_text(void *data, struct strbuf *out)
{
	const struct rerun_extra *x = data;
	if (x->inner.tail_text)
		x->inner.tail_text(x->inner.data, out);
	strbuf_addch(out, '\n');
	rerun_plan_text(out, x->decisions);
}

/* The workflow file a run ran must be the one asked about (a re-run loads that file). */
static bool same_file(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	bool same = !ra || !rb || !strcmp(ra, rb);  /* unreadable: cli_rerun_prepare says why */
	free(ra);
	free(rb);
	return same;
}

static void write_rerun_plan(const struct common_opts *o, struct run_prepared *p,
			     json_t *decisions, const struct diag_list *dl)
{
	struct rerun_extra x = { plan_context_extra(&p->pc), decisions };
	struct plan_extra extra = { x.inner.stage_json ? rx_stage_json : NULL,
		x.inner.stage_text ? rx_stage_text : NULL, rx_tail_json, rx_tail_text, &x };
	size_t missing = 0;
	for (size_t i = 0; i < p->refs.nr; i++)
		missing += !p->refs.paths[i];
	struct plan_refs refs = { p->c ? p->c->name : NULL, p->c ? p->c->root : NULL,
		p->refs.nr - missing, missing, ref_table_lookup, &p->refs };
	write_plan(o, p->l, p->params, p->c ? &refs : NULL, &extra, dl);
}

static int plan_rerun(const struct common_opts *o, const char *path)
{
	struct rerun_origin orig = { 0 };
	struct rerun_request r = { 0 };
	struct rerun_plan plan = { 0 };
	struct run_prepared p;
	struct diag_list dl = DIAG_LIST_INIT;
	char *home = NULL, *id = NULL, *err = NULL;
	json_t *decisions = NULL;
	int rc = EXIT_FAIL;
	memset(&p, 0, sizeof(p));
	struct store *st = open_run_store(&home);
	if (!st || !(id = resolve_run_id(st, o->rerun_of)))
		goto out;
	if (rerun_origin_load(st, id, &orig, &err)) {
		error_msg("cannot plan a re-run: %s", err);
		goto out;
	}
	if (!same_file(path, orig.source)) {
		error_msg("run %s ran %s, not %s: plan that file, or use `workflow rerun %s --plan`",
			  orig.id, orig.source, path, orig.id);
		goto out;
	}
	if (cli_rerun_prepare(home, &orig, &o->ro, &r, &p, &plan, &dl, &err)) {
		if (dl.errors && !err)
			print_plan_errors(o, orig.source, &dl, p.l);
		if (err)
			error_msg("the re-run of run %s would be refused: %s", orig.id, err);
		goto out;
	}
	decisions = rerun_plan_json(&orig, &plan, &p.l->wf);
	write_rerun_plan(o, &p, decisions, &dl);
	rc = EXIT_OK;
out:
	json_decref(decisions);
	rerun_plan_release(&plan);
	run_prepared_release(&p);
	rerun_request_release(&r);
	rerun_origin_release(&orig);
	diag_list_release(&dl);
	store_close(st);
	free(home);
	free(id);
	free(err);
	return rc;
}

static int cmd_plan(int argc, char **argv)
{
	struct common_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct collection *c = NULL;
	struct ref_table refs_table = { 0 };
	struct plan_refs refs = { 0 };
	struct plan_context pc = { 0 };
	json_t *params = NULL;
	int rc = EXIT_FAIL;
	parse_opts("workflow plan", plan_usage, argc, argv, &o);
	char *path = resolve_workflow_arg("workflow plan", o.path);
	if (!path)
		return EXIT_FAIL;
	if (o.rerun_of) {
		rc = plan_rerun(&o, path);
		free(path);
		return rc;
	}
	struct swdl_load_opts lo = { !o.no_overrides, o.overrides_dir, NULL, true, o.binds,
		o.nr_binds };
	swdl_load_file(path, &lo, &l, &dl);
	cli_check_runners(l, &dl);
	if (!dl.errors)
		params = swdl_plan_parameters(&l->wf, o.params, o.nr_params, o.allow_extra, &dl);
	if (params)
		swdl_plan_fan_out(&l->wf, params, &dl);
	if (!dl.errors && !open_collection_optional(&c, &dl) && c) {
		refs.missing = collection_check_workflow(c, &l->wf, o.allow_missing, &refs_table, &dl);
		refs = (struct plan_refs){ c->name, c->root, refs_table.nr - refs.missing,
					   refs.missing, ref_table_lookup, &refs_table };
	}
	if (!dl.errors && cli_plan_context(&pc, l, c, c ? &refs_table : NULL, o.project, &dl))
		goto out;
	diag_list_sort(&dl);
	if (dl.errors) {
		print_plan_errors(&o, path, &dl, l);
		goto out;
	}
	struct plan_extra extra = plan_context_extra(&pc);
	write_plan(&o, l, params, c ? &refs : NULL, &extra, &dl);
	rc = EXIT_OK;
out:
	plan_context_release(&pc);
	json_decref(params);
	ref_table_release(&refs_table);
	collection_free(c);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(path);
	return rc;
}

static int cmd_show(int argc, char **argv)
{
	struct common_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	int rc = EXIT_FAIL;
	parse_opts("workflow show", show_usage, argc, argv, &o);
	char *path = resolve_workflow_arg("workflow show", o.path);
	if (!path)
		return EXIT_FAIL;
	swdl_load_file(path, NULL, &l, &dl);
	diag_list_sort(&dl);
	if (!l || !l->schema_ok) {
		show_diags(&dl, l);
		goto out;
	}
	if (o.format == FORMAT_JSON) {
		json_t *j = swdl_workflow_to_json(&l->wf);
		print_json(j);
		json_decref(j);
	} else {
		struct strbuf sb = STRBUF_INIT;
		swdl_workflow_to_text(&sb, &l->wf, l->dag.acyclic ? &l->dag : NULL);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		if (dl.nr)
			show_diags(&dl, l);
	}
	rc = dl.errors ? EXIT_FAIL : EXIT_OK;
out:
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(path);
	return rc;
}

static int write_converted(const struct swdl_loaded *l, bool json)
{
	char *text = NULL;
	if (json) {
		struct strbuf sb = STRBUF_INIT;
		struct jsonw w;
		json_t *j = node_to_json(l->wf.root);
		jw_init(&w, &sb, true);
		jw_value(&w, j);
		jw_flush(&w);
		json_decref(j);
		text = strbuf_detach(&sb, NULL);
		jw_release(&w);
	} else {
		yaml_from_node(l->wf.root, l->doc->format == DOC_YAML ? l->doc->text : NULL, &text);
	}
	if (!text)
		return EXIT_FAIL;
	fputs(text, stdout);
	if (json && (!*text || text[strlen(text) - 1] != '\n'))
		fputc('\n', stdout);
	free(text);
	return EXIT_OK;
}

static int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(convert_usage, stdout);
			return EXIT_OK;
		}
		if (c != 't')
			die_bad_option("workflow convert", longopts, argv[optind - 1]);
		if (strcmp(optarg, "swdl") && strcmp(optarg, "yaml") && strcmp(optarg, "json"))
			die_usage("workflow convert", "--to must be swdl or json, got '%s'", optarg);
		json = !strcmp(optarg, "json");
	}
	if (optind + 1 != argc)
		die_usage("workflow convert", optind == argc ? "missing WORKFLOW"
			  : "unexpected argument '%s'", argv[optind + (optind < argc)]);
	char *path = resolve_workflow_arg("workflow convert", argv[optind]);
	if (!path)
		return EXIT_FAIL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	int rc = EXIT_FAIL;
	swdl_load_file(path, NULL, &l, &dl);
	diag_list_sort(&dl);
	show_diags(&dl, l);
	if (l && !dl.errors)
		rc = write_converted(l, json);
	else
		fprintf(stderr, "%s: not converted: %zu error%s\n", path, dl.errors,
			dl.errors == 1 ? "" : "s");
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(path);
	return rc;
}

const struct cmd workflow_cmds[] = {
	{ "validate", cmd_validate, "check a workflow file for errors", NULL },
	{ "plan", cmd_plan, "show the execution plan of a workflow", NULL },
	{ "show", cmd_show, "show a workflow with its defaults", NULL },
	{ "convert", cmd_convert, "write a workflow in the canonical SWDL form", NULL },
	{ "create", cmd_workflow_create, "store a workflow in the active collection", NULL },
	{ "list", cmd_workflow_list, "list the workflows of the active collection", NULL },
	{ "delete", cmd_workflow_delete, "remove a stored workflow", NULL },
	{ "run", cmd_workflow_run, "run a workflow for real, durably", NULL },
	{ "runs", cmd_workflow_runs, "list runs, or show one run", NULL },
	{ "export", cmd_workflow_export, "write a workflow for another system to run", NULL },
	{ "logs", cmd_workflow_logs, "show (or follow) a run's events and logs", NULL },
	{ "approve", cmd_workflow_approve, "approve a gate waiting for approval", NULL },
	{ "reject", cmd_workflow_reject, "reject a gate waiting for approval", NULL },
	{ "cancel", cmd_workflow_cancel, "cancel a run", NULL },
	{ "pause", cmd_workflow_pause, "pause a run (running stages finish)", NULL },
	{ "resume", cmd_workflow_resume, "resume a paused run, or take over a dead one", NULL },
	{ "rerun", cmd_workflow_rerun, "run again, reusing a run's completed stages", NULL },
	{ NULL, NULL, NULL, NULL },
};

int cmd_workflow(int argc, char **argv)
{
	return run_subcommand("workflow", workflow_usage, workflow_cmds, argc, argv);
}
