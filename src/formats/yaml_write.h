/*
 * yaml_write.h - write a JSON value as block-style YAML (libfyaml's emitter).
 */
#ifndef SM_FORMATS_YAML_WRITE_H
#define SM_FORMATS_YAML_WRITE_H

#include "../base/compat.h"

#include <jansson.h>

/* *out (malloc'd) is v as a YAML document; SM_ERR if libfyaml refuses. */
int yaml_from_json(const json_t *v, char **out);

/*
 * *out (malloc'd) is the located tree `root` as block YAML.  With `source`
 * (the YAML text the tree was read from) its comments are kept: a comment
 * on a line of its own goes before the first key or item written from a
 * later line, one after text on a line goes after the key from that line.
 */
#include "node.h"
int yaml_from_node(const struct node *root, const char *source, char **out);

#endif
