/*
 * share.h - packs and collections: build a pack from workflows and the
 * artifacts they use; plan and install a pack into a collection.
 */
#ifndef SM_PACK_SHARE_H
#define SM_PACK_SHARE_H

#include "pack.h"
#include "../collection/collection.h"

struct swdl_loaded;

struct pack_build_opts {
	const char *name, *description, *author, *license;
	size_t nr_tags;
	const char *const *tags;
};

/* One workflow to bundle: its file, and the name it is stored under. */
struct pack_build_input {
	const char *file, *name;
};

/*
 * A pack of the workflows and, found in `c`, the closure of what they use:
 * roles, tools and context modules, and the skills an agent's front matter
 * lists.  A missing artifact is an error; MCP servers are not bundled (a
 * warning: their entries hold credentials and local commands).
 */
int pack_build(const struct collection *c, const struct pack_build_input *in, size_t nr,
	       const struct pack_build_opts *o, struct pack **out, struct diag_list *dl);

enum pack_strategy { PACK_SKIP, PACK_OVERWRITE, PACK_RENAME };
enum pack_action_kind { ACT_NEW, ACT_UNCHANGED, ACT_SKIP, ACT_OVERWRITE, ACT_RENAME };
const char *pack_action_name(enum pack_action_kind k);
int pack_strategy_parse(const char *s, enum pack_strategy *out);

struct pack_action {
	const struct pack_artifact *a;
	enum pack_action_kind kind;
	char *name;          /* its name in the collection */
	char *rel;           /* where, relative to the collection root */
	size_t rewrites;     /* references renamed in this workflow's text */
	char *text;          /* a workflow's text after renames (else NULL) */
	size_t text_len;
	struct swdl_loaded *wf; /* a workflow, parsed and validated */
};

struct pack_plan {
	struct pack_action *v;
	size_t nr;
	size_t count[ACT_RENAME + 1];
};

/*
 * Every workflow of `p` plans against the pack's own contents (its roles
 * bound to their defaults): each artifact it would use that the pack lacks
 * is an error in `dl` (pack_plans.c).
 */
int pack_check_plans(const struct pack *p, struct diag_list *dl);

/* What installing `p` into `c` would do; the pack's workflows must validate. */
int pack_plan_install(const struct pack *p, const struct collection *c,
		      enum pack_strategy s, struct pack_plan *plan, struct diag_list *dl);
/* Does this action write anything?  And its content's lock hash. */
bool pack_action_installs(const struct pack_action *a);
void pack_action_hash(const struct pack_action *act, char hex[65]);
/* Do it: all of it or, on any error, none of it. */
int pack_install(struct collection *c, const struct pack_plan *plan, struct diag_list *dl);
void pack_plan_release(struct pack_plan *plan);

/*
 * Installs into one collection take turns (collection_lock).  With the
 * lock held, pack_recover rolls back what an install killed halfway
 * left (its journal says what it moved; the manifest and lock go back
 * too), or finishes one that had committed; only a staging folder whose
 * journal verifies with this home's install key (pack_journal.c) is
 * touched, anything else is left alone and reported.  With `dry_run` it
 * only reports what it would do.
 */
int pack_recover(const struct collection *c, bool dry_run, size_t *recovered,
		 struct diag_list *dl);

#endif
