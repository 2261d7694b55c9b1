/*
 * dialect.h - the other spellings of a workflow, turned into the canonical
 * tree before it is parsed (docs/swdl.md "The seed's short form" and
 * "Compatibility"):
 *
 *  - the product document's short form: `workflow_id` at the top level,
 *    `roles.primary: "agent:x"`, `roles.<name>: "type:x"`,
 *    `context_policy`, stage names optional, and with no `depends_on`
 *    anywhere the stages run in the order written;
 *  - upstream's fan-out shapes (`type: fan_out` without a block,
 *    `fan_out.source`, `fan_out.stage_template`);
 *  - YAML 1.1 readings of plain scalars whose declared type is boolean,
 *    integer or number (upstream reads its files with PyYAML).
 *
 * Nothing is changed in place: changed mappings are copies in `a`, and
 * every node keeps its location, so diagnostics still point into the file.
 */
#ifndef SM_SWDL_DIALECT_H
#define SM_SWDL_DIALECT_H

#include "../base/compat.h"
#include "../base/arena.h"
#include "../base/diag.h"
#include "../formats/node.h"

struct swdl_dialect {
	bool seed_form;      /* written with workflow_id */
	bool written_order;  /* seed form without depends_on: stages chained as written */
};

/* The short form and upstream's stage shapes, before overrides apply. */
const struct node *swdl_dialect_canonical(struct arena *a, const struct node *root,
					  struct swdl_dialect *d, struct diag_list *dl);

/* YAML 1.1 typed values, after overrides apply (they may bring some too): yaml11_fields.c. */
const struct node *swdl_dialect_yaml11(struct arena *a, const struct node *root,
				       struct diag_list *dl);

/* An overrides block's stages in the short form's spellings, rewritten likewise. */
const struct node *swdl_dialect_overrides(struct arena *a, const struct node *block,
					  struct diag_list *dl);

/* The workflow id of a tree in either form, or NULL. */
const char *swdl_dialect_workflow_id(const struct node *root);

#endif
