/*
 * Unit tests: packs (paths, Python-compatible JSON, reading under caps,
 * signatures).  The end-to-end behaviour is in tests/cli/t0011-packs.sh.
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "pack/pack.h"
#include "pack/pack_int.h"
#include "pack/journal.h"

static void test_paths(void **state)
{
	(void)state;
	static const char *const good[] = { "manifest.json", "artifacts/skill/x/SKILL.md",
		"a/b c/d.txt", "artifacts/agent/ü/ü.md", "..x/y..", ".hidden" };
	static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../b", "a/..", "./a",
		"a//b", "a/", "a\\b", "C:/x", "a/\x01", "a/\x7f" };
	const char *why;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(pack_path_safe(good[i], &why));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_false(pack_path_safe(bad[i], &why));
		assert_non_null(why);
	}
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(pack_path_safe(long_name, &why));
}

/* The expected texts are what Python's json.dumps prints for the same value. */
static void test_json_dump(void **state)
{
	(void)state;
	json_t *j = json_loads("{\"b\": [1, true, null, {}], \"a\": \"\\u00e9\\u007f\\n\\t\\\"\\\\"
			       "\\ud83d\\ude00\", \"\\u00e9\": []}", 0, NULL);
	assert_non_null(j);
	struct strbuf sb = STRBUF_INIT;
	pack_json_dump(&sb, j, 0, true); /* sort_keys, separators=(",", ":") */
	assert_string_equal(sb.buf, "{\"a\":\"\\u00e9\\u007f\\n\\t\\\"\\\\\\ud83d\\ude00\","
			    "\"b\":[1,true,null,{}],\"\\u00e9\":[]}");
	strbuf_reset(&sb);
	pack_json_dump(&sb, j, 0, false); /* ensure_ascii=False */
	assert_string_equal(sb.buf, "{\"a\":\"\xc3\xa9\x7f\\n\\t\\\"\\\\\xf0\x9f\x98\x80\","
			    "\"b\":[1,true,null,{}],\"\xc3\xa9\":[]}");
	strbuf_reset(&sb);
	pack_json_dump(&sb, j, 2, false); /* indent=2 */
	assert_string_equal(sb.buf, "{\n  \"a\": \"\xc3\xa9\x7f\\n\\t\\\"\\\\\xf0\x9f\x98\x80\",\n"
			    "  \"b\": [\n    1,\n    true,\n    null,\n    {}\n  ],\n"
			    "  \"\xc3\xa9\": []\n}");
	strbuf_release(&sb);
	json_decref(j);
}

/* A one-agent pack, as bytes (plus `extra` unlisted empty files). */
static void small_pack(struct strbuf *out, size_t extra)
{
	struct pack *p = xcalloc(1, sizeof(*p));
	struct diag_list dl = DIAG_LIST_INIT;
	static const char agent[] = "---\nname: a\n---\nHello.\n";
	char h[72];
	p->source = xstrdup("test");
	pack_add_entry(p, "artifacts/agent/a/a.md", agent, sizeof(agent) - 1);
	pack_sha256(agent, sizeof(agent) - 1, h);
	p->manifest = json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:[s], s:{s:s}, s:s}]}",
		"version", "1.0", "name", "t", "author", "me", "created_at", "2026-01-01",
		"artifacts", "type", "agent", "name", "a", "path", "artifacts/agent/a/", "files",
		"a.md", "file_hashes", "a.md", h, "hash", h);
	for (size_t i = 0; i < extra; i++) {
		char name[64];
		snprintf(name, sizeof(name), "extra/%zu", i);
		pack_add_entry(p, name, "", 0);
	}
	pack_bundle_hash(p->manifest, h);
	json_object_set_new(p->manifest, "bundle_hash", json_string(h));
	assert_int_equal(pack_write(p, out, &dl), SM_OK);
	pack_free(p);
	diag_list_release(&dl);
}

static bool has_message(const struct diag_list *dl, const char *text)
{
	for (size_t i = 0; i < dl->nr; i++)
		if (strstr(dl->items[i].message, text))
			return true;
	return false;
}

static void test_read_caps(void **state)
{
	(void)state;
	struct strbuf zip = STRBUF_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct pack *p = NULL;
	small_pack(&zip, 0);
	assert_int_equal(pack_read_buffer("t", zip.buf, zip.len, NULL, &p, &dl), SM_OK);
	assert_int_equal(p->nr_arts, 1);
	assert_string_equal(p->arts[0].name, "a");
	pack_free(p);

	struct pack_limits lim = pack_default_limits;
	lim.max_entry = 8; /* the agent is longer */
	assert_int_equal(pack_read_buffer("t", zip.buf, zip.len, &lim, &p, &dl), SM_ERR);
	assert_null(p);
	assert_true(has_message(&dl, "larger than"));
	diag_list_release(&dl);

	lim = pack_default_limits;
	lim.max_archive = zip.len - 1;
	assert_int_equal(pack_read_buffer("t", zip.buf, zip.len, &lim, &p, &dl), SM_ERR);
	assert_true(has_message(&dl, "archive is larger"));
	diag_list_release(&dl);

	strbuf_reset(&zip);
	small_pack(&zip, 5);
	lim = pack_default_limits;
	lim.max_entries = 4;
	assert_int_equal(pack_read_buffer("t", zip.buf, zip.len, &lim, &p, &dl), SM_ERR);
	assert_true(has_message(&dl, "more than 4 entries"));
	diag_list_release(&dl);
	assert_int_equal(pack_read_buffer("t", zip.buf, zip.len, NULL, &p, &dl), SM_ERR);
	assert_true(has_message(&dl, "is not listed in the manifest"));
	diag_list_release(&dl);
	strbuf_release(&zip);
}

static void test_signatures(void **state)
{
	(void)state;
	char home[] = "/tmp/sm-test-pack-XXXXXX";
	assert_non_null(mkdtemp(home));
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf zip = STRBUF_INIT;
	struct pack *p = NULL;
	struct pack_key k;
	struct keyring kr, empty = { 0 };
	struct pack_sig_info si;
	small_pack(&zip, 0);
	assert_int_equal(pack_read_buffer("t", zip.buf, zip.len, NULL, &p, &dl), SM_OK);
	pack_check_signature(p, &empty, &si);
	assert_int_equal(si.status, SIG_UNSIGNED);
	assert_int_equal(key_generate(home, "me", "me@example.org", &k, &dl), SM_OK);
	assert_int_equal(pack_sign(p, &k, &dl), SM_OK);
	assert_int_equal(keyring_load(home, &kr, &dl), SM_OK);
	pack_check_signature(p, &kr, &si);
	assert_int_equal(si.status, SIG_TRUSTED);
	pack_check_signature(p, &empty, &si); /* valid, but not ours */
	assert_int_equal(si.status, SIG_UNTRUSTED);
	json_object_set_new(p->manifest, "description", json_string("changed after signing"));
	pack_check_signature(p, &kr, &si);
	assert_int_equal(si.status, SIG_INVALID);
	json_object_del(json_object_get(p->manifest, "signature"), "public_key");
	pack_check_signature(p, &empty, &si); /* upstream's packs carry no public key */
	assert_int_equal(si.status, SIG_UNKNOWN_KEY);
	assert_int_equal(dl.errors, 0);
	keyring_release(&kr);
	pack_key_release(&k);
	pack_free(p);
	strbuf_release(&zip);
	diag_list_release(&dl);
	fs_remove_tree(home);
}

/* A journal's lines, once verified, still name only safe moves. */
static void test_journal_parse(void **state)
{
	UNUSED(state);
	static const char *const bad[] = {
		"skillmeat-install-journal 1\nmove\t0\t../../x\n",
		"skillmeat-install-journal 1\nmove\t0\t/etc/passwd\n",
		"skillmeat-install-journal 1\nmove\tx/../..\tagents/a.md\n",
		"skillmeat-install-journal 1\nmove\t1234567\tagents/a.md\n",
		"skillmeat-install-journal 1\n\n",   /* a short line: never read past it */
		"skillmeat-install-journal 1\nmov",
		"0\tagents/a.md\n",                   /* the old, unauthenticated kind */
	};
	struct journal j;
	const char *why;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(journal_parse(xstrdup(bad[i]), &j, &why), SM_ERR);
		assert_non_null(why);
	}
	assert_int_equal(journal_parse(xstrdup("skillmeat-install-journal 1\nmove\t3\tagents/a.md\n"
					       "move\t4\tskills/caf\xc3\xa9"), &j, &why), SM_OK);
	assert_int_equal(j.nr, 2);
	assert_int_equal(j.moves[1].index, 4);
	assert_string_equal(j.moves[1].rel, "skills/caf\xc3\xa9");
	journal_release(&j);
}

/* Written here, it verifies here; under another folder's name, with another
 * home's key, or edited, it does not. */
static void test_journal_hmac(void **state)
{
	UNUSED(state);
	char tmpl[] = "/tmp/sm-journal-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	char *home = path_join(tmpl, "home"), *other = path_join(tmpl, "other");
	char *st = path_join(tmpl, ".pack-install-a"), *moved = path_join(tmpl, ".pack-install-b");
	assert_int_equal(fs_mkdirs(st), 0);
	struct strbuf sb = STRBUF_INIT;
	journal_add_move(&sb, 0, "agents/a.md");
	assert_int_equal(journal_write(home, st, &sb), SM_OK);
	struct journal j;
	const char *why;
	assert_int_equal(journal_read(home, st, &j, &why), SM_OK);
	assert_int_equal(j.nr, 1);
	journal_release(&j);
	assert_int_equal(journal_read(other, st, &j, &why), SM_ERR); /* no key there */
	assert_int_equal(rename(st, moved), 0);
	assert_int_equal(journal_read(home, moved, &j, &why), SM_ERR);
	assert_non_null(strstr(why, "HMAC"));
	assert_int_equal(rename(moved, st), 0);
	char *jp = path_join(st, "journal");
	struct strbuf text = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&text, jp, 1 << 20), 0);
	text.buf[strlen("skillmeat-install-journal 1\nmove\t")] = '1'; /* another index */
	assert_int_equal(fs_write_atomic(jp, text.buf, text.len), 0);
	assert_int_equal(journal_read(home, st, &j, &why), SM_ERR);
	strbuf_release(&text);
	strbuf_release(&sb);
	fs_remove_tree(tmpl);
	free(jp);
	free(home);
	free(other);
	free(st);
	free(moved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_json_dump),
		cmocka_unit_test(test_read_caps),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_journal_parse),
		cmocka_unit_test(test_journal_hmac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
