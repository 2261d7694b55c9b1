/*
 * parse.c - located tree -> struct swdl_workflow, with schema diagnostics.
 *
 * Coercions follow upstream (pydantic "lax" mode) where they are safe:
 * integers accept numeric strings and integral floats, booleans accept
 * yes/no/on/off/1/0.  Strings do not accept numbers (quote them).  Unknown
 * keys are warnings naming the nearest known key; keys starting with "x-"
 * are extension keys and never warned about.
 */
#include "../base/compat.h"
#include "model.h"
#include "../base/duration.h"
#include "../base/strbuf.h"
#include "../base/suggest.h"

#include <ctype.h>
#include <math.h>
#include <strings.h>

const char *const stage_type_names[] = { "agent", "gate", "fan_out", "command", NULL };
const char *const on_failure_names[] = { "halt", "continue", "skip_dependents", NULL };
const char *const on_stage_failure_names[] = { "halt", "continue", "rollback", NULL };
const char *const on_timeout_names[] = { "halt", "auto_approve", "reject", NULL };
const char *const handoff_format_names[] = { "structured", "markdown", "raw", NULL };
const char *const on_item_failure_names[] = { "fail_fast", "continue", NULL };
const char *const role_source_names[] = { "unbound", "--bind", "request", "overrides",
	"default", NULL };

struct pctx {
	struct diag_list *dl;
	struct arena *a;
	const char *stage_id;  /* current stage, for diagnostics */
	struct strbuf field;   /* current field path (relative to the stage) */
	bool failed;
};

/* ---- diagnostics with the current field path ----------------------------- */

static void report(struct pctx *p, enum diag_severity sev, const struct node *at,
		   const char *key, const char *fmt, ...) SM_PRINTF(5, 6);
static void report(struct pctx *p, enum diag_severity sev, const struct node *at,
		   const char *key, const char *fmt, ...)
{
	struct strbuf f = STRBUF_INIT;
	strbuf_addstr(&f, p->field.buf);
	if (key)
		strbuf_addf(&f, "%s%s", f.len ? "." : "", key);
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(p->dl, sev, at ? &at->loc : NULL, "schema", p->stage_id,
		 f.len ? f.buf : NULL, "%s", msg);
	if (sev == DIAG_ERROR)
		p->failed = true;
	free(msg);
	strbuf_release(&f);
}

static size_t push(struct pctx *p, const char *seg)
{
	size_t old = p->field.len;
	if (p->field.len)
		strbuf_addch(&p->field, '.');
	strbuf_addstr(&p->field, seg);
	return old;
}

static void pop(struct pctx *p, size_t old)
{
	p->field.len = old;
	p->field.buf[old] = '\0';
}

static const char *describe(const struct node *n)
{
	return node_kind_name(n->kind);
}

/* ---- key checks ---------------------------------------------------------- */

/*
 * Unknown keys are warnings; with typos_are_errors (a stage's own keys), one
 * a single edit from a known key is an error: `dependson:` or `rnu:` would
 * silently drop what the author meant.
 */
static void check_keys_as(struct pctx *p, const struct node *map, const char *const *known,
			  const char *what, bool typos_are_errors)
{
	size_t nk = 0;
	while (known[nk])
		nk++;
	for (size_t i = 0; i < map->nr; i++) {
		const struct node *k = map->pairs[i].key;
		bool ok = !strncmp(k->text, "x-", 2);
		for (size_t j = 0; !ok && j < nk; j++)
			ok = k->text[0] == known[j][0] && !strcmp(k->text, known[j]);
		if (ok)
			continue;
		const char *near = suggest_nearest(k->text, known, nk);
		if (near && typos_are_errors && edit_distance(k->text, near) == 1)
			report(p, DIAG_ERROR, k, k->text,
			       "unknown key '%s' in %s; did you mean '%s'?", k->text, what, near);
		else if (near)
			report(p, DIAG_WARNING, k, k->text,
			       "unknown key '%s' in %s (ignored); did you mean '%s'?",
			       k->text, what, near);
		else
			report(p, DIAG_WARNING, k, k->text,
			       "unknown key '%s' in %s (ignored)", k->text, what);
	}
}

static void check_keys(struct pctx *p, const struct node *map, const char *const *known,
		       const char *what)
{
	check_keys_as(p, map, known, what, false);
}

static bool expect_map(struct pctx *p, const struct node *n, const char *key)
{
	if (n->kind == NODE_MAP)
		return true;
	report(p, DIAG_ERROR, n, key, "expected a mapping, got a %s", describe(n));
	return false;
}

/* ---- scalar readers: absent or null leaves *out untouched -------------- */

static const struct node *field_node(struct pctx *p, const struct node *map,
				     const char *key, bool required)
{
	const struct node *n = node_map_get(map, key);
	if (n && n->kind == NODE_NULL && !required)
		return NULL;
	if (!n || n->kind == NODE_NULL) {
		if (required)
			report(p, DIAG_ERROR, n ? n : map, key,
			       "missing required field '%s'", key);
		return NULL;
	}
	return n;
}

static bool get_str(struct pctx *p, const struct node *map, const char *key,
		    bool required, const char **out)
{
	const struct node *n = field_node(p, map, key, required);
	if (!n)
		return false;
	if (n->kind != NODE_STRING) {
		if (node_is_scalar(n))
			report(p, DIAG_ERROR, n, key, "expected a string, got %s %s "
			       "(quote it: \"%s\")", describe(n), n->text, n->text);
		else
			report(p, DIAG_ERROR, n, key, "expected a string, got a %s", describe(n));
		return false;
	}
	if (strlen(n->text) != n->len) {
		report(p, DIAG_ERROR, n, key, "NUL character in a string");
		return false;
	}
	*out = n->text;
	return true;
}

static bool str_is_int(const char *s, int64_t *v)
{
	const char *q = s;
	while (isspace((unsigned char)*q))
		q++;
	if (!*q)
		return false;
	errno = 0;
	char *end;
	long long x = strtoll(q, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || end == q)
		return false;
	*v = x;
	return true;
}

static bool get_int(struct pctx *p, const struct node *map, const char *key,
		    int64_t min, int64_t *out)
{
	const struct node *n = field_node(p, map, key, false);
	if (!n)
		return false;
	int64_t v;
	if (n->kind == NODE_INT) {
		v = n->v.i;
	} else if (n->kind == NODE_FLOAT && isfinite(n->v.f) && n->v.f == floor(n->v.f)
		   && fabs(n->v.f) < 9e15) {
		v = (int64_t)n->v.f;
	} else if (n->kind == NODE_STRING && str_is_int(n->text, &v)) {
		/* upstream accepts numeric strings */
	} else {
		report(p, DIAG_ERROR, n, key, "expected an integer, got %s%s%s",
		       describe(n), node_is_scalar(n) ? " " : "", node_is_scalar(n) ? n->text : "");
		return false;
	}
	if (v < min) {
		report(p, DIAG_ERROR, n, key, "must be at least %lld, got %lld",
		       (long long)min, (long long)v);
		return false;
	}
	*out = v;
	return true;
}

static bool get_float(struct pctx *p, const struct node *map, const char *key, double *out)
{
	const struct node *n = field_node(p, map, key, false);
	if (!n)
		return false;
	double v;
	char *end = NULL;
	if (n->kind == NODE_INT)
		v = (double)n->v.i;
	else if (n->kind == NODE_FLOAT)
		v = n->v.f;
	else if (n->kind == NODE_STRING && *n->text && (v = strtod(n->text, &end), !*end))
		;
	else {
		report(p, DIAG_ERROR, n, key, "expected a number, got %s", describe(n));
		return false;
	}
	if (!isfinite(v)) {
		report(p, DIAG_ERROR, n, key, "must be a finite number");
		return false;
	}
	*out = v;
	return true;
}

static bool get_bool(struct pctx *p, const struct node *map, const char *key, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "y", "t" };
	static const char *const no[] = { "false", "no", "off", "0", "n", "f" };
	const struct node *n = field_node(p, map, key, false);
	if (!n)
		return false;
	if (n->kind == NODE_BOOL) {
		*out = n->v.b;
		return true;
	}
	if (n->kind == NODE_INT && (n->v.i == 0 || n->v.i == 1)) {
		*out = n->v.i == 1;
		return true;
	}
	if (n->kind == NODE_STRING) {
		for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
			if (!strcasecmp(n->text, yes[i]) || !strcasecmp(n->text, no[i])) {
				*out = !strcasecmp(n->text, yes[i]);
				return true;
			}
		}
	}
	report(p, DIAG_ERROR, n, key, "expected a boolean (true or false), got %s%s%s",
	       describe(n), node_is_scalar(n) ? " " : "", node_is_scalar(n) ? n->text : "");
	return false;
}

static bool get_enum(struct pctx *p, const struct node *map, const char *key,
		     const char *const *names, int *out)
{
	const char *s;
	if (!get_str(p, map, key, false, &s))
		return false;
	size_t nn = 0;
	for (; names[nn]; nn++)
		if (!strcmp(s, names[nn])) {
			*out = (int)nn;
			return true;
		}
	struct strbuf allowed = STRBUF_INIT;
	for (size_t i = 0; i < nn; i++)
		strbuf_addf(&allowed, "%s'%s'", i ? ", " : "", names[i]);
	const char *near = suggest_nearest(s, names, nn);
	report(p, DIAG_ERROR, node_map_get(map, key), key,
	       "must be one of %s, got '%s'%s%s%s", allowed.buf, s,
	       near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	strbuf_release(&allowed);
	return false;
}

static bool get_duration(struct pctx *p, const struct node *map, const char *key,
			 struct swdl_duration *out)
{
	const char *s;
	if (!get_str(p, map, key, false, &s))
		return false;
	int64_t secs;
	if (!duration_parse(s, &secs)) {
		report(p, DIAG_ERROR, node_map_get(map, key), key,
		       "malformed duration '%s': expected [Nd][Nh][Nm][Ns] in that order, "
		       "e.g. \"30s\", \"1h30m\", \"2d\"", s);
		return false;
	}
	out->text = s;
	out->seconds = secs;
	return true;
}

static bool get_str_list(struct pctx *p, const struct node *map, const char *key,
			 struct str_list *out)
{
	const struct node *n = field_node(p, map, key, false);
	if (!n)
		return false;
	if (n->kind != NODE_SEQ) {
		report(p, DIAG_ERROR, n, key, "expected a list, got a %s%s", describe(n),
		       n->kind == NODE_STRING ? " (write [item] for a single item)" : "");
		return false;
	}
	out->v = ARENA_ARRAY(p->a, const char *, n->nr);
	out->nr = 0;
	for (size_t i = 0; i < n->nr; i++) {
		const struct node *it = n->items[i];
		if (it->kind != NODE_STRING) {
			char idx[48];
			snprintf(idx, sizeof(idx), "%s[%zu]", key, i);
			report(p, DIAG_ERROR, it, idx, "expected a string, got %s%s%s",
			       describe(it), node_is_scalar(it) ? " " : "",
			       node_is_scalar(it) ? it->text : "");
			continue;
		}
		out->v[out->nr++] = it->text;
	}
	return true;
}

/* A sub-mapping: NULL when absent/null, or when it is not a mapping. */
static const struct node *get_map(struct pctx *p, const struct node *map, const char *key)
{
	const struct node *n = field_node(p, map, key, false);
	if (!n || !expect_map(p, n, key))
		return NULL;
	return n;
}

/* ---- blocks -------------------------------------------------------------- */

static struct swdl_retry *parse_retry(struct pctx *p, const struct node *m)
{
	static const char *const keys[] = { "max_attempts", "initial_interval",
		"backoff_multiplier", "max_interval", "non_retryable_errors", NULL };
	struct swdl_retry *r = ARENA_NEW(p->a, struct swdl_retry);
	r->max_attempts = 2;
	r->initial_interval = (struct swdl_duration){ "30s", 30 };
	r->backoff_multiplier = 2.0;
	r->max_interval = (struct swdl_duration){ "5m", 300 };
	check_keys(p, m, keys, "retry");
	get_int(p, m, "max_attempts", 1, &r->max_attempts);
	get_duration(p, m, "initial_interval", &r->initial_interval);
	if (get_float(p, m, "backoff_multiplier", &r->backoff_multiplier) &&
	    r->backoff_multiplier <= 0)
		report(p, DIAG_ERROR, node_map_get(m, "backoff_multiplier"), "backoff_multiplier",
		       "must be greater than 0");
	get_duration(p, m, "max_interval", &r->max_interval);
	get_str_list(p, m, "non_retryable_errors", &r->non_retryable_errors);
	return r;
}

const char *const swdl_memory_types[SWDL_NR_MEMORY_TYPES + 1] = {
	"constraint", "decision", "fix", "pattern", "gotcha", "style_rule", "learning", NULL,
};

/* A category that is no memory type would silently match nothing. */
static void check_categories(struct pctx *p, const struct node *n, const struct str_list *l)
{
	for (size_t i = 0; i < l->nr; i++) {
		size_t k = 0;
		while (swdl_memory_types[k] && strcmp(swdl_memory_types[k], l->v[i]))
			k++;
		if (swdl_memory_types[k])
			continue;
		const char *near = suggest_nearest(l->v[i], swdl_memory_types,
						   SWDL_NR_MEMORY_TYPES);
		char idx[48];
		snprintf(idx, sizeof(idx), "categories[%zu]", i);
		report(p, DIAG_ERROR, i < n->nr ? n->items[i] : n, idx, "unknown memory category "
		       "'%s' (constraint, decision, fix, pattern, gotcha, style_rule, learning)%s%s%s",
		       l->v[i], near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
}

static struct swdl_memory *parse_memory(struct pctx *p, const struct node *m)
{
	static const char *const keys[] = { "project_scope", "min_confidence",
		"categories", "max_tokens", NULL };
	struct swdl_memory *mem = ARENA_NEW(p->a, struct swdl_memory);
	mem->project_scope = "current";
	mem->min_confidence = 0.7;
	mem->max_tokens = 2000;
	check_keys(p, m, keys, "memory");
	get_str(p, m, "project_scope", false, &mem->project_scope);
	if (get_float(p, m, "min_confidence", &mem->min_confidence) &&
	    (mem->min_confidence < 0 || mem->min_confidence > 1))
		report(p, DIAG_ERROR, node_map_get(m, "min_confidence"), "min_confidence",
		       "must be between 0.0 and 1.0, got %g", mem->min_confidence);
	if (get_str_list(p, m, "categories", &mem->categories))
		check_categories(p, node_map_get(m, "categories"), &mem->categories);
	get_int(p, m, "max_tokens", 1, &mem->max_tokens);
	return mem;
}

static struct swdl_memory *parse_memory_field(struct pctx *p, const struct node *parent)
{
	const struct node *m = get_map(p, parent, "memory");
	if (!m)
		return NULL;
	size_t old = push(p, "memory");
	struct swdl_memory *mem = parse_memory(p, m);
	pop(p, old);
	return mem;
}

static struct swdl_retry *parse_retry_field(struct pctx *p, const struct node *parent,
					    const char *key)
{
	const struct node *m = get_map(p, parent, key);
	if (!m)
		return NULL;
	size_t old = push(p, key);
	struct swdl_retry *r = parse_retry(p, m);
	pop(p, old);
	return r;
}

/* Iterate the entries of a mapping of named blocks (parameters, inputs…). */
#define FOR_EACH_NAMED(p, m, i, name, val)                                     \
	for (size_t i = 0; i < (m)->nr; i++)                                    \
		if ((name = (m)->pairs[i].key->text, val = (m)->pairs[i].value), 1)

static void parse_params(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	static const char *const keys[] = { "type", "required", "default", "description", NULL };
	wf->params = ARENA_ARRAY(p->a, struct swdl_param, m->nr);
	const char *name;
	const struct node *v;
	FOR_EACH_NAMED(p, m, i, name, v) {
		size_t old = push(p, name);
		if (expect_map(p, v, NULL)) {
			struct swdl_param *prm = &wf->params[wf->nr_params++];
			prm->name = name;
			prm->type = "";
			check_keys(p, v, keys, "a parameter");
			get_str(p, v, "type", true, &prm->type);
			get_bool(p, v, "required", &prm->required);
			prm->default_value = node_map_get(v, "default");
			get_str(p, v, "description", false, &prm->description);
		}
		pop(p, old);
	}
}

static void parse_inputs(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "type", "source", "required", "description", NULL };
	s->inputs = ARENA_ARRAY(p->a, struct swdl_input, m->nr);
	const char *name;
	const struct node *v;
	FOR_EACH_NAMED(p, m, i, name, v) {
		size_t old = push(p, name);
		if (expect_map(p, v, NULL)) {
			struct swdl_input *in = &s->inputs[s->nr_inputs++];
			in->name = name;
			in->type = "";
			in->required = true;
			check_keys(p, v, keys, "an input");
			get_str(p, v, "type", true, &in->type);
			get_str(p, v, "source", false, &in->source);
			get_bool(p, v, "required", &in->required);
			get_str(p, v, "description", false, &in->description);
		}
		pop(p, old);
	}
}

static void parse_outputs(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "type", "required", "description", "default", NULL };
	s->outputs = ARENA_ARRAY(p->a, struct swdl_output, m->nr);
	const char *name;
	const struct node *v;
	FOR_EACH_NAMED(p, m, i, name, v) {
		size_t old = push(p, name);
		if (expect_map(p, v, NULL)) {
			struct swdl_output *out = &s->outputs[s->nr_outputs++];
			out->name = name;
			out->type = "";
			out->required = true;
			check_keys(p, v, keys, "an output");
			get_str(p, v, "type", true, &out->type);
			get_bool(p, v, "required", &out->required);
			get_str(p, v, "description", false, &out->description);
			out->default_value = node_map_get(v, "default");
		}
		pop(p, old);
	}
}

static void parse_roles(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "primary", "tools", NULL };
	static const char *const pkeys[] = { "artifact", "model", "instructions", "runner",
		NULL };
	check_keys(p, m, keys, "roles");
	s->has_roles = true;
	const struct node *prim = field_node(p, m, "primary", true);
	if (prim && expect_map(p, prim, "primary")) {
		size_t old = push(p, "primary");
		check_keys(p, prim, pkeys, "roles.primary");
		get_str(p, prim, "artifact", true, &s->artifact);
		get_str(p, prim, "model", false, &s->model);
		get_str(p, prim, "instructions", false, &s->instructions);
		get_str(p, prim, "runner", false, &s->runner);
		pop(p, old);
	}
	get_str_list(p, m, "tools", &s->tools);
	if (s->artifact)
		s->artifact_role = swdl_role_expr(p->a, s->artifact);
	s->tool_roles = ARENA_ARRAY(p->a, const char *, s->tools.nr + 1);
	for (size_t i = 0; i < s->tools.nr; i++)
		s->tool_roles[i] = swdl_role_expr(p->a, s->tools.v[i]);
}

static void parse_fan_out(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "items", "max_parallel", "on_item_failure",
		"max_items", NULL };
	struct swdl_fan_out *f = ARENA_NEW(p->a, struct swdl_fan_out);
	check_keys_as(p, m, keys, "fan_out", true);
	f->max_items = SWDL_FAN_OUT_MAX_ITEMS;
	get_str(p, m, "items", true, &f->items);
	get_int(p, m, "max_parallel", 1, &f->max_parallel);
	get_int(p, m, "max_items", 1, &f->max_items);
	int v;
	if (get_enum(p, m, "on_item_failure", on_item_failure_names, &v))
		f->on_item_failure = (enum on_item_failure)v;
	s->fan_out = f;
}

static void parse_context(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "modules", "memory", NULL };
	check_keys(p, m, keys, "context");
	s->has_context = true;
	get_str_list(p, m, "modules", &s->modules);
	s->memory = parse_memory_field(p, m);
}

static void parse_error_policy(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "retry", "on_failure", "timeout", NULL };
	struct swdl_error_policy *ep = ARENA_NEW(p->a, struct swdl_error_policy);
	check_keys(p, m, keys, "error_policy");
	ep->retry = parse_retry_field(p, m, "retry");
	int v;
	if (get_enum(p, m, "on_failure", on_failure_names, &v))
		ep->on_failure = (enum on_failure)v;
	get_duration(p, m, "timeout", &ep->timeout);
	s->error_policy = ep;
}

static void parse_handoff(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "format", "include_run_log", "summary_prompt",
		"files_changed", NULL };
	struct swdl_handoff *h = ARENA_NEW(p->a, struct swdl_handoff);
	check_keys(p, m, keys, "handoff");
	int v;
	if (get_enum(p, m, "format", handoff_format_names, &v))
		h->format = (enum handoff_format)v;
	get_bool(p, m, "include_run_log", &h->include_run_log);
	get_str(p, m, "summary_prompt", false, &h->summary_prompt);
	bool files;
	if (get_bool(p, m, "files_changed", &files))
		h->files_changed = files ? 1 : -1;
	s->handoff = h;
}

static struct swdl_gate *new_gate(struct arena *a)
{
	struct swdl_gate *g = ARENA_NEW(a, struct swdl_gate);
	g->kind = "manual_approval";
	g->timeout = (struct swdl_duration){ "24h", 86400 };
	return g;
}

static void parse_gate(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "kind", "approvers", "timeout", "on_timeout",
		"message", NULL };
	struct swdl_gate *g = new_gate(p->a);
	check_keys(p, m, keys, "gate");
	get_str(p, m, "kind", false, &g->kind);
	get_str_list(p, m, "approvers", &g->approvers);
	get_duration(p, m, "timeout", &g->timeout);
	int v;
	if (get_enum(p, m, "on_timeout", on_timeout_names, &v))
		g->on_timeout = (enum on_timeout)v;
	get_str(p, m, "message", false, &g->message);
	s->gate = g;
}

static void parse_ui(struct pctx *p, const struct node *m, struct swdl_ui **out, bool position)
{
	static const char *const stage_keys[] = { "position", "color", "icon", NULL };
	struct swdl_ui *ui = ARENA_NEW(p->a, struct swdl_ui);
	check_keys(p, m, position ? stage_keys : stage_keys + 1, "ui");
	get_str(p, m, "color", false, &ui->color);
	get_str(p, m, "icon", false, &ui->icon);
	const struct node *pos = position ? field_node(p, m, "position", false) : NULL;
	if (pos) {
		bool ok = pos->kind == NODE_SEQ && pos->nr == 2;
		for (size_t i = 0; ok && i < 2; i++)
			ok = pos->items[i]->kind == NODE_INT ||
			     (pos->items[i]->kind == NODE_FLOAT &&
			      pos->items[i]->v.f == floor(pos->items[i]->v.f));
		if (!ok) {
			report(p, DIAG_ERROR, pos, "position", "expected [x, y] with two integers");
		} else {
			ui->has_position = true;
			ui->x = pos->items[0]->kind == NODE_INT ? pos->items[0]->v.i
							     : (int64_t)pos->items[0]->v.f;
			ui->y = pos->items[1]->kind == NODE_INT ? pos->items[1]->v.i
							     : (int64_t)pos->items[1]->v.f;
		}
	}
	*out = ui;
}

/* Parse sub-mapping `key` of `m` with `fn`, the field path extended by key. */
#define WITH_MAP(p, m, key, fn, ...)                                          \
	do {                                                                  \
		const struct node *sub_ = get_map((p), (m), (key));           \
		if (sub_) {                                                   \
			size_t old_ = push((p), (key));                       \
			fn((p), sub_, __VA_ARGS__);                           \
			pop((p), old_);                                       \
		}                                                             \
	} while (0)

/* ---- stage and workflow -------------------------------------------------- */

static const char *const stage_keys[] = { "id", "name", "description", "depends_on",
	"condition", "type", "roles", "inputs", "outputs", "context", "error_policy",
	"handoff", "gate", "ui", "run", "shell", "env", "working_directory", "budget",
	"fan_out", "permissions", NULL };

/* A map of strings into parallel key/value arrays (env blocks). */
static void parse_string_map(struct pctx *p, const struct node *m, size_t *nr,
			     const char ***keys, const char ***values)
{
	*keys = ARENA_ARRAY(p->a, const char *, m->nr);
	*values = ARENA_ARRAY(p->a, const char *, m->nr);
	for (size_t i = 0; i < m->nr; i++) {
		const char *v;
		if (!get_str(p, m, m->pairs[i].key->text, true, &v))
			continue;
		(*keys)[*nr] = m->pairs[i].key->text;
		(*values)[(*nr)++] = v;
	}
}

static void parse_stage_env(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	parse_string_map(p, m, &s->nr_env, &s->env_keys, &s->env_values);
}

static void parse_budget(struct pctx *p, const struct node *m, struct swdl_budget **out,
			 bool stage)
{
	static const char *const keys[] = { "max_usd", "max_tokens", "max_turns",
		"max_output_bytes", NULL };
	static const char *const run_keys[] = { "max_usd", "max_tokens", NULL };
	check_keys(p, m, stage ? keys : run_keys, "budget");
	struct swdl_budget *b = ARENA_NEW(p->a, struct swdl_budget);
	if (get_float(p, m, "max_usd", &b->max_usd) && b->max_usd <= 0)
		report(p, DIAG_ERROR, node_map_get(m, "max_usd"), "max_usd",
		       "max_usd must be greater than 0");
	get_int(p, m, "max_tokens", 1, &b->max_tokens);
	if (stage) {
		get_int(p, m, "max_turns", 1, &b->max_turns);
		get_int(p, m, "max_output_bytes", 1024, &b->max_output_bytes);
	}
	*out = b;
}

static void parse_stage_budget(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	parse_budget(p, m, &s->budget, true);
}

static const char *const permission_modes[] = { "default", "dontAsk", "plan", "acceptEdits",
	"bypassPermissions", NULL };

static void parse_permissions(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	static const char *const keys[] = { "mode", "allowed_tools", "disallowed_tools", NULL };
	struct swdl_permissions *pm = ARENA_NEW(p->a, struct swdl_permissions);
	check_keys(p, m, keys, "permissions");
	int v;
	if (get_enum(p, m, "mode", permission_modes, &v))
		pm->mode = permission_modes[v];
	get_str_list(p, m, "allowed_tools", &pm->allowed_tools);
	get_str_list(p, m, "disallowed_tools", &pm->disallowed_tools);
	s->permissions = pm;
}

static void parse_stage(struct pctx *p, const struct node *m, struct swdl_stage *s)
{
	s->node = m;
	s->id = "";
	s->name = "";
	get_str(p, m, "id", true, &s->id);
	p->stage_id = *s->id ? s->id : NULL;
	check_keys_as(p, m, stage_keys, "a stage", true);
	get_str(p, m, "name", true, &s->name);
	get_str(p, m, "description", false, &s->description);
	get_str_list(p, m, "depends_on", &s->depends_on);
	get_str(p, m, "condition", false, &s->condition);
	int v;
	if (get_enum(p, m, "type", stage_type_names, &v))
		s->type = (enum stage_type)v;
	WITH_MAP(p, m, "roles", parse_roles, s);
	WITH_MAP(p, m, "inputs", parse_inputs, s);
	WITH_MAP(p, m, "outputs", parse_outputs, s);
	WITH_MAP(p, m, "context", parse_context, s);
	WITH_MAP(p, m, "error_policy", parse_error_policy, s);
	WITH_MAP(p, m, "handoff", parse_handoff, s);
	WITH_MAP(p, m, "gate", parse_gate, s);
	WITH_MAP(p, m, "ui", parse_ui, &s->ui, true);
	get_str(p, m, "run", false, &s->run);
	get_str(p, m, "shell", false, &s->shell);
	get_str(p, m, "working_directory", false, &s->working_directory);
	WITH_MAP(p, m, "env", parse_stage_env, s);
	WITH_MAP(p, m, "budget", parse_stage_budget, s);
	WITH_MAP(p, m, "fan_out", parse_fan_out, s);
	WITH_MAP(p, m, "permissions", parse_permissions, s);
	p->stage_id = NULL;
}

static void parse_stages(struct pctx *p, const struct node *root, struct swdl_workflow *wf)
{
	const struct node *n = node_map_get(root, "stages");
	if (!n)
		return;
	if (n->kind != NODE_SEQ) {
		report(p, DIAG_ERROR, n, "stages", "expected a list of stages, got a %s",
		       describe(n));
		return;
	}
	wf->stages = ARENA_ARRAY(p->a, struct swdl_stage, n->nr);
	for (size_t i = 0; i < n->nr; i++) {
		char seg[32];
		snprintf(seg, sizeof(seg), "stages[%zu]", i);
		const struct node *sn = n->items[i];
		if (sn->kind != NODE_MAP) {
			report(p, DIAG_ERROR, sn, seg, "expected a stage mapping, got a %s",
			       describe(sn));
			continue;
		}
		struct swdl_stage *s = &wf->stages[wf->nr_stages];
		s->index = wf->nr_stages++;
		parse_stage(p, sn, s);
	}
}

static void parse_metadata(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	static const char *const keys[] = { "id", "name", "version", "description",
		"author", "tags", "ui", NULL };
	check_keys(p, m, keys, "workflow");
	get_str(p, m, "id", true, &wf->id);
	get_str(p, m, "name", true, &wf->name);
	get_str(p, m, "version", false, &wf->version);
	get_str(p, m, "description", false, &wf->description);
	get_str(p, m, "author", false, &wf->author);
	get_str_list(p, m, "tags", &wf->tags);
	const struct node *ui = get_map(p, m, "ui");
	if (ui) {
		struct swdl_ui *u;
		size_t old = push(p, "ui");
		parse_ui(p, ui, &u, false);
		pop(p, old);
		wf->ui_color = u->color;
		wf->ui_icon = u->icon;
	}
}

static void parse_env(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	parse_string_map(p, m, &wf->nr_env, &wf->env_keys, &wf->env_values);
}

static void parse_run_budget(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	parse_budget(p, m, &wf->budget, false);
}

static void parse_config(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	static const char *const keys[] = { "parameters", "timeout", "env", "budget", NULL };
	check_keys(p, m, keys, "config");
	WITH_MAP(p, m, "budget", parse_run_budget, wf);
	WITH_MAP(p, m, "parameters", parse_params, wf);
	get_duration(p, m, "timeout", &wf->timeout);
	WITH_MAP(p, m, "env", parse_env, wf);
}

static void parse_global_context(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	static const char *const keys[] = { "global_modules", "memory", NULL };
	check_keys(p, m, keys, "context");
	wf->has_context = true;
	get_str_list(p, m, "global_modules", &wf->global_modules);
	wf->memory = parse_memory_field(p, m);
}

static void parse_global_policy(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	static const char *const keys[] = { "default_retry", "on_stage_failure", NULL };
	check_keys(p, m, keys, "error_policy");
	wf->has_error_policy = true;
	wf->default_retry = parse_retry_field(p, m, "default_retry");
	int v;
	if (get_enum(p, m, "on_stage_failure", on_stage_failure_names, &v))
		wf->on_stage_failure = (enum on_stage_failure)v;
}

static void parse_hooks(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	static const char *const keys[] = { "on_start", "on_complete", "on_failure", NULL };
	check_keys(p, m, keys, "hooks");
	for (size_t i = 0; keys[i]; i++) {
		const struct node *h = node_map_get(m, keys[i]);
		if (h && h->kind != NODE_NULL && h->kind != NODE_MAP)
			report(p, DIAG_ERROR, h, keys[i], "expected a mapping, got a %s",
			       describe(h));
	}
	wf->hooks = m;
}

/* roles: NAME: {description, default, accepts}; a bare string is the default. */
static void parse_role(struct pctx *p, const struct node *k, const struct node *v,
		       struct swdl_role *r)
{
	static const char *const keys[] = { "description", "default", "accepts", NULL };
	r->name = k->text;
	r->node = k;
	if (v->kind == NODE_NULL)
		return;
	if (v->kind == NODE_STRING) {
		r->default_ref = v->text;
		return;
	}
	if (!expect_map(p, v, k->text))
		return;
	size_t old = push(p, k->text);
	check_keys_as(p, v, keys, "a role", true);
	get_str(p, v, "description", false, &r->description);
	get_str(p, v, "default", false, &r->default_ref);
	get_str_list(p, v, "accepts", &r->accepts);
	pop(p, old);
}

static void parse_role_decls(struct pctx *p, const struct node *m, struct swdl_workflow *wf)
{
	wf->roles = ARENA_ARRAY(p->a, struct swdl_role, m->nr);
	for (size_t i = 0; i < m->nr; i++) {
		const struct node *k = m->pairs[i].key;
		bool ok = isalpha((unsigned char)k->text[0]) || k->text[0] == '_';
		for (const char *c = k->text; ok && *c; c++)
			ok = isalnum((unsigned char)*c) || *c == '_' || *c == '-';
		if (!ok) {
			report(p, DIAG_ERROR, k, k->text, "role name '%s' is not an identifier "
			       "(letters, digits, '_' and '-', not starting with a digit)", k->text);
			continue;
		}
		parse_role(p, k, m->pairs[i].value, &wf->roles[wf->nr_roles++]);
	}
}

static const char *const top_keys[] = { "workflow", "config", "context", "stages",
	"error_policy", "hooks", "roles", NULL };

int swdl_parse(const struct node *root, struct arena *arena,
	       struct swdl_workflow *wf, struct diag_list *dl)
{
	struct pctx p = { dl, arena, NULL, STRBUF_INIT, false };
	memset(wf, 0, sizeof(*wf));
	wf->arena = arena;
	wf->root = root;
	wf->id = wf->name = "";
	wf->version = "1.0.0";
	wf->timeout = (struct swdl_duration){ "2h", 7200 };
	if (!root || root->kind != NODE_MAP) {
		diag_add(dl, DIAG_ERROR, root ? &root->loc : NULL, "schema", NULL, NULL,
			 "expected a mapping at the top level, got %s",
			 root ? node_kind_name(root->kind) : "an empty document");
		return SM_ERR;
	}
	check_keys(&p, root, top_keys, "the workflow file");
	const struct node *meta = field_node(&p, root, "workflow", true);
	if (meta && expect_map(&p, meta, "workflow")) {
		size_t old = push(&p, "workflow");
		parse_metadata(&p, meta, wf);
		pop(&p, old);
	}
	WITH_MAP(&p, root, "config", parse_config, wf);
	WITH_MAP(&p, root, "context", parse_global_context, wf);
	parse_stages(&p, root, wf);
	WITH_MAP(&p, root, "error_policy", parse_global_policy, wf);
	WITH_MAP(&p, root, "hooks", parse_hooks, wf);
	WITH_MAP(&p, root, "roles", parse_role_decls, wf);
	for (size_t i = 0; i < wf->nr_stages; i++)
		strmap_put(&wf->stage_index, wf->stages[i].id, i);
	strbuf_release(&p.field);
	return p.failed ? SM_ERR : SM_OK;
}

void swdl_workflow_release(struct swdl_workflow *wf)
{
	strmap_release(&wf->stage_index);
}

struct swdl_role *swdl_role_find(const struct swdl_workflow *wf, const char *name)
{
	for (size_t i = 0; i < wf->nr_roles; i++)
		if (!strcmp(wf->roles[i].name, name))
			return &wf->roles[i];
	return NULL;
}

const char *swdl_role_expr(struct arena *a, const char *value)
{
	const char *c = value;
	while (isspace((unsigned char)*c))
		c++;
	if (strncmp(c, "${{", 3))
		return NULL;
	for (c += 3; isspace((unsigned char)*c); c++)
		;
	if (strncmp(c, "roles.", 6))
		return NULL;
	const char *name = c += 6;
	while (isalnum((unsigned char)*c) || *c == '_' || *c == '-')
		c++;
	size_t len = (size_t)(c - name);
	while (isspace((unsigned char)*c))
		c++;
	if (!len || strncmp(c, "}}", 2))
		return NULL;
	for (c += 2; isspace((unsigned char)*c); c++)
		;
	return *c ? NULL : arena_strndup(a, name, len);
}

enum on_failure swdl_stage_on_failure(const struct swdl_workflow *wf, const struct swdl_stage *s)
{
	if (node_map_get(node_map_get(s->node, "error_policy"), "on_failure"))
		return s->error_policy->on_failure;
	if (wf->has_error_policy && wf->on_stage_failure == ON_STAGE_FAILURE_CONTINUE)
		return ON_FAILURE_CONTINUE;
	return ON_FAILURE_HALT; /* halt, and rollback, which has nothing to undo yet */
}

long swdl_stage_find(const struct swdl_workflow *wf, const char *id)
{
	size_t i;
	return strmap_get(&wf->stage_index, id, &i) ? (long)i : -1;
}

struct loc swdl_stage_loc(const struct swdl_stage *s, const char *field)
{
	const struct node *n = field ? node_path_nearest(s->node, field) : s->node;
	return n ? n->loc : (struct loc){ NULL, 0, 0 };
}

/* ---- defaults (upstream-swdl.md §1.6) ------------------------------------ */

static struct swdl_retry *default_retry(struct arena *a)
{
	struct swdl_retry *r = ARENA_NEW(a, struct swdl_retry);
	r->max_attempts = 2;
	r->initial_interval = (struct swdl_duration){ "30s", 30 };
	r->backoff_multiplier = 2.0;
	r->max_interval = (struct swdl_duration){ "5m", 300 };
	return r;
}

void swdl_apply_defaults(struct swdl_workflow *wf)
{
	struct swdl_retry *global = wf->default_retry;
	for (size_t i = 0; i < wf->nr_stages; i++) {
		struct swdl_stage *s = &wf->stages[i];
		struct swdl_duration t = s->type == STAGE_GATE
			? (struct swdl_duration){ "24h", 86400 }
			: (struct swdl_duration){ "30m", 1800 };
		if (!s->error_policy)
			s->error_policy = ARENA_NEW(wf->arena, struct swdl_error_policy);
		if (!s->error_policy->retry)
			s->error_policy->retry = global ? global : default_retry(wf->arena);
		if (!s->error_policy->timeout.text)
			s->error_policy->timeout = t;
		if (!s->handoff)
			s->handoff = ARENA_NEW(wf->arena, struct swdl_handoff);
		if (s->type == STAGE_GATE && !s->gate)
			s->gate = new_gate(wf->arena);
	}
}
