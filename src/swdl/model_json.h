/*
 * model_json.h - the normalised workflow (defaults filled) as JSON, and a
 * human summary.
 */
#ifndef SM_SWDL_MODEL_JSON_H
#define SM_SWDL_MODEL_JSON_H

#include "dag.h"
#include "../base/strbuf.h"

#include <jansson.h>

json_t *swdl_workflow_to_json(const struct swdl_workflow *wf);
/* `dag` may be NULL (then batches are not shown). */
void swdl_workflow_to_text(struct strbuf *out, const struct swdl_workflow *wf,
			   const struct swdl_dag *dag);

#endif
