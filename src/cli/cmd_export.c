/*
 * cmd_export.c - `skillmeat workflow export`: a workflow made ready to run
 * elsewhere, loaded, bound and checked exactly as `workflow run` does.
 */
#include "cli.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "engine/run_start.h"

#include <getopt.h>

static const char export_usage[] =
"usage: skillmeat workflow export WORKFLOW --to bundle [--param K=V]...\n"
"                                 [--bind ROLE=TYPE:NAME]... [-o FILE] [options]\n"
"\n"
"Write WORKFLOW in a form another system runs.  --to bundle: the run bundle\n"
"that `skillmeat stage exec` reads (the merged workflow with its roles bound,\n"
"its parameters, the text of every agent and context module it uses, and\n"
"its context packs), as JSON.\n"
"\n"
"  -p, --param KEY=VALUE    set a parameter (coerced to its declared type)\n"
"      --bind ROLE=TYPE:NAME  bind a role the workflow declares\n"
"  -o, --output FILE        write there (default: standard output)\n"
"      --no-overrides       ignore .skillmeat-workflow-overrides.*\n"
"      --overrides-dir DIR  look for the overrides file from DIR up\n"
"      --allow-missing      export even if artifacts are missing from the collection\n"
"  -h, --help               show this help\n"
"\n"
"Exit status: 0 written, 1 invalid workflow, parameters or bindings, 2 usage.\n";

struct export_opts {
	struct plan_param params[MAX_PARAMS];
	size_t nr_params;
	struct role_binding binds[MAX_PARAMS];
	size_t nr_binds;
	const char *to, *output, *overrides_dir, *path;
	bool no_overrides, allow_missing;
};

static void parse_export(int argc, char **argv, struct export_opts *o)
{
	enum { OPT_TO = 256, OPT_BIND, OPT_NO_OVERRIDES, OPT_OVERRIDES_DIR, OPT_ALLOW_MISSING };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "param", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "to", required_argument, NULL, OPT_TO },
		{ "output", required_argument, NULL, 'o' },
		{ "no-overrides", no_argument, NULL, OPT_NO_OVERRIDES },
		{ "overrides-dir", required_argument, NULL, OPT_OVERRIDES_DIR },
		{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "workflow export";
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(export_usage, stdout); exit(EXIT_OK);
		case 'p': add_param_arg(cmd, o->params, &o->nr_params, optarg); break;
		case OPT_BIND: add_bind_arg(cmd, o->binds, &o->nr_binds, optarg); break;
		case OPT_TO: o->to = optarg; break;
		case 'o': o->output = optarg; break;
		case OPT_NO_OVERRIDES: o->no_overrides = true; break;
		case OPT_OVERRIDES_DIR: o->overrides_dir = optarg; break;
		case OPT_ALLOW_MISSING: o->allow_missing = true; break;
		default: die_bad_option(cmd, longopts, argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		die_usage(cmd, optind == argc ? "missing WORKFLOW" : "unexpected argument '%s'",
			  argv[optind + (optind < argc)]);
	o->path = argv[optind];
	if (!o->to || strcmp(o->to, "bundle"))
		die_usage(cmd, "--to must be bundle%s%s%s", o->to ? ", got '" : "",
			  o->to ? o->to : "", o->to ? "'" : "");
}

static int write_out(const char *path, const char *text)
{
	if (!path) {
		fputs(text, stdout);
		return fflush(stdout) ? SM_EIO : SM_OK;
	}
	if (fs_write_file(path, text, strlen(text))) {
		error_msg("%s: %s", path, strerror(errno));
		return SM_EIO;
	}
	return SM_OK;
}

int cmd_workflow_export(int argc, char **argv)
{
	struct export_opts o = { 0 };
	parse_export(argc, argv, &o);
	char *path = resolve_workflow_arg("workflow export", o.path);
	char *home = skillmeat_home(), *err = NULL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct run_prepared p = { 0 };
	json_t *b = NULL;
	int rc = EXIT_FAIL;
	if (!path || !home)
		goto out;
	struct run_request rq = { home, path, o.params, o.nr_params, false, o.allow_missing,
		o.no_overrides, o.overrides_dir, NULL, NULL, 4, o.binds, o.nr_binds };
	int r = run_prepare(&rq, &p, &dl, &err);
	diag_list_sort(&dl);
	const struct doc *docs[2] = { p.l ? p.l->doc : NULL, p.l ? p.l->overrides_doc : NULL };
	print_diags(&dl, docs, 2);
	if (r || dl.errors) {
		if (r)
			error_msg("%s", err);
		else
			fprintf(stderr, "%s: cannot export: %zu error%s\n", path, dl.errors,
				dl.errors == 1 ? "" : "s");
		goto out;
	}
	if (!(b = run_prepared_bundle(&rq, &p, &err))) {
		error_msg("%s", err);
		goto out;
	}
	char *text = json_dumps(b, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	size_t n = strlen(text);
	text = xrealloc(text, n + 2);
	memcpy(text + n, "\n", 2);
	rc = write_out(o.output, text) ? EXIT_FAIL : EXIT_OK;
	free(text);
out:
	json_decref(b);
	run_prepared_release(&p);
	diag_list_release(&dl);
	free(err);
	free(home);
	free(path);
	return rc;
}
