/*
 * pack_int.h - shared between the pack_*.c files only.
 */
#ifndef SM_PACK_INT_H
#define SM_PACK_INT_H

#include "pack.h"

#define PACK_MANIFEST "manifest.json"
#define PACK_MAX_PATH 1024
#define PACK_MAX_COMPONENT 255

/*
 * Is `path` a safe relative path for an archive entry or a manifest file
 * name: not empty, not absolute, no '\\' or ':', no control characters,
 * no empty, "." or ".." component?  If not, *why says what is wrong.
 */
bool pack_path_safe(const char *path, const char **why);

/* Refuse an entry whose Unix mode makes it a FIFO, device, socket or link
 * (pack_zipmodes.c: libarchive reports those as regular files). */
int pack_check_zip_modes(const struct pack *p, const void *buf, size_t len,
			 struct diag_list *dl);

/* Entries sorted by path (pack_sort_entries), then found by bsearch. */
void pack_sort_entries(struct pack *p);
struct pack_file *pack_find(const struct pack *p, const char *path);

/* A diagnostic about the pack `p` (its file), optionally a manifest field. */
void pack_error(struct diag_list *dl, const struct pack *p, const char *field,
		const char *fmt, ...) SM_PRINTF(4, 5);

#endif
