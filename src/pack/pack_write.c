/*
 * pack_write.c - write a pack as a ZIP, the way upstream's BundleBuilder
 * does: entries in sorted path order, all dated 2020-01-01 00:00:00 UTC,
 * deflated, manifest.json indented with sorted keys.  The same pack gives
 * the same bytes.
 */
#include "../base/compat.h"
#include "pack.h"
#include "pack_int.h"
#include "../base/fsutil.h"

#include <archive.h>
#include <archive_entry.h>

#define FIXED_MTIME 1577836800 /* 2020-01-01T00:00:00Z */

static la_ssize_t append(struct archive *a, void *sb, const void *buf, size_t n)
{
	UNUSED(a);
	strbuf_add(sb, buf, n);
	return (la_ssize_t)n;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp((*(const struct pack_file *const *)a)->path,
		      (*(const struct pack_file *const *)b)->path);
}

static int add_file(struct archive *a, const struct pack_file *f)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, f->path);
	archive_entry_set_size(e, (la_int64_t)f->len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, FIXED_MTIME, 0);
	int r = archive_write_header(a, e) == ARCHIVE_OK &&
		(!f->len || archive_write_data(a, f->data, f->len) == (la_ssize_t)f->len);
	archive_entry_free(e);
	return r ? SM_OK : SM_ERR;
}

int pack_write(const struct pack *p, struct strbuf *out, struct diag_list *dl)
{
	struct strbuf text = STRBUF_INIT;
	pack_json_dump(&text, p->manifest, 2, false);
	strbuf_addch(&text, '\n');
	struct pack_file manifest = { (char *)PACK_MANIFEST, (unsigned char *)text.buf, text.len };
	const struct pack_file **files = xcalloc(p->nr_entries + 1, sizeof(*files));
	size_t nr = 0;
	files[nr++] = &manifest;
	for (size_t i = 0; i < p->nr_entries; i++)
		if (strcmp(p->entries[i].path, PACK_MANIFEST))
			files[nr++] = &p->entries[i];
	qsort(files, nr, sizeof(*files), cmp_path);

	struct archive *a = archive_write_new();
	int r = SM_OK;
	if (archive_write_set_format_zip(a) || archive_write_zip_set_compression_deflate(a) ||
	    archive_write_set_bytes_in_last_block(a, 1) ||
	    archive_write_open(a, out, NULL, append, NULL))
		r = SM_ERR;
	for (size_t i = 0; !r && i < nr; i++)
		r = add_file(a, files[i]);
	if (!r && archive_write_close(a))
		r = SM_ERR;
	if (r)
		pack_error(dl, p, NULL, "cannot write the archive: %s",
			   archive_error_string(a) ? archive_error_string(a) : "unknown error");
	archive_write_free(a);
	free(files);
	strbuf_release(&text);
	return r;
}

int pack_write_file(const struct pack *p, const char *path, struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	int r = pack_write(p, &sb, dl);
	if (!r && fs_write_atomic(path, sb.buf, sb.len)) {
		struct loc loc = { path, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot write: %s",
			 strerror(errno));
		r = SM_EIO;
	}
	strbuf_release(&sb);
	return r;
}
