/*
 * toml_write.h - encode a node tree as TOML.
 *
 * Used to write manifests back: every entry of the tree is written,
 * including the ones the program does not understand, in the tree's key
 * order.  Comments are not kept (the tree has none).
 */
#ifndef SM_TOML_WRITE_H
#define SM_TOML_WRITE_H

#include "node.h"
#include "../base/strbuf.h"

/*
 * Append `root` (a mapping) as a TOML document.  Null values, which TOML
 * cannot express, are left out.  Returns SM_ERR (and appends nothing
 * useful) when root is not a mapping.
 */
int toml_write(struct strbuf *out, const struct node *root);

#endif
