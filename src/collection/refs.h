/*
 * refs.h - check that a workflow's artifact references (agents, skills,
 * tools, context modules) exist in a collection.
 */
#ifndef SM_COLLECTION_REFS_H
#define SM_COLLECTION_REFS_H

#include "collection.h"
#include "../swdl/model.h"

struct ref_table {
	size_t nr, alloc;
	char **refs;
	char **paths; /* NULL where the reference is missing */
};

/*
 * Resolve every reference of `wf` in `c`.  Each missing one is a located
 * diagnostic, an error unless `allow_missing` (then a warning).  Returns
 * the number of missing references.
 */
size_t collection_check_workflow(const struct collection *c, const struct swdl_workflow *wf,
				 bool allow_missing, struct ref_table *t, struct diag_list *dl);
/* The same against anything: `resolve` gives a reference's place (malloc'd)
 * or NULL; a missing one is "'REF' is not in WHERE" + `hint`. */
typedef char *(*ref_resolve_fn)(void *ctx, const char *ref);
size_t refs_check_workflow(ref_resolve_fn resolve, void *ctx, const char *where,
			   const char *hint, const struct swdl_workflow *wf, bool allow_missing,
			   struct ref_table *t, struct diag_list *dl);
/* Path of a resolved reference, NULL when missing or unknown (for plan output). */
const char *ref_table_lookup(void *table, const char *ref);
void ref_table_release(struct ref_table *t);

#endif
