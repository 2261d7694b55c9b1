#include "../base/compat.h"
#include "model_json.h"

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strs(const struct str_list *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->nr; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *opt_node(const struct node *n)
{
	return n ? node_to_json(n) : json_null();
}

static json_t *retry_json(const struct swdl_retry *r)
{
	if (!r)
		return json_null();
	return json_pack("{s:I, s:s, s:f, s:s, s:o}", "max_attempts", (json_int_t)r->max_attempts,
		"initial_interval", r->initial_interval.text, "backoff_multiplier",
		r->backoff_multiplier, "max_interval", r->max_interval.text,
		"non_retryable_errors", strs(&r->non_retryable_errors));
}

static json_t *memory_json(const struct swdl_memory *m)
{
	if (!m)
		return json_null();
	return json_pack("{s:s, s:f, s:o, s:I}", "project_scope", m->project_scope,
		"min_confidence", m->min_confidence, "categories", strs(&m->categories),
		"max_tokens", (json_int_t)m->max_tokens);
}

static json_t *budget_json(const struct swdl_budget *b)
{
	json_t *j = json_object();
	if (b->max_usd > 0)
		json_object_set_new(j, "max_usd", json_real(b->max_usd));
	if (b->max_tokens)
		json_object_set_new(j, "max_tokens", json_integer(b->max_tokens));
	if (b->max_turns)
		json_object_set_new(j, "max_turns", json_integer(b->max_turns));
	if (b->max_output_bytes)
		json_object_set_new(j, "max_output_bytes", json_integer(b->max_output_bytes));
	return j;
}

static void add_command_json(json_t *j, const struct swdl_stage *s)
{
	json_t *env = json_object();
	for (size_t i = 0; i < s->nr_env; i++)
		json_object_set_new(env, s->env_keys[i], json_string(s->env_values[i]));
	json_object_set_new(j, "run", opt_str(s->run));
	json_object_set_new(j, "shell", opt_str(s->shell));
	json_object_set_new(j, "working_directory", opt_str(s->working_directory));
	json_object_set_new(j, "env", env);
}

static json_t *stage_json(const struct swdl_stage *s)
{
	json_t *j = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "id", s->id, "name", s->name,
		"description", opt_str(s->description), "depends_on", strs(&s->depends_on),
		"condition", opt_str(s->condition), "type", stage_type_names[s->type]);
	if (s->has_roles)
		json_object_set_new(j, "roles", json_pack("{s:{s:o, s:o, s:o}, s:o}", "primary",
			"artifact", opt_str(s->artifact), "model", opt_str(s->model),
			"instructions", opt_str(s->instructions), "tools", strs(&s->tools)));
	if (s->runner && s->has_roles)
		json_object_set_new(json_object_get(json_object_get(j, "roles"), "primary"),
				    "runner", json_string(s->runner));
	if (swdl_stage_is_command(s))
		add_command_json(j, s);
	if (s->budget)
		json_object_set_new(j, "budget", budget_json(s->budget));
	if (s->permissions)
		json_object_set_new(j, "permissions", json_pack("{s:o, s:o, s:o}", "mode",
			opt_str(s->permissions->mode), "allowed_tools",
			strs(&s->permissions->allowed_tools), "disallowed_tools",
			strs(&s->permissions->disallowed_tools)));
	if (s->fan_out)
		json_object_set_new(j, "fan_out", json_pack("{s:o, s:I, s:s, s:I}", "items",
			opt_str(s->fan_out->items), "max_parallel", (json_int_t)s->fan_out->max_parallel,
			"on_item_failure", on_item_failure_names[s->fan_out->on_item_failure],
			"max_items", (json_int_t)s->fan_out->max_items));
	json_t *inputs = json_object(), *outputs = json_object();
	for (size_t i = 0; i < s->nr_inputs; i++) {
		const struct swdl_input *in = &s->inputs[i];
		json_object_set_new(inputs, in->name, json_pack("{s:s, s:o, s:b, s:o}", "type",
			in->type, "source", opt_str(in->source), "required", in->required,
			"description", opt_str(in->description)));
	}
	for (size_t i = 0; i < s->nr_outputs; i++) {
		const struct swdl_output *out = &s->outputs[i];
		json_object_set_new(outputs, out->name, json_pack("{s:s, s:b, s:o, s:o}", "type",
			out->type, "required", out->required, "description",
			opt_str(out->description), "default", opt_node(out->default_value)));
	}
	json_object_set_new(j, "inputs", inputs);
	json_object_set_new(j, "outputs", outputs);
	if (s->has_context)
		json_object_set_new(j, "context", json_pack("{s:o, s:o}", "modules",
			strs(&s->modules), "memory", memory_json(s->memory)));
	const struct swdl_error_policy *ep = s->error_policy;
	if (ep)
		json_object_set_new(j, "error_policy", json_pack("{s:o, s:s, s:o}", "retry",
			retry_json(ep->retry), "on_failure", on_failure_names[ep->on_failure],
			"timeout", opt_str(ep->timeout.text)));
	if (s->handoff)
		json_object_set_new(j, "handoff", json_pack("{s:s, s:b, s:o}", "format",
			handoff_format_names[s->handoff->format], "include_run_log",
			s->handoff->include_run_log, "summary_prompt",
			opt_str(s->handoff->summary_prompt)));
	if (s->handoff && s->handoff->files_changed) /* only when given: plans stay as they were */
		json_object_set_new(json_object_get(j, "handoff"), "files_changed",
				    json_boolean(s->handoff->files_changed > 0));
	if (s->gate)
		json_object_set_new(j, "gate", json_pack("{s:s, s:o, s:s, s:s, s:o}", "kind",
			s->gate->kind, "approvers", strs(&s->gate->approvers), "timeout",
			s->gate->timeout.text, "on_timeout", on_timeout_names[s->gate->on_timeout],
			"message", opt_str(s->gate->message)));
	if (s->ui)
		json_object_set_new(j, "ui", json_pack("{s:o, s:o, s:o}", "position",
			s->ui->has_position ? json_pack("[I, I]", (json_int_t)s->ui->x,
							 (json_int_t)s->ui->y) : json_null(),
			"color", opt_str(s->ui->color), "icon", opt_str(s->ui->icon)));
	return j;
}

json_t *swdl_workflow_to_json(const struct swdl_workflow *wf)
{
	json_t *params = json_object(), *env = json_object(), *stages = json_array();
	for (size_t i = 0; i < wf->nr_params; i++) {
		const struct swdl_param *p = &wf->params[i];
		json_object_set_new(params, p->name, json_pack("{s:s, s:b, s:o, s:o}", "type",
			p->type, "required", p->required, "default", opt_node(p->default_value),
			"description", opt_str(p->description)));
	}
	for (size_t i = 0; i < wf->nr_env; i++)
		json_object_set_new(env, wf->env_keys[i], json_string(wf->env_values[i]));
	for (size_t i = 0; i < wf->nr_stages; i++)
		json_array_append_new(stages, stage_json(&wf->stages[i]));
	json_t *meta = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", wf->id, "name", wf->name,
		"version", wf->version, "description", opt_str(wf->description),
		"author", opt_str(wf->author), "tags", strs(&wf->tags));
	if (wf->ui_color || wf->ui_icon)
		json_object_set_new(meta, "ui", json_pack("{s:o, s:o}", "color",
			opt_str(wf->ui_color), "icon", opt_str(wf->ui_icon)));
	json_t *j = json_pack("{s:o, s:{s:o, s:s, s:o}, s:o}", "workflow", meta,
		"config", "parameters", params, "timeout", wf->timeout.text, "env", env,
		"stages", stages);
	if (wf->has_context)
		json_object_set_new(j, "context", json_pack("{s:o, s:o}", "global_modules",
			strs(&wf->global_modules), "memory", memory_json(wf->memory)));
	if (wf->has_error_policy)
		json_object_set_new(j, "error_policy", json_pack("{s:o, s:s}", "default_retry",
			retry_json(wf->default_retry), "on_stage_failure",
			on_stage_failure_names[wf->on_stage_failure]));
	if (wf->hooks)
		json_object_set_new(j, "hooks", node_to_json(wf->hooks));
	if (wf->nr_roles) {
		json_t *roles = json_object();
		for (size_t i = 0; i < wf->nr_roles; i++) {
			const struct swdl_role *r = &wf->roles[i];
			json_object_set_new(roles, r->name, json_pack("{s:o, s:o, s:o}", "description",
				opt_str(r->description), "default", opt_str(r->default_ref), "accepts",
				strs(&r->accepts)));
		}
		json_object_set_new(j, "roles", roles);
	}
	return j;
}

void swdl_workflow_to_text(struct strbuf *out, const struct swdl_workflow *wf,
			   const struct swdl_dag *dag)
{
	strbuf_addf(out, "%s (id: %s, version %s)\n", wf->name, wf->id, wf->version);
	if (wf->description)
		strbuf_addf(out, "  %s\n", wf->description);
	if (wf->tags.nr) {
		strbuf_addstr(out, "Tags: ");
		for (size_t i = 0; i < wf->tags.nr; i++)
			strbuf_addf(out, "%s%s", i ? ", " : "", wf->tags.v[i]);
		strbuf_addch(out, '\n');
	}
	strbuf_addf(out, "Timeout: %s\n", wf->timeout.text);
	if (wf->nr_params) {
		strbuf_addstr(out, "Parameters:\n");
		for (size_t i = 0; i < wf->nr_params; i++) {
			const struct swdl_param *p = &wf->params[i];
			strbuf_addf(out, "  %-20s %-10s %s", p->name, p->type,
				    p->required ? "required" : "optional");
			if (p->default_value && p->default_value->kind == NODE_STRING) {
				strbuf_addf(out, ", default %s", p->default_value->text);
			} else if (p->default_value && p->default_value->kind != NODE_NULL) {
				/* typed values as JSON: lists and mappings have no text of their own */
				json_t *j = node_to_json(p->default_value);
				char *t = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
				strbuf_addf(out, ", default %s", t ? t : "?");
				free(t);
				json_decref(j);
			}
			if (p->description)
				strbuf_addf(out, "  (%s)", p->description);
			strbuf_addch(out, '\n');
		}
	}
	strbuf_addf(out, "Stages (%zu):\n", wf->nr_stages);
	strbuf_addf(out, "  %-24s %-8s %-6s %-32s %s\n", "ID", "TYPE", "BATCH", "AGENT", "DEPENDS ON");
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		char batch[16] = "-";
		if (dag)
			snprintf(batch, sizeof(batch), "%zu", dag->batch_of[i] + 1);
		strbuf_addf(out, "  %-24s %-8s %-6s %-32s ", s->id, stage_type_names[s->type], batch,
			    s->artifact ? s->artifact : "-");
		for (size_t k = 0; k < s->depends_on.nr; k++)
			strbuf_addf(out, "%s%s", k ? ", " : "", s->depends_on.v[k]);
		if (!s->depends_on.nr)
			strbuf_addch(out, '-');
		strbuf_addch(out, '\n');
	}
}
