/*
 * pack_verify.c - check a pack's manifest and tie every archive entry to
 * it: each file listed is present and matches its hash, each entry is
 * listed, each artifact and the bundle hash recompute.  A pack that
 * passes holds exactly what its manifest (and so its signature) says.
 */
#include "../base/compat.h"
#include "pack.h"
#include "pack_int.h"
#include "../collection/collection.h"

static bool is_sha256(const char *s)
{
	if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return false;
	for (const char *c = s + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* Reals have no single text (Python and C print them differently). */
static bool has_real(const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	switch (json_typeof(j)) {
	case JSON_REAL: return true;
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, k, v)
			if (has_real(v))
				return true;
		return false;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (has_real(v))
				return true;
		return false;
	default: return false;
	}
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The top-level fields (upstream's ManifestValidator, plus ours). */
static int check_top(struct pack *p, struct diag_list *dl)
{
	const json_t *m = p->manifest;
	size_t errors = dl->errors;
	const char *v = str_of(m, "version"), *name = str_of(m, "name");
	if (!v || strcmp(v, "1.0"))
		pack_error(dl, p, "version", "the manifest format must be \"1.0\"");
	if (!name || !*name || strlen(name) > 100 || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(name))
		pack_error(dl, p, "name", "must be 1 to 100 letters, digits, '_' or '-'");
	static const char *const strings[] = { "description", "author", "created_at", "license" };
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		const json_t *s = json_object_get(m, strings[i]);
		if (s && !json_is_string(s))
			pack_error(dl, p, strings[i], "must be a string");
	}
	if (!is_sha256(str_of(m, "bundle_hash")))
		pack_error(dl, p, "bundle_hash", "must be \"sha256:\" and 64 lower-case hex digits");
	const json_t *sig = json_object_get(m, "signature");
	if (sig && !json_is_object(sig))
		pack_error(dl, p, "signature", "must be an object");
	if (has_real(m))
		pack_error(dl, p, NULL, "the manifest holds a fractional number; packs allow "
			   "only strings, integers, booleans, lists and objects");
	const json_t *arts = json_object_get(m, "artifacts");
	if (!json_is_array(arts) || !json_array_size(arts))
		pack_error(dl, p, "artifacts", "must be a non-empty list");
	return dl->errors > errors ? SM_ERR : SM_OK;
}

/* One artifact entry's fields; fills `a` (pointers into the manifest). */
static int check_artifact(struct pack *p, size_t i, struct pack_artifact *a, struct diag_list *dl)
{
	const json_t *j = json_array_get(json_object_get(p->manifest, "artifacts"), i);
	char f[96];
	size_t errors = dl->errors;
	snprintf(f, sizeof(f), "artifacts[%zu]", i);
	if (!json_is_object(j)) {
		pack_error(dl, p, f, "must be an object");
		return SM_ERR;
	}
	a->json = (json_t *)j;
	a->type = str_of(j, "type");
	a->name = str_of(j, "name");
	a->dir = str_of(j, "path");
	a->hash = str_of(j, "hash");
	if (!a->type || !pack_type_known(a->type))
		pack_error(dl, p, f, "type must be one of agent, skill, command, ctx, workflow, "
			   "hook, composite");
	if (!a->name || !artifact_name_ok(a->name) || has_control(a->name))
		pack_error(dl, p, f, "name must be an artifact name (no '/', '\\', '..', not "
			   "starting with '.')");
	if (!is_sha256(a->hash))
		pack_error(dl, p, f, "hash must be \"sha256:\" and 64 lower-case hex digits");
	if (dl->errors > errors)
		return SM_ERR;
	char *want = xasprintf("artifacts/%s/%s/", a->type, a->name);
	/* upstream writes the trailing '/'; accept it either way */
	if (!a->dir || (strcmp(a->dir, want) && (strlen(a->dir) != strlen(want) - 1 ||
						 strncmp(a->dir, want, strlen(a->dir)))))
		pack_error(dl, p, f, "path must be \"%s\"", want);
	free(want);
	return dl->errors > errors ? SM_ERR : SM_OK;
}

/* The files list, the per-file hashes, and the entries they name. */
static int link_files(struct pack *p, size_t i, struct pack_artifact *a, struct diag_list *dl)
{
	const json_t *files = json_object_get(a->json, "files");
	const json_t *fh = json_object_get(a->json, "file_hashes");
	size_t n = json_array_size(files), errors = dl->errors;
	char f[96];
	snprintf(f, sizeof(f), "artifacts[%zu].files", i);
	if (!json_is_array(files) || !n) {
		pack_error(dl, p, f, "must be a non-empty list of file names");
		return SM_ERR;
	}
	if (n > 1 && pack_type_installs_as_file(a->type)) {
		pack_error(dl, p, f, "a %s is one file; %zu are listed", a->type, n);
		return SM_ERR;
	}
	if (fh && (!json_is_object(fh) || json_object_size(fh) != n))
		pack_error(dl, p, f, "file_hashes must have one hash per file");
	a->files = xcalloc(n, sizeof(*a->files));
	a->data = xcalloc(n, sizeof(*a->data));
	size_t dlen = strlen(a->dir) - (a->dir[strlen(a->dir) - 1] == '/');
	for (size_t k = 0; k < n && dl->errors == errors; k++) {
		const char *name = json_string_value(json_array_get(files, k)), *why;
		snprintf(f, sizeof(f), "artifacts[%zu].files[%zu]", i, k);
		if (!name || !pack_path_safe(name, &why)) {
			pack_error(dl, p, f, "%s", name ? why : "must be a string");
			break;
		}
		char *path = xasprintf("%.*s/%s", (int)dlen, a->dir, name);
		struct pack_file *e = pack_find(p, path);
		if (!e)
			pack_error(dl, p, f, "'%s' is listed but not in the archive", path);
		if (e && e->listed)
			pack_error(dl, p, f, "'%s' is listed twice", name);
		if (e)
			e->listed = true;
		const char *want = fh ? str_of(fh, name) : NULL;
		char got[72];
		if (e && fh && !is_sha256(want))
			pack_error(dl, p, f, "file_hashes has no sha256 for '%s'", name);
		else if (e && want && (pack_sha256(e->data, e->len, got), strcmp(got, want)))
			pack_error(dl, p, f, "'%s' does not match its hash: the pack was altered "
				   "after it was built", path);
		free(path);
		a->files[k] = name;
		a->data[k] = e;
		a->nr_files = k + 1;
	}
	return dl->errors > errors ? SM_ERR : SM_OK;
}

static int check_hashes(struct pack *p, struct diag_list *dl)
{
	for (size_t i = 0; i < p->nr_arts; i++) {
		struct pack_artifact *a = &p->arts[i];
		char got[72], f[64];
		pack_artifact_hash(a->type, a->nr_files, a->files,
				   (const struct pack_file *const *)a->data, got);
		snprintf(f, sizeof(f), "artifacts[%zu].hash", i);
		if (strcmp(got, a->hash)) {
			pack_error(dl, p, f, "%s:%s does not match its hash: the pack was altered "
				   "after it was built", a->type, a->name);
			return SM_ERR;
		}
	}
	char bundle[72];
	pack_bundle_hash(p->manifest, bundle);
	if (strcmp(bundle, str_of(p->manifest, "bundle_hash"))) {
		pack_error(dl, p, "bundle_hash", "does not match the manifest: the pack was "
			   "altered after it was built");
		return SM_ERR;
	}
	return SM_OK;
}

/* Every entry but the manifest belongs to exactly one artifact. */
static int check_unlisted(struct pack *p, struct diag_list *dl)
{
	for (size_t e = 0; e < p->nr_entries; e++) {
		const struct pack_file *f = &p->entries[e];
		if (!f->listed && strcmp(f->path, PACK_MANIFEST)) {
			pack_error(dl, p, NULL, "entry '%s' is not listed in the manifest", f->path);
			return SM_ERR;
		}
	}
	return SM_OK;
}

static int check_unique(struct pack *p, struct diag_list *dl)
{
	for (size_t i = 0; i < p->nr_arts; i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(p->arts[i].type, p->arts[k].type) &&
			    !strcmp(p->arts[i].name, p->arts[k].name)) {
				char f[64];
				snprintf(f, sizeof(f), "artifacts[%zu]", i);
				pack_error(dl, p, f, "%s:%s is listed twice", p->arts[i].type,
					   p->arts[i].name);
				return SM_ERR;
			}
	return SM_OK;
}

static int parse_manifest(struct pack *p, struct diag_list *dl)
{
	const struct pack_file *mf = pack_find(p, PACK_MANIFEST);
	if (!mf) {
		pack_error(dl, p, NULL, "no manifest.json at the top of the archive: not a "
			   "SkillMeat pack");
		return SM_ERR;
	}
	json_error_t err;
	p->manifest = json_loadb((const char *)mf->data, mf->len, JSON_REJECT_DUPLICATES, &err);
	if (!p->manifest || !json_is_object(p->manifest)) {
		char *file = xasprintf("%s:manifest.json", p->source);
		struct loc loc = { file, p->manifest ? 1 : err.line, p->manifest ? 1 : err.column };
		diag_add(dl, DIAG_ERROR, &loc, "pack", NULL, NULL, "%s",
			 p->manifest ? "the manifest must be a JSON object" : err.text);
		free(file);
		return SM_ERR;
	}
	return SM_OK;
}

int pack_manifest_load(struct pack *p, struct diag_list *dl)
{
	if (parse_manifest(p, dl) || check_top(p, dl))
		return SM_ERR;
	const json_t *arts = json_object_get(p->manifest, "artifacts");
	p->nr_arts = json_array_size(arts);
	p->arts = xcalloc(p->nr_arts, sizeof(*p->arts));
	for (size_t i = 0; i < p->nr_arts; i++)
		if (check_artifact(p, i, &p->arts[i], dl) || link_files(p, i, &p->arts[i], dl))
			return SM_ERR;
	if (check_unique(p, dl) || check_unlisted(p, dl))
		return SM_ERR;
	return check_hashes(p, dl);
}
