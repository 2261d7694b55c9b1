/*
 * host.c - the loop that hosts a run (see host.h): restoring its state,
 * applying the scheduler's actions, starting and finishing attempts,
 * commands from other processes, hooks, the lease.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "outputs.h"
#include "../base/fsutil.h"
#include "../swdl/expr.h"

#include <signal.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

/* Longest wait of one loop turn: commands are picked up at least this often. */
#define POLL_MS 200
#define HEARTBEAT_S 2.0

/* ---- the host ------------------------------------------------------------------ */

static void event(struct host *h, const char *type, const char *stage_id, int attempt,
		  json_t *data)
{
	if (!data)
		data = json_object();
	store_event(h->st, h->run_id, type, stage_id, attempt, data, NULL);
	if (h->o->on_event)
		h->o->on_event(h->o->ctx, type, stage_id, attempt, data);
	json_decref(data);
}

static const char *stage_id(const struct host *h, size_t i)
{
	return h->wf->stages[i].id;
}

/* stages.<id> = {status, outputs} in the expression context. */
static void ctx_stage(struct host *h, size_t i, const char *status, json_t *outputs)
{
	json_t *e = json_object_get(h->stage_ctx, stage_id(h, i));
	json_object_set_new(e, "status", json_string(status));
	if (outputs)
		json_object_set(e, "outputs", outputs);
}

static int persist_stage(struct host *h, size_t i, const char *error, const char *outputs)
{
	const struct sched_stage *ss = &h->sched.st[i];
	bool final = ss->state == STAGE_COMPLETED || ss->state == STAGE_FAILED ||
		     ss->state == STAGE_SKIPPED || ss->state == STAGE_CANCELLED;
	struct stage_row row = { stage_state_name(ss->state), (int)ss->attempt,
		ss->state == STAGE_RUNNING && ss->attempt == 1 ? store_now() : 0,
		final ? store_now() : 0,
		ss->state == STAGE_RETRY_WAIT ? (double)ss->ready_at : 0,
		ss->state == STAGE_RUNNING || ss->state == STAGE_WAITING_APPROVAL
			? (double)ss->deadline : 0,
		ss->state == STAGE_FAILED || ss->state == STAGE_RETRY_WAIT ? ss->error_class : NULL,
		error, outputs };
	return store_stage_update(h->st, h->run_id, stage_id(h, i), &row);
}

static void persist_run(struct host *h)
{
	store_run_status(h->st, h->run_id, run_state_name(h->sched.run), h->sched.fail_reason);
}

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
	swdl_load_buffer("snapshot.json", text, strlen(text), DOC_JSON, NULL, &h->l, &dl);
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

/* Kill what is left of an attempt whose host died, if it is still ours. */
static void kill_orphan(const char *run_id, int pid)
{
	char path[64], want[96];
	struct strbuf sb = STRBUF_INIT;
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	snprintf(want, sizeof(want), "SKILLMEAT_RUN_ID=%s", run_id);
	if (pid > 0 && !strbuf_read_file(&sb, path, 1u << 20)) {
		for (size_t off = 0; off < sb.len; off += strlen(sb.buf + off) + 1) {
			if (!strcmp(sb.buf + off, want)) {
				kill(-pid, SIGKILL);
				break;
			}
		}
	}
	strbuf_release(&sb);
}

static const char SQL_STAGES[] =
	"SELECT s.stage_id, s.status, s.attempt, s.ready_at, s.deadline, s.error_class,"
	" s.outputs, a.pid FROM stages s LEFT JOIN attempts a ON a.run_id = s.run_id"
	" AND a.stage_id = s.stage_id AND a.attempt = s.attempt WHERE s.run_id = ?1";

static int restore_stages(struct host *h, bool *had_running)
{
	sqlite3_stmt *s;
	*had_running = false;
	if (sqlite3_prepare_v2(store_db(h->st), SQL_STAGES, -1, &s, NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, h->run_id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		long i = swdl_stage_find(h->wf, (const char *)sqlite3_column_text(s, 0));
		int state = stage_state_from_name((const char *)sqlite3_column_text(s, 1));
		if (i < 0 || state < 0)
			continue;
		const char *cls = (const char *)sqlite3_column_text(s, 5);
		sched_restore(&h->sched, (size_t)i, (enum stage_state)state,
			      (unsigned)sqlite3_column_int(s, 2), (int64_t)sqlite3_column_double(s, 3),
			      (int64_t)sqlite3_column_double(s, 4),
			      cls ? arena_strdup(&h->scratch, cls) : NULL);
		const char *outs = (const char *)sqlite3_column_text(s, 6);
		json_t *o = outs ? json_loads(outs, 0, NULL) : NULL;
		ctx_stage(h, (size_t)i, stage_state_name((enum stage_state)state), o);
		json_decref(o);
		if (state == STAGE_RUNNING) {
			kill_orphan(h->run_id, sqlite3_column_int(s, 7));
			*had_running = true;
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
	h->fresh = sqlite3_column_type(s, 6) == SQLITE_NULL; /* no host has started it */
	double started = h->fresh ? store_now() : sqlite3_column_double(s, 6);
	h->usd = sqlite3_column_double(s, 8);
	h->tokens = sqlite3_column_int64(s, 9);
	build_ctx(h, started);
	sched_init(&h->sched, h->wf, &h->l->dag, (size_t)sqlite3_column_int(s, 7),
		   (int64_t)started, NULL, NULL);
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
		event(h, "condition_error", s->id, 0, json_pack("{s:s}", "error", err));
		free(err);
		return SM_ERR;
	}
	*result = expr_truthy(v);
	json_decref(v);
	return SM_OK;
}

/* ---- starting an attempt ------------------------------------------------------------ */

static void emit_line(void *ctx, const char *kind, int stream, const char *text, size_t len)
{
	struct slot *sl = ctx;
	struct host *h = sl->h;
	json_t *t = json_stringn(text, len);
	if (!t) /* not UTF-8: keep it readable rather than lose the line */
		t = json_string("(a line that is not UTF-8)");
	event(h, kind, stage_id(h, sl->stage), sl->attempt,
	      json_pack("{s:s, s:o}", "stream", stream == 2 ? "stderr" : "stdout", "text", t));
}

static void on_data(void *ctx, struct proc *p, int stream, const char *data, size_t len)
{
	UNUSED(p);
	struct slot *sl = ctx;
	runner_feed(&sl->job, stream, data, len, emit_line, sl);
}

static const char *runner_of(const struct host *h, const struct swdl_stage *s)
{
	return s->type == STAGE_COMMAND ? "command" : s->runner ? s->runner : h->runner;
}

static void new_uuid(char out[37])
{
	unsigned char b[16];
	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* Build the request for a stage (inputs, env, prompt) and prepare the runner job. */
static int prepare(struct host *h, struct slot *sl, const struct runner_def *def,
		   const char *dir, char **err)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	const char *cls = NULL;
	size_t nr_env = 0;
	char **env = NULL, *prompt = NULL, *cwd = NULL, session[37];
	json_t *inputs = host_resolve_inputs(h, s, &cls, err);
	int r = SM_ERR;
	if (!inputs) {
		sl->spawn_class = cls;
		return SM_ERR;
	}
	sl->spawn_class = "input_invalid";
	env = host_stage_env(h, s, &nr_env, err);
	if (*err)
		goto out;
	if (s->type == STAGE_COMMAND && s->working_directory) {
		char *wd = host_render_text(h, s->working_directory, err);
		if (!wd)
			goto out;
		cwd = wd[0] == '/' ? wd : path_join(h->workdir, wd);
		if (cwd != wd)
			free(wd);
	}
	if (s->type != STAGE_COMMAND && !(prompt = host_build_prompt(h, s, inputs, err)))
		goto out;
	new_uuid(session);
	struct stage_request rq = { s, h->run_id, dir, h->workdir, sl->attempt,
		s->artifact ? host_artifact_text(h, s->artifact) : NULL, prompt, inputs, s->model,
		def->proto == PROTO_CLAUDE ? session : NULL, s->budget,
		(const char *const *)env, nr_env, cwd, host_pack_text(h, s) };
	sl->spawn_class = "runner_missing";
	r = runner_prepare(def, &rq, &sl->job, err);
out:
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
	free(prompt);
	free(cwd);
	json_decref(inputs);
	return r;
}

/* What context the attempt receives: the modules and memory items of its pack. */
static void consumed(struct host *h, struct slot *sl)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	json_t *m = json_object_get(json_object_get(h->packs, s->id), "manifest"), *v;
	if (!m)
		return;
	json_t *mods = json_array(), *items = json_array();
	size_t i;
	json_array_foreach(json_object_get(m, "modules"), i, v)
		if (json_is_true(json_object_get(v, "included")))
			json_array_append(mods, json_object_get(v, "ref"));
	json_array_foreach(json_object_get(m, "items"), i, v)
		json_array_append(items, json_object_get(v, "id"));
	event(h, "context_consumed", s->id, sl->attempt, json_pack("{s:o, s:o, s:O, s:O}",
	      "modules", mods, "items", items, "tokens", json_object_get(m, "tokens"),
	      "budget", json_object_get(m, "budget")));
}

static void spawn(struct host *h, struct slot *sl)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	const char *name = runner_of(h, s);
	const struct runner_def *def = runner_set_find(&h->o->config->runners, name);
	char *dir = xasprintf("%s/%s/%d", h->run_dir, s->id, sl->attempt);
	char *err = NULL;
	sl->started = store_now();
	if (!def) {
		sl->spawn_class = "runner_missing";
		sl->spawn_error = xasprintf("no runner named '%s' (built in: claude, codex, gemini; "
					    "others come from config.toml [runners.NAME])", name);
	} else if (prepare(h, sl, def, dir, &err)) {
		sl->spawn_error = err;
	} else {
		consumed(h, sl);
		struct proc_spec ps = { (const char *const *)sl->job.argv,
			(const char *const *)sl->job.env, sl->job.cwd, sl->job.input,
			sl->job.input_len, 0, on_data, sl };
		if (proc_spawn(&sl->proc, &ps, &err)) {
			sl->spawn_class = "runner_missing";
			sl->spawn_error = err;
		} else {
			sl->spawned = true;
			store_attempt_pid(h->st, h->run_id, s->id, sl->attempt, sl->proc.pid);
		}
	}
	free(dir);
}

static struct slot *slot_for(struct host *h, size_t stage, int attempt)
{
	for (size_t i = 0; i < h->nr_slots; i++) {
		if (!h->slots[i].used) {
			struct slot *sl = &h->slots[i];
			memset(sl, 0, sizeof(*sl));
			*sl = (struct slot){ .h = h, .used = true, .stage = stage, .attempt = attempt,
					     .started = store_now() };
			return sl;
		}
	}
	/* Slots are never reallocated (children point at theirs): there are
	 * max_parallel of them and the scheduler never runs more. */
	abort();
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
	json_t *j = json_pack("{s:o, s:s?, s:I}", "approvers", approvers, "message", msg,
			      "timeout_at", (json_int_t)h->sched.st[s->index].deadline);
	free(msg);
	return j;
}

/* Write one action; starts and kills are carried out after the commit. */
static void persist_action(struct host *h, const struct sched_action *a, size_t *starts,
			   size_t *nr_starts)
{
	const char *id = stage_id(h, a->stage);
	const struct swdl_stage *s = &h->wf->stages[a->stage];
	switch (a->kind) {
	case SA_START:
		persist_stage(h, a->stage, NULL, NULL);
		store_attempt_start(h->st, h->run_id, id, (int)a->attempt, runner_of(h, s), NULL);
		ctx_stage(h, a->stage, "running", NULL);
		event(h, "stage_started", id, (int)a->attempt, json_pack("{s:s, s:s}", "runner",
		      runner_of(h, s), "type", stage_type_names[s->type]));
		starts[(*nr_starts)++] = a->stage;
		break;
	case SA_SKIP:
	case SA_FAIL:
		persist_stage(h, a->stage, a->kind == SA_FAIL ? "condition could not be evaluated"
			      : NULL, NULL);
		ctx_stage(h, a->stage, a->kind == SA_SKIP ? "skipped" : "failed", NULL);
		event(h, a->kind == SA_SKIP ? "stage_skipped" : "stage_failed", id, 0,
		      json_pack("{s:s}", a->kind == SA_SKIP ? "reason" : "error_class", a->reason));
		break;
	case SA_AWAIT_APPROVAL:
		persist_stage(h, a->stage, NULL, NULL);
		ctx_stage(h, a->stage, "waiting_for_approval", NULL);
		event(h, "stage_waiting_for_approval", id, 0, gate_event(h, s));
		break;
	case SA_GATE_DECIDED:
		persist_stage(h, a->stage, NULL, NULL);
		ctx_stage(h, a->stage, stage_state_name(h->sched.st[a->stage].state), NULL);
		event(h, "gate_timed_out", id, 0, json_pack("{s:s}", "decision", a->reason));
		break;
	case SA_KILL:
		for (size_t i = 0; i < h->nr_slots; i++) {
			struct slot *sl = &h->slots[i];
			if (sl->used && sl->stage == a->stage && !sl->kill_reason) {
				sl->kill_reason = a->reason;
				event(h, "stage_killing", id, sl->attempt,
				      json_pack("{s:s}", "reason", a->reason));
			}
		}
		break;
	case SA_RUN_FINISHED:
		for (size_t i = 0; i < h->wf->nr_stages; i++)
			if (h->sched.st[i].state == STAGE_CANCELLED)
				persist_stage(h, i, NULL, NULL);
		persist_run(h);
		event(h, h->sched.run == RUN_COMPLETED ? "run_completed" : h->sched.run ==
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

/* ---- finishing an attempt ------------------------------------------------------------ */

/* A runner that reports tokens but no cost (codex, gemini): price them ourselves. */
static void price_tokens(struct host *h, struct slot *sl)
{
	const char *model = sl->job.model ? sl->job.model : h->wf->stages[sl->stage].model;
	const struct price *p = price_lookup(&h->o->config->prices, model);
	char line[256];
	if (!p) {
		snprintf(line, sizeof(line), "no price for model '%s': add [prices.\"%s\"] to "
			 "config.toml to count its cost", model ? model : "(default)",
			 model ? model : "MODEL");
	} else {
		sl->job.usd = price_cost(p, sl->job.input_tokens, sl->job.output_tokens);
		snprintf(line, sizeof(line), "cost estimated from tokens: %lld in, %lld out at "
			 "$%.2f/$%.2f per Mtok (%s): $%.4f", (long long)sl->job.input_tokens,
			 (long long)sl->job.output_tokens, p->input_per_mtok, p->output_per_mtok,
			 p->model, sl->job.usd);
	}
	emit_line(sl, "log", 0, line, strlen(line));
}

static void spend(struct host *h, struct slot *sl, struct runner_result *res)
{
	const struct swdl_budget *sb = h->wf->stages[sl->stage].budget, *rb = h->wf->budget;
	int64_t tok = sl->job.input_tokens + sl->job.output_tokens;
	if (sl->job.usd <= 0 && tok)
		price_tokens(h, sl);
	double usd = sl->job.usd;
	if (usd <= 0 && !tok)
		return;
	h->usd += usd;
	h->tokens += tok;
	store_run_add_spend(h->st, h->run_id, usd, tok);
	const char *id = stage_id(h, sl->stage);
	bool stage_over = sb && ((sb->max_usd > 0 && usd > sb->max_usd) ||
				 (sb->max_tokens && tok > sb->max_tokens));
	bool run_over = rb && ((rb->max_usd > 0 && h->usd > rb->max_usd) ||
			       (rb->max_tokens && h->tokens > rb->max_tokens));
	if (stage_over || run_over)
		event(h, "budget_exceeded", id, sl->attempt, json_pack("{s:s, s:f, s:I, s:f, s:I}",
		      "scope", stage_over ? "stage" : "run", "usd", usd, "tokens", (json_int_t)tok,
		      "run_usd", h->usd, "run_tokens", (json_int_t)h->tokens));
	if (stage_over && res->ok) {
		res->ok = false;
		res->error_class = "budget_exceeded";
		free(res->error);
		res->error = xasprintf("the stage used $%.4f and %lld tokens, over its budget",
				       usd, (long long)tok);
	}
}

static void judge(struct host *h, struct slot *sl, struct runner_result *res)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	if (!sl->spawned) {
		res->error_class = sl->spawn_class;
		res->error = sl->spawn_error;
		sl->spawn_error = NULL;
		res->outputs = json_object();
		return;
	}
	runner_finish(&sl->job, sl->proc.exit_code, emit_line, sl, res);
	if (sl->kill_reason) {
		res->ok = false;
		res->error_class = sl->kill_reason;
		free(res->error);
		res->error = !strcmp(sl->kill_reason, "timeout")
			? xasprintf("timed out after %s", s->error_policy->timeout.text)
			: xasprintf("stopped: %s", sl->kill_reason);
	}
	char *err = NULL;
	if (res->ok && outputs_check(s, res->outputs, &err)) {
		res->ok = false;
		res->error_class = "output_invalid";
		res->error = err;
	}
	spend(h, sl, res);
}

static void finish_slot(struct host *h, struct slot *sl)
{
	struct runner_result res = { 0 };
	const char *id = stage_id(h, sl->stage);
	judge(h, sl, &res);
	struct attempt_row ar = { res.ok ? "completed" : "failed", NULL, NULL, sl->proc.pid,
		sl->spawned ? sl->proc.exit_code : -1, res.ok ? NULL : res.error_class, res.error,
		sl->job.session_id, sl->job.model, sl->job.usd, sl->job.input_tokens,
		sl->job.output_tokens };
	store_attempt_finish(h->st, h->run_id, id, sl->attempt, &ar);
	sched_finished(&h->sched, sl->stage, res.ok, res.error_class, (int64_t)time(NULL));
	const struct sched_stage *ss = &h->sched.st[sl->stage];
	char *outs = res.ok ? json_dumps(res.outputs, JSON_COMPACT) : NULL;
	persist_stage(h, sl->stage, res.error, outs);
	ctx_stage(h, sl->stage, stage_state_name(ss->state), res.ok ? res.outputs : NULL);
	double secs = store_now() - sl->started;
	if (res.ok)
		event(h, "stage_completed", id, sl->attempt, json_pack("{s:O, s:f}", "outputs",
		      res.outputs, "duration_seconds", secs));
	else
		event(h, "stage_failed", id, sl->attempt, json_pack("{s:s, s:s?, s:b, s:I, s:f}",
		      "error_class", res.error_class, "error", res.error, "will_retry",
		      ss->state == STAGE_RETRY_WAIT, "retry_at", (json_int_t)ss->ready_at,
		      "duration_seconds", secs));
	if (ss->state == STAGE_FAILED || h->sched.run == RUN_HALTING)
		persist_run(h);
	free(outs);
	runner_result_release(&res);
	runner_job_release(&sl->job);
	if (sl->spawned)
		proc_release(&sl->proc);
	free(sl->spawn_error);
	sl->used = false;
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
			event(h, "command_ignored", c->stage_id, 0, json_pack("{s:s, s:s}", "command",
			      c->kind, "why", "no such gate is waiting for approval"));
			return;
		}
		sched_gate(&h->sched, (size_t)g, ok, now);
		persist_stage(h, (size_t)g, ok ? NULL : c->reason ? c->reason : "rejected", NULL);
		ctx_stage(h, (size_t)g, ok ? "completed" : "failed", NULL);
		event(h, ok ? "gate_approved" : "gate_rejected", stage_id(h, (size_t)g), 0,
		      json_pack("{s:s?}", "reason", c->reason));
	} else if (!strcmp(c->kind, "cancel")) {
		sched_cancel(&h->sched);
		event(h, "run_cancel_requested", NULL, 0, NULL);
	} else if (!strcmp(c->kind, "pause")) {
		sched_pause(&h->sched);
		event(h, "run_paused", NULL, 0, NULL);
	} else if (!strcmp(c->kind, "resume")) {
		sched_resume(&h->sched);
		event(h, "run_unpaused", NULL, 0, NULL);
	}
	persist_run(h);
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
		event(h, code ? "hook_failed" : "hook_ran", NULL, 0, json_pack("{s:s, s:s, s:i, s:s?}",
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
		event(h, code ? "hook_failed" : "hook_ran", NULL, 0, json_pack("{s:s, s:s, s:i, s:s?}",
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

/* Ask the scheduler for everything due; write it; then start what it said. */
static int schedule(struct host *h)
{
	size_t *starts = h->starts, nr = 0;
	int64_t now = (int64_t)time(NULL);
	if (store_begin(h->st))
		return SM_EIO;
	take_commands(h);
	if (h->o->interrupted && *h->o->interrupted && !is_final_run(h->sched.run) &&
	    h->sched.run != RUN_CANCELLING) {
		sched_cancel(&h->sched);
		event(h, "run_cancel_requested", NULL, 0, json_pack("{s:s}", "by", "interrupt"));
		persist_run(h);
	}
	enum run_state before = h->sched.run;
	for (struct sched_action a; (a = sched_next(&h->sched, now)).kind != SA_NONE;)
		persist_action(h, &a, starts, &nr);
	if (h->sched.run != before && !is_final_run(h->sched.run))
		persist_run(h);
	int r = store_commit(h->st);
	for (size_t i = 0; !r && i < nr; i++) {
		struct slot *sl = slot_for(h, starts[i], (int)h->sched.st[starts[i]].attempt);
		char *why = NULL;
		const char *cls = budget_refusal(h, starts[i], &why);
		if (cls) {
			sl->spawn_class = cls;
			sl->spawn_error = why;
			event(h, "budget_exceeded", stage_id(h, starts[i]), sl->attempt,
			      json_pack("{s:s, s:s}", "scope", "run", "error", why));
		} else {
			spawn(h, sl);
		}
	}
	return r ? SM_EIO : SM_OK;
}

/* Signals owed: SIGTERM when a stop is decided, SIGKILL after the grace period. */
static void signal_slots(struct host *h)
{
	double now = store_now(), grace = (h->o->kill_grace_ms ? h->o->kill_grace_ms : 5000) / 1e3;
	for (size_t i = 0; i < h->nr_slots; i++) {
		struct slot *sl = &h->slots[i];
		if (!sl->used || !sl->spawned)
			continue;
		const struct swdl_budget *b = h->wf->stages[sl->stage].budget;
		if (!sl->kill_reason && b && b->max_tokens &&
		    sl->job.input_tokens + sl->job.output_tokens > b->max_tokens)
			sl->kill_reason = "budget_exceeded";
		if (sl->kill_reason && !sl->hard_kill_at) {
			proc_signal_group(&sl->proc, SIGTERM);
			sl->hard_kill_at = now + grace;
		} else if (sl->hard_kill_at && now >= sl->hard_kill_at) {
			proc_signal_group(&sl->proc, SIGKILL);
			sl->hard_kill_at = now + 3600;
		}
		/* Exited, but something it started keeps the pipes open: stop it. */
		if (sl->proc.exited && !proc_done(&sl->proc) && !sl->hard_kill_at) {
			sl->kill_reason = NULL;
			proc_signal_group(&sl->proc, SIGKILL);
			sl->hard_kill_at = now + 3600;
		}
	}
}

static int wait_turn(struct host *h)
{
	struct proc **procs = xcalloc(h->nr_slots + 1, sizeof(*procs));
	size_t n = 0;
	for (size_t i = 0; i < h->nr_slots; i++)
		if (h->slots[i].used && h->slots[i].spawned)
			procs[n++] = &h->slots[i].proc;
	bool ready = false;
	for (size_t i = 0; i < h->nr_slots; i++)
		ready |= h->slots[i].used && (!h->slots[i].spawned || proc_done(&h->slots[i].proc));
	int ms = ready ? 0 : POLL_MS;
	int64_t wake = sched_next_wakeup(&h->sched), now = (int64_t)time(NULL);
	if (wake >= 0 && (wake - now) * 1000 < ms)
		ms = wake <= now ? 0 : (int)((wake - now) * 1000);
	if (n)
		proc_poll(procs, n, ms);
	else if (ms)
		usleep((useconds_t)ms * 1000);
	free(procs);
	return SM_OK;
}

static int reap_finished(struct host *h)
{
	bool any = false;
	for (size_t i = 0; i < h->nr_slots && !any; i++)
		any = h->slots[i].used && (!h->slots[i].spawned || proc_done(&h->slots[i].proc));
	if (!any)
		return SM_OK;
	if (store_begin(h->st))
		return SM_EIO;
	for (size_t i = 0; i < h->nr_slots; i++) {
		struct slot *sl = &h->slots[i];
		if (sl->used && (!sl->spawned || proc_done(&sl->proc)))
			finish_slot(h, sl);
	}
	return store_commit(h->st) ? SM_EIO : SM_OK;
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

static int loop(struct host *h)
{
	for (;;) {
		if (schedule(h))
			return SM_EIO;
		if (is_final_run(h->sched.run) && !slots_busy(h))
			return SM_OK;
		signal_slots(h);
		wait_turn(h);
		if (reap_finished(h) || heartbeat(h))
			return SM_EIO;
	}
}

/* ---- hosting a run ------------------------------------------------------------------------ */

/* Stages that were running when their host died: their attempt failed. */
static void fail_lost_attempts(struct host *h)
{
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < h->wf->nr_stages; i++) {
		struct sched_stage *ss = &h->sched.st[i];
		if (ss->state != STAGE_RUNNING)
			continue;
		const char *id = stage_id(h, i);
		int attempt = (int)ss->attempt;
		struct attempt_row ar = { "failed", NULL, NULL, 0, -1, "host_lost",
			"the host of the run stopped while this attempt ran", NULL, NULL, 0, 0, 0 };
		store_attempt_finish(h->st, h->run_id, id, attempt, &ar);
		sched_finished(&h->sched, i, false, "host_lost", now);
		persist_stage(h, i, ar.error, NULL);
		ctx_stage(h, i, stage_state_name(ss->state), NULL);
		event(h, "stage_failed", id, attempt, json_pack("{s:s, s:s, s:b}", "error_class",
		      "host_lost", "error", ar.error, "will_retry", ss->state == STAGE_RETRY_WAIT));
	}
	persist_run(h);
}

static void host_release(struct host *h)
{
	for (size_t i = 0; i < h->nr_slots; i++) {
		struct slot *sl = &h->slots[i];
		if (!sl->used)
			continue;
		if (sl->spawned) { /* we are giving up: nothing of ours may keep running */
			proc_signal_group(&sl->proc, SIGKILL);
			while (!proc_done(&sl->proc)) {
				struct proc *one[1] = { &sl->proc };
				proc_poll(one, 1, 100);
			}
			proc_release(&sl->proc);
		}
		runner_job_release(&sl->job);
		free(sl->spawn_error);
	}
	free(h->slots);
	free(h->starts);
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

static int start_hosting(struct host *h, char **err)
{
	randombytes_buf(h->token, 16);
	sodium_bin2hex(h->token, sizeof(h->token), (const unsigned char *)h->token, 16);
	int holder = 0;
	int r = store_lease_acquire(h->st, h->run_id, h->token, h->o->lease_stale_after > 0
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
	return restore(h, err);
}

int host_run(struct store *st, const char *run_id, const struct host_opts *o,
	     char status[16], char **err)
{
	struct host h = { .st = st, .run_id = run_id, .o = o };
	*err = NULL;
	snprintf(status, 16, "failed");
	if (sodium_init() < 0)
		abort();
	int r = start_hosting(&h, err);
	if (r) {
		host_release(&h);
		return r;
	}
	h.sched.condition = eval_condition;
	h.sched.ctx = &h;
	h.run_dir = xasprintf("%s/runs/%s", o->home, run_id);
	h.nr_slots = h.sched.max_parallel + 1;
	h.slots = xcalloc(h.nr_slots, sizeof(*h.slots));
	h.starts = xcalloc(h.wf->nr_stages + 1, sizeof(*h.starts));
	bool had_running = false, was_final = is_final_run(h.sched.run);
	if (!was_final) {
		store_begin(st);
		restore_stages(&h, &had_running);
		if (h.fresh) {
			store_run_status(st, run_id, "running", NULL);
			store_run_started(st, run_id);
		}
		event(&h, h.fresh ? "run_started" : "run_resumed", NULL, 0, json_pack("{s:i, s:I}",
		      "host_pid", (int)getpid(), "max_parallel", (json_int_t)h.sched.max_parallel));
		if (had_running)
			fail_lost_attempts(&h);
		if (store_commit(st))
			r = SM_EIO;
		if (h.fresh)
			run_hook(&h, "on_start");
	}
	if (!r)
		r = loop(&h);
	if (!r && is_final_run(h.sched.run)) {
		if (!was_final)
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
