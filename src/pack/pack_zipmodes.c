/*
 * pack_zipmodes.c - the file type a ZIP entry's Unix mode gives it.
 *
 * libarchive's ZIP reader turns any Unix mode that is not a folder or a
 * symbolic link into a regular file, so a FIFO or a device entry would be
 * installed as an empty file.  The central directory is read here for what
 * the archive really says (APPNOTE.TXT 4.3.12, 4.3.14-16, 4.4.2: "version
 * made by" host 3 is Unix, the mode in the high 16 bits of the external
 * attributes) and any other type is refused, as docs/packs.md promises.
 */
#include "../base/compat.h"
#include "pack_int.h"

#include <sys/stat.h>

static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The central directory: offset and number of entries; false if not found. */
static bool central_dir(const unsigned char *b, size_t len, uint64_t *off, uint64_t *nr)
{
	if (len < 22)
		return false;
	size_t lowest = len > 22 + 65535 ? len - 22 - 65535 : 0;
	for (size_t i = len - 22 + 1; i-- > lowest;) {
		if (le32(b + i) != 0x06054b50)
			continue;
		*nr = le16(b + i + 10);
		*off = le32(b + i + 16);
		/* ZIP64: the locator 20 bytes before points at the real record. */
		if ((*nr == 0xFFFF || *off == 0xFFFFFFFF) && i >= 20 &&
		    le32(b + i - 20) == 0x07064b50) {
			uint64_t rec = le64(b + i - 20 + 8);
			if (rec > len || len - rec < 56 || le32(b + rec) != 0x06064b50)
				return false;
			*nr = le64(b + rec + 32);
			*off = le64(b + rec + 48);
		}
		return *off <= len;
	}
	return false;
}

static const char *kind_of(unsigned mode)
{
	switch (mode & S_IFMT) {
	case 0: case S_IFREG: case S_IFDIR: return NULL; /* 0: no type given */
	case S_IFLNK: return "a symbolic link";
	case S_IFCHR: case S_IFBLK: return "a device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
}

int pack_check_zip_modes(const struct pack *p, const void *buf, size_t len,
			 struct diag_list *dl)
{
	const unsigned char *b = buf;
	uint64_t off, nr;
	if (!central_dir(b, len, &off, &nr))
		return SM_OK; /* libarchive says what is wrong with it */
	for (uint64_t k = 0; k < nr; k++) {
		if (len - off < 46 || le32(b + off) != 0x02014b50)
			return SM_OK;
		size_t name_len = le16(b + off + 28);
		size_t skip = 46 + name_len + le16(b + off + 30) + le16(b + off + 32);
		if (len - off < 46 + name_len)
			return SM_OK;
		unsigned host = b[off + 5], mode = le32(b + off + 38) >> 16;
		const char *kind = host == 3 ? kind_of(mode) : NULL;
		if (kind) {
			pack_error(dl, p, NULL, "entry '%.*s' is %s; packs hold only files",
				   (int)(name_len > 256 ? 256 : name_len), (const char *)b + off + 46,
				   kind);
			return SM_ERR;
		}
		if (len - off < skip)
			return SM_OK;
		off += skip;
	}
	return SM_OK;
}
