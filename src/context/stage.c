#include "stage.h"
#include "../base/strbuf.h"

/* The memory items of one project scope, with what selectors need. */
struct scope_items {
	char *scope;                 /* project path, or "" for every project */
	struct item_facts *facts;
	struct memory_item *items;
	size_t nr;
};

void context_env_init(struct context_env *env, const struct collection *c,
		      struct memory_db *mem, const char *project, struct diag_list *dl)
{
	memset(env, 0, sizeof(*env));
	env->c = c;
	env->mem = mem;
	env->project = project;
	env->dl = dl;
}

void context_env_release(struct context_env *env)
{
	for (size_t i = 0; i < env->nr_mods; i++) {
		if (env->mods[i])
			ctx_module_release(env->mods[i]);
		free(env->mods[i]);
		free(env->mod_refs[i]);
	}
	free(env->mods);
	free(env->mod_refs);
	for (size_t i = 0; i < env->nr_scopes; i++) {
		free(env->scopes[i].scope);
		free(env->scopes[i].facts);
		free(env->scopes[i].items);
	}
	free(env->scopes);
	arena_free(&env->arena);
	memset(env, 0, sizeof(*env));
}

bool context_stage_memory(const struct swdl_workflow *wf, const struct swdl_stage *s,
			  struct swdl_memory *out)
{
	static const struct swdl_memory defaults = { "current", 0.7, { 0, NULL },
						     PACK_DEFAULT_BUDGET };
	*out = wf->memory ? *wf->memory : defaults;
	if (!s->memory)
		return wf->memory != NULL;
	const struct node *n = node_map_get(node_map_get(s->node, "context"), "memory");
	if (node_map_get(n, "project_scope"))
		out->project_scope = s->memory->project_scope;
	if (node_map_get(n, "min_confidence"))
		out->min_confidence = s->memory->min_confidence;
	if (node_map_get(n, "categories"))
		out->categories = s->memory->categories;
	if (node_map_get(n, "max_tokens"))
		out->max_tokens = s->memory->max_tokens;
	return true;
}

bool context_stage_has_pack(const struct swdl_workflow *wf, const struct swdl_stage *s)
{
	return s->type != STAGE_GATE && (wf->global_modules.nr || s->modules.nr || wf->memory ||
					 s->memory);
}

static const struct ctx_module *module_for(struct context_env *env, const char *ref)
{
	for (size_t i = 0; i < env->nr_mods; i++)
		if (!strcmp(env->mod_refs[i], ref))
			return env->mods[i];
	env->mods = xrealloc(env->mods, (env->nr_mods + 1) * sizeof(*env->mods));
	env->mod_refs = xrealloc(env->mod_refs, (env->nr_mods + 1) * sizeof(*env->mod_refs));
	struct ctx_module *m = NULL;
	char *path = env->c && !strncmp(ref, "ctx:", 4) ? collection_resolve(env->c, ref) : NULL;
	if (path) {
		m = xmalloc(sizeof(*m));
		if (ctx_module_load(path, ref, m, env->dl)) {
			ctx_module_release(m);
			free(m);
			m = NULL;
		}
	}
	free(path);
	env->mods[env->nr_mods] = m;
	env->mod_refs[env->nr_mods++] = xstrdup(ref);
	return m;
}

/* anchors[].path (one a line) split once per item. */
static void read_facts(struct arena *a, const struct memory_item *it, struct item_facts *f)
{
	size_t n = 0;
	f->it = it;
	f->stage = it->stage;
	for (const char *p = it->paths; p && *p; p++)
		n += *p == '\n';
	if (!it->paths)
		return;
	f->paths = arena_alloc(a, (n + 1) * sizeof(*f->paths));
	for (const char *p = it->paths; *p;) {
		size_t len = strcspn(p, "\n");
		f->paths[f->nr_paths++] = arena_strndup(a, p, len);
		p += len + (p[len] == '\n');
	}
}

static struct scope_items *items_for(struct context_env *env, const char *scope, char **err)
{
	const char *project = !strcmp(scope, "current") ? (env->project ? env->project : "")
			      : !strcmp(scope, "all") ? "" : scope;
	for (size_t i = 0; i < env->nr_scopes; i++)
		if (!strcmp(env->scopes[i].scope, project))
			return &env->scopes[i];
	struct scope_items si = { xstrdup(project), NULL, NULL, 0 };
	struct memory_query q = { *project ? project : NULL, 0,
		(1u << MEM_ACTIVE) | (1u << MEM_STABLE), 0, 0, true };
	if (env->mem && memory_list(env->mem, &q, &env->arena, &si.items, &si.nr, err)) {
		free(si.scope);
		return NULL;
	}
	si.facts = xcalloc(si.nr + 1, sizeof(*si.facts));
	for (size_t i = 0; i < si.nr; i++)
		read_facts(&env->arena, &si.items[i], &si.facts[i]);
	env->scopes = xrealloc(env->scopes, (env->nr_scopes + 1) * sizeof(*env->scopes));
	env->scopes[env->nr_scopes] = si;
	return &env->scopes[env->nr_scopes++];
}

static void add_ref(const char ***refs, size_t *nr, const char *ref)
{
	for (size_t i = 0; i < *nr; i++)
		if (!strcmp((*refs)[i], ref))
			return;
	(*refs)[(*nr)++] = ref;
}

int context_stage_pack(struct context_env *env, const struct swdl_workflow *wf,
		       const struct swdl_stage *s, struct pack_result *out)
{
	struct swdl_memory mem;
	bool has_mem = context_stage_memory(wf, s, &mem);
	size_t cap = wf->global_modules.nr + s->modules.nr, nr = 0;
	const char **refs = xcalloc(cap + 1, sizeof(*refs));
	for (size_t i = 0; i < wf->global_modules.nr; i++)
		add_ref(&refs, &nr, wf->global_modules.v[i]);
	for (size_t i = 0; i < s->modules.nr; i++)
		add_ref(&refs, &nr, s->modules.v[i]);
	const struct ctx_module **mods = xcalloc(nr + 1, sizeof(*mods));
	for (size_t i = 0; i < nr; i++)
		mods[i] = module_for(env, refs[i]);
	char *err = NULL;
	struct scope_items *si = items_for(env, mem.project_scope, &err);
	if (!si) {
		struct loc loc = { "memory.db", 0, 0 };
		diag_add(env->dl, DIAG_ERROR, &loc, "context", s->id, NULL, "%s", err);
		free(err);
		free(mods);
		free(refs);
		memset(out, 0, sizeof(*out));
		return SM_EIO;
	}
	struct pack_request rq = { s->id, mods, refs, nr, has_mem ? &mem : NULL, mem.max_tokens,
		si->facts, si->nr };
	context_pack(&rq, out);
	free(mods);
	free(refs);
	return SM_OK;
}
