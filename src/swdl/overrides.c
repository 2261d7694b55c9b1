#include "../base/compat.h"
#include "overrides.h"
#include "../base/strbuf.h"

#include <limits.h>
#include <unistd.h>

/* The overrides file in `dir`: SM_OK with *path (or NULL), SM_ERR if both forms. */
static int find_in_dir(const char *dir, char **path, struct diag_list *dl)
{
	const char *base = strcmp(dir, "/") ? dir : "";
	char *yaml = xasprintf("%s/%s", base, OVERRIDES_FILE_YAML);
	char *toml = xasprintf("%s/%s", base, OVERRIDES_FILE_TOML);
	bool has_yaml = !access(yaml, F_OK), has_toml = !access(toml, F_OK);
	int r = SM_OK;
	*path = NULL;
	if (has_yaml && has_toml) {
		struct loc loc = { toml, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "override", NULL, NULL, "both %s and %s exist in "
			 "%s; keep one of them", OVERRIDES_FILE_YAML, OVERRIDES_FILE_TOML, dir);
		r = SM_ERR;
	} else if (has_yaml || has_toml) {
		*path = xstrdup(has_yaml ? yaml : toml);
	}
	free(yaml);
	free(toml);
	return r;
}

int swdl_overrides_find(const char *start_dir, char **path, struct diag_list *dl)
{
	char dir[PATH_MAX];
	*path = NULL;
	if (!start_dir) {
		if (!getcwd(dir, sizeof(dir)))
			return SM_OK;
	} else if (snprintf(dir, sizeof(dir), "%s", start_dir) >= (int)sizeof(dir)) {
		return SM_OK;
	}
	for (;;) {
		int r = find_in_dir(dir, path, dl);
		if (r || *path)
			return r;
		char *slash = strrchr(dir, '/');
		if (!slash || !strcmp(dir, "/"))
			return SM_OK;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

static int ov_error(struct diag_list *dl, const struct node *at, const char *field,
		    const char *fmt, ...) SM_PRINTF(4, 5);
static int ov_error(struct diag_list *dl, const struct node *at, const char *field,
		    const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(dl, DIAG_ERROR, at ? &at->loc : NULL, "override", NULL, field, "%s", msg);
	free(msg);
	return SM_ERR;
}

static int check_forbidden(struct diag_list *dl, const struct node *m, const char *const *keys,
			   const char *what)
{
	int r = SM_OK;
	for (size_t i = 0; keys[i]; i++) {
		const struct node *k = node_map_key(m, keys[i]);
		if (k)
			r = ov_error(dl, k, keys[i], "%s: overriding '%s' is not allowed "
				     "(it changes the workflow's structure or identity)", what, keys[i]);
	}
	return r;
}

static int check_block(const struct node *block, struct diag_list *dl)
{
	static const char *const allowed[] = { "stages", "context", "config", "error_policy",
		"workflow", "roles", NULL };
	static const char *const wf_forbidden[] = { "id", "name", "version", NULL };
	static const char *const stage_forbidden[] = { "id", "depends_on", "type", NULL };
	int r = SM_OK;
	for (size_t i = 0; i < block->nr; i++) {
		const struct node *k = block->pairs[i].key;
		bool ok = false;
		for (size_t j = 0; allowed[j]; j++)
			ok |= !strcmp(k->text, allowed[j]);
		if (!ok)
			r = ov_error(dl, k, k->text, "unknown key '%s' in an override block "
				     "(allowed: config, context, error_policy, roles, stages, "
				     "workflow)", k->text);
	}
	const struct node *w = node_map_get(block, "workflow");
	if (w && w->kind == NODE_MAP && check_forbidden(dl, w, wf_forbidden, "workflow"))
		r = SM_ERR;
	const struct node *st = node_map_get(block, "stages");
	if (st && st->kind != NODE_MAP && st->kind != NODE_SEQ)
		return ov_error(dl, st, "stages", "'stages' must map stage ids to overrides");
	for (size_t i = 0; st && st->kind == NODE_MAP && i < st->nr; i++) {
		const struct node *so = st->pairs[i].value;
		char what[300];
		snprintf(what, sizeof(what), "stage '%s'", st->pairs[i].key->text);
		if (so->kind != NODE_MAP)
			r = ov_error(dl, so, NULL, "%s: override must be a mapping", what);
		else if (check_forbidden(dl, so, stage_forbidden, what))
			r = SM_ERR;
	}
	return r;
}

int swdl_overrides_load(const char *path, const char *workflow_id, struct doc **doc,
			const struct node **block, const struct node **roles,
			struct diag_list *dl)
{
	*block = NULL;
	*roles = NULL;
	int r = doc_load_file(path, NULL, doc, dl);
	if (r)
		return r;
	const struct node *root = (*doc)->root;
	if (!root || root->kind == NODE_NULL)
		return SM_OK;
	if (root->kind != NODE_MAP)
		return ov_error(dl, root, NULL, "override file must be a mapping at the top "
				"level, got a %s", node_kind_name(root->kind));
	static const char *const top[] = { "overrides", "roles", NULL };
	for (size_t i = 0; i < root->nr; i++) {
		const struct node *k = root->pairs[i].key;
		if (strcmp(k->text, top[0]) && strcmp(k->text, top[1]))
			r = ov_error(dl, k, k->text, "unknown top-level key '%s' in an override "
				     "file (allowed: overrides, roles)", k->text);
	}
	*roles = node_map_get(root, "roles");
	const struct node *all = node_map_get(root, "overrides");
	if (!all && !*roles)
		return ov_error(dl, root, NULL, "override file must have a top-level 'overrides' "
				"key mapping workflow ids to override blocks, or a 'roles' key "
				"binding roles to artifacts");
	if (!all)
		return r;
	if (all->kind != NODE_MAP)
		return ov_error(dl, all, "overrides", "'overrides' must map workflow ids to "
				"override blocks, got a %s", node_kind_name(all->kind));
	for (size_t i = 0; i < all->nr; i++) {
		const struct node *b = all->pairs[i].value;
		if (b->kind == NODE_NULL)
			continue;
		if (b->kind != NODE_MAP) {
			r = ov_error(dl, b, all->pairs[i].key->text, "override block for workflow "
				     "'%s' must be a mapping", all->pairs[i].key->text);
			continue;
		}
		if (check_block(b, dl))
			r = SM_ERR;
		if (workflow_id && !strcmp(all->pairs[i].key->text, workflow_id))
			*block = b;
	}
	return r;
}

/* ---- merging ------------------------------------------------------------- */

struct merge {
	struct arena *a;
	struct plan_override *po;
	const char *stage_id;
};

static char *display(const struct node *n)
{
	if (!n)
		return NULL;
	if (node_is_scalar(n))
		return xstrdup(n->kind == NODE_NULL ? "null" : n->text);
	json_t *j = node_to_json(n);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s;
}

static void record(struct merge *m, const char *field, const struct node *before,
		   const struct node *after)
{
	struct plan_override *po = m->po;
	po->entries = xrealloc(po->entries, (po->nr + 1) * sizeof(*po->entries));
	struct plan_override_entry *e = &po->entries[po->nr++];
	e->stage_id = m->stage_id;
	e->field = arena_strdup(m->a, field);
	e->before = display(before);
	e->after = display(after);
}

/* Deep merge: mapping over mapping recurses, anything else replaces. */
static const struct node *deep_merge(struct merge *m, const struct node *base,
				     const struct node *over, struct strbuf *path)
{
	if (!base || base->kind != NODE_MAP || over->kind != NODE_MAP) {
		record(m, path->buf, base, over);
		return over;
	}
	struct node *out = ARENA_NEW(m->a, struct node);
	*out = *base;
	out->pairs = ARENA_ARRAY(m->a, struct node_pair, base->nr + over->nr);
	memcpy(out->pairs, base->pairs, base->nr * sizeof(*base->pairs));
	for (size_t i = 0; i < over->nr; i++) {
		const struct node_pair *op = &over->pairs[i];
		size_t old = path->len, j;
		strbuf_addf(path, "%s%s", old ? "." : "", op->key->text);
		for (j = 0; j < out->nr; j++)
			if (!strcmp(out->pairs[j].key->text, op->key->text))
				break;
		const struct node *v = deep_merge(m, j < out->nr ? out->pairs[j].value : NULL,
						  op->value, path);
		if (j == out->nr)
			out->pairs[out->nr++].key = op->key;
		out->pairs[j].value = (struct node *)v;
		path->len = old;
		path->buf[old] = '\0';
	}
	return out;
}

static const struct node *merge_stages(struct merge *m, const struct node *base,
				       const struct node *over, struct diag_list *dl)
{
	struct strbuf path = STRBUF_INIT;
	if (over->kind == NODE_SEQ || !base || base->kind != NODE_SEQ) {
		strbuf_addstr(&path, "stages");
		const struct node *r = deep_merge(m, base, over, &path);
		strbuf_release(&path);
		return r;
	}
	struct node *out = ARENA_NEW(m->a, struct node);
	*out = *base;
	out->items = ARENA_ARRAY(m->a, struct node *, base->nr);
	memcpy(out->items, base->items, base->nr * sizeof(*base->items));
	for (size_t i = 0; i < over->nr; i++) {
		const char *sid = over->pairs[i].key->text;
		size_t j;
		for (j = 0; j < out->nr; j++) {
			const struct node *id = node_map_get(out->items[j], "id");
			if (id && id->kind == NODE_STRING && !strcmp(id->text, sid))
				break;
		}
		if (j == out->nr) {
			ov_error(dl, over->pairs[i].key, NULL, "override names stage '%s', which "
				 "the workflow does not have", sid);
			continue;
		}
		m->stage_id = sid;
		strbuf_reset(&path);
		out->items[j] = (struct node *)deep_merge(m, out->items[j], over->pairs[i].value,
							   &path);
		m->stage_id = NULL;
	}
	strbuf_release(&path);
	return out;
}

int swdl_overrides_apply(struct arena *a, const struct node *base, const struct node *block,
			 const struct node **merged, struct plan_override *po,
			 struct diag_list *dl)
{
	struct merge m = { a, po, NULL };
	size_t errors = dl->errors;
	struct node *out = ARENA_NEW(a, struct node);
	*out = *base;
	out->pairs = ARENA_ARRAY(a, struct node_pair, base->nr + block->nr);
	memcpy(out->pairs, base->pairs, base->nr * sizeof(*base->pairs));
	for (size_t i = 0; i < block->nr; i++) {
		const struct node_pair *bp = &block->pairs[i];
		size_t j;
		for (j = 0; j < out->nr; j++)
			if (!strcmp(out->pairs[j].key->text, bp->key->text))
				break;
		const struct node *old = j < out->nr ? out->pairs[j].value : NULL;
		const struct node *v;
		if (!strcmp(bp->key->text, "roles"))
			continue; /* bindings, not a change to the declarations (roles.c) */
		if (!strcmp(bp->key->text, "stages")) {
			v = merge_stages(&m, old, bp->value, dl);
		} else {
			struct strbuf path = STRBUF_INIT;
			strbuf_addstr(&path, bp->key->text);
			v = deep_merge(&m, old, bp->value, &path);
			strbuf_release(&path);
		}
		if (j == out->nr)
			out->pairs[out->nr++].key = bp->key;
		out->pairs[j].value = (struct node *)v;
	}
	*merged = out;
	return dl->errors > errors ? SM_ERR : SM_OK;
}
