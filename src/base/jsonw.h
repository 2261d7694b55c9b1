/*
 * jsonw.h - streaming JSON writer into a strbuf.
 *
 * For large write-once documents (a 10,000-stage plan) building a jansson
 * tree first costs more than everything else put together.  The layout of
 * the pretty form matches jansson's JSON_INDENT(2) output.
 */
#ifndef SM_JSONW_H
#define SM_JSONW_H

#include "strbuf.h"

#include <jansson.h>

struct jsonw_level {
	char closer;    /* '}' or ']' */
	bool has_items; /* something was written at this level */
};

struct jsonw {
	struct strbuf *out;
	FILE *sink;         /* when set, output is flushed here as it grows */
	bool pretty;
	bool after_key;
	size_t depth, alloc;
	struct jsonw_level *levels; /* levels[1..depth] */
};

void jw_init(struct jsonw *w, struct strbuf *out, bool pretty);
/* Stream to `sink`: the buffer is written out whenever it passes 64 KiB. */
void jw_set_sink(struct jsonw *w, FILE *sink);
/* Write what is buffered to the sink (if any). */
void jw_flush(struct jsonw *w);
void jw_release(struct jsonw *w);
void jw_object(struct jsonw *w);
void jw_array(struct jsonw *w);
void jw_end(struct jsonw *w);              /* closes the innermost object or array */
void jw_key(struct jsonw *w, const char *key);
void jw_keyn(struct jsonw *w, const char *key, size_t len);
void jw_string(struct jsonw *w, const char *s); /* NULL writes null */
void jw_stringn(struct jsonw *w, const char *s, size_t len);
void jw_int(struct jsonw *w, int64_t v);
void jw_real(struct jsonw *w, double v);
void jw_bool(struct jsonw *w, bool v);
void jw_null(struct jsonw *w);
void jw_value(struct jsonw *w, const json_t *v); /* any jansson value */

/* Shorthands for a key and its value. */
void jw_kstring(struct jsonw *w, const char *key, const char *s);
void jw_kint(struct jsonw *w, const char *key, int64_t v);
void jw_kbool(struct jsonw *w, const char *key, bool v);

#endif
