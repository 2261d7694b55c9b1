#include "../base/compat.h"
#include "plan.h"
#include "types.h"
#include "expr.h"
#include "../base/duration.h"

/* ---- parameters ---------------------------------------------------------- */

static const struct plan_param *find_given(const struct plan_param *given, size_t n,
					   const char *name)
{
	const struct plan_param *found = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(given[i].name, name))
			found = &given[i]; /* the last --param wins */
	return found;
}

static bool declared(const struct swdl_workflow *wf, const char *name)
{
	for (size_t i = 0; i < wf->nr_params; i++)
		if (!strcmp(wf->params[i].name, name))
			return true;
	return false;
}

json_t *swdl_plan_parameters(const struct swdl_workflow *wf, const struct plan_param *given,
			     size_t nr_given, bool allow_extra, struct diag_list *dl)
{
	json_t *out = json_object();
	size_t errors = dl->errors;
	for (size_t i = 0; i < wf->nr_params; i++) {
		const struct swdl_param *p = &wf->params[i];
		const struct plan_param *g = find_given(given, nr_given, p->name);
		char field[300];
		snprintf(field, sizeof(field), "config.parameters.%s", p->name);
		if (g) {
			char *err;
			json_t *v = swdl_type_coerce(p->type, g->value, &err);
			if (!v) {
				diag_add(dl, DIAG_ERROR, NULL, "parameter", NULL, field,
					 "--param %s=%s: %s (declared type '%s')", p->name,
					 g->value, err, p->type);
				free(err);
				continue;
			}
			json_object_set_new(out, p->name, v);
		} else if (p->default_value && p->default_value->kind != NODE_NULL) {
			json_object_set_new(out, p->name, node_to_json(p->default_value));
		} else if (p->required) {
			const struct node *at = node_path_nearest(wf->root, field);
			diag_add(dl, DIAG_ERROR, at ? &at->loc : NULL, "parameter", NULL, field,
				 "required parameter '%s' was not provided and has no default "
				 "(pass --param %s=VALUE)", p->name, p->name);
		}
	}
	for (size_t i = 0; i < nr_given; i++) {
		const struct plan_param *g = &given[i];
		if (declared(wf, g->name) || find_given(given, nr_given, g->name) != g)
			continue;
		if (!allow_extra) {
			diag_add(dl, DIAG_ERROR, NULL, "parameter", NULL, NULL,
				 "unknown parameter '%s' (not declared in config.parameters; "
				 "use --allow-extra-params to pass it anyway)", g->name);
			continue;
		}
		json_object_set_new(out, g->name, json_string(g->value));
	}
	if (dl->errors > errors) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Does the expression read anything but parameters and workflow fields? */
static void note_dynamic(const struct expr *e, void *data)
{
	if (e->kind == EXPR_PATH && strcmp(e->segments[0], "parameters") &&
	    strcmp(e->segments[0], "workflow"))
		*(bool *)data = true;
}

static int64_t count_items(struct swdl_workflow *wf, const char *text, json_t *params)
{
	struct arena a = ARENA_INIT;
	struct tmpl t;
	struct expr_error pe;
	bool dynamic = false;
	int64_t n = -1;
	if (!tmpl_parse(&a, text, &t, &pe) && t.nr == 1 && t.parts[0].is_expr) {
		expr_walk(t.parts[0].expr, note_dynamic, &dynamic);
		json_t *ctx = json_pack("{s:O, s:{s:s, s:s}}", "parameters", params, "workflow",
					"id", wf->id, "name", wf->name);
		char *err = NULL;
		json_t *v = dynamic ? NULL : expr_eval(t.parts[0].expr, ctx, &err);
		if (json_is_array(v))
			n = (int64_t)json_array_size(v);
		json_decref(v);
		json_decref(ctx);
		free(err);
	}
	arena_free(&a);
	return n;
}

void swdl_plan_fan_out(struct swdl_workflow *wf, json_t *params, struct diag_list *dl)
{
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		struct swdl_fan_out *f = s->fan_out;
		if (!f || s->type != STAGE_FAN_OUT)
			continue;
		f->planned_items = f->items ? count_items(wf, f->items, params) : -1;
		if (f->planned_items > f->max_items) {
			struct loc loc = swdl_stage_loc(s, "fan_out.items");
			diag_add(dl, DIAG_ERROR, &loc, "fan_out", s->id, "fan_out.items",
				 "fan_out.items yields %lld items, more than max_items (%lld); "
				 "raise fan_out.max_items if that many is meant",
				 (long long)f->planned_items, (long long)f->max_items);
		}
	}
}

int64_t swdl_plan_runs(const struct swdl_stage *s)
{
	if (s->type != STAGE_FAN_OUT || !s->fan_out || s->fan_out->planned_items < 0)
		return 1;
	return s->fan_out->planned_items;
}

int64_t swdl_plan_estimate(const struct swdl_workflow *wf, const struct swdl_dag *dag)
{
	int64_t total = 0;
	for (size_t b = 0; b < dag->nr_batches; b++) {
		int64_t longest = 0;
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++) {
			const struct swdl_stage *s = &wf->stages[dag->batch_items[k]];
			int64_t t = s->error_policy ? s->error_policy->timeout.seconds : 0;
			int64_t n = swdl_plan_runs(s), p = s->fan_out && s->fan_out->max_parallel
				? s->fan_out->max_parallel : 4;
			if (s->type == STAGE_FAN_OUT)
				t *= (n + p - 1) / p;
			if (t > longest)
				longest = t;
		}
		total += longest;
	}
	return total;
}

void plan_override_release(struct plan_override *po)
{
	for (size_t i = 0; i < po->nr; i++) {
		free(po->entries[i].before);
		free(po->entries[i].after);
	}
	free(po->entries);
	memset(po, 0, sizeof(*po));
}

/* ---- JSON form (streamed: a 10,000-stage plan is written, not built) ---- */

void diag_list_write_json(struct jsonw *w, const struct diag_list *dl,
			  enum diag_severity only, bool filter)
{
	jw_array(w);
	for (size_t i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];
		if (filter && d->severity != only)
			continue;
		jw_object(w);
		jw_kstring(w, "severity", diag_severity_name(d->severity));
		jw_kstring(w, "file", d->file);
		jw_key(w, "line");
		d->line ? jw_int(w, d->line) : jw_null(w);
		jw_key(w, "column");
		d->col ? jw_int(w, d->col) : jw_null(w);
		jw_kstring(w, "category", d->category);
		jw_kstring(w, "stage_id", d->stage_id);
		jw_kstring(w, "field", d->field);
		jw_kstring(w, "message", d->message);
		jw_end(w);
	}
	jw_end(w);
}

static void write_strs(struct jsonw *w, const char *key, const struct str_list *l)
{
	jw_key(w, key);
	jw_array(w);
	for (size_t i = 0; i < l->nr; i++)
		jw_string(w, l->v[i]);
	jw_end(w);
}

static void write_retry(struct jsonw *w, const struct swdl_retry *r)
{
	jw_key(w, "retry");
	if (!r) {
		jw_null(w);
		return;
	}
	jw_object(w);
	jw_kint(w, "max_attempts", r->max_attempts);
	jw_kstring(w, "initial_interval", r->initial_interval.text);
	jw_key(w, "backoff_multiplier");
	jw_real(w, r->backoff_multiplier);
	jw_kstring(w, "max_interval", r->max_interval.text);
	write_strs(w, "non_retryable_errors", &r->non_retryable_errors);
	jw_end(w);
}

static void write_stage_overrides(struct jsonw *w, const struct plan_override *po,
				  const char *stage_id)
{
	jw_key(w, "overrides");
	jw_array(w);
	for (size_t i = 0; po && i < po->nr; i++) {
		const struct plan_override_entry *e = &po->entries[i];
		if (!e->stage_id || strcmp(e->stage_id, stage_id))
			continue;
		jw_object(w);
		jw_kstring(w, "field", e->field);
		jw_kstring(w, "before", e->before);
		jw_kstring(w, "after", e->after);
		jw_end(w);
	}
	jw_end(w);
}

static void write_ref(struct jsonw *w, const struct plan_refs *refs, const char *ref,
		      const char *role)
{
	const char *path = refs->path_of(refs->data, ref);
	jw_object(w);
	jw_kstring(w, "ref", ref);
	jw_kstring(w, "role", role);
	jw_kbool(w, "found", path != NULL);
	jw_kstring(w, "path", path);
	jw_end(w);
}

static void write_stage_refs(struct jsonw *w, const struct swdl_stage *s,
			     const struct plan_refs *refs)
{
	if (!refs)
		return;
	jw_key(w, "artifacts");
	jw_array(w);
	if (s->artifact && strchr(s->artifact, ':'))
		write_ref(w, refs, s->artifact, "primary");
	for (size_t i = 0; i < s->tools.nr; i++)
		if (strchr(s->tools.v[i], ':'))
			write_ref(w, refs, s->tools.v[i], "tool");
	for (size_t i = 0; i < s->modules.nr; i++)
		if (strchr(s->modules.v[i], ':'))
			write_ref(w, refs, s->modules.v[i], "context");
	jw_end(w);
}

/* "--bind", "overrides file PATH", "default". */
static void add_role_source(struct strbuf *out, const struct swdl_role *r)
{
	if (r->source == ROLE_OVERRIDES)
		strbuf_addf(out, "overrides file %s", r->source_file ? r->source_file : "?");
	else if (r->source == ROLE_REQUEST)
		strbuf_addstr(out, "the request");
	else
		strbuf_addstr(out, role_source_names[r->source]);
}

static void write_role_binding(struct jsonw *w, const struct swdl_role *r)
{
	jw_object(w);
	jw_kstring(w, "name", r->name);
	jw_kstring(w, "artifact", r->bound);
	jw_kstring(w, "source", role_source_names[r->source]);
	jw_kstring(w, "file", r->source_file);
	jw_end(w);
}

static void write_stage_roles(struct jsonw *w, const struct swdl_workflow *wf,
			      const struct swdl_stage *s)
{
	const struct swdl_role *r = s->artifact_role ? swdl_role_find(wf, s->artifact_role)
						      : NULL;
	if (r) {
		jw_key(w, "role");
		write_role_binding(w, r);
	}
	bool any = false;
	for (size_t i = 0; i < s->tools.nr; i++)
		any |= s->tool_roles[i] != NULL;
	if (!any)
		return;
	jw_key(w, "tool_roles");
	jw_array(w);
	for (size_t i = 0; i < s->tools.nr; i++) {
		r = s->tool_roles[i] ? swdl_role_find(wf, s->tool_roles[i]) : NULL;
		if (r)
			write_role_binding(w, r);
		else
			jw_null(w);
	}
	jw_end(w);
}

/* Upstream's ExecutionPlanStage fields first, then ours. */
static void write_stage(struct jsonw *w, const struct swdl_workflow *wf,
			const struct swdl_stage *s, size_t batch, const struct plan_override *po,
			const struct plan_refs *refs, const struct plan_extra *extra)
{
	static const struct str_list none = { 0, NULL };
	const struct swdl_error_policy *ep = s->error_policy;
	bool gate = s->type == STAGE_GATE && s->gate;
	jw_object(w);
	jw_kstring(w, "stage_id", s->id);
	jw_kstring(w, "name", s->name);
	jw_kstring(w, "stage_type", stage_type_names[s->type]);
	jw_kstring(w, "primary_artifact", s->artifact);
	jw_kstring(w, "model", s->model);
	write_strs(w, "tools", &s->tools);
	jw_key(w, "inputs");
	jw_object(w);
	for (size_t i = 0; i < s->nr_inputs; i++)
		jw_kstring(w, s->inputs[i].name, s->inputs[i].source ? s->inputs[i].source
								    : "(no source)");
	jw_end(w);
	jw_key(w, "outputs");
	jw_array(w);
	for (size_t i = 0; i < s->nr_outputs; i++)
		jw_string(w, s->outputs[i].name);
	jw_end(w);
	write_strs(w, "context_modules", &s->modules);
	jw_kstring(w, "timeout", ep ? ep->timeout.text : NULL);
	jw_kstring(w, "condition", s->condition);
	write_strs(w, "depends_on", &s->depends_on);
	write_strs(w, "gate_approvers", gate ? &s->gate->approvers : &none);
	jw_kstring(w, "gate_timeout", gate ? s->gate->timeout.text : NULL);
	jw_kint(w, "batch", (int64_t)batch);
	jw_kint(w, "timeout_seconds", ep ? ep->timeout.seconds : 0);
	jw_kstring(w, "on_failure", ep ? on_failure_names[ep->on_failure] : "halt");
	write_retry(w, ep ? ep->retry : NULL);
	jw_kstring(w, "instructions", s->instructions);
	if (gate) {
		jw_key(w, "gate");
		jw_object(w);
		jw_kstring(w, "kind", s->gate->kind);
		jw_kstring(w, "on_timeout", on_timeout_names[s->gate->on_timeout]);
		jw_kstring(w, "message", s->gate->message);
		jw_end(w);
	}
	write_stage_overrides(w, po, s->id);
	write_stage_roles(w, wf, s);
	if (s->type == STAGE_FAN_OUT && s->fan_out) {
		jw_key(w, "fan_out");
		jw_object(w);
		jw_kstring(w, "items", s->fan_out->items);
		jw_key(w, "item_count");
		if (s->fan_out->planned_items >= 0)
			jw_int(w, s->fan_out->planned_items);
		else
			jw_null(w);
		jw_kbool(w, "dynamic", s->fan_out->planned_items < 0);
		jw_kint(w, "max_parallel", s->fan_out->max_parallel);
		jw_kstring(w, "on_item_failure", on_item_failure_names[s->fan_out->on_item_failure]);
		jw_kint(w, "max_items", s->fan_out->max_items);
		jw_end(w);
	}
	write_stage_refs(w, s, refs);
	if (extra && extra->stage_json) {
		jw_key(w, "context");
		extra->stage_json(extra->data, w, s);
	}
	jw_end(w);
}

void swdl_plan_write_json(struct jsonw *w, const struct swdl_workflow *wf,
			  const struct swdl_dag *dag, json_t *params,
			  const struct plan_override *po, const struct plan_refs *refs,
			  const struct plan_extra *extra, const struct diag_list *dl)
{
	int64_t est = swdl_plan_estimate(wf, dag);
	char est_text[64];
	duration_format(est, est_text, sizeof(est_text));
	jw_object(w);
	jw_kstring(w, "workflow_id", wf->id);
	jw_kstring(w, "workflow_name", wf->name);
	jw_kstring(w, "workflow_version", wf->version);
	jw_key(w, "parameters");
	jw_value(w, params);
	/* "written": the seed's short form without depends_on, chained in order. */
	jw_kstring(w, "stage_order", wf->written_order ? "written" : "dependencies");
	jw_key(w, "batches");
	jw_array(w);
	for (size_t b = 0; b < dag->nr_batches; b++) {
		jw_object(w);
		jw_kint(w, "index", (int64_t)b);
		jw_key(w, "stages");
		jw_array(w);
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++)
			write_stage(w, wf, &wf->stages[dag->batch_items[k]], b, po, refs, extra);
		jw_end(w);
		jw_end(w);
	}
	jw_end(w);
	jw_kint(w, "estimated_timeout_seconds", est);
	jw_kstring(w, "estimated_time", est_text);
	jw_key(w, "validation");
	jw_object(w);
	jw_kbool(w, "valid", dl->errors == 0);
	jw_key(w, "errors");
	diag_list_write_json(w, dl, DIAG_ERROR, true);
	jw_key(w, "warnings");
	diag_list_write_json(w, dl, DIAG_WARNING, true);
	jw_end(w);
	jw_kstring(w, "overrides_file", po ? po->file : NULL);
	jw_key(w, "roles");
	jw_array(w);
	for (size_t i = 0; i < wf->nr_roles; i++)
		if (wf->roles[i].bound)
			write_role_binding(w, &wf->roles[i]);
	jw_end(w);
	write_strs(w, "global_context_modules", &wf->global_modules);
	jw_key(w, "collection");
	if (refs) {
		jw_object(w);
		jw_kstring(w, "name", refs->collection);
		jw_kstring(w, "root", refs->root);
		jw_kint(w, "found_count", (int64_t)refs->found);
		jw_kint(w, "missing_count", (int64_t)refs->missing);
		jw_end(w);
	} else {
		jw_null(w);
	}
	if (extra && extra->tail_json) {
		jw_key(w, "estimate");
		extra->tail_json(extra->data, w);
	}
	jw_end(w);
}

/* ---- text form ----------------------------------------------------------- */

/* " [missing]" after a reference the collection does not have. */
static void add_ref_mark(struct strbuf *out, const struct plan_refs *refs, const char *ref)
{
	if (refs && strchr(ref, ':') && !refs->path_of(refs->data, ref))
		strbuf_addstr(out, " [missing]");
}

static void add_list(struct strbuf *out, const char *label, const struct str_list *l,
		     const struct plan_refs *refs)
{
	if (!l->nr)
		return;
	strbuf_addstr(out, "      ");
	strbuf_addstr(out, label);
	strbuf_addstr(out, ": ");
	for (size_t i = 0; i < l->nr; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		strbuf_addstr(out, l->v[i]);
		add_ref_mark(out, refs, l->v[i]);
	}
	strbuf_addch(out, '\n');
}

static void add_params_line(struct strbuf *out, json_t *params)
{
	strbuf_addstr(out, "Parameters: ");
	if (!params || !json_object_size(params)) {
		strbuf_addstr(out, "(none)\n");
		return;
	}
	/* Sorted keys, like upstream, so the line is stable. */
	size_t n = json_object_size(params), i = 0;
	const char **keys = xmalloc(n * sizeof(*keys));
	const char *k;
	json_t *v;
	json_object_foreach(params, k, v)
		keys[i++] = k;
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
			const char *t = keys[b];
			keys[b] = keys[b - 1];
			keys[b - 1] = t;
		}
	for (i = 0; i < n; i++) {
		strbuf_addf(out, "%s%s=", i ? ", " : "", keys[i]);
		expr_value_to_json(out, json_object_get(params, keys[i]));
	}
	strbuf_addch(out, '\n');
	free(keys);
}

static void add_retry_line(struct strbuf *out, const struct swdl_error_policy *ep)
{
	const struct swdl_retry *r = ep->retry;
	strbuf_addf(out, "      Timeout: %s", ep->timeout.text);
	if (r && r->max_attempts > 1)
		strbuf_addf(out, "; retries: up to %lld attempts (backoff %s x%g, max %s)",
			    (long long)r->max_attempts, r->initial_interval.text,
			    r->backoff_multiplier, r->max_interval.text);
	else
		strbuf_addstr(out, "; no retries");
	strbuf_addf(out, "; on failure: %s\n", on_failure_names[ep->on_failure]);
}

static void add_stage_overrides(struct strbuf *out, const struct plan_override *po,
				const char *stage_id)
{
	for (size_t i = 0; po && i < po->nr; i++) {
		const struct plan_override_entry *e = &po->entries[i];
		if (!e->stage_id || strcmp(e->stage_id, stage_id))
			continue;
		strbuf_addf(out, "      Override: %s: %s -> %s\n", e->field,
			    e->before ? e->before : "(unset)", e->after ? e->after : "(unset)");
	}
}

static void add_stage(struct strbuf *out, const struct swdl_workflow *wf,
		      const struct swdl_stage *s, const struct plan_override *po,
		      const struct plan_refs *refs, const struct plan_extra *extra)
{
	strbuf_addstr(out, "    [");
	strbuf_addstr(out, s->id);
	strbuf_addstr(out, "] ");
	strbuf_addstr(out, s->name);
	strbuf_addstr(out, s->type == STAGE_GATE ? "  (gate)\n"
		       : s->type == STAGE_FAN_OUT ? "  (fan_out)\n"
		       : s->type == STAGE_COMMAND ? "  (command)\n" : "\n");
	if (swdl_stage_is_command(s))
		strbuf_addf(out, "      Run: %.*s%s\n", (int)strcspn(s->run, "\n"), s->run,
			    s->run[strcspn(s->run, "\n")] ? " ..." : "");
	if (s->type == STAGE_FAN_OUT && s->fan_out) {
		const struct swdl_fan_out *f = s->fan_out;
		if (f->planned_items >= 0)
			strbuf_addf(out, "      Items: %lld (%s)", (long long)f->planned_items, f->items);
		else
			strbuf_addf(out, "      Items: dynamic (%s, known when the stage starts)",
				    f->items ? f->items : "?");
		strbuf_addf(out, "; at most %s%lld at once; on item failure: %s\n",
			    f->max_parallel ? "" : "the run's limit, default ",
			    (long long)(f->max_parallel ? f->max_parallel : 4),
			    on_item_failure_names[f->on_item_failure]);
	}
	if (s->type == STAGE_GATE && s->gate) {
		strbuf_addf(out, "      Type: %s\n", s->gate->kind);
		add_list(out, "Approvers", &s->gate->approvers, NULL);
		strbuf_addf(out, "      Gate timeout: %s (on timeout: %s)\n", s->gate->timeout.text,
			    on_timeout_names[s->gate->on_timeout]);
		if (s->gate->message)
			strbuf_addf(out, "      Message: %s\n", s->gate->message);
	}
	if (s->artifact) {
		strbuf_addstr(out, "      Agent: ");
		strbuf_addstr(out, s->artifact);
		if (s->model) {
			strbuf_addstr(out, " (");
			strbuf_addstr(out, s->model);
			strbuf_addch(out, ')');
		}
		add_ref_mark(out, refs, s->artifact);
		const struct swdl_role *r = s->artifact_role
			? swdl_role_find(wf, s->artifact_role) : NULL;
		if (r && r->bound) {
			strbuf_addf(out, "  [role %s, from ", r->name);
			add_role_source(out, r);
			strbuf_addch(out, ']');
		}
		strbuf_addch(out, '\n');
	}
	add_list(out, "Tools", &s->tools, refs);
	if (s->nr_inputs) {
		strbuf_addstr(out, "      Inputs: ");
		for (size_t i = 0; i < s->nr_inputs; i++) {
			if (i)
				strbuf_addstr(out, ", ");
			strbuf_addstr(out, s->inputs[i].name);
			strbuf_addstr(out, " <- ");
			strbuf_addstr(out, s->inputs[i].source ? s->inputs[i].source : "(no source)");
		}
		strbuf_addch(out, '\n');
	}
	if (s->nr_outputs) {
		strbuf_addstr(out, "      Outputs: ");
		for (size_t i = 0; i < s->nr_outputs; i++) {
			if (i)
				strbuf_addstr(out, ", ");
			strbuf_addstr(out, s->outputs[i].name);
		}
		strbuf_addch(out, '\n');
	}
	add_list(out, "Context", &s->modules, refs);
	if (s->condition)
		strbuf_addf(out, "      Condition: %s\n", s->condition);
	if (s->error_policy)
		add_retry_line(out, s->error_policy);
	add_stage_overrides(out, po, s->id);
	if (extra && extra->stage_text)
		extra->stage_text(extra->data, out, s);
}

static void add_ref_once(const char **seen, size_t *nr, size_t cap, const char *ref)
{
	for (size_t i = 0; i < *nr; i++)
		if (!strcmp(seen[i], ref))
			return;
	if (*nr < cap)
		seen[(*nr)++] = ref;
}

/* No collection: say which artifacts could not be checked, and how to get one. */
static void add_unchecked(struct strbuf *out, const struct swdl_workflow *wf)
{
	const char *seen[256];
	size_t nr = 0;
	for (size_t i = 0; i < wf->global_modules.nr; i++)
		add_ref_once(seen, &nr, ARRAY_SIZE(seen), wf->global_modules.v[i]);
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		if (s->artifact)
			add_ref_once(seen, &nr, ARRAY_SIZE(seen), s->artifact);
		for (size_t k = 0; k < s->tools.nr; k++)
			add_ref_once(seen, &nr, ARRAY_SIZE(seen), s->tools.v[k]);
		for (size_t k = 0; k < s->modules.nr; k++)
			add_ref_once(seen, &nr, ARRAY_SIZE(seen), s->modules.v[k]);
	}
	if (!nr) {
		strbuf_addstr(out, "Collection: none (the workflow names no artifacts)\n");
		return;
	}
	strbuf_addf(out, "Collection: none, so the %zu artifact%s it names %s not checked (",
		    nr, nr == 1 ? "" : "s", nr == 1 ? "was" : "were");
	for (size_t i = 0; i < nr && i < 8; i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", seen[i]);
	strbuf_addf(out, "%s); `skillmeat init` creates a collection\n", nr > 8 ? ", ..." : "");
}

void swdl_plan_to_text(struct strbuf *out, const struct swdl_workflow *wf,
		       const struct swdl_dag *dag, json_t *params,
		       const struct plan_override *po, const struct plan_refs *refs,
		       const struct plan_extra *extra)
{
	strbuf_addf(out, "Workflow: %s v%s (id: %s)\n", wf->name, wf->version, wf->id);
	add_params_line(out, params);
	if (refs)
		strbuf_addf(out, "Collection: %s (%zu artifact%s found, %zu missing)\n",
			    refs->collection, refs->found, refs->found == 1 ? "" : "s",
			    refs->missing);
	else
		add_unchecked(out, wf);
	if (wf->global_modules.nr) {
		strbuf_addstr(out, "Global context: ");
		for (size_t i = 0; i < wf->global_modules.nr; i++) {
			strbuf_addf(out, "%s%s", i ? ", " : "", wf->global_modules.v[i]);
			add_ref_mark(out, refs, wf->global_modules.v[i]);
		}
		strbuf_addch(out, '\n');
	}
	if (po && po->file) {
		strbuf_addf(out, "Overrides: %s\n", po->file);
		for (size_t i = 0; i < po->nr; i++)
			if (!po->entries[i].stage_id)
				strbuf_addf(out, "  %s: %s -> %s\n", po->entries[i].field,
					    po->entries[i].before ? po->entries[i].before : "(unset)",
					    po->entries[i].after ? po->entries[i].after : "(unset)");
	}
	for (size_t i = 0, shown = 0; i < wf->nr_roles; i++) {
		const struct swdl_role *r = &wf->roles[i];
		if (!r->bound)
			continue;
		if (!shown++)
			strbuf_addstr(out, "Roles:\n");
		strbuf_addf(out, "  %s = %s  (", r->name, r->bound);
		add_role_source(out, r);
		strbuf_addstr(out, ")\n");
	}
	strbuf_addf(out, "\nExecution Plan (%zu stage%s in %zu batch%s):\n", wf->nr_stages,
		    wf->nr_stages == 1 ? "" : "s", dag->nr_batches, dag->nr_batches == 1 ? "" : "es");
	if (wf->written_order)
		strbuf_addstr(out, "  Stages run one after another in the order written: the file "
			      "uses the seed's short form (workflow_id) and no stage has "
			      "depends_on.\n");
	for (size_t b = 0; b < dag->nr_batches; b++) {
		size_t n = dag->batch_off[b + 1] - dag->batch_off[b];
		if (b)
			strbuf_addch(out, '\n');
		strbuf_addf(out, "  Batch %zu (%s", b + 1, n > 1 ? "parallel" : "sequential");
		if (b)
			strbuf_addf(out, " after Batch %zu", b);
		strbuf_addstr(out, "):\n");
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++)
			add_stage(out, wf, &wf->stages[dag->batch_items[k]], po, refs, extra);
	}
	char est[64];
	duration_format(swdl_plan_estimate(wf, dag), est, sizeof(est));
	strbuf_addf(out, "\nEstimated total time: %s (upper bound: the longest stage timeout "
		    "of each batch, summed)\n", est);
	if (extra && extra->tail_text)
		extra->tail_text(extra->data, out);
}
