#include "../base/compat.h"
#include "roles.h"
#include "types.h"
#include "../base/strbuf.h"
#include "../base/suggest.h"

/* Where a binding came from, for messages. */
static void describe_source(struct strbuf *sb, enum role_source src, const char *file)
{
	switch (src) {
	case ROLE_BIND: strbuf_addstr(sb, "--bind"); break;
	case ROLE_REQUEST: strbuf_addstr(sb, "the request's bindings"); break;
	case ROLE_OVERRIDES: strbuf_addf(sb, "%s", file ? file : "the overrides file"); break;
	case ROLE_DEFAULT: strbuf_addstr(sb, "the role's default"); break;
	default: strbuf_addstr(sb, "?"); break;
	}
}

static void bind_error(struct diag_list *dl, const struct loc *loc, const char *field,
		       const char *fmt, ...) SM_PRINTF(4, 5);
static void bind_error(struct diag_list *dl, const struct loc *loc, const char *field,
		       const char *fmt, ...)
{
	if (!dl) /* a default: validation reports it */
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(dl, DIAG_ERROR, loc, "role", NULL, field, "%s", msg);
	free(msg);
}

const char *swdl_role_suggest(const struct swdl_workflow *wf, const char *name)
{
	const char **names = xcalloc(wf->nr_roles + 1, sizeof(*names));
	for (size_t i = 0; i < wf->nr_roles; i++)
		names[i] = wf->roles[i].name;
	const char *near = suggest_nearest(name, names, wf->nr_roles);
	free(names);
	return near;
}

/* Is `ref` TYPE:NAME with a type the role accepts?  Reports why not. */
static bool artifact_fits(const struct swdl_role *r, const char *ref, const struct loc *loc,
			  const char *field, const char *src, struct diag_list *dl)
{
	const char *colon = strchr(ref, ':');
	if (!colon || colon == ref || !colon[1]) {
		bind_error(dl, loc, field, "role '%s' bound to '%s' by %s: expected TYPE:NAME "
			   "(for example agent:reviewer-v2)", r->name, ref, src);
		return false;
	}
	size_t tlen = (size_t)(colon - ref);
	if (!swdl_artifact_type_known(ref, tlen)) {
		bind_error(dl, loc, field, "role '%s' bound to '%s' by %s: unknown artifact type "
			   "'%.*s'", r->name, ref, src, (int)tlen, ref);
		return false;
	}
	if (!r->accepts.nr)
		return true;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < r->accepts.nr; i++) {
		if (strlen(r->accepts.v[i]) == tlen && !strncmp(r->accepts.v[i], ref, tlen)) {
			strbuf_release(&sb);
			return true;
		}
		strbuf_addf(&sb, "%s%s", i ? ", " : "", r->accepts.v[i]);
	}
	bind_error(dl, loc, field, "role '%s' accepts %s artifacts; '%s' (from %s) is %s %.*s",
		   r->name, sb.buf, ref, src, strchr("aeiou", ref[0]) ? "an" : "a", (int)tlen, ref);
	strbuf_release(&sb);
	return false;
}

/* Record a binding on the role unless a stronger one is already there. */
static void bind_one(struct swdl_workflow *wf, const char *name, const char *artifact,
		     enum role_source src, const char *file, const struct loc *loc,
		     const char *field, bool unknown_is_error, struct diag_list *dl)
{
	struct swdl_role *r = swdl_role_find(wf, name);
	if (!r) {
		if (!unknown_is_error || !dl)
			return;
		const char *near = swdl_role_suggest(wf, name);
		struct strbuf sb = STRBUF_INIT;
		describe_source(&sb, src, file);
		bind_error(dl, loc, field, "%s binds role '%s', which the workflow does not "
			   "declare%s%s%s", sb.buf, name, near ? "; did you mean '" : "",
			   near ? near : "", near ? "'?" : "");
		strbuf_release(&sb);
		return;
	}
	if (r->bound)
		return;
	struct strbuf sb = STRBUF_INIT;
	describe_source(&sb, src, file);
	if (artifact_fits(r, artifact, loc, field, sb.buf, dl)) {
		r->bound = arena_strdup(wf->arena, artifact);
		r->source = src;
		r->source_file = file ? arena_strdup(wf->arena, file) : NULL;
	}
	strbuf_release(&sb);
}

static void bind_from_file(struct swdl_workflow *wf, const struct node *m, const char *file,
			   bool unknown_is_error, struct diag_list *dl)
{
	if (!m)
		return;
	if (m->kind != NODE_MAP) {
		bind_error(dl, &m->loc, "roles", "'roles' must map role names to artifacts "
			   "(reviewer = \"agent:reviewer-v2\")");
		return;
	}
	for (size_t i = 0; i < m->nr; i++) {
		const struct node *v = m->pairs[i].value;
		char field[300];
		snprintf(field, sizeof(field), "roles.%s", m->pairs[i].key->text);
		if (v->kind != NODE_STRING) {
			bind_error(dl, &v->loc, field, "a role binding is a TYPE:NAME string, got "
				   "a %s", node_kind_name(v->kind));
			continue;
		}
		bind_one(wf, m->pairs[i].key->text, v->text, ROLE_OVERRIDES, file, &v->loc, field,
			 unknown_is_error, dl);
	}
}

/* The stages that name role `r`, as "a, b". */
static void stages_using(const struct swdl_workflow *wf, const char *r, struct strbuf *sb)
{
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		bool uses = s->artifact_role && !strcmp(s->artifact_role, r);
		for (size_t t = 0; !uses && t < s->tools.nr; t++)
			uses = s->tool_roles[t] && !strcmp(s->tool_roles[t], r);
		if (uses)
			strbuf_addf(sb, "%s%s", sb->len ? ", " : "", s->id);
	}
}

static void report_unbound(const struct swdl_workflow *wf, const struct swdl_role *r,
			   struct diag_list *dl)
{
	struct strbuf users = STRBUF_INIT;
	stages_using(wf, r->name, &users);
	if (users.len && !r->default_ref) {
		const char *type = r->accepts.nr ? r->accepts.v[0] : "agent";
		char field[300];
		snprintf(field, sizeof(field), "roles.%s", r->name);
		bind_error(dl, &r->node->loc, field, "role '%s' is not bound and has no "
			   "default (used by %s); bind it with --bind %s=%s:NAME, in "
			   ".skillmeat-workflow-overrides.toml ([roles] %s = \"%s:NAME\"), or give "
			   "it a default in the workflow's roles block", r->name, users.buf,
			   r->name, type, r->name, type);
	}
	strbuf_release(&users);
}

static void substitute(struct swdl_workflow *wf)
{
	for (size_t i = 0; i < wf->nr_stages; i++) {
		struct swdl_stage *s = &wf->stages[i];
		const struct swdl_role *r = s->artifact_role
			? swdl_role_find(wf, s->artifact_role) : NULL;
		if (r && r->bound)
			s->artifact = r->bound;
		for (size_t t = 0; t < s->tools.nr; t++) {
			r = s->tool_roles[t] ? swdl_role_find(wf, s->tool_roles[t]) : NULL;
			if (r && r->bound)
				s->tools.v[t] = r->bound;
		}
	}
}

int swdl_bind_roles(struct swdl_workflow *wf, const struct role_binding *given, size_t nr,
		    const struct role_overrides *ov, struct diag_list *dl)
{
	size_t errors = dl->errors;
	for (size_t i = 0; i < nr; i++) {
		char field[300];
		snprintf(field, sizeof(field), "%s%s", given[i].source == ROLE_REQUEST
			 ? "bindings." : "--bind ", given[i].name);
		bind_one(wf, given[i].name, given[i].artifact, given[i].source, given[i].file,
			 NULL, field, true, dl);
	}
	if (ov) {
		bind_from_file(wf, ov->workflow_roles, ov->file, true, dl);
		bind_from_file(wf, ov->project_roles, ov->file, false, dl);
	}
	for (size_t i = 0; i < wf->nr_roles; i++) {
		struct swdl_role *r = &wf->roles[i];
		if (!r->bound && r->default_ref) {
			const struct node *d = node_map_get(node_map_get(wf->root, "roles"), r->name);
			const struct node *dn = d && d->kind == NODE_MAP ? node_map_get(d, "default") : d;
			bind_one(wf, r->name, r->default_ref, ROLE_DEFAULT, NULL,
				 dn ? &dn->loc : &r->node->loc, "roles", true, NULL);
		}
		if (!r->bound && dl->errors == errors)
			report_unbound(wf, r, dl);
	}
	substitute(wf);
	return dl->errors > errors ? SM_ERR : SM_OK;
}

json_t *swdl_roles_json(const struct swdl_workflow *wf)
{
	json_t *o = json_object();
	for (size_t i = 0; i < wf->nr_roles; i++) {
		const struct swdl_role *r = &wf->roles[i];
		if (!r->bound)
			continue;
		json_t *b = json_pack("{s:s, s:s}", "artifact", r->bound, "source",
				      role_source_names[r->source]);
		if (r->source_file)
			json_object_set_new(b, "file", json_string(r->source_file));
		json_object_set_new(o, r->name, b);
	}
	return o;
}

int role_bindings_from_json(json_t *j, struct role_binding **out, size_t *nr)
{
	*out = NULL;
	*nr = 0;
	if (!j)
		return SM_OK;
	if (!json_is_object(j))
		return SM_ERR;
	*out = xcalloc(json_object_size(j) + 1, sizeof(**out));
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		const char *art = json_string_value(json_object_get(v, "artifact"));
		const char *src = json_string_value(json_object_get(v, "source"));
		if (!art || !src)
			return SM_ERR;
		struct role_binding *b = &(*out)[(*nr)++];
		b->name = k;
		b->artifact = art;
		b->file = json_string_value(json_object_get(v, "file"));
		b->source = ROLE_REQUEST;
		for (int s = ROLE_BIND; role_source_names[s]; s++)
			if (!strcmp(role_source_names[s], src))
				b->source = (enum role_source)s;
	}
	return SM_OK;
}

/* ---- static checks (workflow validate) ------------------------------------ */

static void check_declaration(const struct swdl_workflow *wf, const struct swdl_role *r,
			      struct diag_list *dl)
{
	const struct node *decl = node_map_get(node_map_get(wf->root, "roles"), r->name);
	const struct node *acc = decl && decl->kind == NODE_MAP ? node_map_get(decl, "accepts")
								: NULL;
	for (size_t i = 0; i < r->accepts.nr; i++) {
		const char *t = r->accepts.v[i];
		if (swdl_artifact_type_known(t, strlen(t)))
			continue;
		const struct node *n = acc && acc->kind == NODE_SEQ && i < acc->nr ? acc->items[i]
										     : acc;
		char field[300];
		snprintf(field, sizeof(field), "roles.%s.accepts[%zu]", r->name, i);
		bind_error(dl, n ? &n->loc : &r->node->loc, field, "role '%s' accepts unknown "
			   "artifact type '%s' (known: agent, skill, command, mcp, hook, "
			   "workflow, composite)", r->name, t);
	}
	if (r->default_ref) {
		const struct node *d = decl && decl->kind == NODE_MAP
			? node_map_get(decl, "default") : decl;
		char field[300];
		snprintf(field, sizeof(field), "roles.%s.default", r->name);
		artifact_fits(r, r->default_ref, d ? &d->loc : &r->node->loc, field,
			      "its default", dl);
	}
	struct strbuf users = STRBUF_INIT;
	stages_using(wf, r->name, &users);
	if (!users.len) {
		char field[300];
		snprintf(field, sizeof(field), "roles.%s", r->name);
		diag_add(dl, DIAG_WARNING, &r->node->loc, "role", NULL, field, "role '%s' is "
			 "declared but no stage uses it (write \"${{ roles.%s }}\" as an "
			 "artifact)", r->name, r->name);
	}
	strbuf_release(&users);
}

static void check_use(const struct swdl_workflow *wf, const struct swdl_stage *s,
		      const char *role, const char *value, const char *field,
		      struct diag_list *dl)
{
	struct loc loc = swdl_stage_loc(s, field);
	if (!role) {
		if (strstr(value, "${{"))
			diag_add(dl, DIAG_ERROR, &loc, "role", s->id, field, "an artifact is a "
				 "TYPE:NAME reference or exactly \"${{ roles.NAME }}\"; '%s' is "
				 "neither", value);
		return;
	}
	if (swdl_role_find(wf, role))
		return;
	const char *near = swdl_role_suggest(wf, role);
	diag_add(dl, DIAG_ERROR, &loc, "role", s->id, field, "role '%s' is not declared%s%s%s "
		 "(declare it under the top-level roles: block)", role,
		 near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

void swdl_roles_check(const struct swdl_workflow *wf, struct diag_list *dl)
{
	for (size_t i = 0; i < wf->nr_roles; i++)
		check_declaration(wf, &wf->roles[i], dl);
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		if (s->artifact)
			check_use(wf, s, s->artifact_role, s->artifact, "roles.primary.artifact", dl);
		for (size_t t = 0; t < s->tools.nr; t++) {
			char field[40];
			snprintf(field, sizeof(field), "roles.tools[%zu]", t);
			check_use(wf, s, s->tool_roles[t], s->tools.v[t], field, dl);
		}
	}
}
