#include "../base/compat.h"
#include "outputs.h"
#include "../base/strbuf.h"
#include "../swdl/expr.h"
#include "../swdl/types.h"

int outputs_check(const struct swdl_stage *s, json_t *outputs, char **err)
{
	struct strbuf sb = STRBUF_INIT;
	*err = NULL;
	for (size_t i = 0; i < s->nr_outputs; i++) {
		const struct swdl_output *o = &s->outputs[i];
		json_t *v = json_object_get(outputs, o->name);
		if (!v && o->default_value && o->default_value->kind != NODE_NULL) {
			json_object_set_new(outputs, o->name, node_to_json(o->default_value));
			continue;
		}
		if (!v || json_is_null(v)) {
			if (o->required)
				strbuf_addf(&sb, "%srequired output '%s' (%s) is missing",
					    sb.len ? "; " : "", o->name, o->type);
			continue;
		}
		if (!swdl_type_accepts(o->type, v))
			strbuf_addf(&sb, "%soutput '%s' must be %s, got %s", sb.len ? "; " : "",
				    o->name, o->type, expr_type_name(v));
	}
	if (!sb.len)
		return SM_OK;
	*err = strbuf_detach(&sb, NULL);
	return SM_ERR;
}
