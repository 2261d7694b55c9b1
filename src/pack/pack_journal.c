/*
 * pack_journal.c - the install journal, authenticated.
 *
 * A collection is shared and synced, so a ".pack-install-*" folder in it
 * may have been planted.  Recovery only replays a journal that carries an
 * HMAC (libsodium crypto_auth) made with a key kept in the SkillMeat home,
 * never in the collection, over the staging folder's own name and the
 * journal's lines: a journal copied from another folder or machine, or
 * edited, does not verify.  Each line is then checked again before use.
 *
 *   skillmeat-install-journal 1
 *   move<TAB><index><TAB><path relative to the collection>
 *   hmac<TAB><64 hex digits>
 */
#include "../base/compat.h"
#include "journal.h"
#include "pack_int.h"
#include "../base/fsutil.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_HEAD "skillmeat-install-journal 1\n"
#define KEY_FILE "install-journal.key"

/* The key, created (0600) the first time an install needs it. */
static int journal_key(const char *home, bool create, unsigned char key[crypto_auth_KEYBYTES])
{
	char *path = path_join(home, KEY_FILE);
	struct strbuf sb = STRBUF_INIT;
	int r = SM_ERR;
	struct stat st;
	if (!lstat(path, &st)) {
		if (S_ISREG(st.st_mode) && !strbuf_read_file(&sb, path, 4096) &&
		    sb.len == crypto_auth_KEYBYTES) {
			memcpy(key, sb.buf, crypto_auth_KEYBYTES);
			r = SM_OK;
		}
	} else if (create && sodium_init() >= 0 && !fs_mkdirs(home)) {
		randombytes_buf(key, crypto_auth_KEYBYTES);
		r = fs_write_atomic_mode(path, key, crypto_auth_KEYBYTES, 0600) ? SM_EIO : SM_OK;
	}
	strbuf_release(&sb);
	free(path);
	return r;
}

static void mac_of(const unsigned char *key, const char *staging, const char *body, size_t len,
		   char hex[2 * crypto_auth_BYTES + 1])
{
	const char *base = strrchr(staging, '/');
	base = base ? base + 1 : staging;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, base);
	strbuf_addch(&sb, '\n');
	strbuf_add(&sb, body, len);
	unsigned char mac[crypto_auth_BYTES];
	crypto_auth(mac, (const unsigned char *)sb.buf, sb.len, key);
	sodium_bin2hex(hex, 2 * crypto_auth_BYTES + 1, mac, sizeof(mac));
	strbuf_release(&sb);
}

void journal_add_move(struct strbuf *sb, size_t index, const char *rel)
{
	if (!sb->len)
		strbuf_addstr(sb, JOURNAL_HEAD);
	strbuf_addf(sb, "move\t%zu\t%s\n", index, rel);
}

int journal_write(const char *home, const char *staging, const struct strbuf *moves)
{
	unsigned char key[crypto_auth_KEYBYTES];
	if (journal_key(home, true, key))
		return SM_EIO;
	struct strbuf sb = STRBUF_INIT;
	if (moves->len)
		strbuf_add(&sb, moves->buf, moves->len);
	else
		strbuf_addstr(&sb, JOURNAL_HEAD);
	char hex[2 * crypto_auth_BYTES + 1];
	mac_of(key, staging, sb.buf, sb.len, hex);
	sodium_memzero(key, sizeof(key));
	strbuf_addf(&sb, "hmac\t%s\n", hex);
	char *path = path_join(staging, JOURNAL_FILE);
	int r = fs_write_atomic_mode(path, sb.buf, sb.len, 0600);
	free(path);
	strbuf_release(&sb);
	return r;
}

/* Does `line` ("move\t<i>\t<rel>") name a safe move?  Splits it in place. */
static bool parse_move(char *line, struct journal_move *m, const char **why)
{
	*why = "a line that is not a move";
	if (strncmp(line, "move\t", 5)) /* before anything past a short line is read */
		return false;
	char *idx = line + 5, *tab = strchr(idx, '\t');
	if (!tab || tab == idx || tab - idx > 6)
		return false;
	for (char *s = idx; s < tab; s++)
		if (*s < '0' || *s > '9')
			return false;
	*tab = '\0';
	m->index = strtoul(idx, NULL, 10);
	m->rel = tab + 1;
	return pack_path_safe(m->rel, why);
}

static void moves_free(struct journal *j)
{
	free(j->moves);
	free(j->text);
	memset(j, 0, sizeof(*j));
}

void journal_release(struct journal *j)
{
	moves_free(j);
}

int journal_parse(char *text, struct journal *j, const char **why)
{
	memset(j, 0, sizeof(*j));
	j->text = text;
	if (strncmp(text, JOURNAL_HEAD, strlen(JOURNAL_HEAD))) {
		*why = "its journal is not one this machine wrote";
		moves_free(j);
		return SM_ERR;
	}
	size_t alloc = 0;
	char *line = text + strlen(JOURNAL_HEAD);
	for (char *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		ALLOC_GROW(j->moves, j->nr + 1, alloc);
		if (!parse_move(line, &j->moves[j->nr++], why)) {
			*why = "its journal names a path outside the collection or its staging folder";
			moves_free(j);
			return SM_ERR;
		}
	}
	return SM_OK;
}

int journal_read(const char *home, const char *staging, struct journal *j, const char **why)
{
	char *path = path_join(staging, JOURNAL_FILE);
	struct strbuf sb = STRBUF_INIT;
	unsigned char key[crypto_auth_KEYBYTES];
	struct stat st;
	int r = SM_ERR;
	memset(j, 0, sizeof(*j));
	*why = NULL;
	if (lstat(path, &st) || !S_ISREG(st.st_mode) || strbuf_read_file(&sb, path, 16u << 20)) {
		*why = "it has no journal this machine wrote";
		goto out;
	}
	char *mac = sb.len >= 2 ? strstr(sb.buf, "\nhmac\t") : NULL;
	if (!mac || memchr(sb.buf, '\0', sb.len) || strncmp(sb.buf, JOURNAL_HEAD,
							       strlen(JOURNAL_HEAD))) {
		*why = "its journal is not one this machine wrote";
		goto out;
	}
	mac++;
	char want[2 * crypto_auth_BYTES + 1];
	if (journal_key(home, false, key)) {
		*why = "there is no install key in the SkillMeat home to check its journal with";
		goto out;
	}
	mac_of(key, staging, sb.buf, (size_t)(mac - sb.buf), want);
	sodium_memzero(key, sizeof(key));
	if (strlen(mac) != 5 + sizeof(want) || sodium_memcmp(mac + 5, want, sizeof(want) - 1)) {
		*why = "its journal's HMAC does not match (written elsewhere, or edited)";
		goto out;
	}
	*mac = '\0';
	r = journal_parse(strbuf_detach(&sb, NULL), j, why);
out:
	strbuf_release(&sb);
	free(path);
	return r;
}

bool journal_target_ok(const char *root, const char *rel)
{
	/* No parent between the root and the target may be a symlink (one
	 * that is not a folder just makes the move back fail). */
	char *path = path_join(root, rel);
	bool ok = true;
	struct stat st;
	for (char *s = path + strlen(root) + 1; ok && (s = strchr(s, '/')); s++) {
		*s = '\0';
		ok = lstat(path, &st) || !S_ISLNK(st.st_mode);
		*s = '/';
	}
	free(path);
	return ok;
}
