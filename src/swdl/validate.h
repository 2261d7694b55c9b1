/*
 * validate.h - everything about a workflow that can be checked without
 * running it (upstream-swdl.md §2, plus what upstream misses).
 */
#ifndef SM_SWDL_VALIDATE_H
#define SM_SWDL_VALIDATE_H

#include "dag.h"
#include "expr.h"

/*
 * Run the graph, expression, artifact-reference and semantic checks on a
 * parsed workflow.  `dag` is built here and returned for planning (release
 * it with swdl_dag_release).  Returns SM_OK when no error was added.
 */
int swdl_validate(const struct swdl_workflow *wf, struct swdl_dag *dag, struct diag_list *dl);

#endif
