/*
 * fuzz-workflow: load (YAML, then JSON) + parse + bind roles (their
 * defaults) + validate + plan (with fan-out counts) on arbitrary bytes.
 * Anything but a clean diagnostic is a bug.
 */
#include "base/compat.h"
#include "swdl/plan.h"
#include "swdl/roles.h"
#include "swdl/validate.h"
#include "formats/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, enum doc_format fmt)
{
	struct load_limits lim = LOAD_LIMITS_DEFAULT;
	lim.max_bytes = 1 << 20;
	lim.max_nodes = 200000;
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = NULL;
	if (doc_load_buffer("fuzz", (const char *)data, size, fmt, &lim, &d, &dl) == SM_OK) {
		struct arena a = ARENA_INIT;
		struct swdl_workflow wf;
		struct swdl_dag dag;
		memset(&dag, 0, sizeof(dag));
		bool ok = swdl_parse(d->root, &a, &wf, &dl) == SM_OK;
		swdl_apply_defaults(&wf);
		if (ok)
			swdl_bind_roles(&wf, NULL, 0, NULL, &dl);
		if (d->root && d->root->kind == NODE_MAP)
			swdl_validate(&wf, &dag, &dl);
		if (ok && !dl.errors) {
			json_t *p = swdl_plan_parameters(&wf, NULL, 0, true, &dl);
			if (p)
				swdl_plan_fan_out(&wf, p, &dl);
			if (p) {
				struct strbuf sb = STRBUF_INIT;
				struct jsonw w;
				jw_init(&w, &sb, true);
				swdl_plan_write_json(&w, &wf, &dag, p, NULL, NULL, NULL, &dl);
				jw_release(&w);
				swdl_plan_to_text(&sb, &wf, &dag, p, NULL, NULL, NULL);
				strbuf_release(&sb);
				json_decref(p);
			}
		}
		swdl_dag_release(&dag);
		swdl_workflow_release(&wf);
		arena_free(&a);
	}
	doc_free(d);
	diag_list_release(&dl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, DOC_YAML);
	one(data, size, DOC_JSON);
	return 0;
}
