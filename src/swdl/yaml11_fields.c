/*
 * yaml11_fields.c - values whose declared type is boolean, integer or
 * number, read as YAML 1.1 (upstream's PyYAML) reads them where YAML 1.2
 * reads them otherwise, with a warning naming the YAML 1.2 spelling (see
 * dialect.h and formats/yaml11.h).  Changed mappings are copies; every
 * node keeps its location.
 */
#include "../base/compat.h"
#include "dialect.h"
#include "../base/strbuf.h"
#include "../formats/yaml11.h"

struct tctx {
	struct arena *a;
	struct diag_list *dl;
	const char *stage_id;
	struct strbuf field;   /* the value's field path (relative to its stage) */
};

static void note(struct tctx *c, const struct node *at, const char *fmt, ...) SM_PRINTF(3, 4);
static void note(struct tctx *c, const struct node *at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(c->dl, DIAG_WARNING, &at->loc, "schema", c->stage_id,
		 c->field.len ? c->field.buf : NULL, "%s", msg);
	free(msg);
}

static const char *text_of(const struct node *n)
{
	return n && n->kind == NODE_STRING ? n->text : NULL;
}

/* ---- YAML 1.1 typed values ----------------------------------------------- */

enum want { W_BOOL, W_INT, W_NUM, W_DECLARED, W_MAP, W_EACH, W_INTS, W_STAGES };

struct typed {
	const char *key;
	enum want want;
	const struct typed *sub;  /* W_MAP, W_EACH, W_STAGES */
};

static const struct typed t_retry[] = { { "max_attempts", W_INT, NULL },
	{ "backoff_multiplier", W_NUM, NULL }, { NULL, 0, NULL } };
static const struct typed t_memory[] = { { "min_confidence", W_NUM, NULL },
	{ "max_tokens", W_INT, NULL }, { NULL, 0, NULL } };
static const struct typed t_budget[] = { { "max_usd", W_NUM, NULL },
	{ "max_tokens", W_INT, NULL }, { "max_turns", W_INT, NULL }, { NULL, 0, NULL } };
static const struct typed t_param[] = { { "required", W_BOOL, NULL },
	{ "default", W_DECLARED, NULL }, { NULL, 0, NULL } };
static const struct typed t_input[] = { { "required", W_BOOL, NULL }, { NULL, 0, NULL } };
static const struct typed t_config[] = { { "parameters", W_EACH, t_param },
	{ "budget", W_MAP, t_budget }, { NULL, 0, NULL } };
static const struct typed t_context[] = { { "memory", W_MAP, t_memory }, { NULL, 0, NULL } };
static const struct typed t_top_policy[] = { { "default_retry", W_MAP, t_retry },
	{ NULL, 0, NULL } };
static const struct typed t_stage_policy[] = { { "retry", W_MAP, t_retry }, { NULL, 0, NULL } };
static const struct typed t_handoff[] = { { "include_run_log", W_BOOL, NULL },
	{ NULL, 0, NULL } };
static const struct typed t_fan_out[] = { { "max_parallel", W_INT, NULL },
	{ "max_items", W_INT, NULL }, { NULL, 0, NULL } };
static const struct typed t_ui[] = { { "position", W_INTS, NULL }, { NULL, 0, NULL } };
static const struct typed t_stage[] = { { "inputs", W_EACH, t_input },
	{ "outputs", W_EACH, t_param }, { "context", W_MAP, t_context },
	{ "error_policy", W_MAP, t_stage_policy }, { "handoff", W_MAP, t_handoff },
	{ "fan_out", W_MAP, t_fan_out }, { "budget", W_MAP, t_budget }, { "ui", W_MAP, t_ui },
	{ NULL, 0, NULL } };
static const struct typed t_top[] = { { "config", W_MAP, t_config },
	{ "context", W_MAP, t_context }, { "error_policy", W_MAP, t_top_policy },
	{ "stages", W_STAGES, t_stage }, { NULL, 0, NULL } };

static void field_cut(struct tctx *c, size_t len)
{
	c->field.len = len;
	if (c->field.alloc)
		c->field.buf[len] = '\0';
}

static struct node *retype(struct tctx *c, const struct node *n, enum yaml11_want want)
{
	struct node v;
	char spell[96];
	if (!yaml11_retype(n, want, &v, spell, sizeof(spell)))
		return NULL;
	struct node *out = ARENA_NEW(c->a, struct node);
	*out = v;
	char was[64] = "is a string", octal[40] = "";
	if (n->kind == NODE_INT)
		snprintf(was, sizeof(was), "is %lld", (long long)n->v.i);
	else if (n->kind == NODE_FLOAT)
		snprintf(was, sizeof(was), "is %g", n->v.f);
	const char *digits = n->text + strspn(n->text, "+-");
	if (v.kind == NODE_INT && digits[0] == '0' && digits[1] && !strchr("bx", digits[1]))
		snprintf(octal, sizeof(octal), " or %s0o%llo", v.v.i < 0 ? "-" : "",
			 (unsigned long long)(v.v.i < 0 ? -v.v.i : v.v.i));
	note(c, n, "%s means %s in YAML 1.1 "
	     "(upstream SkillMeat reads files with PyYAML) but %s in YAML 1.2; taken as %s: "
	     "write %s%s to say it in both", n->text, spell, was, spell, spell, octal);
	return out;
}

static const struct node *fix_map(struct tctx *c, const struct node *m, const struct typed *t);

static const struct node *fix_value(struct tctx *c, const struct node *parent,
				    const struct node *v, const struct typed *t)
{
	struct node *out = NULL;
	const char *type;
	switch (t->want) {
	case W_BOOL:
		return (out = retype(c, v, Y11_BOOLEAN)) ? out : v;
	case W_INT:
		return (out = retype(c, v, Y11_INTEGER)) ? out : v;
	case W_NUM:
		return (out = retype(c, v, Y11_NUMBER)) ? out : v;
	case W_DECLARED:
		type = text_of(node_map_get(parent, "type"));
		if (type && !strcmp(type, "boolean"))
			out = retype(c, v, Y11_BOOLEAN);
		else if (type && !strcmp(type, "integer"))
			out = retype(c, v, Y11_INTEGER);
		else if (type && !strcmp(type, "number"))
			out = retype(c, v, Y11_NUMBER);
		return out ? out : v;
	case W_MAP:
		return fix_map(c, v, t->sub);
	case W_INTS:
	case W_EACH:
	case W_STAGES:
		break;
	}
	bool seq = t->want != W_EACH;
	if (v->kind != (seq ? NODE_SEQ : NODE_MAP))
		return v;
	for (size_t i = 0; i < v->nr; i++) {
		const struct node *item = seq ? v->items[i] : v->pairs[i].value;
		size_t old = c->field.len;
		if (seq)
			strbuf_addf(&c->field, "[%zu]", i);
		else
			strbuf_addf(&c->field, ".%s", v->pairs[i].key->text);
		if (t->want == W_STAGES)
			c->stage_id = text_of(node_map_get(item, "id"));
		if (t->want == W_STAGES)
			field_cut(c, 0);
		const struct node *fixed = t->want == W_INTS
			? fix_value(c, NULL, item, &(struct typed){ NULL, W_INT, NULL })
			: fix_map(c, item, t->sub);
		field_cut(c, old);
		if (fixed == item)
			continue;
		if (!out) {
			out = seq ? node_new_seq(c->a, v->nr) : node_map_copy(c->a, v, 0);
			if (seq) {
				out->loc = v->loc;
				memcpy(out->items, v->items, v->nr * sizeof(*v->items));
				out->nr = v->nr;
				out->weight = v->weight;
			}
		}
		if (seq)
			out->items[i] = (struct node *)fixed;
		else
			out->pairs[i].value = (struct node *)fixed;
	}
	if (t->want == W_STAGES)
		c->stage_id = NULL;
	return out ? out : v;
}

static const struct node *fix_map(struct tctx *c, const struct node *m, const struct typed *t)
{
	if (m->kind != NODE_MAP)
		return m;
	struct node *out = NULL;
	for (size_t i = 0; i < m->nr; i++) {
		const char *k = m->pairs[i].key->text;
		const struct typed *e = t;
		while (e->key && strcmp(e->key, k))
			e++;
		if (!e->key)
			continue;
		size_t old = c->field.len;
		strbuf_addf(&c->field, "%s%s", old ? "." : "", k);
		const struct node *v = fix_value(c, m, m->pairs[i].value, e);
		field_cut(c, old);
		if (v == m->pairs[i].value)
			continue;
		if (!out)
			out = node_map_copy(c->a, m, 0);
		out->pairs[i].value = (struct node *)v;
	}
	return out ? out : m;
}

const struct node *swdl_dialect_yaml11(struct arena *a, const struct node *root,
				       struct diag_list *dl)
{
	struct tctx c = { .a = a, .dl = dl, .field = STRBUF_INIT };
	const struct node *n = root ? fix_map(&c, root, t_top) : root;
	strbuf_release(&c.field);
	return n;
}
