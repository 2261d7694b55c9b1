#include "../base/compat.h"
#include "dag.h"
#include "../base/strbuf.h"

struct edge_builder {
	size_t *from, *to;
	size_t nr, alloc;
};

static void report_duplicates(const struct swdl_workflow *wf, struct diag_list *dl)
{
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		long first = swdl_stage_find(wf, s->id);
		if (first < 0 || (size_t)first == i)
			continue;
		struct loc loc = swdl_stage_loc(s, "id");
		const struct loc *fl = &wf->stages[first].node->loc;
		diag_add(dl, DIAG_ERROR, &loc, "dag", s->id, "id",
			 "duplicate stage id '%s' (first defined at line %d); stage ids must be unique",
			 s->id, fl->line);
	}
}

/* Collect edges dep -> stage; unknown deps and self-loops are reported. */
static bool collect_edges(const struct swdl_workflow *wf, struct edge_builder *eb,
			  struct diag_list *dl)
{
	bool ok = true;
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		for (size_t k = 0; k < s->depends_on.nr; k++) {
			const char *dep = s->depends_on.v[k];
			long j = swdl_stage_find(wf, dep);
			if (j < 0 || (size_t)j == i) {
				/* Locate only when reporting: this loop runs for every edge. */
				char field[40];
				snprintf(field, sizeof(field), "depends_on[%zu]", k);
				struct loc loc = swdl_stage_loc(s, field);
				if (j < 0)
					diag_add(dl, DIAG_ERROR, &loc, "dag", s->id, field,
						 "depends on unknown stage '%s'", dep);
				else
					diag_add(dl, DIAG_ERROR, &loc, "dag", s->id, field,
						 "stage depends on itself (cycle %s -> %s)", s->id, s->id);
				ok = false;
				continue;
			}
			ALLOC_GROW(eb->from, eb->nr + 1, eb->alloc);
			eb->to = xrealloc(eb->to, eb->alloc * sizeof(*eb->to));
			eb->from[eb->nr] = (size_t)j;
			eb->to[eb->nr++] = i;
		}
	}
	return ok;
}

/* Compressed adjacency: for each node the distinct targets of its edges. */
static void build_csr(size_t n, const size_t *src, const size_t *dst, size_t ne,
		      size_t **off_out, size_t **items_out)
{
	size_t *off = xcalloc(n + 1, sizeof(*off));
	size_t *items = xmalloc((ne ? ne : 1) * sizeof(*items));
	size_t *fill = xcalloc(n + 1, sizeof(*fill));
	size_t *seen = xmalloc((n ? n : 1) * sizeof(*seen));
	for (size_t e = 0; e < ne; e++)
		off[src[e] + 1]++;
	for (size_t i = 0; i < n; i++)
		off[i + 1] += off[i];
	for (size_t e = 0; e < ne; e++)
		items[off[src[e]] + fill[src[e]]++] = dst[e];
	/* Drop repeated targets (a dependency listed twice counts once). */
	for (size_t i = 0; i < n; i++)
		seen[i] = SIZE_MAX;
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		size_t start = w;
		for (size_t k = off[i]; k < off[i] + fill[i]; k++) {
			if (seen[items[k]] == i)
				continue;
			seen[items[k]] = i;
			items[w++] = items[k];
		}
		off[i] = start;
	}
	off[n] = w;
	free(fill);
	free(seen);
	*off_out = off;
	*items_out = items;
}

/* Kahn levels; returns the number of stages placed. */
static size_t compute_levels(struct swdl_dag *dag)
{
	size_t n = dag->n, placed = 0, head = 0;
	size_t *indeg = xcalloc(n ? n : 1, sizeof(*indeg));
	size_t *queue = xmalloc((n ? n : 1) * sizeof(*queue));
	dag->batch_of = xcalloc(n ? n : 1, sizeof(*dag->batch_of));
	for (size_t i = 0; i < n; i++) {
		indeg[i] = dag->pred_off[i + 1] - dag->pred_off[i];
		if (!indeg[i])
			queue[placed++] = i;
	}
	while (head < placed) {
		size_t u = queue[head++];
		for (size_t k = dag->succ_off[u]; k < dag->succ_off[u + 1]; k++) {
			size_t v = dag->succs[k];
			if (dag->batch_of[u] + 1 > dag->batch_of[v])
				dag->batch_of[v] = dag->batch_of[u] + 1;
			if (!--indeg[v])
				queue[placed++] = v;
		}
	}
	free(indeg);
	free(queue);
	return placed;
}

static void group_batches(struct swdl_dag *dag)
{
	size_t n = dag->n;
	dag->nr_batches = 0;
	for (size_t i = 0; i < n; i++)
		if (dag->batch_of[i] + 1 > dag->nr_batches)
			dag->nr_batches = dag->batch_of[i] + 1;
	dag->batch_off = xcalloc(dag->nr_batches + 1, sizeof(size_t));
	dag->batch_items = xmalloc((n ? n : 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		dag->batch_off[dag->batch_of[i] + 1]++;
	for (size_t b = 0; b < dag->nr_batches; b++)
		dag->batch_off[b + 1] += dag->batch_off[b];
	size_t *fill = xcalloc(dag->nr_batches + 1, sizeof(size_t));
	for (size_t i = 0; i < n; i++) { /* declaration order within a batch */
		size_t b = dag->batch_of[i];
		dag->batch_items[dag->batch_off[b] + fill[b]++] = i;
	}
	free(fill);
}

/*
 * Find one cycle among the stages Kahn could not place: iterative DFS
 * from the first such stage in declaration order, colouring nodes.
 */
static void report_cycle(const struct swdl_workflow *wf, const struct swdl_dag *dag,
			 struct diag_list *dl)
{
	size_t n = dag->n;
	unsigned char *colour = xcalloc(n, 1); /* 0 white, 1 on stack, 2 done */
	size_t *stack = xmalloc(n * sizeof(*stack)), *next = xmalloc(n * sizeof(*next));
	for (size_t root = 0; root < n; root++) {
		if (colour[root])
			continue;
		size_t sp = 0;
		stack[sp] = root;
		next[sp++] = dag->succ_off[root];
		colour[root] = 1;
		while (sp) {
			size_t u = stack[sp - 1];
			if (next[sp - 1] == dag->succ_off[u + 1]) {
				colour[u] = 2;
				sp--;
				continue;
			}
			size_t v = dag->succs[next[sp - 1]++];
			if (colour[v] == 1) {
				struct strbuf path = STRBUF_INIT;
				size_t from = sp;
				while (stack[from - 1] != v)
					from--;
				for (size_t k = from - 1; k < sp; k++)
					strbuf_addf(&path, "%s -> ", wf->stages[stack[k]].id);
				strbuf_addstr(&path, wf->stages[v].id);
				const struct swdl_stage *s = &wf->stages[v];
				struct loc loc = swdl_stage_loc(s, "depends_on");
				diag_add(dl, DIAG_ERROR, &loc, "dag", s->id, "depends_on",
					 "dependency cycle: %s", path.buf);
				strbuf_release(&path);
				goto out;
			}
			if (!colour[v]) {
				colour[v] = 1;
				stack[sp] = v;
				next[sp++] = dag->succ_off[v];
			}
		}
	}
out:
	free(colour);
	free(stack);
	free(next);
}

int swdl_dag_build(const struct swdl_workflow *wf, struct swdl_dag *dag, struct diag_list *dl)
{
	struct edge_builder eb = { NULL, NULL, 0, 0 };
	memset(dag, 0, sizeof(*dag));
	dag->n = wf->nr_stages;
	report_duplicates(wf, dl);
	bool ok = collect_edges(wf, &eb, dl);
	build_csr(dag->n, eb.to, eb.from, eb.nr, &dag->pred_off, &dag->preds);
	build_csr(dag->n, eb.from, eb.to, eb.nr, &dag->succ_off, &dag->succs);
	free(eb.from);
	free(eb.to);
	if (compute_levels(dag) != dag->n) {
		if (dag->n)
			report_cycle(wf, dag, dl);
		ok = false;
	} else {
		group_batches(dag);
		dag->acyclic = true;
	}
	return ok ? SM_OK : SM_ERR;
}

void swdl_dag_release(struct swdl_dag *dag)
{
	free(dag->pred_off);
	free(dag->preds);
	free(dag->succ_off);
	free(dag->succs);
	free(dag->batch_of);
	free(dag->batch_off);
	free(dag->batch_items);
	memset(dag, 0, sizeof(*dag));
}

bool swdl_dag_depends_on(const struct swdl_dag *dag, size_t stage, size_t anc)
{
	for (size_t k = dag->pred_off[stage]; k < dag->pred_off[stage + 1]; k++)
		if (dag->preds[k] == anc)
			return true; /* the common case: a direct dependency */
	if (!dag->acyclic || dag->batch_of[anc] >= dag->batch_of[stage])
		return false;
	unsigned char *seen = xcalloc(dag->n, 1);
	size_t *todo = xmalloc(dag->n * sizeof(*todo)), nr = 0;
	bool found = false;
	todo[nr++] = stage;
	seen[stage] = 1;
	while (nr && !found) {
		size_t u = todo[--nr];
		for (size_t k = dag->pred_off[u]; k < dag->pred_off[u + 1]; k++) {
			size_t p = dag->preds[k];
			if (p == anc)
				found = true;
			if (!seen[p] && dag->batch_of[p] > dag->batch_of[anc]) {
				seen[p] = 1;
				todo[nr++] = p;
			}
		}
	}
	free(seen);
	free(todo);
	return found;
}
