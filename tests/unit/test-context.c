/*
 * Unit tests: the context layer (prices for now).
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "context/pack.h"
#include "context/prices.h"
#include "context/tokens.h"
#include "formats/load.h"

static struct doc *toml(const char *text)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = NULL;
	assert_int_equal(doc_load_buffer("config.toml", text, strlen(text), DOC_TOML, NULL, &d,
					 &dl), SM_OK);
	diag_list_release(&dl);
	return d;
}

static void test_price_lookup(void **state)
{
	(void)state;
	struct price_table t;
	price_table_init(&t);
	const struct price *p = price_lookup(&t, "claude-sonnet-4-5");
	assert_non_null(p);
	assert_string_equal(p->model, "sonnet");
	/* the longest key contained wins: gpt-5-mini, not gpt-5 */
	assert_string_equal(price_lookup(&t, "gpt-5-mini-2025")->model, "gpt-5-mini");
	assert_string_equal(price_lookup(&t, "gpt-5")->model, "gpt-5");
	assert_null(price_lookup(&t, "llama-3"));
	assert_null(price_lookup(&t, NULL));
	assert_null(price_lookup(&t, ""));
	p = price_lookup(&t, "gpt-5");
	assert_true(price_cost(p, 1000000, 0) == 1.25);
	assert_true(price_cost(p, 300, 40) > 0.000774 && price_cost(p, 300, 40) < 0.000776);
	price_table_release(&t);
}

static void test_price_config(void **state)
{
	(void)state;
	struct price_table t;
	char *err = NULL;
	struct doc *d = toml("[prices.sonnet]\ninput_per_mtok = 1\noutput_per_mtok = 2.5\n"
			     "[prices.\"my-model\"]\ninput_per_mtok = 0\noutput_per_mtok = 0\n");
	price_table_init(&t);
	size_t before = t.nr;
	assert_int_equal(price_table_load(&t, node_map_get(d->root, "prices"), "config.toml",
					  &err), SM_OK);
	assert_int_equal(t.nr, before + 1); /* sonnet replaced, my-model added */
	const struct price *p = price_lookup(&t, "claude-sonnet-4");
	assert_true(p->from_config && p->input_per_mtok == 1.0 && p->output_per_mtok == 2.5);
	assert_true(price_lookup(&t, "my-model")->from_config);
	price_table_release(&t);
	doc_free(d);
}

static void test_price_config_errors(void **state)
{
	(void)state;
	static const struct { const char *toml, *msg; } cases[] = {
		{ "prices = 3\n", "config.toml:1:10: prices must be a table" },
		{ "[prices]\nx = 1\n", "config.toml:2:5: prices.\"x\" must be a table" },
		{ "[prices.x]\ninput_per_mtok = \"1\"\noutput_per_mtok = 1\n",
		  "config.toml:2:18: prices.\"x\".input_per_mtok must be a number" },
		{ "[prices.x]\ninput_per_mtok = 1\noutput_per_mtok = nan\n",
		  "config.toml:3:19: prices.\"x\".output_per_mtok must be between 0 and 1000000" },
		{ "[prices.x]\ninput_per_mtok = 1\n",
		  "config.toml:1:1: prices.\"x\".output_per_mtok must be a number" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct price_table t;
		char *err = NULL;
		struct doc *d = toml(cases[i].toml);
		price_table_init(&t);
		assert_int_equal(price_table_load(&t, node_map_get(d->root, "prices"),
						  "config.toml", &err), SM_ERR);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].msg);
		free(err);
		price_table_release(&t);
		doc_free(d);
	}
}

static void test_tokens(void **state)
{
	(void)state;
	assert_int_equal(tokens_of(""), 0);
	assert_int_equal(tokens_of("a"), 1);
	assert_int_equal(tokens_of("abcdefgh"), 2);
	/* code points, not bytes: 8 two-byte letters are 2 tokens */
	assert_int_equal(tokens_of("éééééééé"), 2);
	assert_int_equal(tokens_of(NULL), 0);
}

/* A fake item: id, type, confidence, status, updated_at. */
static struct memory_item mk(const char *id, enum memory_type t, double conf,
			     enum memory_status st, double at, const char *content)
{
	struct memory_item it;
	memset(&it, 0, sizeof(it));
	snprintf(it.id, sizeof(it.id), "%s", id);
	it.type = t;
	it.confidence = conf;
	it.status = st;
	it.updated_at = it.created_at = at;
	it.content = content;
	it.provenance = "{}";
	it.anchors = "[]";
	return it;
}

struct packfx {
	struct memory_item items[8];
	struct item_facts facts[8];
	size_t nr;
};

static void add_item(struct packfx *p, struct memory_item it)
{
	p->items[p->nr] = it;
	p->facts[p->nr] = (struct item_facts){ &p->items[p->nr], NULL, 0, NULL };
	p->nr++;
}

static const char *included_ids(const struct pack_result *r, char *buf, size_t size)
{
	size_t i, off = 0;
	json_t *v;
	buf[0] = 0;
	json_array_foreach(json_object_get(r->manifest, "items"), i, v)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? "," : "",
					json_string_value(json_object_get(v, "id")));
	return buf;
}

static void test_pack_ranking(void **state)
{
	(void)state;
	struct packfx p = { 0 };
	/* Order of ranking: confidence, then recency, then stable first, then id. */
	add_item(&p, mk("a1", MEM_DECISION, 0.8, MEM_ACTIVE, 100, "older, same confidence"));
	add_item(&p, mk("b2", MEM_DECISION, 0.8, MEM_ACTIVE, 200, "newer, same confidence"));
	add_item(&p, mk("c3", MEM_CONSTRAINT, 0.9, MEM_ACTIVE, 50, "most confident"));
	add_item(&p, mk("d4", MEM_GOTCHA, 0.8, MEM_STABLE, 200, "as new as b2, stable"));
	add_item(&p, mk("e5", MEM_GOTCHA, 0.3, MEM_ACTIVE, 300, "below min_confidence"));
	add_item(&p, mk("f6", MEM_LEARNING, 0.95, MEM_ACTIVE, 300, "wrong category"));
	const char *cats[] = { "decision", "constraint", "gotcha" };
	struct swdl_memory q = { "current", 0.5, { 3, cats }, 2000 };
	struct pack_request rq = { "s", NULL, NULL, 0, &q, 2000, p.facts, p.nr };
	struct pack_result r;
	char buf[256];
	context_pack(&rq, &r);
	assert_string_equal(included_ids(&r, buf, sizeof(buf)), "c3,d4,b2,a1");
	/* rendered by section (decisions first), ranked within a section */
	assert_string_equal(r.text, "# Context Pack\n\n## Decisions\n"
			    "- [medium confidence] newer, same confidence\n"
			    "- [medium confidence] older, same confidence\n\n## Constraints\n"
			    "- most confident\n\n## Gotchas\n- [medium confidence] as new as b2, stable\n");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r.manifest, "counts"),
							    "not_selected")), 2);
	/* the count is the sum of the pieces' estimates, and never over budget */
	assert_true(r.tokens > 0 && r.tokens <= r.budget);
	/* the same inputs give the same pack, byte for byte */
	struct pack_result again;
	context_pack(&rq, &again);
	assert_string_equal(r.text, again.text);
	char *m1 = json_dumps(r.manifest, JSON_SORT_KEYS), *m2 = json_dumps(again.manifest,
									   JSON_SORT_KEYS);
	assert_string_equal(m1, m2);
	free(m1);
	free(m2);
	pack_result_release(&again);
	pack_result_release(&r);
}

static void test_pack_budget(void **state)
{
	(void)state;
	struct packfx p = { 0 };
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	add_item(&p, mk("a1", MEM_DECISION, 0.9, MEM_ACTIVE, 1, big));        /* ~100 tokens */
	add_item(&p, mk("b2", MEM_DECISION, 0.8, MEM_ACTIVE, 1, "short one")); /* fits after */
	add_item(&p, mk("c3", MEM_DECISION, 0.7, MEM_ACTIVE, 1, big));
	struct swdl_memory q = { "current", 0.0, { 0, NULL }, 60 };
	struct pack_request rq = { "s", NULL, NULL, 0, &q, 60, p.facts, p.nr };
	struct pack_result r;
	char buf[256];
	context_pack(&rq, &r);
	/* a1 and c3 are larger than the whole budget; the short one behind them still goes in */
	assert_string_equal(included_ids(&r, buf, sizeof(buf)), "b2");
	json_t *c = json_object_get(r.manifest, "counts");
	assert_int_equal(json_integer_value(json_object_get(c, "larger_than_budget")), 2);
	pack_result_release(&r);
	/* a budget that fits one big item: the second big one is over budget */
	q.max_tokens = rq.budget = 120;
	context_pack(&rq, &r);
	assert_string_equal(included_ids(&r, buf, sizeof(buf)), "a1,b2");
	c = json_object_get(r.manifest, "counts");
	assert_int_equal(json_integer_value(json_object_get(c, "over_budget")), 1);
	assert_true(r.tokens <= 120);
	pack_result_release(&r);
	/* nothing selected: no text at all */
	q.min_confidence = 0.99;
	context_pack(&rq, &r);
	assert_string_equal(r.text, "");
	assert_int_equal(r.tokens, 0);
	pack_result_release(&r);
}

static struct ctx_module load_module(const char *text, struct diag_list *dl, int expect)
{
	struct ctx_module m;
	assert_int_equal(ctx_module_parse("context/m.md", text, strlen(text), "ctx:m", &m, dl),
			 expect);
	return m;
}

static void test_modules(void **state)
{
	(void)state;
	struct diag_list dl = DIAG_LIST_INIT;
	struct ctx_module m = load_module("---\nmax_tokens: 50\nselectors:\n  memory_types: "
					  "[gotcha]\n  min_confidence: 0.5\n  file_patterns: "
					  "['src/*.c']\n---\nThe rules.\n", &dl, SM_OK);
	assert_int_equal(m.max_tokens, 50);
	assert_string_equal(m.body, "The rules.\n");
	assert_int_equal(m.body_line, 8);
	struct memory_item it = mk("a1", MEM_GOTCHA, 0.6, MEM_ACTIVE, 1, "x");
	const char *paths[] = { "src/main.c" };
	struct item_facts f = { &it, paths, 1, NULL };
	assert_true(ctx_module_selects(&m, &f));
	paths[0] = "docs/x.md";
	assert_false(ctx_module_selects(&m, &f));  /* file pattern */
	paths[0] = "src/main.c";
	it.type = MEM_DECISION;
	assert_false(ctx_module_selects(&m, &f));  /* type */
	/* the module's own cap: an item it brings must fit body + items <= 50 */
	struct packfx p = { 0 };
	char big[200];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	add_item(&p, mk("b1", MEM_GOTCHA, 0.9, MEM_ACTIVE, 1, big));
	add_item(&p, mk("b2", MEM_GOTCHA, 0.9, MEM_ACTIVE, 1, "small"));
	p.facts[0].paths = p.facts[1].paths = paths;
	p.facts[0].nr_paths = p.facts[1].nr_paths = 1;
	const struct ctx_module *mods[] = { &m };
	const char *refs[] = { "ctx:m" };
	struct pack_request rq = { "s", mods, refs, 1, NULL, 2000, p.facts, p.nr };
	struct pack_result r;
	char buf[64];
	context_pack(&rq, &r);
	assert_string_equal(included_ids(&r, buf, sizeof(buf)), "b2");
	assert_non_null(strstr(r.text, "## Context: ctx:m\n\nThe rules.\n"));
	pack_result_release(&r);
	/* a listed item that is no candidate is named in the manifest */
	m.items = xcalloc(3, sizeof(char *)); /* ctx_module_release frees them */
	m.items[0] = xstrdup("b2");
	m.items[1] = xstrdup("zz9");
	m.nr_items = 2;
	context_pack(&rq, &r);
	json_t *ex = json_object_get(r.manifest, "excluded");
	size_t ei;
	json_t *v;
	bool named = false;
	json_array_foreach(ex, ei, v)
		named |= !strcmp(json_string_value(json_object_get(v, "id")), "zz9") &&
			 !strcmp(json_string_value(json_object_get(v, "reason")),
				 "listed_item_not_active");
	assert_true(named);
	assert_string_equal(included_ids(&r, buf, sizeof(buf)), "b2");
	pack_result_release(&r);
	ctx_module_release(&m);
	assert_int_equal(dl.errors, 0);

	static const struct { const char *text, *msg; } bad[] = {
		{ "---\nmax_tokens: 0\n---\nx", "context/m.md:2:13: error: [context] field "
		  "'max_tokens': max_tokens must be a whole number from 1 to 1000000" },
		{ "---\nselectors: {memory_types: [gotchas]}\n---\nx", "unknown memory type 'gotchas'" },
		{ "---\nselector: {}\n---\nx", "unknown key 'selector' (did you mean 'selectors'?)" },
		{ "---\ndescription: x\n", "never closed by a '---' line" },
		{ "---\n[1, 2\n---\nx", "context/m.md:" },
		{ "---\nselectors: {min_confidence: 2}\n---\n", "between 0 and 1" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct diag_list d = DIAG_LIST_INIT;
		struct ctx_module bm = load_module(bad[i].text, &d, SM_ERR);
		struct strbuf sb = STRBUF_INIT;
		for (size_t k = 0; k < d.nr; k++)
			diag_format(&sb, &d.items[k]);
		if (!strstr(sb.buf, bad[i].msg))
			fail_msg("case %zu: got '%s', want '%s'", i, sb.buf, bad[i].msg);
		strbuf_release(&sb);
		ctx_module_release(&bm);
		diag_list_release(&d);
	}
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_price_lookup),
		cmocka_unit_test(test_price_config),
		cmocka_unit_test(test_price_config_errors),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_pack_ranking),
		cmocka_unit_test(test_pack_budget),
		cmocka_unit_test(test_modules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
