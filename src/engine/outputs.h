/*
 * outputs.h - a stage's output contract: what dependents may rely on.
 */
#ifndef SM_ENGINE_OUTPUTS_H
#define SM_ENGINE_OUTPUTS_H

#include "../swdl/model.h"

#include <jansson.h>

/*
 * Check `outputs` (an object, changed in place) against the stage's
 * declared outputs: a missing output takes its default, else a required
 * one is an error; a present one must fit its type.  SM_ERR with *err
 * (caller frees) naming every violation.
 */
int outputs_check(const struct swdl_stage *s, json_t *outputs, char **err);

#endif
