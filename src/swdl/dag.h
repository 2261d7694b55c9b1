/*
 * dag.h - the stage graph: dependency checks, cycles, batches.
 *
 * Nodes are stage indices (declaration order).  Batches are upstream's
 * Kahn levels: a stage's batch is the length of the longest dependency
 * path reaching it, and a batch lists its stages in declaration order.
 * Everything is iterative, so a 10,000-deep chain needs no deep stack.
 */
#ifndef SM_SWDL_DAG_H
#define SM_SWDL_DAG_H

#include "model.h"

struct swdl_dag {
	size_t n;
	size_t *pred_off, *preds;   /* distinct predecessors of i: preds[pred_off[i]..pred_off[i+1]) */
	size_t *succ_off, *succs;
	size_t *batch_of;           /* stage -> batch index */
	size_t nr_batches;
	size_t *batch_off, *batch_items; /* stages of batch b: batch_items[batch_off[b]..batch_off[b+1]) */
	bool acyclic;               /* batches are valid only when true */
};

/*
 * Build the graph.  Reports duplicate stage ids, unknown dependencies,
 * self-dependencies and cycles (with the full path) to `dl`.  Returns
 * SM_OK when the graph is sound (batches computed), SM_ERR otherwise.
 */
int swdl_dag_build(const struct swdl_workflow *wf, struct swdl_dag *dag, struct diag_list *dl);
void swdl_dag_release(struct swdl_dag *dag);
/* True if `anc` must finish before `stage` starts (a transitive dependency). */
bool swdl_dag_depends_on(const struct swdl_dag *dag, size_t stage, size_t anc);

#endif
