/*
 * fuzz-toml: decode arbitrary bytes as TOML.  Anything but a clean
 * diagnostic or a tree is a bug.
 */
#include "base/compat.h"
#include "formats/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct load_limits lim = LOAD_LIMITS_DEFAULT;
	lim.max_bytes = 1 << 20;
	lim.max_nodes = 200000;
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = NULL;
	if (doc_load_buffer("fuzz.toml", (const char *)data, size, DOC_TOML, &lim, &d, &dl) == SM_OK) {
		json_t *j = node_to_json(d->root);
		json_decref(j);
	}
	doc_free(d);
	diag_list_release(&dl);
	return 0;
}
