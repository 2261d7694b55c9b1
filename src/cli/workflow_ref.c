/*
 * workflow_ref.c - what a workflow argument names: a file, or a workflow
 * stored in the active collection (by stored name, SWDL id, or display
 * name, in that order).
 */
#include "cli.h"
#include "swdl/dialect.h"
#include "base/fsutil.h"
#include "collection/collection.h"

static bool looks_like_path(const char *arg)
{
	return strchr(arg, '/') || doc_format_from_name(arg) >= 0;
}

/* A stored workflow's workflow.id and workflow.name, read from its file. */
static bool workflow_names(const char *file, char **id, char **name)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = NULL;
	*id = *name = NULL;
	if (doc_load_file(file, NULL, &d, &dl) == SM_OK) {
		/* Either form: workflow.{id,name}, or the seed's workflow_id and name. */
		const struct node *w = node_map_get(d->root, "workflow");
		const char *i = swdl_dialect_workflow_id(d->root);
		const struct node *n = node_map_get(w ? w : d->root, "name");
		if (i)
			*id = xstrdup(i);
		if (n && n->kind == NODE_STRING)
			*name = xstrdup(n->text);
	}
	doc_free(d);
	diag_list_release(&dl);
	return *id || *name;
}

/* Stored workflows whose id (pass 0) or display name (pass 1) is `arg`. */
static char *find_by_field(const struct collection *c, const char *arg, int pass, int *matches)
{
	struct artifact_entry *e;
	size_t nr = collection_entries(c, "workflow", &e);
	char *found = NULL;
	*matches = 0;
	for (size_t i = 0; i < nr; i++) {
		char *file = collection_workflow_file(c, e[i].name), *id, *name;
		if (file && workflow_names(file, &id, &name)) {
			const char *v = pass == 0 ? id : name;
			if (v && !strcmp(v, arg)) {
				(*matches)++;
				free(found);
				found = xstrdup(file);
			}
			free(id);
			free(name);
		}
		free(file);
	}
	free(e);
	return found;
}

char *resolve_workflow_arg(const char *cmd, const char *arg)
{
	if (fs_is_file(arg))
		return xstrdup(arg);
	if (looks_like_path(arg)) {
		error_msg("%s: '%s': no such workflow file", cmd, arg);
		return NULL;
	}
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	char *found = NULL;
	if (collection_open(NULL, &c, &dl)) {
		error_msg("%s: '%s' is not a file, and there is no collection to look in:", cmd, arg);
		print_diags(&dl, NULL, 0);
		goto out;
	}
	found = collection_workflow_file(c, arg);
	for (int pass = 0; !found && pass < 2; pass++) {
		int matches;
		found = find_by_field(c, arg, pass, &matches);
		if (matches > 1) {
			error_msg("%s: %d stored workflows have the %s '%s'; use the stored name "
				  "(see 'skillmeat workflow list')", cmd, matches,
				  pass ? "name" : "id", arg);
			free(found);
			found = NULL;
			goto out;
		}
	}
	if (!found)
		error_msg("%s: no workflow file or stored workflow named '%s' (collection '%s'; "
			  "see 'skillmeat workflow list')", cmd, arg, c->name);
out:
	collection_free(c);
	diag_list_release(&dl);
	return found;
}

int open_collection_optional(struct collection **c, struct diag_list *dl)
{
	return collection_open_optional(c, dl);
}
