/*
 * plan.h - execution plans: batches, resolved parameters, estimates.
 */
#ifndef SM_SWDL_PLAN_H
#define SM_SWDL_PLAN_H

#include "dag.h"
#include "../base/jsonw.h"
#include "../base/strbuf.h"

#include <jansson.h>

struct plan_param {
	const char *name;
	const char *value; /* text as given on the command line */
};

/*
 * Merge declared parameters with the given ones (upstream-swdl.md §4.3):
 * a given value wins, then a non-null default; a required parameter with
 * neither is an error.  Given text is coerced to the declared type.
 * Unknown names are errors unless allow_extra (then kept as strings).
 * Returns the parameters object (new reference) or NULL on error.
 */
json_t *swdl_plan_parameters(const struct swdl_workflow *wf, const struct plan_param *given,
			     size_t nr_given, bool allow_extra, struct diag_list *dl);

/*
 * Count each fan-out stage's items when its list depends only on the
 * parameters (fan_out.planned_items; -1 when it is known only at run time);
 * a count over fan_out.max_items is an error in dl.
 */
void swdl_plan_fan_out(struct swdl_workflow *wf, json_t *params, struct diag_list *dl);
/* How many times a stage runs in the plan: its items, else 1. */
int64_t swdl_plan_runs(const struct swdl_stage *s);

/*
 * Upstream's estimate: sum over batches of the longest stage timeout (a
 * fan-out's timeout times its rounds of fan_out.max_parallel, default 4).
 */
int64_t swdl_plan_estimate(const struct swdl_workflow *wf, const struct swdl_dag *dag);

/* Which fields an overrides file changed, for display. */
struct plan_override {
	const char *file;       /* NULL when no overrides applied */
	size_t nr;
	struct plan_override_entry {
		const char *stage_id;  /* NULL for workflow-level fields */
		const char *field;
		char *before, *after;  /* display text; NULL when absent */
	} *entries;
};

void plan_override_release(struct plan_override *po);

/* Where the workflow's artifacts were found, for display (optional). */
struct plan_refs {
	const char *collection;   /* name of the collection checked */
	const char *root;         /* its directory */
	size_t found, missing;
	/* The path a reference resolved to, NULL when missing. */
	const char *(*path_of)(void *data, const char *ref);
	void *data;
};

/*
 * What layers above add to a plan (context packs, cost estimates): a
 * "context" object in each stage, an "estimate" object at the end, and
 * the same as text.  Any callback may be NULL.
 */
struct plan_extra {
	void (*stage_json)(void *data, struct jsonw *w, const struct swdl_stage *s);
	void (*stage_text)(void *data, struct strbuf *out, const struct swdl_stage *s);
	void (*tail_json)(void *data, struct jsonw *w);
	void (*tail_text)(void *data, struct strbuf *out);
	void *data;
};

/* The plan as JSON: upstream's plan structure plus our fields. */
void swdl_plan_write_json(struct jsonw *w, const struct swdl_workflow *wf,
			  const struct swdl_dag *dag, json_t *params,
			  const struct plan_override *po, const struct plan_refs *refs,
			  const struct plan_extra *extra, const struct diag_list *dl);
void swdl_plan_to_text(struct strbuf *out, const struct swdl_workflow *wf,
		       const struct swdl_dag *dag, json_t *params,
		       const struct plan_override *po, const struct plan_refs *refs,
		       const struct plan_extra *extra);
/* A JSON array of diagnostics: {severity, file, line, column, category, stage_id, field, message}. */
void diag_list_write_json(struct jsonw *w, const struct diag_list *dl,
			  enum diag_severity only, bool filter);

#endif
