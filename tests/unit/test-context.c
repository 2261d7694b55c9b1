/*
 * Unit tests: the context layer (prices for now).
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "context/prices.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_price_lookup),
		cmocka_unit_test(test_price_config),
		cmocka_unit_test(test_price_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
