/*
 * api_runs.c - /api/v1/workflow-executions: list, detail, start (hosted
 * by this process, one thread a run: lifecycle.c), control commands, gate decisions
 * and the event stream.  Control goes through the commands table, so a
 * run hosted by a CLI elsewhere is steered the same way.
 */
#include "server_int.h"
#include "../base/fsutil.h"
#include "../collection/collection.h"
#include "../engine/config.h"
#include "../store/run_json.h"
#include "../engine/rerun.h"
#include "../engine/run_start.h"
#include "../swdl/workflow.h"

#include <microhttpd.h>

/* ---- reading runs ----------------------------------------------------------------------- */

/* A failed run's error with its stage's class and message, as run_details_json gives it. */
#define RUN_ERROR_SQL " coalesce((SELECT 'stage ''' || s.stage_id || ''' failed (' ||" \
	" coalesce(s.error_class, 'failed') || ')' || coalesce(': ' || s.error, '') FROM stages s" \
	" WHERE s.run_id = runs.id AND s.stage_id = runs.error AND s.status = 'failed')," \
	" error) AS error,"

static bool known_status(const char *s)
{
	static const char *const st[] = { "pending", "running", "paused", "halting", "cancelling",
		"completed", "failed", "cancelled", NULL };
	for (size_t i = 0; st[i]; i++)
		if (!strcmp(s, st[i]))
			return true;
	return false;
}

/* host_lost: the run has not ended and its host is gone (store_host_alive's test). */
static void mark_host(struct store *st, json_t *run)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	const char *status = json_string_value(json_object_get(run, "status"));
	json_object_set_new(run, "host_lost", json_boolean(id && status &&
			    !store_status_final(status) && !store_host_alive(st, id)));
}

void api_runs_list(struct request *rq, struct reply *out)
{
	const char *wf = request_arg(rq, "workflow"), *status = request_arg(rq, "status");
	const char *lim = request_arg(rq, "limit");
	long limit = lim ? strtol(lim, NULL, 10) : 50;
	if (status && !known_status(status)) {
		reply_error(out, 400, "bad_request", "unknown status '%s'", status);
		return;
	}
	if (limit < 1 || limit > 1000) {
		reply_error(out, 400, "bad_request", "limit must be 1 to 1000");
		return;
	}
	struct store *st = request_store(rq, out);
	sqlite3_stmt *s;
	if (!st)
		return;
	json_t *a = json_array();
	if (sqlite3_prepare_v2(store_db(st), "SELECT id, workflow_id, workflow_name, status,"
			       RUN_ERROR_SQL " created_at, started_at, finished_at, usd, tokens, rerun_of FROM runs"
			       " WHERE (?1 IS NULL OR workflow_id = ?1) AND (?2 IS NULL OR status = ?2)"
			       " ORDER BY created_at DESC LIMIT ?3", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, wf, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, limit);
		while (sqlite3_step(s) == SQLITE_ROW)
			json_array_append_new(a, store_row_json(s));
		sqlite3_finalize(s);
	}
	size_t i;
	json_t *run;
	json_array_foreach(a, i, run)
		mark_host(st, run);
	store_close(st);
	reply_json(out, 200, json_pack("{s:o}", "items", a));
}

static char *stored_path(const char *name, char **err);

/*
 * GET /workflow-executions/by-workflow/{id}?skip=N&limit=N: the runs of one
 * workflow (its SWDL id, or the stored name of a stored workflow), newest
 * first, as upstream's list_executions_by_workflow (limit 1 to 200, default 50).
 */
void api_runs_by_workflow(struct request *rq, struct reply *out)
{
	const char *sk = request_arg(rq, "skip"), *lim = request_arg(rq, "limit");
	char *end = NULL;
	long skip = sk ? strtol(sk, &end, 10) : 0;
	if (sk && (*end || skip < 0)) {
		reply_error(out, 400, "bad_request", "skip must be a number from 0");
		return;
	}
	long limit = lim ? strtol(lim, &end, 10) : 50;
	if (lim && (*end || limit < 1 || limit > 200)) {
		reply_error(out, 400, "bad_request", "limit must be 1 to 200");
		return;
	}
	/* A stored name stands for its workflow's id. */
	char *err = NULL, *path = stored_path(rq->params[0], &err), *wf_id = NULL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	if (path && !swdl_load_file(path, NULL, &l, &dl) && l)
		wf_id = xstrdup(l->wf.id);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(path);
	free(err);
	struct store *st = request_store(rq, out);
	sqlite3_stmt *s;
	json_t *a = json_array();
	if (st && sqlite3_prepare_v2(store_db(st), "SELECT id, workflow_id, workflow_name, status,"
			RUN_ERROR_SQL " created_at, started_at, finished_at, usd, tokens FROM runs"
			" WHERE workflow_id = ?1 OR workflow_id = ?2"
			" ORDER BY created_at DESC LIMIT ?3 OFFSET ?4", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, rq->params[0], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, wf_id ? wf_id : rq->params[0], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, limit);
		sqlite3_bind_int64(s, 4, skip);
		while (sqlite3_step(s) == SQLITE_ROW)
			json_array_append_new(a, store_row_json(s));
		sqlite3_finalize(s);
	}
	if (st)
		reply_json(out, 200, json_pack("{s:o}", "items", a));
	else
		json_decref(a);
	store_close(st);
	free(wf_id);
}

void api_run_get(struct request *rq, struct reply *out)
{
	struct store *st = request_store(rq, out);
	if (!st)
		return;
	json_t *run = run_details_json(st, rq->params[0]);
	if (run)
		mark_host(st, run);
	store_close(st);
	if (!run) {
		reply_error(out, 404, "not_found", "no run '%s'", rq->params[0]);
		return;
	}
	reply_json(out, 200, run);
}

/* ---- starting a run ---------------------------------------------------------------------- */

/* The stored workflow's file, by stored name or workflow id. */
static char *stored_path(const char *name, char **err)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	char *path = NULL;
	if (collection_open_optional(&c, &dl) || !c)
		*err = xstrdup("there is no active collection");
	else if (!(path = collection_workflow_file(c, name)))
		*err = xasprintf("no stored workflow '%s'", name);
	collection_free(c);
	diag_list_release(&dl);
	return path;
}

void api_run_start(struct request *rq, struct reply *out)
{
	json_t *body = request_json(rq, out);
	struct request_params rp = { 0 };
	char *err = NULL, *path = NULL, id[24];
	struct diag_list dl = DIAG_LIST_INIT;
	struct run_prepared p;
	struct store *st = NULL;
	struct engine_config cfg = { 0 };
	memset(&p, 0, sizeof(p));
	if (!body)
		return;
	const char *wf = json_string_value(json_object_get(body, "workflow_id"));
	if (!wf) {
		reply_error(out, 400, "bad_request", "workflow_id (a stored workflow) is required");
		goto out;
	}
	if (request_params(body, &rp, out))
		goto out;
	if (!(path = stored_path(wf, &err))) {
		reply_error(out, 404, "not_found", "%s", err);
		goto out;
	}
	json_t *mp = json_object_get(body, "max_parallel");
	json_int_t max_parallel = mp ? json_integer_value(mp) : 4;
	if (mp && (!json_is_integer(mp) || max_parallel < 1 || max_parallel > 256)) {
		reply_error(out, 400, "bad_request", "max_parallel must be an integer from 1 to 256");
		goto out;
	}
	struct run_request r = { rq->srv->home, path, rp.p, rp.nr, false, false, false, NULL,
		json_string_value(json_object_get(body, "workdir")), NULL, (long)max_parallel,
		rp.binds, rp.nr_binds };
	if (run_prepare(&r, &p, &dl, &err)) {
		reply_error(out, 400, "cannot_start", "%s", err);
		goto out;
	}
	if (dl.errors) {
		reply_first_diag(out, &dl);
		goto out;
	}
	char *config = path_join(rq->srv->home, "config.toml");
	int bad = engine_config_load(&cfg, config, &err);
	free(config);
	if (bad || !(st = request_store(rq, out)))
		goto out_err;
	if (run_prepared_create(&r, &p, st, &cfg, id, &err) || server_host_run(rq->srv, id, &err))
		goto out_err;
	char loc[96];
	snprintf(loc, sizeof(loc), "/api/v1/workflow-executions/%s", id);
	reply_json(out, 202, json_pack("{s:s, s:s, s:s}", "id", id, "status", "pending", "url",
				       loc));
	goto out;
out_err:
	if (err)
		reply_error(out, 500, "cannot_start", "%s", err);
out:
	store_close(st);
	engine_config_release(&cfg);
	run_prepared_release(&p);
	diag_list_release(&dl);
	request_params_release(&rp);
	free(path);
	free(err);
	json_decref(body);
}

/* ---- re-running a run ------------------------------------------------------------------ */

#define MAX_REQUEST_FROM 256

/* body.mode, body.from and body.reuse_unchanged into ro (from borrowed from the body). */
static int rerun_opts_of(const json_t *body, struct rerun_opts *ro, const char **from,
			 struct reply *out)
{
	const char *mode = json_string_value(json_object_get(body, "mode"));
	json_t *f = json_object_get(body, "from"), *ru = json_object_get(body, "reuse_unchanged");
	size_t i;
	json_t *v;
	if (!mode || !strcmp(mode, "all"))
		ro->mode = RERUN_ALL;
	else if (!strcmp(mode, "failed"))
		ro->mode = RERUN_FAILED;
	else if (!strcmp(mode, "from"))
		ro->mode = RERUN_FROM;
	else
		return reply_error(out, 400, "bad_request", "mode must be all, failed or from, "
				   "not '%s'", mode), SM_ERR;
	if (ro->mode == RERUN_FROM && (!json_is_array(f) || !json_array_size(f) ||
				       json_array_size(f) > MAX_REQUEST_FROM))
		return reply_error(out, 400, "bad_request", "mode from needs from: a list of 1 to "
				   "%d stage ids", MAX_REQUEST_FROM), SM_ERR;
	json_array_foreach(ro->mode == RERUN_FROM ? f : NULL, i, v) {
		if (!(from[i] = json_string_value(v)))
			return reply_error(out, 400, "bad_request", "from[%zu] is not a stage id", i),
			       SM_ERR;
	}
	if (ru && !json_is_boolean(ru))
		return reply_error(out, 400, "bad_request", "reuse_unchanged must be a boolean"),
		       SM_ERR;
	ro->from = from;
	ro->nr_from = ro->mode == RERUN_FROM ? json_array_size(f) : 0;
	ro->reuse_unchanged = json_is_true(ru);
	return SM_OK;
}

/* Load, check and decide; a problem is replied. */
static int rerun_prepare(struct request *rq, struct reply *out, struct store *st,
			 const struct rerun_opts *ro, struct rerun_origin *o,
			 struct rerun_request *r, struct run_prepared *p, struct rerun_plan *plan)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *err = NULL;
	int e = rerun_origin_load(st, rq->params[0], o, &err), ret = SM_ERR;
	if (e) {
		reply_error(out, e == SM_ENOENT ? 404 : 409, e == SM_ENOENT ? "not_found"
			    : "cannot_rerun", "%s", err);
		goto out;
	}
	if (rerun_request_init(r, rq->srv->home, o, ro, &err) || run_prepare(&r->rq, p, &dl, &err)) {
		reply_error(out, 409, "cannot_rerun", "%s", err);
		goto out;
	}
	if (dl.errors) {
		reply_first_diag(out, &dl);
		goto out;
	}
	if (rerun_decide(o, ro, r, p, plan, &err)) {
		reply_error(out, 409, "cannot_rerun", "%s", err);
		goto out;
	}
	ret = SM_OK;
out:
	diag_list_release(&dl);
	free(err);
	return ret;
}

/*
 * Body: {mode: all|failed|from, from: [stage], reuse_unchanged, parameters,
 * bindings, dry_run}.  202 {id, rerun_of, status, url, stages} (stages: the
 * plan of reuse); dry_run: 200 with the plan only.
 */
void api_run_rerun(struct request *rq, struct reply *out)
{
	json_t *body = request_json(rq, out);
	struct request_params rp = { 0 };
	struct rerun_opts ro = { 0 };
	struct rerun_origin o = { 0 };
	struct rerun_request r = { 0 };
	struct rerun_plan plan = { 0 };
	struct run_prepared p;
	struct engine_config cfg = { 0 };
	struct store *st = NULL;
	const char *from[MAX_REQUEST_FROM];
	char *err = NULL, id[24];
	memset(&p, 0, sizeof(p));
	if (!body || request_params(body, &rp, out) || rerun_opts_of(body, &ro, from, out) ||
	    !(st = request_store(rq, out)))
		goto out;
	ro.params = rp.p;
	ro.nr_params = rp.nr;
	ro.bindings = rp.binds;
	ro.nr_bindings = rp.nr_binds;
	if (rerun_prepare(rq, out, st, &ro, &o, &r, &p, &plan))
		goto out;
	json_t *j = rerun_plan_json(&o, &plan, &p.l->wf);
	if (json_is_true(json_object_get(body, "dry_run"))) {
		reply_json(out, 200, j);
		goto out;
	}
	char *config = path_join(rq->srv->home, "config.toml");
	int bad = engine_config_load(&cfg, config, &err);
	free(config);
	if (bad || rerun_create(st, &r, &p, &cfg, &o, &plan, id, &err) ||
	    server_host_run(rq->srv, id, &err)) {
		reply_error(out, 500, "cannot_start", "%s", err);
		json_decref(j);
		goto out;
	}
	char loc[96];
	snprintf(loc, sizeof(loc), "/api/v1/workflow-executions/%s", id);
	json_object_update_new(j, json_pack("{s:s, s:s, s:s}", "id", id, "status", "pending",
					    "url", loc));
	reply_json(out, 202, j);
out:
	rerun_plan_release(&plan);
	run_prepared_release(&p);
	rerun_request_release(&r);
	rerun_origin_release(&o);
	engine_config_release(&cfg);
	store_close(st);
	request_params_release(&rp);
	free(err);
	json_decref(body);
}

/* ---- control ------------------------------------------------------------------------------ */

/*
 * Post a command; a resume or cancel of a run whose host is gone is hosted
 * here (a cancel then stops what the dead host left running).  Any other
 * command to such a run is refused, not stored: a later resume would apply
 * it unasked.  Alive is store_host_alive's test (the run's lease lock).
 */
/*
 * Post one control command: 202, or the HTTP status with *why (the error's
 * name) and *err.  A run whose host is gone takes only resume and cancel
 * (this server then hosts it); anything else is refused, not stored.
 */
static int control_one(struct server *srv, struct store *st, const char *id, const char *kind,
		       const char *stage, const char *reason, const char **why, char **err)
{
	char status[16];
	bool takes_over = !strcmp(kind, "resume") || !strcmp(kind, "cancel"), alive;
	if (store_run_status_get(st, id, status)) {
		*why = "not_found";
		*err = xasprintf("no run '%s'", id);
		return 404;
	}
	if (store_status_final(status)) {
		*why = "ended";
		*err = xasprintf("run %s has already ended (%s)", id, status);
		return 409;
	}
	alive = store_host_alive(st, id) > 0;
	if (!alive && !takes_over) {
		*why = "host_gone";
		*err = xasprintf("run %s: its host is gone: run `skillmeat workflow resume %s`", id,
				 id);
		return 409;
	}
	if (store_command_add(st, id, kind, stage, reason)) {
		*why = "store";
		*err = xstrdup(store_error(st));
		return 500;
	}
	if (takes_over && !alive && server_host_run(srv, id, err)) {
		*why = "cannot_resume";
		return 500;
	}
	return 202;
}

static void post(struct request *rq, struct reply *out, const char *kind, const char *stage,
		 const char *reason)
{
	struct store *st = request_store(rq, out);
	const char *id = rq->params[0], *why = NULL;
	char *err = NULL;
	if (!st)
		return;
	int code = control_one(rq->srv, st, id, kind, stage, reason, &why, &err);
	if (code == 202)
		reply_json(out, 202, json_pack("{s:s, s:s, s:s?}", "id", id, "command", kind,
					       "stage_id", stage));
	else
		reply_error(out, code, why, "%s", err ? err : "");
	free(err);
	store_close(st);
}

/*
 * POST /workflow-executions/batch/{pause,resume,cancel}, body
 * {execution_ids: [...]}: each run on its own, as upstream's batch
 * endpoints: {results: [{execution_id, success, status?, error?}],
 * succeeded_count, failed_count}, 200 even when some fail.  `status` is
 * the run's status when the command was posted (its host applies it).
 */
void api_runs_batch(struct request *rq, struct reply *out)
{
	const char *kind = strrchr(rq->url, '/') + 1;
	json_t *body = request_json(rq, out);
	json_t *ids = body ? request_id_list(out, body, "execution_ids") : NULL;
	struct store *st = ids ? request_store(rq, out) : NULL;
	json_t *v, *results = json_array();
	size_t i, ok = 0;
	json_array_foreach(st ? ids : NULL, i, v) {
		const char *id = json_string_value(v);
		char *err = NULL, status[16] = "";
		const char *why = NULL;
		int code = control_one(rq->srv, st, id, kind, NULL, NULL, &why, &err);
		if (code == 202)
			store_run_status_get(st, id, status);
		json_array_append_new(results, json_pack("{s:s, s:b, s:s?, s:s?}", "execution_id", id,
			"success", code == 202, "status", code == 202 ? status : NULL, "error",
			code == 404 ? "Execution not found" : err));
		ok += code == 202;
		free(err);
	}
	if (st)
		reply_json(out, 200, json_pack("{s:o, s:I, s:I}", "results", results,
					       "succeeded_count", (json_int_t)ok, "failed_count",
					       (json_int_t)(json_array_size(ids) - ok)));
	else
		json_decref(results);
	store_close(st);
	json_decref(body);
}

void api_run_control(struct request *rq, struct reply *out)
{
	const char *action = strrchr(rq->url, '/') + 1;
	post(rq, out, action, NULL, NULL);
}

/* Is the gate waiting?  The host ignores a decision for a stage that is not. */
static bool gate_waiting(struct store *st, const char *id, const char *stage)
{
	sqlite3_stmt *s;
	bool yes = false;
	/* a decision posted and not yet applied decides it already */
	if (sqlite3_prepare_v2(store_db(st), "SELECT 1 FROM stages WHERE run_id = ?1 AND"
			       " stage_id = ?2 AND status = 'waiting_for_approval' AND NOT EXISTS"
			       " (SELECT 1 FROM commands WHERE run_id = ?1 AND stage_id = ?2 AND"
			       "  kind IN ('approve', 'reject') AND taken_at IS NULL)", -1, &s,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, stage, -1, SQLITE_STATIC);
	yes = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return yes;
}

void api_run_gate(struct request *rq, struct reply *out)
{
	const char *action = strrchr(rq->url, '/') + 1;
	json_t *body = request_json(rq, out);
	struct store *st = body ? request_store(rq, out) : NULL;
	if (st && !gate_waiting(st, rq->params[0], rq->params[1]))
		reply_error(out, 409, "not_waiting", "stage '%s' of run %s is not waiting for "
			    "approval (or is already decided)", rq->params[1], rq->params[0]);
	else if (st)
		post(rq, out, action, rq->params[1],
		     json_string_value(json_object_get(body, "reason")));
	store_close(st);
	json_decref(body);
}

/*
 * A stream's database, once it has a place among the streams (a 503 with
 * Retry-After when they are all taken; freeing the stream gives it back).
 */
static struct store *stream_store(struct request *rq, struct reply *out)
{
	if (!conns_stream_take(&rq->srv->conns, rq->conn)) {
		reply_error(out, 503, "too_many_streams", "%zu event streams are open, the most "
			    "this server keeps; close one or retry later", rq->srv->conns.lim.streams);
		out->retry_after = STREAM_RETRY_AFTER;
		return NULL;
	}
	struct store *st = request_store(rq, out);
	if (!st)
		conns_stream_release(&rq->srv->conns);
	return st;
}

void api_run_stream(struct request *rq, struct reply *out)
{
	const char *last = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Last-Event-ID");
	const char *after = last ? last : request_arg(rq, "after");
	struct store *st = stream_store(rq, out);
	if (!st)
		return;
	char status[16];
	if (store_run_status_get(st, rq->params[0], status)) {
		store_close(st);
		conns_stream_release(&rq->srv->conns);
		reply_error(out, 404, "not_found", "no run '%s'", rq->params[0]);
		return;
	}
	out->status = 200;
	out->sse = sse_new(rq->srv, st, rq->params[0], after ? strtoll(after, NULL, 10) : -1,
			   false);
}

/* Every run's events; ?runs_only=1 keeps run-level ones (for lists and dashboards). */
void api_runs_stream(struct request *rq, struct reply *out)
{
	const char *last = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, "Last-Event-ID");
	const char *after = last ? last : request_arg(rq, "after");
	const char *only = request_arg(rq, "runs_only");
	struct store *st = stream_store(rq, out);
	if (!st)
		return;
	out->status = 200;
	out->sse = sse_new(rq->srv, st, NULL, after ? strtoll(after, NULL, 10) : 0,
			   only && strcmp(only, "0"));
}
