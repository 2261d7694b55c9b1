/*
 * pack_read.c - read a .skillmeat-pack into memory, trusting nothing.
 *
 * libarchive parses the ZIP (and only ZIP); every entry is checked before
 * its data is read: regular files and directories only (no symlinks, hard
 * links, devices, FIFOs), safe relative paths, not encrypted.  Data is
 * read in chunks against our own caps, whatever the headers claim: size
 * per file, total size, entry count, and the ratio of unpacked bytes to
 * the archive's size (a compression bomb stops at the cap, not at the end
 * of memory).  Nothing is written anywhere.
 */
#include "../base/compat.h"
#include "pack.h"
#include "pack_int.h"

#include <archive.h>
#include <locale.h>
#include <archive_entry.h>
#include <sys/stat.h>

const struct pack_limits pack_default_limits = {
	.max_archive = 256u << 20,
	.max_entries = 10000,
	.max_entry = 32u << 20,
	.max_total = 256u << 20,
	.max_ratio = 100,
};

/* What kind of entry this is, when it is not one we accept. */
static const char *refused_kind(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return "a hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: case AE_IFDIR: return NULL;
	case AE_IFLNK: return "a symbolic link";
	case AE_IFCHR: case AE_IFBLK: return "a device";
	case AE_IFIFO: return "a FIFO";
	case AE_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
}

struct reader {
	struct pack *p;
	const struct pack_limits *lim;
	struct diag_list *dl;
	size_t total, ratio_cap;
};

/* Read the current entry's data under the caps. */
static int read_data(struct reader *rd, struct archive *a, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	la_ssize_t n;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		rd->total += (size_t)n;
		if (sb.len + (size_t)n > rd->lim->max_entry) {
			pack_error(rd->dl, rd->p, NULL, "entry '%s' is larger than %zu MiB", path,
				   rd->lim->max_entry >> 20);
			goto fail;
		}
		if (rd->total > rd->ratio_cap) {
			pack_error(rd->dl, rd->p, NULL, "entry '%s': the archive unpacks to more than "
				   "%zu times its size (a compression bomb?)", path,
				   rd->lim->max_ratio);
			goto fail;
		}
		if (rd->total > rd->lim->max_total) {
			pack_error(rd->dl, rd->p, NULL, "entry '%s': the files add up to more than "
				   "%zu MiB", path, rd->lim->max_total >> 20);
			goto fail;
		}
		strbuf_add(&sb, buf, (size_t)n);
	}
	if (n < 0) {
		pack_error(rd->dl, rd->p, NULL, "entry '%s' cannot be read (damaged or truncated "
			   "archive): %s", path, archive_error_string(a));
		goto fail;
	}
	size_t len;
	char *data = strbuf_detach(&sb, &len);
	ALLOC_GROW(rd->p->entries, rd->p->nr_entries + 1, rd->p->alloc_entries);
	rd->p->entries[rd->p->nr_entries++] = (struct pack_file){ xstrdup(path),
		(unsigned char *)data, len, false };
	return SM_OK;
fail:
	strbuf_release(&sb);
	return SM_ERR;
}

/* Check one entry's header; read it when it is a file. */
static int read_entry(struct reader *rd, struct archive *a, struct archive_entry *e)
{
	/* UTF-8 names (the ZIP's language-encoding flag) whatever the locale is. */
	const char *raw = archive_entry_pathname_utf8(e), *why, *kind;
	if (!raw)
		raw = archive_entry_pathname(e);
	if (!raw) {
		pack_error(rd->dl, rd->p, NULL, "an entry's name cannot be decoded");
		return SM_ERR;
	}
	char *path = xstrdup(raw);
	int r = SM_ERR;
	bool dir = archive_entry_filetype(e) == AE_IFDIR;
	size_t len = strlen(path);
	if (dir && len > 1 && path[len - 1] == '/')
		path[len - 1] = '\0';
	if ((kind = refused_kind(e)))
		pack_error(rd->dl, rd->p, NULL, "entry '%s' is %s; packs hold only files", raw, kind);
	else if (!pack_path_safe(path, &why))
		pack_error(rd->dl, rd->p, NULL, "entry '%s' has %s", raw, why);
	else if (archive_entry_is_encrypted(e))
		pack_error(rd->dl, rd->p, NULL, "entry '%s' is encrypted", raw);
	else if (archive_entry_size_is_set(e) && archive_entry_size(e) > (la_int64_t)rd->lim->max_entry)
		pack_error(rd->dl, rd->p, NULL, "entry '%s' is larger than %zu MiB", raw,
			   rd->lim->max_entry >> 20);
	else
		r = dir ? SM_OK : read_data(rd, a, path);
	free(path);
	return r;
}

static int read_entries(struct reader *rd, struct archive *a)
{
	struct archive_entry *e;
	size_t count = 0;
	for (;;) {
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			return SM_OK;
		if (ar < ARCHIVE_WARN) {
			pack_error(rd->dl, rd->p, NULL, "%s: not a readable ZIP archive (damaged or "
				   "truncated?)", archive_error_string(a) ? archive_error_string(a)
				   : "unknown error");
			return SM_ERR;
		}
		if (++count > rd->lim->max_entries) {
			pack_error(rd->dl, rd->p, NULL, "more than %zu entries",
				   rd->lim->max_entries);
			return SM_ERR;
		}
		if (read_entry(rd, a, e))
			return SM_ERR;
	}
}

static int check_duplicates(struct pack *p, struct diag_list *dl)
{
	pack_sort_entries(p);
	for (size_t i = 1; i < p->nr_entries; i++) {
		if (!strcmp(p->entries[i - 1].path, p->entries[i].path)) {
			pack_error(dl, p, NULL, "entry '%s' appears twice", p->entries[i].path);
			return SM_ERR;
		}
	}
	return SM_OK;
}

int pack_read_buffer(const char *name, const void *buf, size_t len,
		     const struct pack_limits *lim, struct pack **out, struct diag_list *dl)
{
	struct pack *p = xcalloc(1, sizeof(*p));
	struct reader rd = { p, lim ? lim : &pack_default_limits, dl, 0, 0 };
	int r = SM_ERR;
	p->source = xstrdup(name);
	*out = NULL;
	rd.ratio_cap = len * rd.lim->max_ratio;
	if (rd.ratio_cap < (1u << 20))
		rd.ratio_cap = 1u << 20; /* tiny archives may hold small, very regular files */
	if (len > rd.lim->max_archive) {
		pack_error(dl, p, NULL, "the archive is larger than %zu MiB", rd.lim->max_archive >> 20);
		goto out;
	}
	if (pack_check_zip_modes(p, buf, len, dl))
		goto out;
	/* libarchive converts names to this thread's locale: a UTF-8 one, so a
	 * name outside ASCII reads in the "C" locale too (the process's is kept). */
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	locale_t was = utf8 ? uselocale(utf8) : (locale_t)0;
	struct archive *a = archive_read_new();
	archive_read_support_format_zip(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK)
		pack_error(dl, p, NULL, "not a ZIP archive: %s", archive_error_string(a));
	else if (!read_entries(&rd, a) && !check_duplicates(p, dl))
		r = pack_manifest_load(p, dl);
	archive_read_free(a);
	if (utf8) {
		uselocale(was);
		freelocale(utf8);
	}
out:
	if (r)
		pack_free(p);
	else
		*out = p;
	return r;
}

int pack_read_file(const char *path, const struct pack_limits *lim, struct pack **out,
		   struct diag_list *dl)
{
	const struct pack_limits *l = lim ? lim : &pack_default_limits;
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file(&sb, path, l->max_archive);
	*out = NULL;
	if (r) {
		struct loc loc = { path, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot read: %s",
			 r == SM_ELIMIT ? "the archive is too large" : strerror(errno));
	} else {
		r = pack_read_buffer(path, sb.buf, sb.len, l, out, dl);
	}
	strbuf_release(&sb);
	return r;
}

void pack_free(struct pack *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_entries; i++) {
		free(p->entries[i].path);
		free(p->entries[i].data);
	}
	for (size_t i = 0; i < p->nr_arts; i++) {
		free(p->arts[i].files);
		free(p->arts[i].data);
	}
	free(p->entries);
	free(p->arts);
	json_decref(p->manifest);
	free(p->source);
	free(p);
}
