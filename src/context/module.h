/*
 * module.h - context modules: `ctx:NAME` is the file context/NAME.md of
 * the collection (upstream keeps modules only in its database; here they
 * are files, so they diff, version and ship in packs).
 *
 *   ---
 *   description: Rules of this repository
 *   max_tokens: 800                # optional: cap of this module in a pack
 *   selectors:                     # optional: which memory items it brings
 *     memory_types: [constraint, style_rule]
 *     min_confidence: 0.7
 *     file_patterns: ["*.c", "docs/api.md"]  # fnmatch on anchor paths
 *     workflow_stages: [code]      # the item's provenance stage
 *   items: [3f2a9c]                # optional: memory ids always included
 *   ---
 *   The module's own text (Markdown), injected as it is.
 *
 * Selectors combine with AND, like upstream's.  The front matter is
 * optional; a file without one is just its text.
 */
#ifndef SM_CONTEXT_MODULE_H
#define SM_CONTEXT_MODULE_H

#include "../base/diag.h"
#include "memory.h"

/* Largest module file read. */
#define MODULE_MAX_BYTES (1u << 20)

struct ctx_module {
	char *ref, *path, *description, *body;
	int body_line;               /* line of the file where the body starts */
	int64_t max_tokens;          /* 0: no cap of its own */
	bool has_selectors;
	unsigned types;              /* bit (1 << enum memory_type); 0: all */
	double min_confidence;
	char **file_patterns, **stages, **items;
	size_t nr_file_patterns, nr_stages, nr_items;
};

/* Load `path` as module `ref`; problems go to dl (located).  SM_OK or SM_ERR. */
int ctx_module_load(const char *path, const char *ref, struct ctx_module *m,
		    struct diag_list *dl);
/* From text already read (`name` is used in diagnostics). */
int ctx_module_parse(const char *name, const char *text, size_t len, const char *ref,
		     struct ctx_module *m, struct diag_list *dl);
void ctx_module_release(struct ctx_module *m);

/* What selectors look at in an item, read once from its JSON. */
struct item_facts {
	const struct memory_item *it;
	const char **paths;          /* anchors[].path */
	size_t nr_paths;
	const char *stage;           /* provenance.stage (or workflow_stage) */
};

/* Does an item match the module's selectors? */
bool ctx_module_selects(const struct ctx_module *m, const struct item_facts *f);

#endif
