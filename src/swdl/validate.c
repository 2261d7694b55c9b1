#include "../base/compat.h"
#include "validate.h"
#include "roles.h"
#include "../base/suggest.h"
#include "types.h"
#include "../base/strbuf.h"
#include "../base/fsutil.h"

#include <ctype.h>

struct vctx {
	const struct swdl_workflow *wf;
	const struct swdl_dag *dag;
	struct diag_list *dl;
	struct arena scratch;
	size_t before_errors;
};

/* ---- locating a spot inside a scalar ------------------------------------- */

/*
 * Map a byte offset in a scalar's text to a file location.  Exact for
 * plain and single-line quoted scalars without escapes; otherwise the
 * scalar's own start.
 */
static struct loc scalar_loc(const struct node *n, size_t off)
{
	struct loc l = n->loc;
	if (!n->text || strchr(n->text, '\n') || n->style == NODE_STYLE_BLOCK)
		return l;
	if (n->style == NODE_STYLE_QUOTED && strchr(n->text, '\\'))
		return l;
	int col = l.col; /* for quoted scalars libfyaml marks the first character inside */
	for (size_t i = 0; i < off && n->text[i]; i++)
		if (((unsigned char)n->text[i] & 0xC0) != 0x80)
			col++;
	l.col = col;
	return l;
}

/* ---- expression checks --------------------------------------------------- */

struct ref_check {
	struct vctx *v;
	const struct swdl_stage *stage;   /* NULL for workflow-level text */
	const char *field;
	const struct node *node;          /* the scalar holding the text */
	size_t base;                      /* offset of the body in the scalar */
	const char *input_type;           /* for type-mismatch warnings */
};

static void ref_diag(struct ref_check *rc, enum diag_severity sev, const char *category,
		     size_t pos, const char *fmt, ...) SM_PRINTF(5, 6);
static void ref_diag(struct ref_check *rc, enum diag_severity sev, const char *category,
		     size_t pos, const char *fmt, ...)
{
	struct loc loc = rc->node ? scalar_loc(rc->node, rc->base + pos) : (struct loc){ 0 };
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(rc->v->dl, sev, &loc, category, rc->stage ? rc->stage->id : NULL,
		 rc->field, "%s", msg);
	free(msg);
}

static const struct swdl_output *find_output(const struct swdl_stage *s, const char *name)
{
	for (size_t i = 0; i < s->nr_outputs; i++)
		if (!strcmp(s->outputs[i].name, name))
			return &s->outputs[i];
	return NULL;
}

static void list_outputs(struct strbuf *sb, const struct swdl_stage *s)
{
	if (!s->nr_outputs) {
		strbuf_addstr(sb, "(none)");
		return;
	}
	for (size_t i = 0; i < s->nr_outputs; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", s->outputs[i].name);
}

static void check_stage_ref(struct ref_check *rc, const struct expr *e)
{
	const struct swdl_workflow *wf = rc->v->wf;
	if (e->nr_segments < 2)
		return;
	const char *sid = e->segments[1];
	long si = swdl_stage_find(wf, sid);
	if (si < 0) {
		ref_diag(rc, DIAG_ERROR, "expression", e->segment_pos[1],
			 "expression references unknown stage '%s'", sid);
		return;
	}
	if (!rc->stage) {
		ref_diag(rc, DIAG_ERROR, "expression", e->pos,
			 "stage results are not available here (this text is evaluated "
			 "before any stage runs)");
		return;
	}
	const struct swdl_stage *target = &wf->stages[si];
	bool self = target == rc->stage;
	bool ordered = self || (rc->v->dag->acyclic &&
				swdl_dag_depends_on(rc->v->dag, rc->stage->index, (size_t)si));
	if (e->nr_segments < 3)
		return;
	const char *what = e->segments[2];
	if (!strcmp(what, "status")) {
		if (!ordered && rc->v->dag->acyclic)
			ref_diag(rc, DIAG_WARNING, "dag", e->pos, "reads the status of stage '%s', "
				 "which may still be running: '%s' does not depend on it",
				 sid, rc->stage->id);
		return;
	}
	if (strcmp(what, "outputs")) {
		ref_diag(rc, DIAG_ERROR, "expression", e->segment_pos[2],
			 "stages.%s has no field '%s' (use outputs.<name> or status)", sid, what);
		return;
	}
	if (!ordered && rc->v->dag->acyclic)
		ref_diag(rc, DIAG_ERROR, "dag", e->pos, "uses an output of stage '%s' but "
			 "'%s' does not depend on it; add '%s' to depends_on", sid,
			 rc->stage->id, sid);
	if (e->nr_segments < 4)
		return;
	const struct swdl_output *out = find_output(target, e->segments[3]);
	if (!out) {
		struct strbuf sb = STRBUF_INIT;
		list_outputs(&sb, target);
		ref_diag(rc, DIAG_ERROR, "expression", e->segment_pos[3],
			 "stage '%s' does not declare output '%s'; declared outputs: %s",
			 sid, e->segments[3], sb.buf);
		strbuf_release(&sb);
		return;
	}
	/* A fan-out's output is a list: one value per item. */
	char list_type[300];
	const char *type = out->type;
	if (target->type == STAGE_FAN_OUT) {
		snprintf(list_type, sizeof(list_type), "array<%s>", out->type);
		type = list_type;
	}
	if (rc->input_type && e->nr_segments == 4 && !swdl_types_compatible(rc->input_type, type))
		ref_diag(rc, DIAG_WARNING, "expression", e->pos,
			 "type mismatch: input expects '%s' but stage '%s' output '%s' is '%s'",
			 rc->input_type, sid, out->name, type);
}

static bool param_declared(const struct swdl_workflow *wf, const char *name)
{
	for (size_t i = 0; i < wf->nr_params; i++)
		if (!strcmp(wf->params[i].name, name))
			return true;
	return false;
}

static void check_known_field(struct ref_check *rc, const struct expr *e,
			      const char *const *fields)
{
	if (e->nr_segments < 2)
		return;
	for (size_t i = 0; fields[i]; i++)
		if (!strcmp(e->segments[1], fields[i]))
			return;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; fields[i]; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", fields[i]);
	ref_diag(rc, DIAG_WARNING, "expression", e->segment_pos[1],
		 "%s.%s is not a known field (known: %s); it evaluates to null",
		 e->segments[0], e->segments[1], sb.buf);
	strbuf_release(&sb);
}

static void check_role_ref(struct ref_check *rc, const struct expr *e)
{
	const struct swdl_workflow *wf = rc->v->wf;
	if (e->nr_segments < 2 || swdl_role_find(wf, e->segments[1]))
		return;
	const char *near = swdl_role_suggest(wf, e->segments[1]);
	ref_diag(rc, DIAG_ERROR, "expression", e->segment_pos[1], "role '%s' is not declared%s%s%s",
		 e->segments[1], near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

/* fan_out.item / fan_out.index: only inside a fan-out stage's own fields. */
static void check_fan_out_ref(struct ref_check *rc, const struct expr *e)
{
	static const char *const fields[] = { "item", "index", NULL };
	if (!rc->stage || rc->stage->type != STAGE_FAN_OUT) {
		ref_diag(rc, DIAG_ERROR, "expression", e->pos, "fan_out.* is only defined in a "
			 "fan_out stage (it names the item the stage is running for)");
		return;
	}
	check_known_field(rc, e, fields);
}

static void check_path(struct ref_check *rc, const struct expr *e)
{
	static const char *const workflow_fields[] = { "id", "name", "version",
		"description", "author", "tags", NULL };
	static const char *const run_fields[] = { "id", "execution_id", "started_at",
		"workflow_id", NULL };
	const char *ns = e->segments[0];
	if (!strcmp(ns, "parameters")) {
		if (e->nr_segments >= 2 && !param_declared(rc->v->wf, e->segments[1])) {
			struct strbuf sb = STRBUF_INIT;
			for (size_t i = 0; i < rc->v->wf->nr_params; i++)
				strbuf_addf(&sb, "%s%s", i ? ", " : "", rc->v->wf->params[i].name);
			ref_diag(rc, DIAG_ERROR, "expression", e->segment_pos[1],
				 "expression references undeclared parameter '%s'; declared "
				 "parameters: %s", e->segments[1], sb.len ? sb.buf : "(none)");
			strbuf_release(&sb);
		}
	} else if (!strcmp(ns, "stages")) {
		check_stage_ref(rc, e);
	} else if (!strcmp(ns, "workflow")) {
		check_known_field(rc, e, workflow_fields);
	} else if (!strcmp(ns, "run")) {
		check_known_field(rc, e, run_fields);
	} else if (!strcmp(ns, "roles")) {
		check_role_ref(rc, e);
	} else if (!strcmp(ns, "fan_out")) {
		check_fan_out_ref(rc, e);
	} else if (strcmp(ns, "env") && strcmp(ns, "context")) {
		ref_diag(rc, DIAG_ERROR, "expression", e->pos, "unknown namespace '%s' "
			 "(valid: context, env, fan_out, parameters, roles, run, stages, "
			 "workflow)", ns);
	}
}

static void visit(const struct expr *e, void *data)
{
	struct ref_check *rc = data;
	if (e->kind == EXPR_PATH) {
		check_path(rc, e);
		return;
	}
	const struct expr_function *f = expr_function_find(e->str);
	if (!f)
		ref_diag(rc, DIAG_ERROR, "expression", e->pos, "unknown function '%s' "
			 "(available: contains, fromJSON, length, toJSON)", e->str);
	else if (e->nr_args < f->min_args || e->nr_args > f->max_args)
		ref_diag(rc, DIAG_ERROR, "expression", e->pos, "%s() expects %zu argument%s, "
			 "got %zu", f->name, f->min_args, f->min_args == 1 ? "" : "s", e->nr_args);
}

/* Check one text field: a template, or (is_condition) a condition. */
static void check_text(struct vctx *v, const struct swdl_stage *s, const struct node *n,
		       const char *field, bool is_condition, const char *input_type)
{
	if (!n || n->kind != NODE_STRING)
		return;
	struct ref_check rc = { v, s, field, n, 0, input_type };
	struct expr_error err;
	if (is_condition) {
		struct expr *e;
		size_t off;
		if (expr_parse_condition(&v->scratch, n->text, &e, &off, &err)) {
			ref_diag(&rc, DIAG_ERROR, "expression", err.pos,
				 "expression parse error: %s", err.msg);
			return;
		}
		rc.base = off;
		expr_walk(e, visit, &rc);
		return;
	}
	struct tmpl t;
	if (tmpl_parse(&v->scratch, n->text, &t, &err)) {
		ref_diag(&rc, DIAG_ERROR, "expression", err.pos, "expression parse error: %s",
			 err.msg);
		return;
	}
	for (size_t i = 0; i < t.nr; i++) {
		if (!t.parts[i].is_expr)
			continue;
		rc.base = t.parts[i].offset;
		/* Type checks only for a source that is exactly one placeholder. */
		rc.input_type = t.nr == 1 && t.parts[i].expr->kind == EXPR_PATH ? input_type : NULL;
		expr_walk(t.parts[i].expr, visit, &rc);
	}
}

static void check_stage_expressions(struct vctx *v, const struct swdl_stage *s)
{
	char field[300];
	const struct node *m = s->node;
	for (size_t i = 0; i < s->nr_inputs; i++) {
		snprintf(field, sizeof(field), "inputs.%s.source", s->inputs[i].name);
		const struct node *in = node_map_get(node_map_get(m, "inputs"), s->inputs[i].name);
		check_text(v, s, node_map_get(in, "source"), field, false, s->inputs[i].type);
	}
	check_text(v, s, node_map_get(m, "condition"), "condition", true, NULL);
	const struct node *roles = node_map_get(node_map_get(m, "roles"), "primary");
	check_text(v, s, node_map_get(roles, "instructions"), "roles.primary.instructions",
		   false, NULL);
	check_text(v, s, node_map_get(node_map_get(m, "gate"), "message"), "gate.message",
		   false, NULL);
	check_text(v, s, node_map_get(node_map_get(m, "handoff"), "summary_prompt"),
		   "handoff.summary_prompt", false, NULL);
	const struct node *env = node_map_get(m, "env");
	for (size_t i = 0; env && env->kind == NODE_MAP && i < env->nr; i++) {
		snprintf(field, sizeof(field), "env.%s", env->pairs[i].key->text);
		check_text(v, s, env->pairs[i].value, field, false, NULL);
	}
	check_text(v, s, node_map_get(m, "working_directory"), "working_directory", false, NULL);
	check_text(v, s, node_map_get(node_map_get(m, "fan_out"), "items"), "fan_out.items",
		   false, "array");
	const struct node *nre = node_map_get(node_map_get(node_map_get(m, "error_policy"),
							   "retry"), "non_retryable_errors");
	for (size_t i = 0; nre && nre->kind == NODE_SEQ && i < nre->nr; i++) {
		snprintf(field, sizeof(field), "error_policy.retry.non_retryable_errors[%zu]", i);
		check_text(v, s, nre->items[i], field, false, NULL);
	}
}

static void check_env_expressions(struct vctx *v)
{
	const struct node *env = node_map_get(node_map_get(v->wf->root, "config"), "env");
	if (!env || env->kind != NODE_MAP)
		return;
	for (size_t i = 0; i < env->nr; i++) {
		char field[300];
		snprintf(field, sizeof(field), "config.env.%s", env->pairs[i].key->text);
		check_text(v, NULL, env->pairs[i].value, field, false, NULL);
	}
}

/* ---- artifact references ------------------------------------------------- */

static void check_ref(struct vctx *v, const struct swdl_stage *s, const char *ref,
		      const char *field, const char *example)
{
	struct loc loc = swdl_stage_loc(s, field);
	const char *colon = strchr(ref, ':');
	if (!colon || colon == ref || !colon[1]) {
		diag_add(v->dl, DIAG_ERROR, &loc, "artifact", s->id, field,
			 "'%s' must follow the '<type>:<name>' format (e.g. '%s')", ref, example);
		return;
	}
	size_t tlen = (size_t)(colon - ref);
	if (!swdl_artifact_type_known(ref, tlen))
		diag_add(v->dl, DIAG_WARNING, &loc, "artifact", s->id, field,
			 "unknown artifact type '%.*s' in '%s' (known: agent, skill, command, "
			 "mcp, hook, workflow, composite)", (int)tlen, ref, ref);
}

/* A role's "${{ roles.X }}" or another expression: roles.c checks those. */
static bool is_expression(const char *ref)
{
	return strstr(ref, "${{") != NULL;
}

static void check_stage_refs(struct vctx *v, const struct swdl_stage *s)
{
	if (s->artifact && !is_expression(s->artifact)) {
		check_ref(v, s, s->artifact, "roles.primary.artifact", "agent:researcher-v1");
		if (strncmp(s->artifact, "agent:", 6) && strncmp(s->artifact, "skill:", 6) &&
		    strchr(s->artifact, ':')) {
			struct loc loc = swdl_stage_loc(s, "roles.primary.artifact");
			diag_add(v->dl, DIAG_WARNING, &loc, "artifact", s->id,
				 "roles.primary.artifact", "the primary role is normally an "
				 "agent: or skill: artifact, got '%s'", s->artifact);
		}
	}
	for (size_t i = 0; i < s->tools.nr; i++) {
		char field[40];
		snprintf(field, sizeof(field), "roles.tools[%zu]", i);
		if (!is_expression(s->tools.v[i]))
			check_ref(v, s, s->tools.v[i], field, "skill:web-search");
	}
	for (size_t i = 0; i < s->modules.nr; i++) {
		if (!strncmp(s->modules.v[i], "ctx:", 4) && s->modules.v[i][4])
			continue;
		char field[40];
		snprintf(field, sizeof(field), "context.modules[%zu]", i);
		struct loc loc = swdl_stage_loc(s, field);
		diag_add(v->dl, DIAG_ERROR, &loc, "artifact", s->id, field,
			 "context module '%s' must be written 'ctx:<name>'", s->modules.v[i]);
	}
}

static void check_global_modules(struct vctx *v)
{
	const struct node *gm = node_map_get(node_map_get(v->wf->root, "context"),
					     "global_modules");
	for (size_t i = 0; i < v->wf->global_modules.nr; i++) {
		const char *m = v->wf->global_modules.v[i];
		if (!strncmp(m, "ctx:", 4) && m[4])
			continue;
		char field[48];
		snprintf(field, sizeof(field), "context.global_modules[%zu]", i);
		const struct node *n = gm && gm->kind == NODE_SEQ && i < gm->nr ? gm->items[i] : gm;
		diag_add(v->dl, DIAG_ERROR, n ? &n->loc : NULL, "artifact", NULL, field,
			 "context module '%s' must be written 'ctx:<name>'", m);
	}
}

/* ---- semantic checks upstream misses ------------------------------------- */

static bool id_is_referenceable(const char *id)
{
	if (!isalpha((unsigned char)id[0]) && id[0] != '_')
		return false;
	for (const char *p = id + 1; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return false;
	return true;
}

static void check_type_name(struct vctx *v, const struct swdl_stage *s, const char *type,
			    const char *field, const struct node *at, enum diag_severity sev)
{
	const char *near = swdl_type_suggest(type);
	diag_add(v->dl, sev, at ? &at->loc : NULL, "schema", s ? s->id : NULL, field,
		 "unknown type '%s'%s%s%s (types: string, integer, number, boolean, array, "
		 "object, any, array<T>)", type, near ? "; did you mean '" : "",
		 near ? near : "", near ? "'?" : "");
}

static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

/* A key of the stage one edit from `key` (already reported as a typo of it). */
static bool has_typo_of(const struct swdl_stage *s, const char *key)
{
	for (size_t i = 0; s->node && s->node->kind == NODE_MAP && i < s->node->nr; i++)
		if (edit_distance(s->node->pairs[i].key->text, key) == 1)
			return true;
	return false;
}

/* `type:` is there but names no type (already reported): its own checks would mislead. */
static bool type_unknown(const struct swdl_stage *s)
{
	const struct node *t = node_map_get(s->node, "type");
	return t && (t->kind != NODE_STRING || strcmp(t->text, stage_type_names[s->type]));
}

/*
 * Command stages: a script is required, and it is never interpolated:
 * values reach it through env: and $SKILLMEAT_INPUTS, so no expression
 * value can become shell text.
 */
static void check_command_stage(struct vctx *v, const struct swdl_stage *s)
{
	struct loc loc;
	if (!swdl_stage_is_command(s)) {
		static const char *const fields[] = { "run", "shell", "working_directory", "env" };
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
			if (!node_map_get(s->node, fields[i]))
				continue;
			loc = swdl_stage_loc(s, fields[i]);
			diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, fields[i],
				 "'%s' only applies to command stages; it is ignored on %s %s "
				 "stage", fields[i], article(stage_type_names[s->type]),
				 stage_type_names[s->type]);
		}
		return;
	}
	/* A `run:` of the wrong type, or a misspelt one, has its own error already. */
	bool reported = (!s->run && node_map_get(s->node, "run")) || has_typo_of(s, "run");
	if ((!s->run || !*s->run) && !reported) {
		loc = swdl_stage_loc(s, s->run ? "run" : "type");
		diag_add(v->dl, DIAG_ERROR, &loc, "schema", s->id, "run",
			 "command stage has no script: set run");
	} else if (s->run && strstr(s->run, "${{")) {
		loc = swdl_stage_loc(s, "run");
		diag_add(v->dl, DIAG_ERROR, &loc, "expression", s->id, "run",
			 "run is not interpolated (a value would become shell text); pass "
			 "values through env: (\"X: ${{ ... }}\", then \"$X\") or inputs");
	}
	if (s->artifact) {
		loc = swdl_stage_loc(s, "roles");
		diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, "roles",
			 "roles are ignored on a command stage");
	}
}

static void check_fan_out_stage(struct vctx *v, const struct swdl_stage *s)
{
	struct loc loc;
	if (s->type != STAGE_FAN_OUT) {
		if (s->fan_out) {
			loc = swdl_stage_loc(s, "fan_out");
			diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, "fan_out",
				 "fan_out settings on %s %s stage are ignored (set type: fan_out)",
				 article(stage_type_names[s->type]), stage_type_names[s->type]);
		}
		return;
	}
	if (!s->fan_out && !has_typo_of(s, "fan_out")) {
		loc = swdl_stage_loc(s, "type");
		diag_add(v->dl, DIAG_ERROR, &loc, "schema", s->id, "fan_out.items",
			 "fan_out stage has no item list: set fan_out.items (an expression "
			 "yielding a list, e.g. \"${{ parameters.files }}\")");
	} else if (s->fan_out && s->fan_out->items && !strstr(s->fan_out->items, "${{")) {
		loc = swdl_stage_loc(s, "fan_out.items");
		diag_add(v->dl, DIAG_ERROR, &loc, "expression", s->id, "fan_out.items",
			 "fan_out.items must be an expression yielding a list, e.g. "
			 "\"${{ parameters.files }}\"");
	}
	if (s->fan_out && s->fan_out->max_items > 100000) {
		loc = swdl_stage_loc(s, "fan_out.max_items");
		diag_add(v->dl, DIAG_ERROR, &loc, "schema", s->id, "fan_out.max_items",
			 "max_items is at most 100000");
	}
}

/* What each type of stage needs (skipped when `type:` itself is wrong). */
static void check_stage_type(struct vctx *v, const struct swdl_stage *s)
{
	struct loc loc;
	check_command_stage(v, s);
	check_fan_out_stage(v, s);
	if (s->type != STAGE_GATE && !swdl_stage_is_command(s) && !s->artifact &&
	    !has_typo_of(s, "roles")) {
		loc = swdl_stage_loc(s, "roles");
		diag_add(v->dl, DIAG_ERROR, &loc, "schema", s->id, "roles.primary.artifact",
			 "%s stage has no agent: set roles.primary.artifact",
			 stage_type_names[s->type]);
	}
	if (s->type == STAGE_GATE && !node_map_get(s->node, "gate")) {
		loc = swdl_stage_loc(s, "type");
		diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, "gate",
			 "gate stage has no gate settings; defaults apply (manual_approval, "
			 "no approvers, 24h timeout, on_timeout halt)");
	}
	if (s->type != STAGE_GATE && node_map_get(s->node, "gate")) {
		loc = swdl_stage_loc(s, "gate");
		diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, "gate",
			 "gate settings on %s %s stage are ignored", article(stage_type_names[s->type]),
			 stage_type_names[s->type]);
	}
}

static void check_stage_semantics(struct vctx *v, const struct swdl_stage *s)
{
	struct loc loc;
	if (!*s->id || !id_is_referenceable(s->id) || !fs_name_safe(s->id))
		loc = swdl_stage_loc(s, "id");
	if (!*s->id)
		diag_add(v->dl, DIAG_ERROR, &loc, "schema", NULL, "id", "stage id is empty");
	else if (!fs_name_safe(s->id)) /* it names the stage's folder in a run */
		diag_add(v->dl, DIAG_ERROR, &loc, "schema", NULL, "id", "stage id '%s' is not "
			 "a safe folder name: use up to %d letters, digits, '.', '-' and '_', not "
			 "starting with '.'", s->id, FS_NAME_MAX);
	else if (!id_is_referenceable(s->id))
		diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, "id",
			 "stage id '%s' cannot be used in expressions; use letters, digits, "
			 "'-' and '_', starting with a letter", s->id);
	if (!type_unknown(s))
		check_stage_type(v, s);
	for (size_t i = 0; i < s->nr_inputs; i++) {
		if (swdl_type_known(s->inputs[i].type))
			continue;
		char field[300];
		snprintf(field, sizeof(field), "inputs.%s.type", s->inputs[i].name);
		const struct node *at = node_path_nearest(s->node, field);
		check_type_name(v, s, s->inputs[i].type, field, at, DIAG_WARNING);
	}
	for (size_t i = 0; i < s->nr_outputs; i++) {
		if (!fs_name_safe(s->outputs[i].name)) {
			loc = swdl_stage_loc(s, "outputs");
			diag_add(v->dl, DIAG_ERROR, &loc, "schema", s->id, "outputs", "output name "
				 "'%s' is not a safe name: use up to %d letters, digits, '.', '-' and "
				 "'_', not starting with '.'", s->outputs[i].name, FS_NAME_MAX);
		}
		if (swdl_type_known(s->outputs[i].type))
			continue;
		char field[300];
		snprintf(field, sizeof(field), "outputs.%s.type", s->outputs[i].name);
		const struct node *at = node_path_nearest(s->node, field);
		check_type_name(v, s, s->outputs[i].type, field, at, DIAG_WARNING);
	}
	for (size_t i = 0; i < s->depends_on.nr; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->depends_on.v[i], s->depends_on.v[j])) {
				char field[40];
				snprintf(field, sizeof(field), "depends_on[%zu]", i);
				loc = swdl_stage_loc(s, field);
				diag_add(v->dl, DIAG_WARNING, &loc, "dag", s->id, field,
					 "'%s' is listed twice in depends_on", s->depends_on.v[i]);
			}
	const struct swdl_retry *r = s->error_policy ? s->error_policy->retry : NULL;
	if (r && r->initial_interval.seconds > r->max_interval.seconds) {
		loc = swdl_stage_loc(s, "error_policy.retry");
		diag_add(v->dl, DIAG_WARNING, &loc, "schema", s->id, "error_policy.retry",
			 "initial_interval (%s) is longer than max_interval (%s)",
			 r->initial_interval.text, r->max_interval.text);
	}
}

static void check_params(struct vctx *v)
{
	const struct node *pn = node_map_get(node_map_get(v->wf->root, "config"), "parameters");
	for (size_t i = 0; i < v->wf->nr_params; i++) {
		const struct swdl_param *p = &v->wf->params[i];
		const struct node *pm = node_map_get(pn, p->name);
		char field[300];
		snprintf(field, sizeof(field), "config.parameters.%s.type", p->name);
		if (*p->type && !swdl_type_known(p->type))
			check_type_name(v, NULL, p->type, field, node_map_get(pm, "type"), DIAG_ERROR);
		if (!p->default_value || p->default_value->kind == NODE_NULL ||
		    !swdl_type_known(p->type))
			continue;
		json_t *d = node_to_json(p->default_value);
		if (!swdl_type_accepts(p->type, d)) {
			/*
			 * A boolean, integer or number default that fits neither YAML
			 * reading would change meaning silently (a string "off" is
			 * truthy): an error.  An integral 3.0 for an integer stays a warning.
			 */
			bool scalar_type = !strcmp(p->type, "boolean") || !strcmp(p->type, "number") ||
					   (!strcmp(p->type, "integer") && !json_is_real(d));
			snprintf(field, sizeof(field), "config.parameters.%s.default", p->name);
			diag_add(v->dl, scalar_type ? DIAG_ERROR : DIAG_WARNING, &p->default_value->loc,
				 "schema", NULL, field, "default %s%s%s%s does not fit the declared "
				 "type '%s'%s", node_kind_name(p->default_value->kind),
				 node_is_scalar(p->default_value) ? " '" : "",
				 node_is_scalar(p->default_value) ? p->default_value->text : "",
				 node_is_scalar(p->default_value) ? "'" : "", p->type,
				 scalar_type ? " (read as YAML 1.1 or 1.2 alike)" : "");
		}
		json_decref(d);
	}
}

int swdl_validate(const struct swdl_workflow *wf, struct swdl_dag *dag, struct diag_list *dl)
{
	struct vctx v = { wf, dag, dl, ARENA_INIT, dl->errors };
	swdl_dag_build(wf, dag, dl);
	if (!*wf->id) {
		const struct node *n = node_map_get(wf->root, "workflow");
		if (n && node_map_get(n, "id"))
			diag_add(dl, DIAG_ERROR, &node_map_get(n, "id")->loc, "schema", NULL,
				 "workflow.id", "workflow id is empty");
	}
	check_params(&v);
	check_env_expressions(&v);
	check_global_modules(&v);
	swdl_roles_check(wf, dl);
	for (size_t i = 0; i < wf->nr_stages; i++) {
		check_stage_semantics(&v, &wf->stages[i]);
		check_stage_refs(&v, &wf->stages[i]);
		check_stage_expressions(&v, &wf->stages[i]);
	}
	arena_free(&v.scratch);
	return dl->errors > v.before_errors ? SM_ERR : SM_OK;
}
