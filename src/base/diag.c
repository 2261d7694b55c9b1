#include "compat.h"
#include "diag.h"

struct diag *diag_add(struct diag_list *dl, enum diag_severity sev,
		      const struct loc *loc, const char *category,
		      const char *stage_id, const char *field,
		      const char *fmt, ...)
{
	ALLOC_GROW(dl->items, dl->nr + 1, dl->alloc);
	struct diag *d = &dl->items[dl->nr++];
	memset(d, 0, sizeof(*d));
	d->severity = sev;
	d->seq = dl->nr - 1;
	if (loc) {
		d->file = loc->file ? xstrdup(loc->file) : NULL;
		d->line = loc->line;
		d->col = loc->col;
	}
	d->category = xstrdup(category);
	d->stage_id = stage_id ? xstrdup(stage_id) : NULL;
	d->field = field ? xstrdup(field) : NULL;
	va_list ap;
	va_start(ap, fmt);
	d->message = xvasprintf(fmt, ap);
	va_end(ap);
	if (sev == DIAG_ERROR)
		dl->errors++;
	else
		dl->warnings++;
	return d;
}

void diag_list_release(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->nr; i++) {
		struct diag *d = &dl->items[i];
		free(d->file);
		free(d->category);
		free(d->stage_id);
		free(d->field);
		free(d->message);
	}
	free(dl->items);
	memset(dl, 0, sizeof(*dl));
}

static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int cmp_diag(const void *a, const void *b)
{
	const struct diag *p = a, *q = b;
	int c = cmp_str(p->file, q->file);
	if (!c)
		c = (p->line > q->line) - (p->line < q->line);
	if (!c)
		c = (p->col > q->col) - (p->col < q->col);
	if (!c)
		c = (p->seq > q->seq) - (p->seq < q->seq);
	return c;
}

/* qsort with the insertion order as the last key: stable, and O(n log n)
 * even for a huge file with an error on every line. */
void diag_list_sort(struct diag_list *dl)
{
	if (dl->nr > 1)
		qsort(dl->items, dl->nr, sizeof(*dl->items), cmp_diag);
}

const char *diag_severity_name(enum diag_severity s)
{
	return s == DIAG_ERROR ? "error" : "warning";
}

void diag_format(struct strbuf *out, const struct diag *d)
{
	if (d->file) {
		strbuf_addstr(out, d->file);
		if (d->line > 0)
			strbuf_addf(out, ":%d:%d", d->line, d->col);
		strbuf_addstr(out, ": ");
	}
	strbuf_addf(out, "%s: [%s] ", diag_severity_name(d->severity), d->category);
	if (d->stage_id)
		strbuf_addf(out, "stage '%s' ", d->stage_id);
	if (d->field)
		strbuf_addf(out, "field '%s' ", d->field);
	if (d->stage_id || d->field) {
		out->len--;
		strbuf_addstr(out, ": ");
	}
	strbuf_addstr(out, d->message);
}
