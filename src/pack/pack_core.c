/*
 * pack_core.c - what reading, verifying and hashing a pack all use, and
 * which calls none of them back: the pack's diagnostics, the path checks
 * of entries and manifest names, the entry table (sorted, found by
 * bsearch) and the table of artifact types.
 */
#include "../base/compat.h"
#include "pack.h"
#include "pack_int.h"
#include "../base/termesc.h"

#include <stdarg.h>

void pack_error(struct diag_list *dl, const struct pack *p, const char *field,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct loc loc = { p->source, 0, 0 };
	diag_add(dl, DIAG_ERROR, &loc, "pack", NULL, field, "%s", msg);
}

/*
 * No combining mark: what NFC would compose is refused rather than stored
 * under a second spelling of the same name.  (Stricter than NFC: a name
 * whose letter has no precomposed form cannot be used.)  `s` is UTF-8.
 */
static bool nfc_plain(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned cp = *p, n = cp < 0x80 ? 1 : cp < 0xE0 ? 2 : cp < 0xF0 ? 3 : 4;
		cp = n == 1 ? cp : cp & (0x3F >> (n - 1));
		for (unsigned i = 1; i < n; i++)
			cp = cp << 6 | (p[i] & 0x3F);
		if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
		    (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
		    (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0x1160 && cp <= 0x11FF) ||
		    (cp >= 0x3099 && cp <= 0x309A))
			return false;
		p += n;
	}
	return true;
}

bool pack_path_safe(const char *path, const char **why)
{
	size_t len = strlen(path);
	*why = NULL;
	if (!len)
		*why = "an empty path";
	else if (len > PACK_MAX_PATH)
		*why = "a path longer than 1024 bytes";
	else if (path[0] == '/')
		*why = "an absolute path";
	else if (strchr(path, '\\') || strchr(path, ':'))
		*why = "a path with '\\' or ':' (not a portable relative path)";
	for (const char *s = path; !*why && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*why = "a path with a control character";
	if (!*why && !term_clean(path, len, TERM_ONE_LINE))
		*why = "a path that is not UTF-8, or has a control or bidi character";
	if (!*why && !nfc_plain(path))
		*why = "a path with a combining mark (names must be NFC, precomposed)";
	for (const char *s = path; !*why && *s;) {
		size_t n = strcspn(s, "/");
		if (n == 0)
			*why = "a path with an empty component ('//' or a trailing '/')";
		else if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			*why = "a path with a '.' or '..' component";
		else if (n > PACK_MAX_COMPONENT)
			*why = "a path component longer than 255 bytes";
		s += n + (s[n] == '/');
		if (!*why && s[-1] == '/' && !*s)
			*why = "a path with an empty component ('//' or a trailing '/')";
	}
	return !*why;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct pack_file *)a)->path, ((const struct pack_file *)b)->path);
}

void pack_sort_entries(struct pack *p)
{
	if (p->nr_entries > 1)
		qsort(p->entries, p->nr_entries, sizeof(*p->entries), cmp_entry);
}

struct pack_file *pack_find(const struct pack *p, const char *path)
{
	struct pack_file key = { (char *)path, NULL, 0, false };
	if (!p->nr_entries)
		return NULL;
	return bsearch(&key, p->entries, p->nr_entries, sizeof(*p->entries), cmp_entry);
}

struct pack_file *pack_add_entry(struct pack *p, const char *path, const void *data, size_t len)
{
	ALLOC_GROW(p->entries, p->nr_entries + 1, p->alloc_entries);
	struct pack_file *f = &p->entries[p->nr_entries++];
	f->path = xstrdup(path);
	f->data = xmalloc(len ? len : 1);
	memcpy(f->data, data, len);
	f->len = len;
	f->listed = false;
	return f;
}

/* ---- artifact types -------------------------------------------------------- */

static const char *const known_types[] = { "agent", "skill", "command", "ctx", "workflow",
	"hook", "composite" };

bool pack_type_known(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_types); i++)
		if (!strcmp(type, known_types[i]))
			return true;
	return false;
}

bool pack_type_installs_as_file(const char *type)
{
	return !strcmp(type, "agent") || !strcmp(type, "command") || !strcmp(type, "ctx");
}

bool pack_type_single_file(const char *type)
{
	return pack_type_installs_as_file(type) || !strcmp(type, "workflow");
}
