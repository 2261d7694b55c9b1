#include "compat.h"
#include "strv.h"
#include "strbuf.h"

#include <stdarg.h>

void strv_push(struct strv *sv, const char *s)
{
	ALLOC_GROW(sv->v, sv->nr + 2, sv->alloc);
	sv->v[sv->nr++] = xstrdup(s);
	sv->v[sv->nr] = NULL;
}

void strv_pushf(struct strv *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strv_push(sv, sb.buf);
	strbuf_release(&sb);
}

char **strv_detach(struct strv *sv)
{
	if (!sv->v)
		sv->v = xcalloc(1, sizeof(char *));
	char **v = sv->v;
	memset(sv, 0, sizeof(*sv));
	return v;
}

void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
