/*
 * toml.c - TOML 1.0 decoder (https://toml.io/en/v1.0.0).
 *
 * A hand-written recursive-descent parser over the raw bytes.  Tables are
 * built as mutable `struct tval`s first, because TOML lets a table gain
 * keys long after it was opened ([a.b] after [a], dotted keys), and are
 * frozen into nodes at the end.  The redefinition rules are enforced with
 * per-table flags: how a table came to exist decides what may extend it.
 */
#include "../base/compat.h"
#include "toml.h"
#include "../base/strbuf.h"
#include "../base/strmap.h"

#include <ctype.h>
#include <math.h>

enum tkind { TV_TABLE, TV_ARRAY, TV_VALUE };

enum tflag {
	TF_EXPLICIT = 1 << 0, /* opened by a [header] */
	TF_DOTTED = 1 << 1,   /* created by a dotted key */
	TF_INLINE = 1 << 2,   /* an inline table or anything inside one: sealed */
	TF_AOT = 1 << 3,      /* an array of tables ([[header]]) */
	TF_STATIC = 1 << 4,   /* an array value: sealed */
};

struct tval;

struct tkv {
	struct node *key;
	struct tval *val;
};

struct tval {
	enum tkind kind;
	unsigned flags;
	struct loc loc;
	struct tkv *kv;       /* tables: entries in definition order */
	size_t nr, alloc;
	struct strmap index;  /* tables with many keys (none holding a NUL) */
	bool nul_key;         /* a key contains "\u0000": no index, compare by length */
	struct tval **items;  /* arrays */
	size_t nitems, ialloc;
	struct node *value;   /* TV_VALUE */
};

struct tparser {
	struct doc *doc;
	const struct load_limits *lim;
	struct diag_list *dl;
	const char *p, *end;
	const char *line_start;
	int line;
	bool failed;
	size_t nodes;
	struct tval **all; /* every tval, for freeing */
	size_t nr_all, alloc_all;
};

/* ---- positions and errors ------------------------------------------------ */

static struct loc loc_at(struct tparser *t, const char *at)
{
	struct loc l = { t->doc->file, t->line, 1 };
	for (const char *c = t->line_start; c < at; c++)
		if (((unsigned char)*c & 0xC0) != 0x80)
			l.col++;
	return l;
}

static int fail(struct tparser *t, const char *at, const char *fmt, ...) SM_PRINTF(3, 4);
static int fail(struct tparser *t, const char *at, const char *fmt, ...)
{
	if (t->failed)
		return SM_ERR;
	t->failed = true;
	struct loc l = loc_at(t, at);
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(t->dl, DIAG_ERROR, &l, "parse", NULL, NULL, "TOML: %s", msg);
	free(msg);
	return SM_ERR;
}

static const char *describe_char(const char *p, const char *end, char *buf, size_t size)
{
	if (p >= end)
		return "end of file";
	if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n'))
		return "end of line";
	if ((unsigned char)*p < 0x20 || *p == 0x7f)
		snprintf(buf, size, "control character 0x%02x", (unsigned char)*p);
	else if ((unsigned char)*p >= 0x80)
		snprintf(buf, size, "a non-ASCII character");
	else
		snprintf(buf, size, "'%c'", *p);
	return buf;
}

static int unexpected(struct tparser *t, const char *expected)
{
	char buf[48];
	return fail(t, t->p, "expected %s, found %s", expected,
		    describe_char(t->p, t->end, buf, sizeof(buf)));
}

static struct tval *new_tval(struct tparser *t, enum tkind k, const char *at)
{
	struct tval *v = ARENA_NEW(&t->doc->arena, struct tval);
	v->kind = k;
	v->loc = loc_at(t, at);
	ALLOC_GROW(t->all, t->nr_all + 1, t->alloc_all);
	t->all[t->nr_all++] = v;
	return v;
}

static int count_node(struct tparser *t, const char *at)
{
	if (++t->nodes > t->lim->max_nodes)
		return fail(t, at, "document too large: more than %zu values", t->lim->max_nodes);
	return SM_OK;
}

/* ---- low-level scanning -------------------------------------------------- */

static bool at_eof(struct tparser *t) { return t->p >= t->end; }

static void skip_ws(struct tparser *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
		t->p++;
}

/* A newline (LF or CRLF) at the cursor: consume it and return true. */
static bool take_newline(struct tparser *t)
{
	if (t->p < t->end && *t->p == '\n') {
		t->p++;
	} else if (t->p + 1 < t->end && t->p[0] == '\r' && t->p[1] == '\n') {
		t->p += 2;
	} else {
		return false;
	}
	t->line++;
	t->line_start = t->p;
	return true;
}

/* Control characters other than tab are not allowed in comments or strings. */
static bool is_bad_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int skip_comment(struct tparser *t)
{
	if (at_eof(t) || *t->p != '#')
		return SM_OK;
	for (t->p++; t->p < t->end && *t->p != '\n'; t->p++) {
		if (*t->p == '\r' && t->p + 1 < t->end && t->p[1] == '\n')
			break;
		if (is_bad_control((unsigned char)*t->p))
			return fail(t, t->p, "control character 0x%02x in a comment",
				    (unsigned char)*t->p);
	}
	return SM_OK;
}

/* White space, comments and newlines (inside arrays). */
static int skip_ws_nl(struct tparser *t)
{
	for (;;) {
		skip_ws(t);
		if (skip_comment(t))
			return SM_ERR;
		if (!take_newline(t))
			break;
	}
	return SM_OK;
}

/* After a key/value pair or a header: only a comment may follow on the line. */
static int end_of_line(struct tparser *t)
{
	skip_ws(t);
	if (skip_comment(t))
		return SM_ERR;
	if (at_eof(t) || take_newline(t))
		return SM_OK;
	return unexpected(t, "a new line after the value");
}

/* ---- strings ------------------------------------------------------------- */

static void add_utf8(struct strbuf *sb, uint32_t cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xC0 | (cp >> 6)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xE0 | (cp >> 12)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3F)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	} else {
		strbuf_addch(sb, (int)(0xF0 | (cp >> 18)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 12) & 0x3F)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3F)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3F)));
	}
}

static int escape(struct tparser *t, struct strbuf *sb)
{
	const char *at = t->p++; /* the backslash */
	if (at_eof(t))
		return fail(t, at, "backslash at the end of the file");
	char c = *t->p++;
	switch (c) {
	case 'b': strbuf_addch(sb, '\b'); return SM_OK;
	case 't': strbuf_addch(sb, '\t'); return SM_OK;
	case 'n': strbuf_addch(sb, '\n'); return SM_OK;
	case 'f': strbuf_addch(sb, '\f'); return SM_OK;
	case 'r': strbuf_addch(sb, '\r'); return SM_OK;
	case '"': strbuf_addch(sb, '"'); return SM_OK;
	case '\\': strbuf_addch(sb, '\\'); return SM_OK;
	case 'u':
	case 'U': {
		int n = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (int i = 0; i < n; i++, t->p++) {
			if (at_eof(t) || !isxdigit((unsigned char)*t->p))
				return fail(t, at, "\\%c needs %d hexadecimal digits", c, n);
			int d = isdigit((unsigned char)*t->p) ? *t->p - '0'
							      : (tolower((unsigned char)*t->p) - 'a' + 10);
			cp = cp * 16 + (uint32_t)d;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return fail(t, at, "\\%c%0*X is not a Unicode scalar value", c, n, cp);
		add_utf8(sb, cp);
		return SM_OK;
	}
	default:
		return fail(t, at, "invalid escape '\\%c' (valid: \\b \\t \\n \\f \\r \\\" \\\\ "
			    "\\uXXXX \\UXXXXXXXX)", isprint((unsigned char)c) ? c : '?');
	}
}

/* Multi-line strings: a backslash at the end of a line eats the line break
 * and all white space up to the next visible character. */
static bool line_ending_backslash(struct tparser *t)
{
	const char *q = t->p + 1;
	while (q < t->end && (*q == ' ' || *q == '\t'))
		q++;
	if (!(q < t->end && (*q == '\n' || (*q == '\r' && q + 1 < t->end && q[1] == '\n'))))
		return false;
	t->p = q;
	for (;;) {
		skip_ws(t);
		if (!take_newline(t))
			return true;
	}
}

/*
 * The closing delimiter of a multi-line string: three quotes, of which up
 * to two more may come first as content ("""a"""" is 'a"').
 */
static int multiline_close(struct tparser *t, char q, struct strbuf *sb, bool *done)
{
	size_t n = 0;
	while (t->p + n < t->end && t->p[n] == q)
		n++;
	*done = n >= 3;
	if (!*done)
		return SM_OK;
	if (n > 5)
		return fail(t, t->p + 5, "too many quotes at the end of a multi-line string");
	for (size_t i = 3; i < n; i++)
		strbuf_addch(sb, q);
	t->p += n;
	return SM_OK;
}

static int string_char(struct tparser *t, struct strbuf *sb, bool multiline)
{
	unsigned char c = (unsigned char)*t->p;
	if (multiline && (c == '\n' || c == '\r')) {
		if (!take_newline(t))
			return fail(t, t->p, "a carriage return must be followed by a line feed");
		strbuf_addch(sb, '\n');
		return SM_OK;
	}
	if (c == '\n' || (c == '\r' && t->p + 1 < t->end && t->p[1] == '\n'))
		return fail(t, t->p, "a single-line string cannot contain a line break");
	if (is_bad_control(c))
		return fail(t, t->p, "control character 0x%02x in a string (escape it)", c);
	strbuf_addch(sb, (int)c);
	t->p++;
	return SM_OK;
}

/* Any of the four string forms; the cursor is on the opening quote. */
static int parse_string(struct tparser *t, struct strbuf *sb)
{
	const char *start = t->p;
	char q = *t->p;
	bool multiline = t->p + 2 < t->end && t->p[1] == q && t->p[2] == q;
	t->p += multiline ? 3 : 1;
	if (multiline)
		take_newline(t); /* a newline right after the opening is dropped */
	for (;;) {
		if (at_eof(t))
			return fail(t, start, "unterminated string");
		if (*t->p == q) {
			if (!multiline) {
				t->p++;
				return SM_OK;
			}
			bool done;
			if (multiline_close(t, q, sb, &done))
				return SM_ERR;
			if (done)
				return SM_OK;
			strbuf_addch(sb, q);
			t->p++;
			continue;
		}
		if (q == '"' && *t->p == '\\') {
			if (multiline && line_ending_backslash(t))
				continue;
			if (escape(t, sb))
				return SM_ERR;
			continue;
		}
		if (string_char(t, sb, multiline))
			return SM_ERR;
	}
}

/* ---- keys ---------------------------------------------------------------- */

static bool is_bare_key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

#define MAX_KEY_PARTS 128

struct key_path {
	struct node *parts[MAX_KEY_PARTS];
	size_t nr;
};

static int parse_simple_key(struct tparser *t, struct node **out)
{
	const char *start = t->p;
	struct strbuf sb = STRBUF_INIT;
	if (at_eof(t))
		return unexpected(t, "a key");
	if (*t->p == '"' || *t->p == '\'') {
		if (t->p + 2 < t->end && t->p[1] == *t->p && t->p[2] == *t->p)
			return fail(t, t->p, "a key cannot be a multi-line string");
		if (parse_string(t, &sb)) {
			strbuf_release(&sb);
			return SM_ERR;
		}
	} else {
		while (t->p < t->end && is_bare_key_char(*t->p))
			t->p++;
		if (t->p == start)
			return unexpected(t, "a key");
		strbuf_add(&sb, start, (size_t)(t->p - start));
	}
	if (count_node(t, start)) {
		strbuf_release(&sb);
		return SM_ERR;
	}
	struct node *k = ARENA_NEW(&t->doc->arena, struct node);
	k->kind = NODE_STRING;
	k->style = NODE_STYLE_QUOTED;
	k->loc = loc_at(t, start);
	k->len = (uint32_t)sb.len;
	k->text = arena_strndup(&t->doc->arena, sb.buf, sb.len);
	k->weight = 1;
	strbuf_release(&sb);
	*out = k;
	return SM_OK;
}

static int parse_key(struct tparser *t, struct key_path *kp)
{
	kp->nr = 0;
	for (;;) {
		skip_ws(t);
		if (kp->nr == MAX_KEY_PARTS)
			return fail(t, t->p, "dotted key with more than %d parts", MAX_KEY_PARTS);
		if (parse_simple_key(t, &kp->parts[kp->nr++]))
			return SM_ERR;
		skip_ws(t);
		if (at_eof(t) || *t->p != '.')
			return SM_OK;
		t->p++;
	}
}

/* ---- scalars: numbers, date-times, booleans ------------------------------ */

static struct node *scalar_node(struct tparser *t, enum node_kind k, const char *start,
				const char *text, size_t len)
{
	struct node *n = ARENA_NEW(&t->doc->arena, struct node);
	n->kind = (uint8_t)k;
	n->style = NODE_STYLE_QUOTED;
	n->loc = loc_at(t, start);
	n->text = arena_strndup(&t->doc->arena, text, len);
	n->len = (uint32_t)len;
	n->weight = 1;
	return n;
}

/* Digits with single underscores between them; copied without underscores. */
static bool digits(const char **pp, const char *end, int (*is_digit)(int), struct strbuf *out)
{
	const char *p = *pp;
	if (p >= end || !is_digit((unsigned char)*p))
		return false;
	while (p < end) {
		if (is_digit((unsigned char)*p)) {
			strbuf_addch(out, *p++);
		} else if (*p == '_' && p + 1 < end && is_digit((unsigned char)p[1]) &&
			   is_digit((unsigned char)p[-1])) {
			p++;
		} else {
			break;
		}
	}
	*pp = p;
	return true;
}

static int is_odigit(int c) { return c >= '0' && c <= '7'; }
static int is_bdigit(int c) { return c == '0' || c == '1'; }

static int prefixed_int(struct tparser *t, const char *start, const char *end, struct node **out)
{
	static const struct { char c; int base; int (*is_digit)(int); } kinds[] = {
		{ 'x', 16, isxdigit }, { 'o', 8, is_odigit }, { 'b', 2, is_bdigit },
	};
	struct strbuf sb = STRBUF_INIT;
	int r = SM_OK;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		if (start[1] != kinds[k].c)
			continue;
		const char *p = start + 2;
		if (!digits(&p, end, kinds[k].is_digit, &sb) || p != end) {
			r = fail(t, start, "invalid %s integer '%.*s'", k == 0 ? "hexadecimal"
				 : k == 1 ? "octal" : "binary", (int)(end - start), start);
			break;
		}
		errno = 0;
		unsigned long long v = strtoull(sb.buf, NULL, kinds[k].base);
		if (errno || v > INT64_MAX) {
			r = fail(t, start, "integer '%.*s' does not fit in 64 bits",
				 (int)(end - start), start);
			break;
		}
		*out = scalar_node(t, NODE_INT, start, start, (size_t)(end - start));
		(*out)->v.i = (int64_t)v;
		break;
	}
	strbuf_release(&sb);
	return r;
}

static int decimal_number(struct tparser *t, const char *start, const char *end,
			  struct node **out)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = start;
	bool is_float = false;
	int r = SM_OK;
	if (*p == '+' || *p == '-')
		strbuf_addch(&sb, *p++);
	const char *int_start = p;
	if (!digits(&p, end, isdigit, &sb))
		goto bad;
	if (*int_start == '0' && p - int_start > 1)
		goto bad; /* leading zeros */
	if (p < end && *p == '.') {
		strbuf_addch(&sb, *p++);
		if (!digits(&p, end, isdigit, &sb))
			goto bad;
		is_float = true;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		strbuf_addch(&sb, *p++);
		if (p < end && (*p == '+' || *p == '-'))
			strbuf_addch(&sb, *p++);
		if (!digits(&p, end, isdigit, &sb))
			goto bad;
		is_float = true;
	}
	if (p != end)
		goto bad;
	errno = 0;
	if (is_float) {
		double d = strtod(sb.buf, NULL);
		if (isinf(d)) {
			r = fail(t, start, "number '%.*s' is out of range", (int)(end - start), start);
			goto out;
		}
		*out = scalar_node(t, NODE_FLOAT, start, sb.buf, sb.len);
		(*out)->v.f = d;
	} else {
		long long v = strtoll(sb.buf, NULL, 10);
		if (errno) {
			r = fail(t, start, "integer '%.*s' does not fit in 64 bits",
				 (int)(end - start), start);
			goto out;
		}
		*out = scalar_node(t, NODE_INT, start, sb.buf, sb.len);
		(*out)->v.i = v;
	}
	goto out;
bad:
	r = fail(t, start, "invalid number '%.*s'", (int)(end - start), start);
out:
	strbuf_release(&sb);
	return r;
}

static int number(struct tparser *t, const char *start, const char *end, struct node **out)
{
	const char *u = (*start == '+' || *start == '-') ? start + 1 : start;
	if (end - u == 3 && (!strncmp(u, "inf", 3) || !strncmp(u, "nan", 3))) {
		*out = scalar_node(t, NODE_FLOAT, start, start, (size_t)(end - start));
		(*out)->v.f = u[0] == 'n' ? NAN : (*start == '-' ? -INFINITY : INFINITY);
		if (u[0] == 'n' && *start == '-')
			(*out)->v.f = -NAN;
		return SM_OK;
	}
	if (end - start > 2 && start[0] == '0' && (start[1] == 'x' || start[1] == 'o' ||
						   start[1] == 'b'))
		return prefixed_int(t, start, end, out);
	return decimal_number(t, start, end, out);
}

static bool two_digits(const char *p, int *v)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return false;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return true;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* HH:MM:SS(.frac)? at p; returns the end or NULL. */
static const char *time_part(const char *p, const char *end)
{
	int h, m, s;
	if (end - p < 8 || !two_digits(p, &h) || p[2] != ':' || !two_digits(p + 3, &m) ||
	    p[5] != ':' || !two_digits(p + 6, &s))
		return NULL;
	if (h > 23 || m > 59 || s > 60)
		return NULL;
	p += 8;
	if (p < end && *p == '.') {
		const char *f = ++p;
		while (p < end && isdigit((unsigned char)*p))
			p++;
		if (p == f)
			return NULL;
	}
	return p;
}

/* The token is a date, a time or a date-time; classify and check it. */
static int datetime(struct tparser *t, const char *start, const char *end, struct node **out)
{
	enum node_datetime kind;
	const char *p = start;
	int y = 0, mo, d;
	if (end - p >= 10 && p[4] == '-') {
		if (!two_digits(p, &y) || !two_digits(p + 2, &mo))
			goto bad;
		y = y * 100 + mo;
		if (!two_digits(p + 5, &mo) || p[7] != '-' || !two_digits(p + 8, &d) ||
		    mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
			goto bad;
		p += 10;
		kind = NODE_DT_DATE;
		if (p < end) {
			if (*p != 'T' && *p != 't' && *p != ' ')
				goto bad;
			if (!(p = time_part(p + 1, end)))
				goto bad;
			kind = NODE_DT_LOCAL;
			if (p < end && (*p == 'Z' || *p == 'z')) {
				p++;
				kind = NODE_DT_OFFSET;
			} else if (p < end && (*p == '+' || *p == '-')) {
				int oh, om;
				if (end - p < 6 || !two_digits(p + 1, &oh) || p[3] != ':' ||
				    !two_digits(p + 4, &om) || oh > 23 || om > 59)
					goto bad;
				p += 6;
				kind = NODE_DT_OFFSET;
			}
		}
	} else {
		if (!(p = time_part(p, end)))
			goto bad;
		kind = NODE_DT_TIME;
	}
	if (p != end)
		goto bad;
	*out = scalar_node(t, NODE_DATETIME, start, start, (size_t)(end - start));
	(*out)->style = (uint8_t)kind;
	for (char *c = (char *)(*out)->text; *c; c++) /* normalise: T, Z upper case */
		if (*c == 't' || *c == ' ' || *c == 'z')
			*c = *c == 'z' ? 'Z' : 'T';
	return SM_OK;
bad:
	return fail(t, start, "invalid date or time '%.*s'", (int)(end - start), start);
}

static bool is_value_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '+' || c == '.' ||
	       c == ':';
}

/* A bare value: number, date-time or boolean. */
static int bare_value(struct tparser *t, struct node **out)
{
	const char *start = t->p;
	const char *end = start;
	while (end < t->end && is_value_char(*end))
		end++;
	/* "1979-05-27 07:32:00": a date, one space, then a time */
	if (end - start == 10 && start[4] == '-' && end + 3 < t->end && *end == ' ' &&
	    isdigit((unsigned char)end[1]) && isdigit((unsigned char)end[2]) && end[3] == ':') {
		end++;
		while (end < t->end && is_value_char(*end))
			end++;
	}
	if (end == start)
		return unexpected(t, "a value");
	t->p = end;
	size_t len = (size_t)(end - start);
	if ((len == 4 && !strncmp(start, "true", 4)) || (len == 5 && !strncmp(start, "false", 5))) {
		*out = scalar_node(t, NODE_BOOL, start, start, len);
		(*out)->v.b = len == 4;
		return SM_OK;
	}
	bool dt = memchr(start, ':', len) ||
		  (len >= 10 && isdigit((unsigned char)start[0]) && start[4] == '-');
	return dt ? datetime(t, start, end, out) : number(t, start, end, out);
}

/* ---- tables -------------------------------------------------------------- */

static struct tval *table_get(struct tval *tab, const struct node *key)
{
	if (tab->index.nr && !memchr(key->text, '\0', key->len)) {
		size_t i;
		return strmap_get(&tab->index, key->text, &i) ? tab->kv[i].val : NULL;
	}
	for (size_t i = 0; i < tab->nr; i++) {
		const struct node *k = tab->kv[i].key;
		if (k->len == key->len && !memcmp(k->text, key->text, key->len))
			return tab->kv[i].val;
	}
	return NULL;
}

static int table_put(struct tparser *t, struct tval *tab, struct node *key, struct tval *v)
{
	if (tab->nr >= t->lim->max_map_keys)
		return fail(t, t->p, "too many keys in one table (limit %zu)", t->lim->max_map_keys);
	ALLOC_GROW(tab->kv, tab->nr + 1, tab->alloc);
	tab->kv[tab->nr] = (struct tkv){ key, v };
	if (memchr(key->text, '\0', key->len)) {
		tab->nul_key = true;
		strmap_release(&tab->index);
	}
	if (tab->nr >= 16 && !tab->index.nr && !tab->nul_key)
		for (size_t i = 0; i < tab->nr; i++)
			strmap_put(&tab->index, tab->kv[i].key->text, i);
	if (tab->index.nr)
		strmap_put(&tab->index, key->text, tab->nr);
	tab->nr++;
	return SM_OK;
}

/* Walk the intermediate parts of a dotted key from `tab`, creating tables. */
static int descend_dotted(struct tparser *t, struct tval **tab, struct key_path *kp,
			  size_t upto, const char *at, unsigned new_flags)
{
	for (size_t i = 0; i < upto; i++) {
		struct tval *next = table_get(*tab, kp->parts[i]);
		if (!next) {
			next = new_tval(t, TV_TABLE, at);
			next->flags = new_flags;
			if (table_put(t, *tab, kp->parts[i], next))
				return SM_ERR;
		} else if (next->kind != TV_TABLE) {
			return fail(t, at, "'%s' is already %s, not a table",
				    kp->parts[i]->text, next->kind == TV_ARRAY ? "an array" : "a value");
		} else if (next->flags & TF_INLINE) {
			return fail(t, at, "cannot add keys to the inline table '%s'",
				    kp->parts[i]->text);
		} else if (next->flags & TF_EXPLICIT) {
			return fail(t, at, "table '%s' was defined with a [header]; dotted keys "
				    "cannot extend it", kp->parts[i]->text);
		}
		*tab = next;
	}
	return SM_OK;
}

/* key = value, into `tab`; `flags` marks tables the dotted key creates. */
static int put_value(struct tparser *t, struct tval *tab, struct key_path *kp,
		     struct tval *v, const char *at, unsigned flags)
{
	if (descend_dotted(t, &tab, kp, kp->nr - 1, at, TF_DOTTED | flags))
		return SM_ERR;
	struct node *last = kp->parts[kp->nr - 1];
	if (table_get(tab, last))
		return fail(t, at, "key '%s' is defined twice", last->text);
	return table_put(t, tab, last, v);
}

static int parse_value(struct tparser *t, struct tval **out, unsigned depth);

static int parse_array(struct tparser *t, struct tval **out, unsigned depth)
{
	struct tval *arr = new_tval(t, TV_ARRAY, t->p);
	arr->flags = TF_STATIC;
	t->p++; /* [ */
	for (;;) {
		if (skip_ws_nl(t))
			return SM_ERR;
		if (!at_eof(t) && *t->p == ']')
			break;
		struct tval *item;
		if (parse_value(t, &item, depth + 1))
			return SM_ERR;
		ALLOC_GROW(arr->items, arr->nitems + 1, arr->ialloc);
		arr->items[arr->nitems++] = item;
		if (skip_ws_nl(t))
			return SM_ERR;
		if (!at_eof(t) && *t->p == ',') {
			t->p++;
			continue;
		}
		if (!at_eof(t) && *t->p == ']')
			break;
		return unexpected(t, "',' or ']' in an array");
	}
	t->p++;
	*out = arr;
	return SM_OK;
}

/* `key = value` into `tab` (dotted keys create tables on the way). */
static int parse_keyval(struct tparser *t, struct tval *tab, unsigned depth)
{
	const char *at = t->p;
	struct key_path kp;
	if (parse_key(t, &kp))
		return SM_ERR;
	if (at_eof(t) || *t->p != '=')
		return unexpected(t, "'=' after the key");
	t->p++;
	skip_ws(t);
	struct tval *v;
	if (parse_value(t, &v, depth) || put_value(t, tab, &kp, v, at, 0))
		return SM_ERR;
	return SM_OK;
}

static void seal_inline(struct tval *v)
{
	v->flags |= TF_INLINE;
	for (size_t i = 0; v->kind == TV_TABLE && i < v->nr; i++)
		seal_inline(v->kv[i].val);
}

static int parse_inline_table(struct tparser *t, struct tval **out, unsigned depth)
{
	struct tval *tab = new_tval(t, TV_TABLE, t->p);
	t->p++; /* { */
	skip_ws(t);
	if (!at_eof(t) && *t->p == '}') {
		t->p++;
		goto done;
	}
	for (;;) {
		if (parse_keyval(t, tab, depth + 1))
			return SM_ERR;
		skip_ws(t);
		if (!at_eof(t) && *t->p == ',') {
			t->p++;
			skip_ws(t);
			if (!at_eof(t) && *t->p == '}')
				return fail(t, t->p, "trailing comma in an inline table "
					    "(not allowed in TOML 1.0)");
			continue;
		}
		if (!at_eof(t) && *t->p == '}') {
			t->p++;
			break;
		}
		return unexpected(t, "',' or '}' in an inline table (which must fit on one line)");
	}
done:
	seal_inline(tab);
	*out = tab;
	return SM_OK;
}

static int parse_value(struct tparser *t, struct tval **out, unsigned depth)
{
	if (depth > t->lim->max_depth)
		return fail(t, t->p, "nesting deeper than %u levels", t->lim->max_depth);
	if (count_node(t, t->p))
		return SM_ERR;
	if (at_eof(t))
		return unexpected(t, "a value");
	if (*t->p == '[')
		return parse_array(t, out, depth);
	if (*t->p == '{')
		return parse_inline_table(t, out, depth);
	struct tval *v = new_tval(t, TV_VALUE, t->p);
	if (*t->p == '"' || *t->p == '\'') {
		const char *start = t->p;
		struct strbuf sb = STRBUF_INIT;
		int r = parse_string(t, &sb);
		if (!r) /* "\u0000" is valid TOML: nodes carry their length */
			v->value = scalar_node(t, NODE_STRING, start, sb.buf, sb.len);
		strbuf_release(&sb);
		if (r)
			return r;
	} else if (bare_value(t, &v->value)) {
		return SM_ERR;
	}
	*out = v;
	return SM_OK;
}

/* ---- [table] and [[array of tables]] headers ----------------------------- */

/* The table a header path leads to, creating implicit tables on the way. */
static int header_parent(struct tparser *t, struct key_path *kp, const char *at,
			 struct tval **out)
{
	struct tval *tab = t->all[0]; /* the root */
	for (size_t i = 0; i + 1 < kp->nr; i++) {
		struct tval *next = table_get(tab, kp->parts[i]);
		if (!next) {
			next = new_tval(t, TV_TABLE, at);
			if (table_put(t, tab, kp->parts[i], next))
				return SM_ERR;
		} else if (next->kind == TV_ARRAY && (next->flags & TF_AOT)) {
			next = next->items[next->nitems - 1]; /* the latest [[element]] */
		} else if (next->kind != TV_TABLE) {
			return fail(t, at, "'%s' is already %s, not a table", kp->parts[i]->text,
				    next->kind == TV_ARRAY ? "an array" : "a value");
		} else if (next->flags & TF_INLINE) {
			return fail(t, at, "cannot extend the inline table '%s'", kp->parts[i]->text);
		}
		tab = next;
	}
	*out = tab;
	return SM_OK;
}

static int table_header(struct tparser *t, struct tval **current)
{
	const char *at = t->p;
	bool aot = t->p + 1 < t->end && t->p[1] == '[';
	t->p += aot ? 2 : 1;
	struct key_path kp;
	if (parse_key(t, &kp))
		return SM_ERR;
	if (aot ? !(t->p + 1 < t->end && t->p[0] == ']' && t->p[1] == ']')
		: (at_eof(t) || *t->p != ']'))
		return unexpected(t, aot ? "']]' to close the header" : "']' to close the header");
	t->p += aot ? 2 : 1;
	struct tval *parent = NULL;
	if (header_parent(t, &kp, at, &parent))
		return SM_ERR;
	struct node *last = kp.parts[kp.nr - 1];
	struct tval *v = table_get(parent, last);
	if (aot) {
		if (!v) {
			v = new_tval(t, TV_ARRAY, at);
			v->flags = TF_AOT;
			if (table_put(t, parent, last, v))
				return SM_ERR;
		} else if (!(v->kind == TV_ARRAY && (v->flags & TF_AOT))) {
			return fail(t, at, "'%s' is already defined and is not an array of tables",
				    last->text);
		}
		struct tval *tab = new_tval(t, TV_TABLE, at);
		tab->flags = TF_EXPLICIT;
		ALLOC_GROW(v->items, v->nitems + 1, v->ialloc);
		v->items[v->nitems++] = tab;
		*current = tab;
		return end_of_line(t);
	}
	if (!v) {
		v = new_tval(t, TV_TABLE, at);
		if (table_put(t, parent, last, v))
			return SM_ERR;
	} else if (v->kind != TV_TABLE || (v->flags & (TF_EXPLICIT | TF_DOTTED | TF_INLINE))) {
		return fail(t, at, "table '%s' is defined twice", last->text);
	}
	v->flags |= TF_EXPLICIT;
	v->loc = loc_at(t, at);
	*current = v;
	return end_of_line(t);
}

/* ---- the document -------------------------------------------------------- */

static int key_value_line(struct tparser *t, struct tval *current)
{
	return parse_keyval(t, current, 1) ? SM_ERR : end_of_line(t);
}

static int parse_document(struct tparser *t)
{
	struct tval *current = new_tval(t, TV_TABLE, t->p); /* the root, t->all[0] */
	current->flags = TF_EXPLICIT;
	/* A byte order mark may open the file. */
	if (t->end - t->p >= 3 && !memcmp(t->p, "\xEF\xBB\xBF", 3))
		t->p += 3, t->line_start = t->p;
	while (!at_eof(t)) {
		skip_ws(t);
		if (skip_comment(t))
			return SM_ERR;
		if (at_eof(t) || take_newline(t))
			continue;
		int r = *t->p == '[' ? table_header(t, &current) : key_value_line(t, current);
		if (r)
			return r;
	}
	return SM_OK;
}

/* Freeze the mutable tables into nodes (depth is bounded by max_depth). */
static struct node *freeze(struct tparser *t, struct tval *v)
{
	struct arena *a = &t->doc->arena;
	if (v->kind == TV_VALUE)
		return v->value;
	struct node *n = ARENA_NEW(a, struct node);
	n->loc = v->loc;
	n->text = "";
	n->weight = 1;
	if (v->kind == TV_TABLE) {
		n->kind = NODE_MAP;
		n->nr = (uint32_t)v->nr;
		n->pairs = ARENA_ARRAY(a, struct node_pair, v->nr);
		for (size_t i = 0; i < v->nr; i++) {
			n->pairs[i].key = v->kv[i].key;
			n->pairs[i].value = freeze(t, v->kv[i].val);
			n->weight += 1 + n->pairs[i].value->weight;
		}
	} else {
		n->kind = NODE_SEQ;
		n->nr = (uint32_t)v->nitems;
		n->items = ARENA_ARRAY(a, struct node *, v->nitems);
		for (size_t i = 0; i < v->nitems; i++) {
			n->items[i] = freeze(t, v->items[i]);
			n->weight += n->items[i]->weight;
		}
	}
	return n;
}

int toml_parse_doc(struct doc *d, const struct load_limits *lim, struct diag_list *dl)
{
	struct tparser t;
	memset(&t, 0, sizeof(t));
	t.doc = d;
	t.lim = lim;
	t.dl = dl;
	t.p = d->text;
	t.end = d->text + d->len;
	t.line_start = d->text;
	t.line = 1;
	int r = parse_document(&t);
	if (!r)
		d->root = freeze(&t, t.all[0]);
	for (size_t i = 0; i < t.nr_all; i++) {
		free(t.all[i]->kv);
		free(t.all[i]->items);
		strmap_release(&t.all[i]->index);
	}
	free(t.all);
	return r;
}
