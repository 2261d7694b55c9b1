/*
 * cmd_runs.c - looking at runs and steering them from any process:
 * `workflow runs`, `logs`, `approve`, `reject`, `cancel`, `pause`.
 * Steering posts a command row; the run's host applies it.
 */
#include "cli.h"
#include "run_view.h"
#include "base/duration.h"
#include "collection/collection.h"
#include "engine/handoff.h"
#include "supervise/supervise.h"
#include "base/numconv.h"
#include "base/termesc.h"

#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <time.h>
#include <signal.h>
#include <unistd.h>

static const char runs_usage[] =
	"usage: skillmeat workflow runs [RUN [--stage STAGE] [--logs]] [--workflow ID]\n"
	"                               [--status S] [--limit N] [--format FORMAT]\n"
	"\n"
	"Without RUN: the latest runs (newest first).  With RUN (an id, a unique\n"
	"prefix or `last`): its role bindings, stages, attempts, durations, outputs,\n"
	"errors, cost and tokens.  --stage STAGE: that stage alone, with its handoff\n"
	"record (what the stages after it received) and, for a fan-out, each item.\n"
	"--logs: each stage's log lines too (JSON: a `logs` list in each stage).\n"
	"Exit status 1 when RUN failed, was cancelled or is unknown.\n";

static const char logs_usage[] =
	"usage: skillmeat workflow logs RUN [STAGE] [--follow [--resume]] [--raw]\n"
	"                              [--format FORMAT]\n"
	"\n"
	"The run's events and log lines, oldest first.  --follow keeps printing\n"
	"until the run ends; if the run's host is gone it says so and exits 1\n"
	"(--resume: starts a new host, detached, and goes on following).\n"
	"--raw adds the raw protocol lines of agent runners.\n"
	"--format text (default), json (one document, {events: [...]}, printed when\n"
	"the run ends with --follow) or jsonl (one event a line, as they come).\n";

static const char control_usage[] =
	"usage: skillmeat workflow approve RUN [STAGE] [--yes]\n"
	"       skillmeat workflow reject RUN [STAGE] [--reason TEXT] [--yes]\n"
	"       skillmeat workflow cancel RUN [--yes]\n"
	"       skillmeat workflow pause RUN\n"
	"\n"
	"approve/reject decide a gate waiting for approval (STAGE: the first waiting\n"
	"one when omitted); a rejected gate fails and its on_failure applies.\n"
	"cancel stops running stages and starts nothing new (a run whose host is\n"
	"gone is taken over here long enough to stop what its host left running);\n"
	"pause lets running stages finish and starts nothing new until\n"
	"`workflow resume RUN`.  approve, reject and pause need the run's host\n"
	"alive: to a run whose host is gone they are refused (resume it first).\n"
	"On a terminal, approve, reject and cancel ask first unless --yes.\n";

enum { OPT_FORMAT = 256, OPT_WORKFLOW, OPT_STATUS, OPT_LIMIT, OPT_FOLLOW, OPT_RAW, OPT_REASON,
       OPT_YES, OPT_STAGE, OPT_LOGS };
enum { OPT_RESUME = 300 };

struct ropts {
	enum output_format format;
	const char *workflow, *status, *reason, *stage;
	long limit;
	bool follow, raw, yes, logs, jsonl, resume;
	const char *args[2];
	size_t nr_args;
};

static void parse(const char *cmd, const char *usage, int argc, char **argv, struct ropts *o,
		  size_t max_args)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "workflow", required_argument, NULL, OPT_WORKFLOW },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "logs", no_argument, NULL, OPT_LOGS },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	o->limit = 20;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hfy", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(usage, stdout); exit(EXIT_OK);
		case OPT_FORMAT:
			/* logs streams: JSON Lines is its own format, json stays one document */
			o->jsonl = !strcmp(cmd, "workflow logs") && !strcmp(optarg, "jsonl");
			if (!strcmp(cmd, "workflow logs") && !o->jsonl && strcmp(optarg, "text") &&
			    strcmp(optarg, "json"))
				die_usage(cmd, "--format must be text, json or jsonl, got '%s'", optarg);
			o->format = o->jsonl ? FORMAT_JSON : parse_format(cmd, optarg);
			break;
		case OPT_WORKFLOW: o->workflow = optarg; break;
		case OPT_STATUS: o->status = optarg; break;
		case OPT_LIMIT:
			o->limit = strtol(optarg, &end, 10);
			if (*end || o->limit < 1)
				die_usage(cmd, "--limit must be a positive number, got '%s'", optarg);
			break;
		case 'f': case OPT_FOLLOW: o->follow = true; break;
		case OPT_RAW: o->raw = true; break;
		case OPT_REASON: o->reason = optarg; break;
		case 'y': case OPT_YES: o->yes = true; break;
		case OPT_LOGS:
			if (strcmp(cmd, "workflow runs"))
				die_bad_option(cmd, longopts, argv[optind - 1]);
			o->logs = true;
			break;
		case OPT_RESUME:
			if (strcmp(cmd, "workflow logs"))
				die_bad_option(cmd, longopts, argv[optind - 1]);
			o->resume = true;
			break;
		case OPT_STAGE:
			if (strcmp(cmd, "workflow runs"))
				die_bad_option(cmd, longopts, argv[optind - 1]);
			o->stage = optarg;
			break;
		default: die_bad_option(cmd, longopts, argv[optind - 1]);
		}
	}
	while (optind < argc) {
		if (o->nr_args == max_args)
			die_usage(cmd, "unexpected argument '%s'", argv[optind]);
		o->args[o->nr_args++] = argv[optind++];
	}
}

/* ---- runs ---------------------------------------------------------------------------- */

/* A run that has not ended and whose host is gone (store_host_alive: its lease lock). */
static bool host_lost(struct store *st, const char *id, const char *status)
{
	return !store_status_final(status) && !store_host_alive(st, id);
}

/* A stored time, whatever its value (range-checked, numconv.h). */
static void fmt_time(double t, char *out, size_t n)
{
	time_t tt = num_to_time(t);
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, n, "-");
}

static int list_runs(struct store *st, const struct ropts *o)
{
	sqlite3_stmt *s;
	const char *sql = "SELECT r.id, r.workflow_id, r.status, r.created_at, r.started_at,"
		" r.finished_at, r.usd, r.tokens,"
		" (SELECT count(*) FROM stages WHERE run_id = r.id AND status IN"
		"  ('completed','reused','skipped')), (SELECT count(*) FROM stages WHERE run_id = r.id)"
		" FROM runs r WHERE (?1 IS NULL OR r.workflow_id = ?1 OR r.workflow_name = ?1)"
		" AND (?2 IS NULL OR r.status = ?2) ORDER BY r.created_at DESC LIMIT ?3";
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		error_msg("%s", store_error(st));
		return EXIT_FAIL;
	}
	if (o->workflow)
		sqlite3_bind_text(s, 1, o->workflow, -1, SQLITE_STATIC);
	if (o->status)
		sqlite3_bind_text(s, 2, o->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, o->limit);
	json_t *all = json_array();
	if (o->format == FORMAT_TEXT)
		printf("%-23s %-24s %-11s %-19s %8s %7s %9s\n", "RUN", "WORKFLOW", "STATUS",
		       "CREATED", "DURATION", "STAGES", "COST");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		const char *wf = (const char *)sqlite3_column_text(s, 1);
		const char *status = (const char *)sqlite3_column_text(s, 2);
		double created = sqlite3_column_double(s, 3), started = sqlite3_column_double(s, 4);
		double finished = sqlite3_column_double(s, 5);
		double dur = started > 0 ? (finished > 0 ? finished : store_now()) - started : 0;
		int done = sqlite3_column_int(s, 8), total = sqlite3_column_int(s, 9);
		bool lost = host_lost(st, id, status);
		if (o->format == FORMAT_JSON) {
			char at[40];
			time_rfc3339(created, at, sizeof(at));
			json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, "
				"s:f, s:I, s:b}", "id", id, "workflow_id", wf, "status", status,
				"created_at", at, "duration_ms", (json_int_t)llround(dur * 1000),
				"done_stage_count", done, "stage_count", total, "usd",
				sqlite3_column_double(s, 6), "tokens",
				(json_int_t)sqlite3_column_int64(s, 7), "host_lost", lost));
			continue;
		}
		char when[32], stages[16], shown[32];
		fmt_time(created, when, sizeof(when));
		snprintf(stages, sizeof(stages), "%d/%d", done, total);
		snprintf(shown, sizeof(shown), "%s%s", status, lost ? " (host lost)" : "");
		printf("%-23s %-24.24s %-11s %-19s %7.1fs %7s %9.4f\n", id, wf, shown, when, dur,
		       stages, sqlite3_column_double(s, 6));
	}
	sqlite3_finalize(s);
	if (o->format == FORMAT_JSON)
		print_json(all);
	json_decref(all);
	return EXIT_OK;
}

static double num(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* A time of the run's JSON (RFC 3339 UTC, "…T11:19:33.368Z") in seconds; 0 if unset. */
static double when_of(const json_t *o, const char *k)
{
	const char *t = json_string_value(json_object_get(o, k));
	struct tm tm = { 0 };
	const char *rest = t ? strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return 0;
	return (double)timegm(&tm) + (*rest == '.' ? strtod(rest, NULL) : 0);
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* "context: ctx:rules, 3 memory items, 712 of 2000 tokens" */
static void show_context(const json_t *m)
{
	size_t i, n = 0;
	const json_t *v;
	if (!json_is_object(m))
		return;
	printf("      context: ");
	json_array_foreach(json_object_get(m, "modules"), i, v)
		if (json_is_true(json_object_get(v, "included")))
			printf("%s%s", n++ ? ", " : "", str(v, "ref"));
	size_t items = json_array_size(json_object_get(m, "items"));
	printf("%s%zu memory item%s, %lld of %lld tokens\n", n ? "; " : "", items,
	       items == 1 ? "" : "s", (long long)json_integer_value(json_object_get(m, "tokens")),
	       (long long)json_integer_value(json_object_get(m, "budget")));
}

/* "runners: claude 2.1.3 (Claude Code), command /bin/sh" from the manifest. */
static void show_runners(const json_t *runners)
{
	const char *name;
	const json_t *r;
	const char *sep = "  runners: ";
	json_object_foreach((json_t *)runners, name, r) {
		const char *v = str(r, "version");
		printf("%s%s %s", sep, name, *v ? v : str(r, "program"));
		sep = ", ";
	}
	if (json_object_size(runners))
		printf("\n");
}

/* "      items: 5 (3 completed, 1 failed, 1 running)" for a fan-out. */
static void show_item_counts(const json_t *items)
{
	static const char *const states[] = { "completed", "failed", "running", "retry_wait",
		"pending", "cancelled" };
	if (!json_is_array(items))
		return;
	printf("      items: %zu", json_array_size(items));
	const char *sep = " (";
	for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
		size_t n = 0, i;
		const json_t *it;
		json_array_foreach(items, i, it)
			n += !strcmp(str(it, "status"), states[k]);
		if (n) {
			printf("%s%zu %s", sep, n, states[k]);
			sep = ", ";
		}
	}
	printf("%s\n", strcmp(sep, " (") ? ")" : "");
}

/* "  roles: reviewer = agent:x (--bind), ..." from the manifest. */
static void show_bindings(const json_t *bindings)
{
	const char *name;
	const json_t *b;
	const char *sep = "  roles: ";
	json_object_foreach((json_t *)bindings, name, b) {
		printf("%s%s = %s (%s%s%s)", sep, name, str(b, "artifact"), str(b, "source"),
		       *str(b, "file") ? " " : "", str(b, "file"));
		sep = ", ";
	}
	if (json_object_size(bindings))
		printf("\n");
}

/* `runs RUN --logs`: a stage's log lines, "#attempt | text". */
static void show_logs(const json_t *logs)
{
	size_t i;
	const json_t *l;
	if (json_is_array(logs) && !json_array_size(logs))
		printf("      logs: (none)\n");
	json_array_foreach(logs, i, l)
		printf("      #%lld | %s\n", (long long)json_integer_value(json_object_get(l, "attempt")),
		       str(l, "text"));
}

static void show_run_text(const json_t *run)
{
	char when[32];
	fmt_time(when_of(run, "created_at"), when, sizeof(when));
	bool lost = json_is_true(json_object_get(run, "host_lost"));
	printf("Run %s: %s (%s%s)\n", str(run, "id"), str(run, "workflow_name"), str(run, "status"),
	       lost ? " (host lost)" : "");
	if (lost)
		printf("  its host is gone: run `skillmeat workflow resume %s`\n", str(run, "id"));
	printf("  created %s  workdir %s\n", when, str(run, "workdir"));
	if (*str(run, "error"))
		printf("  error: %s\n", term_esc(str(run, "error")));
	if (*str(run, "rerun_of"))
		printf("  re-run of %s\n", str(run, "rerun_of"));
	size_t k;
	const json_t *x;
	json_array_foreach(json_object_get(run, "reruns"), k, x)
		printf("  re-run by %s\n", json_string_value(x));
	printf("  cost $%.4f, %lld tokens\n", num(run, "usd"),
	       (long long)json_integer_value(json_object_get(run, "tokens")));
	char *cg = attempt_cgroup_base(); /* each attempt's "monitor" file says which it had */
	printf("  containment here: %s%s%s\n", cg ? "cgroup v2, a cgroup per attempt below " :
	       "subreaper (no cgroup v2 to write to): the monitor kills every descendant, its "
	       "session and group", cg ? cg : "", cg ? " (cgroup.kill)" : "");
	free(cg);
	show_runners(json_object_get(json_object_get(run, "manifest"), "runners"));
	show_bindings(json_object_get(json_object_get(run, "manifest"), "bindings"));
	printf("\nStages:\n");
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(run, "stages"), i, s) {
		double st = when_of(s, "started_at"), fin = when_of(s, "finished_at");
		printf("  %-24s %-21s attempt %lld", str(s, "stage_id"), str(s, "status"),
		       (long long)json_integer_value(json_object_get(s, "attempt")));
		if (st > 0 && fin > 0)
			printf("  %.1fs", fin - st);
		printf("\n");
		if (*str(s, "error"))
			printf("      error (%s): %s\n", str(s, "error_class"), term_esc(str(s, "error")));
		if (*str(s, "reused_from"))
			printf("      reused from run %s\n", str(s, "reused_from"));
		show_context(json_object_get(s, "context"));
		show_item_counts(json_object_get(s, "item_states"));
		show_logs(json_object_get(s, "logs"));
		const json_t *outs = json_object_get(s, "outputs");
		if (json_object_size(outs)) {
			char *t = json_dumps(outs, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
			printf("      outputs: %.200s%s\n", term_esc(t), strlen(t) > 200 ? "..." : "");
			free(t);
		}
	}
	printf("\nAttempts:\n");
	json_array_foreach(json_object_get(run, "attempts"), i, s) {
		const json_t *code = json_object_get(s, "exit_code");
		char exit_text[16] = "-";
		if (json_is_integer(code))
			snprintf(exit_text, sizeof(exit_text), "%lld",
				 (long long)json_integer_value(code));
		char name[96]; /* a fan-out item's attempt: "stage[item]" */
		if (json_is_integer(json_object_get(s, "item")))
			snprintf(name, sizeof(name), "%s[%lld]", str(s, "stage_id"),
				 (long long)json_integer_value(json_object_get(s, "item")));
		else
			snprintf(name, sizeof(name), "%s", str(s, "stage_id"));
		printf("  %-24s #%lld %-9s %-8s exit %-4s $%.4f %lld+%lld tokens%s%s\n", name,
		       (long long)json_integer_value(json_object_get(s, "attempt")),
		       str(s, "status"), str(s, "runner"), exit_text, num(s, "usd"),
		       (long long)json_integer_value(json_object_get(s, "input_tokens")),
		       (long long)json_integer_value(json_object_get(s, "output_tokens")),
		       *str(s, "error_class") ? "  " : "", str(s, "error_class"));
	}
}

/* One stage of a run: its state, its items, its handoff (as the next stages read it). */
static void show_stage_text(const json_t *run, const json_t *s)
{
	printf("Stage %s (%s) of run %s: %s, %lld attempt%s\n", str(s, "stage_id"), str(s, "name"),
	       str(run, "id"), str(s, "status"),
	       (long long)json_integer_value(json_object_get(s, "attempt")),
	       json_integer_value(json_object_get(s, "attempt")) == 1 ? "" : "s");
	if (*str(s, "error"))
		printf("  error (%s): %s\n", str(s, "error_class"), term_esc(str(s, "error")));
	show_logs(json_object_get(s, "logs"));
	size_t i;
	const json_t *it;
	json_array_foreach(json_object_get(s, "item_states"), i, it) {
		char *item = json_dumps(json_array_get(json_object_get(s, "items"), i),
					JSON_COMPACT | JSON_ENCODE_ANY);
		printf("  item %-4zu %-10s tries %lld  %.60s%s%s\n", i, str(it, "status"),
		       (long long)json_integer_value(json_object_get(it, "tries")), item ? item : "",
		       *str(it, "error_class") ? "  " : "", str(it, "error_class"));
		free(item);
	}
	const json_t *h = json_object_get(s, "handoff");
	if (!json_is_object(h)) {
		const char *st = str(s, "status");
		if (!strcmp(str(s, "type"), "gate"))
			printf("  no handoff (a gate leaves none: it passes no outputs on)\n");
		else if (!strcmp(st, "skipped") || !strcmp(st, "cancelled"))
			printf("  no handoff (the stage was %s)\n", st);
		else if (!strcmp(st, "completed") || !strcmp(st, "failed"))
			printf("  no handoff recorded\n");
		else
			printf("  no handoff yet (the stage has not ended)\n");
		return;
	}
	struct strbuf sb = STRBUF_INIT;
	handoff_render(&sb, h, HANDOFF_MARKDOWN, (size_t)-1);
	struct strbuf shown = STRBUF_INIT; /* an agent wrote it: lines kept, controls escaped */
	term_escape(&shown, sb.buf, sb.len, TERM_KEEP_LINES);
	printf("\n%s", shown.buf);
	strbuf_release(&shown);
	strbuf_release(&sb);
}

static const json_t *find_stage(const json_t *run, const char *id)
{
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(run, "stages"), i, s)
		if (!strcmp(str(s, "stage_id"), id))
			return s;
	return NULL;
}

/* Each stage's log lines as a "logs" list: [{seq, attempt, item?, text}]. */
static void attach_logs(struct store *st, json_t *run)
{
	sqlite3_stmt *s;
	size_t i;
	json_t *stage;
	json_array_foreach(json_object_get(run, "stages"), i, stage)
		json_object_set_new(stage, "logs", json_array());
	if (sqlite3_prepare_v2(store_db(st), "SELECT seq, stage_id, attempt, data FROM events"
			       " WHERE run_id = ?1 AND type = 'log' ORDER BY seq", -1, &s,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(s, 1, str(run, "id"), -1, SQLITE_TRANSIENT);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *sid = (const char *)sqlite3_column_text(s, 1);
		json_t *stg = sid ? (json_t *)find_stage(run, sid) : NULL;
		json_t *data = json_loads((const char *)sqlite3_column_text(s, 3), 0, NULL);
		if (stg)
			json_array_append_new(json_object_get(stg, "logs"), json_pack("{s:I, s:i, s:O?, "
				"s:s}", "seq", (json_int_t)sqlite3_column_int64(s, 0), "attempt",
				sqlite3_column_int(s, 2), "item", json_object_get(data, "item"),
				"text", str(data, "text")));
		json_decref(data);
	}
	sqlite3_finalize(s);
}

static int show_run(const json_t *run, const struct ropts *o)
{
	const json_t *s = o->stage ? find_stage(run, o->stage) : NULL;
	if (o->stage && !s) {
		error_msg("run %s has no stage '%s'", str(run, "id"), o->stage);
		return EXIT_FAIL;
	}
	if (s && o->format == FORMAT_JSON)
		print_json((json_t *)s);
	else if (s)
		show_stage_text(run, s);
	else if (o->format == FORMAT_JSON)
		print_json((json_t *)run);
	else
		show_run_text(run);
	const char *status = str(s ? s : run, "status");
	return strcmp(status, "failed") && strcmp(status, "cancelled") ? EXIT_OK : EXIT_FAIL;
}

int cmd_workflow_runs(int argc, char **argv)
{
	struct ropts o = { 0 };
	parse("workflow runs", runs_usage, argc, argv, &o, 1);
	if (o.stage && !o.nr_args)
		die_usage("workflow runs", "--stage needs RUN");
	if (o.logs && !o.nr_args)
		die_usage("workflow runs", "--logs needs RUN");
	struct store *st = open_run_store(NULL);
	if (!st)
		return EXIT_FAIL;
	int rc = EXIT_FAIL;
	if (!o.nr_args) {
		rc = list_runs(st, &o);
	} else {
		char *id = resolve_run_id(st, o.args[0]);
		json_t *run = id ? run_details_json(st, id) : NULL;
		if (run && o.logs)
			attach_logs(st, run);
		if (run && host_lost(st, id, str(run, "status")))
			json_object_set_new(run, "host_lost", json_true());
		if (run)
			rc = show_run(run, &o);
		json_decref(run);
		free(id);
	}
	store_close(st);
	return rc;
}

/* ---- logs ------------------------------------------------------------------------------ */

static const char SQL_EVENTS[] =
	"SELECT seq, ts, type, stage_id, attempt, data FROM events WHERE run_id = ?1"
	" AND seq >= ?2 AND (?3 IS NULL OR stage_id = ?3) ORDER BY seq";

/* Print events from *next on (JSON: added to `all`, or printed a line each for
 * jsonl); returns SM_OK, updating *next. */
static int print_events(struct store *st, const char *id, const struct ropts *o, int64_t *next,
			json_t *all)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(store_db(st), SQL_EVENTS, -1, &s, NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, *next);
	if (o->nr_args > 1)
		sqlite3_bind_text(s, 3, o->args[1], -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		*next = sqlite3_column_int64(s, 0) + 1;
		const char *type = (const char *)sqlite3_column_text(s, 2);
		if (!strcmp(type, "output") && !o->raw)
			continue;
		if (o->format == FORMAT_JSON) {
			char at[40];
			time_rfc3339(sqlite3_column_double(s, 1), at, sizeof(at));
			json_t *e = json_pack("{s:I, s:s, s:s, s:s?, s:i, s:o*}", "seq",
				(json_int_t)sqlite3_column_int64(s, 0), "at", at, "type", type,
				"stage_id", (const char *)sqlite3_column_text(s, 3), "attempt",
				sqlite3_column_int(s, 4), "data",
				json_loads((const char *)sqlite3_column_text(s, 5), 0, NULL));
			if (!o->jsonl) {
				json_array_append_new(all, e);
				continue;
			}
			char *line = json_dumps(e, JSON_COMPACT | JSON_REAL_PRECISION(15));
			printf("%s\n", line);
			free(line);
			json_decref(e);
			continue;
		}
		char when[32];
		fmt_time(sqlite3_column_double(s, 1), when, sizeof(when));
		const char *stage = (const char *)sqlite3_column_text(s, 3);
		json_t *data = json_loads((const char *)sqlite3_column_text(s, 5), 0, NULL);
		if (!strcmp(type, "log") || !strcmp(type, "output")) {
			/* An agent's output: shown, never obeyed by the terminal. */
			printf("%s %s#%d %s| %s\n", when, term_esc(stage), sqlite3_column_int(s, 4),
			       !strcmp(type, "output") ? "raw " : "", term_esc(str(data, "text")));
		} else {
			char *d = json_object_size(data)
				  ? json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
			printf("%s %s%s%s%s%s\n", when, term_esc(type), stage ? " " : "",
			       stage ? term_esc(stage) : "", d ? " " : "", d ? term_esc(d) : "");
			free(d);
		}
		json_decref(data);
	}
	sqlite3_finalize(s);
	fflush(stdout);
	return SM_OK;
}

/* Has the run ended?  (Polled by --follow: one small query.) */
static bool run_final(struct store *st, const char *id)
{
	char status[16];
	return !store_run_status_get(st, id, status) && store_status_final(status);
}

/*
 * --follow of a run whose host is gone: say so (exit 1), or with --resume
 * start a detached host and go on.  The end is read again first: a host
 * that just finished has let go of its lease after its last commit.
 */
static int follow_hostless(struct store *st, const char *id, const struct ropts *o,
			   bool *resumed)
{
	if (run_final(st, id) || store_host_alive(st, id))
		return SM_OK;
	if (o->resume && !*resumed) {
		char *home = skillmeat_home();
		struct engine_config cfg = { 0 };
		/* --detach prints the run's id: not part of a log */
		fflush(stdout);
		int saved = dup(1), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 1);
		int rc = home ? host_in_cli(st, home, &cfg, id, true, FORMAT_TEXT, -1) : EXIT_FAIL;
		fflush(stdout);
		if (saved >= 0)
			dup2(saved, 1);
		if (saved >= 0)
			close(saved);
		if (null >= 0)
			close(null);
		free(home);
		*resumed = true;
		if (rc == EXIT_OK) {
			fprintf(stderr, "Run %s: its host was gone; resumed it in the background\n", id);
			return SM_OK;
		}
	}
	error_msg("run %s: its host is gone: run `skillmeat workflow resume %s`", id, id);
	return SM_ERR;
}

int cmd_workflow_logs(int argc, char **argv)
{
	struct ropts o = { 0 };
	parse("workflow logs", logs_usage, argc, argv, &o, 2);
	if (!o.nr_args)
		die_usage("workflow logs", "missing RUN");
	if (o.resume && !o.follow)
		die_usage("workflow logs", "--resume goes with --follow");
	struct store *st = open_run_store(NULL);
	char *id = st ? resolve_run_id(st, o.args[0]) : NULL;
	int64_t next = 0;
	int rc = id ? EXIT_OK : EXIT_FAIL;
	json_t *all = json_array();
	bool resumed = false;
	while (id) {
		bool final = run_final(st, id); /* before reading: no event is missed */
		if (print_events(st, id, &o, &next, all)) {
			rc = EXIT_FAIL;
			break;
		}
		if (!o.follow || final)
			break;
		if (follow_hostless(st, id, &o, &resumed)) {
			print_events(st, id, &o, &next, all);
			rc = EXIT_FAIL;
			break;
		}
		usleep(200 * 1000);
	}
	if (id && !rc && o.format == FORMAT_JSON && !o.jsonl)
		print_json_new(json_pack("{s:s, s:o}", "run_id", id, "events", json_incref(all)));
	json_decref(all);
	free(id);
	store_close(st);
	return rc;
}

/* ---- steering ----------------------------------------------------------------------------- */

static bool confirm(const char *question, bool yes)
{
	if (yes || !isatty(0))
		return true;
	fprintf(stderr, "%s [y/N] ", question);
	char line[16];
	return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

/* The first stage waiting for approval (or check that `want` is waiting). */
static char *waiting_gate(struct store *st, const char *id, const char *want)
{
	sqlite3_stmt *s;
	char *found = NULL;
	/* a gate whose decision is posted but not yet applied is decided already */
	if (sqlite3_prepare_v2(store_db(st), "SELECT stage_id FROM stages g WHERE run_id = ?1 AND"
			       " status = 'waiting_for_approval' AND (?2 IS NULL OR stage_id = ?2)"
			       " AND NOT EXISTS (SELECT 1 FROM commands c WHERE c.run_id = ?1 AND"
			       "  c.stage_id = g.stage_id AND c.kind IN ('approve', 'reject') AND"
			       "  c.taken_at IS NULL)"
			       " ORDER BY idx LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (want)
		sqlite3_bind_text(s, 2, want, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		found = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return found;
}

/* The decision already posted for a gate and not yet applied ("reject"), or NULL. */
static char *pending_decision(struct store *st, const char *id, const char *stage)
{
	sqlite3_stmt *s;
	char *kind = NULL;
	if (sqlite3_prepare_v2(store_db(st), "SELECT kind FROM commands WHERE run_id = ?1 AND"
			       " stage_id = ?2 AND kind IN ('approve', 'reject') AND taken_at IS NULL"
			       " ORDER BY id LIMIT 1", -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stage, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		kind = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return kind;
}

/*
 * Cancel a run whose host is gone: host it here just long enough for the
 * posted cancel to stop what its dead host left running (monitors live on).
 */
static int cancel_hostless(struct store *st, const char *id)
{
	char *home = skillmeat_home();
	struct engine_config cfg = { 0 };
	int rc = EXIT_FAIL;
	printf("Run %s has no live host: stopping it here\n", id);
	fflush(stdout);
	if (home && !load_engine_config(home, &cfg)) {
		rc = host_in_cli(st, home, &cfg, id, false, FORMAT_TEXT, -1);
		rc = rc == 3 ? EXIT_OK : rc; /* cancelled, as asked */
	}
	engine_config_release(&cfg);
	free(home);
	return rc;
}

/*
 * Only a live host takes commands: to a run whose host is gone a pause or
 * a gate decision is refused, not stored (a later resume would apply it
 * unasked); a cancel takes the run over here to stop it.
 */
static int post(struct store *st, const char *id, const char *kind, const char *stage,
		const char *reason)
{
	int host = run_host_alive(st, id);
	if (!host && strcmp(kind, "cancel")) {
		error_msg("run %s: its host is gone: run `skillmeat workflow resume %s`", id, id);
		return EXIT_FAIL;
	}
	if (store_command_add(st, id, kind, stage, reason)) {
		error_msg("cannot post the command: %s", store_error(st));
		return EXIT_FAIL;
	}
	if (!host)
		return cancel_hostless(st, id);
	printf("Run %s: %s%s%s sent to its host (pid %d)\n", id, kind, stage ? " " : "",
	       stage ? stage : "", host);
	return EXIT_OK;
}

static int control(const char *cmd, int argc, char **argv)
{
	struct ropts o = { 0 };
	bool gate = !strcmp(cmd, "approve") || !strcmp(cmd, "reject");
	char name[32];
	snprintf(name, sizeof(name), "workflow %s", cmd);
	parse(name, control_usage, argc, argv, &o, gate ? 2 : 1);
	if (!o.nr_args)
		die_usage(name, "missing RUN");
	struct store *st = open_run_store(NULL);
	char *id = st ? resolve_run_id(st, o.args[0]) : NULL, *stage = NULL;
	int rc = EXIT_FAIL;
	if (!id)
		goto out;
	if (run_final(st, id)) {
		error_msg("run %s has already ended", id);
		goto out;
	}
	char *decided = gate && o.nr_args > 1 ? pending_decision(st, id, o.args[1]) : NULL;
	if (decided) {
		error_msg("gate '%s' of run %s is already decided (%s%s, posted; its host applies "
			  "it)", o.args[1], id, decided, !strcmp(decided, "reject") ? "ed" : "d");
		free(decided);
		goto out;
	}
	if (gate && !(stage = waiting_gate(st, id, o.nr_args > 1 ? o.args[1] : NULL))) {
		error_msg(o.nr_args > 1 ? "stage '%s' of run %s is not waiting for approval"
				       : "no gate of run %s is waiting for approval (one already "
					 "decided is not)", o.nr_args > 1 ? o.args[1] : id, id);
		goto out;
	}
	char q[256];
	snprintf(q, sizeof(q), "%s %s%s of run %s?", cmd, stage ? "gate " : "", stage ? stage : "",
		 id);
	if (strcmp(cmd, "pause") && !confirm(q, o.yes)) {
		printf("Nothing done.\n");
		rc = EXIT_OK;
		goto out;
	}
	rc = post(st, id, cmd, stage, o.reason);
out:
	free(stage);
	free(id);
	store_close(st);
	return rc;
}

int cmd_workflow_approve(int argc, char **argv) { return control("approve", argc, argv); }
int cmd_workflow_reject(int argc, char **argv) { return control("reject", argc, argv); }
int cmd_workflow_cancel(int argc, char **argv) { return control("cancel", argc, argv); }
int cmd_workflow_pause(int argc, char **argv) { return control("pause", argc, argv); }
