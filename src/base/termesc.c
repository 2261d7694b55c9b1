#include "compat.h"
#include "termesc.h"

/* The code point of the UTF-8 sequence at s (n bytes left) and its length; 0 if invalid. */
static size_t utf8_at(const unsigned char *s, size_t n, unsigned *cp)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
		   : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (!len || len > n)
		return 0;
	unsigned v = len == 1 ? s[0] : s[0] & (0x3F >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0; /* overlong, out of range, a surrogate */
	*cp = v;
	return len;
}

static bool hidden(unsigned cp, int flags)
{
	if (cp == '\n' || cp == '\t')
		return !(flags & TERM_KEEP_LINES);
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
	       cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void term_escape(struct strbuf *sb, const char *s, size_t len, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = utf8_at(p + i, len - i, &cp);
		if (!n) {
			strbuf_addf(sb, "\\x%02x", p[i++]);
			continue;
		}
		if (!hidden(cp, flags))
			strbuf_add(sb, p + i, n);
		else if (cp == '\n' || cp == '\t')
			strbuf_addstr(sb, cp == '\n' ? "\\n" : "\\t");
		else
			strbuf_addf(sb, cp < 0x80 ? "\\x%02x" : "\\u%04x", cp);
		i += n;
	}
}

bool term_clean(const char *s, size_t len, int flags)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = utf8_at(p + i, len - i, &cp);
		if (!n || hidden(cp, flags))
			return false;
		i += n;
	}
	return true;
}

const char *term_esc(const char *s)
{
	static char *ring[16];
	static size_t next;
	struct strbuf sb = STRBUF_INIT;
	if (!s)
		s = "";
	term_escape(&sb, s, strlen(s), TERM_ONE_LINE);
	size_t k = next++ % ARRAY_SIZE(ring);
	free(ring[k]);
	ring[k] = strbuf_detach(&sb, NULL);
	return ring[k];
}
