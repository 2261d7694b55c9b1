#include "compat.h"
#include "jsonw.h"

#include <math.h>

void jw_init(struct jsonw *w, struct strbuf *out, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
	w->pretty = pretty;
}

void jw_set_sink(struct jsonw *w, FILE *sink)
{
	w->sink = sink;
}

void jw_flush(struct jsonw *w)
{
	if (!w->sink || !w->out->len)
		return;
	fwrite(w->out->buf, 1, w->out->len, w->sink);
	strbuf_reset(w->out);
}

void jw_release(struct jsonw *w)
{
	free(w->levels);
	w->levels = NULL;
	w->depth = w->alloc = 0;
}

static void newline(struct jsonw *w)
{
	static const char spaces[] = "                                                                ";
	if (!w->pretty)
		return;
	strbuf_addch(w->out, '\n');
	for (size_t n = 2 * w->depth; n;) { /* two spaces a level */
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		strbuf_add(w->out, spaces, k);
		n -= k;
	}
}

/* Separator and indentation before a value or a key. */
static void before(struct jsonw *w)
{
	if (w->sink && w->out->len > 65536)
		jw_flush(w);
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->depth)
		return;
	if (w->levels[w->depth].has_items)
		strbuf_addch(w->out, ',');
	w->levels[w->depth].has_items = true;
	newline(w);
}

static void open_level(struct jsonw *w, char opener, char closer)
{
	before(w);
	strbuf_addch(w->out, opener);
	ALLOC_GROW(w->levels, w->depth + 2, w->alloc);
	w->levels[++w->depth] = (struct jsonw_level){ closer, false };
}

void jw_object(struct jsonw *w) { open_level(w, '{', '}'); }
void jw_array(struct jsonw *w) { open_level(w, '[', ']'); }

void jw_end(struct jsonw *w)
{
	struct jsonw_level l = w->levels[w->depth--];
	if (l.has_items)
		newline(w);
	strbuf_addch(w->out, l.closer);
}

void jw_key(struct jsonw *w, const char *key)
{
	jw_keyn(w, key, strlen(key));
}

void jw_keyn(struct jsonw *w, const char *key, size_t len)
{
	before(w);
	strbuf_add_json_string(w->out, key, len, false);
	strbuf_add(w->out, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
	w->after_key = true;
}

void jw_string(struct jsonw *w, const char *s)
{
	before(w);
	if (s)
		strbuf_add_json_string(w->out, s, strlen(s), false);
	else
		strbuf_add(w->out, "null", 4);
}

void jw_stringn(struct jsonw *w, const char *s, size_t len)
{
	before(w);
	strbuf_add_json_string(w->out, s, len, false);
}

void jw_int(struct jsonw *w, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	before(w);
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	strbuf_add(w->out, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_real(struct jsonw *w, double v)
{
	before(w);
	if (!isfinite(v)) {
		strbuf_add(w->out, "null", 4);
		return;
	}
	char buf[40];
	snprintf(buf, sizeof(buf), "%.15g", v);
	strbuf_addstr(w->out, buf);
	if (!strpbrk(buf, ".eE"))
		strbuf_add(w->out, ".0", 2);
}

void jw_bool(struct jsonw *w, bool v)
{
	before(w);
	strbuf_addstr(w->out, v ? "true" : "false");
}

void jw_null(struct jsonw *w)
{
	before(w);
	strbuf_add(w->out, "null", 4);
}

void jw_value(struct jsonw *w, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		jw_object(w);
		json_object_foreach((json_t *)v, k, x) {
			jw_key(w, k);
			jw_value(w, x);
		}
		jw_end(w);
		break;
	}
	case JSON_ARRAY:
		jw_array(w);
		for (size_t i = 0; i < json_array_size(v); i++)
			jw_value(w, json_array_get(v, i));
		jw_end(w);
		break;
	case JSON_STRING:
		jw_stringn(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: jw_int(w, json_integer_value(v)); break;
	case JSON_REAL: jw_real(w, json_real_value(v)); break;
	case JSON_TRUE: jw_bool(w, true); break;
	case JSON_FALSE: jw_bool(w, false); break;
	default: jw_null(w); break;
	}
}

void jw_kstring(struct jsonw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

void jw_kint(struct jsonw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void jw_kbool(struct jsonw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}
