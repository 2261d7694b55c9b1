/*
 * pack_plans.c - does every workflow of a pack plan against what the pack
 * itself holds?  What a plan on the receiving machine would need with no
 * overrides file and no --bind (the roles' defaults, every concrete
 * agent, skill and context module) must be in the pack; MCP servers never
 * are (the receiver configures them), and a role without a default is the
 * receiver's to bind.
 */
#include "../base/compat.h"
#include "share.h"
#include "pack_int.h"
#include "../collection/refs.h"
#include "../swdl/workflow.h"

/* "type:name" is an artifact of the pack (an agent's "agent:x" or "x.md"). */
static char *in_pack(void *ctx, const char *ref)
{
	const struct pack *p = ctx;
	const char *colon = strchr(ref, ':');
	if (!colon)
		return NULL;
	size_t tl = (size_t)(colon - ref);
	if (tl == 3 && !strncmp(ref, "mcp", 3))
		return xstrdup("(configured by the receiver)");
	for (size_t i = 0; i < p->nr_arts; i++)
		if (strlen(p->arts[i].type) == tl && !strncmp(p->arts[i].type, ref, tl) &&
		    !strcmp(p->arts[i].name, colon + 1))
			return xstrdup(p->arts[i].dir);
	return NULL;
}

static int check_one(const struct pack *p, const struct pack_artifact *a, struct diag_list *dl)
{
	int fmt = a->nr_files == 1 ? doc_format_from_name(a->files[0]) : -1;
	if (fmt < 0)
		return SM_OK; /* not a workflow file: the install says so */
	char *name = xasprintf("%s:%s%s", p->source, a->dir, a->files[0]);
	const char *text = (const char *)a->data[0]->data;
	struct swdl_load_opts bound = { .bind_roles = true }, plain = { 0 };
	struct swdl_loaded *l = NULL;
	struct diag_list quiet = DIAG_LIST_INIT;
	struct ref_table refs = { 0 };
	/* Bound to the roles' defaults when every role has one; else as written. */
	if (swdl_load_buffer(name, text, a->data[0]->len, (enum doc_format)fmt, &bound, &l,
			     &quiet)) {
		swdl_loaded_free(l);
		l = NULL;
		swdl_load_buffer(name, text, a->data[0]->len, (enum doc_format)fmt, &plain, &l,
				 &quiet);
	}
	int r = SM_OK;
	if (l && refs_check_workflow(in_pack, (void *)p, "the pack",
				     " (the pack was built without it: the workflow cannot plan "
				     "on the receiving machine)", &l->wf, false, &refs, dl))
		r = SM_ERR;
	ref_table_release(&refs);
	swdl_loaded_free(l);
	diag_list_release(&quiet);
	free(name);
	return r;
}

int pack_check_plans(const struct pack *p, struct diag_list *dl)
{
	int r = SM_OK;
	for (size_t i = 0; i < p->nr_arts; i++)
		if (!strcmp(p->arts[i].type, "workflow") && check_one(p, &p->arts[i], dl))
			r = SM_ERR;
	return r;
}
