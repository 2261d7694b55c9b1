/*
 * host.c - the loop that hosts a run (see host.h): restoring its state,
 * applying the scheduler's actions, starting and finishing attempts,
 * commands from other processes, hooks, the lease.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "../supervise/supervise.h"
#include "../base/fsutil.h"
#include "../base/numconv.h"
#include "../swdl/expr.h"

#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

/* Longest wait of one loop turn: commands are picked up at least this often. */
#define POLL_MS 200
#define HEARTBEAT_S 2.0
/* Without a pidfd to wake on, how often an attempt's end is looked for. */
#define NO_PIDFD_POLL_MS 20

/* ---- loading the snapshot and restoring the state ------------------------------- */

static int load_run_row(struct host *h, sqlite3_stmt *s, char **err)
{
	struct diag_list dl = DIAG_LIST_INIT;
	const char *snap = (const char *)sqlite3_column_text(s, 0);
	json_t *j = snap ? json_loads(snap, 0, NULL) : NULL;
	json_t *wf = json_object_get(j, "workflow");
	char *text = wf ? json_dumps(wf, JSON_COMPACT) : NULL;
	int r = SM_ERR;
	if (!text) {
		*err = xstrdup("the run's snapshot is damaged");
		goto out;
	}
	struct role_binding *binds = NULL;
	size_t nr_binds = 0;
	if (role_bindings_from_json(json_object_get(j, "bindings"), &binds, &nr_binds)) {
		*err = xstrdup("the run's snapshot has damaged role bindings");
		free(binds);
		goto out;
	}
	struct swdl_load_opts lo = { .bind_roles = true, .bindings = binds,
		.nr_bindings = nr_binds };
	swdl_load_buffer("snapshot.json", text, strlen(text), DOC_JSON, &lo, &h->l, &dl);
	free(binds);
	if (dl.errors || !h->l->dag.acyclic) {
		*err = xasprintf("the run's snapshot does not validate (%s)",
				 dl.nr ? dl.items[0].message : "cycle");
		goto out;
	}
	h->wf = &h->l->wf;
	h->artifacts = json_incref(json_object_get(j, "artifacts"));
	h->packs = json_incref(json_object_get(j, "packs"));
	h->params = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
	h->workdir = xstrdup((const char *)sqlite3_column_text(s, 2));
	const unsigned char *runner = sqlite3_column_text(s, 3);
	h->runner = xstrdup(runner ? (const char *)runner : "claude");
	r = SM_OK;
out:
	free(text);
	json_decref(j);
	diag_list_release(&dl);
	return r;
}

static void build_ctx(struct host *h, double started_at)
{
	const struct swdl_workflow *wf = h->wf;
	h->stage_ctx = json_object();
	for (size_t i = 0; i < wf->nr_stages; i++)
		json_object_set_new(h->stage_ctx, wf->stages[i].id,
				    json_pack("{s:s, s:{}}", "status", "pending", "outputs"));
	h->ctx = json_pack("{s:O, s:O, s:{}, s:{}, s:{s:s, s:s, s:s, s:f}, s:{s:s, s:s, s:s?}}",
			   "parameters", h->params, "stages", h->stage_ctx, "context", "env",
			   "run", "id", h->run_id, "execution_id", h->run_id, "workdir", h->workdir,
			   "started_at", started_at, "workflow", "id", wf->id, "name", wf->name,
			   "version", wf->version);
	json_decref(h->stage_ctx);
	json_t *roles = json_object(); /* ${{ roles.NAME }}: the artifact bound to it */
	for (size_t i = 0; i < wf->nr_roles; i++)
		if (wf->roles[i].bound)
			json_object_set_new(roles, wf->roles[i].name, json_string(wf->roles[i].bound));
	json_object_set_new(h->ctx, "roles", roles);
	/* config.env: values may use parameters (and run, workflow). */
	json_t *env = json_object_get(h->ctx, "env");
	for (size_t i = 0; i < wf->nr_env; i++) {
		char *err = NULL, *text = host_render_text(h, wf->env_values[i], &err);
		if (text)
			json_object_set_new(env, wf->env_keys[i], json_string(text));
		free(text);
		free(err);
	}
}

static const char SQL_STAGES[] =
	"SELECT s.stage_id, s.status, s.attempt, s.ready_at, s.deadline, s.error_class,"
	" s.outputs, a.runner, a.started_at, a.out_off, a.err_off,"
	" (SELECT count(*) FROM attempts x WHERE x.run_id = s.run_id AND x.stage_id = s.stage_id"
	"  AND x.error_class = 'host_lost'), s.items, s.handoff"
	" FROM stages s LEFT JOIN attempts a ON a.run_id = s.run_id"
	" AND a.stage_id = s.stage_id AND a.attempt = s.attempt WHERE s.run_id = ?1 ORDER BY s.idx";

/* The stages' states; the attempts that were running go to `ads` (*nr of them). */
static int restore_stages(struct host *h, struct adoptee *ads, size_t *nr)
{
	sqlite3_stmt *s;
	*nr = 0;
	if (sqlite3_prepare_v2(store_db(h->st), SQL_STAGES, -1, &s, NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, h->run_id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		long i = swdl_stage_find(h->wf, (const char *)sqlite3_column_text(s, 0));
		int state = stage_state_from_name((const char *)sqlite3_column_text(s, 1));
		if (i < 0 || state < 0)
			continue;
		const char *cls = (const char *)sqlite3_column_text(s, 5);
		int attempt = sqlite3_column_int(s, 2);
		sched_restore(&h->sched, (size_t)i, (enum stage_state)state, (unsigned)attempt,
			      num_to_i64(sqlite3_column_double(s, 3)),
			      num_to_i64(sqlite3_column_double(s, 4)),
			      cls ? arena_strdup(&h->scratch, cls) : NULL);
		h->sched.st[i].lost = (unsigned)sqlite3_column_int(s, 11);
		const char *outs = (const char *)sqlite3_column_text(s, 6);
		json_t *o = outs ? json_loads(outs, 0, NULL) : NULL;
		host_ctx_stage(h, (size_t)i, stage_state_name((enum stage_state)state), o);
		json_decref(o);
		host_handoff_restore(h, (size_t)i, (const char *)sqlite3_column_text(s, 13));
		if (h->wf->stages[i].type == STAGE_FAN_OUT) {
			if (state == STAGE_RUNNING && host_fan_out_restore(h, (size_t)i,
					(const char *)sqlite3_column_text(s, 12), ads, nr))
				sched_restore(&h->sched, (size_t)i, STAGE_PENDING, 0, 0, 0, NULL);
			continue;
		}
		if (state == STAGE_RUNNING && *nr < h->nr_slots) {
			const char *runner = (const char *)sqlite3_column_text(s, 7);
			ads[(*nr)++] = (struct adoptee){ (size_t)i, -1, attempt,
				runner ? arena_strdup(&h->scratch, runner) : NULL,
				sqlite3_column_double(s, 8), sqlite3_column_int64(s, 9),
				sqlite3_column_int64(s, 10) };
		}
	}
	sqlite3_finalize(s);
	return SM_OK;
}

static const char SQL_RUN[] =
	"SELECT snapshot, parameters, workdir, runner, status, error, started_at, max_parallel,"
	" usd, tokens FROM runs WHERE id = ?1";

static int restore(struct host *h, char **err)
{
	sqlite3_stmt *s;
	int r = SM_ERR;
	if (sqlite3_prepare_v2(store_db(h->st), SQL_RUN, -1, &s, NULL) != SQLITE_OK) {
		*err = xstrdup(store_error(h->st));
		return SM_EIO;
	}
	sqlite3_bind_text(s, 1, h->run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		*err = xasprintf("no run '%s'", h->run_id);
		goto out;
	}
	if (load_run_row(h, s, err))
		goto out;
	h->fan_items = xcalloc(h->wf->nr_stages + 1, sizeof(*h->fan_items));
	h->fan_outputs = xcalloc(h->wf->nr_stages + 1, sizeof(*h->fan_outputs));
	h->handoffs = json_object();
	h->fresh = sqlite3_column_type(s, 6) == SQLITE_NULL; /* no host has started it */
	double started = h->fresh ? store_now() : sqlite3_column_double(s, 6);
	h->usd = sqlite3_column_double(s, 8);
	h->tokens = sqlite3_column_int64(s, 9);
	build_ctx(h, started);
	sched_init(&h->sched, h->wf, &h->l->dag, (size_t)sqlite3_column_int(s, 7),
		   (int64_t)started, NULL, NULL);
	h->sched.rate_limit_retries = h->o->config->rate_limit_retries;
	h->sched.rate_limit_max_wait = h->o->config->rate_limit_max_wait_s;
	int run = run_state_from_name((const char *)sqlite3_column_text(s, 4));
	if (run >= 0)
		h->sched.run = (enum run_state)run;
	const unsigned char *e = sqlite3_column_text(s, 5);
	h->sched.fail_reason = e ? arena_strdup(&h->scratch, (const char *)e) : NULL;
	r = SM_OK;
out:
	sqlite3_finalize(s);
	return r;
}

/* ---- expressions at run time ------------------------------------------------------ */

static int eval_condition(void *ctx, const struct swdl_stage *s, bool *result)
{
	struct host *h = ctx;
	struct expr *e;
	size_t off;
	struct expr_error pe;
	if (expr_parse_condition(&h->scratch, s->condition, &e, &off, &pe))
		return SM_ERR;
	char *err = NULL;
	json_t *v = expr_eval(e, h->ctx, &err);
	if (!v) {
		host_event(h, "condition_error", s->id, 0, json_pack("{s:s}", "error", err));
		free(err);
		return SM_ERR;
	}
	*result = expr_truthy(v);
	json_decref(v);
	return SM_OK;
}

/* ---- applying the scheduler's actions ------------------------------------------------ */

static json_t *gate_event(struct host *h, const struct swdl_stage *s)
{
	json_t *approvers = json_array();
	char *msg = NULL, *err = NULL;
	for (size_t i = 0; s->gate && i < s->gate->approvers.nr; i++)
		json_array_append_new(approvers, json_string(s->gate->approvers.v[i]));
	if (s->gate && s->gate->message && !(msg = host_render_text(h, s->gate->message, &err))) {
		msg = xasprintf("%s (could not interpolate: %s)", s->gate->message, err);
		free(err);
	}
	json_t *j = json_pack("{s:o, s:s?, s:o}", "approvers", approvers, "message", msg,
			      "timeout_at", host_json_time(h->sched.st[s->index].deadline));
	free(msg);
	return j;
}

/* Write one action; starts and kills are carried out after the commit. */
static void persist_action(struct host *h, const struct sched_action *a,
			   struct start *starts, size_t *nr_starts)
{
	const char *id = host_stage_id(h, a->stage);
	const struct swdl_stage *s = &h->wf->stages[a->stage];
	switch (a->kind) {
	case SA_START:
		if (a->item < 0) {
			host_persist_stage(h, a->stage, NULL, NULL);
			host_ctx_stage(h, a->stage, "running", NULL);
		} else {
			host_persist_item(h, a->stage, (size_t)a->item, NULL, NULL);
			host_persist_stage(h, a->stage, NULL, NULL); /* its attempt count */
		}
		store_attempt_start(h->st, h->run_id, id, (int)a->attempt, a->item,
				    host_runner_of(h, s), NULL);
		host_event(h, a->item < 0 ? "stage_started" : "item_started", id, (int)a->attempt,
		      json_pack("{s:s, s:s, s:o}", "runner", host_runner_of(h, s), "type",
				stage_type_names[s->type], "item", a->item < 0 ? json_null()
				: json_integer(a->item)));
		starts[(*nr_starts)++] = (struct start){ a->stage, a->item, (int)a->attempt };
		break;
	case SA_EXPAND:
		host_fan_out_expanded(h, a->stage);
		break;
	case SA_SKIP:
	case SA_FAIL:
		host_persist_stage(h, a->stage, a->kind == SA_SKIP ? NULL
				   : !strcmp(a->reason, "condition_error")
				   ? "condition could not be evaluated" : h->items_error, NULL);
		host_ctx_stage(h, a->stage, a->kind == SA_SKIP ? "skipped" : "failed", NULL);
		host_event(h, a->kind == SA_SKIP ? "stage_skipped" : "stage_failed", id, 0,
		      a->kind == SA_SKIP ? json_pack("{s:s}", "reason", a->reason)
		      : json_pack("{s:s, s:s?, s:b}", "error_class", a->reason, "error",
				  strcmp(a->reason, "condition_error") ? h->items_error : NULL,
				  "will_retry", 0));
		break;
	case SA_AWAIT_APPROVAL:
		host_persist_stage(h, a->stage, NULL, NULL);
		host_ctx_stage(h, a->stage, "waiting_for_approval", NULL);
		host_event(h, "stage_waiting_for_approval", id, 0, gate_event(h, s));
		break;
	case SA_GATE_DECIDED:
		host_persist_stage(h, a->stage, NULL, NULL);
		host_ctx_stage(h, a->stage, stage_state_name(h->sched.st[a->stage].state), NULL);
		host_event(h, "gate_timed_out", id, 0, json_pack("{s:s}", "decision", a->reason));
		break;
	case SA_KILL:
		for (size_t i = 0; i < h->nr_slots; i++) {
			struct slot *sl = &h->slots[i];
			if (sl->used && sl->stage == a->stage && sl->item == a->item &&
			    !sl->kill_reason) {
				sl->kill_reason = a->reason;
				/* The scheduler's clock has whole seconds: never stop one early. */
				const struct swdl_duration *t = &s->error_policy->timeout;
				if (!strcmp(a->reason, "timeout"))
					sl->kill_at = sl->started + (double)t->seconds;
				host_event(h, "stage_killing", id, sl->attempt,
				      json_pack("{s:s, s:o}", "reason", a->reason, "item", a->item < 0
						? json_null() : json_integer(a->item)));
			}
		}
		break;
	case SA_RUN_FINISHED:
		for (size_t i = 0; i < h->wf->nr_stages; i++)
			if (h->sched.st[i].state == STAGE_CANCELLED)
				host_persist_stage(h, i, NULL, NULL);
		host_persist_run(h);
		host_event(h, h->sched.run == RUN_COMPLETED ? "run_completed" : h->sched.run ==
		      RUN_FAILED ? "run_failed" : "run_cancelled", NULL, 0,
		      json_pack("{s:s?, s:f, s:I}", "reason", h->sched.fail_reason, "usd", h->usd,
				"tokens", (json_int_t)h->tokens));
		break;
	case SA_NONE:
		break;
	}
}

/* Budget before a launch: spent plus the stage's own cap must fit the run's. */
static const char *budget_refusal(struct host *h, size_t stage, char **why)
{
	const struct swdl_budget *rb = h->wf->budget, *sb = h->wf->stages[stage].budget;
	if (!rb)
		return NULL;
	double reserve = sb ? sb->max_usd : 0;
	if (rb->max_usd > 0 && h->usd + reserve > rb->max_usd) {
		*why = xasprintf("the run has spent $%.4f of its $%.4f budget; this stage may "
				 "spend up to $%.4f", h->usd, rb->max_usd, reserve);
		return "budget_exceeded";
	}
	if (rb->max_tokens && h->tokens >= rb->max_tokens) {
		*why = xasprintf("the run has used %lld of its %lld tokens", (long long)h->tokens,
				 (long long)rb->max_tokens);
		return "budget_exceeded";
	}
	return NULL;
}

/* ---- commands from other processes --------------------------------------------------- */

static long waiting_gate(const struct host *h, const char *want)
{
	for (size_t i = 0; i < h->wf->nr_stages; i++)
		if (h->sched.st[i].state == STAGE_WAITING_APPROVAL &&
		    (!want || !strcmp(want, h->wf->stages[i].id)))
			return (long)i;
	return -1;
}

static void apply_command(struct host *h, const struct command *c)
{
	int64_t now = (int64_t)time(NULL);
	if (!strcmp(c->kind, "approve") || !strcmp(c->kind, "reject")) {
		long g = waiting_gate(h, c->stage_id);
		bool ok = !strcmp(c->kind, "approve");
		if (g < 0) {
			host_event(h, "command_ignored", c->stage_id, 0, json_pack("{s:s, s:s}", "command",
			      c->kind, "why", "no such gate is waiting for approval"));
			return;
		}
		sched_gate(&h->sched, (size_t)g, ok, now);
		host_persist_stage(h, (size_t)g, ok ? NULL : c->reason ? c->reason : "rejected", NULL);
		host_ctx_stage(h, (size_t)g, ok ? "completed" : "failed", NULL);
		host_event(h, ok ? "gate_approved" : "gate_rejected", host_stage_id(h, (size_t)g), 0,
		      json_pack("{s:s?}", "reason", c->reason));
	} else if (!strcmp(c->kind, "cancel")) {
		sched_cancel(&h->sched);
		host_event(h, "run_cancel_requested", NULL, 0, NULL);
	} else if (!strcmp(c->kind, "pause")) {
		sched_pause(&h->sched);
		host_event(h, "run_paused", NULL, 0, NULL);
	} else if (!strcmp(c->kind, "resume") && h->sched.run == RUN_PAUSED) {
		sched_resume(&h->sched);
		host_event(h, "run_unpaused", NULL, 0, NULL);
	}
	host_persist_run(h);
}

static int take_commands(struct host *h)
{
	struct command *cmds;
	size_t nr;
	if (store_commands_take(h->st, h->run_id, &cmds, &nr))
		return SM_EIO;
	for (size_t i = 0; i < nr; i++)
		apply_command(h, &cmds[i]);
	command_list_free(cmds, nr);
	return SM_OK;
}

/* ---- hooks ---------------------------------------------------------------------------- */

/* Run a hook's child to its end, at most `secs`; its exit code, or -1. */
static int run_child(const char *const *argv, const char *cwd, int secs, char **err)
{
	struct proc p;
	struct proc_spec ps = { argv, NULL, cwd, NULL, 0, 64 * 1024, NULL, NULL };
	int r = proc_run(&ps, secs, &p, err);
	if (r == SM_ERR)
		return -1;
	int code = r == SM_ELIMIT ? -1 : p.exit_code;
	if (r == SM_ELIMIT)
		*err = xasprintf("killed after %d s", secs);
	else if (code && p.err.len)
		*err = xasprintf("%.*s", (int)(p.err.len > 300 ? 300 : p.err.len), p.err.buf);
	proc_release(&p);
	return code;
}

static void run_hook(struct host *h, const char *name)
{
	const struct node *hook = node_map_get(h->wf->hooks, name);
	const struct node *run = node_map_get(hook, "run"), *notify = node_map_get(hook, "notify");
	char *err = NULL;
	if (run && run->kind == NODE_STRING) {
		char *cmd = host_hook_command(h, run->text, &err);
		const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
		int code = cmd ? run_child(argv, h->workdir, 300, &err) : -1;
		host_event(h, code ? "hook_failed" : "hook_ran", NULL, 0, json_pack("{s:s, s:s, s:i, s:s?}",
		      "hook", name, "kind", "run", "exit_code", code, "error", err));
		free(cmd);
		free(err);
		err = NULL;
	}
	if (notify && notify->kind == NODE_STRING && h->o->config->notify) {
		char *msg = host_render_text(h, notify->text, &err);
		const char **argv = engine_notify_argv(h->o->config, msg ? msg : notify->text);
		int code = run_child(argv, h->workdir, 60, &err);
		free(argv);
		host_event(h, code ? "hook_failed" : "hook_ran", NULL, 0, json_pack("{s:s, s:s, s:i, s:s?}",
		      "hook", name, "kind", "notify", "exit_code", code, "error", err));
		free(msg);
		free(err);
	}
}

/* ---- the loop --------------------------------------------------------------------------- */

static bool is_final_run(enum run_state r)
{
	return r == RUN_COMPLETED || r == RUN_FAILED || r == RUN_CANCELLED;
}

/* Take commands, ask the scheduler for everything due, write it (starts go to h->starts). */
static size_t decide(struct host *h)
{
	size_t nr = 0;
	int64_t now = (int64_t)time(NULL);
	take_commands(h);
	if (h->o->interrupted && *h->o->interrupted && !is_final_run(h->sched.run) &&
	    h->sched.run != RUN_CANCELLING) {
		sched_cancel(&h->sched);
		host_event(h, "run_cancel_requested", NULL, 0, json_pack("{s:s}", "by", "interrupt"));
		host_persist_run(h);
	}
	enum run_state before = h->sched.run;
	for (struct sched_action a; (a = sched_next(&h->sched, now)).kind != SA_NONE;)
		persist_action(h, &a, h->starts, &nr);
	if (h->sched.run != before && !is_final_run(h->sched.run))
		host_persist_run(h);
	return nr;
}

/* Start what the scheduler decided (after the decision is durable). */
static void start_decided(struct host *h, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		size_t stage = h->starts[i].stage;
		struct slot *sl = host_slot_for(h, stage, h->starts[i].item, h->starts[i].attempt);
		if (sl->attempt == 1)
			host_handoff_begin(h, stage);
		char *why = NULL;
		const char *cls = budget_refusal(h, stage, &why);
		if (cls) {
			sl->spawn_class = cls;
			sl->spawn_error = why;
			host_event(h, "budget_exceeded", host_stage_id(h, stage), sl->attempt,
				   json_pack("{s:s, s:s}", "scope", "run", "error", why));
		} else {
			host_spawn(h, sl);
		}
	}
}

static bool slots_busy(const struct host *h)
{
	for (size_t i = 0; i < h->nr_slots; i++)
		if (h->slots[i].used)
			return true;
	return false;
}

static int heartbeat(struct host *h)
{
	double now = store_now();
	if (now - h->last_heartbeat < HEARTBEAT_S)
		return SM_OK;
	h->last_heartbeat = now;
	if (store_lease_heartbeat(h->st, h->run_id, h->token) == SM_ERR) {
		h->lost_lease = true;
		return SM_ERR;
	}
	return SM_OK;
}

/*
 * One turn: everything it learns and decides (log lines, ended attempts,
 * commands, the scheduler's actions, the heartbeat) is one transaction;
 * then it acts (starts, signals).  *more: log output is waiting.
 */
static int turn(struct host *h, bool *more)
{
	host_handoff_prefetch(h);
	if (store_begin(h->st))
		return SM_EIO;
	*more = host_follow_slots(h);
	if (heartbeat(h)) {
		store_rollback(h->st);
		return SM_EIO;
	}
	size_t nr = decide(h);
	if (store_commit(h->st)) {
		store_rollback(h->st);
		return SM_EIO;
	}
	start_decided(h, nr);
	host_signal_slots(h);
	return SM_OK;
}

/* Sleep until a monitor ends, the next timer, or POLL_MS (logs are read each turn). */
static void wait_turn(struct host *h, bool more)
{
	struct pollfd *fds = xcalloc(h->nr_slots + 1, sizeof(*fds));
	size_t n = 0;
	int ms = POLL_MS;
	for (size_t i = 0; i < h->nr_slots; i++) {
		const struct slot *sl = &h->slots[i];
		if (!sl->used)
			continue;
		if (!sl->spawned || sl->att.ended)
			ms = 0;
		else if (sl->att.pidfd >= 0)
			fds[n++] = (struct pollfd){ sl->att.pidfd, POLLIN, 0 };
		else if (ms > NO_PIDFD_POLL_MS)
			ms = NO_PIDFD_POLL_MS; /* no pidfd (valgrind; adopted early): look often */
	}
	int64_t wake = sched_next_wakeup(&h->sched), now = (int64_t)time(NULL);
	double sig = host_next_signal(h);
	if (more)
		ms = 0;
	else if (wake >= 0 && (wake - now) * 1000 < ms)
		ms = wake <= now ? 0 : (int)((wake - now) * 1000);
	if (sig >= 0 && sig * 1000 < ms)
		ms = (int)(sig * 1000) + 1;
	if (ms)
		poll(fds, n, ms);
	free(fds);
}

static int loop(struct host *h)
{
	for (;;) {
		bool more = false;
		if (turn(h, &more))
			return SM_EIO;
		if (is_final_run(h->sched.run) && !slots_busy(h))
			return SM_OK;
		wait_turn(h, more);
	}
}

/* ---- hosting a run ------------------------------------------------------------------------ */

static void host_release(struct host *h)
{
	if (h->slots)
		host_release_slots(h);
	monitor_zygote_close(&h->zygote);
	free(h->slots);
	free(h->starts);
	for (size_t i = 0; h->fan_items && i < h->wf->nr_stages; i++) {
		json_decref(h->fan_items[i]);
		json_decref(h->fan_outputs[i]);
	}
	free(h->fan_items);
	free(h->fan_outputs);
	free(h->items_error);
	json_decref(h->handoffs);
	free(h->git_root);
	free(h->git_exclude);
	free(h->git_turn);
	if (h->sched.st)
		sched_release(&h->sched);
	json_decref(h->ctx);
	json_decref(h->params);
	json_decref(h->artifacts);
	json_decref(h->packs);
	swdl_loaded_free(h->l);
	free(h->workdir);
	free(h->runner);
	free(h->run_dir);
	arena_free(&h->scratch);
}

/* The first transaction: mark the run started or resumed, adopt its running attempts. */
static int take_over(struct host *h)
{
	struct adoptee *ads = xcalloc(h->nr_slots, sizeof(*ads));
	size_t nr = 0;
	int r = store_begin(h->st) || restore_stages(h, ads, &nr) ? SM_EIO : SM_OK;
	if (!r && h->fresh) {
		store_run_status(h->st, h->run_id, "running", NULL);
		store_run_started(h->st, h->run_id);
	}
	if (!r) {
		host_event(h, h->fresh ? "run_started" : "run_resumed", NULL, 0,
			   json_pack("{s:i, s:I, s:i}", "host_pid", (int)getpid(), "max_parallel",
				     (json_int_t)h->sched.max_parallel, "running", (int)nr));
		for (size_t i = 0; i < nr; i++)
			host_adopt(h, &ads[i]);
		host_persist_run(h);
		r = store_commit(h->st) ? SM_EIO : SM_OK;
	}
	if (r)
		store_rollback(h->st);
	free(ads);
	if (!r && h->fresh && !h->o->stage_exec)
		run_hook(h, "on_start");
	return r;
}

static int start_hosting(struct host *h, char **err)
{
	randombytes_buf(h->token, 16);
	sodium_bin2hex(h->token, sizeof(h->token), (const unsigned char *)h->token, 16);
	int holder = 0;
	int r = store_lease_acquire(h->st, h->run_id, h->token, h->o->host_kind,
				    h->o->lease_stale_after > 0
				    ? h->o->lease_stale_after : STORE_LEASE_STALE_S, &holder);
	if (r == SM_ENOENT)
		*err = xasprintf("no run '%s'", h->run_id);
	else if (r == SM_ERR)
		*err = xasprintf("run %s is hosted by process %d (still alive)", h->run_id, holder);
	else if (r)
		*err = xasprintf("cannot take the run: %s", store_error(h->st));
	if (r)
		return r;
	h->last_heartbeat = store_now();
	store_set_durability(h->st, h->o->config->durability_full);
	return restore(h, err);
}

/* Stage ids and the run id become folders under runs/: whatever the
 * validation of the stored workflow said, nothing else is hosted. */
static int check_path_names(const struct host *h, char **err)
{
	if (!fs_name_safe(h->run_id)) {
		*err = xstrdup("the run id is not a safe folder name");
		return SM_ERR;
	}
	for (size_t i = 0; i < h->wf->nr_stages; i++)
		if (!fs_name_safe(h->wf->stages[i].id)) {
			*err = xasprintf("stage id '%.64s' is not a safe folder name; not run",
					 h->wf->stages[i].id);
			return SM_ERR;
		}
	return SM_OK;
}

int host_run(struct store *st, const char *run_id, const struct host_opts *o,
	     char status[16], char **err)
{
	struct host h = { .st = st, .run_id = run_id, .o = o, .zygote = MONITOR_ZYGOTE_INIT };
	*err = NULL;
	snprintf(status, 16, "failed");
	if (sodium_init() < 0)
		abort();
	int r = start_hosting(&h, err);
	if (!r && (r = check_path_names(&h, err)))
		store_lease_release(st, run_id, h.token);
	if (r) {
		if (o->on_hosting)
			o->on_hosting(o->hosting_ctx, false);
		host_release(&h);
		return r;
	}
	h.sched.condition = eval_condition;
	h.sched.items = host_fan_out_items;
	h.sched.ctx = &h;
	/* stage exec: the orchestrator retries a stage; one item in its pod retries here
	 * (Argo passes on only the outputs of item pods that succeeded: docs/argo.md) */
	h.sched.single_attempt = o->stage_exec && !(o->items_elsewhere &&
						    o->items_elsewhere->mode == ITEMS_ONE);
	h.run_dir = xasprintf("%s/runs/%s", o->home, run_id);
	h.nr_slots = h.sched.max_parallel + 1;
	h.slots = xcalloc(h.nr_slots, sizeof(*h.slots));
	h.starts = xcalloc(h.wf->nr_stages + h.nr_slots, sizeof(*h.starts));
	bool was_final = is_final_run(h.sched.run);
	if (!was_final)
		host_handoff_init(&h);
	if (!was_final)
		r = take_over(&h);
	if (o->on_hosting)
		o->on_hosting(o->hosting_ctx, r == SM_OK);
	if (!r)
		r = loop(&h);
	if (!r && is_final_run(h.sched.run)) {
		if (!was_final && !o->stage_exec)
			run_hook(&h, h.sched.run == RUN_COMPLETED ? "on_complete" : "on_failure");
		snprintf(status, 16, "%s", run_state_name(h.sched.run));
	} else if (!*err) {
		*err = h.lost_lease ? xasprintf("another host took run %s over", run_id)
				    : xasprintf("the run's database failed: %s", store_error(st));
	}
	if (!h.lost_lease)
		store_lease_release(st, run_id, h.token);
	host_release(&h);
	return r;
}
