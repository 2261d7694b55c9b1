/* Unit tests: durations, strbuf, suggestions, string map, UTF-8 checks. */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/duration.h"
#include "base/strbuf.h"
#include "base/strmap.h"
#include "base/suggest.h"
#include "formats/load.h"

#include <unistd.h>

static void test_duration_parse(void **state)
{
	(void)state;
	static const struct { const char *text; int64_t secs; } good[] = {
		{ "30m", 1800 }, { "4h", 14400 }, { "1h30m", 5400 }, { "1d", 86400 },
		{ "90s", 90 }, { "1d2h3m4s", 93784 }, { " 5m ", 300 }, { "24h", 86400 },
		{ "0s", 0 }, { "100d", 8640000 },
	};
	static const char *const bad[] = { "2h30", "30", "1m1h", "5M", "1.5h", "1h 30m",
		"", "   ", "h", "-5m", "1hh", "99999999999d" };
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		int64_t s = -1;
		assert_true(duration_parse(good[i].text, &s));
		assert_int_equal(s, good[i].secs);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int64_t s;
		assert_false(duration_parse(bad[i], &s));
	}
}

static void test_duration_format(void **state)
{
	(void)state;
	static const struct { int64_t secs; const char *text; } cases[] = {
		{ 0, "0m" }, { -5, "0m" }, { 30, "0m" }, { 59, "0m" }, { 90, "1m" },
		{ 5400, "1h 30m" }, { 86400, "24h" }, { 90000, "25h" }, { 93600, "26h" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[32];
		duration_format(cases[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

static void test_strbuf(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "ab");
	strbuf_addf(&sb, "%d-%s", 42, "x");
	strbuf_addch(&sb, '!');
	assert_string_equal(sb.buf, "ab42-x!");
	assert_int_equal(sb.len, 7);
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'z');
	assert_int_equal(sb.len, 1007);
	assert_int_equal(sb.buf[sb.len], '\0');
	strbuf_reset(&sb);
	strbuf_add_json_string(&sb, "a\"\n\xc3\xa9\xf0\x9f\x98\x80", 9, true);
	assert_string_equal(sb.buf, "\"a\\\"\\n\\u00e9\\ud83d\\ude00\"");
	strbuf_release(&sb);
}

static void test_strbuf_read_file_limit(void **state)
{
	(void)state;
	char path[] = "/tmp/sm-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&sb, path, 100), SM_OK);
	assert_string_equal(sb.buf, "0123456789");
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, path, 5), SM_ELIMIT);
	assert_int_equal(strbuf_read_file(&sb, "/nonexistent/x", 5), SM_ENOENT);
	strbuf_release(&sb);
	unlink(path);
}

static void test_suggest(void **state)
{
	(void)state;
	static const char *const keys[] = { "depends_on", "condition", "roles", "tags" };
	assert_string_equal(suggest_nearest("depend_on", keys, 4), "depends_on");
	assert_string_equal(suggest_nearest("tagz", keys, 4), "tags");
	assert_string_equal(suggest_nearest("rloes", keys, 4), "roles");
	assert_null(suggest_nearest("banana", keys, 4));
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("ab", "ba"), 1);
}

static void test_strmap(void **state)
{
	(void)state;
	struct strmap m = STRMAP_INIT;
	char keys[2000][8];
	for (size_t i = 0; i < 2000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		assert_true(strmap_put(&m, keys[i], i));
	}
	assert_false(strmap_put(&m, "k7", 99));
	for (size_t i = 0; i < 2000; i++) {
		size_t v;
		assert_true(strmap_get(&m, keys[i], &v));
		assert_int_equal(v, i);
	}
	assert_false(strmap_get(&m, "missing", NULL));
	strmap_release(&m);
}

static void test_utf8(void **state)
{
	(void)state;
	size_t bad;
	assert_true(text_check_utf8("h\xc3\xa9llo", 6, &bad));
	assert_false(text_check_utf8("ab\xc3", 3, &bad));
	assert_int_equal(bad, 2);
	assert_false(text_check_utf8("\xed\xa0\x80", 3, &bad)); /* surrogate */
	assert_false(text_check_utf8("\xc0\xaf", 2, &bad));     /* overlong */
	assert_false(text_check_utf8("a\0b", 3, &bad));
	assert_int_equal(bad, 1);
	int line, col;
	text_line_col("ab\nc\xc3\xa9x", 6, &line, &col); /* at the x */
	assert_int_equal(line, 2);
	assert_int_equal(col, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_strbuf_read_file_limit),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
