/*
 * host_fan_out.c - fan-out stages, for the host: the item list is
 * evaluated once, when the stage becomes ready, and written with the
 * stage; each item is an attempt series of its own (scheduler.h), written
 * to the items table; the stage's outputs are lists, one entry per item
 * in item order (null for an item that did not complete).
 */
#include "../base/compat.h"
#include "host_int.h"
#include "../base/numconv.h"
#include "../swdl/expr.h"

#include <math.h>
#include <time.h>

/* Each item's outputs: null until the item completes. */
static json_t *no_outputs(size_t n)
{
	json_t *a = json_array();
	for (size_t k = 0; k < n; k++)
		json_array_append_new(a, json_null());
	return a;
}

int host_fan_out_items(void *ctx, const struct swdl_stage *s, size_t *n, const char **cls)
{
	struct host *h = ctx;
	const struct swdl_fan_out *f = s->fan_out;
	char *err = NULL;
	free(h->items_error);
	h->items_error = NULL;
	*cls = "fan_out_items";
	json_t *v = f && f->items ? host_render_value(h, f->items, &err) : NULL;
	if (!v)
		h->items_error = xasprintf("fan_out.items: %s", err ? err : "not set");
	else if (!json_is_array(v))
		h->items_error = xasprintf("fan_out.items must yield a list, got %s",
					   expr_type_name(v));
	else if ((int64_t)json_array_size(v) > f->max_items)
		h->items_error = xasprintf("fan_out.items yielded %zu items, more than max_items "
					   "(%lld); raise fan_out.max_items if that many is meant",
					   json_array_size(v), (long long)f->max_items);
	free(err);
	if (h->items_error) {
		json_decref(v);
		return SM_ERR;
	}
	json_decref(h->fan_items[s->index]);
	json_decref(h->fan_outputs[s->index]);
	h->fan_items[s->index] = v;
	h->fan_outputs[s->index] = no_outputs(json_array_size(v));
	*n = json_array_size(v);
	return SM_OK;
}

void host_persist_item(struct host *h, size_t stage, size_t k, const char *error,
		       const char *outputs)
{
	const struct sched_item *it = &h->sched.st[stage].items[k];
	struct item_row row = { (int)k, stage_state_name(it->state), (int)it->tries, (int)it->lost,
		(int)it->attempt, it->state == STAGE_RETRY_WAIT ? (double)it->ready_at : 0,
		it->state == STAGE_RUNNING ? (double)it->deadline : 0,
		it->state == STAGE_FAILED || it->state == STAGE_RETRY_WAIT ? it->error_class : NULL,
		error, outputs };
	store_item_update(h->st, h->run_id, host_stage_id(h, stage), &row);
}

/* {output: [value of item 0, value of item 1, ...]} for each declared output. */
static json_t *stage_outputs(struct host *h, size_t stage)
{
	const struct swdl_stage *s = &h->wf->stages[stage];
	json_t *outs = json_object(), *per = h->fan_outputs[stage];
	for (size_t o = 0; o < s->nr_outputs; o++) {
		json_t *list = json_array();
		for (size_t k = 0; k < json_array_size(per); k++) {
			json_t *v = json_object_get(json_array_get(per, k), s->outputs[o].name);
			json_array_append_new(list, v ? json_incref(v) : json_null());
		}
		json_object_set_new(outs, s->outputs[o].name, list);
	}
	return outs;
}

/* The stage left RUNNING: write it, its items and its handoff (sl: the last item's attempt). */
static void settle(struct host *h, size_t stage, const struct slot *sl)
{
	const struct sched_stage *ss = &h->sched.st[stage];
	const char *id = host_stage_id(h, stage);
	size_t failed = 0, done = 0;
	for (size_t k = 0; k < ss->nr_items; k++) {
		failed += ss->items[k].state == STAGE_FAILED;
		done += ss->items[k].state == STAGE_COMPLETED;
		if (ss->items[k].state == STAGE_CANCELLED)
			host_persist_item(h, stage, k, NULL, NULL);
	}
	json_t *outs = stage_outputs(h, stage);
	char *text = json_dumps(outs, JSON_COMPACT);
	char *error = ss->state == STAGE_FAILED
		? xasprintf("%zu of %zu items failed (first: %s)", failed, ss->nr_items,
			    ss->error_class ? ss->error_class : "error") : NULL;
	host_persist_stage(h, stage, error, ss->state == STAGE_COMPLETED ? text : NULL);
	host_ctx_stage(h, stage, stage_state_name(ss->state),
		       ss->state == STAGE_COMPLETED ? outs : NULL);
	if (ss->state == STAGE_COMPLETED || ss->state == STAGE_FAILED)
		host_handoff_end(h, stage, sl, NULL);
	if (ss->state == STAGE_COMPLETED)
		host_event(h, "stage_completed", id, (int)ss->attempt, json_pack("{s:O, s:I, s:I}",
			   "outputs", outs, "items", (json_int_t)ss->nr_items, "items_failed",
			   (json_int_t)failed));
	else if (ss->state == STAGE_FAILED)
		host_event(h, "stage_failed", id, (int)ss->attempt, json_pack("{s:s, s:s, s:b, s:I,"
			   " s:I}", "error_class", ss->error_class ? ss->error_class : "error",
			   "error", error, "will_retry", 0, "items", (json_int_t)ss->nr_items,
			   "items_completed", (json_int_t)done));
	if (ss->state == STAGE_FAILED || h->sched.run == RUN_HALTING)
		host_persist_run(h);
	free(error);
	free(text);
	json_decref(outs);
}

void host_fan_out_expanded(struct host *h, size_t stage)
{
	const struct sched_stage *ss = &h->sched.st[stage];
	const char *id = host_stage_id(h, stage);
	char *items = json_dumps(h->fan_items[stage], JSON_COMPACT);
	store_stage_items(h->st, h->run_id, id, items);
	free(items);
	for (size_t k = 0; k < ss->nr_items; k++)
		host_persist_item(h, stage, k, NULL, NULL);
	host_persist_stage(h, stage, NULL, NULL);
	host_ctx_stage(h, stage, "running", NULL);
	host_event(h, "stage_started", id, 0, json_pack("{s:s, s:I}", "type", "fan_out",
		   "items", (json_int_t)ss->nr_items));
	if (ss->state != STAGE_RUNNING)
		settle(h, stage, NULL); /* an empty list */
}

void host_fan_out_item_ended(struct host *h, struct slot *sl, struct runner_result *res)
{
	size_t stage = sl->stage, k = (size_t)sl->item;
	const char *id = host_stage_id(h, stage);
	int64_t now = (int64_t)time(NULL);
	char *outs = NULL;
	if (!res) {
		sched_item_lost(&h->sched, stage, k, now);
	} else if (res->ok || !res->error_class || strcmp(res->error_class, "rate_limited") ||
		   !sched_rate_limited(&h->sched, stage, (int)k, sl->job.retry_at, now)) {
		sched_item_finished(&h->sched, stage, k, res->ok, res->error_class, now);
		if (res->ok) {
			json_array_set(h->fan_outputs[stage], k, res->outputs);
			outs = json_dumps(res->outputs, JSON_COMPACT);
		}
	}
	const struct sched_stage *ss = &h->sched.st[stage];
	const struct sched_item *it = &ss->items[k];
	const char *cls = res ? res->error_class : "host_lost";
	host_persist_item(h, stage, k, res ? res->error : "lost with its host", outs);
	double secs = round(((sl->spawned && sl->att.finished_at > 0 ? sl->att.finished_at
			     : store_now()) - sl->started) * 1000) / 1000;
	if (res && res->ok) {
		host_event(h, "item_completed", id, sl->attempt, json_pack("{s:i, s:O, s:f}", "item",
			   sl->item, "outputs", res->outputs, "duration_seconds", secs));
	} else {
		json_t *d = json_pack("{s:i, s:s, s:s?, s:b, s:f}", "item", sl->item, "error_class",
				      cls, "error", res ? res->error : NULL, "will_retry",
				      it->state == STAGE_RETRY_WAIT, "duration_seconds", secs);
		if (it->state == STAGE_RETRY_WAIT)
			json_object_set_new(d, "retry_at", host_json_time(it->ready_at));
		host_event(h, "item_failed", id, sl->attempt, d);
	}
	if (ss->state != STAGE_RUNNING)
		settle(h, stage, sl);
	free(outs);
}

void host_fan_out_ctx(struct host *h, const struct slot *sl)
{
	if (!sl || sl->item < 0) {
		json_object_del(h->ctx, "fan_out");
		return;
	}
	json_t *item = json_array_get(h->fan_items[sl->stage], (size_t)sl->item);
	json_object_set_new(h->ctx, "fan_out", json_pack("{s:O, s:i}", "item",
			    item ? item : json_null(), "index", sl->item));
}

/* ---- a new host takes the stage over ------------------------------------------------- */

static const char SQL_ITEMS[] =
	"SELECT i.item, i.status, i.tries, i.lost, i.attempt, i.ready_at, i.deadline,"
	" i.error_class, i.outputs, a.runner, a.started_at, a.out_off, a.err_off"
	" FROM items i LEFT JOIN attempts a ON a.run_id = i.run_id AND a.stage_id = i.stage_id"
	" AND a.attempt = i.attempt WHERE i.run_id = ?1 AND i.stage_id = ?2 ORDER BY i.item";

static const char *keep(struct host *h, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	return t ? arena_strdup(&h->scratch, (const char *)t) : NULL;
}

int host_fan_out_restore(struct host *h, size_t stage, const char *items_json,
			 struct adoptee *ads, size_t *nr)
{
	json_t *items = items_json ? json_loads(items_json, 0, NULL) : NULL;
	sqlite3_stmt *s;
	if (!json_is_array(items) || sqlite3_prepare_v2(store_db(h->st), SQL_ITEMS, -1, &s,
							 NULL) != SQLITE_OK) {
		json_decref(items);
		return SM_ERR; /* no list written: the stage is evaluated again */
	}
	size_t n = json_array_size(items);
	h->fan_items[stage] = items;
	h->fan_outputs[stage] = no_outputs(n);
	sched_restore_items(&h->sched, stage, n);
	sqlite3_bind_text(s, 1, h->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, host_stage_id(h, stage), -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		size_t k = (size_t)sqlite3_column_int(s, 0);
		int state = stage_state_from_name((const char *)sqlite3_column_text(s, 1));
		if (k >= n || state < 0)
			continue;
		sched_restore_item(&h->sched, stage, k, (enum stage_state)state,
				   (unsigned)sqlite3_column_int(s, 2), (unsigned)sqlite3_column_int(s, 3),
				   (unsigned)sqlite3_column_int(s, 4),
				   num_to_i64(sqlite3_column_double(s, 5)),
				   num_to_i64(sqlite3_column_double(s, 6)), keep(h, s, 7));
		const char *outs = (const char *)sqlite3_column_text(s, 8);
		if (outs)
			json_array_set_new(h->fan_outputs[stage], k, json_loads(outs, 0, NULL));
		if (state == STAGE_RUNNING && *nr < h->nr_slots)
			ads[(*nr)++] = (struct adoptee){ stage, (int)k, sqlite3_column_int(s, 4),
				keep(h, s, 9), sqlite3_column_double(s, 10),
				sqlite3_column_int64(s, 11), sqlite3_column_int64(s, 12) };
	}
	sqlite3_finalize(s);
	return SM_OK;
}
