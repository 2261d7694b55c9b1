#include "../base/compat.h"
#include "prices.h"

/*
 * List prices, USD per million tokens: input, output, cache read, cache
 * write (Anthropic's 5-minute write; OpenAI and Google charge no write, so
 * the input rate).  Sources: docs/pricing.md.  They change: a price in
 * config.toml always wins, and every figure derived from this table is
 * labelled an estimate.  Keys match by the longest one contained in the
 * model's name, so "opus-4-5" prices claude-opus-4-5-20251101 and "opus"
 * the older Opus models.
 */
static const struct price builtin[] = {
	{ "opus", 15.0, 75.0, 1.50, 18.75, false },
	{ "opus-4-5", 5.0, 25.0, 0.50, 6.25, false },
	{ "opus-4-6", 5.0, 25.0, 0.50, 6.25, false },
	{ "opus-4-7", 5.0, 25.0, 0.50, 6.25, false },
	{ "opus-4-8", 5.0, 25.0, 0.50, 6.25, false },
	{ "opus-5", 5.0, 25.0, 0.50, 6.25, false },
	{ "fable", 10.0, 50.0, 1.0, 12.50, false },
	{ "sonnet", 3.0, 15.0, 0.30, 3.75, false },
	{ "sonnet-5", 2.0, 10.0, 0.20, 2.50, false },
	{ "haiku", 1.0, 5.0, 0.10, 1.25, false },
	{ "haiku-3-5", 0.80, 4.0, 0.08, 1.0, false },
	{ "gpt-5", 1.25, 10.0, 0.125, 1.25, false },
	{ "gpt-5-mini", 0.25, 2.0, 0.025, 0.25, false },
	{ "gpt-5-nano", 0.05, 0.40, 0.005, 0.05, false },
	{ "gpt-5-codex", 1.25, 10.0, 0.125, 1.25, false },
	{ "codex-mini", 1.50, 6.0, 0.375, 1.50, false },
	{ "gemini-2.5-pro", 1.25, 10.0, 0.125, 1.25, false },
	{ "gemini-2.5-flash", 0.30, 2.50, 0.03, 0.30, false },
	{ "gemini-2.5-flash-lite", 0.10, 0.40, 0.01, 0.10, false },
};

static struct price *find_exact(struct price_table *t, const char *model)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->items[i].model, model))
			return &t->items[i];
	return NULL;
}

static void put(struct price_table *t, const struct price *p)
{
	struct price *old = find_exact(t, p->model);
	if (old) {
		*old = *p;
		return;
	}
	ALLOC_GROW(t->items, t->nr + 1, t->alloc);
	t->items[t->nr++] = *p;
}

void price_table_init(struct price_table *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		put(t, &builtin[i]);
}

static int per_mtok(const struct node *row, const char *key, const char *file,
		    const char *model, double *out, char **err)
{
	const struct node *n = node_map_get(row, key);
	if (!n || (n->kind != NODE_FLOAT && n->kind != NODE_INT)) {
		*err = xasprintf("%s:%d:%d: prices.\"%s\".%s must be a number (USD per million "
				 "tokens)", file, n ? n->loc.line : row->loc.line,
				 n ? n->loc.col : row->loc.col, model, key);
		return SM_ERR;
	}
	*out = n->kind == NODE_INT ? (double)n->v.i : n->v.f;
	if (!(*out >= 0) || *out > 1e6) {
		*err = xasprintf("%s:%d:%d: prices.\"%s\".%s must be between 0 and 1000000", file,
				 n->loc.line, n->loc.col, model, key);
		return SM_ERR;
	}
	return SM_OK;
}

int price_table_load(struct price_table *t, const struct node *prices, const char *file,
		     char **err)
{
	if (!prices)
		return SM_OK;
	if (prices->kind != NODE_MAP) {
		*err = xasprintf("%s:%d:%d: prices must be a table", file, prices->loc.line,
				 prices->loc.col);
		return SM_ERR;
	}
	for (size_t i = 0; i < prices->nr; i++) {
		const char *model = prices->pairs[i].key->text;
		const struct node *row = prices->pairs[i].value;
		struct price p = { NULL, 0, 0, 0, 0, true };
		if (row->kind != NODE_MAP) {
			*err = xasprintf("%s:%d:%d: prices.\"%s\" must be a table", file,
					 row->loc.line, row->loc.col, model);
			return SM_ERR;
		}
		if (per_mtok(row, "input_per_mtok", file, model, &p.input_per_mtok, err) ||
		    per_mtok(row, "output_per_mtok", file, model, &p.output_per_mtok, err))
			return SM_ERR;
		p.cache_read_per_mtok = p.cache_write_per_mtok = p.input_per_mtok;
		if ((node_map_get(row, "cache_read_per_mtok") &&
		     per_mtok(row, "cache_read_per_mtok", file, model, &p.cache_read_per_mtok, err)) ||
		    (node_map_get(row, "cache_write_per_mtok") &&
		     per_mtok(row, "cache_write_per_mtok", file, model, &p.cache_write_per_mtok, err)))
			return SM_ERR;
		t->owned = xrealloc(t->owned, (t->nr_owned + 1) * sizeof(*t->owned));
		p.model = t->owned[t->nr_owned++] = xstrdup(model);
		put(t, &p);
	}
	return SM_OK;
}

void price_table_release(struct price_table *t)
{
	for (size_t i = 0; i < t->nr_owned; i++)
		free(t->owned[i]);
	free(t->owned);
	free(t->items);
	memset(t, 0, sizeof(*t));
}

const struct price *price_lookup(const struct price_table *t, const char *model)
{
	const struct price *best = NULL;
	if (!model || !*model)
		return NULL;
	for (size_t i = 0; i < t->nr; i++) {
		const struct price *p = &t->items[i];
		if (!strcmp(p->model, model))
			return p;
		if (strstr(model, p->model) && (!best || strlen(p->model) > strlen(best->model)))
			best = p;
	}
	return best;
}

double price_cost(const struct price *p, int64_t input_tokens, int64_t output_tokens)
{
	return ((double)input_tokens * p->input_per_mtok +
		(double)output_tokens * p->output_per_mtok) / 1e6;
}

double price_usage(const struct price *p, int64_t input, int64_t cache_read, int64_t cache_write,
		   int64_t output)
{
	return ((double)input * p->input_per_mtok + (double)cache_read * p->cache_read_per_mtok +
		(double)cache_write * p->cache_write_per_mtok +
		(double)output * p->output_per_mtok) / 1e6;
}
