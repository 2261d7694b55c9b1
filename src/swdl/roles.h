/*
 * roles.h - binding a workflow's named roles to artifacts.
 *
 * A role is bound by, highest first: a binding given for this plan or run
 * (`--bind NAME=TYPE:ARTIFACT`, an API request's "bindings"), the project
 * overrides file (its workflow block's `roles:`, then its top-level
 * `roles:`), the role's `default`.  Binding replaces every
 * "${{ roles.NAME }}" artifact of the stages with the bound artifact, so
 * the layers above (collection checks, plans, packs, runs) see concrete
 * references.
 */
#ifndef SM_SWDL_ROLES_H
#define SM_SWDL_ROLES_H

#include "model.h"

struct role_binding {
	const char *name, *artifact;
	enum role_source source;     /* ROLE_BIND, ROLE_REQUEST (or as recorded) */
	const char *file;            /* ROLE_OVERRIDES: the file it came from */
};

/* Where the overrides file binds roles (either may be NULL). */
struct role_overrides {
	const char *file;
	const struct node *workflow_roles;  /* overrides.<id>.roles */
	const struct node *project_roles;   /* top-level roles */
};

/*
 * Bind every declared role and substitute the stages' role artifacts.
 * Unknown role names, artifacts of a type the role does not accept and
 * roles a stage uses that have no binding at all are errors in `dl`.
 */
int swdl_bind_roles(struct swdl_workflow *wf, const struct role_binding *given, size_t nr,
		    const struct role_overrides *ov, struct diag_list *dl);

/* The declared role nearest to an unknown `name`, for "did you mean", or NULL. */
const char *swdl_role_suggest(const struct swdl_workflow *wf, const char *name);

/* Static checks: declarations, and every "${{ roles.X }}" names one. */
void swdl_roles_check(const struct swdl_workflow *wf, struct diag_list *dl);

/* The bindings as {"NAME": {"artifact", "source", "file"?}} (new reference). */
#include <jansson.h>
json_t *swdl_roles_json(const struct swdl_workflow *wf);
/* Read back what swdl_roles_json wrote (a run's snapshot); *out malloc'd. */
int role_bindings_from_json(json_t *j, struct role_binding **out, size_t *nr);

#endif
