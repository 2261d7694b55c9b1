/*
 * Room swdl/ (docs/ARCHITECTURE.md): the workflow language: model,
 * parser, defaults, overrides, roles, validation, expressions, types, the
 * DAG and the plan.  Pure: no processes, no database.  Uses base/ and
 * formats/.  This header (a workflow file loaded end to end) is its door;
 * the other headers are its parts.
 *
 * workflow.h - load a workflow file end to end: read, apply project
 * overrides, parse, fill defaults, validate.
 */
#ifndef SM_SWDL_WORKFLOW_H
#define SM_SWDL_WORKFLOW_H

#include "overrides.h"
#include "roles.h"
#include "validate.h"

struct swdl_load_opts {
	bool overrides;              /* look for a project overrides file */
	const char *overrides_dir;   /* where the search starts; NULL = cwd */
	const struct load_limits *limits;
	/* Bind the workflow's roles (plans and runs; `validate` only checks them). */
	bool bind_roles;
	const struct role_binding *bindings;  /* given for this plan or run */
	size_t nr_bindings;
};

struct swdl_loaded {
	struct doc *doc;
	struct doc *overrides_doc;
	struct arena arena;          /* merged tree and model */
	struct swdl_workflow wf;
	struct swdl_dag dag;
	struct plan_override po;
	struct role_overrides ro;    /* role bindings in the overrides file */
	bool schema_ok;              /* the model is complete enough to plan */
};

/*
 * Returns SM_OK when the workflow has no errors.  *out is set whenever
 * the file could be read and parsed as YAML/JSON (so callers can still
 * show it), and must be freed with swdl_loaded_free.
 */
int swdl_load_file(const char *path, const struct swdl_load_opts *opts,
		   struct swdl_loaded **out, struct diag_list *dl);
/* The same from memory (a run's snapshot); `name` is used in diagnostics. */
int swdl_load_buffer(const char *name, const char *buf, size_t len, enum doc_format fmt,
		     const struct swdl_load_opts *opts, struct swdl_loaded **out,
		     struct diag_list *dl);
void swdl_loaded_free(struct swdl_loaded *l);

#endif
