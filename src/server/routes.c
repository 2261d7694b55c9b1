/*
 * routes.c - the route table of /api/v1, the plan endpoint, the pickers'
 * lists (artifacts, context modules, memory items) and the OpenAPI
 * document (docs/openapi.json, built into the binary; a test checks that
 * it and this table name the same operations).
 */
#include "server_int.h"
#include "../base/fsutil.h"
#include "../base/jsonw.h"
#include "../collection/refs.h"
#include "../context/memory.h"
#include "../engine/plan_context.h"
#include "../swdl/workflow.h"

extern const char openapi_json[];

const struct route server_routes[] = {
	{ "GET", "/api/v1/openapi.json", api_openapi },
	{ "GET", "/api/v1/workflows", api_workflows_list },
	{ "POST", "/api/v1/workflows", api_workflow_create },
	{ "POST", "/api/v1/workflows/validate", api_definition_validate },
	{ "POST", "/api/v1/workflows/batch/delete", api_workflows_batch_delete },
	{ "GET", "/api/v1/workflows/{id}", api_workflow_get },
	{ "PUT", "/api/v1/workflows/{id}", api_workflow_update },
	{ "DELETE", "/api/v1/workflows/{id}", api_workflow_delete },
	{ "POST", "/api/v1/workflows/{id}/validate", api_workflow_validate },
	{ "POST", "/api/v1/workflows/{id}/plan", api_workflow_plan },
	{ "POST", "/api/v1/workflows/{id}/duplicate", api_workflow_duplicate },
	{ "GET", "/api/v1/artifacts", api_artifacts },
	{ "GET", "/api/v1/context-modules", api_context_modules },
	{ "GET", "/api/v1/memory-items", api_memory_items },
	{ "GET", "/api/v1/workflow-executions", api_runs_list },
	{ "POST", "/api/v1/workflow-executions", api_run_start },
	/* before {id}, which would match "stream" too */
	{ "GET", "/api/v1/workflow-executions/stream", api_runs_stream },
	{ "GET", "/api/v1/workflow-executions/by-workflow/{id}", api_runs_by_workflow },
	{ "POST", "/api/v1/workflow-executions/batch/pause", api_runs_batch },
	{ "POST", "/api/v1/workflow-executions/batch/resume", api_runs_batch },
	{ "POST", "/api/v1/workflow-executions/batch/cancel", api_runs_batch },
	{ "GET", "/api/v1/workflow-executions/{id}", api_run_get },
	{ "GET", "/api/v1/workflow-executions/{id}/stream", api_run_stream },
	{ "POST", "/api/v1/workflow-executions/{id}/pause", api_run_control },
	{ "POST", "/api/v1/workflow-executions/{id}/resume", api_run_control },
	{ "POST", "/api/v1/workflow-executions/{id}/cancel", api_run_control },
	{ "POST", "/api/v1/workflow-executions/{id}/rerun", api_run_rerun },
	{ "POST", "/api/v1/workflow-executions/{id}/gates/{stage_id}/approve", api_run_gate },
	{ "POST", "/api/v1/workflow-executions/{id}/gates/{stage_id}/reject", api_run_gate },
	{ NULL, NULL, NULL },
};

void api_openapi(struct request *rq, struct reply *out)
{
	UNUSED(rq);
	json_error_t je;
	json_t *doc = json_loads(openapi_json, 0, &je);
	if (!doc) {
		reply_error(out, 500, "openapi", "the built-in document is broken: %s",
				    je.text);
		return;
	}
	reply_json(out, 200, doc);
}

/*
 * Body: {parameters: {k: v}, bindings: {role: "type:name"}, project: DIR,
 * allow_missing: bool}.  The plan JSON with packs and estimates;
 * allow_missing plans even when artifacts are not in the collection (each
 * a warning, as `workflow plan --allow-missing`).
 */
void api_workflow_plan(struct request *rq, struct reply *out)
{
	json_t *body = request_json(rq, out);
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	struct ref_table refs = { 0 };
	struct plan_context pc = { 0 };
	struct swdl_loaded *l = NULL;
	struct request_params rp = { 0 };
	char *file = NULL, *err = NULL;
	json_t *params = NULL;
	if (!body)
		return;
	if (collection_open_optional(&c, &dl) || !c || !(file = collection_workflow_file(c,
										rq->params[0]))) {
		reply_error(out, 404, "not_found", "no stored workflow '%s'", rq->params[0]);
		goto out;
	}
	if (request_params(body, &rp, out))
		goto out;
	struct swdl_load_opts lo = { .bind_roles = true, .bindings = rp.binds,
		.nr_bindings = rp.nr_binds };
	swdl_load_file(file, &lo, &l, &dl);
	if (!dl.errors)
		params = swdl_plan_parameters(&l->wf, rp.p, rp.nr, false, &dl);
	if (params)
		swdl_plan_fan_out(&l->wf, params, &dl);
	json_t *am = json_object_get(body, "allow_missing");
	if (am && !json_is_boolean(am)) {
		reply_error(out, 400, "bad_request", "allow_missing must be true or false");
		goto out;
	}
	if (!dl.errors)
		collection_check_workflow(c, &l->wf, json_is_true(am), &refs, &dl);
	if (!dl.errors && plan_context_init(&pc, rq->srv->home, l, c, &refs,
					    json_string_value(json_object_get(body, "project")),
					    &dl, &err)) {
		reply_error(out, 400, "cannot_plan", "%s", err);
		goto out;
	}
	struct strbuf sb = STRBUF_INIT;
	struct jsonw w;
	struct plan_extra extra = plan_context_extra(&pc);
	jw_init(&w, &sb, false);
	if (dl.errors) {
		jw_object(&w);
		jw_kbool(&w, "valid", false);
		jw_key(&w, "errors");
		diag_list_write_json(&w, &dl, DIAG_ERROR, true);
		jw_end(&w);
	} else {
		swdl_plan_write_json(&w, &l->wf, &l->dag, params, &l->po, NULL, &extra, &dl);
	}
	jw_flush(&w);
	reply_json(out, dl.errors ? 422 : 200, json_loads(sb.buf, 0, NULL));
	jw_release(&w);
	strbuf_release(&sb);
out:
	request_params_release(&rp);
	plan_context_release(&pc);
	json_decref(params);
	ref_table_release(&refs);
	swdl_loaded_free(l);
	collection_free(c);
	diag_list_release(&dl);
	free(file);
	free(err);
	json_decref(body);
}

/* ---- the pickers ------------------------------------------------------------------- */

static void add_item(json_t *items, const char *type, const char *name, const char *path)
{
	char *ref = xasprintf("%s:%s", !strcmp(type, "context") ? "ctx" : type, name);
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "ref")), ref)) {
			free(ref);
			return; /* the manifest entry came first and wins */
		}
	json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s?}", "ref", ref, "name", name,
					       "type", type, "path", path));
	free(ref);
}

/* Artifacts in their conventional places, with or without a manifest entry. */
static void add_conventional(json_t *items, const struct collection *c, const char *type)
{
	static const struct { const char *type, *dir, *suffix; } places[] = {
		{ "agent", "agents", ".md" }, { "command", "commands", ".md" },
		{ "context", "context", ".md" }, { "skill", "skills", "/SKILL.md" },
	};
	for (size_t p = 0; p < ARRAY_SIZE(places); p++) {
		if (type && strcmp(type, places[p].type))
			continue;
		char *dir = path_join(c->root, places[p].dir), **names = NULL;
		size_t nr = 0, sl = strlen(places[p].suffix);
		fs_list_files(dir, &names, &nr);
		for (size_t i = 0; i < nr; i++) {
			size_t n = strlen(names[i]);
			if (n > sl && !strcmp(names[i] + n - sl, places[p].suffix) &&
			    !memchr(names[i], '/', n - sl)) {
				char *name = xstrndup(names[i], n - sl), *path = path_join(dir, names[i]);
				add_item(items, places[p].type, name, path);
				free(name);
				free(path);
			}
			free(names[i]);
		}
		free(names);
		free(dir);
	}
}

static void entries(struct reply *out, const char *type)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	struct artifact_entry *e = NULL;
	json_t *items = json_array();
	if (!collection_open_optional(&c, &dl) && c) {
		size_t nr = collection_entries(c, type, &e);
		for (size_t i = 0; i < nr; i++)
			add_item(items, e[i].type, e[i].name, e[i].path);
		add_conventional(items, c, type);
	}
	free(e);
	collection_free(c);
	diag_list_release(&dl);
	reply_json(out, 200, json_pack("{s:o}", "items", items));
}

void api_artifacts(struct request *rq, struct reply *out)
{
	const char *type = request_arg(rq, "type");
	entries(out, type);
}

void api_context_modules(struct request *rq, struct reply *out)
{
	UNUSED(rq);
	entries(out, "context");
}

void api_memory_items(struct request *rq, struct reply *out)
{
	const char *project = request_arg(rq, "project");
	char *path = memory_default_path(rq->srv->home), *err = NULL;
	struct memory_db *m = NULL;
	struct arena a = { 0 };
	struct memory_item *items = NULL;
	size_t nr = 0;
	struct memory_query q = { project, 0, (1u << MEM_CANDIDATE) | (1u << MEM_ACTIVE) |
		(1u << MEM_STABLE), 0, 500, false };
	if (memory_open(path, &m, &err) || memory_list(m, &q, &a, &items, &nr, &err)) {
		reply_error(out, 500, "memory", "%s", err);
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; i < nr; i++)
			json_array_append_new(arr, memory_item_json(&items[i]));
		reply_json(out, 200, json_pack("{s:o}", "items", arr));
	}
	free(items);
	arena_free(&a);
	memory_close(m);
	free(path);
	free(err);
}
