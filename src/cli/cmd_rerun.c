/*
 * cmd_rerun.c - `skillmeat workflow rerun`: a new run of the workflow's
 * current definition that reuses what an earlier run recorded for the
 * stages that need not run again (src/engine/rerun.h), hosted like `run`.
 */
#include "cli.h"
#include "rerun_cli.h"
#include "run_view.h"

#include <getopt.h>

static const char rerun_usage[] =
	"usage: skillmeat workflow rerun RUN [--failed | --from STAGE...] [options]\n"
	"\n"
	"Start a new run of the workflow's current definition (the file run RUN\n"
	"ran) with RUN's parameters and --bind bindings.  Stages that need not run\n"
	"again are reused: they take RUN's recorded outputs, handoff record and\n"
	"files changed, show as `reused`, cost nothing, and the stages after them\n"
	"see them exactly as if they had just run.  RUN may be a unique prefix of a\n"
	"run id, or `last`.\n"
	"\n"
	"      --failed             run again the stages that did not complete and\n"
	"                           every stage after them; reuse the rest\n"
	"      --from STAGE         run again STAGE and every stage after it (repeat,\n"
	"                           or separate with commas); reuse the rest\n"
	"      --reuse-unchanged    also reuse any stage whose definition, artifacts,\n"
	"                           context pack, parameters and workflow config are\n"
	"                           those of RUN (and whose earlier stages are reused)\n"
	"  -p, --param KEY=VALUE    set a parameter (over RUN's)\n"
	"      --bind ROLE=TYPE:NAME  bind a role (over RUN's --bind)\n"
	"      --plan               show which stages would be reused and why; run nothing\n"
	"      --detach             host the run in a background process; print its id\n"
	"      --format FORMAT      text (default) or json\n"
	"  -h, --help               show this help\n"
	"\n"
	"Without --failed or --from every stage runs again.  Refused, with the reason:\n"
	"a run that has not ended, a stage RUN completed that the definition no longer\n"
	"has, reused outputs that no longer fit a stage's outputs contract.\n"
	"Exit status: 0 completed (or --plan), 1 failed or refused, 2 usage, 3 cancelled.\n";

struct rerun_cli {
	struct rerun_opts ro;
	struct plan_param params[MAX_PARAMS];
	struct role_binding binds[MAX_PARAMS];
	const char *from[MAX_FROM];
	const char *run;
	bool plan, detach;
	enum output_format format;
};

enum { OPT_FAILED = 256, OPT_FROM, OPT_REUSE, OPT_BIND, OPT_PLAN, OPT_DETACH, OPT_FORMAT };

void add_from_arg(const char *cmd, const char **from, size_t *nr, char *arg)
{
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		if (*nr == MAX_FROM)
			die_usage(cmd, "too many --from stages (limit %d)", MAX_FROM);
		from[(*nr)++] = tok;
	}
}

static void parse_rerun_opts(int argc, char **argv, struct rerun_cli *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "failed", no_argument, NULL, OPT_FAILED },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "reuse-unchanged", no_argument, NULL, OPT_REUSE },
		{ "param", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "plan", no_argument, NULL, OPT_PLAN },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	bool failed = false;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(rerun_usage, stdout);
			exit(EXIT_OK);
		case 'p': add_param_arg("workflow rerun", o->params, &o->ro.nr_params, optarg); break;
		case OPT_BIND: add_bind_arg("workflow rerun", o->binds, &o->ro.nr_bindings, optarg); break;
		case OPT_FAILED: failed = true; break;
		case OPT_FROM: add_from_arg("workflow rerun", o->from, &o->ro.nr_from, optarg); break;
		case OPT_REUSE: o->ro.reuse_unchanged = true; break;
		case OPT_PLAN: o->plan = true; break;
		case OPT_DETACH: o->detach = true; break;
		case OPT_FORMAT: o->format = parse_format("workflow rerun", optarg); break;
		default:
			die_bad_option("workflow rerun", longopts, argv[optind - 1]);
		}
	}
	if (failed && o->ro.nr_from)
		die_usage("workflow rerun", "--failed and --from cannot be used together");
	if (optind + 1 != argc)
		die_usage("workflow rerun", optind == argc ? "missing RUN"
			  : "unexpected argument '%s'", argv[optind + (optind < argc)]);
	o->run = argv[optind];
	o->ro.mode = failed ? RERUN_FAILED : o->ro.nr_from ? RERUN_FROM : RERUN_ALL;
	o->ro.from = o->from;
	o->ro.params = o->params;
	o->ro.bindings = o->binds;
}

void rerun_plan_text(struct strbuf *out, json_t *plan)
{
	size_t i;
	json_t *v;
	strbuf_addf(out, "Re-run of %s:\n", json_string_value(json_object_get(plan, "rerun_of")));
	json_array_foreach(json_object_get(plan, "stages"), i, v)
		strbuf_addf(out, "  %-24s %-6s %s\n", json_string_value(json_object_get(v, "id")),
			    json_string_value(json_object_get(v, "action")),
			    json_string_value(json_object_get(v, "reason")));
}

static void print_plan(json_t *plan, enum output_format format)
{
	if (format == FORMAT_JSON) {
		json_dumpf(plan, stdout, JSON_INDENT(2));
		putchar('\n');
		return;
	}
	struct strbuf sb = STRBUF_INIT;
	rerun_plan_text(&sb, plan);
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

int cli_rerun_prepare(const char *home, const struct rerun_origin *orig,
		      const struct rerun_opts *ro, struct rerun_request *r,
		      struct run_prepared *p, struct rerun_plan *plan, struct diag_list *dl,
		      char **err)
{
	*err = NULL;
	if (rerun_request_init(r, home, orig, ro, err))
		return SM_ERR;
	int e = run_prepare(&r->rq, p, dl, err);
	diag_list_sort(dl);
	if (e || dl->errors)
		return SM_ERR;
	return rerun_decide(orig, ro, r, p, plan, err);
}

/* Prepare the re-run: load the workflow again and decide each stage (printing why not). */
static int prepare(struct rerun_cli *o, struct rerun_origin *orig, struct rerun_request *r,
		   struct run_prepared *p, struct rerun_plan *plan, const char *home)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *err = NULL;
	int rc = cli_rerun_prepare(home, orig, &o->ro, r, p, plan, &dl, &err);
	const struct doc *docs[2] = { p->l ? p->l->doc : NULL, p->l ? p->l->overrides_doc : NULL };
	print_diags(&dl, docs, 2);
	if (dl.errors && !err)
		fprintf(stderr, "%s: cannot re-run run %s: %zu error%s\n", orig->source, orig->id,
			dl.errors, dl.errors == 1 ? "" : "s");
	if (err)
		error_msg("cannot re-run run %s: %s", orig->id, err);
	free(err);
	diag_list_release(&dl);
	return rc;
}

int cmd_workflow_rerun(int argc, char **argv)
{
	struct rerun_cli o = { 0 };
	struct rerun_origin orig = { 0 };
	struct rerun_request r = { 0 };
	struct rerun_plan plan = { 0 };
	struct run_prepared p;
	struct engine_config cfg = { 0 };
	char *home = NULL, *id = NULL, *err = NULL, run_id[24];
	int rc = EXIT_FAIL;
	memset(&p, 0, sizeof(p));
	parse_rerun_opts(argc, argv, &o);
	struct store *st = open_run_store(&home);
	if (!st || !(id = resolve_run_id(st, o.run)))
		goto out;
	if (rerun_origin_load(st, id, &orig, &err)) {
		error_msg("cannot re-run: %s", err);
		goto out;
	}
	if (prepare(&o, &orig, &r, &p, &plan, home))
		goto out;
	if (o.plan) {
		json_t *j = rerun_plan_json(&orig, &plan, &p.l->wf);
		print_plan(j, o.format);
		json_decref(j);
		rc = EXIT_OK;
		goto out;
	}
	if (load_engine_config(home, &cfg))
		goto out;
	if (rerun_create(st, &r, &p, &cfg, &orig, &plan, run_id, &err)) {
		error_msg("%s", err);
		goto out;
	}
	if (!o.detach && o.format != FORMAT_JSON) {
		size_t reused = 0;
		for (size_t i = 0; i < plan.nr; i++)
			reused += plan.d[i].reuse;
		fprintf(stderr, "Run %s re-runs %s of %s (%zu stages, %zu reused)\n", run_id,
			orig.id, p.l->wf.name, p.l->wf.nr_stages, reused);
	}
	rc = host_in_cli(st, home, &cfg, run_id, o.detach, o.format, -1);
out:
	rerun_plan_release(&plan);
	run_prepared_release(&p);
	rerun_request_release(&r);
	rerun_origin_release(&orig);
	engine_config_release(&cfg);
	store_close(st);
	free(home);
	free(id);
	free(err);
	return rc;
}
