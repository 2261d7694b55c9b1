/*
 * journal.h - the authenticated journal of a pack install (pack_journal.c):
 * which staged item was moved where, so an interrupted install is undone.
 */
#ifndef SM_PACK_JOURNAL_H
#define SM_PACK_JOURNAL_H

#include "../base/strbuf.h"

#define JOURNAL_FILE "journal"

struct journal_move {
	size_t index;     /* staging/<index>, staging/old-<index> */
	const char *rel;  /* the target, relative to the collection (checked safe) */
};

struct journal {
	struct journal_move *moves;
	size_t nr;
	char *text;       /* what the moves point into */
};

/* Add a move to the journal text `sb` (its header first). */
void journal_add_move(struct strbuf *sb, size_t index, const char *rel);
/* Write staging/journal with the HMAC of the home's install key (made if absent). */
int journal_write(const char *home, const char *staging, const struct strbuf *moves);
/*
 * Read and verify staging/journal: SM_OK with its moves, or SM_ERR and
 * *why (a phrase) when it is missing, was not written with this home's
 * key for this very staging folder, or names an unsafe path.
 */
int journal_read(const char *home, const char *staging, struct journal *j, const char **why);
void journal_release(struct journal *j);
/* The moves of a verified journal's text (taken: freed by journal_release). */
int journal_parse(char *text, struct journal *j, const char **why);
/* Is no parent of root/rel (below root) a symlink? */
bool journal_target_ok(const char *root, const char *rel);

#endif
