#include "../base/compat.h"
#include "refs.h"

static long find(const struct ref_table *t, const char *ref)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->refs[i], ref))
			return (long)i;
	return -1;
}

const char *ref_table_lookup(void *table, const char *ref)
{
	const struct ref_table *t = table;
	long i = find(t, ref);
	return i < 0 ? NULL : t->paths[i];
}

void ref_table_release(struct ref_table *t)
{
	for (size_t i = 0; i < t->nr; i++) {
		free(t->refs[i]);
		free(t->paths[i]);
	}
	free(t->refs);
	free(t->paths);
	memset(t, 0, sizeof(*t));
}

struct checker {
	ref_resolve_fn resolve;
	void *ctx;
	const char *where, *hint;
	struct ref_table *t;
	struct diag_list *dl;
	bool allow_missing;
	size_t missing;
};

static void check_one(struct checker *k, const char *ref, const struct loc *loc,
		      const char *stage, const char *field)
{
	if (!strchr(ref, ':'))
		return; /* malformed: the validator has said so already */
	long i = find(k->t, ref);
	if (i < 0) {
		ALLOC_GROW(k->t->refs, k->t->nr + 1, k->t->alloc);
		k->t->paths = xrealloc(k->t->paths, k->t->alloc * sizeof(*k->t->paths));
		k->t->refs[k->t->nr] = xstrdup(ref);
		k->t->paths[k->t->nr] = k->resolve(k->ctx, ref);
		i = (long)k->t->nr++;
	}
	if (k->t->paths[i])
		return;
	k->missing++;
	diag_add(k->dl, k->allow_missing ? DIAG_WARNING : DIAG_ERROR, loc, "artifact", stage, field,
		 "'%s' is not in %s%s", ref, k->where, k->allow_missing ? "" : k->hint);
}

static void check_list(struct checker *k, const struct swdl_stage *s, const struct str_list *l,
		       const char *field)
{
	for (size_t i = 0; i < l->nr; i++) {
		char f[64];
		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		struct loc loc = swdl_stage_loc(s, f);
		check_one(k, l->v[i], &loc, s->id, f);
	}
}

static char *resolve_in_collection(void *c, const char *ref)
{
	return collection_resolve(c, ref);
}

size_t collection_check_workflow(const struct collection *c, const struct swdl_workflow *wf,
				 bool allow_missing, struct ref_table *t, struct diag_list *dl)
{
	char *where = xasprintf("collection '%s'", c->name);
	size_t n = refs_check_workflow(resolve_in_collection, (void *)c, where,
				       " (add it, or plan with --allow-missing)", wf,
				       allow_missing, t, dl);
	free(where);
	return n;
}

size_t refs_check_workflow(ref_resolve_fn resolve, void *ctx, const char *where,
			   const char *hint, const struct swdl_workflow *wf, bool allow_missing,
			   struct ref_table *t, struct diag_list *dl)
{
	struct checker k = { resolve, ctx, where, hint, t, dl, allow_missing, 0 };
	const struct node *gm = node_map_get(node_map_get(wf->root, "context"), "global_modules");
	for (size_t i = 0; i < wf->global_modules.nr; i++) {
		char f[64];
		snprintf(f, sizeof(f), "context.global_modules[%zu]", i);
		const struct node *n = gm && gm->kind == NODE_SEQ && i < gm->nr ? gm->items[i] : gm;
		check_one(&k, wf->global_modules.v[i], n ? &n->loc : NULL, NULL, f);
	}
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		if (s->artifact) {
			struct loc loc = swdl_stage_loc(s, "roles.primary.artifact");
			check_one(&k, s->artifact, &loc, s->id, "roles.primary.artifact");
		}
		check_list(&k, s, &s->tools, "roles.tools");
		check_list(&k, s, &s->modules, "context.modules");
	}
	return k.missing;
}
