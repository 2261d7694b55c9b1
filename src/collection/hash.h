/*
 * hash.h - upstream SkillMeat's artifact content hash (collection.lock):
 * lower-case hex SHA-256; a file hashes its bytes, a directory hashes,
 * for each file in pathlib order, its relative path then its bytes.
 */
#ifndef SM_COLLECTION_HASH_H
#define SM_COLLECTION_HASH_H

#include "../base/compat.h"

/* 64 hex digits and a NUL into `hex`.  SM_OK or SM_EIO. */
int content_hash(const char *path, char hex[65]);
/* The same over bytes in memory: one file, or a folder's files (names
 * relative to it, any order). */
void content_hash_bytes(const void *data, size_t len, char hex[65]);
void content_hash_files(size_t nr, const char *const *names,
			const unsigned char *const *data, const size_t *lens, char hex[65]);

#endif
