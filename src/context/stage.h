/*
 * Room context/ (docs/ARCHITECTURE.md): what a stage knows besides its
 * instructions: context modules, project memory (its own SQLite), packing
 * under token budgets, token and cost estimates, prices.  Uses base/,
 * formats/, swdl/, collection/.  This header, which serves a workflow's
 * stages their packs, is its door.
 *
 * stage.h - the context a workflow's stages receive: modules resolved in
 * the collection, memory items of the project in scope, and the packs.
 *
 * One context_env serves a whole workflow: module files and the memory
 * items of a project are read once, whatever the number of stages.
 */
#ifndef SM_CONTEXT_STAGE_H
#define SM_CONTEXT_STAGE_H

#include "pack.h"
#include "../collection/collection.h"

struct context_env {
	const struct collection *c;  /* NULL: no modules can be found */
	struct memory_db *mem;       /* NULL: no memory */
	const char *project;         /* absolute path of the project ("current" scope) */
	struct diag_list *dl;        /* problems with module files, manual items */
	/* caches */
	struct ctx_module **mods;
	char **mod_refs;
	size_t nr_mods;
	struct scope_items *scopes;
	size_t nr_scopes;
	struct arena arena;
};

void context_env_init(struct context_env *env, const struct collection *c,
		      struct memory_db *mem, const char *project, struct diag_list *dl);
void context_env_release(struct context_env *env);

/* The stage's memory query: the workflow's, with the stage's keys over it. */
bool context_stage_memory(const struct swdl_workflow *wf, const struct swdl_stage *s,
			  struct swdl_memory *out);

/* Does the stage receive a pack (modules or a memory query)? */
bool context_stage_has_pack(const struct swdl_workflow *wf, const struct swdl_stage *s);

/* Pack stage `s` of `wf`.  SM_OK (possibly an empty pack), SM_EIO on memory errors. */
int context_stage_pack(struct context_env *env, const struct swdl_workflow *wf,
		       const struct swdl_stage *s, struct pack_result *out);

#endif
