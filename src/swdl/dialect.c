/*
 * dialect.c - the seed's short form and upstream's fan-out shapes,
 * rewritten into the canonical tree (see dialect.h; YAML 1.1 typed values
 * are yaml11_fields.c's).
 */
#include "../base/compat.h"
#include "dialect.h"
#include "../base/suggest.h"

struct named_role {
	const char *name, *stage_id;
	const struct node *key, *artifact;
};

struct dctx {
	struct arena *a;
	struct diag_list *dl;
	const char *stage_id;
	struct named_role *named;  /* roles.<name> of the stages, in order */
	size_t nr_named, alloc_named;
};

static void note(struct dctx *c, enum diag_severity sev, const struct node *at,
		 const char *field, const char *fmt, ...) SM_PRINTF(5, 6);
static void note(struct dctx *c, enum diag_severity sev, const struct node *at,
		 const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(c->dl, sev, at ? &at->loc : NULL, "schema", c->stage_id, field, "%s", msg);
	free(msg);
}

static const char *text_of(const struct node *n)
{
	return n && n->kind == NODE_STRING ? n->text : NULL;
}

/* A string node that sits where `at` does, so diagnostics about it point there. */
static struct node *located_string(struct arena *a, const struct node *at, const char *text)
{
	struct node *n = node_new_string(a, text);
	if (at)
		n->loc = at->loc;
	return n;
}

/* A copy of `m` without the keys in `drop`, with room for `extra` more. */
static struct node *map_without(struct arena *a, const struct node *m, const char *const *drop,
				size_t extra)
{
	struct node *n = node_map_copy(a, m, extra);
	n->nr = 0;
	for (size_t i = 0; i < m->nr; i++) {
		bool dropped = false;
		for (size_t k = 0; drop && drop[k] && !dropped; k++)
			dropped = !strcmp(m->pairs[i].key->text, drop[k]);
		if (!dropped)
			n->pairs[n->nr++] = m->pairs[i];
	}
	return n;
}

/* Set `key` in a copy made by map_without (room reserved), the key located at `at`. */
static void put(struct dctx *c, struct node *m, const struct node *at, const char *key,
		struct node *v)
{
	for (size_t i = 0; i < m->nr; i++)
		if (!strcmp(m->pairs[i].key->text, key)) {
			m->pairs[i].value = v;
			return;
		}
	m->pairs[m->nr].key = located_string(c->a, at, key);
	m->pairs[m->nr++].value = v;
}

/*
 * Move `key` (when m has it) to just after `after` (NULL: to the front), so
 * the canonical form reads in the usual order: workflow first, a stage's
 * name after its id and depends_on after its name.
 */
static void move_after(struct node *m, const char *key, const char *after)
{
	size_t from = m->nr, to = 0;
	for (size_t i = 0; i < m->nr; i++) {
		if (!strcmp(m->pairs[i].key->text, key))
			from = i;
		if (after && !strcmp(m->pairs[i].key->text, after))
			to = i + 1;
	}
	if (from == m->nr || (after && !to))
		return;
	struct node_pair p = m->pairs[from];
	if (from < to) {
		memmove(&m->pairs[from], &m->pairs[from + 1], (to - 1 - from) * sizeof(p));
		m->pairs[to - 1] = p;
	} else {
		memmove(&m->pairs[to + 1], &m->pairs[to], (from - to) * sizeof(p));
		m->pairs[to] = p;
	}
}

/* ---- stages: roles, context_policy, fan-out shapes ----------------------- */

static void add_named(struct dctx *c, const struct node *key, const struct node *artifact)
{
	if (c->nr_named == c->alloc_named) {
		c->alloc_named = c->alloc_named ? 2 * c->alloc_named : 8;
		c->named = xrealloc(c->named, c->alloc_named * sizeof(*c->named));
	}
	c->named[c->nr_named++] = (struct named_role){ key->text, c->stage_id, key, artifact };
}

/*
 * roles: {primary: "agent:x"} is {primary: {artifact: "agent:x"}}; any other
 * key with an artifact is a named role the stage uses as a tool, declared
 * at the top level (bindable like any role) once all stages are read.
 */
/*
 * A key of roles naming a role: not primary or tools, not an extension,
 * not one edit from primary or tools (`primray:` is a typo that parse
 * reports, not a role), with an artifact.
 */
static bool is_named_role(const char *k, const struct node *v)
{
	if (!strcmp(k, "primary") || !strcmp(k, "tools") || !strncmp(k, "x-", 2) ||
	    edit_distance(k, "primary") <= 1 || edit_distance(k, "tools") <= 1)
		return false;
	return v->kind == NODE_STRING || text_of(node_map_get(v, "artifact"));
}

static struct node *roles_canonical(struct dctx *c, const struct node *r)
{
	size_t named = 0;
	for (size_t i = 0; i < r->nr; i++)
		named += is_named_role(r->pairs[i].key->text, r->pairs[i].value);
	struct node *n = map_without(c->a, r, NULL, 1);
	n->nr = 0;
	const struct node *tools = node_map_get(r, "tools");
	size_t nt = tools && tools->kind == NODE_SEQ ? tools->nr : 0;
	struct node *seq = node_new_seq(c->a, nt + named);
	if (tools && tools->kind == NODE_SEQ) {
		seq->loc = tools->loc;
		for (size_t i = 0; i < nt; i++)
			node_seq_add(seq, tools->items[i]);
	}
	for (size_t i = 0; i < r->nr; i++) {
		const struct node *k = r->pairs[i].key, *v = r->pairs[i].value;
		if (!strcmp(k->text, "primary") && v->kind == NODE_STRING) {
			struct node *p = node_new_map(c->a, 1);
			p->loc = v->loc;
			p->pairs[0] = (struct node_pair){ located_string(c->a, v, "artifact"),
							  (struct node *)v };
			p->nr = 1;
			n->pairs[n->nr].key = (struct node *)k;
			n->pairs[n->nr++].value = p;
		} else if (is_named_role(k->text, v)) {
			add_named(c, k, v->kind == NODE_STRING ? v : node_map_get(v, "artifact"));
			char *ref = xasprintf("${{ roles.%s }}", k->text);
			node_seq_add(seq, located_string(c->a, v, ref));
			free(ref);
		} else if (strcmp(k->text, "tools") || !tools || tools->kind != NODE_SEQ) {
			n->pairs[n->nr++] = r->pairs[i];
		}
	}
	/* tools that is not a list stays, for parse to report */
	if ((named && !tools) || (tools && tools->kind == NODE_SEQ))
		put(c, n, tools ? tools : r, "tools", seq);
	return n;
}

static const char *const memory_keys[] = { "project_scope", "min_confidence", "categories",
	"max_tokens", NULL };

/*
 * context_policy: {modules, memory: {…}} or the memory fields flat beside
 * modules; both map onto the stage's context block.
 */
static struct node *context_policy(struct dctx *c, const struct node *cp)
{
	struct node *ctx = node_new_map(c->a, 2);
	ctx->loc = cp->loc;
	struct node *mem = NULL;
	const struct node *given_mem = node_map_get(cp, "memory");
	for (size_t i = 0; i < cp->nr; i++) {
		const struct node *k = cp->pairs[i].key;
		size_t m = 0;
		while (memory_keys[m] && strcmp(memory_keys[m], k->text))
			m++;
		if (!strcmp(k->text, "modules") || !strcmp(k->text, "memory")) {
			ctx->pairs[ctx->nr++] = cp->pairs[i];
		} else if (memory_keys[m] && given_mem) {
			note(c, DIAG_ERROR, k, "context_policy", "'%s' is given both beside "
			     "context_policy.memory and in it; write it once, in memory", k->text);
		} else if (memory_keys[m]) {
			if (!mem) {
				mem = node_new_map(c->a, ARRAY_SIZE(memory_keys));
				mem->loc = k->loc;
			}
			mem->pairs[mem->nr++] = cp->pairs[i];
		} else if (strncmp(k->text, "x-", 2)) {
			note(c, DIAG_WARNING, k, "context_policy", "unknown key '%s' in "
			     "context_policy (ignored): it takes modules, memory, and the memory "
			     "fields project_scope, min_confidence, categories, max_tokens", k->text);
		}
	}
	if (mem)
		put(c, ctx, mem, "memory", mem);
	return ctx;
}

/* Upstream's fan-out shapes: a block-less fan_out, `source`, `stage_template`. */
static void fan_out_shapes(struct dctx *c, const struct node *st, struct node *n)
{
	const struct node *type = node_map_get(st, "type");
	if (!text_of(type) || strcmp(type->text, "fan_out"))
		return;
	const struct node *fo = node_map_get(st, "fan_out");
	/* With run: it was meant as a command per item; validate asks for the list. */
	if ((!fo || fo->kind == NODE_NULL) && !node_map_get(st, "run")) {
		note(c, DIAG_WARNING, type, "type", "type: fan_out without a fan_out block runs "
		     "as an agent stage, once (as upstream does); to run it once per item add "
		     "fan_out: {items: \"${{ … }}\"}");
		put(c, n, type, "type", located_string(c->a, type, "agent"));
		return;
	}
	if (!fo || fo->kind != NODE_MAP)
		return;
	const struct node *src = node_map_get(fo, "source"), *tmpl = node_map_get(fo, "stage_template");
	if (tmpl)
		note(c, DIAG_ERROR, node_map_key(fo, "stage_template"), "fan_out.stage_template",
		     "fan_out.stage_template (reserved in upstream's specification, never run "
		     "there) is not supported: a fan-out stage runs its own roles (or run:) once "
		     "per item; move the template's roles, inputs and outputs onto this stage and "
		     "write ${{ fan_out.item }} where the template wrote ${{ item }}");
	if (!src)
		return;
	if (node_map_get(fo, "items")) {
		note(c, DIAG_ERROR, node_map_key(fo, "source"), "fan_out.source",
		     "fan_out has both items and source (its upstream alias); keep one");
		return;
	}
	static const char *const drop[] = { "source", NULL };
	struct node *f = map_without(c->a, fo, drop, 1);
	put(c, f, node_map_key(fo, "source"), "items", (struct node *)src);
	put(c, n, fo, "fan_out", f);
}

static const struct node *stage_canonical(struct dctx *c, const struct node *st, bool seed,
					  const struct node *prev_id)
{
	static const char *const drop[] = { "context_policy", NULL };
	if (st->kind != NODE_MAP)
		return st;
	c->stage_id = text_of(node_map_get(st, "id"));
	struct node *n = map_without(c->a, st, drop, 4);
	const struct node *r = node_map_get(st, "roles"), *cp = node_map_get(st, "context_policy");
	if (r && r->kind == NODE_MAP)
		put(c, n, r, "roles", roles_canonical(c, r));
	if (cp && cp->kind != NODE_MAP && cp->kind != NODE_NULL) {
		note(c, DIAG_ERROR, cp, "context_policy", "expected a mapping, got a %s",
		     node_kind_name(cp->kind));
	} else if (cp && cp->kind == NODE_MAP && node_map_get(st, "context")) {
		note(c, DIAG_ERROR, node_map_key(st, "context_policy"), "context_policy",
		     "a stage has both context and context_policy (the seed's name for it); "
		     "keep one");
	} else if (cp && cp->kind == NODE_MAP) {
		put(c, n, cp, "context", context_policy(c, cp));
	}
	const struct node *id = node_map_get(st, "id");
	if (seed && id && !node_map_get(st, "name"))
		put(c, n, id, "name", (struct node *)id);
	if (prev_id) {
		struct node *dep = node_new_seq(c->a, 1);
		dep->loc = st->loc;
		node_seq_add(dep, (struct node *)prev_id);
		put(c, n, st, "depends_on", dep);
	}
	fan_out_shapes(c, st, n);
	if (seed) {
		move_after(n, "name", "id");
		move_after(n, "depends_on", node_map_get(n, "name") ? "name" : "id");
	}
	c->stage_id = NULL;
	return n;
}

static bool any_depends_on(const struct node *stages)
{
	for (size_t i = 0; i < stages->nr; i++)
		if (node_map_get(stages->items[i], "depends_on"))
			return true;
	return false;
}

static const struct node *stages_canonical(struct dctx *c, const struct node *stages,
					   struct swdl_dialect *d)
{
	struct node *n = node_new_seq(c->a, stages->nr);
	n->loc = stages->loc;
	d->written_order = d->seed_form && stages->nr > 1 && !any_depends_on(stages);
	const struct node *prev = NULL;
	for (size_t i = 0; i < stages->nr; i++) {
		const struct node *st = stages->items[i];
		node_seq_add(n, (struct node *)stage_canonical(c, st, d->seed_form,
							       d->written_order ? prev : NULL));
		const struct node *id = node_map_get(st, "id");
		prev = text_of(id) ? id : NULL;
	}
	return n;
}

/* Each named role of the stages, declared at the top level (a bare default). */
static const struct node *declare_named(struct dctx *c, const struct node *roles)
{
	struct node *n = roles && roles->kind == NODE_MAP
		? map_without(c->a, roles, NULL, c->nr_named) : node_new_map(c->a, c->nr_named);
	for (size_t i = 0; i < c->nr_named; i++) {
		const struct named_role *r = &c->named[i];
		const struct node *have = node_map_get(n, r->name);
		c->stage_id = r->stage_id;
		if (!have) {
			n->pairs[n->nr].key = (struct node *)r->key;
			n->pairs[n->nr++].value = (struct node *)r->artifact;
			continue;
		}
		const char *def = have->kind == NODE_STRING ? have->text
				  : text_of(node_map_get(have, "default"));
		if (!def || !text_of(r->artifact) || strcmp(def, r->artifact->text))
			note(c, DIAG_ERROR, r->artifact, r->name, "role '%s' is given %s here but "
			     "%s elsewhere; a role has one default: declare it once under the "
			     "top-level roles and bind it with --bind", r->name,
			     text_of(r->artifact) ? r->artifact->text : "a non-string",
			     def ? def : "no default");
	}
	c->stage_id = NULL;
	return n;
}

static const char *const meta_keys[] = { "name", "version", "description", "author", "tags",
	NULL };

/* workflow_id (and name, version… beside it) become the workflow block. */
static struct node *seed_root(struct dctx *c, const struct node *root)
{
	static const char *const drop[] = { "workflow_id", "name", "version", "description",
		"author", "tags", NULL };
	const struct node *wid = node_map_get(root, "workflow_id");
	struct node *meta = node_new_map(c->a, ARRAY_SIZE(meta_keys) + 1);
	meta->loc = node_map_key(root, "workflow_id")->loc;
	put(c, meta, node_map_key(root, "workflow_id"), "id", (struct node *)wid);
	const struct node *name = node_map_get(root, "name");
	put(c, meta, name ? node_map_key(root, "name") : wid, "name",
	    (struct node *)(name ? name : wid));
	for (size_t i = 1; meta_keys[i]; i++)
		if (node_map_get(root, meta_keys[i]))
			put(c, meta, node_map_key(root, meta_keys[i]), meta_keys[i],
			    node_map_get(root, meta_keys[i]));
	struct node *n = map_without(c->a, root, drop, 3);
	put(c, n, node_map_key(root, "workflow_id"), "workflow", meta);
	move_after(n, "workflow", NULL);
	return n;
}

const struct node *swdl_dialect_canonical(struct arena *a, const struct node *root,
					  struct swdl_dialect *d, struct diag_list *dl)
{
	struct dctx c = { .a = a, .dl = dl };
	memset(d, 0, sizeof(*d));
	if (!root || root->kind != NODE_MAP)
		return root;
	struct node *n;
	if (node_map_get(root, "workflow_id") && node_map_get(root, "workflow")) {
		note(&c, DIAG_ERROR, node_map_key(root, "workflow_id"), "workflow_id",
		     "both 'workflow' and 'workflow_id' at the top level: workflow_id is the "
		     "seed's short form of workflow.id; keep one");
		n = map_without(a, root, NULL, 2);
	} else if (node_map_get(root, "workflow_id")) {
		d->seed_form = true;
		n = seed_root(&c, root);
	} else {
		n = map_without(a, root, NULL, 2);
	}
	const struct node *stages = node_map_get(root, "stages");
	if (stages && stages->kind == NODE_SEQ)
		put(&c, n, stages, "stages", (struct node *)stages_canonical(&c, stages, d));
	/* roles that is not a mapping stays, for parse to report (the names stay undeclared) */
	const struct node *decl = node_map_get(root, "roles");
	if (c.nr_named && (!decl || decl->kind == NODE_MAP || decl->kind == NODE_NULL))
		put(&c, n, decl ? node_map_key(root, "roles") : root, "roles",
		    (struct node *)declare_named(&c, decl));
	free(c.named);
	return n;
}

/*
 * An overrides block's partial stages in the short form's spellings
 * (`roles: {primary: "agent:x"}`, `context_policy`): the same rewrite as a
 * workflow's stages, so the block merges over the canonical stage.
 */
const struct node *swdl_dialect_overrides(struct arena *a, const struct node *block,
					  struct diag_list *dl)
{
	const struct node *stages = node_map_get(block, "stages");
	if (!stages || stages->kind != NODE_MAP)
		return block;
	struct dctx c = { .a = a, .dl = dl };
	struct node *ns = node_map_copy(a, stages, 0);
	for (size_t i = 0; i < stages->nr; i++) {
		const struct node *st = stages->pairs[i].value;
		const struct node *r = node_map_get(st, "roles"), *cp = node_map_get(st, "context_policy");
		if (st->kind != NODE_MAP || (!cp && !(r && r->kind == NODE_MAP &&
						      text_of(node_map_get(r, "primary")))))
			continue;
		static const char *const drop[] = { "context_policy", NULL };
		struct node *n = map_without(a, st, drop, 2);
		c.stage_id = stages->pairs[i].key->text;
		if (r && r->kind == NODE_MAP)
			put(&c, n, r, "roles", roles_canonical(&c, r));
		if (cp && (cp->kind != NODE_MAP || node_map_get(st, "context")))
			note(&c, DIAG_ERROR, cp, "context_policy", "context_policy must be a mapping, "
			     "and not beside context (the seed's name for it); keep one");
		else if (cp)
			put(&c, n, cp, "context", context_policy(&c, cp));
		ns->pairs[i].value = n;
	}
	struct node *nb = node_map_copy(a, block, 0);
	node_map_set(a, nb, "stages", ns);
	free(c.named);
	return nb;
}

const char *swdl_dialect_workflow_id(const struct node *root)
{
	const char *id = text_of(node_map_get(node_map_get(root, "workflow"), "id"));
	return id ? id : text_of(node_map_get(root, "workflow_id"));
}
