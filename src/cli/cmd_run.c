/*
 * cmd_run.c - `skillmeat workflow run` and `workflow resume`: start or take
 * over a run and host it, in the foreground with a live view, or detached.
 */
#include "cli.h"
#include "run_view.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "collection/refs.h"
#include "engine/host.h"
#include "swdl/plan.h"
#include "engine/run_start.h"
#include "store/run_json.h"

#include <getopt.h>
#include <spawn.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>

extern char **environ;

static const char run_usage[] =
	"usage: skillmeat workflow run WORKFLOW [options]\n"
	"\n"
	"Run a workflow for real: agent stages go to an agent CLI (claude, codex,\n"
	"gemini or a runner from config.toml), command stages run their script.\n"
	"Every state change is recorded in $SKILLMEAT_HOME/workflow-runs.db first,\n"
	"so a run whose host died can be finished with `workflow resume RUN`.\n"
	"\n"
	"  -p, --param KEY=VALUE    set a parameter (coerced to its declared type)\n"
	"      --bind ROLE=TYPE:NAME  bind a role the workflow declares to an artifact\n"
	"                           (wins over the overrides file and the default)\n"
	"  -j, --max-parallel N     stages running at once (default 4)\n"
	"      --runner NAME        runner for agent stages that name none (default claude)\n"
	"      --workdir DIR        where command stages run (default: here)\n"
	"      --dry-run            check and plan, show the runners, run nothing\n"
	"      --detach             host the run in a background process; print its id\n"
	"                           once that process has taken the run\n"
	"      --no-overrides       ignore .skillmeat-workflow-overrides.*\n"
	"      --overrides-dir DIR  look for the overrides file from DIR up\n"
	"      --allow-extra-params accept parameters the workflow does not declare\n"
	"      --allow-missing      run even if artifacts are missing from the collection\n"
	"      --format FORMAT      text (default) or json (a summary at the end)\n"
	"  -h, --help               show this help\n"
	"\n"
	"On a terminal a live table shows each stage; otherwise one timestamped line\n"
	"an event.  Ctrl-C cancels the run cleanly (running stages are stopped).\n"
	"Exit status: 0 completed, 1 failed or could not start, 2 usage, 3 cancelled.\n";

static const char resume_usage[] =
	"usage: skillmeat workflow resume RUN [--detach] [--format FORMAT]\n"
	"\n"
	"Continue a run.  A paused run whose host is alive is told to go on; a run\n"
	"whose host died (killed, crashed, power loss) is taken over and finished\n"
	"here: completed stages are never run again; a stage that was running is\n"
	"adopted (its monitor kept it running: its log and result are followed and\n"
	"collected, never run twice), and only one whose process is gone without a\n"
	"recorded end (the machine restarted) runs again, at once, without using up\n"
	"a retry.  RUN may be a unique prefix of a run id, or `last`.\n"
	"\n"
	"      --detach             host the run in the background\n"
	"      --format FORMAT      text (default) or json (a summary at the end)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 completed, 1 failed, already ended or could not start,\n"
	"2 usage, 3 cancelled.\n";

struct run_opts {
	struct plan_param params[MAX_PARAMS];
	size_t nr_params;
	struct role_binding binds[MAX_PARAMS];
	size_t nr_binds;
	long max_parallel;
	const char *runner, *workdir, *overrides_dir, *path;
	bool dry_run, detach, no_overrides, allow_extra, allow_missing;
	enum output_format format;
};

enum { OPT_RUNNER = 256, OPT_WORKDIR, OPT_DRY_RUN, OPT_DETACH, OPT_NO_OVERRIDES,
       OPT_OVERRIDES_DIR, OPT_ALLOW_EXTRA, OPT_ALLOW_MISSING, OPT_FORMAT, OPT_READY_FD,
       OPT_BIND };

static void parse_run_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "param", required_argument, NULL, 'p' },
		{ "max-parallel", required_argument, NULL, 'j' },
		{ "runner", required_argument, NULL, OPT_RUNNER },
		{ "workdir", required_argument, NULL, OPT_WORKDIR },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "no-overrides", no_argument, NULL, OPT_NO_OVERRIDES },
		{ "overrides-dir", required_argument, NULL, OPT_OVERRIDES_DIR },
		{ "allow-extra-params", no_argument, NULL, OPT_ALLOW_EXTRA },
		{ "allow-missing", no_argument, NULL, OPT_ALLOW_MISSING },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "bind", required_argument, NULL, OPT_BIND },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	o->max_parallel = 4;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:j:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(run_usage, stdout);
			exit(EXIT_OK);
		case 'p':
			add_param_arg("workflow run", o->params, &o->nr_params, optarg);
			break;
		case 'j':
			o->max_parallel = strtol(optarg, &end, 10);
			if (*end || o->max_parallel < 1 || o->max_parallel > 256)
				die_usage("workflow run", "--max-parallel must be 1 to 256, got '%s'",
					  optarg);
			break;
		case OPT_RUNNER: o->runner = optarg; break;
		case OPT_WORKDIR: o->workdir = optarg; break;
		case OPT_DRY_RUN: o->dry_run = true; break;
		case OPT_DETACH: o->detach = true; break;
		case OPT_NO_OVERRIDES: o->no_overrides = true; break;
		case OPT_OVERRIDES_DIR: o->overrides_dir = optarg; break;
		case OPT_ALLOW_EXTRA: o->allow_extra = true; break;
		case OPT_ALLOW_MISSING: o->allow_missing = true; break;
		case OPT_FORMAT: o->format = parse_format("workflow run", optarg); break;
		case OPT_BIND: add_bind_arg("workflow run", o->binds, &o->nr_binds, optarg); break;
		default:
			die_bad_option("workflow run", longopts, argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		die_usage("workflow run", optind == argc ? "missing WORKFLOW"
			  : "unexpected argument '%s'", argv[optind + (optind < argc)]);
	o->path = argv[optind];
}

/* ---- hosting, shared by run and resume ---------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	UNUSED(sig);
	interrupted = 1;
}

static int exit_for(const char *status)
{
	return !strcmp(status, "completed") ? EXIT_OK : !strcmp(status, "cancelled") ? 3
									       : EXIT_FAIL;
}

/*
 * Detach: a new process (this program again, `workflow resume RUN
 * --host-ready-fd 3`) hosts the run in a session of its own, its output in
 * host.log.  Never a fork that keeps our SQLite connection: a connection
 * must not cross a fork (its locks stay behind, and the parent's close
 * would remove the WAL under the child).  We wait until it has taken the
 * run, so that `runs`, `logs` and `cancel` see a live host at once.
 */
static int detach_host(const char *home, const char *run_id)
{
	char *dir = xasprintf("%s/runs/%s", home, run_id), *log = path_join(dir, "host.log");
	const char *argv[] = { "skillmeat", "workflow", "resume", run_id, "--host-ready-fd", "3",
			       NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int fds[2] = { -1, -1 }, rc = -1;
	pid_t pid;
	char answer = 0;
	fs_mkdirs(dir);
	if (pipe2(fds, O_CLOEXEC)) {
		error_msg("cannot detach: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	int e = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(fds[1]);
	if (e) {
		error_msg("cannot detach: %s", strerror(e));
		goto out;
	}
	while (read(fds[0], &answer, 1) < 0 && errno == EINTR)
		;
	if (answer == '1') {
		printf("%s\n", run_id);
		rc = 1;
	} else {
		error_msg("the background host of run %s could not start; see %s", run_id, log);
	}
out:
	if (fds[0] >= 0)
		close(fds[0]);
	free(dir);
	free(log);
	return rc;
}

/* The detached host tells its parent that the run is now hosted. */
static void tell_ready(void *ctx, bool ok)
{
	int fd = *(int *)ctx;
	if (fd < 0)
		return;
	while (write(fd, ok ? "1" : "0", 1) < 0 && errno == EINTR)
		;
	close(fd);
	*(int *)ctx = -1;
}

/* $SKILLMEAT_HOME/config.toml: runners, prices, notifier (printing why not). */
int load_engine_config(const char *home, struct engine_config *cfg)
{
	char *err = NULL, *path = path_join(home, "config.toml");
	int r = engine_config_load(cfg, path, &err);
	if (r)
		error_msg("%s", err);
	free(err);
	free(path);
	return r;
}

int host_in_cli(struct store *st, const char *home, const struct engine_config *cfg,
		const char *run_id, bool detach, enum output_format format, int ready_fd)
{
	char *err = NULL, status[16];
	int rc = EXIT_FAIL;
	if (detach) {
		rc = detach_host(home, run_id) > 0 ? EXIT_OK : EXIT_FAIL;
		goto out;
	}
	struct run_view *view = run_view_new(st, run_id, ready_fd >= 0 ? stdout : stderr,
					     format == FORMAT_JSON);
	struct host_opts ho = { home, cfg, run_view_event, view, &interrupted, 0, 0, "cli",
				tell_ready, &ready_fd };
	struct sigaction sa = { 0 };
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int r = host_run(st, run_id, &ho, status, &err);
	run_view_finish(view, r ? NULL : status);
	char *summary = !r && format != FORMAT_JSON ? run_failure_summary(st, run_id) : NULL;
	if (summary)
		fprintf(stderr, "%s\n", summary);
	free(summary);
	if (r)
		error_msg("%s", err);
	else if (format == FORMAT_JSON)
		run_view_print_json(st, run_id);
	rc = r ? EXIT_FAIL : exit_for(status);
	run_view_free(view);
out:
	free(err);
	return rc;
}

/* Open the runs database of the SkillMeat home (printing why not). */
struct store *open_run_store(char **home_out)
{
	char *home = skillmeat_home(), *path = NULL, *err = NULL;
	struct store *st = NULL;
	if (!home) {
		error_msg("cannot find the SkillMeat home (set SKILLMEAT_HOME or HOME)");
		return NULL;
	}
	if (fs_mkdirs(home)) {
		error_msg("cannot create %s: %s", home, strerror(errno));
		goto out;
	}
	path = store_default_path(home);
	if (store_open(path, &st, &err))
		error_msg("%s", err);
out:
	free(path);
	free(err);
	if (st && home_out)
		*home_out = home;
	else
		free(home);
	return st;
}

static void show_dry_run(const struct swdl_loaded *l, json_t *params,
			 const struct run_opts *o)
{
	struct strbuf sb = STRBUF_INIT;
	swdl_plan_to_text(&sb, &l->wf, &l->dag, params, &l->po, NULL, NULL);
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	printf("\nRunners:\n");
	for (size_t i = 0; i < l->wf.nr_stages; i++) {
		const struct swdl_stage *s = &l->wf.stages[i];
		printf("  %-24s %s\n", s->id, s->type == STAGE_GATE ? "(gate: waits for approval)"
		       : swdl_stage_is_command(s) ? "command"
		       : s->runner ? s->runner : o->runner ? o->runner : "claude");
	}
	printf("\nDry run: nothing was started.\n");
}

/* Load, check and snapshot; then host the new run. */
static int start_run(const struct run_opts *o, const char *path)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct run_prepared p;
	struct store *st = NULL;
	struct engine_config cfg = { 0 };
	char *home = skillmeat_home(), *err = NULL, run_id[24];
	int rc = EXIT_FAIL;
	struct run_request rq = { home, path, o->params, o->nr_params, o->allow_extra,
		o->allow_missing, o->no_overrides, o->overrides_dir, o->workdir, o->runner,
		o->max_parallel, o->binds, o->nr_binds };
	if (!home) {
		error_msg("cannot find the SkillMeat home (set SKILLMEAT_HOME or HOME)");
		return EXIT_FAIL;
	}
	int r = run_prepare(&rq, &p, &dl, &err);
	diag_list_sort(&dl);
	const struct doc *docs[2] = { p.l ? p.l->doc : NULL, p.l ? p.l->overrides_doc : NULL };
	print_diags(&dl, docs, 2);
	if (r) {
		error_msg("%s", err);
		goto out;
	}
	if (dl.errors) {
		fprintf(stderr, "%s: cannot run: %zu error%s\n", path, dl.errors,
			dl.errors == 1 ? "" : "s");
		goto out;
	}
	if (o->dry_run) {
		show_dry_run(p.l, p.params, o);
		rc = EXIT_OK;
		goto out;
	}
	if (!(st = open_run_store(NULL)) || load_engine_config(home, &cfg))
		goto out;
	if (run_prepared_create(&rq, &p, st, &cfg, run_id, &err)) {
		error_msg("%s", err);
		goto out;
	}
	if (!o->detach && o->format != FORMAT_JSON)
		fprintf(stderr, "Run %s of %s (%zu stages, up to %ld at once)\n", run_id,
			p.l->wf.name, p.l->wf.nr_stages, o->max_parallel);
	rc = host_in_cli(st, home, &cfg, run_id, o->detach, o->format, -1);
out:
	run_prepared_release(&p);
	engine_config_release(&cfg);
	store_close(st);
	free(home);
	free(err);
	diag_list_release(&dl);
	return rc;
}

int cmd_workflow_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	parse_run_opts(argc, argv, &o);
	char *path = resolve_workflow_arg("workflow run", o.path);
	if (!path)
		return EXIT_FAIL;
	int rc = start_run(&o, path);
	free(path);
	return rc;
}

int cmd_workflow_resume(int argc, char **argv)
{
	bool detach = false;
	int ready_fd = -1;
	enum output_format format = FORMAT_TEXT;
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "host-ready-fd", required_argument, NULL, OPT_READY_FD }, /* internal: --detach */
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(resume_usage, stdout);
			return EXIT_OK;
		} else if (c == OPT_DETACH) {
			detach = true;
		} else if (c == OPT_FORMAT) {
			format = parse_format("workflow resume", optarg);
		} else if (c == OPT_READY_FD) {
			ready_fd = atoi(optarg);
		} else {
			die_bad_option("workflow resume", longopts, argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		die_usage("workflow resume", optind == argc ? "missing RUN" : "unexpected argument");
	char *home = NULL, *id = NULL, status[16];
	struct engine_config cfg = { 0 };
	struct store *st = open_run_store(&home);
	int rc = EXIT_FAIL;
	if (!st || !(id = resolve_run_id(st, argv[optind])) || store_run_status_get(st, id, status))
		goto out;
	if (store_status_final(status)) {
		error_msg("run %s has already ended (%s): nothing to resume", id, status);
		goto out;
	}
	/* Only a paused run is told to go on; any other resume just takes over. */
	bool paused = !strcmp(status, "paused");
	int alive = run_host_alive(st, id);
	if (alive > 0) {
		if (!paused)
			printf("Run %s is hosted by process %d and is not paused: nothing to do\n",
			       id, alive), rc = EXIT_OK;
		else if (store_command_add(st, id, "resume", NULL, NULL))
			error_msg("cannot post the command: %s", store_error(st));
		else
			printf("Run %s: asked its host (pid %d) to resume\n", id, alive), rc = EXIT_OK;
		goto out;
	}
	if (load_engine_config(home, &cfg))
		goto out;
	if (!paused || store_command_add(st, id, "resume", NULL, NULL) == SM_OK)
		rc = host_in_cli(st, home, &cfg, id, detach, format, ready_fd);
out: /* a detached parent that hears nothing before our exit reports the failure */
	engine_config_release(&cfg);
	store_close(st);
	free(home);
	free(id);
	return rc;
}
