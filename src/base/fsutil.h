/*
 * fsutil.h - small file-system helpers: atomic writes, directories.
 * All return SM_OK or SM_EIO with errno set.
 */
#ifndef SM_FSUTIL_H
#define SM_FSUTIL_H

#include "compat.h"

/* Write via ".<name>.<random>.tmp" in the same directory, fsync, rename:
 * readers see the old file or the new one, never a half-written one. */
int fs_write_atomic(const char *path, const void *data, size_t len);
/* The same, creating the file with `mode` (before the umask): 0600 for secrets. */
int fs_write_atomic_mode(const char *path, const void *data, size_t len, unsigned mode);
/* Plain write (create or truncate), no fsync: for files that a process crash
 * must not lose but an OS crash may (the page cache survives the former). */
int fs_write_file(const char *path, const void *data, size_t len);
int fs_mkdirs(const char *path);           /* mkdir -p */
int fs_remove_tree(const char *path);      /* rm -r (no symlink following) */
bool fs_is_dir(const char *path);
bool fs_is_file(const char *path);
char *path_join(const char *a, const char *b); /* malloc'd "a/b" */
/*
 * May `name` become one path component of a folder this program makes
 * (a stage id, an output name)?  ASCII letters, digits, '.', '-' and '_',
 * 1 to 128 of them, not starting with '.': never "..", "/" or a control
 * character, whatever a workflow says.
 */
#define FS_NAME_MAX 128
bool fs_name_safe(const char *name);

/*
 * Regular files under `dir`, as paths relative to it, sorted the way
 * Python sorts pathlib paths (component by component).  Caller frees
 * each name and the array.
 */
int fs_list_files(const char *dir, char ***names, size_t *nr);

/* Python's PurePath order: component by component (for fs_list_files and hashes). */
int fs_path_cmp(const char *a, const char *b);

#endif
