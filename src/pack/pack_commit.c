/*
 * pack_commit.c - the all-or-nothing half of pack_install: stage every
 * file, move each artifact into place (keeping the old one aside), write
 * the manifest and lock, and undo every move if anything fails.
 */
#include "../base/compat.h"
#include "share.h"
#include "pack_int.h"
#include "../base/fsutil.h"
#include "../swdl/workflow.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGING_PREFIX ".pack-install-"

struct move {
	char *target, *staged, *old;
	bool had_old, moved;
};

static int io_fail(struct diag_list *dl, const char *path, const char *what)
{
	struct loc loc = { path, 0, 0 };
	diag_add(dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot %s: %s", what, strerror(errno));
	return SM_EIO;
}

/* A new file; O_EXCL and O_NOFOLLOW so nothing already there is followed. */
static int write_new(const char *path, const void *data, size_t len, struct diag_list *dl)
{
	char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	int r = fs_mkdirs(dir);
	free(dir);
	if (r)
		return io_fail(dl, path, "create the folder of");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return io_fail(dl, path, "create");
	const char *p = data;
	while (len && !r) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = SM_EIO;
		else {
			p += n;
			len -= (size_t)n;
		}
	}
	if (!r && fsync(fd))
		r = SM_EIO;
	if (close(fd) && !r)
		r = SM_EIO;
	return r ? io_fail(dl, path, "write") : SM_OK;
}

/* Stage one action's files as staging/<i> (a file) or staging/<i>/… */
static int stage(const struct pack_action *act, const char *staged, struct diag_list *dl)
{
	const struct pack_artifact *a = act->a;
	if (pack_type_single_file(a->type) && strcmp(a->type, "workflow"))
		return write_new(staged, a->data[0]->data, a->data[0]->len, dl);
	for (size_t k = 0; k < a->nr_files; k++) {
		char *path = path_join(staged, a->files[k]);
		bool text = act->text && k == 0;
		int r = write_new(path, text ? (const void *)act->text : a->data[k]->data,
				  text ? act->text_len : a->data[k]->len, dl);
		free(path);
		if (r)
			return r;
	}
	return SM_OK;
}

static void undo(struct move *m, size_t nr, const char *staging)
{
	for (size_t i = nr; i-- > 0;) {
		if (m[i].moved) {
			char *gone = xasprintf("%s/undo-%zu", staging, i);
			if (!rename(m[i].target, gone))
				m[i].moved = false;
			free(gone);
		}
		if (m[i].had_old && !m[i].moved && !rename(m[i].old, m[i].target))
			m[i].had_old = false;
	}
}

static int move_into_place(struct move *m, struct diag_list *dl)
{
	struct stat st;
	char *parent = xstrdup(m->target);
	*strrchr(parent, '/') = '\0';
	int r = fs_mkdirs(parent) ? io_fail(dl, parent, "create") : SM_OK;
	free(parent);
	if (!r && !lstat(m->target, &st)) {
		if (rename(m->target, m->old))
			return io_fail(dl, m->target, "move the old version aside");
		m->had_old = true;
	}
	if (!r && rename(m->staged, m->target))
		r = io_fail(dl, m->target, "move into place");
	m->moved = !r;
	return r;
}

/* The manifest and lock changes of every installed action. */
static struct collection_change *changes_of(struct collection *c, const struct pack_plan *plan,
					    char (*hashes)[65], size_t *nr)
{
	struct collection_change *ch = xcalloc(plan->nr ? plan->nr : 1, sizeof(*ch));
	*nr = 0;
	for (size_t i = 0; i < plan->nr; i++) {
		const struct pack_action *act = &plan->v[i];
		if (!pack_action_installs(act))
			continue;
		struct node *entry;
		if (act->wf) {
			const struct swdl_workflow *w = &act->wf->wf;
			struct workflow_meta meta = { w->id, w->name, w->version, w->description,
						      w->tags.nr, w->tags.v };
			entry = collection_workflow_entry(c, act->name, &meta);
		} else {
			entry = collection_artifact_entry(c, act->a->type, act->name, act->rel);
		}
		pack_action_hash(act, hashes[i]);
		ch[(*nr)++] = (struct collection_change){ act->a->type, act->name, entry, hashes[i] };
	}
	return ch;
}

static int commit(struct collection *c, const struct pack_plan *plan, const char *staging,
		  struct move *m, struct diag_list *dl)
{
	int r = SM_OK;
	for (size_t i = 0; !r && i < plan->nr; i++) {
		const struct pack_action *act = &plan->v[i];
		if (!pack_action_installs(act))
			continue;
		m[i].target = path_join(c->root, act->rel);
		m[i].staged = xasprintf("%s/%zu", staging, i);
		m[i].old = xasprintf("%s/old-%zu", staging, i);
		r = stage(act, m[i].staged, dl);
	}
	for (size_t i = 0; !r && i < plan->nr; i++)
		if (m[i].target)
			r = move_into_place(&m[i], dl);
	if (!r) {
		char (*hashes)[65] = xcalloc(plan->nr ? plan->nr : 1, sizeof(*hashes));
		size_t nr;
		struct collection_change *ch = changes_of(c, plan, hashes, &nr);
		r = collection_apply(c, ch, nr, dl);
		free(ch);
		free(hashes);
	}
	if (r)
		undo(m, plan->nr, staging);
	return r;
}

int pack_install(struct collection *c, const struct pack_plan *plan, struct diag_list *dl)
{
	char *staging = xasprintf("%s/" STAGING_PREFIX "XXXXXX", c->root);
	if (!mkdtemp(staging)) {
		int r = io_fail(dl, c->root, "create a staging folder in");
		free(staging);
		return r;
	}
	struct move *m = xcalloc(plan->nr ? plan->nr : 1, sizeof(*m));
	int r = commit(c, plan, staging, m, dl);
	bool undone = true;
	for (size_t i = 0; i < plan->nr; i++) {
		undone = undone && !m[i].moved && !m[i].had_old;
		free(m[i].target);
		free(m[i].staged);
		free(m[i].old);
	}
	if (!r || undone)
		fs_remove_tree(staging);
	else
		diag_add(dl, DIAG_WARNING, NULL, "pack", NULL, NULL, "not every move could be "
			 "undone; the previous versions are kept in %s", staging);
	free(m);
	free(staging);
	return r;
}
