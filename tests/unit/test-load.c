/* Unit tests: the located tree loader (typing, locations, limits). */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "formats/load.h"
#include "formats/yaml11.h"

static struct doc *load(const char *text, enum doc_format fmt, struct diag_list *dl)
{
	struct doc *d = NULL;
	doc_load_buffer(fmt == DOC_JSON ? "t.json" : "t.yaml", text, strlen(text), fmt, NULL, &d, dl);
	return d;
}

static void test_core_schema_typing(void **state)
{
	(void)state;
	static const struct { const char *text; enum node_kind kind; } cases[] = {
		{ "a: 42", NODE_INT }, { "a: -7", NODE_INT }, { "a: 0x1F", NODE_INT },
		{ "a: 0o17", NODE_INT }, { "a: 1.5", NODE_FLOAT }, { "a: 1e3", NODE_FLOAT },
		{ "a: .inf", NODE_FLOAT }, { "a: -.Inf", NODE_FLOAT }, { "a: .nan", NODE_FLOAT },
		{ "a: true", NODE_BOOL }, { "a: False", NODE_BOOL }, { "a: ~", NODE_NULL },
		{ "a: null", NODE_NULL }, { "a:", NODE_NULL },
		/* YAML 1.1 spellings are strings under the 1.2 core schema */
		{ "a: yes", NODE_STRING }, { "a: off", NODE_STRING }, { "a: NO", NODE_STRING },
		{ "a: 010", NODE_INT }, { "a: 1_000", NODE_STRING }, { "a: '42'", NODE_STRING },
		{ "a: \"true\"", NODE_STRING }, { "a: !!str 12", NODE_STRING },
		{ "a: 99999999999999999999", NODE_FLOAT }, { "a: 1.2.3", NODE_STRING },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct doc *d = load(cases[i].text, DOC_YAML, &dl);
		assert_non_null(d);
		struct node *a = node_map_get(d->root, "a");
		assert_non_null(a);
		if (a->kind != cases[i].kind)
			fail_msg("'%s': got %s", cases[i].text, node_kind_name(a->kind));
		doc_free(d);
		diag_list_release(&dl);
	}
}

static void test_locations(void **state)
{
	(void)state;
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = load("top:\n  list:\n    - x\n    - \"y\"\n", DOC_YAML, &dl);
	assert_non_null(d);
	const struct node *n = node_path_nearest(d->root, "top.list[1]");
	assert_string_equal(n->text, "y");
	assert_int_equal(n->loc.line, 4);
	assert_int_equal(n->loc.col, 8);
	/* a missing path stops at the nearest existing parent */
	n = node_path_nearest(d->root, "top.list[7].deep");
	assert_int_equal(n->kind, NODE_SEQ);
	assert_int_equal(n->loc.line, 3);
	doc_free(d);
	diag_list_release(&dl);
}

static void test_json_and_yaml_same_tree(void **state)
{
	(void)state;
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *y = load("a: [1, 2.5, x, null, true]\nb: {c: d}\n", DOC_YAML, &dl);
	struct doc *j = load("{\"a\": [1, 2.5, \"x\", null, true], \"b\": {\"c\": \"d\"}}", DOC_JSON, &dl);
	assert_non_null(y);
	assert_non_null(j);
	json_t *jy = node_to_json(y->root), *jj = node_to_json(j->root);
	assert_true(json_equal(jy, jj));
	json_decref(jy);
	json_decref(jj);
	doc_free(y);
	doc_free(j);
	diag_list_release(&dl);
}

static void expect_error(const char *text, enum doc_format fmt, const char *needle,
			 const struct load_limits *lim)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = NULL;
	int r = doc_load_buffer("t", text, strlen(text), fmt, lim, &d, &dl);
	assert_int_not_equal(r, SM_OK);
	assert_null(d);
	assert_true(dl.errors >= 1);
	if (!strstr(dl.items[0].message, needle))
		fail_msg("expected '%s' in '%s'", needle, dl.items[0].message);
	diag_list_release(&dl);
}

static void test_limits(void **state)
{
	(void)state;
	struct load_limits lim = LOAD_LIMITS_DEFAULT;
	lim.max_bytes = 10;
	expect_error("a: 1234567890", DOC_YAML, "over the limit", &lim);
	lim = (struct load_limits)LOAD_LIMITS_DEFAULT;
	lim.max_depth = 3;
	expect_error("a: [[[[1]]]]", DOC_YAML, "nesting deeper than 3", &lim);
	lim = (struct load_limits)LOAD_LIMITS_DEFAULT;
	lim.max_nodes = 50;
	expect_error("a: &a [1,2,3,4,5,6,7,8,9,10]\nb: [*a,*a,*a,*a,*a,*a]\n", DOC_YAML,
		     "document too large", &lim);
	lim = (struct load_limits)LOAD_LIMITS_DEFAULT;
	lim.max_map_keys = 2;
	expect_error("{a: 1, b: 2, c: 3}", DOC_YAML, "too many keys", &lim);
	expect_error("a: 1\na: 2\n", DOC_YAML, "duplicate key 'a'", NULL);
	expect_error("{\"a\": 1, \"a\": 2}", DOC_JSON, "duplicate key 'a'", NULL);
	expect_error("a: *x\n", DOC_YAML, "unknown anchor", NULL);
}

/* PyYAML's int and float resolvers, edges included (what is not a number stays text). */
static void test_yaml11_numbers(void **state)
{
	static const struct { const char *text; enum node_kind kind; double v; } cases[] = {
		{ "017", NODE_INT, 15 }, { "-017", NODE_INT, -15 }, { "0", NODE_INT, 0 },
		{ "00", NODE_INT, 0 }, { "0_7", NODE_INT, 7 }, { "1_000", NODE_INT, 1000 },
		{ "0b101", NODE_INT, 5 }, { "0x_1F", NODE_INT, 31 }, { "+12", NODE_INT, 12 },
		{ "1:30", NODE_INT, 90 }, { "1:30:00", NODE_INT, 5400 }, { "-1:30", NODE_INT, -90 },
		{ "1:3", NODE_INT, 63 }, { "1:60", NODE_STRING, 0 }, { "1:030", NODE_STRING, 0 },
		{ "1::", NODE_STRING, 0 }, { "1:", NODE_STRING, 0 }, { "0:30", NODE_STRING, 0 },
		{ "08", NODE_STRING, 0 }, { "0o17", NODE_STRING, 0 }, { "0b", NODE_STRING, 0 },
		{ "0x", NODE_STRING, 0 }, { "1e3", NODE_STRING, 0 }, { "1.5", NODE_FLOAT, 1.5 },
		{ "1_000.5", NODE_FLOAT, 1000.5 }, { "1:30.5", NODE_FLOAT, 90.5 },
		{ ".5", NODE_FLOAT, 0.5 }, { "-.5", NODE_STRING, 0 }, { "6.02e+23", NODE_FLOAT, 6.02e23 },
		{ "1.0e3", NODE_STRING, 0 }, { "1.", NODE_FLOAT, 1 }, { "", NODE_STRING, 0 },
		{ "-", NODE_STRING, 0 }, { "99999999999999999999", NODE_STRING, 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t iv = 0;
		double fv = 0;
		enum node_kind k = yaml11_number(cases[i].text, &iv, &fv);
		if (k != cases[i].kind)
			fail_msg("'%s': kind %d, expected %d", cases[i].text, k, cases[i].kind);
		if (k == NODE_INT)
			assert_int_equal(iv, (int64_t)cases[i].v);
		if (k == NODE_FLOAT)
			assert_true(fv == cases[i].v);
	}
}

static void test_merge_keys(void **state)
{
	(void)state;
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *d = load("base: &b {x: 1, y: 2}\nother: &o {z: 3}\n"
			     "m:\n  <<: [*b, *o]\n  y: 20\n", DOC_YAML, &dl);
	assert_non_null(d);
	const struct node *m = node_map_get(d->root, "m");
	assert_int_equal(m->nr, 3);
	assert_int_equal(node_map_get(m, "x")->v.i, 1);
	assert_int_equal(node_map_get(m, "y")->v.i, 20); /* explicit keys win */
	assert_int_equal(node_map_get(m, "z")->v.i, 3);
	assert_null(node_map_get(m, "<<"));
	doc_free(d);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_core_schema_typing),
		cmocka_unit_test(test_locations),
		cmocka_unit_test(test_json_and_yaml_same_tree),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_yaml11_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
