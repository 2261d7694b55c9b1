/*
 * host_deliver.c - for the host: what an agent attempt is given besides its
 * prompt.  The agent artifact's frontmatter (model, tools,
 * disallowedTools, permissionMode) is read from the snapshot's copy and
 * its body alone becomes the system prompt; the stage's skills and MCP
 * servers come from the snapshot too, so a resumed host or a pod gives the
 * same things.  The stage's own `permissions` win over the frontmatter.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "../formats/load.h"

/* Split "---\nYAML\n---\nbody" (a BOM and CRLF allowed); NULL yaml when there is none. */
static const char *split_frontmatter(const char *text, const char **yaml, size_t *yaml_len)
{
	const char *p = text;
	*yaml = NULL;
	if (!strncmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	if (strncmp(p, "---", 3) || (p[3] != '\n' && strncmp(p + 3, "\r\n", 2)))
		return text;
	const char *start = strchr(p, '\n') + 1;
	for (const char *line = start; line && *line; line = strchr(line, '\n') ? strchr(line,
	     '\n') + 1 : NULL) {
		if (!strncmp(line, "---", 3) && (line[3] == '\n' || line[3] == '\0' ||
						 !strncmp(line + 3, "\r\n", 2))) {
			*yaml = start;
			*yaml_len = (size_t)(line - start);
			const char *body = strchr(line, '\n');
			return body ? body + 1 : line + 3;
		}
	}
	return text;
}

/* A tool list: a YAML list, or a comma-separated string (both occur in agents). */
static void tool_list(struct arena *a, const struct node *n, const char ***out)
{
	size_t nr = 0, cap = n && n->kind == NODE_SEQ ? n->nr : 0;
	if (n && n->kind == NODE_STRING)
		for (const char *c = n->text; *c; c++)
			cap += *c == ',';
	if (n && n->kind == NODE_STRING)
		cap++;
	if (!cap)
		return;
	const char **v = ARENA_ARRAY(a, const char *, cap + 1);
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->nr; i++)
			if (n->items[i]->kind == NODE_STRING)
				v[nr++] = arena_strdup(a, n->items[i]->text);
	} else {
		for (const char *c = n->text; *c;) {
			const char *end = strchr(c, ',');
			size_t len = end ? (size_t)(end - c) : strlen(c);
			while (len && (*c == ' ' || *c == '\t'))
				c++, len--;
			while (len && (c[len - 1] == ' ' || c[len - 1] == '\t'))
				len--;
			if (len)
				v[nr++] = arena_strndup(a, c, len);
			c = end ? end + 1 : c + strlen(c);
		}
	}
	v[nr] = NULL;
	*out = v;
}

/*
 * --tools takes built-in tool names: "Bash(git diff:*)" is the tool Bash, and
 * MCP tools (mcp__server__tool) are not built in (--tools does not govern them).
 */
static void builtin_names(const char **v)
{
	size_t out = 0;
	for (size_t i = 0; v && v[i]; i++) {
		if (!strncmp(v[i], "mcp__", 5))
			continue;
		char *paren = strchr(v[i], '(');
		if (paren)
			*paren = '\0'; /* an arena copy of ours */
		bool seen = false;
		for (size_t k = 0; k < out; k++)
			seen |= !strcmp(v[k], v[i]);
		if (!seen && *v[i])
			v[out++] = v[i];
	}
	if (v)
		v[out] = NULL;
}

static const char *fm_str(const struct node *fm, const char *k1, const char *k2)
{
	const struct node *n = node_map_get(fm, k1);
	if (!n && k2)
		n = node_map_get(fm, k2);
	return n && n->kind == NODE_STRING && *n->text ? n->text : NULL;
}

/* The agent's frontmatter into the delivery (tools and mode only for Claude's vocabulary). */
static void from_frontmatter(struct host *h, const char *text, enum runner_protocol proto,
			     struct attempt_delivery *ad)
{
	const char *yaml;
	size_t len = 0;
	ad->body = split_frontmatter(text, &yaml, &len);
	if (!yaml)
		return;
	struct load_limits lim = LOAD_LIMITS_DEFAULT;
	struct diag_list dl = { 0 };
	struct doc *d = NULL;
	if (doc_load_buffer("frontmatter", yaml, len, DOC_YAML, &lim, &d, &dl) || !d->root ||
	    d->root->kind != NODE_MAP)
		goto out;
	struct arena *a = &h->scratch;
	if (proto == PROTO_CLAUDE) {
		const char *m = fm_str(d->root, "model", NULL);
		if (m && strcmp(m, "inherit"))
			ad->model = arena_strdup(a, m);
	}
	/* Claude Code's tool names: which built-in tools exist (--tools), which are denied. */
	if (proto == PROTO_CLAUDE) {
		const struct node *t = node_map_get(d->root, "tools");
		if (!t)
			t = node_map_get(d->root, "allowed-tools");
		if (!t)
			t = node_map_get(d->root, "allowedTools");
		tool_list(a, t, &ad->tools);
		builtin_names(ad->tools);
		t = node_map_get(d->root, "disallowedTools");
		tool_list(a, t ? t : node_map_get(d->root, "disallowed-tools"), &ad->disallowed);
	}
	const char *mode = fm_str(d->root, "permissionMode", "permission-mode");
	if (mode)
		ad->d.permission_mode = arena_strdup(a, mode);
out:
	diag_list_release(&dl);
	doc_free(d);
}

static const char **str_list_v(struct arena *a, const struct str_list *l)
{
	if (!l->nr)
		return NULL;
	const char **v = ARENA_ARRAY(a, const char *, l->nr + 1);
	for (size_t i = 0; i < l->nr; i++)
		v[i] = l->v[i];
	v[l->nr] = NULL;
	return v;
}

/* The stage's skill:/mcp: tools from the snapshot; an MCP server without a launch is logged. */
static void bound_tools(struct host *h, const struct swdl_stage *s, struct attempt_delivery *ad)
{
	for (size_t i = 0; i < s->tools.nr; i++) {
		const char *ref = s->tools.v[i];
		const json_t *art = json_object_get(h->artifacts, ref);
		if (!strncmp(ref, "skill:", 6) && art) {
			const json_t *files = json_object_get(art, "files");
			json_t *f = files ? json_incref((json_t *)files)
				: json_pack("{s:{s:O}}", "SKILL.md", "text", json_object_get(art, "text"));
			json_object_set_new(ad->skills, ref + 6, json_pack("{s:o}", "files", f));
		} else if (!strncmp(ref, "mcp:", 4) && art) {
			const json_t *server = json_object_get(art, "server");
			if (json_object_get(server, "command") || json_object_get(server, "url"))
				json_object_set(ad->mcp, ref + 4, (json_t *)server);
			else
				ad->undeliverable = ref;
		}
	}
}

void host_delivery_build(struct host *h, const struct swdl_stage *s, enum runner_protocol proto,
			 struct attempt_delivery *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->skills = json_object();
	ad->mcp = json_object();
	const char *text = s->artifact ? host_artifact_text(h, s->artifact) : NULL;
	ad->body = text;
	if (text)
		from_frontmatter(h, text, proto, ad);
	bound_tools(h, s, ad);
	const struct swdl_permissions *pm = s->permissions;
	if (pm && pm->mode)
		ad->d.permission_mode = pm->mode;
	if (pm && pm->allowed_tools.nr)
		ad->allowed = str_list_v(&h->scratch, &pm->allowed_tools);
	if (pm && pm->disallowed_tools.nr)
		ad->disallowed = str_list_v(&h->scratch, &pm->disallowed_tools);
	ad->d.skills = ad->skills;
	ad->d.mcp_servers = ad->mcp;
	ad->d.tools = ad->tools && ad->tools[0] ? ad->tools : NULL;
	ad->d.allowed_tools = ad->allowed;
	ad->d.disallowed_tools = ad->disallowed;
}

void host_delivery_release(struct attempt_delivery *ad)
{
	json_decref(ad->skills);
	json_decref(ad->mcp);
	memset(ad, 0, sizeof(*ad));
}
