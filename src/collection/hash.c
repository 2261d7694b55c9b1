#include "../base/compat.h"
#include "hash.h"
#include "../base/fsutil.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

static int hash_file(crypto_hash_sha256_state *st, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SM_EIO;
	unsigned char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return SM_EIO;
		}
		crypto_hash_sha256_update(st, buf, (unsigned long long)n);
	}
	close(fd);
	return SM_OK;
}

int content_hash(const char *path, char hex[65])
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	int r = SM_OK;
	if (fs_is_dir(path)) {
		char **names;
		size_t nr;
		r = fs_list_files(path, &names, &nr);
		for (size_t i = 0; i < nr; i++) {
			if (!r) {
				crypto_hash_sha256_update(&st, (const unsigned char *)names[i],
							  strlen(names[i]));
				char *full = path_join(path, names[i]);
				r = hash_file(&st, full);
				free(full);
			}
			free(names[i]);
		}
		free(names);
	} else {
		r = hash_file(&st, path);
	}
	unsigned char out[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, 65, out, sizeof(out));
	return r;
}

void content_hash_bytes(const void *data, size_t len, char hex[65])
{
	unsigned char out[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(out, data, len);
	sodium_bin2hex(hex, 65, out, sizeof(out));
}

struct named {
	const char *name;
	size_t k;
};

static int cmp_named(const void *a, const void *b)
{
	return fs_path_cmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

void content_hash_files(size_t nr, const char *const *names,
			const unsigned char *const *data, const size_t *lens, char hex[65])
{
	struct named *order = xcalloc(nr ? nr : 1, sizeof(*order));
	for (size_t i = 0; i < nr; i++)
		order[i] = (struct named){ names[i], i };
	qsort(order, nr, sizeof(*order), cmp_named); /* fs_list_files' order */
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < nr; i++) {
		size_t k = order[i].k;
		crypto_hash_sha256_update(&st, (const unsigned char *)names[k], strlen(names[k]));
		crypto_hash_sha256_update(&st, data[k], lens[k]);
	}
	unsigned char out[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, 65, out, sizeof(out));
	free(order);
}
