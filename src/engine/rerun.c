/*
 * rerun.c - a new run of the workflow's current definition that reuses
 * what another run recorded for the stages that need not run again (see
 * rerun.h for the rules).
 */
#include "../base/compat.h"
#include "rerun.h"
#include "outputs.h"
#include "../base/fsutil.h"
#include "../swdl/workflow.h"

/* ---- the original run -------------------------------------------------------------- */

static char *col_text(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

static json_t *col_json(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	return t ? json_loads(t, 0, NULL) : NULL;
}

static int load_stages(struct store *st, struct rerun_origin *o)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(store_db(st), "SELECT stage_id, status, outputs, handoff, items,"
			       " started_at, finished_at FROM stages WHERE run_id = ?1 ORDER BY idx",
			       -1, &s, NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, o->id, -1, SQLITE_STATIC);
	o->stages = json_object();
	while (sqlite3_step(s) == SQLITE_ROW) {
		json_t *row = json_pack("{s:s, s:s?, s:s?, s:s?, s:f, s:f}", "status",
			(const char *)sqlite3_column_text(s, 1),
			"outputs", (const char *)sqlite3_column_text(s, 2),
			"handoff", (const char *)sqlite3_column_text(s, 3),
			"items", (const char *)sqlite3_column_text(s, 4),
			"started_at", sqlite3_column_double(s, 5),
			"finished_at", sqlite3_column_double(s, 6));
		if (row)
			json_object_set_new(o->stages, (const char *)sqlite3_column_text(s, 0), row);
	}
	sqlite3_finalize(s);
	return SM_OK;
}

int rerun_origin_load(struct store *st, const char *run_id, struct rerun_origin *o, char **err)
{
	sqlite3_stmt *s;
	int r = SM_ERR;
	memset(o, 0, sizeof(*o));
	*err = NULL;
	if (sqlite3_prepare_v2(store_db(st), "SELECT id, status, workflow_id, source, workdir,"
			       " runner, max_parallel, parameters, snapshot, manifest FROM runs"
			       " WHERE id = ?1", -1, &s, NULL) != SQLITE_OK) {
		*err = xstrdup(store_error(st));
		return SM_EIO;
	}
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		*err = xasprintf("no run '%s'", run_id);
		r = SM_ENOENT;
		goto out;
	}
	snprintf(o->id, sizeof(o->id), "%s", (const char *)sqlite3_column_text(s, 0));
	snprintf(o->status, sizeof(o->status), "%s", (const char *)sqlite3_column_text(s, 1));
	o->workflow_id = col_text(s, 2);
	o->source = col_text(s, 3);
	o->workdir = col_text(s, 4);
	o->runner = col_text(s, 5);
	o->max_parallel = (long)sqlite3_column_int64(s, 6);
	o->params = col_json(s, 7);
	o->snapshot = col_json(s, 8);
	o->manifest = col_json(s, 9);
	if (!o->params || !o->snapshot) {
		*err = xasprintf("run %s: its recorded parameters or snapshot do not read as JSON",
				 o->id);
		goto out;
	}
	if (!store_status_final(o->status)) {
		*err = xasprintf("run %s has not ended (%s): wait for it, or cancel it, before "
				 "re-running it", o->id, o->status);
		goto out;
	}
	if (!o->source || !strcmp(o->source, "stage exec")) {
		*err = xasprintf("run %s has no workflow file to re-run", o->id);
		goto out;
	}
	if (o->source[0] != '/' && o->workdir) { /* runs recorded before sources were absolute */
		char *abs = path_join(o->workdir, o->source);
		free(o->source);
		o->source = abs;
	}
	r = load_stages(st, o) ? SM_EIO : SM_OK;
	if (r)
		*err = xstrdup(store_error(st));
out:
	sqlite3_finalize(s);
	return r;
}

void rerun_origin_release(struct rerun_origin *o)
{
	free(o->workflow_id);
	free(o->source);
	free(o->workdir);
	free(o->runner);
	json_decref(o->params);
	json_decref(o->snapshot);
	json_decref(o->manifest);
	json_decref(o->stages);
	memset(o, 0, sizeof(*o));
}

/* ---- the request: the original's settings under what is given now ----------------- */

static const char *keep(struct rerun_request *r, char *s)
{
	r->keep = xrealloc(r->keep, (r->nr_keep + 1) * sizeof(*r->keep));
	return r->keep[r->nr_keep++] = s;
}

/* The original's parameters the current definition still declares, as command-line text. */
static void carry_params(struct rerun_request *r, const struct swdl_workflow *wf,
			 const struct rerun_origin *o, const struct rerun_opts *ro)
{
	size_t n = 0;
	r->params = xcalloc(json_object_size(o->params) + ro->nr_params + 1, sizeof(*r->params));
	for (size_t i = 0; i < wf->nr_params; i++) {
		const struct swdl_param *d = &wf->params[i];
		json_t *v = json_object_get(o->params, d->name);
		bool given = false;
		for (size_t k = 0; k < ro->nr_params; k++)
			given |= !strcmp(ro->params[k].name, d->name);
		if (!v || given)
			continue;
		const char *text = json_is_string(v) && !strcmp(d->type, "string")
			? json_string_value(v) : keep(r, json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT));
		r->params[n++] = (struct plan_param){ keep(r, xstrdup(d->name)), text };
	}
	for (size_t k = 0; k < ro->nr_params; k++)
		r->params[n++] = ro->params[k];
	r->rq.params = r->params;
	r->rq.nr_params = n;
}

/* The bindings the original was given (--bind, the request), under those given now. */
static void carry_bindings(struct rerun_request *r, const struct rerun_origin *o,
			   const struct rerun_opts *ro)
{
	json_t *b = json_object_get(o->manifest, "bindings");
	size_t n = 0;
	const char *name;
	json_t *v;
	r->binds = xcalloc(json_object_size(b) + ro->nr_bindings + 1, sizeof(*r->binds));
	json_object_foreach(b, name, v) {
		const char *src = json_string_value(json_object_get(v, "source"));
		const char *art = json_string_value(json_object_get(v, "artifact"));
		bool given = false;
		for (size_t k = 0; k < ro->nr_bindings; k++)
			given |= !strcmp(ro->bindings[k].name, name);
		/* Defaults and the overrides file are the current definition's business. */
		if (given || !art || !src || (strcmp(src, "--bind") && strcmp(src, "request")))
			continue;
		r->binds[n++] = (struct role_binding){ name, art, ROLE_BIND, NULL };
	}
	for (size_t k = 0; k < ro->nr_bindings; k++)
		r->binds[n++] = ro->bindings[k];
	r->rq.bindings = r->binds;
	r->rq.nr_bindings = n;
}

int rerun_request_init(struct rerun_request *r, const char *home, const struct rerun_origin *o,
		       const struct rerun_opts *ro, char **err)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct swdl_load_opts lo = { .overrides = true, .overrides_dir = o->workdir };
	memset(r, 0, sizeof(*r));
	*err = NULL;
	/* Only to learn which parameters it declares now: run_prepare reports problems. */
	swdl_load_file(o->source, &lo, &l, &dl);
	if (!l) {
		*err = xasprintf("%s (the workflow of run %s): %s", o->source, o->id,
				 dl.nr ? dl.items[0].message : "cannot be read");
		diag_list_release(&dl);
		return SM_ERR;
	}
	r->rq = (struct run_request){ home, o->source, NULL, 0, false, false, false, o->workdir,
		o->workdir, o->runner, o->max_parallel > 0 ? o->max_parallel : 4, NULL, 0,
		o->id, NULL };
	carry_params(r, &l->wf, o, ro);
	carry_bindings(r, o, ro);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	return SM_OK;
}

void rerun_request_release(struct rerun_request *r)
{
	for (size_t i = 0; i < r->nr_keep; i++)
		free(r->keep[i]);
	free(r->keep);
	free(r->params);
	free(r->binds);
	memset(r, 0, sizeof(*r));
}

/* ---- what each stage does ---------------------------------------------------------- */

/* The stage `id` of a snapshot's workflow, or NULL. */
static json_t *snapshot_stage(json_t *snap, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(json_object_get(snap, "workflow"), "stages"), i, v) {
		const char *sid = json_string_value(json_object_get(v, "id"));
		if (sid && !strcmp(sid, id))
			return v;
	}
	return NULL;
}

/* Every artifact a stage's strings name, directly or through a bound role: ref -> text. */
static void stage_artifacts(json_t *snap, json_t *v, json_t *out)
{
	json_t *arts = json_object_get(snap, "artifacts"), *binds = json_object_get(snap, "bindings");
	if (json_is_object(v) || json_is_array(v)) {
		const char *k;
		size_t i;
		json_t *x;
		if (json_is_object(v))
			json_object_foreach(v, k, x)
				stage_artifacts(snap, x, out);
		else
			json_array_foreach(v, i, x)
				stage_artifacts(snap, x, out);
		return;
	}
	const char *s = json_string_value(v), *role;
	json_t *b;
	if (!s)
		return;
	json_t *text = json_object_get(json_object_get(arts, s), "text");
	if (json_object_get(arts, s))
		json_object_set(out, s, text ? text : json_null());
	json_object_foreach(binds, role, b) {
		char *needle = xasprintf("roles.%s", role);
		const char *ref = json_string_value(json_object_get(b, "artifact"));
		if (strstr(s, needle) && ref) {
			json_t *t = json_object_get(json_object_get(arts, ref), "text");
			json_object_set_new(out, ref, t ? json_incref(t) : json_string("(missing)"));
		}
		free(needle);
	}
}

/*
 * What a stage's work depends on besides the stages before it: its
 * definition, its artifacts' texts, its context pack, the parameters and
 * the workflow's config (env, budgets, defaults).
 */
static json_t *fingerprint(json_t *snap, json_t *params, const char *id)
{
	json_t *def = snapshot_stage(snap, id), *arts = json_object();
	stage_artifacts(snap, def, arts);
	json_t *pack = json_object_get(json_object_get(json_object_get(snap, "packs"), id), "text");
	json_t *config = json_object_get(json_object_get(snap, "workflow"), "config");
	return json_pack("{s:O*, s:o, s:O*, s:O*, s:O*}", "definition", def, "artifacts", arts,
			 "context pack", pack, "parameters", params, "config", config);
}

/* Why two fingerprints differ ("" if they do not), as "its definition", ... */
static char *fingerprint_diff(json_t *a, json_t *b)
{
	static const char *const parts[] = { "definition", "artifacts", "context pack",
		"parameters", "config" };
	static const char *const say[] = { "its definition", "an artifact it uses",
		"its context pack", "the parameters", "the workflow's config" };
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		json_t *x = json_object_get(a, parts[i]), *y = json_object_get(b, parts[i]);
		if ((x || y) && (!x || !y || !json_equal(x, y)))
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", say[i]);
	}
	return strbuf_detach(&sb, NULL);
}

static bool named_from(const struct rerun_opts *ro, const char *id)
{
	for (size_t i = 0; ro->mode == RERUN_FROM && i < ro->nr_from; i++)
		if (!strcmp(ro->from[i], id))
			return true;
	return false;
}

/* Refusals that do not depend on the order of the stages. */
static int check_shape(const struct rerun_origin *o, const struct rerun_opts *ro,
		       const struct swdl_workflow *wf, char **err)
{
	const char *id;
	json_t *v;
	if (o->workflow_id && strcmp(o->workflow_id, wf->id)) {
		*err = xasprintf("%s is now workflow '%s', not '%s' that run %s ran", o->source,
				 wf->id, o->workflow_id, o->id);
		return SM_ERR;
	}
	for (size_t i = 0; ro->mode == RERUN_FROM && i < ro->nr_from; i++)
		if (swdl_stage_find(wf, ro->from[i]) < 0) {
			*err = xasprintf("--from %s: the workflow has no stage '%s'", ro->from[i],
					 ro->from[i]);
			return SM_ERR;
		}
	if (ro->mode == RERUN_ALL || ro->reuse_unchanged)
		return SM_OK;
	json_object_foreach(o->stages, id, v) {
		const char *st = json_string_value(json_object_get(v, "status"));
		if (swdl_stage_find(wf, id) < 0 && (!strcmp(st, "completed") || !strcmp(st, "reused"))) {
			*err = xasprintf("stage '%s' completed in run %s but no longer exists in %s: "
					 "its record cannot be reused; re-run every stage (no flag) or "
					 "let --reuse-unchanged pick", id, o->id, o->source);
			return SM_ERR;
		}
	}
	return SM_OK;
}

/* Why stage i runs again (malloc'd), or NULL when it may be reused. */
static char *why_runs(const struct rerun_origin *o, const struct rerun_opts *ro,
		      const struct swdl_dag *dag, const struct swdl_workflow *wf,
		      const struct rerun_plan *plan, size_t i)
{
	const char *id = wf->stages[i].id;
	json_t *rec = json_object_get(o->stages, id);
	const char *st = json_string_value(json_object_get(rec, "status"));
	if (!rec)
		return xasprintf("new: run %s has no stage '%s'", o->id, id);
	if (strcmp(st, "completed") && strcmp(st, "reused"))
		return xasprintf("%s in run %s", st, o->id);
	if (named_from(ro, id))
		return xstrdup("named by --from");
	for (size_t k = dag->pred_off[i]; k < dag->pred_off[i + 1]; k++)
		if (!plan->d[dag->preds[k]].reuse)
			return xasprintf("after '%s', which runs again", wf->stages[dag->preds[k]].id);
	if (ro->mode == RERUN_ALL && !ro->reuse_unchanged)
		return xstrdup("every stage runs again");
	return NULL;
}

/*
 * A fan-out's outputs are, for each declared output, the list of its items'
 * values (null for an item without one, as host_fan_out.c gathers them).
 * Check each item's values against the contract and gather them again the
 * same way, defaults filled: the new stage's outputs (new reference), or NULL.
 */
static json_t *fan_out_fit(const struct swdl_stage *s, json_t *outs, char **err)
{
	const char *k;
	json_t *v, *items = json_array();
	size_t n = 0;
	json_object_foreach(outs, k, v) {
		if (!json_is_array(v)) {
			*err = xasprintf("output '%s' is not the list of its items' values", k);
			goto fail;
		}
		n = json_array_size(v) > n ? json_array_size(v) : n;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_object();
		json_object_foreach(outs, k, v)
			if (!json_is_null(json_array_get(v, i)))
				json_object_set(item, k, json_array_get(v, i));
		char *e = NULL;
		if (json_object_size(item) && outputs_check(s, item, &e)) {
			*err = xasprintf("item %zu: %s", i, e);
			free(e);
			json_decref(item);
			goto fail;
		}
		json_array_append_new(items, item);
	}
	json_t *out = json_object();
	for (size_t o = 0; o < s->nr_outputs; o++) {
		json_t *list = json_array(), *item;
		size_t i;
		json_array_foreach(items, i, item) {
			json_t *x = json_object_size(item) ? json_object_get(item, s->outputs[o].name) : NULL;
			json_array_append_new(list, x ? json_incref(x) : json_null());
		}
		json_object_set_new(out, s->outputs[o].name, list);
	}
	json_decref(items);
	return out;
fail:
	json_decref(items);
	return NULL;
}

/* The recorded outputs checked against stage s's contract (defaults filled), or NULL. */
static json_t *outputs_fit(const struct swdl_stage *s, const char *text, char **err)
{
	json_t *outs = text ? json_loads(text, 0, NULL) : json_object();
	if (!json_is_object(outs)) {
		*err = xstrdup("they are not a JSON object");
		json_decref(outs);
		return NULL;
	}
	if (s->type == STAGE_FAN_OUT) {
		json_t *f = fan_out_fit(s, outs, err);
		json_decref(outs);
		return f;
	}
	if (outputs_check(s, outs, err)) {
		json_decref(outs);
		return NULL;
	}
	return outs;
}

/* Stage i may be reused (NULL returned) or runs, and why; *refuse: it must not be. */
static char *decide_one(const struct rerun_origin *o, const struct rerun_opts *ro,
			json_t *snap, json_t *params, const struct swdl_workflow *wf,
			struct rerun_decision *d, size_t i, char **refuse)
{
	const char *id = wf->stages[i].id;
	json_t *rec = json_object_get(o->stages, id);
	if (ro->reuse_unchanged) {
		json_t *a = fingerprint(o->snapshot, o->params, id), *b = fingerprint(snap, params, id);
		char *diff = fingerprint_diff(a, b);
		json_decref(a);
		json_decref(b);
		if (*diff) {
			char *why = xasprintf("changed since run %s: %s", o->id, diff);
			free(diff);
			return why;
		}
		free(diff);
	}
	char *err = NULL;
	json_t *outs = outputs_fit(&wf->stages[i], json_string_value(json_object_get(rec, "outputs")),
				   &err);
	if (!outs) {
		char *why = xasprintf("its outputs in run %s no longer fit its outputs contract: %s",
				      o->id, err);
		free(err);
		if (!ro->reuse_unchanged) {
			*refuse = xasprintf("stage '%s': %s; re-run it too (--from %s)", id, why, id);
			free(why);
			return NULL;
		}
		return why;
	}
	d->outputs = json_dumps(outs, JSON_COMPACT);
	json_decref(outs);
	d->reuse = true;
	d->why = ro->reuse_unchanged
		? xasprintf("unchanged since run %s (definition, artifacts, context pack, "
			    "parameters, config)", o->id)
		: xasprintf("completed in run %s", o->id);
	return NULL;
}

int rerun_decide(const struct rerun_origin *o, const struct rerun_opts *ro,
		 struct rerun_request *r, struct run_prepared *p, struct rerun_plan *plan,
		 char **err)
{
	const struct swdl_workflow *wf = &p->l->wf;
	const struct swdl_dag *dag = &p->l->dag;
	json_t *snap = NULL;
	int ret = SM_ERR;
	*err = NULL;
	plan->nr = wf->nr_stages;
	plan->d = xcalloc(wf->nr_stages + 1, sizeof(*plan->d));
	if (check_shape(o, ro, wf, err))
		return SM_ERR;
	if (ro->reuse_unchanged && !(snap = run_prepared_snapshot(&r->rq, p, err)))
		return SM_ERR;
	size_t runs = 0;
	for (size_t b = 0; b < dag->nr_batches; b++) {
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++) {
			size_t i = dag->batch_items[k];
			struct rerun_decision *d = &plan->d[i];
			char *why = why_runs(o, ro, dag, wf, plan, i);
			if (!why)
				why = decide_one(o, ro, snap, p->params, wf, d, i, err);
			if (why)
				d->why = why; /* runs again; a reuse has set its own */
			if (*err)
				goto out;
			runs += !d->reuse;
		}
	}
	if (!runs) {
		*err = xasprintf("nothing to re-run: every stage would reuse run %s's record; re-run "
				 "every stage (no flag) or name stages with --from", o->id);
		goto out;
	}
	ret = SM_OK;
out:
	json_decref(snap);
	return ret;
}

void rerun_plan_release(struct rerun_plan *plan)
{
	for (size_t i = 0; plan->d && i < plan->nr; i++) {
		free(plan->d[i].why);
		free(plan->d[i].outputs);
	}
	free(plan->d);
	memset(plan, 0, sizeof(*plan));
}

json_t *rerun_plan_json(const struct rerun_origin *o, const struct rerun_plan *plan,
			const struct swdl_workflow *wf)
{
	json_t *a = json_array();
	for (size_t i = 0; i < plan->nr; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s?}", "id", wf->stages[i].id,
			"action", plan->d[i].reuse ? "reuse" : "run", "reason", plan->d[i].why));
	return json_pack("{s:s, s:o}", "rerun_of", o->id, "stages", a);
}

/* ---- recording it ------------------------------------------------------------------ */

int rerun_create(struct store *st, struct rerun_request *r, struct run_prepared *p,
		 const struct engine_config *cfg, const struct rerun_origin *o,
		 const struct rerun_plan *plan, char out[24], char **err)
{
	const struct swdl_workflow *wf = &p->l->wf;
	struct stage_reuse *u = xcalloc(wf->nr_stages + 1, sizeof(*u));
	for (size_t i = 0; i < wf->nr_stages; i++) {
		json_t *rec = json_object_get(o->stages, wf->stages[i].id);
		if (!plan->d[i].reuse)
			continue;
		u[i] = (struct stage_reuse){ o->id, plan->d[i].outputs,
			json_string_value(json_object_get(rec, "handoff")),
			json_string_value(json_object_get(rec, "items")),
			json_real_value(json_object_get(rec, "started_at")),
			json_real_value(json_object_get(rec, "finished_at")) };
	}
	r->rq.rerun_of = o->id;
	r->rq.reuse = u;
	int ret = run_prepared_create(&r->rq, p, st, cfg, out, err);
	r->rq.reuse = NULL;
	for (size_t i = 0; !ret && i < wf->nr_stages; i++)
		if (plan->d[i].reuse) {
			json_t *ev = json_pack("{s:s, s:s}", "from", o->id, "reason", plan->d[i].why);
			store_event(st, out, "stage_reused", wf->stages[i].id, 0, ev, NULL);
			json_decref(ev);
		}
	free(u);
	return ret;
}
