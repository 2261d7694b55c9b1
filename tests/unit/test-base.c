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
#include "base/termesc.h"
#include "base/numconv.h"
#include "base/fsutil.h"
#include "formats/load.h"

#include <math.h>
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

static void expect_esc(const char *in, int flags, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	term_escape(&sb, in, strlen(in), flags);
	assert_string_equal(sb.buf, want);
	assert_int_equal(term_clean(in, strlen(in), flags), !strcmp(in, want));
	strbuf_release(&sb);
}

/* What a hostile pack or agent could draw on a terminal is shown, not obeyed. */
static void test_term_escape(void **state)
{
	(void)state;
	expect_esc("plain text", TERM_ONE_LINE, "plain text");
	expect_esc("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac", TERM_ONE_LINE,
		   "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac"); /* other scripts kept */
	expect_esc("x\x1b[2K\rsignature: trusted", TERM_ONE_LINE,
		   "x\\x1b[2K\\x0dsignature: trusted");
	expect_esc("a\nb\tc", TERM_ONE_LINE, "a\\nb\\tc");
	expect_esc("a\nb\tc", TERM_KEEP_LINES, "a\nb\tc");
	expect_esc("\x7f\xc2\x9b", TERM_ONE_LINE, "\\x7f\\u009b");           /* DEL, C1 CSI */
	expect_esc("abc\xe2\x80\xaegpj.exe", TERM_ONE_LINE, "abc\\u202egpj.exe"); /* RLO */
	expect_esc("\xe2\x81\xa6x\xe2\x80\x8f", TERM_ONE_LINE, "\\u2066x\\u200f");
	expect_esc("\xff\xc0\xaf\xed\xa0\x80", TERM_ONE_LINE,               /* not UTF-8 */
		   "\\xff\\xc0\\xaf\\xed\\xa0\\x80");
	const char *a = term_esc("\x1b]0;title\x07");
	assert_string_equal(a, "\\x1b]0;title\\x07");
}

static void test_numconv_and_names(void **state)
{
	(void)state;
	assert_int_equal(num_to_i64(1e308), INT64_MAX);
	assert_int_equal(num_to_i64(-1e308), INT64_MIN);
	assert_int_equal(num_to_i64(NAN), 0);
	assert_int_equal(num_to_i64(1234.9), 1234);
	assert_int_equal((long long)num_to_time(1e308), 253402300799LL);
	assert_true(fs_name_safe("build-1.2_x"));
	assert_false(fs_name_safe("../x"));
	assert_false(fs_name_safe(".hidden"));
	assert_false(fs_name_safe("a/b"));
	assert_false(fs_name_safe(""));
	assert_false(fs_name_safe("caf\xc3\xa9"));
}

static void test_mkdirs(void **state)
{
	(void)state;
	char root[] = "/tmp/sm-mkdirs-XXXXXX";
	assert_non_null(mkdtemp(root));
	char *deep = xasprintf("%s/a/b//c/", root), *file = xasprintf("%s/f", root);
	assert_int_equal(fs_mkdirs(deep), SM_OK); /* three levels missing, "//", trailing "/" */
	assert_true(fs_is_dir(deep));
	assert_int_equal(fs_mkdirs(deep), SM_OK); /* already there */
	char *leaf = xasprintf("%s/a/b/c/d", root);
	assert_int_equal(fs_mkdirs(leaf), SM_OK); /* only the leaf missing */
	assert_true(fs_is_dir(leaf));
	assert_int_equal(fs_write_file(file, "x", 1), SM_OK);
	char *under_file = xasprintf("%s/f/g", root);
	assert_int_equal(fs_mkdirs(file), SM_EIO); /* a file in the way */
	assert_int_equal(errno, ENOTDIR);
	assert_int_equal(fs_mkdirs(under_file), SM_EIO);
	fs_remove_tree(root);
	free(deep);
	free(file);
	free(leaf);
	free(under_file);
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
		cmocka_unit_test(test_term_escape),
		cmocka_unit_test(test_numconv_and_names),
		cmocka_unit_test(test_mkdirs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
