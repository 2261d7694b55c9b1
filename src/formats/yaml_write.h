/*
 * yaml_write.h - write a JSON value as block-style YAML (libfyaml's emitter).
 */
#ifndef SM_FORMATS_YAML_WRITE_H
#define SM_FORMATS_YAML_WRITE_H

#include "../base/compat.h"

#include <jansson.h>

/* *out (malloc'd) is v as a YAML document; SM_ERR if libfyaml refuses. */
int yaml_from_json(const json_t *v, char **out);

#endif
