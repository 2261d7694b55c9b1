/*
 * overrides.h - project overrides (.skillmeat-workflow-overrides.yaml),
 * upstream-swdl.md §6: a top-level `overrides:` mapping of workflow id to
 * a block of `stages` (by stage id), `context`, `config`, `error_policy`
 * and `workflow` (non-identity fields), deep-merged over the workflow.
 */
#ifndef SM_SWDL_OVERRIDES_H
#define SM_SWDL_OVERRIDES_H

#include "plan.h"
#include "../formats/load.h"

#define OVERRIDES_FILE_YAML ".skillmeat-workflow-overrides.yaml"
#define OVERRIDES_FILE_TOML ".skillmeat-workflow-overrides.toml"

/*
 * Search `start_dir` and its parents for an overrides file (YAML or TOML,
 * same structure); *path is malloc'd, or NULL when there is none.  Both
 * forms in one directory is an error: neither silently wins.
 */
int swdl_overrides_find(const char *start_dir, char **path, struct diag_list *dl);

/*
 * Load and check an overrides file; *block is the entry for
 * `workflow_id` (NULL when the file has none), *roles its top-level
 * role bindings (NULL when none).  *doc must be kept alive while they are
 * used, then freed with doc_free.
 */
int swdl_overrides_load(const char *path, const char *workflow_id, struct doc **doc,
			const struct node **block, const struct node **roles,
			struct diag_list *dl);

/*
 * Merge `block` over `base` into a new tree in `a` (inputs untouched);
 * records every changed leaf in `po`.  Stage ids that do not exist are
 * errors.  The block's `roles` (bindings) is not merged: see roles.h.
 */
int swdl_overrides_apply(struct arena *a, const struct node *base, const struct node *block,
			 const struct node **merged, struct plan_override *po,
			 struct diag_list *dl);

#endif
