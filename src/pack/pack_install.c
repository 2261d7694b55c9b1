/*
 * pack_install.c - install a verified pack into a collection, all or
 * nothing.
 *
 * Plan: each artifact is new, unchanged (same content is already there),
 * or a conflict settled by the strategy (skip, overwrite, rename to
 * "<name>-imported[-N]"; a renamed artifact's references in the pack's
 * workflows are renamed too, so they still use what came in the pack).
 *
 * Install: every file is written into a fresh staging directory inside
 * the collection (O_EXCL, O_NOFOLLOW), then each artifact is moved into
 * place with rename(2), the old one moved aside, then the manifest and
 * lock are written.  Any failure moves everything back.
 */
#include "../base/compat.h"
#include "share.h"
#include "pack_int.h"
#include "../base/fsutil.h"
#include "../collection/hash.h"
#include "../swdl/workflow.h"


const char *pack_action_name(enum pack_action_kind k)
{
	static const char *const names[] = { "new", "unchanged", "skip", "overwrite", "rename" };
	return names[k];
}

int pack_strategy_parse(const char *s, enum pack_strategy *out)
{
	/* upstream's names too: merge replaces, fork imports under a new name */
	if (!strcmp(s, "skip"))
		*out = PACK_SKIP;
	else if (!strcmp(s, "overwrite") || !strcmp(s, "merge"))
		*out = PACK_OVERWRITE;
	else if (!strcmp(s, "rename") || !strcmp(s, "fork"))
		*out = PACK_RENAME;
	else
		return SM_ERR;
	return SM_OK;
}

/* The collection's lock hash of what the pack would install, a
 * workflow's text as renamed (hash.h). */
static void install_hash(const struct pack_artifact *a, const char *text, size_t text_len,
			 char hex[65])
{
	if (pack_type_installs_as_file(a->type)) {
		content_hash_bytes(a->data[0]->data, a->data[0]->len, hex);
		return;
	}
	const unsigned char **data = xcalloc(a->nr_files, sizeof(*data));
	size_t *lens = xcalloc(a->nr_files, sizeof(*lens));
	for (size_t k = 0; k < a->nr_files; k++) {
		bool renamed = text && k == 0;
		data[k] = renamed ? (const unsigned char *)text : a->data[k]->data;
		lens[k] = renamed ? text_len : a->data[k]->len;
	}
	content_hash_files(a->nr_files, a->files, data, lens, hex);
	free(data);
	free(lens);
}

/* Is there already an artifact (type, name) in `c`?  Its path, or NULL. */
static char *existing(const struct collection *c, const char *type, const char *name)
{
	char *ref = xasprintf("%s:%s", type, name), *found;
	if (!strcmp(type, "workflow")) {
		char *rel = collection_artifact_rel(type, name);
		found = path_join(c->root, rel);
		free(rel);
		if (!fs_is_dir(found)) {
			free(found);
			found = NULL;
		}
	} else {
		found = collection_resolve(c, ref); /* a skill: its folder */
	}
	free(ref);
	return found;
}

static bool name_taken(const struct collection *c, const struct pack_plan *plan, size_t upto,
		       const char *type, const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (plan->v[i].a && !strcmp(plan->v[i].a->type, type) &&
		    !strcmp(plan->v[i].name, name))
			return true;
	char *e = existing(c, type, name);
	free(e);
	return e != NULL;
}

static char *free_name(const struct collection *c, const struct pack_plan *plan, size_t upto,
		       const struct pack_artifact *a)
{
	for (int n = 1;; n++) {
		char *name = n == 1 ? xasprintf("%s-imported", a->name)
				    : xasprintf("%s-imported-%d", a->name, n);
		if (!name_taken(c, plan, upto, a->type, name))
			return name;
		free(name);
	}
}

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

/* Replace whole references "type:old" by "type:new" in a workflow's text. */
static size_t rewrite_refs(struct pack_action *w, const struct pack_plan *plan)
{
	const char *src = w->text ? w->text : (const char *)w->a->data[0]->data;
	size_t len = w->text ? w->text_len : w->a->data[0]->len, count = 0;
	for (size_t r = 0; r < plan->nr; r++) {
		const struct pack_action *ren = &plan->v[r];
		if (ren->kind != ACT_RENAME || !strcmp(ren->a->type, "workflow"))
			continue;
		char *from = xasprintf("%s:%s", ren->a->type, ren->a->name);
		char *to = xasprintf("%s:%s", ren->a->type, ren->name);
		size_t fl = strlen(from);
		struct strbuf out = STRBUF_INIT;
		for (size_t i = 0; i < len;) {
			if (len - i >= fl && !memcmp(src + i, from, fl) &&
			    (i == 0 || !name_char(src[i - 1])) &&
			    (i + fl == len || !name_char(src[i + fl]))) {
				strbuf_addstr(&out, to);
				i += fl;
				count++;
			} else {
				strbuf_addch(&out, src[i++]);
			}
		}
		if (count) {
			free(w->text);
			w->text = strbuf_detach(&out, &w->text_len);
			src = w->text;
			len = w->text_len;
		}
		strbuf_release(&out);
		free(from);
		free(to);
	}
	return count;
}

bool pack_action_installs(const struct pack_action *a)
{
	return a->kind == ACT_NEW || a->kind == ACT_OVERWRITE || a->kind == ACT_RENAME;
}

/* The collection's lock hash of an action's content. */
void pack_action_hash(const struct pack_action *act, char hex[65])
{
	install_hash(act->a, act->text, act->text_len, hex);
}

/* Parse and validate a workflow the way `workflow create` would. */
static int check_workflow(const struct pack *p, struct pack_action *w, struct diag_list *dl)
{
	char *name = xasprintf("%s:%s%s", p->source, w->a->dir, w->a->files[0]);
	const char *text = w->text ? w->text : (const char *)w->a->data[0]->data;
	size_t len = w->text ? w->text_len : w->a->data[0]->len;
	int fmt = doc_format_from_name(w->a->files[0]);
	struct swdl_load_opts lo = { 0 };
	int r = SM_ERR;
	if (w->a->nr_files != 1 || fmt < 0)
		pack_error(dl, p, NULL, "workflow %s must be one WORKFLOW.yaml, .json or .toml file",
			   w->a->name);
	else
		r = swdl_load_buffer(name, text, len, (enum doc_format)fmt, &lo, &w->wf, dl);
	free(name);
	return r;
}

/* New, unchanged, or a conflict settled by `s`; a workflow's text is
 * compared after its references were renamed. */
static void plan_one(const struct collection *c, enum pack_strategy s, struct pack_plan *plan,
		     size_t i)
{
	struct pack_action *act = &plan->v[i];
	const struct pack_artifact *a = act->a;
	act->name = xstrdup(a->name);
	char *have = existing(c, a->type, a->name), want[65], got[65];
	if (!have) {
		act->kind = ACT_NEW;
	} else {
		install_hash(a, act->text, act->text_len, want);
		bool same = !content_hash(have, got) && !strcmp(want, got);
		act->kind = same ? ACT_UNCHANGED : s == PACK_SKIP ? ACT_SKIP
			  : s == PACK_OVERWRITE ? ACT_OVERWRITE : ACT_RENAME;
	}
	if (act->kind == ACT_RENAME) {
		free(act->name);
		act->name = free_name(c, plan, i, a);
	}
	act->rel = collection_artifact_rel(a->type, act->name);
	free(have);
}

int pack_plan_install(const struct pack *p, const struct collection *c,
		      enum pack_strategy s, struct pack_plan *plan, struct diag_list *dl)
{
	size_t errors = dl->errors;
	memset(plan, 0, sizeof(*plan));
	plan->v = xcalloc(p->nr_arts, sizeof(*plan->v));
	plan->nr = p->nr_arts;
	/* Other artifacts first: their renames change the workflows' text. */
	for (size_t i = 0; i < plan->nr; i++)
		if (strcmp(p->arts[i].type, "workflow")) {
			plan->v[i].a = &p->arts[i];
			plan_one(c, s, plan, i);
		}
	for (size_t i = 0; i < plan->nr; i++) {
		struct pack_action *w = &plan->v[i];
		if (w->a)
			continue;
		w->a = &p->arts[i];
		w->rewrites = rewrite_refs(w, plan);
		plan_one(c, s, plan, i);
		if (pack_action_installs(w))
			check_workflow(p, w, dl);
	}
	for (size_t i = 0; i < plan->nr; i++)
		plan->count[plan->v[i].kind]++;
	return dl->errors > errors ? SM_ERR : SM_OK;
}

void pack_plan_release(struct pack_plan *plan)
{
	for (size_t i = 0; i < plan->nr; i++) {
		free(plan->v[i].name);
		free(plan->v[i].rel);
		free(plan->v[i].text);
		swdl_loaded_free(plan->v[i].wf);
	}
	free(plan->v);
	memset(plan, 0, sizeof(*plan));
}
