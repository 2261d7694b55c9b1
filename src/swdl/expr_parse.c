/*
 * expr_parse.c - lexer and recursive-descent parser for ${{ }} bodies.
 */
#include "../base/compat.h"
#include "expr.h"

#include <ctype.h>
#include <math.h>

#define EXPR_MAX_DEPTH 64
/*
 * Chains like a || b || c are parsed in a loop but make a tree as deep as
 * the chain is long, and evaluation recurses over it: cap the operands so
 * a hostile file cannot exhaust the stack.  Also cap the text itself.
 */
#define EXPR_MAX_OPERANDS 1000
#define EXPR_MAX_LEN (64 * 1024)

enum tok_kind {
	T_EOF, T_STRING, T_NUMBER, T_IDENT, T_OP, T_LPAREN, T_RPAREN,
	T_COMMA, T_DOT, T_QUESTION, T_COLON,
};

static const char *const tok_names[] = {
	"EOF", "STRING", "NUMBER", "IDENT", "OP", "LPAREN", "RPAREN",
	"COMMA", "DOT", "QUESTION", "COLON",
};

struct tok {
	enum tok_kind kind;
	size_t pos, len;
};

struct parser {
	struct arena *a;
	const char *src;
	size_t len, pos;
	struct tok cur;
	struct expr_error *err;
	unsigned depth;
	unsigned operands; /* in && / || chains, across the whole expression */
	bool failed;
};

static void fail(struct parser *p, size_t pos, const char *fmt, ...) SM_PRINTF(3, 4);
static void fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	p->err->pos = pos;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static bool is_ident_start(int c) { return isalpha(c) || c == '_'; }
static bool is_ident_char(int c) { return isalnum(c) || c == '_' || c == '-'; }

static bool lex_string(struct parser *p, struct tok *t)
{
	char q = p->src[p->pos];
	size_t i = p->pos + 1;
	while (i < p->len && p->src[i] != q) {
		if (p->src[i] == '\\' && i + 1 < p->len)
			i++;
		i++;
	}
	if (i >= p->len) {
		fail(p, p->pos, "unterminated string literal starting with %c", q);
		return false;
	}
	t->kind = T_STRING;
	t->len = i + 1 - p->pos;
	return true;
}

static const char *const ops2[] = { "==", "!=", "<=", ">=", "&&", "||" };

static void lex(struct parser *p)
{
	const char *s = p->src;
	while (p->pos < p->len && isspace((unsigned char)s[p->pos]))
		p->pos++;
	struct tok t = { T_EOF, p->pos, 0 };
	if (p->pos >= p->len)
		goto done;
	char c = s[p->pos];
	if (c == '"' || c == '\'') {
		if (!lex_string(p, &t))
			return;
		goto done;
	}
	if (isdigit((unsigned char)c) ||
	    (c == '-' && p->pos + 1 < p->len && isdigit((unsigned char)s[p->pos + 1]))) {
		size_t i = p->pos + 1;
		while (i < p->len && isdigit((unsigned char)s[i]))
			i++;
		if (i + 1 < p->len && s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
			i++;
			while (i < p->len && isdigit((unsigned char)s[i]))
				i++;
		}
		t.kind = T_NUMBER;
		t.len = i - p->pos;
		goto done;
	}
	for (size_t k = 0; k < ARRAY_SIZE(ops2); k++) {
		if (p->pos + 1 < p->len && !strncmp(s + p->pos, ops2[k], 2)) {
			t.kind = T_OP;
			t.len = 2;
			goto done;
		}
	}
	t.len = 1;
	switch (c) {
	case '!': case '<': case '>': t.kind = T_OP; goto done;
	case '(': t.kind = T_LPAREN; goto done;
	case ')': t.kind = T_RPAREN; goto done;
	case ',': t.kind = T_COMMA; goto done;
	case '.': t.kind = T_DOT; goto done;
	case '?': t.kind = T_QUESTION; goto done;
	case ':': t.kind = T_COLON; goto done;
	}
	if (is_ident_start((unsigned char)c)) {
		size_t i = p->pos + 1;
		while (i < p->len && is_ident_char((unsigned char)s[i]))
			i++;
		t.kind = T_IDENT;
		t.len = i - p->pos;
		goto done;
	}
	if ((unsigned char)c >= 0x80)
		fail(p, p->pos, "unexpected non-ASCII character");
	else
		fail(p, p->pos, "unexpected character '%c'%s", c,
		     c == '+' || c == '*' || c == '/' || c == '-'
		     ? " (the language has no arithmetic)" : c == '[' ? " (use a.b, not a[b])" : "");
	return;
done:
	p->pos = t.pos + t.len;
	p->cur = t;
}

static bool tok_is(const struct parser *p, enum tok_kind k, const char *text)
{
	if (p->cur.kind != k)
		return false;
	return !text || (strlen(text) == p->cur.len && !strncmp(p->src + p->cur.pos, text, p->cur.len));
}

static void unexpected(struct parser *p, const char *where)
{
	if (p->cur.kind == T_EOF)
		fail(p, p->cur.pos, "unexpected end of expression %s", where);
	else
		fail(p, p->cur.pos, "unexpected %s '%.*s' %s", tok_names[p->cur.kind],
		     (int)p->cur.len, p->src + p->cur.pos, where);
}

static struct expr *node(struct parser *p, enum expr_kind k, size_t pos, size_t nargs)
{
	struct expr *e = ARENA_NEW(p->a, struct expr);
	e->kind = k;
	e->pos = pos;
	e->nr_args = nargs;
	if (nargs)
		e->args = ARENA_ARRAY(p->a, struct expr *, nargs);
	return e;
}

static struct expr *parse_expr(struct parser *p);

/* Upstream's literal rule: only \' \" and \\ are escapes. */
static struct expr *string_literal(struct parser *p)
{
	struct expr *e = node(p, EXPR_STRING, p->cur.pos, 0);
	const char *s = p->src + p->cur.pos + 1;
	size_t n = p->cur.len - 2;
	char *out = arena_alloc(p->a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '"' || s[i + 1] == '\\'))
			i++;
		out[o++] = s[i];
	}
	out[o] = '\0';
	e->str = out;
	e->str_len = o;
	return e;
}

static struct expr *number_literal(struct parser *p)
{
	char buf[64];
	size_t n = p->cur.len < sizeof(buf) - 1 ? p->cur.len : sizeof(buf) - 1;
	memcpy(buf, p->src + p->cur.pos, n);
	buf[n] = '\0';
	struct expr *e = node(p, EXPR_INT, p->cur.pos, 0);
	errno = 0;
	if (!strchr(buf, '.')) {
		long long v = strtoll(buf, NULL, 10);
		if (!errno) {
			e->v.i = v;
			return e;
		}
	}
	e->kind = EXPR_FLOAT;
	e->v.f = strtod(buf, NULL);
	return e;
}

static struct expr *parse_call(struct parser *p, size_t pos, const char *name)
{
	struct expr *args[32];
	size_t nr = 0;
	lex(p); /* ( */
	if (!tok_is(p, T_RPAREN, NULL)) {
		for (;;) {
			if (nr == ARRAY_SIZE(args)) {
				fail(p, p->cur.pos, "too many function arguments");
				return NULL;
			}
			args[nr++] = parse_expr(p);
			if (p->failed)
				return NULL;
			if (!tok_is(p, T_COMMA, NULL))
				break;
			lex(p);
		}
	}
	if (!tok_is(p, T_RPAREN, NULL)) {
		unexpected(p, "in function call (expected ')' or ',')");
		return NULL;
	}
	lex(p);
	struct expr *e = node(p, EXPR_CALL, pos, nr);
	if (nr)
		memcpy(e->args, args, nr * sizeof(*args));
	e->str = name;
	return e;
}

static struct expr *parse_path(struct parser *p, size_t pos, const char *first)
{
	const char *segs[256];
	size_t spos[256];
	size_t nr = 0;
	segs[nr] = first;
	spos[nr++] = pos;
	while (tok_is(p, T_DOT, NULL)) {
		lex(p);
		if (p->cur.kind != T_IDENT) {
			unexpected(p, "after '.' (expected a name)");
			return NULL;
		}
		if (nr == ARRAY_SIZE(segs)) {
			fail(p, p->cur.pos, "property path too long");
			return NULL;
		}
		spos[nr] = p->cur.pos;
		segs[nr++] = arena_strndup(p->a, p->src + p->cur.pos, p->cur.len);
		lex(p);
	}
	struct expr *e = node(p, EXPR_PATH, pos, 0);
	e->nr_segments = nr;
	e->segments = ARENA_ARRAY(p->a, const char *, nr);
	e->segment_pos = ARENA_ARRAY(p->a, size_t, nr);
	memcpy(e->segments, segs, nr * sizeof(*segs));
	memcpy(e->segment_pos, spos, nr * sizeof(*spos));
	return e;
}

static struct expr *parse_primary(struct parser *p)
{
	size_t pos = p->cur.pos;
	struct expr *e = NULL;
	switch (p->cur.kind) {
	case T_LPAREN:
		lex(p);
		e = parse_expr(p);
		if (p->failed)
			return NULL;
		if (!tok_is(p, T_RPAREN, NULL)) {
			unexpected(p, "(expected ')')");
			return NULL;
		}
		lex(p);
		return e;
	case T_STRING:
		e = string_literal(p);
		lex(p);
		return e;
	case T_NUMBER:
		e = number_literal(p);
		lex(p);
		return e;
	case T_IDENT: {
		const char *name = arena_strndup(p->a, p->src + pos, p->cur.len);
		lex(p);
		if (!strcmp(name, "true") || !strcmp(name, "false")) {
			e = node(p, EXPR_BOOL, pos, 0);
			e->v.b = name[0] == 't';
			return e;
		}
		if (!strcmp(name, "null"))
			return node(p, EXPR_NULL, pos, 0);
		if (tok_is(p, T_LPAREN, NULL))
			return parse_call(p, pos, name);
		return parse_path(p, pos, name);
	}
	default:
		unexpected(p, "where a value was expected");
		return NULL;
	}
}

static struct expr *parse_unary(struct parser *p)
{
	if (tok_is(p, T_OP, "!")) {
		size_t pos = p->cur.pos;
		if (++p->depth > EXPR_MAX_DEPTH) {
			fail(p, pos, "expression nested too deeply (limit %d)", EXPR_MAX_DEPTH);
			return NULL;
		}
		lex(p);
		struct expr *inner = parse_unary(p);
		p->depth--;
		if (p->failed)
			return NULL;
		struct expr *e = node(p, EXPR_NOT, pos, 1);
		e->args[0] = inner;
		return e;
	}
	return parse_primary(p);
}

static struct expr *binary(struct parser *p, enum expr_kind k, size_t pos,
			   struct expr *l, struct expr *r)
{
	struct expr *e = node(p, k, pos, 2);
	e->args[0] = l;
	e->args[1] = r;
	return e;
}

static struct expr *parse_relational(struct parser *p)
{
	static const struct { const char *op; enum expr_kind k; } ops[] = {
		{ "<", EXPR_LT }, { "<=", EXPR_LE }, { ">", EXPR_GT }, { ">=", EXPR_GE },
	};
	struct expr *l = parse_unary(p);
	if (p->failed)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		if (tok_is(p, T_OP, ops[i].op)) {
			size_t pos = p->cur.pos;
			lex(p);
			struct expr *r = parse_unary(p);
			return p->failed ? NULL : binary(p, ops[i].k, pos, l, r);
		}
	}
	return l;
}

static struct expr *parse_equality(struct parser *p)
{
	struct expr *l = parse_relational(p);
	if (p->failed)
		return NULL;
	bool eq = tok_is(p, T_OP, "==");
	if (eq || tok_is(p, T_OP, "!=")) {
		size_t pos = p->cur.pos;
		lex(p);
		struct expr *r = parse_relational(p);
		return p->failed ? NULL : binary(p, eq ? EXPR_EQ : EXPR_NE, pos, l, r);
	}
	return l;
}

static struct expr *parse_logic(struct parser *p, bool is_or)
{
	struct expr *l = is_or ? parse_logic(p, false) : parse_equality(p);
	while (!p->failed && tok_is(p, T_OP, is_or ? "||" : "&&")) {
		size_t pos = p->cur.pos;
		if (++p->operands > EXPR_MAX_OPERANDS) {
			fail(p, pos, "expression too long (more than %d chained && and || operands)",
			     EXPR_MAX_OPERANDS);
			return NULL;
		}
		lex(p);
		struct expr *r = is_or ? parse_logic(p, false) : parse_equality(p);
		if (p->failed)
			return NULL;
		l = binary(p, is_or ? EXPR_OR : EXPR_AND, pos, l, r);
	}
	return p->failed ? NULL : l;
}

static struct expr *parse_expr(struct parser *p)
{
	if (++p->depth > EXPR_MAX_DEPTH) {
		fail(p, p->cur.pos, "expression nested too deeply (limit %d)", EXPR_MAX_DEPTH);
		return NULL;
	}
	struct expr *c = parse_logic(p, true);
	if (!p->failed && tok_is(p, T_QUESTION, NULL)) {
		size_t pos = p->cur.pos;
		lex(p);
		struct expr *a = parse_expr(p);
		if (!p->failed && !tok_is(p, T_COLON, NULL))
			unexpected(p, "in conditional (expected ':')");
		if (!p->failed)
			lex(p);
		struct expr *b = p->failed ? NULL : parse_expr(p);
		if (!p->failed) {
			struct expr *e = node(p, EXPR_TERNARY, pos, 3);
			e->args[0] = c;
			e->args[1] = a;
			e->args[2] = b;
			c = e;
		}
	}
	p->depth--;
	return p->failed ? NULL : c;
}

struct expr *expr_parse(struct arena *a, const char *src, size_t len, struct expr_error *err)
{
	struct parser p = { a, src, len, 0, { T_EOF, 0, 0 }, err, 0, 0, false };
	err->pos = 0;
	err->msg[0] = '\0';
	if (len > EXPR_MAX_LEN) {
		fail(&p, 0, "expression too long (%zu bytes, the limit is %d)", len, EXPR_MAX_LEN);
		return NULL;
	}
	lex(&p);
	if (p.failed)
		return NULL;
	if (p.cur.kind == T_EOF) {
		fail(&p, p.cur.pos, "empty expression");
		return NULL;
	}
	struct expr *e = parse_expr(&p);
	if (!p.failed && p.cur.kind != T_EOF) {
		if (tok_is(&p, T_OP, "==") || tok_is(&p, T_OP, "!=") || tok_is(&p, T_OP, "<") ||
		    tok_is(&p, T_OP, "<=") || tok_is(&p, T_OP, ">") || tok_is(&p, T_OP, ">="))
			fail(&p, p.cur.pos, "comparison operators do not chain; add parentheses");
		else
			unexpected(&p, "after the expression");
	}
	return p.failed ? NULL : e;
}

void expr_walk(const struct expr *e, expr_visit_fn fn, void *data)
{
	if (!e)
		return;
	if (e->kind == EXPR_PATH || e->kind == EXPR_CALL)
		fn(e, data);
	for (size_t i = 0; i < e->nr_args; i++)
		expr_walk(e->args[i], fn, data);
}
