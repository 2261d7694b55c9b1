#include "../base/compat.h"
#include "workflow.h"
#include "dialect.h"

static const char *workflow_id_of(const struct node *root)
{
	return swdl_dialect_workflow_id(root);
}

static int apply_project_overrides(struct swdl_loaded *l, const struct swdl_load_opts *opts,
				   const struct node **root, struct diag_list *dl)
{
	const char *id = workflow_id_of(*root);
	char *path;
	if (swdl_overrides_find(opts->overrides_dir, &path, dl))
		return SM_ERR;
	if (!path || !id || (*root)->kind != NODE_MAP) {
		free(path);
		return SM_OK;
	}
	const struct node *block, *roles;
	int r = swdl_overrides_load(path, id, &l->overrides_doc, &block, &roles, dl);
	if (!r && (roles || node_map_get(block, "roles"))) {
		l->ro.file = arena_strdup(&l->arena, path);
		l->ro.workflow_roles = node_map_get(block, "roles");
		l->ro.project_roles = roles;
	}
	if (!r && block) {
		l->po.file = arena_strdup(&l->arena, path);
		block = swdl_dialect_overrides(&l->arena, block, dl);
		r = swdl_overrides_apply(&l->arena, *root, block, root, &l->po, dl);
	}
	free(path);
	return r;
}

static int finish_load(struct swdl_loaded *l, const struct swdl_load_opts *opts,
		       struct swdl_loaded **out, struct diag_list *dl, size_t errors)
{
	struct swdl_dialect d;
	const struct node *root = swdl_dialect_canonical(&l->arena, l->doc->root, &d, dl);
	if (opts->overrides && root && apply_project_overrides(l, opts, &root, dl)) {
		*out = l;
		return SM_ERR;
	}
	root = swdl_dialect_yaml11(&l->arena, root, dl);
	l->schema_ok = swdl_parse(root, &l->arena, &l->wf, dl) == SM_OK && dl->errors == errors;
	l->wf.seed_form = d.seed_form;
	l->wf.written_order = d.written_order;
	swdl_apply_defaults(&l->wf);
	if (opts->bind_roles && l->schema_ok)
		swdl_bind_roles(&l->wf, opts->bindings, opts->nr_bindings, &l->ro, dl);
	if (root && root->kind == NODE_MAP)
		swdl_validate(&l->wf, &l->dag, dl);
	*out = l;
	return dl->errors > errors ? SM_ERR : SM_OK;
}

static const struct swdl_load_opts no_opts = { 0 };

int swdl_load_file(const char *path, const struct swdl_load_opts *opts,
		   struct swdl_loaded **out, struct diag_list *dl)
{
	opts = opts ? opts : &no_opts;
	*out = NULL;
	size_t errors = dl->errors;
	struct swdl_loaded *l = xcalloc(1, sizeof(*l));
	int r = doc_load_file(path, opts->limits, &l->doc, dl);
	if (r) {
		swdl_loaded_free(l);
		return r;
	}
	return finish_load(l, opts, out, dl, errors);
}

int swdl_load_buffer(const char *name, const char *buf, size_t len, enum doc_format fmt,
		     const struct swdl_load_opts *opts, struct swdl_loaded **out,
		     struct diag_list *dl)
{
	opts = opts ? opts : &no_opts;
	*out = NULL;
	size_t errors = dl->errors;
	struct swdl_loaded *l = xcalloc(1, sizeof(*l));
	int r = doc_load_buffer(name, buf, len, fmt, opts->limits, &l->doc, dl);
	if (r) {
		swdl_loaded_free(l);
		return r;
	}
	return finish_load(l, opts, out, dl, errors);
}

void swdl_loaded_free(struct swdl_loaded *l)
{
	if (!l)
		return;
	swdl_dag_release(&l->dag);
	swdl_workflow_release(&l->wf);
	plan_override_release(&l->po);
	arena_free(&l->arena);
	doc_free(l->doc);
	doc_free(l->overrides_doc);
	free(l);
}
