/*
 * host_prompt.c - interpolating a run's values into inputs, env, prompts
 * and hook commands, and building what an agent stage is sent.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "../swdl/expr.h"
#include "../swdl/types.h"

/* A template's value: one placeholder keeps its JSON value, else the text. */
json_t *host_render_value(struct host *h, const char *text, char **err)
{
	struct tmpl t;
	struct expr_error pe;
	if (tmpl_parse(&h->scratch, text, &t, &pe)) {
		*err = xasprintf("expression parse error: %s", pe.msg);
		return NULL;
	}
	if (t.nr == 1 && t.parts[0].is_expr)
		return expr_eval(t.parts[0].expr, h->ctx, err);
	struct strbuf sb = STRBUF_INIT;
	json_t *v = tmpl_render(&t, h->ctx, &sb, err) ? NULL : json_string(sb.buf);
	strbuf_release(&sb);
	return v;
}

char *host_render_text(struct host *h, const char *text, char **err)
{
	json_t *v = host_render_value(h, text, err);
	if (!v)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	expr_value_to_text(&sb, v);
	json_decref(v);
	return strbuf_detach(&sb, NULL);
}

/* Resolve inputs from their sources; a failure names the input. */
json_t *host_resolve_inputs(struct host *h, const struct swdl_stage *s, const char **cls,
			      char **err)
{
	json_t *in = json_object();
	for (size_t i = 0; i < s->nr_inputs; i++) {
		const struct swdl_input *d = &s->inputs[i];
		char *e = NULL;
		json_t *v = d->source ? host_render_value(h, d->source, &e) : json_null();
		if (!v) {
			*cls = "input_invalid";
			*err = xasprintf("input '%s': %s", d->name, e);
		} else if (json_is_null(v) && d->required) {
			*cls = "input_missing";
			*err = xasprintf("required input '%s' is null (source: %s)", d->name,
					 d->source ? d->source : "none");
		} else if (!json_is_null(v) && !swdl_type_accepts(d->type, v)) {
			*cls = "input_invalid";
			*err = xasprintf("input '%s' must be %s, got %s", d->name, d->type,
					 expr_type_name(v));
		}
		free(e);
		if (*err) {
			json_decref(v);
			json_decref(in);
			return NULL;
		}
		json_object_set_new(in, d->name, v);
	}
	return in;
}

const char *host_artifact_text(const struct host *h, const char *ref)
{
	return json_string_value(json_object_get(json_object_get(h->artifacts, ref), "text"));
}

static void add_contract(struct strbuf *sb, const struct swdl_stage *s)
{
	strbuf_addstr(sb, "\n## Output contract\n\nDo the work, then end your reply with one "
		      "JSON object in a ```json fenced block");
	if (!s->nr_outputs) {
		strbuf_addstr(sb, " (use {} when there is nothing to report).\n");
		return;
	}
	strbuf_addstr(sb, " with these keys:\n\n");
	for (size_t i = 0; i < s->nr_outputs; i++)
		strbuf_addf(sb, "- `%s` (%s%s)%s%s\n", s->outputs[i].name, s->outputs[i].type,
			    s->outputs[i].required ? ", required" : ", optional",
			    s->outputs[i].description ? ": " : "",
			    s->outputs[i].description ? s->outputs[i].description : "");
}

/* Handoffs get what the context pack left of its token budget (4 characters a token). */
#define HANDOFF_DEFAULT_TOKENS 4000
#define HANDOFF_MIN_TOKENS 500
static size_t handoff_budget(const struct host *h, const struct swdl_stage *s)
{
	json_t *m = json_object_get(json_object_get(h->packs, s->id), "manifest");
	json_int_t budget = json_integer_value(json_object_get(m, "budget"));
	json_int_t used = json_integer_value(json_object_get(m, "tokens"));
	json_int_t left = m && budget > 0 ? budget - used : HANDOFF_DEFAULT_TOKENS;
	return (size_t)(left < HANDOFF_MIN_TOKENS ? HANDOFF_MIN_TOKENS : left) * 4;
}

/* A fan-out item's attempt: which item it works on. */
static void add_item(struct strbuf *sb, struct host *h, const struct swdl_stage *s)
{
	json_t *f = json_object_get(h->ctx, "fan_out");
	if (!f)
		return;
	char *item = json_dumps(json_object_get(f, "item"), JSON_INDENT(2) | JSON_ENCODE_ANY);
	strbuf_addf(sb, "\n## Item\n\nThis stage runs once per item of a list; this run is "
		    "for item %lld of %zu:\n\n```json\n%s\n```\n",
		    (long long)json_integer_value(json_object_get(f, "index")),
		    json_array_size(h->fan_items[s->index]), item);
	free(item);
}

/* The prompt of an agent stage: instructions, context modules, inputs, contract. */
char *host_build_prompt(struct host *h, const struct swdl_stage *s, const json_t *inputs,
			  char **err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *pack = host_pack_text(h, s);
	if (pack && *pack)
		strbuf_addf(&sb, "%s\n", pack);
	char *handoffs = host_handoff_prompt(h, s, handoff_budget(h, s));
	if (handoffs)
		strbuf_addf(&sb, "# Handoffs from the stages this one depends on\n\n%s\n", handoffs);
	free(handoffs);
	strbuf_addf(&sb, "# Stage: %s (%s) of workflow %s\n", s->name, s->id, h->wf->name);
	if (s->description)
		strbuf_addf(&sb, "\n%s\n", s->description);
	if (s->instructions) {
		char *text = host_render_text(h, s->instructions, err);
		if (!text) {
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_addf(&sb, "\n## Instructions\n\n%s\n", text);
		free(text);
	}
	/* Runs made before context packs carried the module texts as they were. */
	const struct str_list *lists[] = { &h->wf->global_modules, &s->modules };
	for (size_t l = 0; !h->packs && l < 2; l++) {
		for (size_t i = 0; i < lists[l]->nr; i++) {
			const char *t = host_artifact_text(h, lists[l]->v[i]);
			if (t)
				strbuf_addf(&sb, "\n## Context: %s\n\n%s\n", lists[l]->v[i], t);
		}
	}
	char *in = json_dumps(inputs, JSON_INDENT(2) | JSON_SORT_KEYS);
	strbuf_addf(&sb, "\n## Inputs\n\n```json\n%s\n```\n", in);
	free(in);
	add_item(&sb, h, s);
	add_contract(&sb, s);
	if (s->handoff && s->handoff->summary_prompt) {
		char *text = host_render_text(h, s->handoff->summary_prompt, err);
		if (!text) {
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_addf(&sb, "\n## Handoff summary\n\n%s\n\nPut this summary, as a string, "
			    "in the `handoff_summary` key of that JSON object.\n", text);
		free(text);
	}
	return strbuf_detach(&sb, NULL);
}

/* Stage env: "KEY=value" strings, values interpolated. */
char **host_stage_env(struct host *h, const struct swdl_stage *s, size_t *nr, char **err)
{
	/* Room for what the host adds: SKILLMEAT_HANDOFF, SKILLMEAT_ITEM(_INDEX, _FILE). */
	char **v = xcalloc(s->nr_env + h->wf->nr_env + 5, sizeof(*v));
	const char *key;
	json_t *val;
	*nr = 0;
	json_object_foreach(json_object_get(h->ctx, "env"), key, val)
		v[(*nr)++] = xasprintf("%s=%s", key, json_string_value(val));
	for (size_t i = 0; i < s->nr_env; i++) {
		char *text = host_render_text(h, s->env_values[i], err);
		if (!text) {
			char *e = xasprintf("env %s: %s", s->env_keys[i], *err);
			free(*err);
			*err = e;
			return v;
		}
		v[(*nr)++] = xasprintf("%s=%s", s->env_keys[i], text);
		free(text);
	}
	return v;
}

/* Interpolate a hook command, each value single-quoted for the shell. */
char *host_hook_command(struct host *h, const char *text, char **err)
{
	struct tmpl t;
	struct expr_error pe;
	if (tmpl_parse(&h->scratch, text, &t, &pe)) {
		*err = xasprintf("expression parse error: %s", pe.msg);
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT, val = STRBUF_INIT;
	for (size_t i = 0; i < t.nr; i++) {
		if (!t.parts[i].is_expr) {
			strbuf_add(&sb, t.parts[i].text, t.parts[i].len);
			continue;
		}
		json_t *v = expr_eval(t.parts[i].expr, h->ctx, err);
		if (!v) {
			strbuf_release(&sb);
			strbuf_release(&val);
			return NULL;
		}
		strbuf_reset(&val);
		expr_value_to_text(&val, v);
		json_decref(v);
		strbuf_addch(&sb, '\'');
		for (size_t k = 0; k < val.len; k++)
			strbuf_addstr(&sb, val.buf[k] == '\'' ? "'\\''" : (char[]){ val.buf[k], 0 });
		strbuf_addch(&sb, '\'');
	}
	strbuf_release(&val);
	return strbuf_detach(&sb, NULL);
}

const char *host_pack_text(const struct host *h, const struct swdl_stage *s)
{
	return json_string_value(json_object_get(json_object_get(h->packs, s->id), "text"));
}
