#include "../base/compat.h"
#include "export_argo.h"
#include "../base/strbuf.h"

#include <ctype.h>

#define BUNDLE_VOLUME "skillmeat-bundle"
#define BUNDLE_DIR "/skillmeat/bundle"
#define OUTPUTS_DIR "/tmp/outputs"
#define ITEM_RESULTS_PATH "/tmp/inputs/item-results.json"
/* A fan-out's other tasks: "--" never comes out of dns_name, so no stage has these names. */
#define LIST_SUFFIX "--list"
#define ITEM_SUFFIX "--item"

/* A Kubernetes/Argo name: lower case letters, digits and '-', at most `max`. */
static char *dns_name(const char *id, size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *c = id; *c && sb.len < max; c++) {
		char ch = (char)tolower((unsigned char)*c);
		if (!isalnum((unsigned char)ch))
			ch = '-';
		if (ch == '-' && (!sb.len || sb.buf[sb.len - 1] == '-'))
			continue;
		strbuf_addch(&sb, ch);
	}
	while (sb.len && sb.buf[sb.len - 1] == '-')
		sb.buf[--sb.len] = '\0';
	if (!sb.len || !isalpha((unsigned char)sb.buf[0])) {
		char *s = xasprintf("s-%s", sb.buf);
		strbuf_release(&sb);
		return s;
	}
	return strbuf_detach(&sb, NULL);
}

/* One task name a stage, unique after sanitising ("a_b" and "a-b" both exist). */
static char **task_names(const struct swdl_workflow *wf)
{
	char **n = xcalloc(wf->nr_stages + 1, sizeof(*n));
	for (size_t i = 0; i < wf->nr_stages; i++) {
		n[i] = dns_name(wf->stages[i].id, 50);
		for (size_t k = 0; k < i; k++) {
			if (strcmp(n[k], n[i]))
				continue;
			char *u = xasprintf("%s-%zu", n[i], i);
			free(n[i]);
			n[i] = u;
			break;
		}
	}
	return n;
}

static void free_names(char **n, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(n[i]);
	free(n);
}

/* What the documents are made from: the workflow, its task names, who depends on whom. */
struct export {
	const struct swdl_loaded *l;
	char **names;
	unsigned char *anc;          /* anc[i * n + k]: stage i depends on k, at any depth */
	const struct argo_opts *o;
};

/* Every stage gets every ancestor's result: the pairs are found once, not per use. */
static unsigned char *ancestors(const struct swdl_loaded *l)
{
	size_t n = l->wf.nr_stages;
	unsigned char *a = xcalloc(n * n + 1, 1);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < n; k++)
			a[i * n + k] = k != i && swdl_dag_depends_on(&l->dag, i, k);
	return a;
}

static bool is_ancestor(const struct export *x, size_t i, size_t k)
{
	return x->anc[i * x->l->wf.nr_stages + k];
}

/* A gate lets its dependents run once it is resumed: its result is known. */
static const char GATE_RESULT[] = "{\"status\": \"completed\", \"outputs\": {}}";

/* {{tasks.A.outputs.parameters.result}} for every stage the stage depends on, at any depth. */
static json_t *upstream_args(const struct export *x, size_t i)
{
	const struct swdl_loaded *l = x->l;
	char **names = x->names;
	json_t *a = json_array();
	for (size_t k = 0; k < l->wf.nr_stages; k++) {
		if (!is_ancestor(x, i, k))
			continue;
		char *name = xasprintf("up-%s", names[k]);
		char *value = l->wf.stages[k].type == STAGE_GATE ? xstrdup(GATE_RESULT)
			: xasprintf("{{tasks.%s.outputs.parameters.result}}", names[k]);
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", name, "value", value));
		free(name);
		free(value);
	}
	return a;
}

static void set_list(json_t *obj, const char *key, const char *inner, json_t *list)
{
	if (json_array_size(list))
		json_object_set_new(obj, key, inner ? json_pack("{s:o}", inner, list) : list);
	else
		json_decref(list);
}

static json_t *task(const char *name, const char *tpl, json_t *deps, json_t *args)
{
	json_t *t = json_pack("{s:s, s:s}", "name", name, "template", tpl);
	set_list(t, "dependencies", NULL, deps);
	set_list(t, "arguments", "parameters", args);
	return t;
}

/* The stage's task; a fan-out's list and item tasks come before it. */
static void dag_tasks(const struct export *x, size_t i, json_t *tasks)
{
	const struct swdl_loaded *l = x->l;
	const char *n = x->names[i];
	const struct swdl_stage *s = &l->wf.stages[i];
	json_t *deps = json_array();
	for (size_t k = 0; k < s->depends_on.nr; k++) {
		long d = swdl_stage_find(&l->wf, s->depends_on.v[k]);
		if (d >= 0)
			json_array_append_new(deps, json_string(x->names[d]));
	}
	json_t *args = s->type == STAGE_GATE ? json_array() : upstream_args(x, i);
	if (s->type == STAGE_FAN_OUT) {
		char *list = xasprintf("%s" LIST_SUFFIX, n), *item = xasprintf("%s" ITEM_SUFFIX, n);
		char *items = xasprintf("{{tasks.%s.outputs.parameters.items}}", list);
		char *results = xasprintf("{{tasks.%s.outputs.parameters}}", item);
		json_array_append_new(tasks, task(list, list, deps, json_deep_copy(args)));
		json_t *ia = json_deep_copy(args);
		json_array_append_new(ia, json_pack("{s:s, s:s}", "name", "item", "value", "{{item}}"));
		json_t *it = task(item, item, json_pack("[s]", list), ia);
		json_object_set_new(it, "withParam", json_string(items));
		/* a failed item fails the stage only as on_item_failure says: the gather decides;
		 * a pod lost to an error (its node gone) has no result: the gather fails it */
		json_object_set_new(it, "continueOn", json_pack("{s:b, s:b}", "failed", 1, "error",
								1));
		json_array_append_new(tasks, it);
		json_array_append_new(args, json_pack("{s:s, s:s}", "name", "results", "value",
						      results));
		deps = json_pack("[s]", item);
		free(list);
		free(item);
		free(items);
		free(results);
	}
	json_t *t = task(n, n, deps, args);
	if (swdl_stage_on_failure(&l->wf, s) == ON_FAILURE_CONTINUE)
		json_object_set_new(t, "continueOn", json_pack("{s:b}", "failed", 1));
	json_array_append_new(tasks, t);
}

/* "30" or "1.5": Argo's factor is an int or a string. */
static json_t *factor_json(double f)
{
	if (f == (double)(json_int_t)f)
		return json_integer((json_int_t)f);
	char buf[32];
	snprintf(buf, sizeof(buf), "%g", f);
	return json_string(buf);
}

/* Retries are Argo's; exit status 3 from stage exec means another try cannot help. */
static json_t *retry_strategy(const struct swdl_retry *r)
{
	if (!r || r->max_attempts <= 1)
		return NULL;
	char limit[24], dur[24], cap[24];
	snprintf(limit, sizeof(limit), "%lld", (long long)(r->max_attempts - 1));
	snprintf(dur, sizeof(dur), "%llds", (long long)r->initial_interval.seconds);
	snprintf(cap, sizeof(cap), "%llds", (long long)r->max_interval.seconds);
	char *expr = xasprintf("asInt(lastRetry.exitCode) != %d", ARGO_EXIT_PERMANENT);
	json_t *j = json_pack("{s:s, s:s, s:s, s:{s:s, s:o, s:s}}", "limit", limit,
			      "retryPolicy", "Always", "expression", expr, "backoff", "duration",
			      dur, "factor", factor_json(r->backoff_multiplier), "cap", cap);
	free(expr);
	return j;
}

/* part: NULL (the whole stage) or a fan-out's part's option and its value. */
static json_t *container(const struct export *x, size_t i, const char *part, const char *arg)
{
	const struct swdl_loaded *l = x->l;
	const struct argo_opts *o = x->o;
	const struct swdl_stage *s = &l->wf.stages[i];
	json_t *args = json_pack("[s, s, s, s, s, s, s, s]", "stage", "exec", "--bundle",
				 BUNDLE_DIR "/bundle.json", "--stage", s->id, "--outputs",
				 OUTPUTS_DIR);
	if (part)
		json_array_append_new(args, json_string(part));
	if (arg)
		json_array_append_new(args, json_string(arg));
	for (size_t k = 0; k < l->wf.nr_stages; k++) {
		if (!is_ancestor(x, i, k))
			continue;
		char *a = xasprintf("%s={{inputs.parameters.up-%s}}", l->wf.stages[k].id,
				    x->names[k]);
		json_array_append_new(args, json_string("--upstream"));
		json_array_append_new(args, json_string(a));
		free(a);
	}
	json_t *env_from = json_array();
	for (size_t k = 0; k < o->nr_secrets; k++)
		json_array_append_new(env_from, json_pack("{s:{s:s}}", "secretRef", "name",
							  o->secrets[k]));
	json_t *c = json_pack("{s:s, s:[s], s:o, s:[{s:s, s:s}], s:[{s:s, s:s, s:b}]}",
		"image", o->image ? o->image : ARGO_DEFAULT_IMAGE, "command", "skillmeat",
		"args", args, "env", "name", "SKILLMEAT_HOME", "value", "/tmp/skillmeat",
		"volumeMounts", "name", BUNDLE_VOLUME, "mountPath", BUNDLE_DIR, "readOnly", 1);
	if (json_array_size(env_from))
		json_object_set_new(c, "envFrom", env_from);
	else
		json_decref(env_from);
	return c;
}

static json_t *stage_outputs(const struct swdl_stage *s)
{
	json_t *p = json_pack("[{s:s, s:{s:s}}]", "name", "result", "valueFrom", "path",
			      OUTPUTS_DIR "/result.json");
	for (size_t k = 0; k < s->nr_outputs; k++) {
		char *name = xasprintf("out-%s", s->outputs[k].name);
		char *path = xasprintf(OUTPUTS_DIR "/%s", s->outputs[k].name);
		json_array_append_new(p, json_pack("{s:s, s:{s:s, s:s}}", "name", name, "valueFrom",
						   "path", path, "default", ""));
		free(name);
		free(path);
	}
	return json_pack("{s:o}", "parameters", p);
}

/* A gate waits in a suspend template (`argo resume` approves, `argo stop` rejects). */
static json_t *gate_template(const struct swdl_stage *s, const char *name)
{
	json_t *susp = json_object();
	if (s->gate && s->gate->on_timeout == ON_TIMEOUT_AUTO_APPROVE) {
		char d[24];
		snprintf(d, sizeof(d), "%lld", (long long)s->gate->timeout.seconds);
		json_object_set_new(susp, "duration", json_string(d));
	}
	return json_pack("{s:s, s:o}", "name", name, "suspend", susp);
}

/* {name: up-A} for every ancestor: a template's inputs. */
static json_t *upstream_inputs(const struct export *x, size_t i)
{
	json_t *inputs = json_array();
	for (size_t k = 0; k < x->l->wf.nr_stages; k++) {
		if (!is_ancestor(x, i, k))
			continue;
		char *n = xasprintf("up-%s", x->names[k]);
		json_array_append_new(inputs, json_pack("{s:s}", "name", n));
		free(n);
	}
	return inputs;
}


static json_t *labels(const struct export *x, size_t i, const char *part)
{
	json_t *m = json_pack("{s:{s:s, s:s}}", "labels", "skillmeat.dev/workflow",
			      x->l->wf.id, "skillmeat.dev/stage", x->l->wf.stages[i].id);
	if (part)
		json_object_set_new(json_object_get(m, "labels"), "skillmeat.dev/part",
				    json_string(part));
	return m;
}

/* What a fan-out's part is called (labels) and the stage exec option that runs it. */
struct part {
	const char *label, *option;
};
static const struct part LIST = { "list", "--list-items" }, ITEM = { "item", "--item" },
	GATHER = { "gather", "--item-results" };

/* A pod's template: the whole stage (part NULL) or one part of a fan-out. */
static json_t *pod_template(const struct export *x, size_t i, const char *name,
			    const struct part *part, const char *arg, json_t *outputs)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	json_t *t = json_pack("{s:s, s:o, s:o}", "name", name, "container",
			      container(x, i, part ? part->option : NULL, arg), "outputs", outputs);
	json_t *inputs = upstream_inputs(x, i);
	if (part == &ITEM || part == &GATHER) /* the item's index; the items' results */
		json_array_append_new(inputs, json_pack("{s:s}", "name", part == &ITEM ? "item"
							: "results"));
	set_list(t, "inputs", "parameters", inputs);
	if (part == &GATHER) /* the results can be large: a file, not an argument */
		json_object_set_new(json_object_get(t, "inputs"), "artifacts", json_pack(
			"[{s:s, s:s, s:{s:s}}]", "name", "results", "path", ITEM_RESULTS_PATH,
			"raw", "data", "{{inputs.parameters.results}}"));
	bool runs = !part || part == &ITEM; /* what retries and times out */
	json_t *retry = runs ? retry_strategy(s->error_policy->retry) : NULL;
	if (retry)
		json_object_set_new(t, "retryStrategy", retry);
	int64_t timeout = s->error_policy->timeout.seconds;
	/* stage exec stops it at its timeout itself, then reports it */
	if (runs && timeout > 0)
		json_object_set_new(t, "activeDeadlineSeconds",
				    json_integer(timeout + ARGO_DEADLINE_GRACE));
	json_object_set_new(t, "metadata", labels(x, i, part && part != &GATHER ? part->label
							      : NULL));
	return t;
}

/* One output parameter; with a default, a pod that wrote no file still has it. */
static json_t *one_output(const char *name, const char *path, const char *dflt)
{
	json_t *o = json_pack("{s:[{s:s, s:{s:s}}]}", "parameters", "name", name, "valueFrom",
			      "path", path);
	if (dflt)
		json_object_set_new(json_object_get(json_array_get(json_object_get(o, "parameters"),
			0), "valueFrom"), "default", json_string(dflt));
	return o;
}

/*
 * A fan-out is three tasks: NAME--list evaluates the items, NAME--item
 * runs each in a pod of its own (withParam; Argo retries each) and NAME,
 * the stage's task, gathers their results into the stage's result.
 */
static void stage_templates(const struct export *x, size_t i, json_t *templates)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	const char *n = x->names[i];
	if (s->type == STAGE_GATE) {
		json_array_append_new(templates, gate_template(s, n));
		return;
	}
	if (s->type == STAGE_FAN_OUT) {
		char *list = xasprintf("%s" LIST_SUFFIX, n), *item = xasprintf("%s" ITEM_SUFFIX, n);
		json_array_append_new(templates, pod_template(x, i, list, &LIST, NULL,
			one_output("items", OUTPUTS_DIR "/items.json", NULL)));
		json_array_append_new(templates, pod_template(x, i, item, &ITEM,
			"{{inputs.parameters.item}}", one_output("result", OUTPUTS_DIR "/result.json", "")));
		free(list);
		free(item);
	}
	json_array_append_new(templates, pod_template(x, i, n, s->type == STAGE_FAN_OUT ? &GATHER
		: NULL, s->type == STAGE_FAN_OUT ? ITEM_RESULTS_PATH : NULL, stage_outputs(s)));
}

/* skip_dependents needs the other branches to go on after a failure: no fail-fast. */
static bool fail_fast(const struct swdl_workflow *wf)
{
	for (size_t i = 0; i < wf->nr_stages; i++)
		if (swdl_stage_on_failure(wf, &wf->stages[i]) == ON_FAILURE_SKIP_DEPENDENTS)
			return false;
	return true;
}

static json_t *workflow_doc(const struct export *x, const char *name, const char *cm)
{
	const struct swdl_loaded *l = x->l;
	const struct argo_opts *o = x->o;
	const struct swdl_workflow *wf = &l->wf;
	json_t *tasks = json_array(), *templates = json_array();
	for (size_t i = 0; i < wf->nr_stages; i++)
		dag_tasks(x, i, tasks);
	json_array_append_new(templates, json_pack("{s:s, s:{s:b, s:o}}", "name", "main", "dag",
				"failFast", fail_fast(wf), "tasks", tasks));
	for (size_t i = 0; i < wf->nr_stages; i++)
		stage_templates(x, i, templates);
	json_t *spec = json_pack("{s:s, s:o, s:[{s:s, s:{s:s}}]}", "entrypoint", "main",
				 "templates", templates, "volumes", "name", BUNDLE_VOLUME,
				 "configMap", "name", cm);
	if (o->parallelism > 0)
		json_object_set_new(spec, "parallelism", json_integer(o->parallelism));
	if (wf->timeout.seconds > 0)
		json_object_set_new(spec, "activeDeadlineSeconds", json_integer(wf->timeout.seconds));
	json_t *meta = json_pack("{s:{s:s, s:s}, s:{s:s}}", "labels", "skillmeat.dev/workflow",
				 wf->id, "skillmeat.dev/version", wf->version, "annotations",
				 "skillmeat.dev/name", wf->name);
	if (o->workflow_template) {
		json_object_set_new(meta, "name", json_string(name));
	} else {
		char *gen = xasprintf("%s-", name);
		json_object_set_new(meta, "generateName", json_string(gen));
		free(gen);
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "argoproj.io/v1alpha1", "kind",
			 o->workflow_template ? "WorkflowTemplate" : "Workflow", "metadata", meta,
			 "spec", spec);
}

int export_argo(const struct swdl_loaded *l, const json_t *bundle, const struct argo_opts *o,
		json_t **workflow, json_t **configmap, char **err)
{
	*workflow = *configmap = NULL;
	char *text = json_dumps(bundle, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || strlen(text) > ARGO_BUNDLE_MAX) {
		*err = xasprintf("the run bundle is %zu bytes, more than a ConfigMap holds (%d); "
				 "the agents and context modules it carries are too large",
				 text ? strlen(text) : 0, ARGO_BUNDLE_MAX);
		free(text);
		return SM_ERR;
	}
	char *name = dns_name(l->wf.id, 52), *cm = xasprintf("%s-bundle", name);
	struct export x = { l, task_names(&l->wf), ancestors(l), o };
	*workflow = workflow_doc(&x, name, cm);
	*configmap = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1",
			       "kind", "ConfigMap", "metadata", "name", cm, "labels",
			       "skillmeat.dev/workflow", l->wf.id, "data", "bundle.json", text);
	free_names(x.names, l->wf.nr_stages);
	free(x.anc);
	free(cm);
	free(name);
	free(text);
	return SM_OK;
}
