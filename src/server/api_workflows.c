/*
 * api_workflows.c - /api/v1/workflows: the workflows stored in the active
 * collection (the `id` in paths is the stored name), their validation and
 * plans; and what the builder's pickers list: artifacts, context modules,
 * memory items.
 */
#include "server_int.h"
#include "../store/run_json.h"
#include "../engine/config.h"
#include "../runners/runner.h"
#include "../base/fsutil.h"
#include "../base/jsonw.h"
#include "../collection/collection.h"
#include "../context/memory.h"
#include "../engine/plan_context.h"
#include "../swdl/model_json.h"
#include "../swdl/plan.h"
#include "../swdl/workflow.h"
#include "../formats/yaml_write.h"

#include <unistd.h>

#define MAX_DEFINITION (1u << 20)

static struct collection *open_or_reply(struct reply *out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	if (collection_open_optional(&c, &dl) || !c)
		reply_error(out, 409, "no_collection", "there is no active collection (run "
			    "`skillmeat init`)%s%s", dl.nr ? ": " : "", dl.nr ? dl.items[0].message : "");
	diag_list_release(&dl);
	return c;
}

/*
 * What `workflow validate` checks beyond the file: each roles.primary.runner
 * names a runner (built in, or config.toml's [runners.NAME]).
 */
static void check_runners(struct request *rq, const struct swdl_loaded *l, struct diag_list *dl)
{
	if (l && l->schema_ok)
		engine_check_runners(rq->srv->home, &l->wf, dl);
}

/* Diagnostics as {valid, errors: [...], warnings: [...]}. */
static json_t *diags_json(const struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	struct jsonw w;
	jw_init(&w, &sb, false);
	jw_object(&w);
	jw_kbool(&w, "valid", dl->errors == 0);
	jw_key(&w, "errors");
	diag_list_write_json(&w, dl, DIAG_ERROR, true);
	jw_key(&w, "warnings");
	diag_list_write_json(&w, dl, DIAG_WARNING, true);
	jw_end(&w);
	jw_flush(&w);
	json_t *j = json_loads(sb.buf, 0, NULL);
	jw_release(&w);
	strbuf_release(&sb);
	return j;
}

/* The title the manifest gives a stored workflow (a duplicate's "<name> (copy)"), or NULL. */
static const char *manifest_title(const struct artifact_entry *e)
{
	const struct node *t = node_map_get(node_map_get(e->node, "metadata"), "title");
	return t && t->kind == NODE_STRING && *t->text ? t->text : NULL;
}

static json_t *summary_json(const struct artifact_entry *e, const struct swdl_loaded *l)
{
	json_t *j = json_pack("{s:s, s:s}", "id", e->name, "path", e->path ? e->path : "");
	if (l) {
		json_t *tags = json_array();
		for (size_t i = 0; i < l->wf.tags.nr; i++)
			json_array_append_new(tags, json_string(l->wf.tags.v[i]));
		const char *title = manifest_title(e);
		json_object_update_new(j, json_pack("{s:s, s:s, s:s, s:s?, s:o, s:I}", "workflow_id",
				       l->wf.id, "name", title ? title : l->wf.name, "version", l->wf.version,
				       "description", l->wf.description, "tags", tags, "stage_count",
				       (json_int_t)l->wf.nr_stages));
	}
	return j;
}

/* Each item's "last_run" ({id, status, created_at} or null), for the list's status column. */
static void attach_last_runs(struct request *rq, json_t *items, struct reply *out)
{
	struct store *st = request_store(rq, out);
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v) {
		const char *wf = json_string_value(json_object_get(v, "workflow_id"));
		json_t *rows = st && wf ? store_rows_json(st, "SELECT id, status, created_at FROM runs"
			" WHERE workflow_id = ?1 ORDER BY created_at DESC LIMIT 1", wf) : NULL;
		json_t *last = json_array_get(rows, 0);
		json_object_set(v, "last_run", last ? last : json_null());
		json_decref(rows);
	}
	store_close(st);
}

void api_workflows_list(struct request *rq, struct reply *out)
{
	const char *search = request_arg(rq, "search"), *tag = request_arg(rq, "tag");
	struct collection *c = open_or_reply(out);
	struct artifact_entry *e = NULL;
	if (!c)
		return;
	size_t nr = collection_entries(c, "workflow", &e);
	json_t *items = json_array();
	for (size_t i = 0; i < nr; i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct swdl_loaded *l = NULL;
		char *file = collection_workflow_file(c, e[i].name);
		if (file)
			swdl_load_file(file, NULL, &l, &dl);
		json_t *j = summary_json(&e[i], l && !dl.errors ? l : NULL);
		const char *name = json_string_value(json_object_get(j, "name"));
		bool keep = !search || strcasestr(e[i].name, search) || (name && strcasestr(name,
											search));
		for (size_t t = 0; keep && tag && l && t <= l->wf.tags.nr; t++)
			if (t == l->wf.tags.nr)
				keep = false;
			else if (!strcmp(l->wf.tags.v[t], tag))
				break;
		if (keep)
			json_array_append_new(items, j);
		else
			json_decref(j);
		swdl_loaded_free(l);
		diag_list_release(&dl);
		free(file);
	}
	free(e);
	collection_free(c);
	attach_last_runs(rq, items, out);
	if (out->status == 200)
		reply_json(out, 200, json_pack("{s:o}", "items", items));
	else
		json_decref(items);
}

/* The stored workflow of the path's {id}, loaded (or an error reply). */
static struct swdl_loaded *load_stored(struct request *rq, struct reply *out, char **file,
				       struct diag_list *dl)
{
	struct collection *c = open_or_reply(out);
	struct swdl_loaded *l = NULL;
	*file = c ? collection_workflow_file(c, rq->params[0]) : NULL;
	if (c && !*file)
		reply_error(out, 404, "not_found", "no stored workflow '%s'", rq->params[0]);
	if (*file)
		swdl_load_file(*file, NULL, &l, dl);
	collection_free(c);
	return l;
}

void api_workflow_get(struct request *rq, struct reply *out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *file = NULL;
	struct swdl_loaded *l = load_stored(rq, out, &file, &dl);
	if (l) {
		json_t *model = dl.errors ? json_null() : swdl_workflow_to_json(&l->wf);
		/* the short form, for the builder: what `workflow convert` writes */
		char *canon = NULL;
		if (l->wf.seed_form && l->wf.root)
			yaml_from_node(l->wf.root, l->doc->format == DOC_YAML ? l->doc->text : NULL,
				       &canon);
		reply_json(out, 200, json_pack("{s:s, s:s, s:s%, s:o, s:o, s:s?}", "id",
				       rq->params[0], "path", file, "definition", l->doc->text,
				       l->doc->len, "workflow", model, "validation", diags_json(&dl),
				       "canonical", canon));
		free(canon);
	}
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(file);
}

void api_workflow_validate(struct request *rq, struct reply *out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *file = NULL;
	struct swdl_loaded *l = load_stored(rq, out, &file, &dl);
	check_runners(rq, l, &dl);
	if (file)
		reply_json(out, 200, diags_json(&dl));
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(file);
}

/* The body's {definition, format} is usable (or an error reply). */
static bool definition_ok(struct reply *out, json_t *body)
{
	const char *def = json_string_value(json_object_get(body, "definition"));
	const char *fmt = json_string_value(json_object_get(body, "format"));
	if (!def || strlen(def) > MAX_DEFINITION) {
		reply_error(out, 400, "bad_request", "definition (the workflow's YAML or JSON "
			    "text, at most 1 MiB) is required");
		return false;
	}
	if (fmt && strcmp(fmt, "yaml") && strcmp(fmt, "json")) {
		reply_error(out, 400, "bad_request", "format must be yaml or json");
		return false;
	}
	return true;
}

/* A definition to store, in a file, so the stored bytes are exact. */
static char *definition_file(struct request *rq, struct reply *out, json_t *body)
{
	const char *def = json_string_value(json_object_get(body, "definition"));
	const char *fmt = json_string_value(json_object_get(body, "format"));
	if (!definition_ok(out, body))
		return NULL;
	char *dir = path_join(rq->srv->home, "tmp");
	char *file = xasprintf("%s/def-%d-%lx/workflow.%s", dir, (int)getpid(),
			       (unsigned long)pthread_self(), fmt ? fmt : "yaml");
	char *sub = xstrndup(file, (size_t)(strrchr(file, '/') - file));
	if (fs_mkdirs(sub) || fs_write_atomic(file, def, strlen(def))) {
		reply_error(out, 500, "io", "cannot write %s: %s", file, strerror(errno));
		free(file);
		file = NULL;
	}
	free(sub);
	free(dir);
	return file;
}

/*
 * Load the body's definition as the client sent it: diagnostics name
 * "definition.yaml" (or .json), never a file of the server's.
 */
static struct swdl_loaded *load_definition(json_t *body, struct diag_list *dl)
{
	const char *def = json_string_value(json_object_get(body, "definition"));
	const char *fmt = json_string_value(json_object_get(body, "format"));
	bool json = fmt && !strcmp(fmt, "json");
	struct swdl_loaded *l = NULL;
	swdl_load_buffer(json ? "definition.json" : "definition.yaml", def, strlen(def),
			 json ? DOC_JSON : DOC_YAML, NULL, &l, dl);
	return l;
}

static void remove_definition(char *file)
{
	if (!file)
		return;
	unlink(file);
	*strrchr(file, '/') = 0;
	rmdir(file);
	free(file);
}

void api_definition_validate(struct request *rq, struct reply *out)
{
	json_t *body = request_json(rq, out);
	if (body && definition_ok(out, body)) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct swdl_loaded *l = load_definition(body, &dl);
		check_runners(rq, l, &dl);
		reply_json(out, 200, diags_json(&dl));
		swdl_loaded_free(l);
		diag_list_release(&dl);
	}
	json_decref(body);
}

/* Create (name from the body or the workflow's id) or replace (the path's {id}). */
static void store_definition(struct request *rq, struct reply *out, bool replace)
{
	json_t *body = request_json(rq, out);
	char *file = body ? definition_file(rq, out, body) : NULL, *stored = NULL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct collection *c = NULL;
	if (file)
		l = load_definition(body, &dl);
	if (file)
		check_runners(rq, l, &dl);  /* stores exactly what validate accepts */
	if (file && dl.errors) {
		reply_json(out, 422, diags_json(&dl));
	} else if (file && (c = open_or_reply(out))) {
		const char *name = replace ? rq->params[0]
			: json_string_value(json_object_get(body, "name"));
		char *existing = replace ? collection_workflow_file(c, name) : NULL;
		struct workflow_meta meta = { l->wf.id, l->wf.name, l->wf.version, l->wf.description,
					      l->wf.tags.nr, l->wf.tags.v };
		struct workflow_add_opts ao = { name, replace };
		if (replace && !existing)
			reply_error(out, 404, "not_found", "no stored workflow '%s'", name);
		else if (collection_add_workflow(c, file, &meta, &ao, &stored, &dl))
			reply_error(out, 409, "cannot_store", "%s", dl.nr ?
				    dl.items[dl.nr - 1].message : "cannot store the workflow");
		else
			reply_json(out, replace ? 200 : 201, json_pack("{s:s, s:s}", "id", name ?
				   name : l->wf.id, "path", stored));
		free(existing);
	}
	collection_free(c);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	remove_definition(file);
	free(stored);
	json_decref(body);
}

void api_workflow_create(struct request *rq, struct reply *out)
{
	store_definition(rq, out, false);
}

void api_workflow_update(struct request *rq, struct reply *out)
{
	store_definition(rq, out, true);
}

void api_workflow_delete(struct request *rq, struct reply *out)
{
	struct collection *c = open_or_reply(out);
	struct diag_list dl = DIAG_LIST_INIT;
	char *file = c ? collection_workflow_file(c, rq->params[0]) : NULL;
	if (c && !file)
		reply_error(out, 404, "not_found", "no stored workflow '%s'", rq->params[0]);
	else if (c && collection_remove_workflow(c, rq->params[0], &dl))
		reply_error(out, 500, "cannot_delete", "%s", dl.nr ? dl.items[0].message : "");
	else if (c)
		reply_json(out, 200, json_pack("{s:s, s:b}", "id", rq->params[0], "deleted", 1));
	free(file);
	collection_free(c);
	diag_list_release(&dl);
}

/*
 * POST /workflows/{id}/duplicate, body {new_name?, id?}: a copy of a stored
 * workflow under a new stored name (`id`, else "<id>-copy", "<id>-copy-2"…),
 * the definition byte for byte and its title `new_name`, else
 * "<name> (copy)" — upstream's WorkflowService.duplicate.
 */
void api_workflow_duplicate(struct request *rq, struct reply *out)
{
	json_t *body = request_json(rq, out);
	struct diag_list dl = DIAG_LIST_INIT;
	char *file = NULL, *stored = NULL, *name = NULL, *title = NULL;
	struct collection *c = NULL;
	struct swdl_loaded *l = body ? load_stored(rq, out, &file, &dl) : NULL;
	const char *want = json_string_value(json_object_get(body, "id"));
	const char *new_name = json_string_value(json_object_get(body, "new_name"));
	if (!l || !(c = open_or_reply(out)))
		goto out;
	if (dl.errors) {
		reply_json(out, 422, diags_json(&dl));
		goto out;
	}
	for (int n = 1; !want && !name && n < 1000; n++) {
		char *cand = n == 1 ? xasprintf("%s-copy", rq->params[0])
				    : xasprintf("%s-copy-%d", rq->params[0], n);
		char *have = collection_workflow_file(c, cand);
		if (!have)
			name = cand;
		else
			free(cand);
		free(have);
	}
	if (want)
		name = xstrdup(want);
	title = new_name ? xstrdup(new_name) : xasprintf("%s (copy)", l->wf.name);
	struct workflow_meta meta = { l->wf.id, title, l->wf.version, l->wf.description,
				      l->wf.tags.nr, l->wf.tags.v };
	struct workflow_add_opts ao = { name, false };
	if (!name || collection_add_workflow(c, file, &meta, &ao, &stored, &dl))
		reply_error(out, 409, "cannot_store", "%s", dl.nr ? dl.items[dl.nr - 1].message
			    : "no free name for the copy");
	else
		reply_json(out, 201, json_pack("{s:s, s:s, s:s, s:s}", "id", name, "name", title,
					       "source_id", rq->params[0], "path", stored));
out:
	collection_free(c);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(file);
	free(stored);
	free(name);
	free(title);
	json_decref(body);
}

/* The body's list of ids (1 to 50 strings) under `key`, or an error reply. */
/*
 * POST /workflows/batch/delete, body {ids: [...]}: each deleted on its own
 * (upstream's batch_delete_workflows): {results: [{id, success, error?}],
 * succeeded_count, failed_count}, 200 even when some fail.
 */
void api_workflows_batch_delete(struct request *rq, struct reply *out)
{
	json_t *body = request_json(rq, out), *ids = body ? request_id_list(out, body, "ids") : NULL;
	struct collection *c = ids ? open_or_reply(out) : NULL;
	size_t i, ok = 0;
	json_t *v, *results = json_array();
	json_array_foreach(c ? ids : NULL, i, v) {
		const char *id = json_string_value(v);
		struct diag_list dl = DIAG_LIST_INIT;
		char *file = collection_workflow_file(c, id);
		const char *err = !file ? "Not found"
				  : collection_remove_workflow(c, id, &dl) ? (dl.nr ? dl.items[0].message
									   : "cannot delete") : NULL;
		json_array_append_new(results, json_pack("{s:s, s:b, s:s?}", "id", id, "success",
							  !err, "error", err));
		ok += !err;
		diag_list_release(&dl);
		free(file);
	}
	if (c)
		reply_json(out, 200, json_pack("{s:o, s:I, s:I}", "results", results,
					       "succeeded_count", (json_int_t)ok, "failed_count",
					       (json_int_t)(json_array_size(ids) - ok)));
	else
		json_decref(results);
	collection_free(c);
	json_decref(body);
}
