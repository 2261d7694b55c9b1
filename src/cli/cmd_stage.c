/*
 * cmd_stage.c - `skillmeat stage exec`: one stage of a run orchestrated
 * elsewhere (the entry point of an exported workflow's containers).
 */
#include "cli.h"
#include "run_view.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "engine/stage_exec.h"

#include <getopt.h>

static const char exec_usage[] =
"usage: skillmeat stage exec --bundle FILE --stage ID [--upstream STAGE=JSON]...\n"
"                            [--upstream-file STAGE=FILE]... [--outputs DIR]\n"
"                            [--workdir DIR] [--runner NAME]\n"
"\n"
"Run one stage of a workflow whose other stages run elsewhere (an Argo\n"
"Workflows task; docs/argo.md), exactly as `workflow run` runs it: runner,\n"
"prompt, context pack, handoffs, output contract, budget.  FILE is a run\n"
"bundle (`skillmeat workflow export --to bundle`).  Every stage it depends\n"
"on, directly or not, needs its result: the result.json another `stage\n"
"exec` wrote ({status, outputs, handoff}).  One attempt: retries are the\n"
"orchestrator's.  Events are printed as JSON lines on stdout.\n"
"\n"
"      --outputs DIR        write result.json, handoff.json and one file per\n"
"                           output there (default /tmp/outputs)\n"
"      --workdir DIR        where command stages run (default: here)\n"
"      --runner NAME        runner for agent stages that name none (default claude)\n"
"  -h, --help               show this help\n"
"\n"
"The SkillMeat home (SKILLMEAT_HOME) holds the run's database and attempt\n"
"files, as for any run.\n"
"Exit status: 0 completed or skipped, 1 failed (another attempt may help),\n"
"2 usage, 3 failed or could not run (another attempt cannot help).\n";

#define EXIT_PERMANENT 3
/* Bytes of an upstream result read from a file. */
#define MAX_UPSTREAM (64u << 20)

struct exec_opts {
	const char *bundle, *stage, *outputs, *workdir, *runner;
	json_t *upstream;
};

static void add_upstream(struct exec_opts *o, char *arg, bool is_file)
{
	const char *cmd = "stage exec";
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		die_usage(cmd, "expected STAGE=%s, got '%s'", is_file ? "FILE" : "JSON", arg);
	*eq = '\0';
	struct strbuf sb = STRBUF_INIT;
	if (is_file && strbuf_read_file(&sb, eq + 1, MAX_UPSTREAM))
		die_usage(cmd, "--upstream-file %s: %s", eq + 1, strerror(errno));
	json_error_t je;
	json_t *v = json_loads(is_file ? sb.buf : eq + 1, JSON_REJECT_DUPLICATES, &je);
	strbuf_release(&sb);
	if (!json_is_object(v))
		die_usage(cmd, "the result of stage '%s' is not a JSON object (%s)", arg,
			  v ? "another value" : je.text);
	json_object_set_new(o->upstream, arg, v);
}

static void parse_exec(int argc, char **argv, struct exec_opts *o)
{
	enum { OPT_BUNDLE = 256, OPT_STAGE, OPT_UP, OPT_UP_FILE, OPT_OUTPUTS, OPT_WORKDIR,
	       OPT_RUNNER };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "upstream", required_argument, NULL, OPT_UP },
		{ "upstream-file", required_argument, NULL, OPT_UP_FILE },
		{ "outputs", required_argument, NULL, OPT_OUTPUTS },
		{ "workdir", required_argument, NULL, OPT_WORKDIR },
		{ "runner", required_argument, NULL, OPT_RUNNER },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	o->outputs = "/tmp/outputs";
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(exec_usage, stdout); exit(EXIT_OK);
		case OPT_BUNDLE: o->bundle = optarg; break;
		case OPT_STAGE: o->stage = optarg; break;
		case OPT_UP: add_upstream(o, optarg, false); break;
		case OPT_UP_FILE: add_upstream(o, optarg, true); break;
		case OPT_OUTPUTS: o->outputs = optarg; break;
		case OPT_WORKDIR: o->workdir = optarg; break;
		case OPT_RUNNER: o->runner = optarg; break;
		default: die_bad_option("stage exec", longopts, argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("stage exec", "unexpected argument '%s'", argv[optind]);
	if (!o->bundle || !o->stage)
		die_usage("stage exec", "--bundle and --stage are required");
}

/* The events as JSON lines: what an orchestrator's log collector keeps. */
static void print_event(void *ctx, const char *type, const char *stage_id, int attempt,
			const json_t *data)
{
	UNUSED(ctx);
	json_t *e = json_pack("{s:f, s:s, s:s?, s:i, s:O}", "ts", store_now(), "type", type,
			      "stage_id", stage_id, "attempt", attempt, "data", data);
	char *line = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (line)
		printf("%s\n", line);
	fflush(stdout);
	free(line);
	json_decref(e);
}

static int write_json(const char *dir, const char *name, const json_t *v)
{
	char *path = path_join(dir, name);
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY |
				JSON_REAL_PRECISION(15));
	int r = text ? fs_write_file(path, text, strlen(text)) : SM_ERR;
	if (r)
		error_msg("%s: %s", path, strerror(errno));
	free(text);
	free(path);
	return r;
}

/* result.json, handoff.json, and each output as its own file (strings as they are). */
static int write_outputs(const char *dir, const json_t *res)
{
	if (fs_mkdirs(dir)) {
		error_msg("%s: %s", dir, strerror(errno));
		return SM_ERR;
	}
	int r = write_json(dir, "result.json", res);
	if (!r)
		r = write_json(dir, "handoff.json", json_object_get(res, "handoff"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(res, "outputs"), k, v) {
		/* An output is a file in DIR: never a path out of it, nor one of ours. */
		if (r || k[0] == '.' || strchr(k, '/') || !strcmp(k, "result.json") ||
		    !strcmp(k, "handoff.json"))
			continue;
		if (!json_is_string(v)) {
			r = write_json(dir, k, v);
			continue;
		}
		char *path = path_join(dir, k);
		if ((r = fs_write_file(path, json_string_value(v), json_string_length(v))))
			error_msg("%s: %s", path, strerror(errno));
		free(path);
	}
	return r;
}

static int stage_exec_cmd(int argc, char **argv)
{
	struct exec_opts o = { .upstream = json_object() };
	parse_exec(argc, argv, &o);
	char *home = skillmeat_home(), *err = NULL;
	struct strbuf bundle = STRBUF_INIT;
	struct engine_config cfg = { 0 };
	json_t *res = NULL;
	int rc = EXIT_PERMANENT;
	if (!home) {
		error_msg("cannot find the SkillMeat home (set SKILLMEAT_HOME or HOME)");
		goto out;
	}
	if (strbuf_read_file(&bundle, o.bundle, 256u << 20)) {
		error_msg("%s: %s", o.bundle, strerror(errno));
		goto out;
	}
	if (load_engine_config(home, &cfg))
		goto out;
	struct stage_exec_request rq = { home, bundle.buf, o.stage, o.upstream, o.workdir,
		o.runner, &cfg, print_event, NULL };
	if (stage_exec(&rq, &res, &err)) {
		error_msg("%s", err);
		goto out;
	}
	const char *status = json_string_value(json_object_get(res, "status"));
	if (write_outputs(o.outputs, res))
		goto out;
	/* cancelled: it could not start (a dependency failed and halts the run) */
	rc = !strcmp(status, "completed") || !strcmp(status, "skipped") ? EXIT_OK
	     : !strcmp(status, "failed") && json_is_true(json_object_get(res, "retryable"))
	     ? EXIT_FAIL : EXIT_PERMANENT;
out:
	json_decref(res);
	json_decref(o.upstream);
	engine_config_release(&cfg);
	strbuf_release(&bundle);
	free(err);
	free(home);
	return rc;
}

int cmd_stage(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "exec", stage_exec_cmd, "run one stage of a run orchestrated elsewhere" },
		{ NULL, NULL, NULL },
	};
	static const char usage[] =
		"usage: skillmeat stage COMMAND [ARGS]\n"
		"\n"
		"One stage of a run orchestrated elsewhere (docs/argo.md).\n";
	return run_subcommand("stage", usage, cmds, argc, argv);
}
