/*
 * fuzz-pack: the pack reader.  The first byte picks what the rest is:
 *   'M'  the text of manifest.json, checked against a fixed set of entries
 *        (mutating JSON reaches the manifest checks; zips rarely would);
 *   'J'  the text of an install journal, as recovery parses it once its
 *        HMAC verified: every move it accepts must name a safe path;
 *   else a whole .skillmeat-pack archive, read under small caps.
 * Anything but a clean diagnostic or a verified pack is a bug.
 */
#include "base/compat.h"
#include "pack/pack.h"
#include "pack/journal.h"
#include "pack/pack_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct pack *p)
{
	struct pack_sig_info si;
	pack_check_signature(p, NULL, &si);
	for (size_t i = 0; i < p->nr_arts; i++) /* every verified file is reachable */
		for (size_t k = 0; k < p->arts[i].nr_files; k++)
			if (!p->arts[i].data[k])
				__builtin_trap();
}

static void manifest_only(const uint8_t *data, size_t size)
{
	static const char agent[] = "---\nname: a\n---\nHello.\n";
	struct pack *p = xcalloc(1, sizeof(*p));
	struct diag_list dl = DIAG_LIST_INIT;
	p->source = xstrdup("fuzz.skillmeat-pack");
	pack_add_entry(p, "artifacts/agent/a/a.md", agent, sizeof(agent) - 1);
	pack_add_entry(p, "artifacts/skill/s/SKILL.md", agent, sizeof(agent) - 1);
	pack_add_entry(p, "manifest.json", data, size);
	if (pack_manifest_load(p, &dl) == SM_OK)
		check(p);
	pack_free(p);
	diag_list_release(&dl);
}

static void journal_only(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct journal j;
	const char *why;
	if (journal_parse(text, &j, &why) == SM_OK) {
		for (size_t i = 0; i < j.nr; i++) /* never a path out of the collection */
			if (!pack_path_safe(j.moves[i].rel, &why) || j.moves[i].rel[0] == '/')
				__builtin_trap();
		journal_release(&j);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'J') {
		journal_only(data + 1, size - 1);
		return 0;
	}
	if (size && data[0] == 'M') {
		manifest_only(data + 1, size - 1);
		return 0;
	}
	struct pack_limits lim = { 1u << 20, 200, 256u << 10, 1u << 20, 100 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct pack *p = NULL;
	if (pack_read_buffer("fuzz.skillmeat-pack", data, size, &lim, &p, &dl) == SM_OK)
		check(p);
	pack_free(p);
	diag_list_release(&dl);
	return 0;
}
