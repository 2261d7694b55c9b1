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
