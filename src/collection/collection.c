#include "../base/compat.h"
#include "collection.h"
#include "hash.h"
#include "../base/duration.h"
#include "../base/fsutil.h"
#include "../base/strbuf.h"
#include "../formats/toml_write.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <strings.h>
#include <unistd.h>

#define MANIFEST "collection.toml"
#define LOCKFILE "collection.lock"
#define CONFIG "config.toml"

char *skillmeat_home(void)
{
	const char *h = getenv("SKILLMEAT_HOME");
	if (h && *h)
		return xstrdup(h);
	h = getenv("HOME");
	if (!h || !*h) {
		struct passwd *pw = getpwuid(getuid());
		h = pw ? pw->pw_dir : "/";
	}
	return path_join(h, ".skillmeat");
}

bool artifact_name_ok(const char *name)
{
	return *name && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\') &&
	       !strstr(name, "..") && strlen(name) < 200;
}

int collection_active_name(const char *home, char **name, struct diag_list *dl)
{
	char *path = path_join(home, CONFIG);
	struct doc *d = NULL;
	int r = SM_OK;
	*name = NULL;
	if (fs_is_file(path)) {
		r = doc_load_file_as(path, DOC_TOML, NULL, &d, dl);
		const struct node *v = r ? NULL : node_map_get(node_map_get(d->root, "settings"),
							      "default-collection");
		if (v && (v->kind != NODE_STRING || !artifact_name_ok(v->text))) {
			diag_add(dl, DIAG_ERROR, &v->loc, "config", NULL, "settings.default-collection",
				 "must be a collection name (a string without '/' or '..')");
			r = SM_ERR;
		} else if (v) {
			*name = xstrdup(v->text);
		}
	}
	if (!r && !*name)
		*name = xstrdup("default");
	doc_free(d);
	free(path);
	return r;
}

static int load_optional(const char *path, struct doc **out, struct diag_list *dl)
{
	*out = NULL;
	return fs_is_file(path) ? doc_load_file_as(path, DOC_TOML, NULL, out, dl) : SM_OK;
}

/* collection.toml and collection.lock, (re)read. */
static int read_manifests(struct collection *c, struct diag_list *dl)
{
	char *manifest = path_join(c->root, MANIFEST);
	doc_free(c->manifest);
	doc_free(c->lock);
	c->manifest = c->lock = NULL;
	int r = doc_load_file_as(manifest, DOC_TOML, NULL, &c->manifest, dl);
	free(manifest);
	if (!r && (!c->manifest->root || c->manifest->root->kind != NODE_MAP)) {
		diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL,
			 "%s: the manifest is not a TOML table", c->manifest->file);
		r = SM_ERR;
	}
	if (!r) {
		char *lock = path_join(c->root, LOCKFILE);
		r = load_optional(lock, &c->lock, dl);
		free(lock);
	}
	return r;
}

int collection_lock(struct collection *c, struct diag_list *dl)
{
	if (c->lock_fd >= 0)
		return SM_OK;
	int fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		struct loc loc = { c->root, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "collection", NULL, NULL, "cannot lock: %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return SM_EIO;
	}
	c->lock_fd = fd;
	/* What was read before the lock may be stale: read it again. */
	int r = read_manifests(c, dl);
	if (r)
		collection_unlock(c);
	return r;
}

void collection_unlock(struct collection *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
}

int collection_reread(struct collection *c, struct diag_list *dl)
{
	arena_free(&c->arena);
	return read_manifests(c, dl);
}

int collection_open(const char *name, struct collection **out, struct diag_list *dl)
{
	struct collection *c = xcalloc(1, sizeof(*c));
	int r = SM_OK;
	*out = NULL;
	c->lock_fd = -1;
	c->home = skillmeat_home();
	if (name)
		c->name = xstrdup(name);
	else if ((r = collection_active_name(c->home, &c->name, dl)))
		goto fail;
	if (!artifact_name_ok(c->name)) {
		diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL,
			 "'%s' is not a valid collection name", c->name);
		r = SM_ERR;
		goto fail;
	}
	char *dir = path_join(c->home, "collections");
	c->root = path_join(dir, c->name);
	free(dir);
	char *manifest = path_join(c->root, MANIFEST);
	if (!fs_is_file(manifest)) {
		struct loc loc = { manifest, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "collection", NULL, NULL,
			 "no collection '%s' here; create it with 'skillmeat init%s%s'", c->name,
			 strcmp(c->name, "default") ? " --name " : "",
			 strcmp(c->name, "default") ? c->name : "");
		free(manifest);
		r = SM_ENOENT;
		goto fail;
	}
	free(manifest);
	r = read_manifests(c, dl);
	if (r)
		goto fail;
	*out = c;
	return SM_OK;
fail:
	collection_free(c);
	return r;
}

void collection_free(struct collection *c)
{
	if (!c)
		return;
	collection_unlock(c);
	doc_free(c->manifest);
	doc_free(c->lock);
	arena_free(&c->arena);
	free(c->home);
	free(c->name);
	free(c->root);
	free(c);
}

static int write_toml(const char *path, const struct node *root, struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	toml_write(&sb, root);
	int r = fs_write_atomic(path, sb.buf, sb.len);
	if (r) {
		struct loc loc = { path, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "collection", NULL, NULL, "cannot write: %s",
			 strerror(errno));
	}
	strbuf_release(&sb);
	return r;
}

int collection_init(const char *name, char **root_out, struct diag_list *dl)
{
	struct arena a = ARENA_INIT;
	char *home = skillmeat_home(), *dir = path_join(home, "collections");
	char *root = path_join(dir, name), *manifest = path_join(root, MANIFEST);
	char *lock = path_join(root, LOCKFILE), *config = path_join(home, CONFIG);
	char *now = iso_utc_now();
	static const char *const subdirs[] = { "agents", "skills", "commands", "workflows",
		"context" };
	int r = SM_OK;
	if (!artifact_name_ok(name)) {
		diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL,
			 "'%s' is not a valid collection name", name);
		r = SM_ERR;
		goto out;
	}
	for (size_t i = 0; !r && i < ARRAY_SIZE(subdirs); i++) {
		char *sub = path_join(root, subdirs[i]);
		if ((r = fs_mkdirs(sub)))
			diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL, "%s: %s", sub,
				 strerror(errno));
		free(sub);
	}
	if (!r && !fs_is_file(manifest)) {
		struct node *coll = node_new_map(&a, 4), *doc = node_new_map(&a, 2);
		node_map_add(&a, coll, "name", node_new_string(&a, name));
		node_map_add(&a, coll, "version", node_new_string(&a, "1.0.0"));
		node_map_add(&a, coll, "created", node_new_string(&a, now));
		node_map_add(&a, coll, "updated", node_new_string(&a, now));
		node_map_add(&a, doc, "collection", coll);
		node_map_add(&a, doc, "artifacts", node_new_seq(&a, 0));
		r = write_toml(manifest, doc, dl);
	}
	if (!r && !fs_is_file(lock)) {
		struct node *l = node_new_map(&a, 2), *doc = node_new_map(&a, 1);
		node_map_add(&a, l, "version", node_new_string(&a, "1.0.0"));
		node_map_add(&a, l, "entries", node_new_map(&a, 0));
		node_map_add(&a, doc, "lock", l);
		r = write_toml(lock, doc, dl);
	}
	if (!r && !fs_is_file(config)) {
		struct node *s = node_new_map(&a, 1), *doc = node_new_map(&a, 1);
		node_map_add(&a, s, "default-collection", node_new_string(&a, name));
		node_map_add(&a, doc, "settings", s);
		r = write_toml(config, doc, dl);
	}
out:
	if (root_out)
		*root_out = r ? NULL : xstrdup(root);
	free(home);
	free(dir);
	free(root);
	free(manifest);
	free(lock);
	free(config);
	free(now);
	arena_free(&a);
	return r;
}

/* ---- artifacts ----------------------------------------------------------- */

static const char *str_field(const struct node *m, const char *key)
{
	const struct node *v = node_map_get(m, key);
	return v && v->kind == NODE_STRING ? v->text : NULL;
}

size_t collection_entries(const struct collection *c, const char *type,
			  struct artifact_entry **out)
{
	const struct node *arts = node_map_get(c->manifest->root, "artifacts");
	size_t nr = 0;
	*out = NULL;
	if (!arts || arts->kind != NODE_SEQ)
		return 0;
	*out = xcalloc(arts->nr ? arts->nr : 1, sizeof(**out));
	for (size_t i = 0; i < arts->nr; i++) {
		const struct node *a = arts->items[i];
		struct artifact_entry e = { str_field(a, "name"), str_field(a, "type"),
					    str_field(a, "path"), a };
		if (!e.name || !e.type || !e.path || (type && strcmp(type, e.type)))
			continue;
		(*out)[nr++] = e;
	}
	return nr;
}

/* Upstream matches names with one trailing extension stripped on both sides. */
static size_t stem_len(const char *name)
{
	static const char *const exts[] = { ".md", ".txt", ".json", ".yaml", ".yml" };
	size_t n = strlen(name);
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t e = strlen(exts[i]);
		if (n > e && !strcmp(name + n - e, exts[i]))
			return n - e;
	}
	return n;
}

static bool same_stem(const char *a, const char *b)
{
	size_t la = stem_len(a), lb = stem_len(b);
	return la == lb && !strncmp(a, b, la);
}

/* A manifest path must stay inside the collection. */
static bool rel_path_ok(const char *rel)
{
	return *rel && rel[0] != '/' && !strstr(rel, "..");
}

static char *existing(char *path)
{
	if (fs_is_file(path) || fs_is_dir(path))
		return path;
	free(path);
	return NULL;
}

char *collection_artifact_rel(const char *type, const char *name)
{
	static const struct { const char *type, *fmt; } places[] = {
		{ "agent", "agents/%s.md" }, { "command", "commands/%s.md" },
		{ "ctx", "context/%s.md" }, { "skill", "skills/%s" }, { "workflow", "workflows/%s" },
		{ "hook", "hooks/%s" }, { "composite", "composites/%s" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(places); i++)
		if (!strcmp(places[i].type, type))
			return xasprintf(places[i].fmt, name);
	return NULL;
}

/* The conventional place when something is there (a skill: a folder with SKILL.md). */
static char *conventional_path(const struct collection *c, const char *type, const char *name)
{
	char *rel = collection_artifact_rel(type, name);
	if (!rel)
		return NULL;
	char *p = path_join(c->root, rel);
	free(rel);
	if (strcmp(type, "skill"))
		return existing(p);
	char *upper = path_join(p, "SKILL.md"), *lower = path_join(p, "skill.md");
	bool found = fs_is_file(upper) || fs_is_file(lower);
	free(upper);
	free(lower);
	if (!found) {
		free(p);
		p = NULL;
	}
	return p;
}

char *collection_resolve(const struct collection *c, const char *ref)
{
	const char *colon = strchr(ref, ':');
	if (!colon || colon == ref || !colon[1] || !artifact_name_ok(colon + 1))
		return NULL;
	char *type = xstrndup(ref, (size_t)(colon - ref));
	const char *name = colon + 1;
	char *found = NULL;
	if (!strcmp(type, "mcp")) {
		const struct node *servers = node_map_get(c->manifest->root, "mcp_servers");
		for (size_t i = 0; servers && servers->kind == NODE_SEQ && i < servers->nr; i++) {
			const char *n = str_field(servers->items[i], "name");
			if (n && !strcmp(n, name))
				found = xasprintf("%s#mcp_servers.%s", c->manifest->file, n);
		}
	} else {
		struct artifact_entry *e;
		size_t nr = collection_entries(c, type, &e);
		for (size_t i = 0; !found && i < nr; i++)
			if (same_stem(e[i].name, name) && rel_path_ok(e[i].path))
				found = existing(path_join(c->root, e[i].path));
		free(e);
		if (!found)
			found = conventional_path(c, type, name);
		/* A skill is its folder, even when its manifest entry names SKILL.md. */
		if (found && !strcmp(type, "skill") && !fs_is_dir(found)) {
			char *slash = strrchr(found, '/');
			if (!strcasecmp(slash + 1, "SKILL.md"))
				*slash = '\0';
		}
	}
	free(type);
	return found;
}

/* ---- workflows ----------------------------------------------------------- */

char *collection_workflow_file(const struct collection *c, const char *name)
{
	static const char *const files[] = { "WORKFLOW.yaml", "WORKFLOW.yml", "WORKFLOW.json",
		"WORKFLOW.toml", "workflow.yaml", "workflow.json" };
	char *dir = NULL;
	struct artifact_entry *e;
	size_t nr = collection_entries(c, "workflow", &e);
	for (size_t i = 0; !dir && i < nr; i++)
		if (!strcmp(e[i].name, name) && rel_path_ok(e[i].path))
			dir = path_join(c->root, e[i].path);
	free(e);
	if (!dir)
		return NULL;
	char *found = NULL;
	for (size_t i = 0; !found && i < ARRAY_SIZE(files); i++)
		found = existing(path_join(dir, files[i]));
	free(dir);
	return found;
}

static bool change_matches(const struct collection_change *ch, size_t nr, const char *type,
			   const char *name)
{
	for (size_t i = 0; i < nr; i++)
		if (type && name && !strcmp(ch[i].type, type) && !strcmp(ch[i].name, name))
			return true;
	return false;
}

/* The manifest with the entries named by `ch` removed, then the new ones appended. */
static struct node *manifest_with(struct collection *c, const struct collection_change *ch,
				  size_t nr)
{
	struct arena *a = &c->arena;
	const struct node *root = c->manifest->root;
	const struct node *arts = node_map_get(root, "artifacts");
	size_t old = arts && arts->kind == NODE_SEQ ? arts->nr : 0;
	struct node *seq = node_new_seq(a, old + nr);
	for (size_t i = 0; i < old; i++) {
		const struct node *it = arts->items[i];
		if (!change_matches(ch, nr, str_field(it, "type"), str_field(it, "name")))
			node_seq_add(seq, arts->items[i]);
	}
	for (size_t i = 0; i < nr; i++)
		if (ch[i].entry)
			node_seq_add(seq, ch[i].entry);
	char *now = iso_utc_now();
	struct node *out = node_map_copy(a, root, 2);
	const struct node *coll = node_map_get(root, "collection");
	if (coll && coll->kind == NODE_MAP) {
		struct node *cc = node_map_copy(a, coll, 1);
		node_map_set(a, cc, "updated", node_new_string(a, now));
		node_map_set(a, out, "collection", cc);
	}
	node_map_set(a, out, "artifacts", seq);
	free(now);
	return out;
}

struct node *collection_workflow_entry(struct collection *c, const char *name,
				       const struct workflow_meta *meta)
{
	struct arena *a = &c->arena;
	char *now = iso_utc_now(), *path = xasprintf("workflows/%s", name);
	struct node *e = node_new_map(a, 7), *md = node_new_map(a, 3);
	struct node *tags = node_new_seq(a, meta->nr_tags);
	node_map_add(a, e, "name", node_new_string(a, name));
	node_map_add(a, e, "type", node_new_string(a, "workflow"));
	node_map_add(a, e, "path", node_new_string(a, path));
	node_map_add(a, e, "origin", node_new_string(a, "local"));
	node_map_add(a, e, "added", node_new_string(a, now));
	for (size_t i = 0; i < meta->nr_tags; i++)
		node_seq_add(tags, node_new_string(a, meta->tags[i]));
	if (meta->nr_tags)
		node_map_add(a, e, "tags", tags);
	node_map_add(a, md, "title", node_new_string(a, meta->title));
	node_map_add(a, md, "version", node_new_string(a, meta->version));
	if (meta->description)
		node_map_add(a, md, "description", node_new_string(a, meta->description));
	node_map_add(a, e, "metadata", md);
	free(now);
	free(path);
	return e;
}

struct node *collection_artifact_entry(struct collection *c, const char *type, const char *name,
				       const char *path)
{
	struct arena *a = &c->arena;
	struct artifact_entry *e;
	size_t nr = collection_entries(c, type, &e);
	const struct node *old = NULL;
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(e[i].name, name))
			old = e[i].node;
	free(e);
	char *now = iso_utc_now();
	struct node *n;
	if (old && old->kind == NODE_MAP) { /* keep what the user had: tags, metadata, … */
		n = node_map_copy(a, old, 2);
		node_map_set(a, n, "path", node_new_string(a, path));
		node_map_set(a, n, "last_updated", node_new_string(a, now));
	} else {
		n = node_new_map(a, 5);
		node_map_add(a, n, "name", node_new_string(a, name));
		node_map_add(a, n, "type", node_new_string(a, type));
		node_map_add(a, n, "path", node_new_string(a, path));
		node_map_add(a, n, "origin", node_new_string(a, "local"));
		node_map_add(a, n, "added", node_new_string(a, now));
	}
	free(now);
	return n;
}

/* The lock with the entries "<name>::<type>" of `ch` set (or removed: hash NULL). */
static struct node *lock_with(struct collection *c, const struct collection_change *ch, size_t nr)
{
	struct arena *a = &c->arena;
	const struct node *root = c->lock ? c->lock->root : NULL;
	const struct node *lock = node_map_get(root, "lock");
	const struct node *entries = node_map_get(lock, "entries");
	size_t old = entries && entries->kind == NODE_MAP ? entries->nr : 0;
	struct node *ne = node_new_map(a, old + nr);
	char **keys = xcalloc(nr + 1, sizeof(*keys));
	for (size_t i = 0; i < nr; i++)
		keys[i] = xasprintf("%s::%s", ch[i].name, ch[i].type);
	for (size_t i = 0; i < old; i++) {
		bool changed = false;
		for (size_t k = 0; k < nr && !changed; k++)
			changed = !strcmp(entries->pairs[i].key->text, keys[k]);
		if (!changed)
			node_map_add(a, ne, entries->pairs[i].key->text, entries->pairs[i].value);
	}
	char *now = iso_utc_now();
	for (size_t i = 0; i < nr; i++) {
		if (!ch[i].hash)
			continue;
		struct node *ent = node_new_map(a, 2);
		node_map_add(a, ent, "content_hash", node_new_string(a, ch[i].hash));
		node_map_add(a, ent, "fetched", node_new_string(a, now));
		node_map_add(a, ne, keys[i], ent);
	}
	free(now);
	for (size_t i = 0; i < nr; i++)
		free(keys[i]);
	free(keys);
	struct node *nl = lock && lock->kind == NODE_MAP ? node_map_copy(a, lock, 2) : node_new_map(a, 2);
	if (!node_map_get(nl, "version"))
		node_map_add(a, nl, "version", node_new_string(a, "1.0.0"));
	node_map_set(a, nl, "entries", ne);
	struct node *out = root && root->kind == NODE_MAP ? node_map_copy(a, root, 1)
							   : node_new_map(a, 1);
	node_map_set(a, out, "lock", nl);
	return out;
}

int collection_apply(struct collection *c, const struct collection_change *ch, size_t nr,
		     struct diag_list *dl)
{
	char *manifest = path_join(c->root, MANIFEST), *lock = path_join(c->root, LOCKFILE);
	int r = write_toml(manifest, manifest_with(c, ch, nr), dl);
	if (!r)
		r = write_toml(lock, lock_with(c, ch, nr), dl);
	free(manifest);
	free(lock);
	return r;
}

static int io_error(struct diag_list *dl, const char *path, const char *what)
{
	struct loc loc = { path, 0, 0 };
	diag_add(dl, DIAG_ERROR, &loc, "collection", NULL, NULL, "cannot %s: %s", what,
		 strerror(errno));
	return SM_EIO;
}

/* Put the new directory in place; an old one is moved aside, then removed. */
static int swap_in(const char *tmp, const char *dir, struct diag_list *dl)
{
	char *old = xasprintf("%s.old-%ld", dir, (long)getpid());
	int r = SM_OK;
	bool had = fs_is_dir(dir);
	if (had && rename(dir, old))
		r = io_error(dl, dir, "move the old workflow aside");
	else if (rename(tmp, dir))
		r = io_error(dl, dir, "move the new workflow into place");
	if (had && !r)
		fs_remove_tree(old);
	free(old);
	return r;
}

static int copy_into(const char *src, const char *tmpdir, const char *file, struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file(&sb, src, 16u << 20);
	if (r)
		r = io_error(dl, src, "read");
	else if (fs_remove_tree(tmpdir) || fs_mkdirs(tmpdir))
		r = io_error(dl, tmpdir, "create");
	else {
		char *dst = path_join(tmpdir, file);
		if (fs_write_atomic(dst, sb.buf, sb.len))
			r = io_error(dl, dst, "write");
		free(dst);
	}
	strbuf_release(&sb);
	return r;
}

int collection_add_workflow(struct collection *c, const char *src,
			    const struct workflow_meta *meta, const struct workflow_add_opts *opts,
			    char **stored_path, struct diag_list *dl)
{
	const char *name = opts->name ? opts->name : meta->id;
	int fmt = doc_format_from_name(src);
	const char *ext = fmt == DOC_JSON ? "json" : fmt == DOC_TOML ? "toml" : "yaml";
	char *file = xasprintf("WORKFLOW.%s", ext);
	char *wdir = path_join(c->root, "workflows"), *dir = path_join(wdir, name);
	char *tmp = xasprintf("%s/.%s.tmp-%ld", wdir, name, (long)getpid());
	char hash[65];
	int r = SM_OK;
	bool locked_here = c->lock_fd < 0;
	*stored_path = NULL;
	if (!artifact_name_ok(name)) {
		diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL, "'%s' cannot be used as a "
			 "workflow name in a collection (no '/', '..' or leading '.')", name);
		r = SM_ERR;
		goto out;
	}
	if ((r = collection_lock(c, dl)))
		goto out;
	char *existing_file = collection_workflow_file(c, name);
	bool exists = existing_file || fs_is_dir(dir);
	free(existing_file);
	if (exists && !opts->force) {
		diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL, "workflow '%s' already "
			 "exists in collection '%s'; use --force to replace it", name, c->name);
		r = SM_ERR;
		goto out;
	}
	if ((r = copy_into(src, tmp, file, dl)) || (r = swap_in(tmp, dir, dl)))
		goto out;
	if (content_hash(dir, hash)) {
		r = io_error(dl, dir, "hash");
		goto out;
	}
	struct collection_change ch = { "workflow", name, collection_workflow_entry(c, name, meta),
					hash };
	r = collection_apply(c, &ch, 1, dl);
	if (!r)
		*stored_path = path_join(dir, file);
out:
	if (locked_here)
		collection_unlock(c);
	fs_remove_tree(tmp);
	free(file);
	free(wdir);
	free(dir);
	free(tmp);
	return r;
}

int collection_remove_workflow(struct collection *c, const char *name, struct diag_list *dl)
{
	struct artifact_entry *e = NULL;
	bool locked_here = c->lock_fd < 0;
	if (collection_lock(c, dl))
		return SM_EIO;
	size_t nr = collection_entries(c, "workflow", &e);
	const char *rel = NULL;
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(e[i].name, name))
			rel = e[i].path;
	int r = SM_OK;
	if (!rel) {
		diag_add(dl, DIAG_ERROR, NULL, "collection", NULL, NULL,
			 "no workflow '%s' in collection '%s'", name, c->name);
		r = SM_ENOENT;
		goto out;
	}
	char *dir = path_join(c->root, rel);
	/* The manifest first: a crash after it leaves a stray directory, not a
	 * manifest entry pointing at nothing. */
	struct collection_change ch = { "workflow", name, NULL, NULL };
	r = collection_apply(c, &ch, 1, dl);
	if (!r && rel_path_ok(rel) && fs_remove_tree(dir))
		r = io_error(dl, dir, "remove");
	free(dir);
out:
	if (locked_here)
		collection_unlock(c);
	free(e);
	return r;
}

int collection_open_optional(struct collection **c, struct diag_list *dl)
{
	struct diag_list tmp = DIAG_LIST_INIT;
	int r = collection_open(NULL, c, &tmp);
	if (r && r != SM_ENOENT) {
		for (size_t i = 0; i < tmp.nr; i++) {
			const struct diag *d = &tmp.items[i];
			struct loc loc = { d->file, d->line, d->col };
			diag_add(dl, d->severity, &loc, d->category, d->stage_id, d->field, "%s",
				 d->message);
		}
	}
	diag_list_release(&tmp);
	return r == SM_ENOENT ? SM_OK : r;
}
