#include "../base/compat.h"
#include "run_json.h"
#include "../base/duration.h"

/* One row as an object: column names to values (JSON text columns parsed). */
json_t *store_row_json(sqlite3_stmt *s)
{
	json_t *o = json_object();
	for (int i = 0; i < sqlite3_column_count(s); i++) {
		const char *name = sqlite3_column_name(s, i);
		json_t *v;
		switch (sqlite3_column_type(s, i)) {
		case SQLITE_INTEGER: v = json_integer(sqlite3_column_int64(s, i)); break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(s, i));
			/* times: RFC 3339 UTC strings, as every JSON output (docs/cli.md) */
			if (strlen(name) > 3 && !strcmp(name + strlen(name) - 3, "_at")) {
				char t[40];
				time_rfc3339(sqlite3_column_double(s, i), t, sizeof(t));
				json_decref(v);
				v = json_string(t);
			}
			break;
		case SQLITE_NULL: v = json_null(); break;
		default: {
			const char *t = (const char *)sqlite3_column_text(s, i);
			bool is_json = !strcmp(name, "outputs") || !strcmp(name, "parameters") ||
				       !strcmp(name, "manifest") || !strcmp(name, "data") ||
				       !strcmp(name, "handoff") || !strcmp(name, "items");
			v = is_json ? json_loads(t, 0, NULL) : json_string(t);
			if (!v)
				v = json_string(t);
		}
		}
		json_object_set_new(o, name, v);
	}
	return o;
}

json_t *store_rows_json(struct store *st, const char *sql, const char *run_id)
{
	sqlite3_stmt *s;
	json_t *a = json_array();
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return a;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(a, store_row_json(s));
	sqlite3_finalize(s);
	return a;
}

/* The definition of stage `id` in the snapshot's workflow, or NULL. */
static json_t *snapshot_stage(json_t *snap, const char *id)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(json_object_get(snap, "workflow"), "stages"), i, v) {
		const char *sid = json_string_value(json_object_get(v, "id"));
		if (id && sid && !strcmp(id, sid))
			return v;
	}
	return NULL;
}

/*
 * From the snapshot, what a dashboard draws each stage with: its name, type
 * and depends_on as they were when the run started (the stored workflow may
 * have changed since), and "context", the manifest of the pack it received.
 */
static void attach_snapshot(struct store *st, const char *run_id, json_t *stages)
{
	sqlite3_stmt *s;
	json_t *snap = NULL, *v;
	size_t i;
	if (sqlite3_prepare_v2(store_db(st), "SELECT snapshot FROM runs WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		snap = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
	sqlite3_finalize(s);
	json_t *packs = json_object_get(snap, "packs");
	json_array_foreach(stages, i, v) {
		const char *id = json_string_value(json_object_get(v, "stage_id"));
		json_t *m = json_object_get(json_object_get(packs, id), "manifest");
		json_t *def = snapshot_stage(snap, id), *deps = json_object_get(def, "depends_on");
		json_object_set(v, "context", m ? m : json_null());
		json_t *name = json_object_get(def, "name"), *type = json_object_get(def, "type");
		json_object_set_new(v, "name", name ? json_incref(name) : json_string(id));
		json_object_set_new(v, "type", type ? json_incref(type) : json_string("agent"));
		json_object_set_new(v, "depends_on", deps ? json_incref(deps) : json_array());
	}
	json_decref(snap);
}

/* A fan-out stage's "item_states": each item's status, tries, error and outputs. */
static void attach_items(struct store *st, const char *run_id, json_t *stages)
{
	json_t *rows = store_rows_json(st, "SELECT stage_id, item, status, tries, attempt,"
		" error_class, error, outputs FROM items WHERE run_id = ?1 ORDER BY stage_id, item",
		run_id);
	size_t i, k;
	json_t *stage, *row;
	json_array_foreach(stages, i, stage) {
		if (json_is_null(json_object_get(stage, "items")))
			continue;
		json_t *mine = json_array();
		const char *id = json_string_value(json_object_get(stage, "stage_id"));
		json_array_foreach(rows, k, row) {
			const char *sid = json_string_value(json_object_get(row, "stage_id"));
			if (id && sid && !strcmp(sid, id))
				json_array_append(mine, row);
		}
		json_object_set_new(stage, "item_states", mine);
	}
	json_decref(rows);
}

/*
 * A failed run's error names the stage that failed it (the runs row keeps
 * its id): give its class and message too, and the id as failed_stage_id.
 */
static void explain_run_error(json_t *run)
{
	const char *why = json_string_value(json_object_get(run, "error"));
	size_t i;
	json_t *s;
	json_object_set_new(run, "failed_stage_id", json_null());
	json_array_foreach(why ? json_object_get(run, "stages") : NULL, i, s) {
		const char *id = json_string_value(json_object_get(s, "stage_id"));
		const char *cls = json_string_value(json_object_get(s, "error_class"));
		const char *err = json_string_value(json_object_get(s, "error"));
		if (!id || strcmp(id, why))
			continue;
		json_object_set_new(run, "failed_stage_id", json_string(id));
		char *text = xasprintf("stage '%s' failed (%s)%s%s", id, cls ? cls : "failed",
				       err ? ": " : "", err ? err : "");
		json_object_set_new(run, "error", json_string(text));
		free(text);
		break;
	}
}

json_t *run_details_json(struct store *st, const char *run_id)
{
	json_t *runs = store_rows_json(st, "SELECT id, workflow_id, workflow_name, workflow_version,"
		" workflow_hash, source, status, error, workdir, runner, max_parallel, created_at,"
		" started_at, finished_at, usd, tokens, host_pid, parameters, manifest, rerun_of"
		" FROM runs WHERE id = ?1", run_id);
	json_t *run = json_incref(json_array_get(runs, 0));
	json_decref(runs);
	if (!run)
		return NULL;
	json_object_set_new(run, "stages", store_rows_json(st, "SELECT stage_id, status, attempt,"
		" started_at, finished_at, ready_at, error_class, error, outputs, handoff, items, reused_from"
		" FROM stages WHERE run_id = ?1 ORDER BY idx", run_id));
	/* The lineage the other way: the runs that re-ran this one. */
	json_t *reruns = json_array(), *rows = store_rows_json(st, "SELECT id FROM runs"
		" WHERE rerun_of = ?1 ORDER BY created_at", run_id), *v;
	size_t i;
	json_array_foreach(rows, i, v)
		json_array_append(reruns, json_object_get(v, "id"));
	json_decref(rows);
	json_object_set_new(run, "reruns", reruns);
	attach_snapshot(st, run_id, json_object_get(run, "stages"));
	attach_items(st, run_id, json_object_get(run, "stages"));
	explain_run_error(run);
	json_object_set_new(run, "attempts", store_rows_json(st, "SELECT stage_id, attempt, item,"
		" status, runner, pid, started_at, finished_at, exit_code, error_class, error,"
		" session_id, model, usd, input_tokens, output_tokens FROM attempts"
		" WHERE run_id = ?1 ORDER BY started_at", run_id));
	return run;
}

/* What to do about a stage that failed with `cls`. */
static const char *failure_advice(const char *cls)
{
	static const struct { const char *prefix, *advice; } table[] = {
		{ "exit_", "it exited with an error: its log says why" },
		{ "timeout", "it ran past its error_policy.timeout: raise the timeout, or make "
			     "the stage do less" },
		{ "output_invalid", "its outputs could not be read: check what it wrote to "
				    "$SKILLMEAT_OUTPUT (or its final ```json block)" },
		{ "output_contract", "its outputs did not fit its declared outputs: check what it "
				     "wrote to $SKILLMEAT_OUTPUT (or its final ```json block)" },
		{ "runner_missing", "its program could not be started: install the agent CLI, or "
				    "define the runner in config.toml [runners.NAME]" },
		{ "budget_exceeded", "it reached a budget: raise config.budget or the stage's "
				     "budget" },
		{ "input_", "its inputs could not be resolved: check its inputs and the outputs "
			    "of the stages they name" },
		{ "gate_", "a gate stopped the run: start it again once the gate can pass" },
		{ "condition_error", "its condition could not be evaluated: check the "
				     "expression with `skillmeat workflow validate`" },
		{ "cancelled", "it was stopped by a cancel" },
		{ "fan_out_items", "its fan_out.items did not give a list, or gave more than "
				   "fan_out.max_items" },
		{ "item_lost", "an item's process was lost" },
		{ "host_lost", "its process was lost with its host" },
	};
	for (size_t i = 0; cls && i < ARRAY_SIZE(table); i++)
		if (!strncmp(cls, table[i].prefix, strlen(table[i].prefix)))
			return table[i].advice;
	/* not "the agent": command stages and fan-outs of commands end up here too */
	return "the stage reported an error: its log says why";
}

char *run_failure_summary(struct store *st, const char *run_id)
{
	sqlite3_stmt *s;
	char *out = NULL;
	/* The stage that halted the run, else the first that failed. */
	static const char sql[] =
		/* a fan-out numbers attempts across its items: its retries are an item's tries */
		"SELECT r.error, s.stage_id, s.error_class, s.error,"
		" coalesce((SELECT max(tries) FROM items i WHERE i.run_id = r.id"
		"  AND i.stage_id = s.stage_id), s.attempt) FROM runs r"
		" LEFT JOIN stages s ON s.run_id = r.id AND s.status = 'failed'"
		" WHERE r.id = ?1 AND r.status = 'failed'"
		" ORDER BY s.stage_id = r.error DESC, s.idx LIMIT 1";
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const char *why = (const char *)sqlite3_column_text(s, 0);
		const char *stage = (const char *)sqlite3_column_text(s, 1);
		const char *cls = (const char *)sqlite3_column_text(s, 2);
		const char *err = (const char *)sqlite3_column_text(s, 3);
		if (stage)
			out = xasprintf("Run %s failed at stage '%s' (%s%s): %s%s%s. See `skillmeat "
					"workflow logs %s %s`; fix the cause and run the workflow "
					"again.", run_id, stage, cls ? cls : "failed",
					sqlite3_column_int(s, 4) > 1 ? ", after retries" : "",
					err ? err : "", err ? "; " : "", failure_advice(cls), run_id,
					stage);
		else if (why && !strcmp(why, "workflow_timeout"))
			out = xasprintf("Run %s failed: it ran past its workflow timeout "
					"(config.timeout), which stopped every stage. Raise the "
					"timeout, or make the stages do less.", run_id);
		else
			out = xasprintf("Run %s failed (%s). See `skillmeat workflow logs %s`.",
					run_id, why ? why : "no stage failed", run_id);
	}
	sqlite3_finalize(s);
	return out;
}
