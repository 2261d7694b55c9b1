/*
 * types.h - SWDL value type names, used by parameters, inputs and outputs:
 * string, integer, number, boolean, array, object, any, and array<T>; and
 * the artifact types a reference names.
 */
#ifndef SM_SWDL_TYPES_H
#define SM_SWDL_TYPES_H

#include "../base/compat.h"
#include "../formats/node.h"

#include <jansson.h>

bool swdl_type_known(const char *type);
/* The nearest known type name for a misspelling, or NULL. */
const char *swdl_type_suggest(const char *type);
/* Does a JSON value fit the type?  ("any" and unknown types fit all.) */
bool swdl_type_accepts(const char *type, const json_t *v);
/* Normalised spelling for comparisons ("array<string>" keeps its form). */
bool swdl_types_compatible(const char *a, const char *b);
/*
 * Coerce command-line text to a declared type: booleans from
 * true/false/yes/no/on/off/1/0, integers and numbers from decimal text,
 * arrays and objects from JSON, strings as they are.  NULL with *err
 * (caller frees) when the text does not fit.
 */
json_t *swdl_type_coerce(const char *type, const char *text, char **err);

/*
 * Artifact types a reference or a role may name (agent:, skill:, …): the
 * table the validator and the roles both read.
 */
bool swdl_artifact_type_known(const char *type, size_t len);

#endif
