#include "compat.h"
#include "fsutil.h"
#include "strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	return xasprintf("%s%s%s", a, la && a[la - 1] == '/' ? "" : "/", b);
}

bool fs_is_dir(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

bool fs_is_file(const char *path)
{
	struct stat st;
	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/* mkdir -p from the leaf up: a folder whose parent exists (the usual case,
 * an attempt's folder under its stage's) costs one mkdir, not one a level. */
int fs_mkdirs(const char *path)
{
	if (!mkdir(path, 0777))
		return SM_OK;
	if (errno == ENOENT) {
		char *parent = xstrdup(path), *slash = strrchr(parent, '/');
		while (slash && slash > parent && slash[-1] == '/')
			slash--; /* "a//b": the parent is "a" */
		int r = slash && slash > parent ? (*slash = '\0', fs_mkdirs(parent)) : SM_EIO;
		free(parent);
		if (r || (mkdir(path, 0777) && errno != EEXIST))
			return SM_EIO;
	} else if (errno != EEXIST) {
		return SM_EIO;
	}
	if (!fs_is_dir(path)) {
		errno = ENOTDIR;
		return SM_EIO;
	}
	return SM_OK;
}

static void fsync_dir_of(const char *path)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* All of it, through short writes and signals; SM_EIO with errno set. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			return SM_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return SM_OK;
}

int fs_write_atomic(const char *path, const void *data, size_t len)
{
	return fs_write_atomic_mode(path, data, len, 0666);
}

int fs_write_atomic_mode(const char *path, const void *data, size_t len, unsigned mode)
{
	const char *slash = strrchr(path, '/');
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char *tmp = xasprintf("%.*s.%s.%ld%06ld.tmp", slash ? (int)(slash - path + 1) : 0, path,
			      slash ? slash + 1 : path, (long)getpid(), (long)(ts.tv_nsec / 1000));
	int r = SM_EIO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		goto out;
	if (write_all(fd, data, len))
		goto fail;
	if (fsync(fd) || close(fd)) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path))
		goto fail;
	fsync_dir_of(path);
	r = SM_OK;
	goto out;
fail: {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		errno = saved;
	}
out:
	free(tmp);
	return r;
}

int fs_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return SM_EIO;
	if (write_all(fd, data, len)) {
		int saved = errno;
		close(fd);
		errno = saved;
		return SM_EIO;
	}
	return close(fd) ? SM_EIO : SM_OK;
}

int fs_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st))
		return errno == ENOENT ? SM_OK : SM_EIO;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) ? SM_EIO : SM_OK;
	DIR *d = opendir(path);
	if (!d)
		return SM_EIO;
	int r = SM_OK;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *child = path_join(path, e->d_name);
		r = fs_remove_tree(child);
		free(child);
	}
	closedir(d);
	if (!r && rmdir(path))
		r = SM_EIO;
	return r;
}

int fs_path_cmp(const char *x, const char *y)
{
	for (;;) {
		size_t lx = strcspn(x, "/"), ly = strcspn(y, "/");
		size_t n = lx < ly ? lx : ly;
		int c = memcmp(x, y, n);
		if (c)
			return c;
		if (lx != ly)
			return lx < ly ? -1 : 1;
		if (!x[lx] || !y[ly])
			return (x[lx] != 0) - (y[ly] != 0);
		x += lx + 1;
		y += ly + 1;
	}
}

static int cmp_components(const void *a, const void *b)
{
	return fs_path_cmp(*(const char *const *)a, *(const char *const *)b);
}

static int walk(const char *root, const char *rel, char ***names, size_t *nr, size_t *alloc,
		int depth)
{
	if (depth > 64) {
		errno = ELOOP;
		return SM_EIO;
	}
	char *dir = *rel ? path_join(root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	int r = d ? SM_OK : SM_EIO;
	struct dirent *e;
	while (d && !r && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *child_rel = *rel ? path_join(rel, e->d_name) : xstrdup(e->d_name);
		char *child = path_join(root, child_rel);
		struct stat st;
		if (lstat(child, &st)) {
			r = SM_EIO;
		} else if (S_ISDIR(st.st_mode)) {
			r = walk(root, child_rel, names, nr, alloc, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			ALLOC_GROW(*names, *nr + 1, *alloc);
			(*names)[(*nr)++] = child_rel;
			child_rel = NULL;
		}
		free(child_rel);
		free(child);
	}
	if (d)
		closedir(d);
	free(dir);
	return r;
}

int fs_list_files(const char *dir, char ***names, size_t *nr)
{
	size_t alloc = 0;
	*names = NULL;
	*nr = 0;
	int r = walk(dir, "", names, nr, &alloc, 0);
	if (!r && *nr > 1) /* qsort must not see the NULL of an empty list */
		qsort(*names, *nr, sizeof(**names), cmp_components);
	return r;
}

bool fs_name_safe(const char *name)
{
	size_t n = 0;
	if (!name || !*name || *name == '.')
		return false;
	for (const char *p = name; *p; p++, n++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_'))
			return false;
	return n <= FS_NAME_MAX;
}
