#include "../base/compat.h"
#include "stage_exec.h"
#include "../store/run_json.h"
#include "../engine/scheduler.h"
#include "../base/fsutil.h"

#include <unistd.h>

json_t *run_bundle_json(const struct run_create *rc, char **err)
{
	json_t *b = host_snapshot_json(rc, err);
	if (b) {
		json_object_set_new(b, "format", json_string(RUN_BUNDLE_FORMAT));
		json_object_set(b, "parameters", (json_t *)rc->params);
		/* a fan-out's items at once inside its pod (the run's -j) */
		json_object_set_new(b, "max_parallel", json_integer(rc->max_parallel));
	}
	return b;
}

json_t *run_prepared_bundle(const struct run_request *rq, struct run_prepared *p, char **err)
{
	struct run_create cr;
	run_prepared_create_of(rq, p, NULL, &cr);
	json_t *b = run_bundle_json(&cr, err);
	run_create_release(&cr);
	return b;
}

/* The bundle's workflow, loaded and bound as a host loads a run's snapshot. */
static int load_bundle(json_t *b, struct swdl_loaded **l, char **err)
{
	const char *fmt = json_string_value(json_object_get(b, "format"));
	if (!fmt || strcmp(fmt, RUN_BUNDLE_FORMAT)) {
		*err = xasprintf("not a run bundle (format \"%s\" expected)", RUN_BUNDLE_FORMAT);
		return SM_ERR;
	}
	if (!json_is_object(json_object_get(b, "parameters"))) {
		*err = xstrdup("the bundle has no parameters object");
		return SM_ERR;
	}
	struct role_binding *binds = NULL;
	size_t nr = 0;
	struct diag_list dl = DIAG_LIST_INIT;
	char *text = json_dumps(json_object_get(b, "workflow"), JSON_COMPACT);
	if (!text || role_bindings_from_json(json_object_get(b, "bindings"), &binds, &nr)) {
		*err = xstrdup("the bundle's workflow or bindings are damaged");
	} else {
		struct swdl_load_opts lo = { .bind_roles = true, .bindings = binds, .nr_bindings = nr };
		swdl_load_buffer("bundle.json", text, strlen(text), DOC_JSON, &lo, l, &dl);
		if (dl.errors || !*l || !(*l)->dag.acyclic)
			*err = xasprintf("the bundle's workflow does not validate (%s)",
					 dl.nr ? dl.items[0].message : "cycle");
	}
	free(binds);
	free(text);
	diag_list_release(&dl);
	return *err ? SM_ERR : SM_OK;
}

/* Every stage the target depends on, directly or not, must have ended elsewhere. */
static int check_upstream(const struct swdl_loaded *l, size_t target, json_t *up, char **err)
{
	static const char *const ended[] = { "completed", "failed", "skipped", NULL };
	for (size_t i = 0; i < l->wf.nr_stages; i++) {
		const char *id = l->wf.stages[i].id;
		json_t *r = json_object_get(up, id);
		const char *st = json_string_value(json_object_get(r, "status"));
		bool known = false;
		for (size_t k = 0; st && ended[k]; k++)
			known |= !strcmp(st, ended[k]);
		if (r && !known) {
			*err = xasprintf("the result of stage '%s' has no status (completed, failed or "
					 "skipped)", id);
			return SM_ERR;
		}
		if (!r && i != target && swdl_dag_depends_on(&l->dag, target, i)) {
			*err = xasprintf("no result for stage '%s', which '%s' depends on", id,
					 l->wf.stages[target].id);
			return SM_ERR;
		}
	}
	return SM_OK;
}

static int create_run(struct store *st, const struct stage_exec_request *rq,
		      const struct swdl_loaded *l, json_t *b, char id[24], char **err)
{
	const struct swdl_workflow *wf = &l->wf;
	char *snapshot = json_dumps(b, JSON_COMPACT);
	char *params = json_dumps(json_object_get(b, "parameters"), JSON_COMPACT);
	char hash[HOST_HASH_HEX];
	host_snapshot_hash(snapshot, hash);
	json_t *m = json_pack("{s:s, s:s, s:s, s:O, s:s, s:O*}", "engine", "skillmeat",
			      "engine_version", SM_VERSION, "workflow_hash", hash, "parameters",
			      json_object_get(b, "parameters"), "stage_exec", rq->stage_id,
			      "bindings", json_object_get(b, "bindings"));
	char *manifest = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	char *cwd = rq->workdir ? realpath(rq->workdir, NULL) : getcwd(NULL, 0);
	json_int_t jobs = json_integer_value(json_object_get(b, "max_parallel"));
	struct run_new rn = { NULL, wf->id, wf->name, wf->version, hash, "stage exec", snapshot,
		params, manifest, cwd ? cwd : ".", rq->runner, jobs >= 1 && jobs <= 256 ? jobs : 4 };
	int r = host_store_run(st, wf, &rn, id, err);
	free(cwd);
	free(manifest);
	json_decref(m);
	free(params);
	free(snapshot);
	return r;
}

/* Record the other stages as they ended elsewhere (not given: skipped here), and the
 * target's attempts made before this one. */
static int record_upstream(struct store *st, const char *run_id, const struct swdl_loaded *l,
			   size_t target, const struct stage_exec_request *rq, char **err)
{
	int r = store_begin(st);
	for (size_t i = 0; !r && i < l->wf.nr_stages; i++) {
		const char *id = l->wf.stages[i].id;
		json_t *res = json_object_get(rq->upstream, id);
		if (i == target) { /* attempts made elsewhere: this one is the next */
			struct stage_row mine = { "pending", rq->retries, 0, 0, 0, 0, NULL, NULL,
						  NULL };
			r = rq->retries > 0 && store_stage_update(st, run_id, id, &mine);
			continue;
		}
		char *outs = json_dumps(json_object_get(res, "outputs"), JSON_COMPACT);
		char *handoff = json_dumps(json_object_get(res, "handoff"), JSON_COMPACT);
		const char *status = res ? json_string_value(json_object_get(res, "status"))
					 : "skipped";
		struct stage_row row = { status, 0, 0, store_now(), 0, 0,
			!strcmp(status, "failed") ? "upstream_failed" : NULL, NULL, outs };
		r = store_stage_update(st, run_id, id, &row) ||
		    (handoff && store_stage_handoff(st, run_id, id, handoff));
		free(outs);
		free(handoff);
	}
	if (r || store_commit(st)) {
		store_rollback(st);
		*err = xasprintf("cannot record the other stages: %s", store_error(st));
		return SM_ERR;
	}
	return SM_OK;
}

/* "retryable": whether another attempt could end a failed result differently. */
static void set_retryable(json_t *res, const struct swdl_loaded *l, size_t target)
{
	struct sched s;
	sched_init(&s, &l->wf, &l->dag, 1, 0, NULL, NULL);
	const char *cls = json_string_value(json_object_get(res, "error_class"));
	const char *status = json_string_value(json_object_get(res, "status"));
	json_object_set_new(res, "retryable", json_boolean(status && !strcmp(status, "failed") &&
			    sched_class_retryable(&s, target, cls)));
	sched_release(&s);
}

/* The row of `sql` (selecting stage_id, for the run ?1) that is stage_id's (new reference). */
static json_t *stage_row(struct store *st, const char *sql, const char *run_id,
			 const char *stage_id)
{
	json_t *rows = store_rows_json(st, sql, run_id), *res = NULL, *row;
	size_t i;
	json_array_foreach(rows, i, row)
		if (!strcmp(json_string_value(json_object_get(row, "stage_id")), stage_id))
			res = json_incref(row);
	json_decref(rows);
	return res;
}

static json_t *read_result(struct store *st, const char *run_id, const struct swdl_loaded *l,
			   size_t target)
{
	json_t *res = stage_row(st, "SELECT stage_id, status, attempt, error_class, error,"
				" outputs, handoff FROM stages WHERE run_id = ?1", run_id,
				l->wf.stages[target].id);
	if (!res)
		return NULL;
	set_retryable(res, l, target);
	json_t *h = json_object_get(res, "handoff");
	if (json_is_string(h)) /* stored as text */
		json_object_set_new(res, "handoff", json_loads(json_string_value(h), 0, NULL));
	return res;
}

/* The fan-out's item indices, or ["none"]: Argo's withParam is never given an empty list. */
static json_t *list_result(struct store *st, const char *run_id, const char *stage_id)
{
	json_t *res = stage_row(st, "SELECT stage_id, status, items FROM stages WHERE run_id = ?1",
				run_id, stage_id), *idx = json_array();
	size_t n = res ? json_array_size(json_object_get(res, "items")) : 0;
	for (size_t k = 0; k < n; k++)
		json_array_append_new(idx, json_integer((json_int_t)k));
	if (!n)
		json_array_append_new(idx, json_string("none"));
	if (res)
		json_object_set_new(res, "items", idx);
	else
		json_decref(idx);
	return res;
}

/* One item's row of the items table, as its result. */
static json_t *item_result(struct store *st, const char *run_id, const struct swdl_loaded *l,
			   size_t target, long item, char **err)
{
	const char *sid = l->wf.stages[target].id;
	json_t *rows = store_rows_json(st, "SELECT stage_id, item, status, tries, error_class,"
				       " error, outputs FROM items WHERE run_id = ?1", run_id);
	json_t *res = NULL, *row;
	size_t i, n = 0;
	json_array_foreach(rows, i, row) {
		if (strcmp(json_string_value(json_object_get(row, "stage_id")), sid))
			continue;
		n++;
		if (json_integer_value(json_object_get(row, "item")) == item)
			res = json_incref(row);
	}
	json_decref(rows);
	if (!res) {
		*err = xasprintf("stage '%s' has %zu items here, none numbered %ld (were its "
				 "dependencies' results the same as for the list?)", sid, n, item);
		return NULL;
	}
	if (json_is_null(json_object_get(res, "outputs")))
		json_object_set_new(res, "outputs", json_object());
	set_retryable(res, l, target);
	return res;
}

/*
 * A gathered item ends here at once, as one try; the tries its pod made are in its
 * result: the item's attempts, and the stage's (every item's, as locally), say those.
 */
static void gathered_tries(json_t *res, const json_t *results)
{
	json_t *h = json_object_get(res, "handoff"), *it;
	json_int_t total = 0;
	size_t i;
	json_array_foreach(json_object_get(h, "items"), i, it) {
		char key[24];
		snprintf(key, sizeof(key), "%lld",
			 (long long)json_integer_value(json_object_get(it, "index")));
		json_t *tries = json_object_get(json_object_get(results, key), "tries");
		if (json_is_integer(tries) && json_integer_value(tries) > 0)
			json_object_set(it, "attempts", tries);
		total += json_integer_value(json_object_get(it, "attempts"));
	}
	if (total > 0) {
		json_object_set_new(res, "attempt", json_integer(total));
		if (json_is_object(h))
			json_object_set_new(h, "attempt", json_integer(total));
	}
}

int stage_exec_item_results(const json_t *list, json_t **map, char **err)
{
	size_t i;
	json_t *e;
	*map = NULL;
	if (!json_is_array(list)) {
		*err = xstrdup("the item results are not a JSON list");
		return SM_ERR;
	}
	json_t *m = json_object();
	json_array_foreach(list, i, e) {
		json_t *r = json_object_get(e, "result"), *parsed = NULL;
		if (json_is_object(e) && (json_is_null(r) || (json_is_string(r) &&
		    !json_string_length(r))))
			continue; /* a pod that wrote no result (lost): its item has none */
		if (json_is_string(r)) /* Argo's aggregate: parameters are text */
			r = parsed = json_loads(json_string_value(r), 0, NULL);
		else if (!r)
			r = (json_t *)e;
		json_t *item = json_object_get(r, "item");
		const char *status = json_string_value(json_object_get(r, "status"));
		if (!json_is_object(r) || !status || (!json_is_integer(item) && !json_is_null(item))) {
			*err = xasprintf("item result %zu is not one (an object with item and status)",
					 i);
			json_decref(parsed);
			json_decref(m);
			return SM_ERR;
		}
		if (json_is_integer(item)) {
			char key[24];
			snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(item));
			json_object_set(m, key, r);
		}
		json_decref(parsed);
	}
	*map = m;
	return SM_OK;
}

json_t *stage_exec_gate_result(const char *decision, char **err)
{
	if (!strcmp(decision, "approve"))
		return json_pack("{s:s, s:{}}", "status", "completed", "outputs");
	const char *cls = !strcmp(decision, "reject") ? "gate_rejected"
		: !strcmp(decision, "timeout") ? "gate_timeout" : NULL;
	if (!cls) {
		*err = xasprintf("a gate's decision is approve or reject (timeout: the default "
				 "when its duration is over), got '%s'", decision);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:{}}", "status", "failed", "error_class", cls, "outputs");
}

int stage_exec(const struct stage_exec_request *rq, json_t **result, char **err)
{
	struct swdl_loaded *l = NULL;
	struct store *st = NULL;
	char run_id[24], status[16], *path = NULL;
	*result = NULL;
	*err = NULL;
	json_t *b = json_loads(rq->bundle, 0, NULL);
	int r = SM_ERR;
	if (!json_is_object(b)) {
		*err = xstrdup("the bundle is not JSON");
		goto out;
	}
	if (load_bundle(b, &l, err))
		goto out;
	long target = swdl_stage_find(&l->wf, rq->stage_id);
	if (target < 0) {
		*err = xasprintf("the workflow has no stage '%s'", rq->stage_id);
		goto out;
	}
	if (rq->part != STAGE_EXEC_WHOLE && l->wf.stages[target].type != STAGE_FAN_OUT) {
		*err = xasprintf("stage '%s' is not a fan-out: it has no items", rq->stage_id);
		goto out;
	}
	if (check_upstream(l, (size_t)target, rq->upstream, err))
		goto out;
	if (rq->part == STAGE_EXEC_ITEM && rq->item < 0) { /* a placeholder: nothing to run */
		*result = json_pack("{s:s, s:n, s:s}", "stage_id", rq->stage_id, "item", "status",
				    "none");
		r = SM_OK;
		goto out;
	}
	path = store_default_path(rq->home);
	if (fs_mkdirs(rq->home) || store_open(path, &st, err)) {
		if (!*err)
			*err = xasprintf("%s: %s", rq->home, strerror(errno));
		goto out;
	}
	if (create_run(st, rq, l, b, run_id, err) ||
	    record_upstream(st, run_id, l, (size_t)target, rq, err))
		goto out;
	static const int modes[] = { [STAGE_EXEC_LIST] = ITEMS_LIST,
		[STAGE_EXEC_ITEM] = ITEMS_ONE, [STAGE_EXEC_GATHER] = ITEMS_GATHER };
	struct items_elsewhere ie = { modes[rq->part], (size_t)target, rq->item,
				      rq->item_results };
	struct host_opts ho = { .home = rq->home, .config = rq->config, .on_event = rq->on_event,
		.ctx = rq->ctx, .host_kind = "stage-exec", .stage_exec = true,
		.items_elsewhere = rq->part != STAGE_EXEC_WHOLE ? &ie : NULL };
	if (host_run(st, run_id, &ho, status, err))
		goto out;
	if (rq->part == STAGE_EXEC_LIST)
		*result = list_result(st, run_id, rq->stage_id);
	else if (rq->part == STAGE_EXEC_ITEM)
		*result = item_result(st, run_id, l, (size_t)target, rq->item, err);
	else if ((*result = read_result(st, run_id, l, (size_t)target)) &&
		 rq->part == STAGE_EXEC_GATHER)
		gathered_tries(*result, rq->item_results);
	if (!*result && !*err)
		*err = xstrdup("the stage's result could not be read back");
	r = *result ? SM_OK : SM_ERR;
out:
	store_close(st);
	free(path);
	swdl_loaded_free(l);
	json_decref(b);
	return r;
}
