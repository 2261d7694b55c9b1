/*
 * artifact_capture.c - what a run's snapshot keeps of each artifact its
 * stages bind, so that every attempt (here, after a resume, or in a pod)
 * is given exactly the same thing: an agent's or context module's text, a
 * skill's whole folder (every file, text or base64, with its executable
 * bit), an MCP server's launch definition from the collection manifest.
 */
#include "../base/compat.h"
#include "artifact_capture.h"
#include "../base/fsutil.h"
#include "../base/strbuf.h"
#include "../formats/load.h"

#include <sodium.h>
#include <sys/stat.h>

/* A skill's folder: at most this many files and bytes (a skill is prompts and scripts). */
#define MAX_SKILL_FILES 256
#define MAX_SKILL_BYTES ((size_t)8 << 20)

static json_t *file_json(const char *path, size_t *total, char **err)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	json_t *f = NULL;
	size_t room = MAX_SKILL_BYTES > *total ? MAX_SKILL_BYTES - *total : 0;
	int r = strbuf_read_file(&sb, path, room);
	if (r || stat(path, &st)) {
		*err = xasprintf("%s: %s", path, r == SM_ELIMIT ? "the skill is over 8 MiB"
				 : strerror(errno));
		goto out;
	}
	*total += sb.len;
	size_t bad;
	if (text_check_utf8(sb.buf, sb.len, &bad) && !memchr(sb.buf, '\0', sb.len)) {
		f = json_pack("{s:s%}", "text", sb.buf, sb.len);
	} else {
		size_t cap = sodium_base64_ENCODED_LEN(sb.len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = xmalloc(cap);
		sodium_bin2base64(b64, cap, (const unsigned char *)sb.buf, sb.len,
				  sodium_base64_VARIANT_ORIGINAL);
		f = json_pack("{s:s}", "base64", b64);
		free(b64);
	}
	if (st.st_mode & 0111)
		json_object_set_new(f, "executable", json_true());
out:
	strbuf_release(&sb);
	return f;
}

static json_t *skill_files(const char *dir, char **err)
{
	char **names = NULL;
	size_t nr = 0, total = 0;
	json_t *files = json_object();
	if (fs_list_files(dir, &names, &nr)) {
		*err = xasprintf("%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (nr > MAX_SKILL_FILES) {
		*err = xasprintf("%s: a skill of %zu files (at most %d are delivered)", dir, nr,
				 MAX_SKILL_FILES);
		goto fail;
	}
	for (size_t i = 0; i < nr; i++) {
		char *path = path_join(dir, names[i]);
		json_t *f = file_json(path, &total, err);
		free(path);
		if (!f)
			goto fail;
		json_object_set_new(files, names[i], f);
	}
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	return files;
fail:
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	json_decref(files);
	return NULL;
}

/* A [[mcp_servers]] entry as the MCP configuration every CLI takes (or why it cannot be). */
json_t *mcp_server_json(const struct node *entry)
{
	json_t *s = json_object();
	const struct node *cmd = node_map_get(entry, "command"), *args = node_map_get(entry, "args");
	const struct node *url = node_map_get(entry, "url"), *type = node_map_get(entry, "type");
	const struct node *env = node_map_get(entry, "env");
	if (!env)
		env = node_map_get(entry, "env_vars"); /* upstream's name */
	if (cmd && cmd->kind == NODE_STRING)
		json_object_set_new(s, "command", json_string(cmd->text));
	if (args && args->kind == NODE_SEQ) {
		json_t *a = json_array();
		for (size_t i = 0; i < args->nr; i++)
			if (args->items[i]->kind == NODE_STRING)
				json_array_append_new(a, json_string(args->items[i]->text));
		json_object_set_new(s, "args", a);
	}
	if (url && url->kind == NODE_STRING) {
		json_object_set_new(s, "type", json_string(type && type->kind == NODE_STRING
							   ? type->text : "http"));
		json_object_set_new(s, "url", json_string(url->text));
	}
	for (size_t i = 0; env && env->kind == NODE_MAP && i < env->nr; i++) {
		if (env->pairs[i].value->kind != NODE_STRING)
			continue;
		if (!json_object_get(s, "env"))
			json_object_set_new(s, "env", json_object());
		json_object_set_new(json_object_get(s, "env"), env->pairs[i].key->text,
				    json_string(env->pairs[i].value->text));
	}
	return s;
}

/* "…/collection.toml#mcp_servers.NAME": that entry of the manifest. */
static json_t *mcp_capture(const char *ref, const char *path, char **err)
{
	const char *hash = strstr(path, "#mcp_servers.");
	char *file = xstrndup(path, (size_t)(hash - path));
	const char *name = hash + strlen("#mcp_servers.");
	struct load_limits lim = LOAD_LIMITS_DEFAULT;
	struct diag_list dl = { 0 };
	struct doc *d = NULL;
	json_t *out = NULL;
	if (doc_load_file_as(file, DOC_TOML, &lim, &d, &dl)) {
		*err = xasprintf("%s (%s): cannot be read again", ref, file);
		goto done;
	}
	const struct node *servers = node_map_get(d->root, "mcp_servers");
	for (size_t i = 0; servers && servers->kind == NODE_SEQ && i < servers->nr; i++) {
		const struct node *n = node_map_get(servers->items[i], "name");
		if (n && n->kind == NODE_STRING && !strcmp(n->text, name))
			out = json_pack("{s:s, s:o}", "path", path, "server",
					mcp_server_json(servers->items[i]));
	}
	if (!out)
		*err = xasprintf("%s: no longer in %s", ref, file);
done:
	diag_list_release(&dl);
	doc_free(d);
	free(file);
	return out;
}

json_t *artifact_capture(const char *ref, const char *path, char **err)
{
	if (!strncmp(ref, "mcp:", 4) && strstr(path, "#mcp_servers."))
		return mcp_capture(ref, path, err);
	bool dir = fs_is_dir(path);
	char *file = dir ? path_join(path, "SKILL.md") : xstrdup(path);
	struct strbuf sb = STRBUF_INIT;
	json_t *a = NULL;
	int r = strbuf_read_file(&sb, file, ARTIFACT_MAX_TEXT);
	if (r) {
		*err = xasprintf("%s (%s): %s", ref, file, r == SM_ELIMIT ? "larger than 1 MiB"
				 : strerror(errno));
		goto out;
	}
	json_t *text = json_stringn(sb.buf, sb.len);
	if (!text) {
		*err = xasprintf("%s (%s): not UTF-8 text", ref, file);
		goto out;
	}
	a = json_pack("{s:s, s:o}", "path", file, "text", text);
	if (dir && !strncmp(ref, "skill:", 6)) {
		json_t *files = skill_files(path, err);
		if (!files) {
			json_decref(a);
			a = NULL;
			goto out;
		}
		json_object_set_new(a, "files", files);
	}
out:
	free(file);
	strbuf_release(&sb);
	return a;
}
