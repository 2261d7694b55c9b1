/*
 * cmd_stage.c - `skillmeat stage exec`: one stage of a run orchestrated
 * elsewhere (the entry point of an exported workflow's containers).
 */
#include "cli.h"
#include "run_view.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "export/stage_exec.h"

#include <getopt.h>

static const char exec_usage[] =
"usage: skillmeat stage exec --bundle FILE --stage ID [--upstream STAGE=JSON]...\n"
"                            [--upstream-file STAGE=FILE]... [--outputs DIR]\n"
"                            [--gate STAGE=DECISION]... [--retries N]\n"
"                            [--workdir DIR] [--runner NAME]\n"
"                            [--list-items | --item INDEX | --item-results FILE]\n"
"\n"
"Run one stage of a workflow whose other stages run elsewhere (an Argo\n"
"Workflows task; docs/argo.md), exactly as `workflow run` runs it: runner,\n"
"prompt, context pack, handoffs, output contract, budget.  FILE is a run\n"
"bundle (`skillmeat workflow export --to bundle`).  Every stage it depends\n"
"on, directly or not, needs its result: the result.json another `stage\n"
"exec` wrote ({status, outputs, handoff}).  One attempt: retries are the\n"
"orchestrator's.  Events are printed as JSON lines on stdout.\n"
"\n"
"      --gate STAGE=DECISION  a gate's decision (approve, reject, or timeout when\n"
"                           its duration ran out) as that gate's result\n"
"      --retries N          attempts of this stage made before this one (Argo's\n"
"                           {{retries}}): this is attempt N+1 ($SKILLMEAT_ATTEMPT)\n"
"      --outputs DIR        write result.json, handoff.json and one file per\n"
"                           output there (default /tmp/outputs)\n"
"      --workdir DIR        where command stages run (default: here)\n"
"      --runner NAME        runner for agent stages that name none (default claude)\n"
"  -h, --help               show this help\n"
"\n"
"A fan-out's items in pods of their own (Argo's withParam) take three parts:\n"
"      --list-items         evaluate the item list only; write items.json, the\n"
"                           indices [0, 1, ...] (or [\"none\"]: nothing to run)\n"
"      --item INDEX         run that item only, with its retries; result.json is\n"
"                           the item's result, and the exit status is 0 even when\n"
"                           it failed (\"none\": a placeholder that runs nothing)\n"
"      --item-results FILE  run no item: gather the items' results (Argo's list of\n"
"                           output parameters, or a list of item results) into\n"
"                           the stage's result, as if they had run here\n"
"\n"
"The SkillMeat home (SKILLMEAT_HOME) holds the run's database and attempt\n"
"files, as for any run.\n"
"Exit status: 0 completed or skipped (or an item's result written), 1 failed\n"
"(another attempt may help), 2 usage, 3 failed or could not run (another\n"
"attempt cannot help).\n";

#define EXIT_PERMANENT 3
/* Bytes of an upstream result read from a file. */
#define MAX_UPSTREAM (64u << 20)

struct exec_opts {
	const char *bundle, *stage, *outputs, *workdir, *runner;
	json_t *upstream;
	int part;                  /* STAGE_EXEC_* */
	long item;
	json_t *item_results;
	int retries;
};

static void set_part(struct exec_opts *o, int part)
{
	if (o->part != STAGE_EXEC_WHOLE && o->part != part)
		die_usage("stage exec", "--list-items, --item and --item-results exclude each other");
	o->part = part;
}

static void parse_item(struct exec_opts *o, const char *arg)
{
	char *end;
	set_part(o, STAGE_EXEC_ITEM);
	if (!strcmp(arg, "none")) {
		o->item = -1;
		return;
	}
	errno = 0;
	o->item = strtol(arg, &end, 10);
	if (errno || end == arg || *end || o->item < 0)
		die_usage("stage exec", "--item: expected an item index or none, got '%s'", arg);
}

static void read_item_results(struct exec_opts *o, const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	json_error_t je;
	char *err = NULL;
	set_part(o, STAGE_EXEC_GATHER);
	if (strbuf_read_file(&sb, file, MAX_UPSTREAM))
		die_usage("stage exec", "--item-results %s: %s", file, strerror(errno));
	json_t *v = json_loads(sb.buf, 0, &je);
	strbuf_release(&sb);
	if (!v)
		die_usage("stage exec", "%s:%d:%d: %s", file, je.line, je.column, je.text);
	if (stage_exec_item_results(v, &o->item_results, &err))
		die_usage("stage exec", "%s: %s", file, err);
	json_decref(v);
}

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

static void add_gate(struct exec_opts *o, char *arg)
{
	char *eq = strchr(arg, '='), *err = NULL;
	if (!eq || eq == arg)
		die_usage("stage exec", "--gate: expected STAGE=DECISION, got '%s'", arg);
	*eq = '\0';
	json_t *r = stage_exec_gate_result(eq + 1, &err);
	if (!r)
		die_usage("stage exec", "--gate %s: %s", arg, err);
	json_object_set_new(o->upstream, arg, r);
}

static void parse_retries(struct exec_opts *o, const char *arg)
{
	char *end;
	errno = 0;
	long n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 0 || n > 10000)
		die_usage("stage exec", "--retries: expected a number of attempts, got '%s'", arg);
	o->retries = (int)n;
}

static void parse_exec(int argc, char **argv, struct exec_opts *o)
{
	enum { OPT_BUNDLE = 256, OPT_STAGE, OPT_UP, OPT_UP_FILE, OPT_OUTPUTS, OPT_WORKDIR,
	       OPT_RUNNER, OPT_LIST, OPT_ITEM, OPT_RESULTS, OPT_GATE, OPT_RETRIES };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "bundle", required_argument, NULL, OPT_BUNDLE },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "upstream", required_argument, NULL, OPT_UP },
		{ "upstream-file", required_argument, NULL, OPT_UP_FILE },
		{ "outputs", required_argument, NULL, OPT_OUTPUTS },
		{ "workdir", required_argument, NULL, OPT_WORKDIR },
		{ "runner", required_argument, NULL, OPT_RUNNER },
		{ "list-items", no_argument, NULL, OPT_LIST },
		{ "item", required_argument, NULL, OPT_ITEM },
		{ "item-results", required_argument, NULL, OPT_RESULTS },
		{ "gate", required_argument, NULL, OPT_GATE },
		{ "retries", required_argument, NULL, OPT_RETRIES },
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
		case OPT_LIST: set_part(o, STAGE_EXEC_LIST); break;
		case OPT_ITEM: parse_item(o, optarg); break;
		case OPT_RESULTS: read_item_results(o, optarg); break;
		case OPT_GATE: add_gate(o, optarg); break;
		case OPT_RETRIES: parse_retries(o, optarg); break;
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

/*
 * result.json, then for a stage handoff.json and each output as its own
 * file (strings as they are); for a fan-out's list, items.json.
 */
static int write_outputs(const char *dir, const json_t *res, int part)
{
	if (fs_mkdirs(dir)) {
		error_msg("%s: %s", dir, strerror(errno));
		return SM_ERR;
	}
	int r = write_json(dir, "result.json", res);
	if (part == STAGE_EXEC_LIST)
		return r ? r : write_json(dir, "items.json", json_object_get(res, "items"));
	if (part == STAGE_EXEC_ITEM)
		return r;
	if (!r)
		r = write_json(dir, "handoff.json", json_object_get(res, "handoff"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(res, "outputs"), k, v) {
		/* An output is a file in DIR: never a path out of it, nor one of ours. */
		if (r || !fs_name_safe(k) || !strcmp(k, "result.json") ||
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
		o.runner, &cfg, print_event, NULL, o.part, o.item, o.item_results, o.retries };
	if (stage_exec(&rq, &res, &err)) {
		error_msg("%s", err);
		goto out;
	}
	const char *status = json_string_value(json_object_get(res, "status"));
	if (write_outputs(o.outputs, res, o.part))
		goto out;
	/* cancelled: it could not start (a dependency failed and halts the run); a list
	 * is always given (the gather reports a stage that failed before its items); an
	 * item's pod succeeds with its result, failed or not: Argo aggregates only the
	 * outputs of pods that succeeded (docs/argo.md) */
	rc = o.part == STAGE_EXEC_LIST || o.part == STAGE_EXEC_ITEM ||
	     !strcmp(status, "completed") ||
	     !strcmp(status, "skipped") || !strcmp(status, "none") ? EXIT_OK
	     : !strcmp(status, "failed") && json_is_true(json_object_get(res, "retryable"))
	     ? EXIT_FAIL : EXIT_PERMANENT;
out:
	json_decref(res);
	json_decref(o.upstream);
	json_decref(o.item_results);
	engine_config_release(&cfg);
	strbuf_release(&bundle);
	free(err);
	free(home);
	return rc;
}

const struct cmd stage_cmds[] = {
	{ "exec", stage_exec_cmd, "run one stage of a run orchestrated elsewhere", NULL },
	{ NULL, NULL, NULL, NULL },
};

int cmd_stage(int argc, char **argv)
{
	static const char usage[] =
		"usage: skillmeat stage COMMAND [ARGS]\n"
		"\n"
		"One stage of a run orchestrated elsewhere (docs/argo.md).\n";
	return run_subcommand("stage", usage, stage_cmds, argc, argv);
}
