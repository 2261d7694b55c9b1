/*
 * pack_build.c - a pack from workflows and everything they reference in a
 * collection: roles, tools, context modules, and the skills an agent's
 * front matter lists (upstream links those as "requires").
 */
#include "../base/compat.h"
#include "share.h"
#include "pack_int.h"
#include "../base/duration.h"
#include "../base/fsutil.h"
#include "../collection/refs.h"
#include "../swdl/workflow.h"


struct builder {
	const struct collection *c;
	struct pack *p;
	struct diag_list *dl;
	json_t *arts;
	char **refs;           /* every reference met, in order; bundled in that order */
	size_t nr_refs, alloc_refs;
	size_t total;
	char *first_name;      /* the first workflow's: the pack's default name */
};

/* Upstream's export leaves these out of a bundle. */
static bool excluded(const char *rel)
{
	static const char *const names[] = { "__pycache__", ".git", ".DS_Store", "node_modules",
		".env" };
	for (const char *s = rel; *s;) {
		size_t n = strcspn(s, "/");
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (strlen(names[i]) == n && !strncmp(s, names[i], n))
				return true;
		if ((n > 4 && !strncmp(s + n - 4, ".pyc", 4)) ||
		    (n > 5 && !strncmp(s + n - 5, ".lock", 5)))
			return true;
		s += n + (s[n] == '/');
	}
	return false;
}

static void enqueue(struct builder *b, const char *ref)
{
	for (size_t i = 0; i < b->nr_refs; i++)
		if (!strcmp(b->refs[i], ref))
			return;
	ALLOC_GROW(b->refs, b->nr_refs + 1, b->alloc_refs);
	b->refs[b->nr_refs++] = xstrdup(ref);
}

/* Read `path` into the pack as dir/rel, within the pack's size caps. */
static bool add_file(struct builder *b, const char *dir, const char *rel, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	const struct pack_limits *lim = &pack_default_limits;
	bool added = false;
	const char *why;
	int r = strbuf_read_file(&sb, path, lim->max_entry);
	struct loc loc = { path, 0, 0 };
	if (r)
		diag_add(b->dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot bundle: %s",
			 r == SM_ELIMIT ? "larger than the 32 MiB a pack allows per file"
			 : strerror(errno));
	else if (!pack_path_safe(rel, &why))
		diag_add(b->dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot bundle: %s", why);
	else if ((b->total += sb.len) > lim->max_total)
		diag_add(b->dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot bundle: the files "
			 "add up to more than %zu MiB", lim->max_total >> 20);
	else {
		char *full = xasprintf("%s%s", dir, rel);
		pack_add_entry(b->p, full, sb.buf, sb.len);
		free(full);
		added = true;
	}
	strbuf_release(&sb);
	return added;
}

/* The manifest entry of one artifact whose `nr` files were the last ones
 * added to the pack, in the order of `files`. */
static void add_artifact(struct builder *b, const char *type, const char *name, const char *dir,
			 const char **files, size_t nr, const char *description)
{
	struct pack_file **data = xcalloc(nr ? nr : 1, sizeof(*data));
	json_t *jfiles = json_array(), *hashes = json_object();
	for (size_t i = 0; i < nr; i++) {
		char h[72];
		data[i] = &b->p->entries[b->p->nr_entries - nr + i];
		pack_sha256(data[i]->data, data[i]->len, h);
		json_array_append_new(jfiles, json_string(files[i]));
		json_object_set_new(hashes, files[i], json_string(h));
	}
	char hash[72];
	pack_artifact_hash(type, nr, files, (const struct pack_file *const *)data, hash);
	json_t *md = json_object();
	if (description)
		json_object_set_new(md, "description", json_string(description));
	json_array_append_new(b->arts, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:o}",
		"type", type, "name", name, "version", "unknown", "scope", "user", "path", dir,
		"files", jfiles, "file_hashes", hashes, "hash", hash, "metadata", md));
	free(data);
}

/* A file or directory artifact found at `path` in the collection. */
static int bundle_path(struct builder *b, const char *type, const char *name, const char *path)
{
	char *dir = xasprintf("artifacts/%s/%s/", type, name);
	size_t errors = b->dl->errors;
	char **names = NULL;
	size_t nr = 0;
	if (fs_is_dir(path)) {
		if (fs_list_files(path, &names, &nr)) {
			struct loc loc = { path, 0, 0 };
			diag_add(b->dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "cannot list: %s",
				 strerror(errno));
		}
		size_t kept = 0;
		for (size_t i = 0; i < nr; i++) {
			char *full = path_join(path, names[i]);
			if (!excluded(names[i]) && add_file(b, dir, names[i], full))
				names[kept++] = names[i];
			else
				free(names[i]);
			free(full);
		}
		nr = kept;
		if (!nr && b->dl->errors == errors) {
			struct loc loc = { path, 0, 0 };
			diag_add(b->dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "%s:%s has no files "
				 "to bundle", type, name);
		}
	} else {
		char *file = xasprintf("%s.md", name);
		names = xcalloc(1, sizeof(*names));
		if (add_file(b, dir, file, path))
			names[nr++] = file;
		else
			free(file);
	}
	if (b->dl->errors == errors)
		add_artifact(b, type, name, dir, (const char **)names, nr, NULL);
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	free(dir);
	return b->dl->errors > errors ? SM_ERR : SM_OK;
}

/* The skills an agent's front matter lists (a YAML list or "a, b"). */
static void agent_skills(struct builder *b, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct diag_list ignore = DIAG_LIST_INIT;
	struct doc *d = NULL;
	if (strbuf_read_file(&sb, path, 1u << 20) || strncmp(sb.buf, "---\n", 4))
		goto out;
	const char *end = strstr(sb.buf + 3, "\n---");
	if (!end || doc_load_buffer(path, sb.buf + 3, (size_t)(end - sb.buf) - 2, DOC_YAML, NULL,
				    &d, &ignore))
		goto out;
	const struct node *s = node_map_get(d->root, "skills");
	if (s && s->kind == NODE_SEQ) {
		for (size_t i = 0; i < s->nr; i++)
			if (s->items[i]->kind == NODE_STRING) {
				char *ref = xasprintf("skill:%s", s->items[i]->text);
				enqueue(b, ref);
				free(ref);
			}
	} else if (s && s->kind == NODE_STRING) {
		for (const char *p = s->text; *p;) {
			p += strspn(p, " ,");
			size_t n = strcspn(p, ",");
			while (n && p[n - 1] == ' ')
				n--;
			if (n) {
				char *ref = xasprintf("skill:%.*s", (int)n, p);
				enqueue(b, ref);
				free(ref);
			}
			p += n;
			p += strcspn(p, ",");
		}
	}
out:
	doc_free(d);
	diag_list_release(&ignore);
	strbuf_release(&sb);
}

static void bundle_ref(struct builder *b, const char *ref)
{
	const char *colon = strchr(ref, ':');
	char *type = xstrndup(ref, (size_t)(colon - ref));
	const char *name = colon + 1;
	char *path = collection_resolve(b->c, ref);
	struct loc loc = { b->c->root, 0, 0 };
	if (!strcmp(type, "mcp")) {
		diag_add(b->dl, DIAG_WARNING, &loc, "pack", NULL, NULL, "%s is not bundled: MCP "
			 "server entries hold credentials and local commands; the receiver "
			 "configures it", ref);
	} else if (!path || !pack_type_known(type)) {
		diag_add(b->dl, path ? DIAG_ERROR : DIAG_WARNING, &loc, "pack", NULL, NULL,
			 "%s %s", ref, path ? "cannot be bundled (unknown type)"
			 : "is listed by an agent but is not in the collection; not bundled");
	} else {
		if (!bundle_path(b, type, name, path) && !strcmp(type, "agent"))
			agent_skills(b, path);
	}
	free(path);
	free(type);
}

/*
 * What the workflow's roles bind to with no overrides file and no --bind:
 * their defaults, which a plan on the receiving machine will use, so they
 * travel in the pack.  A role without a default is left to the receiver.
 */
static int bundle_role_defaults(struct builder *b, const char *file)
{
	struct swdl_load_opts lo = { .bind_roles = true };
	struct swdl_loaded *l = NULL;
	struct diag_list quiet = DIAG_LIST_INIT;
	struct ref_table refs = { 0 };
	int r = SM_OK;
	if (!swdl_load_file(file, &lo, &l, &quiet) &&
	    collection_check_workflow(b->c, &l->wf, false, &refs, b->dl))
		r = SM_ERR; /* a default that is not in the collection: named in b->dl */
	for (size_t i = 0; !r && i < refs.nr; i++)
		enqueue(b, refs.refs[i]);
	ref_table_release(&refs);
	swdl_loaded_free(l);
	diag_list_release(&quiet);
	return r;
}

static int bundle_workflow(struct builder *b, const struct pack_build_input *in)
{
	struct swdl_load_opts lo = { 0 };
	struct swdl_loaded *l = NULL;
	struct ref_table refs = { 0 };
	int r = swdl_load_file(in->file, &lo, &l, b->dl);
	if (!r && collection_check_workflow(b->c, &l->wf, false, &refs, b->dl))
		r = SM_ERR;
	for (size_t i = 0; !r && i < refs.nr; i++)
		enqueue(b, refs.refs[i]);
	if (!r)
		r = bundle_role_defaults(b, in->file);
	const char *name = in->name ? in->name : l ? l->wf.id : NULL;
	if (!r && (!name || !artifact_name_ok(name))) {
		struct loc loc = { in->file, 0, 0 };
		diag_add(b->dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "'%s' cannot name a workflow "
			 "in a pack (no '/', '..' or leading '.')", name ? name : "");
		r = SM_ERR;
	}
	if (!r) {
		const char *ext = strrchr(in->file, '.');
		char *file = xasprintf("WORKFLOW%s", ext ? ext : ".yaml");
		char *dir = xasprintf("artifacts/workflow/%s/", name);
		const char *files[1] = { file };
		if (add_file(b, dir, file, in->file))
			add_artifact(b, "workflow", name, dir, files, 1, l->wf.description);
		if (!b->first_name)
			b->first_name = xstrdup(name);
		else
			r = SM_ERR;
		free(file);
		free(dir);
	}
	ref_table_release(&refs);
	swdl_loaded_free(l);
	return r;
}

/* Now, or SOURCE_DATE_EPOCH when set, so that a build can be reproduced. */
static char *build_time(void)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	char *end;
	if (epoch && *epoch) {
		long long t = strtoll(epoch, &end, 10);
		if (!*end && t >= 0)
			return iso_utc((time_t)t, 0);
	}
	return iso_utc_now();
}

static int cmp_artifact(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	int c = strcmp(json_string_value(json_object_get(a, "type")),
		       json_string_value(json_object_get(b, "type")));
	return c ? c : strcmp(json_string_value(json_object_get(a, "name")),
			      json_string_value(json_object_get(b, "name")));
}

/* The top of the manifest, artifacts sorted by type and name, and its hash. */
static void finish_manifest(struct builder *b, const struct pack_build_opts *o)
{
	size_t n = json_array_size(b->arts);
	json_t **v = xcalloc(n ? n : 1, sizeof(*v)), *sorted = json_array(), *tags = json_array();
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(b->arts, i);
	qsort(v, n, sizeof(*v), cmp_artifact);
	for (size_t i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	for (size_t i = 0; i < o->nr_tags; i++)
		json_array_append_new(tags, json_string(o->tags[i]));
	char *now = build_time(), hash[72];
	b->p->manifest = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:[], s:o}",
		"version", "1.0", "name", o->name ? o->name : b->first_name,
		"description", o->description ? o->description : "",
		"author", o->author ? o->author : "", "created_at", now,
		"license", o->license ? o->license : "MIT", "tags", tags, "dependencies",
		"artifacts", sorted);
	pack_bundle_hash(b->p->manifest, hash);
	json_object_set_new(b->p->manifest, "bundle_hash", json_string(hash));
	free(now);
	free(v);
}

int pack_build(const struct collection *c, const struct pack_build_input *in, size_t nr,
	       const struct pack_build_opts *o, struct pack **out, struct diag_list *dl)
{
	struct builder b = { .c = c, .p = xcalloc(1, sizeof(struct pack)), .dl = dl,
			     .arts = json_array() };
	size_t errors = dl->errors;
	b.p->source = xstrdup(o->name ? o->name : "the new pack");
	*out = NULL;
	for (size_t i = 0; i < nr; i++)
		bundle_workflow(&b, &in[i]);
	for (size_t i = 0; i < b.nr_refs; i++) /* bundling an agent may add its skills */
		bundle_ref(&b, b.refs[i]);
	if (dl->errors == errors) {
		/* The manifest goes in as text and is read back the way a reader
		 * would, which links every artifact to its entries and checks it. */
		finish_manifest(&b, o);
		struct strbuf text = STRBUF_INIT;
		pack_json_dump(&text, b.p->manifest, 2, false);
		strbuf_addch(&text, '\n');
		json_decref(b.p->manifest);
		b.p->manifest = NULL;
		pack_add_entry(b.p, PACK_MANIFEST, text.buf, text.len);
		strbuf_release(&text);
		pack_sort_entries(b.p);
		if (!pack_manifest_load(b.p, dl))
			*out = b.p;
	}
	json_decref(b.arts);
	for (size_t i = 0; i < b.nr_refs; i++)
		free(b.refs[i]);
	free(b.refs);
	free(b.first_name);
	if (!*out)
		pack_free(b.p);
	return *out ? SM_OK : SM_ERR;
}
