/*
 * toml.h - TOML 1.0 decoder into the located node tree.
 *
 * Tables become mappings, arrays sequences, and values scalars typed as
 * TOML types them (NODE_DATETIME for the four date/time kinds).  Every
 * node keeps its line:col; every error is located, and every input is
 * bounded by the load limits (size, nesting, node count).
 */
#ifndef SM_TOML_H
#define SM_TOML_H

#include "load.h"

/* Parse d->text into d->root.  Errors go to `dl`. */
int toml_parse_doc(struct doc *d, const struct load_limits *lim, struct diag_list *dl);

#endif
