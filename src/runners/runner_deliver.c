/*
 * runner_deliver.c - a stage's bound artifacts handed to each agent CLI the
 * way that CLI loads them, per attempt, in the attempt's folder only:
 *
 *   claude  skills: a plugin folder (plugin/.claude-plugin/plugin.json and
 *           plugin/skills/NAME/...) given with --plugin-dir; MCP servers:
 *           mcp.json ({"mcpServers": ...}) with --mcp-config and
 *           --strict-mcp-config; --tools (the agent's frontmatter tools:
 *           which built-in tools exist), --permission-mode, --allowedTools
 *           and --disallowedTools (the stage's: what runs unprompted).
 *   codex   MCP servers: -c mcp_servers.NAME.KEY=VALUE overrides (TOML
 *           values); permissions: --sandbox.  Skills and tool lists it
 *           cannot take per run (a gap, warned at validate/plan).
 *   gemini  MCP servers: gemini-settings.json named by
 *           GEMINI_CLI_SYSTEM_SETTINGS_PATH (its highest settings layer; the
 *           machine's own system settings are copied into it first), each
 *           server trusted (headless runs deny an untrusted server's tools);
 *           permissions: --approval-mode, --allowed-tools.  Skills it reads
 *           only from its own folders and denies headless (a gap, warned).
 *
 * delivered.json in the attempt folder records what was given.  Sources
 * for each CLI's mechanism: docs/agent-protocols.md.
 */
#include "../base/compat.h"
#include "runner_proto.h"
#include "../base/fsutil.h"

#include <sodium.h>
#include <sys/stat.h>

/* A path inside a skill: relative, no "..", no empty or hidden-parent tricks. */
static bool skill_path_ok(const char *p)
{
	if (!*p || *p == '/' || strlen(p) > 1024)
		return false;
	for (const char *c = p; *c; c++)
		if ((unsigned char)*c < 0x20)
			return false;
	const char *seg = p;
	while (seg) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
		if (!n || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		seg = slash ? slash + 1 : NULL;
	}
	return true;
}

/* A name that becomes one path component or a TOML key: [A-Za-z0-9_-], 1..128. */
static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	if (!len || len > 128)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '_' || *n == '-' || *n == '.'))
			return false;
	return n[-1] != '.' && strcmp(n - len, "..") && strcmp(n - len, ".");
}

static int write_one(const char *dir, const char *rel, const json_t *f, char **err)
{
	char *path = path_join(dir, rel), *slash = strrchr(path, '/');
	const char *text = json_string_value(json_object_get(f, "text"));
	const char *b64 = json_string_value(json_object_get(f, "base64"));
	unsigned char *bin = NULL;
	size_t len = 0;
	int r = SM_ERR;
	if (b64) {
		size_t cap = strlen(b64);
		bin = xmalloc(cap + 1);
		if (sodium_base642bin(bin, cap + 1, b64, cap, NULL, &len, NULL,
				      sodium_base64_VARIANT_ORIGINAL)) {
			*err = xasprintf("skill file %s: bad base64", rel);
			goto out;
		}
	}
	*slash = '\0';
	if (fs_mkdirs(path)) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	*slash = '/';
	if (fs_write_file(path, b64 ? (const char *)bin : text ? text : "",
			  b64 ? len : text ? strlen(text) : 0) ||
	    chmod(path, json_is_true(json_object_get(f, "executable")) ? 0755 : 0644)) {
		*err = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	r = SM_OK;
out:
	free(bin);
	free(path);
	return r;
}

/* plugin/skills/NAME/... and the plugin's manifest (Claude Code's plugin layout). */
static int write_plugin(const char *attempt_dir, const json_t *skills, char **err)
{
	char *root = path_join(attempt_dir, "plugin");
	char *meta = path_join(root, ".claude-plugin");
	char *manifest = path_join(meta, "plugin.json");
	static const char body[] = "{\n  \"name\": \"skillmeat-stage\",\n  \"version\": \"1.0.0\",\n"
		"  \"description\": \"Skills bound to this workflow stage by skillmeat\"\n}\n";
	const char *name, *rel;
	const json_t *skill, *f;
	int r = SM_ERR;
	if (fs_mkdirs(meta) || fs_write_file(manifest, body, strlen(body))) {
		*err = xasprintf("%s: %s", manifest, strerror(errno));
		goto out;
	}
	json_object_foreach((json_t *)skills, name, skill) {
		if (!name_ok(name)) {
			*err = xasprintf("skill name '%s' cannot be a folder name", name);
			goto out;
		}
		char *dir = xasprintf("%s/skills/%s", root, name);
		json_object_foreach(json_object_get(skill, "files"), rel, f) {
			if (!skill_path_ok(rel)) {
				*err = xasprintf("skill '%s': file path '%s' leaves its folder", name,
						 rel);
				free(dir);
				goto out;
			}
			if (write_one(dir, rel, f, err)) {
				free(dir);
				goto out;
			}
		}
		free(dir);
	}
	r = SM_OK;
out:
	free(root);
	free(meta);
	free(manifest);
	return r;
}

static int write_json(const char *dir, const char *name, json_t *j, char **err)
{
	char *path = path_join(dir, name), *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int r = fs_write_file(path, text, strlen(text));
	if (r)
		*err = xasprintf("%s: %s", path, strerror(errno));
	free(path);
	free(text);
	json_decref(j);
	return r ? SM_ERR : SM_OK;
}

/* Gemini's system settings file as it is, to keep what an administrator set there. */
static json_t *gemini_system_settings(void)
{
	const char *path = getenv("GEMINI_CLI_SYSTEM_SETTINGS_PATH");
	struct strbuf sb = STRBUF_INIT;
	json_t *j = NULL;
	if (!path)
		path = "/etc/gemini-cli/settings.json";
	if (fs_is_file(path) && !strbuf_read_file(&sb, path, (size_t)1 << 20))
		j = json_loadb(sb.buf, sb.len, 0, NULL);
	strbuf_release(&sb);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

static int write_gemini_settings(const char *dir, const json_t *servers, char **err)
{
	json_t *settings = gemini_system_settings(), *mcp = json_object_get(settings, "mcpServers");
	if (!json_is_object(mcp)) {
		mcp = json_object();
		json_object_set_new(settings, "mcpServers", mcp);
	}
	const char *name;
	const json_t *v;
	json_object_foreach((json_t *)servers, name, v) {
		json_t *server = json_deep_copy(v);
		json_object_set_new(server, "trust", json_true());
		json_object_set_new(mcp, name, server);
	}
	return write_json(dir, "gemini-settings.json", settings, err);
}

static bool has_skills(const struct stage_delivery *d)
{
	return d && json_object_size(d->skills);
}

static bool has_mcp(const struct stage_delivery *d)
{
	return d && json_object_size(d->mcp_servers);
}

static json_t *str_array(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

int runner_delivery_write(const struct stage_request *rq, enum runner_protocol proto,
			  char **err)
{
	const struct stage_delivery *d = rq->delivery;
	if (!d)
		return SM_OK;
	if (proto == PROTO_CLAUDE && has_skills(d) && write_plugin(rq->attempt_dir, d->skills, err))
		return SM_ERR;
	if (proto == PROTO_CLAUDE && has_mcp(d) &&
	    write_json(rq->attempt_dir, "mcp.json",
		       json_pack("{s:O}", "mcpServers", d->mcp_servers), err))
		return SM_ERR;
	if (proto == PROTO_GEMINI && has_mcp(d) &&
	    write_gemini_settings(rq->attempt_dir, d->mcp_servers, err))
		return SM_ERR;
	json_t *skills = json_array();
	const char *name;
	const json_t *v;
	json_object_foreach((json_t *)d->skills, name, v)
		json_array_append_new(skills, json_string(name));
	struct strbuf gaps = STRBUF_INIT;
	runner_delivery_gaps(proto, d, &gaps);
	json_t *mcp = d->mcp_servers ? json_deep_copy(d->mcp_servers) : json_object();
	json_t *rec = json_pack("{s:s, s:o, s:o, s:s?, s:o, s:o, s:o, s:s}", "runner_protocol",
		runner_protocol_name(proto), "skills", skills, "mcp_servers", mcp,
		"permission_mode", d->permission_mode, "tools", str_array(d->tools),
		"allowed_tools", str_array(d->allowed_tools),
		"disallowed_tools", str_array(d->disallowed_tools), "not_delivered", gaps.buf);
	strbuf_release(&gaps);
	return write_json(rq->attempt_dir, "delivered.json", rec, err);
}

/* Claude Code's permission modes, and what the others call the nearest one. */
static const struct {
	const char *claude, *codex_sandbox, *gemini_approval;
} modes[] = {
	{ "default", NULL, "default" },
	{ "dontAsk", NULL, "default" },
	{ "plan", "read-only", "plan" },
	{ "acceptEdits", "workspace-write", "auto_edit" },
	{ "bypassPermissions", "danger-full-access", "yolo" },
};

static int mode_index(const char *m)
{
	for (size_t i = 0; m && i < ARRAY_SIZE(modes); i++)
		if (!strcmp(modes[i].claude, m))
			return (int)i;
	return -1;
}

static void push_list(struct strv *argv, const char *flag, const char *const *v)
{
	if (!v || !v[0])
		return;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; v[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", v[i]);
	strv_push(argv, flag);
	strv_push(argv, sb.buf);
	strbuf_release(&sb);
}

/* -c mcp_servers.NAME.KEY=VALUE, the value as TOML (a JSON string or string list is one). */
static void codex_mcp(struct strv *argv, const char *name, const json_t *server)
{
	static const char *const keys[] = { "command", "args", "url", "cwd" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const json_t *v = json_object_get(server, keys[i]);
		if (!v)
			continue;
		char *val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		strv_push(argv, "-c");
		strv_pushf(argv, "mcp_servers.%s.%s=%s", name, keys[i], val);
		free(val);
	}
	/* Without this every tool call of the server fails under exec's "never" approval
	 * policy; binding the server to the stage is the approval. */
	strv_push(argv, "-c");
	strv_pushf(argv, "mcp_servers.%s.default_tools_approval_mode=\"approve\"", name);
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)json_object_get(server, "env"), k, v) {
		if (!name_ok(k) || !json_is_string(v))
			continue;
		char *val = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		strv_push(argv, "-c");
		strv_pushf(argv, "mcp_servers.%s.env.%s=%s", name, k, val);
		free(val);
	}
}

void runner_delivery_args(struct strv *argv, const struct stage_request *rq,
			  enum runner_protocol proto)
{
	const struct stage_delivery *d = rq->delivery;
	int mode = d ? mode_index(d->permission_mode) : -1;
	if (!d)
		return;
	if (proto == PROTO_CLAUDE) {
		if (has_skills(d)) {
			strv_push(argv, "--plugin-dir");
			strv_pushf(argv, "%s/plugin", rq->attempt_dir);
		}
		if (has_mcp(d)) {
			strv_push(argv, "--mcp-config");
			strv_pushf(argv, "%s/mcp.json", rq->attempt_dir);
			strv_push(argv, "--strict-mcp-config");
		}
		if (d->permission_mode) {
			strv_push(argv, "--permission-mode");
			strv_push(argv, d->permission_mode);
		}
		push_list(argv, "--tools", d->tools);
		push_list(argv, "--allowedTools", d->allowed_tools);
		push_list(argv, "--disallowedTools", d->disallowed_tools);
	} else if (proto == PROTO_CODEX) {
		const char *name;
		const json_t *server;
		json_object_foreach((json_t *)d->mcp_servers, name, server)
			if (name_ok(name))
				codex_mcp(argv, name, server);
		if (mode >= 0 && modes[mode].codex_sandbox) {
			strv_push(argv, "--sandbox");
			strv_push(argv, modes[mode].codex_sandbox);
		}
	} else if (proto == PROTO_GEMINI) {
		if (mode >= 0 && d->permission_mode) {
			strv_push(argv, "--approval-mode");
			strv_push(argv, modes[mode].gemini_approval);
		}
		push_list(argv, "--allowed-tools", d->allowed_tools);
	}
}

void runner_delivery_gaps(enum runner_protocol proto, const struct stage_delivery *d,
			  struct strbuf *out)
{
	const char *name;
	const json_t *v;
	if (!d || proto == PROTO_CLAUDE || proto == PROTO_COMMAND)
		return;
	const char *cli = runner_protocol_name(proto);
	if (proto == PROTO_TEXT) {
		if (has_skills(d) || has_mcp(d) || d->permission_mode || d->allowed_tools)
			strbuf_addstr(out, "a runner of protocol text is given only its prompt: "
				      "bound skills, MCP servers and permissions do not reach it\n");
		return;
	}
	json_object_foreach((json_t *)d->skills, name, v)
		strbuf_addf(out, "skill '%s': %s loads skills only from its own folders, not "
			    "per run%s\n", name, cli, proto == PROTO_GEMINI
			    ? " (and denies activate_skill headless)" : "");
	if (proto == PROTO_CODEX && (d->allowed_tools || d->disallowed_tools))
		strbuf_addstr(out, "allowed_tools/disallowed_tools: codex has no per-run tool "
			      "list (its sandbox mode is given instead)\n");
	if (proto == PROTO_GEMINI && d->disallowed_tools)
		strbuf_addstr(out, "disallowed_tools: gemini has no per-run deny list\n");
	if (d->permission_mode && mode_index(d->permission_mode) < 0)
		strbuf_addf(out, "permission mode '%s' is not one of default, dontAsk, plan, "
			    "acceptEdits, bypassPermissions\n", d->permission_mode);
}

void runner_delivery_env(struct strv *env, const struct stage_request *rq,
			 enum runner_protocol proto)
{
	if (proto == PROTO_GEMINI && has_mcp(rq->delivery))
		strv_pushf(env, "GEMINI_CLI_SYSTEM_SETTINGS_PATH=%s/gemini-settings.json",
			   rq->attempt_dir);
}
