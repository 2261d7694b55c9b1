/*
 * strbuf.h - growable byte buffer (after git's strbuf).
 *
 * Invariants: `buf` is never NULL after strbuf_init (it points at a static
 * empty string until the first growth), `buf[len]` is always '\0', and
 * `len < alloc` whenever alloc is non-zero.  A strbuf may hold NUL bytes.
 */
#ifndef SM_STRBUF_H
#define SM_STRBUF_H

#include "compat.h"

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) SM_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/*
 * Append a finite double in the shortest form that reads back as the same
 * value, with ".0" when it would look like an integer ("1.0", "0.1", "1e+100").
 */
void strbuf_add_shortest_double(struct strbuf *sb, double d);
/* Append `s` as a JSON string literal (quotes included). */
void strbuf_add_json_string(struct strbuf *sb, const char *s, size_t len, bool ascii_only);

/*
 * Read a whole file into `sb`, refusing files larger than `max` bytes
 * (SM_ELIMIT).  Returns SM_OK, SM_ENOENT or SM_EIO (errno kept).
 */
int strbuf_read_file(struct strbuf *sb, const char *path, size_t max);

#endif
