/*
 * expr_eval.c - evaluation, value formatting, functions and templates.
 *
 * Semantics follow upstream (GitHub-Actions-like): a missing property is
 * null, never an error; && and || return operand values; == compares
 * structurally with no string/number coercion (booleans count as 0/1).
 */
#include "../base/compat.h"
#include "expr.h"

#include <math.h>

const char *const expr_namespaces[] = {
	"context", "env", "fan_out", "parameters", "roles", "run", "stages", "workflow", NULL,
};

const struct expr_function expr_functions[] = {
	{ "contains", 2, 2 },
	{ "fromJSON", 1, 1 },
	{ "length", 1, 1 },
	{ "toJSON", 1, 1 },
	{ NULL, 0, 0 },
};

const struct expr_function *expr_function_find(const char *name)
{
	for (const struct expr_function *f = expr_functions; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

const char *expr_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "list";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

bool expr_truthy(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return json_object_size(v) > 0;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER: return json_integer_value(v) != 0;
	case JSON_REAL: return json_real_value(v) != 0.0;
	case JSON_TRUE: return true;
	default: return false;
	}
}

/* Shortest text that reads back as the same double, Python-repr style. */
static void add_float(struct strbuf *out, double d)
{
	if (isnan(d)) {
		strbuf_addstr(out, "NaN");
		return;
	}
	if (isinf(d)) {
		strbuf_addstr(out, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	strbuf_add_shortest_double(out, d);
}

void expr_value_to_json(struct strbuf *out, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		bool first = true;
		strbuf_addch(out, '{');
		json_object_foreach((json_t *)v, k, x) {
			if (!first)
				strbuf_addstr(out, ", ");
			first = false;
			strbuf_add_json_string(out, k, strlen(k), true);
			strbuf_addstr(out, ": ");
			expr_value_to_json(out, x);
		}
		strbuf_addch(out, '}');
		break;
	}
	case JSON_ARRAY:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				strbuf_addstr(out, ", ");
			expr_value_to_json(out, json_array_get(v, i));
		}
		strbuf_addch(out, ']');
		break;
	case JSON_STRING:
		strbuf_add_json_string(out, json_string_value(v), json_string_length(v), true);
		break;
	case JSON_INTEGER:
		strbuf_addf(out, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		add_float(out, json_real_value(v));
		break;
	case JSON_TRUE: strbuf_addstr(out, "true"); break;
	case JSON_FALSE: strbuf_addstr(out, "false"); break;
	default: strbuf_addstr(out, "null"); break;
	}
}

void expr_value_to_text(struct strbuf *out, const json_t *v)
{
	if (json_is_null(v))
		return;
	if (json_is_string(v))
		strbuf_add(out, json_string_value(v), json_string_length(v));
	else
		expr_value_to_json(out, v);
}

/* ---- evaluation ---------------------------------------------------------- */

struct eval {
	json_t *ctx;
	char *err;
};

static json_t *eval(struct eval *ev, const struct expr *e);

static json_t *set_err(struct eval *ev, const char *fmt, ...) SM_PRINTF(2, 3);
static json_t *set_err(struct eval *ev, const char *fmt, ...)
{
	if (!ev->err) {
		va_list ap;
		va_start(ap, fmt);
		ev->err = xvasprintf(fmt, ap);
		va_end(ap);
	}
	return NULL;
}

static bool is_number(const json_t *v)
{
	return json_is_number(v) || json_is_boolean(v);
}

static double num(const json_t *v)
{
	if (json_is_boolean(v))
		return json_is_true(v) ? 1 : 0;
	return json_number_value(v);
}

static bool values_equal(const json_t *a, const json_t *b)
{
	if (is_number(a) && is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b))
			return json_integer_value(a) == json_integer_value(b);
		return num(a) == num(b);
	}
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	case JSON_OBJECT: {
		if (json_object_size(a) != json_object_size(b))
			return false;
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)a, k, x) {
			json_t *y = json_object_get(b, k);
			if (!y || !values_equal(x, y))
				return false;
		}
		return true;
	}
	default:
		return true; /* null == null */
	}
}

/* <0, 0, >0; or INT_MIN when the two cannot be ordered. */
static int compare(const json_t *a, const json_t *b)
{
	if (is_number(a) && is_number(b)) {
		double x = num(a), y = num(b);
		return (x > y) - (x < y);
	}
	if (json_is_string(a) && json_is_string(b)) {
		size_t la = json_string_length(a), lb = json_string_length(b);
		int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
		return c ? c : (la > lb) - (la < lb);
	}
	if (json_is_array(a) && json_is_array(b)) {
		size_t la = json_array_size(a), lb = json_array_size(b);
		for (size_t i = 0; i < la && i < lb; i++) {
			json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
			if (values_equal(x, y))
				continue;
			return compare(x, y);
		}
		return (la > lb) - (la < lb);
	}
	return INT32_MIN;
}

static json_t *eval_path(struct eval *ev, const struct expr *e)
{
	const char *ns = e->segments[0];
	bool known = false;
	for (size_t i = 0; expr_namespaces[i]; i++)
		known |= !strcmp(ns, expr_namespaces[i]);
	if (!known)
		return set_err(ev, "unknown namespace '%s' (valid: context, env, parameters, "
			       "run, stages, workflow)", ns);
	json_t *cur = json_object_get(ev->ctx, ns);
	for (size_t i = 1; cur && i < e->nr_segments; i++)
		cur = json_is_object(cur) ? json_object_get(cur, e->segments[i]) : NULL;
	return cur ? json_incref(cur) : json_null();
}

static json_t *fn_length(struct eval *ev, json_t **a)
{
	const json_t *v = a[0];
	if (json_is_string(v)) {
		const unsigned char *s = (const unsigned char *)json_string_value(v);
		size_t n = 0;
		for (size_t i = 0; i < json_string_length(v); i++)
			n += (s[i] & 0xC0) != 0x80;
		return json_integer((json_int_t)n);
	}
	if (json_is_array(v))
		return json_integer((json_int_t)json_array_size(v));
	if (json_is_object(v))
		return json_integer((json_int_t)json_object_size(v));
	return set_err(ev, "length() argument has no length: %s", expr_type_name(v));
}

static json_t *fn_contains(struct eval *ev, json_t **a)
{
	const json_t *c = a[0], *item = a[1];
	if (json_is_string(c)) {
		if (!json_is_string(item))
			return set_err(ev, "contains() on a string needs a string to look for, "
				       "got %s", expr_type_name(item));
		return json_boolean(memmem(json_string_value(c), json_string_length(c),
					   json_string_value(item), json_string_length(item)) != NULL);
	}
	if (json_is_array(c)) {
		for (size_t i = 0; i < json_array_size(c); i++)
			if (values_equal(json_array_get(c, i), item))
				return json_true();
		return json_false();
	}
	if (json_is_object(c)) {
		if (!json_is_string(item))
			return json_false();
		return json_boolean(json_object_get(c, json_string_value(item)) != NULL);
	}
	return set_err(ev, "contains() needs a string, list or object, got %s",
		       expr_type_name(c));
}

static json_t *fn_tojson(struct eval *ev, json_t **a)
{
	UNUSED(ev);
	struct strbuf sb = STRBUF_INIT;
	expr_value_to_json(&sb, a[0]);
	json_t *r = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

static json_t *fn_fromjson(struct eval *ev, json_t **a)
{
	if (!json_is_string(a[0]))
		return set_err(ev, "fromJSON() needs a string, got %s", expr_type_name(a[0]));
	json_error_t jerr;
	json_t *r = json_loadb(json_string_value(a[0]), json_string_length(a[0]),
			       JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!r)
		return set_err(ev, "fromJSON() parse error: %s", jerr.text);
	return r;
}

static json_t *eval_call(struct eval *ev, const struct expr *e)
{
	static const struct {
		const char *name;
		json_t *(*fn)(struct eval *, json_t **);
	} impl[] = {
		{ "length", fn_length }, { "contains", fn_contains },
		{ "toJSON", fn_tojson }, { "fromJSON", fn_fromjson },
	};
	const struct expr_function *f = expr_function_find(e->str);
	if (!f)
		return set_err(ev, "unknown function '%s' (available: contains, fromJSON, "
			       "length, toJSON)", e->str);
	if (e->nr_args < f->min_args || e->nr_args > f->max_args)
		return set_err(ev, "%s() expects %zu argument%s, got %zu", f->name, f->min_args,
			       f->min_args == 1 ? "" : "s", e->nr_args);
	json_t *args[2] = { NULL, NULL };
	json_t *r = NULL;
	for (size_t i = 0; i < e->nr_args; i++)
		if (!(args[i] = eval(ev, e->args[i])))
			goto out;
	for (size_t i = 0; i < ARRAY_SIZE(impl); i++)
		if (!strcmp(impl[i].name, f->name))
			r = impl[i].fn(ev, args);
out:
	for (size_t i = 0; i < ARRAY_SIZE(args); i++)
		json_decref(args[i]);
	return r;
}

static const char *op_name(enum expr_kind k)
{
	switch (k) {
	case EXPR_LT: return "<";
	case EXPR_LE: return "<=";
	case EXPR_GT: return ">";
	default: return ">=";
	}
}

static json_t *eval_binary(struct eval *ev, const struct expr *e)
{
	json_t *l = eval(ev, e->args[0]);
	if (!l)
		return NULL;
	if (e->kind == EXPR_AND || e->kind == EXPR_OR) {
		if (expr_truthy(l) == (e->kind == EXPR_OR))
			return l;
		json_decref(l);
		return eval(ev, e->args[1]);
	}
	json_t *r = eval(ev, e->args[1]), *res = NULL;
	if (!r)
		goto out;
	if (e->kind == EXPR_EQ || e->kind == EXPR_NE) {
		res = json_boolean(values_equal(l, r) == (e->kind == EXPR_EQ));
		goto out;
	}
	int c = compare(l, r);
	if (c == INT32_MIN) {
		set_err(ev, "cannot compare %s and %s with '%s'", expr_type_name(l),
			expr_type_name(r), op_name(e->kind));
		goto out;
	}
	res = json_boolean(e->kind == EXPR_LT ? c < 0 : e->kind == EXPR_LE ? c <= 0
			   : e->kind == EXPR_GT ? c > 0 : c >= 0);
out:
	json_decref(l);
	json_decref(r);
	return res;
}

static json_t *eval(struct eval *ev, const struct expr *e)
{
	switch (e->kind) {
	case EXPR_NULL: return json_null();
	case EXPR_BOOL: return json_boolean(e->v.b);
	case EXPR_INT: return json_integer(e->v.i);
	case EXPR_FLOAT: return json_real(e->v.f);
	case EXPR_STRING: return json_stringn_nocheck(e->str, e->str_len);
	case EXPR_PATH: return eval_path(ev, e);
	case EXPR_CALL: return eval_call(ev, e);
	case EXPR_NOT: {
		json_t *v = eval(ev, e->args[0]);
		if (!v)
			return NULL;
		bool t = expr_truthy(v);
		json_decref(v);
		return json_boolean(!t);
	}
	case EXPR_TERNARY: {
		json_t *c = eval(ev, e->args[0]);
		if (!c)
			return NULL;
		bool t = expr_truthy(c);
		json_decref(c);
		return eval(ev, e->args[t ? 1 : 2]);
	}
	default:
		return eval_binary(ev, e);
	}
}

json_t *expr_eval(const struct expr *e, json_t *ctx, char **err)
{
	struct eval ev = { ctx, NULL };
	json_t *r = eval(&ev, e);
	if (!r && !ev.err)
		ev.err = xstrdup("evaluation failed");
	*err = r ? NULL : ev.err;
	if (r)
		free(ev.err);
	return r;
}

/* ---- templates ----------------------------------------------------------- */

/* End of a ${{ body: the first "}}" outside a string literal. */
static const char *find_close(const char *s)
{
	char q = 0;
	for (; *s; s++) {
		if (q) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == q)
				q = 0;
		} else if (*s == '\'' || *s == '"') {
			q = *s;
		} else if (s[0] == '}' && s[1] == '}') {
			return s;
		}
	}
	return NULL;
}

static void trim(const char **s, size_t *len, size_t *off)
{
	while (*len && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
		(*s)++;
		(*len)--;
		(*off)++;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' ||
			(*s)[*len - 1] == '\n' || (*s)[*len - 1] == '\r'))
		(*len)--;
}

int tmpl_parse(struct arena *a, const char *s, struct tmpl *out, struct expr_error *err)
{
	struct tmpl_part parts[256];
	size_t nr = 0;
	const char *p = s;
	while (*p) {
		const char *open = strstr(p, "${{");
		if (nr + 2 > ARRAY_SIZE(parts)) {
			err->pos = (size_t)(p - s);
			snprintf(err->msg, sizeof(err->msg), "too many ${{ }} placeholders");
			return SM_ERR;
		}
		size_t lit = open ? (size_t)(open - p) : strlen(p);
		if (lit)
			parts[nr++] = (struct tmpl_part){ false, p, lit, (size_t)(p - s), NULL };
		if (!open)
			break;
		const char *body = open + 3, *close = find_close(body);
		if (!close) {
			err->pos = (size_t)(open - s);
			snprintf(err->msg, sizeof(err->msg), "'${{' without a matching '}}'");
			return SM_ERR;
		}
		size_t len = (size_t)(close - body), off = (size_t)(body - s);
		trim(&body, &len, &off);
		struct expr *e = expr_parse(a, body, len, err);
		if (!e) {
			err->pos += off;
			return SM_ERR;
		}
		parts[nr++] = (struct tmpl_part){ true, body, len, off, e };
		p = close + 2;
	}
	out->nr = nr;
	out->parts = ARENA_ARRAY(a, struct tmpl_part, nr);
	memcpy(out->parts, parts, nr * sizeof(*parts));
	return SM_OK;
}

bool tmpl_has_expr(const struct tmpl *t)
{
	for (size_t i = 0; i < t->nr; i++)
		if (t->parts[i].is_expr)
			return true;
	return false;
}

int tmpl_render(const struct tmpl *t, json_t *ctx, struct strbuf *out, char **err)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct tmpl_part *p = &t->parts[i];
		if (!p->is_expr) {
			strbuf_add(out, p->text, p->len);
			continue;
		}
		json_t *v = expr_eval(p->expr, ctx, err);
		if (!v)
			return SM_ERR;
		expr_value_to_text(out, v);
		json_decref(v);
	}
	return SM_OK;
}

int expr_parse_condition(struct arena *a, const char *s, struct expr **out,
			 size_t *body_offset, struct expr_error *err)
{
	size_t len = strlen(s), off = 0;
	trim(&s, &len, &off);
	if (len >= 5 && !strncmp(s, "${{", 3) && !strncmp(s + len - 2, "}}", 2)) {
		const char *close = find_close(s + 3);
		if (close == s + len - 2) {
			s += 3;
			off += 3;
			len -= 5;
			trim(&s, &len, &off);
		}
	}
	if (memmem(s, len, "${{", 3)) {
		err->pos = off + (size_t)((const char *)memmem(s, len, "${{", 3) - s);
		snprintf(err->msg, sizeof(err->msg), "a condition must be one expression: "
			 "either '${{ expr }}' or a bare expression, not text with placeholders");
		return SM_ERR;
	}
	*body_offset = off;
	*out = expr_parse(a, s, len, err);
	if (!*out) {
		err->pos += off;
		return SM_ERR;
	}
	return SM_OK;
}
