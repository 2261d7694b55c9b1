#include "compat.h"
#include "strbuf.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

char strbuf_slopbuf[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	if (!sb->alloc)
		strbuf_grow(sb, 0);
	char *r = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return r;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	size_t n = sb->alloc ? sb->alloc : 64;
	while (n < need)
		n *= 2;
	if (!sb->alloc) {
		sb->buf = xmalloc(n);
		sb->buf[0] = '\0';
	} else {
		sb->buf = xrealloc(sb->buf, n);
	}
	sb->alloc = n;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n <= 0)
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_add_shortest_double(struct strbuf *sb, double d)
{
	char buf[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	strbuf_addstr(sb, buf);
	if (!strpbrk(buf, ".eEn"))
		strbuf_addstr(sb, ".0");
}

/* Decode one UTF-8 sequence; returns its length or 0 when malformed. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
		 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (!n || n > len)
		return 0;
	uint32_t c = s[0] & (0x7F >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	*cp = c;
	return n;
}

static void add_u16_escape(struct strbuf *sb, uint32_t u)
{
	strbuf_addf(sb, "\\u%04x", (unsigned)u);
}

void strbuf_add_json_string(struct strbuf *sb, const char *s, size_t len, bool ascii_only)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t safe = 0;
	while (safe < len && p[safe] >= 0x20 && p[safe] != '"' && p[safe] != '\\' &&
	       (p[safe] < 0x7f || !ascii_only))
		safe++;
	strbuf_grow(sb, len + 2);
	if (safe == len) { /* the common case: nothing to escape */
		char *d = sb->buf + sb->len;
		d[0] = '"';
		memcpy(d + 1, s, len);
		d[len + 1] = '"';
		sb->len += len + 2;
		sb->buf[sb->len] = '\0';
		return;
	}
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < len;) {
		/* Copy the run of bytes that need no escaping in one go. */
		size_t run = i;
		while (run < len && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' &&
		       (p[run] < 0x7f || !ascii_only))
			run++;
		if (run > i) {
			strbuf_add(sb, p + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = p[i];
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		}
		if (esc) {
			strbuf_addstr(sb, esc);
			i++;
		} else if (c < 0x20 || (c == 0x7f && ascii_only)) { /* Python escapes DEL too */
			add_u16_escape(sb, c);
			i++;
		} else if (c < 0x7f || !ascii_only) {
			strbuf_addch(sb, c);
			i++;
		} else {
			uint32_t cp;
			size_t n = utf8_decode(p + i, len - i, &cp);
			if (!n) {
				add_u16_escape(sb, 0xFFFD);
				i++;
				continue;
			}
			if (cp >= 0x10000) {
				cp -= 0x10000;
				add_u16_escape(sb, 0xD800 + (cp >> 10));
				add_u16_escape(sb, 0xDC00 + (cp & 0x3FF));
			} else {
				add_u16_escape(sb, cp);
			}
			i += n;
		}
	}
	strbuf_addch(sb, '"');
}

int strbuf_read_file(struct strbuf *sb, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? SM_ENOENT : SM_EIO;
	int ret = SM_OK;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		ret = SM_EIO;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		ret = SM_EIO;
		goto out;
	}
	/* One allocation of the right size for regular files (no regrowth). */
	if (S_ISREG(st.st_mode) && (size_t)st.st_size <= max)
		strbuf_grow(sb, (size_t)st.st_size + 1);
	for (;;) {
		strbuf_grow(sb, 8192);
		ssize_t n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = SM_EIO;
			goto out;
		}
		if (n == 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		if (sb->len > max) {
			ret = SM_ELIMIT;
			goto out;
		}
	}
out:
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return ret;
}
