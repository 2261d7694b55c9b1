/*
 * pack_commit.c - the all-or-nothing half of pack_install: stage every
 * file, move each artifact into place (keeping the old one aside), write
 * the manifest and lock, and undo every move if anything fails.
 */
#include "../base/compat.h"
#include "share.h"
#include "pack_int.h"
#include "journal.h"
#include "../base/fsutil.h"
#include "../swdl/workflow.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGING_PREFIX ".pack-install-"

/* What an install rewrites besides the artifacts; kept in staging until done. */
static const char *const manifests[] = { "collection.toml", "collection.lock" };

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
	if (pack_type_installs_as_file(a->type))
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

static bool exists(const char *path)
{
	struct stat st;
	return !lstat(path, &st);
}

/* Keep collection.toml and collection.lock as they were (or that one was absent). */
static int save_manifests(const char *root, const char *staging, struct diag_list *dl)
{
	for (size_t i = 0; i < ARRAY_SIZE(manifests); i++) {
		char *src = path_join(root, manifests[i]);
		char *dst = xasprintf("%s/%s.%s", staging, manifests[i], exists(src) ? "old" : "absent");
		struct strbuf sb = STRBUF_INIT;
		int r = exists(src) && strbuf_read_file(&sb, src, 64u << 20) ? SM_EIO
			: fs_write_atomic(dst, sb.buf ? sb.buf : "", sb.len);
		strbuf_release(&sb);
		if (r)
			io_fail(dl, src, "keep a copy of");
		free(src);
		free(dst);
		if (r)
			return r;
	}
	return SM_OK;
}

static bool is_link(const char *path)
{
	struct stat st;
	return !lstat(path, &st) && S_ISLNK(st.st_mode);
}

/* Undo one move: the target goes to undo-<i> if it was moved in, old-<i> back. */
static bool undo_move(const char *root, const char *staging, const struct journal_move *m)
{
	char *target = path_join(root, m->rel);
	char *staged = xasprintf("%s/%zu", staging, m->index);
	char *old = xasprintf("%s/old-%zu", staging, m->index);
	char *undone = xasprintf("%s/undo-%zu", staging, m->index);
	bool ok = journal_target_ok(root, m->rel) && !is_link(old);
	if (ok && !exists(staged) && exists(target) && rename(target, undone))
		ok = false;
	if (ok && exists(old) && rename(old, target))
		ok = false;
	free(target);
	free(staged);
	free(old);
	free(undone);
	return ok;
}

/*
 * Undo what the journal of `staging` says was begun, from what is on disk:
 * a staged item that is gone was moved into place, an old-<i> still there
 * was moved aside.  Then the manifest and lock go back.  Returns
 * ROLLBACK_PARTIAL if something could not be moved back (it is then left
 * in `staging`), ROLLBACK_UNTRUSTED (and *why) if the journal does not
 * verify: then nothing is touched.
 */
enum rollback { ROLLBACK_DONE, ROLLBACK_PARTIAL, ROLLBACK_UNTRUSTED };

static enum rollback rollback(const char *home, const char *root, const char *staging,
			      const char **why)
{
	struct journal j;
	bool ok = true;
	if (journal_read(home, staging, &j, why))
		return ROLLBACK_UNTRUSTED;
	for (size_t k = j.nr; k-- > 0;)
		ok &= undo_move(root, staging, &j.moves[k]);
	for (size_t i = 0; j.nr && i < ARRAY_SIZE(manifests); i++) {
		char *live = path_join(root, manifests[i]);
		char *old = xasprintf("%s/%s.old", staging, manifests[i]);
		char *absent = xasprintf("%s/%s.absent", staging, manifests[i]);
		if (is_link(old) || is_link(live))
			ok = false;
		else if (exists(old) ? rename(old, live) != 0
				     : exists(absent) && exists(live) && unlink(live))
			ok = false;
		free(live);
		free(old);
		free(absent);
	}
	journal_release(&j);
	return ok ? ROLLBACK_DONE : ROLLBACK_PARTIAL;
}

/* The journal: which staged item goes where, written before any move. */
static int write_journal(const char *home, const struct pack_plan *plan, const char *staging,
			 struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < plan->nr; i++)
		if (pack_action_installs(&plan->v[i]))
			journal_add_move(&sb, i, plan->v[i].rel);
	int r = journal_write(home, staging, &sb);
	if (r)
		io_fail(dl, staging, "write the journal in");
	strbuf_release(&sb);
	return r;
}

/* Tests crash the install after N moves (SKILLMEAT_FAULT_PACK_COMMIT=N),
 * or once it has committed (=committed). */
static void fault_point(size_t moves)
{
	const char *n = getenv("SKILLMEAT_FAULT_PACK_COMMIT");
	if (n && *n && (moves == SIZE_MAX ? !strcmp(n, "committed")
				    : isdigit((unsigned char)*n) && strtoul(n, NULL, 10) == moves))
		_exit(99);
}

static int move_all(const struct collection *c, const struct pack_plan *plan,
		    const char *staging, struct diag_list *dl)
{
	size_t moves = 0;
	for (size_t i = 0; i < plan->nr; i++) {
		if (!pack_action_installs(&plan->v[i]))
			continue;
		fault_point(moves++);
		char *target = path_join(c->root, plan->v[i].rel);
		char *staged = xasprintf("%s/%zu", staging, i);
		char *old = xasprintf("%s/old-%zu", staging, i);
		char *parent = xstrdup(target);
		*strrchr(parent, '/') = '\0';
		int r = SM_OK;
		if (!journal_target_ok(c->root, plan->v[i].rel)) {
			errno = ELOOP;
			r = io_fail(dl, target, "install through a symlinked folder");
		} else if (fs_mkdirs(parent))
			r = io_fail(dl, parent, "create");
		else if (exists(target) && rename(target, old))
			r = io_fail(dl, target, "move the old version aside");
		else if (rename(staged, target))
			r = io_fail(dl, target, "move into place");
		free(parent);
		free(target);
		free(staged);
		free(old);
		if (r)
			return r;
	}
	fault_point(moves); /* everything moved, the manifest not yet written */
	return SM_OK;
}

static int commit(struct collection *c, const struct pack_plan *plan, const char *staging,
		  struct diag_list *dl)
{
	int r = SM_OK;
	for (size_t i = 0; !r && i < plan->nr; i++) {
		if (!pack_action_installs(&plan->v[i]))
			continue;
		char *staged = xasprintf("%s/%zu", staging, i);
		r = stage(&plan->v[i], staged, dl);
		free(staged);
	}
	if (!r)
		r = save_manifests(c->root, staging, dl);
	if (!r)
		r = write_journal(c->home, plan, staging, dl);
	if (!r)
		r = move_all(c, plan, staging, dl);
	if (!r) {
		char (*hashes)[65] = xcalloc(plan->nr ? plan->nr : 1, sizeof(*hashes));
		size_t nr;
		struct collection_change *ch = changes_of(c, plan, hashes, &nr);
		r = collection_apply(c, ch, nr, dl);
		free(ch);
		free(hashes);
	}
	if (!r) { /* from here on, recovery finishes the install instead of undoing it */
		char *done = path_join(staging, "committed");
		if (fs_write_atomic(done, "", 0))
			r = io_fail(dl, done, "write");
		free(done);
		fault_point(SIZE_MAX); /* committed, the staging folder not yet removed */
	}
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
	/* An empty journal first: recovery only touches a folder whose
	 * journal this home's key signed. */
	struct strbuf none = STRBUF_INIT;
	int r = journal_write(c->home, staging, &none);
	if (r)
		io_fail(dl, staging, "write the journal in");
	else
		r = commit(c, plan, staging, dl);
	const char *why;
	/* Our own folder: a journal we could not write means nothing was moved. */
	if (!r || rollback(c->home, c->root, staging, &why) != ROLLBACK_PARTIAL)
		fs_remove_tree(staging);
	else
		diag_add(dl, DIAG_WARNING, NULL, "pack", NULL, NULL, "not every move could be "
			 "undone; the previous versions are kept in %s", staging);
	free(staging);
	return r;
}

/* One staging folder found by pack_recover: finish, undo, or leave it. */
static void recover_one(const struct collection *c, const char *name, bool dry_run,
			size_t *recovered, struct diag_list *dl)
{
	char *staging = path_join(c->root, name);
	char *done = path_join(staging, "committed");
	struct journal j;
	const char *why = NULL;
	struct stat st;
	if (lstat(staging, &st) || !S_ISDIR(st.st_mode))
		why = "it is not a folder";
	else if (!journal_read(c->home, staging, &j, &why))
		journal_release(&j);
	bool finished = !why && exists(done) && !is_link(done);
	if (why)
		diag_add(dl, DIAG_WARNING, NULL, "pack", NULL, NULL, "%s looks like an interrupted "
			 "pack install but was left alone: %s", staging, why);
	else if (dry_run)
		diag_add(dl, DIAG_WARNING, NULL, "pack", NULL, NULL, "an interrupted pack install "
			 "(%s) would be %s first", name, finished ? "finished" : "rolled back");
	else if (finished || rollback(c->home, c->root, staging, &why) == ROLLBACK_DONE) {
		fs_remove_tree(staging);
		diag_add(dl, DIAG_WARNING, NULL, "pack", NULL, NULL, "an interrupted pack "
			 "install was %s (%s)", finished ? "finished" : "rolled back", name);
		(*recovered)++;
	} else {
		diag_add(dl, DIAG_WARNING, NULL, "pack", NULL, NULL, "an interrupted pack "
			 "install could not be fully rolled back; see %s", staging);
	}
	free(done);
	free(staging);
}

int pack_recover(const struct collection *c, bool dry_run, size_t *recovered,
		 struct diag_list *dl)
{
	DIR *d = opendir(c->root);
	struct dirent *e;
	*recovered = 0;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, STAGING_PREFIX, strlen(STAGING_PREFIX)))
			recover_one(c, e->d_name, dry_run, recovered, dl);
	if (d)
		closedir(d);
	return SM_OK;
}
