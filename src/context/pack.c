#include "pack.h"
#include "tokens.h"
#include "../base/strbuf.h"

/* Excluded items listed one by one in the manifest, at most (the rest are counted). */
#define MAX_LISTED_EXCLUSIONS 50

static const char HEADER[] = "# Context Pack\n";

/* Sections in a fixed order (upstream's order, our two extra types after theirs). */
static const enum memory_type section_order[] = {
	MEM_DECISION, MEM_CONSTRAINT, MEM_GOTCHA, MEM_STYLE_RULE, MEM_LEARNING, MEM_FIX,
	MEM_PATTERN,
};
static const char *const section_title[MEM_NR_TYPES] = {
	[MEM_CONSTRAINT] = "Constraints", [MEM_DECISION] = "Decisions", [MEM_FIX] = "Fixes",
	[MEM_PATTERN] = "Patterns", [MEM_GOTCHA] = "Gotchas", [MEM_STYLE_RULE] = "Style Rules",
	[MEM_LEARNING] = "Learnings",
};

struct cand {
	const struct item_facts *f;
	const char *via;             /* "memory" or a module ref */
	size_t module;               /* index of that module, or SIZE_MAX */
	int64_t tokens;              /* of its rendered line */
	bool included;
};

struct packing {
	const struct pack_request *rq;
	int64_t used;
	int64_t *module_used;        /* per module: body and items it brought */
	bool section_used[MEM_NR_TYPES];
	json_t *excluded;
	size_t nr_over, nr_too_large, nr_not_selected;
};

static const char *confidence_label(double c)
{
	return c < 0.60 ? "[low confidence] " : c < 0.85 ? "[medium confidence] " : "";
}

/* The content without surrounding blanks, as [*s, *e). */
static void trimmed(const char *content, const char **s, const char **e)
{
	*s = content;
	*e = content + strlen(content);
	while (*s < *e && strchr(" \t\r\n", **s))
		(*s)++;
	while (*e > *s && strchr(" \t\r\n", (*e)[-1]))
		(*e)--;
}

static void item_line(struct strbuf *sb, const struct memory_item *it)
{
	const char *s, *e;
	trimmed(it->content, &s, &e);
	strbuf_addf(sb, "- %s%.*s\n", confidence_label(it->confidence), (int)(e - s), s);
}

/* Tokens of item_line()'s text, counted without building it (this runs per candidate). */
static int64_t line_tokens(const struct memory_item *it)
{
	const char *s, *e;
	trimmed(it->content, &s, &e);
	size_t cps = 3 + strlen(confidence_label(it->confidence)); /* "- ", label, "\n" */
	for (; s < e; s++)
		cps += ((unsigned char)*s & 0xC0) != 0x80;
	return cps < 4 ? 1 : (int64_t)(cps / 4);
}

static int64_t section_tokens(enum memory_type t)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "\n## %s\n", section_title[t]);
	return tokens_estimate(buf, (size_t)n);
}

static void module_section(struct strbuf *sb, const struct ctx_module *m)
{
	strbuf_addf(sb, "\n## Context: %s\n\n%s", m->ref, m->body);
	if (sb->len && sb->buf[sb->len - 1] != '\n')
		strbuf_addch(sb, '\n');
}

static int64_t module_tokens(const struct ctx_module *m)
{
	struct strbuf sb = STRBUF_INIT;
	module_section(&sb, m);
	int64_t t = tokens_estimate(sb.buf, sb.len);
	strbuf_release(&sb);
	return t;
}

static void exclude(struct packing *p, const char *kind, const char *id, const char *reason,
		    int64_t tokens)
{
	if (json_array_size(p->excluded) < MAX_LISTED_EXCLUSIONS)
		json_array_append_new(p->excluded, json_pack("{s:s, s:s, s:s, s:I}", "kind", kind,
				      "id", id, "reason", reason, "tokens", (json_int_t)tokens));
}

/* Modules first, in order: the pack's fixed part. */
static json_t *fit_modules(struct packing *p, bool *included)
{
	const struct pack_request *rq = p->rq;
	json_t *mods = json_array();
	for (size_t i = 0; i < rq->nr_modules; i++) {
		const struct ctx_module *m = rq->modules[i];
		const char *why = NULL;
		int64_t t = m ? module_tokens(m) : 0;
		if (!m)
			why = "missing";
		else if (m->max_tokens && t > m->max_tokens)
			why = "over_module_max_tokens";
		else if (t > rq->budget)
			why = "larger_than_budget";
		else if (p->used + t > rq->budget)
			why = "over_budget";
		included[i] = !why;
		if (!why) {
			p->used += t;
			p->module_used[i] = t;
		}
		json_array_append_new(mods, json_pack("{s:s, s:s?, s:I, s:b, s:s?}", "ref",
				      rq->module_refs[i], "path", m ? m->path : NULL, "tokens",
				      (json_int_t)t, "included", !why, "reason", why));
	}
	return mods;
}

/* Which source selects the item first: the memory query, a module's selectors or list. */
static bool select_item(const struct pack_request *rq, const bool *mod_in,
			const struct item_facts *f, struct cand *c)
{
	const struct swdl_memory *q = rq->memory;
	c->f = f;
	c->module = SIZE_MAX;
	if (q && f->it->confidence >= q->min_confidence) {
		bool cat = !q->categories.nr;
		for (size_t k = 0; k < q->categories.nr && !cat; k++)
			cat = memory_type_from_name(q->categories.v[k]) == (int)f->it->type;
		if (cat) {
			c->via = "memory";
			return true;
		}
	}
	for (size_t i = 0; i < rq->nr_modules; i++) {
		const struct ctx_module *m = rq->modules[i];
		if (!m || !mod_in[i])
			continue;
		bool listed = false;
		for (size_t k = 0; k < m->nr_items && !listed; k++)
			listed = !strncmp(f->it->id, m->items[k], strlen(m->items[k]));
		if (listed || ctx_module_selects(m, f)) {
			c->via = m->ref;
			c->module = i;
			return true;
		}
	}
	return false;
}

/* A module's listed item that is not a candidate (unknown, candidate or deprecated). */
static void listed_missing(struct packing *p, const bool *mod_in)
{
	const struct pack_request *rq = p->rq;
	for (size_t i = 0; i < rq->nr_modules; i++) {
		const struct ctx_module *m = rq->modules[i];
		for (size_t k = 0; m && mod_in[i] && k < m->nr_items; k++) {
			size_t j = 0, len = strlen(m->items[k]);
			while (j < rq->nr_items && strncmp(rq->items[j].it->id, m->items[k], len))
				j++;
			if (j == rq->nr_items)
				exclude(p, m->ref, m->items[k], "listed_item_not_active", 0);
		}
	}
}

static int rank_cmp(const void *a, const void *b)
{
	const struct memory_item *x = ((const struct cand *)a)->f->it;
	const struct memory_item *y = ((const struct cand *)b)->f->it;
	if (x->confidence != y->confidence)
		return x->confidence > y->confidence ? -1 : 1;
	if (x->updated_at != y->updated_at)
		return x->updated_at > y->updated_at ? -1 : 1;
	if (x->status != y->status)
		return x->status == MEM_STABLE ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void fit_item(struct packing *p, struct cand *c)
{
	const struct memory_item *it = c->f->it;
	int64_t need = c->tokens + (p->section_used[it->type] ? 0 : section_tokens(it->type));
	const struct ctx_module *m = c->module == SIZE_MAX ? NULL : p->rq->modules[c->module];
	if (c->tokens > p->rq->budget) {
		p->nr_too_large++;
		exclude(p, "memory", it->id, "larger_than_budget", c->tokens);
	} else if (p->used + need > p->rq->budget ||
		   (m && m->max_tokens && p->module_used[c->module] + need > m->max_tokens)) {
		p->nr_over++;
		exclude(p, "memory", it->id, "over_budget", c->tokens);
	} else {
		c->included = true;
		p->used += need;
		p->section_used[it->type] = true;
		if (m)
			p->module_used[c->module] += need;
	}
}

static void render(const struct pack_request *rq, const bool *mod_in, const struct cand *cs,
		   size_t n, struct strbuf *sb)
{
	strbuf_addstr(sb, HEADER);
	for (size_t i = 0; i < rq->nr_modules; i++)
		if (mod_in[i])
			module_section(sb, rq->modules[i]);
	for (size_t s = 0; s < ARRAY_SIZE(section_order); s++) {
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			if (!cs[i].included || cs[i].f->it->type != section_order[s])
				continue;
			if (!any)
				strbuf_addf(sb, "\n## %s\n", section_title[section_order[s]]);
			any = true;
			item_line(sb, cs[i].f->it);
		}
	}
}

static json_t *items_json(const struct cand *cs, size_t n, size_t *nr_in)
{
	json_t *a = json_array();
	*nr_in = 0;
	for (size_t i = 0; i < n; i++) {
		if (!cs[i].included)
			continue;
		const struct memory_item *it = cs[i].f->it;
		(*nr_in)++;
		json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:s, s:I, s:s}", "id", it->id,
				      "type", memory_type_name(it->type), "confidence",
				      it->confidence, "status", memory_status_name(it->status),
				      "tokens", (json_int_t)cs[i].tokens, "via", cs[i].via));
	}
	return a;
}

void context_pack(const struct pack_request *rq, struct pack_result *out)
{
	struct packing p = { rq, 0, xcalloc(rq->nr_modules + 1, sizeof(int64_t)), { 0 },
		json_array(), 0, 0, 0 };
	bool *mod_in = xcalloc(rq->nr_modules + 1, sizeof(bool));
	struct cand *cs = xcalloc(rq->nr_items + 1, sizeof(*cs));
	size_t n = 0;
	p.used = tokens_estimate(HEADER, strlen(HEADER));
	json_t *mods = fit_modules(&p, mod_in);
	for (size_t i = 0; i < rq->nr_items; i++) {
		if (select_item(rq, mod_in, &rq->items[i], &cs[n]))
			cs[n].tokens = line_tokens(rq->items[i].it), n++;
		else
			p.nr_not_selected++;
	}
	listed_missing(&p, mod_in);
	qsort(cs, n, sizeof(*cs), rank_cmp);
	for (size_t i = 0; i < n; i++)
		fit_item(&p, &cs[i]);
	struct strbuf sb = STRBUF_INIT;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < rq->nr_modules; i++)
		out->nr_modules += mod_in[i];
	json_t *items = items_json(cs, n, &out->nr_items);
	if (out->nr_modules || out->nr_items)
		render(rq, mod_in, cs, n, &sb);
	else
		p.used = 0; /* nothing to say: no text at all, not an empty heading */
	out->budget = rq->budget;
	out->tokens = p.used;
	out->text = strbuf_detach(&sb, NULL);
	out->manifest = json_pack("{s:I, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}}",
				  "budget", (json_int_t)rq->budget, "tokens", (json_int_t)p.used,
				  "modules", mods, "items", items, "excluded", p.excluded,
				  "counts", "candidates", (json_int_t)rq->nr_items,
				  "not_selected", (json_int_t)p.nr_not_selected,
				  "over_budget", (json_int_t)p.nr_over,
				  "larger_than_budget", (json_int_t)p.nr_too_large);
	free(cs);
	free(mod_in);
	free(p.module_used);
}

void pack_result_release(struct pack_result *r)
{
	free(r->text);
	json_decref(r->manifest);
	memset(r, 0, sizeof(*r));
}
