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

int64_t swdl_plan_estimate(const struct swdl_workflow *wf, const struct swdl_dag *dag)
{
	int64_t total = 0;
	for (size_t b = 0; b < dag->nr_batches; b++) {
		int64_t longest = 0;
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++) {
			const struct swdl_stage *s = &wf->stages[dag->batch_items[k]];
			int64_t t = s->error_policy ? s->error_policy->timeout.seconds : 0;
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

/* ---- JSON form ----------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *str_list_json(const struct str_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->nr; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

json_t *diag_list_to_json(const struct diag_list *dl, enum diag_severity only, bool filter)
{
	json_t *a = json_array();
	for (size_t i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];
		if (filter && d->severity != only)
			continue;
		json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:s}",
			"severity", diag_severity_name(d->severity),
			"file", str_or_null(d->file),
			"line", d->line ? json_integer(d->line) : json_null(),
			"column", d->col ? json_integer(d->col) : json_null(),
			"category", d->category,
			"stage_id", str_or_null(d->stage_id),
			"field", str_or_null(d->field),
			"message", d->message));
	}
	return a;
}

static json_t *retry_json(const struct swdl_retry *r)
{
	if (!r)
		return json_null();
	return json_pack("{s:I, s:s, s:f, s:s, s:o}",
		"max_attempts", (json_int_t)r->max_attempts,
		"initial_interval", r->initial_interval.text,
		"backoff_multiplier", r->backoff_multiplier,
		"max_interval", r->max_interval.text,
		"non_retryable_errors", str_list_json(&r->non_retryable_errors));
}

static json_t *stage_overrides_json(const struct plan_override *po, const char *stage_id)
{
	json_t *a = json_array();
	for (size_t i = 0; po && i < po->nr; i++) {
		const struct plan_override_entry *e = &po->entries[i];
		if (!e->stage_id || strcmp(e->stage_id, stage_id))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "field", e->field,
			"before", str_or_null(e->before), "after", str_or_null(e->after)));
	}
	return a;
}

static json_t *stage_json(const struct swdl_stage *s, size_t batch,
			  const struct plan_override *po)
{
	json_t *inputs = json_object(), *outputs = json_array();
	for (size_t i = 0; i < s->nr_inputs; i++)
		json_object_set_new(inputs, s->inputs[i].name,
				    json_string(s->inputs[i].source ? s->inputs[i].source : "(no source)"));
	for (size_t i = 0; i < s->nr_outputs; i++)
		json_array_append_new(outputs, json_string(s->outputs[i].name));
	const struct swdl_error_policy *ep = s->error_policy;
	bool gate = s->type == STAGE_GATE && s->gate;
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
		"stage_id", s->id, "name", s->name, "stage_type", stage_type_names[s->type],
		"primary_artifact", str_or_null(s->artifact), "model", str_or_null(s->model),
		"tools", str_list_json(&s->tools), "inputs", inputs, "outputs", outputs,
		"context_modules", str_list_json(&s->modules),
		"timeout", str_or_null(ep ? ep->timeout.text : NULL),
		"condition", str_or_null(s->condition),
		"depends_on", str_list_json(&s->depends_on));
	json_object_set_new(j, "gate_approvers", gate ? str_list_json(&s->gate->approvers)
							: json_array());
	json_object_set_new(j, "gate_timeout", gate ? json_string(s->gate->timeout.text)
						      : json_null());
	/* Ours, beyond upstream's plan: */
	json_object_set_new(j, "batch", json_integer((json_int_t)batch));
	json_object_set_new(j, "timeout_seconds",
			    json_integer(ep ? (json_int_t)ep->timeout.seconds : 0));
	json_object_set_new(j, "on_failure", json_string(ep ? on_failure_names[ep->on_failure]
							     : "halt"));
	json_object_set_new(j, "retry", retry_json(ep ? ep->retry : NULL));
	json_object_set_new(j, "instructions", str_or_null(s->instructions));
	if (gate)
		json_object_set_new(j, "gate", json_pack("{s:s, s:s, s:o}", "kind", s->gate->kind,
			"on_timeout", on_timeout_names[s->gate->on_timeout],
			"message", str_or_null(s->gate->message)));
	json_object_set_new(j, "overrides", stage_overrides_json(po, s->id));
	return j;
}

json_t *swdl_plan_to_json(const struct swdl_workflow *wf, const struct swdl_dag *dag,
			  json_t *params, const struct plan_override *po,
			  const struct diag_list *dl)
{
	json_t *batches = json_array();
	for (size_t b = 0; b < dag->nr_batches; b++) {
		json_t *stages = json_array();
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++)
			json_array_append_new(stages, stage_json(&wf->stages[dag->batch_items[k]],
								 b, po));
		json_array_append_new(batches, json_pack("{s:I, s:o}", "index", (json_int_t)b,
							 "stages", stages));
	}
	int64_t est = swdl_plan_estimate(wf, dag);
	char est_text[64];
	duration_format(est, est_text, sizeof(est_text));
	json_t *validation = json_pack("{s:b, s:o, s:o}", "valid", dl->errors == 0,
		"errors", diag_list_to_json(dl, DIAG_ERROR, true),
		"warnings", diag_list_to_json(dl, DIAG_WARNING, true));
	json_t *j = json_pack("{s:s, s:s, s:s, s:O, s:o, s:I, s:s, s:o}",
		"workflow_id", wf->id, "workflow_name", wf->name, "workflow_version", wf->version,
		"parameters", params, "batches", batches,
		"estimated_timeout_seconds", (json_int_t)est, "estimated_time", est_text,
		"validation", validation);
	json_object_set_new(j, "overrides_file", str_or_null(po ? po->file : NULL));
	return j;
}

/* ---- text form ----------------------------------------------------------- */

static void add_list(struct strbuf *out, const char *label, const struct str_list *l)
{
	if (!l->nr)
		return;
	strbuf_addf(out, "      %s: ", label);
	for (size_t i = 0; i < l->nr; i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", l->v[i]);
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

static void add_stage(struct strbuf *out, const struct swdl_stage *s,
		      const struct plan_override *po)
{
	strbuf_addf(out, "    [%s] %s%s\n", s->id, s->name,
		    s->type == STAGE_GATE ? "  (gate)" : s->type == STAGE_FAN_OUT ? "  (fan_out)" : "");
	if (s->type == STAGE_GATE && s->gate) {
		strbuf_addf(out, "      Type: %s\n", s->gate->kind);
		add_list(out, "Approvers", &s->gate->approvers);
		strbuf_addf(out, "      Gate timeout: %s (on timeout: %s)\n", s->gate->timeout.text,
			    on_timeout_names[s->gate->on_timeout]);
		if (s->gate->message)
			strbuf_addf(out, "      Message: %s\n", s->gate->message);
	}
	if (s->artifact)
		strbuf_addf(out, "      Agent: %s%s%s%s\n", s->artifact, s->model ? " (" : "",
			    s->model ? s->model : "", s->model ? ")" : "");
	add_list(out, "Tools", &s->tools);
	if (s->nr_inputs) {
		strbuf_addstr(out, "      Inputs: ");
		for (size_t i = 0; i < s->nr_inputs; i++)
			strbuf_addf(out, "%s%s <- %s", i ? ", " : "", s->inputs[i].name,
				    s->inputs[i].source ? s->inputs[i].source : "(no source)");
		strbuf_addch(out, '\n');
	}
	if (s->nr_outputs) {
		strbuf_addstr(out, "      Outputs: ");
		for (size_t i = 0; i < s->nr_outputs; i++)
			strbuf_addf(out, "%s%s", i ? ", " : "", s->outputs[i].name);
		strbuf_addch(out, '\n');
	}
	add_list(out, "Context", &s->modules);
	if (s->condition)
		strbuf_addf(out, "      Condition: %s\n", s->condition);
	if (s->error_policy)
		add_retry_line(out, s->error_policy);
	add_stage_overrides(out, po, s->id);
}

void swdl_plan_to_text(struct strbuf *out, const struct swdl_workflow *wf,
		       const struct swdl_dag *dag, json_t *params,
		       const struct plan_override *po)
{
	strbuf_addf(out, "Workflow: %s v%s (id: %s)\n", wf->name, wf->version, wf->id);
	add_params_line(out, params);
	if (po && po->file) {
		strbuf_addf(out, "Overrides: %s\n", po->file);
		for (size_t i = 0; i < po->nr; i++)
			if (!po->entries[i].stage_id)
				strbuf_addf(out, "  %s: %s -> %s\n", po->entries[i].field,
					    po->entries[i].before ? po->entries[i].before : "(unset)",
					    po->entries[i].after ? po->entries[i].after : "(unset)");
	}
	strbuf_addf(out, "\nExecution Plan (%zu stage%s in %zu batch%s):\n", wf->nr_stages,
		    wf->nr_stages == 1 ? "" : "s", dag->nr_batches, dag->nr_batches == 1 ? "" : "es");
	for (size_t b = 0; b < dag->nr_batches; b++) {
		size_t n = dag->batch_off[b + 1] - dag->batch_off[b];
		if (b)
			strbuf_addch(out, '\n');
		strbuf_addf(out, "  Batch %zu (%s", b + 1, n > 1 ? "parallel" : "sequential");
		if (b)
			strbuf_addf(out, " after Batch %zu", b);
		strbuf_addstr(out, "):\n");
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++)
			add_stage(out, &wf->stages[dag->batch_items[k]], po);
	}
	char est[64];
	duration_format(swdl_plan_estimate(wf, dag), est, sizeof(est));
	strbuf_addf(out, "\nEstimated total time: %s (upper bound: the longest stage timeout "
		    "of each batch, summed)\n", est);
}
