/*
 * cmd_export.c - `skillmeat workflow export`: a workflow made ready to run
 * elsewhere, loaded, bound and checked exactly as `workflow run` does.
 */
#include "cli.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "export/export_argo.h"
#include "engine/run_start.h"
#include "export/stage_exec.h"
#include "formats/yaml_write.h"

#include <getopt.h>

static const char export_usage[] =
"usage: skillmeat workflow export WORKFLOW --to argo|bundle [--param K=V]...\n"
"                                 [--bind ROLE=TYPE:NAME]... [-o PATH] [options]\n"
"\n"
"Write WORKFLOW in a form another system runs, loaded, bound and checked as\n"
"`workflow run` does.\n"
"\n"
"--to argo: an Argo Workflows Workflow (one DAG task a stage, each running\n"
"`skillmeat stage exec` in IMAGE) and a ConfigMap with the run bundle\n"
"(docs/argo.md).  With -o DIR: DIR/workflow.yaml and DIR/bundle-configmap.yaml;\n"
"without: both on standard output (YAML: two documents separated by ---;\n"
"JSON: one document, a Kubernetes List of the two, as kubectl takes it).  The\n"
"ConfigMap's name ends in its content's hash, so each export's runs keep their\n"
"own bundle.\n"
"--to bundle: the run bundle alone (what `skillmeat stage exec` reads: the\n"
"merged workflow with its roles bound, its parameters, the text of every\n"
"agent and context module it uses, its context packs), as JSON.\n"
"\n"
"  -p, --param KEY=VALUE    set a parameter (coerced to its declared type)\n"
"      --bind ROLE=TYPE:NAME  bind a role the workflow declares\n"
"  -o, --output PATH        write there (argo: a directory; default: standard output)\n"
"      --image IMAGE        (argo) the image with skillmeat and the agent CLIs\n"
"                           (default " ARGO_DEFAULT_IMAGE ")\n"
"      --secret NAME        (argo) a Kubernetes Secret whose keys become every\n"
"                           task's environment (agent credentials; repeatable)\n"
"      --template           (argo) a WorkflowTemplate instead of a Workflow\n"
"      --image-runners      (argo) runners that config.toml defines are defined in\n"
"                           the image too (/tmp/skillmeat/config.toml); without\n"
"                           it, a stage using one is refused\n"
"  -j, --max-parallel N     (argo) tasks running at once (default 4)\n"
"      --format FORMAT      (argo) yaml (default) or json; the bundle is JSON\n"
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
	const char *to, *output, *overrides_dir, *path, *image;
	const char *secrets[MAX_PARAMS];
	size_t nr_secrets;
	bool no_overrides, allow_missing, template, image_runners;
	bool format_given;           /* --format yaml, which only argo has */
	long max_parallel;
	enum output_format format;
};

static void parse_export(int argc, char **argv, struct export_opts *o)
{
	enum { OPT_TO = 256, OPT_BIND, OPT_NO_OVERRIDES, OPT_OVERRIDES_DIR, OPT_ALLOW_MISSING,
	       OPT_IMAGE, OPT_SECRET, OPT_TEMPLATE, OPT_FORMAT, OPT_IMAGE_RUNNERS };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "param", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ "to", required_argument, NULL, OPT_TO },
		{ "output", required_argument, NULL, 'o' },
		{ "no-overrides", no_argument, NULL, OPT_NO_OVERRIDES },
		{ "overrides-dir", required_argument, NULL, OPT_OVERRIDES_DIR },
		{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "template", no_argument, NULL, OPT_TEMPLATE },
		{ "image-runners", no_argument, NULL, OPT_IMAGE_RUNNERS },
		{ "max-parallel", required_argument, NULL, 'j' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = "workflow export";
	char *end;
	int c;
	opterr = 0;
	optind = 1;
	o->max_parallel = 4;
	while ((c = getopt_long(argc, argv, "hp:o:j:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(export_usage, stdout); exit(EXIT_OK);
		case 'p': add_param_arg(cmd, o->params, &o->nr_params, optarg); break;
		case OPT_BIND: add_bind_arg(cmd, o->binds, &o->nr_binds, optarg); break;
		case OPT_TO: o->to = optarg; break;
		case 'o': o->output = optarg; break;
		case OPT_NO_OVERRIDES: o->no_overrides = true; break;
		case OPT_OVERRIDES_DIR: o->overrides_dir = optarg; break;
		case OPT_ALLOW_MISSING: o->allow_missing = true; break;
		case OPT_IMAGE: o->image = optarg; break;
		case OPT_TEMPLATE: o->template = true; break;
		case OPT_IMAGE_RUNNERS: o->image_runners = true; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "yaml") && strcmp(optarg, "json"))
				die_usage(cmd, "--format must be yaml or json, got '%s'", optarg);
			o->format = !strcmp(optarg, "json") ? FORMAT_JSON : FORMAT_TEXT;
			o->format_given = !strcmp(optarg, "yaml");
			break;
		case OPT_SECRET:
			if (o->nr_secrets == MAX_PARAMS)
				die_usage(cmd, "too many --secret options");
			o->secrets[o->nr_secrets++] = optarg;
			break;
		case 'j':
			o->max_parallel = strtol(optarg, &end, 10);
			if (*end || o->max_parallel < 1 || o->max_parallel > 256)
				die_usage(cmd, "--max-parallel must be 1 to 256, got '%s'", optarg);
			break;
		default: die_bad_option(cmd, longopts, argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		die_usage(cmd, optind == argc ? "missing WORKFLOW" : "unexpected argument '%s'",
			  argv[optind + (optind < argc)]);
	o->path = argv[optind];
	if (!o->to || (strcmp(o->to, "bundle") && strcmp(o->to, "argo")))
		die_usage(cmd, "--to must be argo or bundle%s%s%s", o->to ? ", got '" : "",
			  o->to ? o->to : "", o->to ? "'" : "");
	if (!strcmp(o->to, "bundle") && o->format_given)
		die_usage(cmd, "the bundle is JSON (what `skillmeat stage exec` reads): "
			  "--format yaml is for --to argo");
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

/* A document as text in the chosen format (YAML or indented JSON), with a final newline. */
static char *doc_text(const json_t *v, enum output_format f)
{
	char *text = NULL;
	if (f == FORMAT_JSON)
		text = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	else if (yaml_from_json(v, &text))
		return NULL;
	size_t n = strlen(text);
	if (n && text[n - 1] == '\n')
		return text;
	text = xrealloc(text, n + 2);
	memcpy(text + n, "\n", 2);
	return text;
}

static int write_argo(const struct export_opts *o, const struct swdl_loaded *l, json_t *b)
{
	struct argo_opts ao = { o->image, o->template, o->secrets, o->nr_secrets,
		o->max_parallel, o->image_runners };
	json_t *wf, *cm;
	char *err = NULL, *wt = NULL, *ct = NULL;
	int rc = EXIT_FAIL;
	if (export_argo(l, b, &ao, &wf, &cm, &err)) {
		error_msg("%s", err);
		free(err);
		return EXIT_FAIL;
	}
	wt = doc_text(wf, o->format);
	ct = doc_text(cm, o->format);
	size_t size = ct ? strlen(ct) : 0;
	if (size > ARGO_CLIENT_APPLY_MAX)
		fprintf(stderr, "note: the bundle's ConfigMap is %zu bytes, over the 256 KiB that "
			"client-side `kubectl apply` can store: create it with `kubectl create -f` "
			"or `kubectl apply --server-side -f`\n", size);
	if (!wt || !ct) {
		error_msg("cannot write the documents as YAML");
	} else if (!o->output && o->format == FORMAT_JSON) {
		/* one JSON document: a List, which kubectl apply -f - takes as it is */
		json_t *list = json_pack("{s:s, s:s, s:[O, O]}", "apiVersion", "v1", "kind", "List",
					 "items", cm, wf);
		char *lt = doc_text(list, FORMAT_JSON);
		fputs(lt, stdout);
		free(lt);
		json_decref(list);
		rc = fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	} else if (!o->output) {
		printf("%s---\n%s", ct, wt);
		rc = fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	} else {
		const char *ext = o->format == FORMAT_JSON ? "json" : "yaml";
		char *wp = xasprintf("%s/workflow.%s", o->output, ext);
		char *cp = xasprintf("%s/bundle-configmap.%s", o->output, ext);
		if (fs_mkdirs(o->output))
			error_msg("%s: %s", o->output, strerror(errno));
		else if (!write_out(wp, wt) && !write_out(cp, ct))
			rc = EXIT_OK;
		free(wp);
		free(cp);
	}
	free(wt);
	free(ct);
	json_decref(wf);
	json_decref(cm);
	return rc;
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
		o.no_overrides, o.overrides_dir, NULL, NULL, o.max_parallel, o.binds, o.nr_binds };
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
	if (!strcmp(o.to, "argo")) {
		rc = write_argo(&o, p.l, b);
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
