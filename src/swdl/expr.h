/*
 * expr.h - the ${{ }} expression language (upstream-swdl.md §3).
 *
 * Grammar, precedence low to high:
 *   ternary  := or ('?' expr ':' expr)?
 *   or       := and ('||' and)*          and := equality ('&&' equality)*
 *   equality := relational (('=='|'!=') relational)?     (non-associative)
 *   relational := unary (('<'|'<='|'>'|'>=') unary)?     (non-associative)
 *   unary    := '!' unary | primary
 *   primary  := '(' expr ')' | STRING | NUMBER | true | false | null
 *             | IDENT '(' args ')' | IDENT ('.' IDENT)*
 * Identifiers may contain hyphens after the first character.  Values are
 * jansson values; `&&`/`||` return operand values, like upstream.
 * ASTs live in a caller-supplied arena.
 */
#ifndef SM_SWDL_EXPR_H
#define SM_SWDL_EXPR_H

#include "../base/compat.h"
#include "../base/arena.h"
#include "../base/strbuf.h"

#include <jansson.h>

enum expr_kind {
	EXPR_NULL, EXPR_BOOL, EXPR_INT, EXPR_FLOAT, EXPR_STRING,
	EXPR_PATH, EXPR_CALL, EXPR_NOT, EXPR_AND, EXPR_OR,
	EXPR_EQ, EXPR_NE, EXPR_LT, EXPR_LE, EXPR_GT, EXPR_GE, EXPR_TERNARY,
};

struct expr {
	enum expr_kind kind;
	size_t pos;              /* byte offset in the parsed text */
	union {
		bool b;
		int64_t i;
		double f;
	} v;
	const char *str;         /* string literal, or function name */
	size_t str_len;
	const char **segments;   /* path: segments[0] is the namespace */
	size_t *segment_pos;
	size_t nr_segments;
	struct expr **args;      /* operands or call arguments */
	size_t nr_args;
};

struct expr_error {
	size_t pos;        /* byte offset in the text given to the parser */
	char msg[256];
};

/* Parse one expression body (no ${{ }}); NULL on error with `err` set. */
struct expr *expr_parse(struct arena *a, const char *src, size_t len, struct expr_error *err);

/*
 * Evaluate against `ctx`, an object of namespaces (parameters, stages,
 * context, env, run, workflow).  Returns a new reference, or NULL with
 * *err set (caller frees).
 */
json_t *expr_eval(const struct expr *e, json_t *ctx, char **err);

bool expr_truthy(const json_t *v);
/* The text a value interpolates to: strings raw, null "", others JSON. */
void expr_value_to_text(struct strbuf *out, const json_t *v);
/* toJSON(): JSON with ", " and ": " separators, non-ASCII escaped. */
void expr_value_to_json(struct strbuf *out, const json_t *v);
const char *expr_type_name(const json_t *v);

/* Known namespaces and functions, for static checks. */
extern const char *const expr_namespaces[];
struct expr_function {
	const char *name;
	size_t min_args, max_args;
};
extern const struct expr_function expr_functions[];
const struct expr_function *expr_function_find(const char *name);

/* Call `fn` for every path and call node, depth first. */
typedef void (*expr_visit_fn)(const struct expr *e, void *data);
void expr_walk(const struct expr *e, expr_visit_fn fn, void *data);

/*
 * Templates: text with ${{ body }} placeholders.  A placeholder ends at
 * the first "}}" outside a string literal, so '}}' inside quotes works.
 */
struct tmpl_part {
	bool is_expr;
	const char *text;   /* literal text, or the expression body */
	size_t len;
	size_t offset;      /* byte offset of text in the template */
	struct expr *expr;  /* parsed body when is_expr */
};

struct tmpl {
	size_t nr;
	struct tmpl_part *parts;
};

/* Split and parse; on error returns SM_ERR with err->pos in the template. */
int tmpl_parse(struct arena *a, const char *s, struct tmpl *out, struct expr_error *err);
/* True when the template has at least one placeholder. */
bool tmpl_has_expr(const struct tmpl *t);
/* Render to `out`; SM_ERR with *err set on an evaluation error. */
int tmpl_render(const struct tmpl *t, json_t *ctx, struct strbuf *out, char **err);

/*
 * A stage condition: either one ${{ }} placeholder around the whole text
 * or a bare expression.  Parses into *out (an expression).
 */
int expr_parse_condition(struct arena *a, const char *s, struct expr **out,
			 size_t *body_offset, struct expr_error *err);

#endif
