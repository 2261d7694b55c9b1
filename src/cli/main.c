#include "base/compat.h"
#include "formats/load.h"
int main(int argc, char **argv)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d;
	if (argc < 2) return 2;
	int r = doc_load_file(argv[1], NULL, &d, &dl);
	for (size_t i = 0; i < dl.nr; i++) { struct strbuf sb = STRBUF_INIT; diag_format(&sb, &dl.items[i]); puts(sb.buf); strbuf_release(&sb);}
	if (!r && d->root) { json_t *j = node_to_json(d->root); char *s = json_dumps(j, JSON_ENCODE_ANY); puts(s); free(s); json_decref(j);}
	doc_free(d); diag_list_release(&dl);
	return r ? 1 : 0;
}
