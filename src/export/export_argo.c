#include "../base/compat.h"
#include "export_argo.h"
#include "../engine/host.h"
#include "../runners/runner.h"
#include "../base/strbuf.h"

#define BUNDLE_VOLUME "skillmeat-bundle"
#define BUNDLE_DIR "/skillmeat/bundle"
#define OUTPUTS_DIR "/tmp/outputs"
#define ITEM_RESULTS_PATH "/tmp/inputs/item-results.json"
/* A fan-out's other tasks: a stage's name never ends in "--" and 4 letters (see argo_name). */
#define LIST_SUFFIX "--list"
#define ITEM_SUFFIX "--item"
/* A task or template name: a DNS-1123 label (pod names are made from it), with room for
 * the suffixes above. */
#define TASK_NAME_MAX 50
/* The workflow's name: Argo appends 5 characters to generateName; names stay ≤ 63. */
#define WORKFLOW_NAME_MAX 52
#define PARAM_NAME_MAX 100
#define LABEL_MAX 63
#define HASH_LEN 8

/*
 * Names a stage id must never become.  "main" is the DAG's own template.  The others
 * are words of the expression language (expr-lang/expr: operators, literals and the
 * builtins an identifier would stand for) in which Argo evaluates a task's
 * dependencies, reading each dependency's name as an identifier with '-' as '_'
 * (workflow/controller/dag.go, evaluateDependsLogic).  Names are lower case, so only
 * lower-case words can clash.
 */
static const char *const RESERVED[] = { "main", "in", "not", "and", "or", "nil", "true",
	"false", "matches", "contains", "let", "if", "else", "then", "len", "all", "none",
	"any", "one", "filter", "map", "count", "sum", "find", "abs", "int", "float",
	"string", "trim", "upper", "lower", "split", "join", "type", "keys", "values", "now",
	"duration", "date", "first", "last", "get", "max", "min", "mean", "median", "round",
	"ceil", "floor", "reduce", "concat", "flatten", "uniq", "reverse", "sort", "repeat",
	"indexof", "hasprefix", "hassuffix", "bitand", "bitor", "bitxor", "bitnot", "asint",
	"asfloat", "jsonpath", "sprig", "tojson", "fromjson", NULL };

/* What a name is for, and so which characters it may have (ASCII only, whatever the locale). */
enum name_kind {
	NAME_TASK,   /* template and task: DNS-1123 label, a letter first, no reserved word */
	NAME_OBJECT, /* a Kubernetes object (the workflow): DNS-1123 label, a letter first */
	NAME_PARAM,  /* parameter: [-A-Za-z0-9_]+ (workflow/validate/validate.go) */
};

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z'); }
static char to_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool name_char(enum name_kind k, char c)
{
	if (k == NAME_PARAM)
		return is_alnum(c) || c == '-' || c == '_';
	return is_lower(c) || is_digit(c) || c == '-';
}

/* The first HASH_LEN hex digits of SHA-256(s). */
static void short_hash(const char *s, char out[HASH_LEN + 1])
{
	char h[HOST_HASH_HEX];
	host_snapshot_hash(s, h);
	memcpy(out, h, HASH_LEN);
	out[HASH_LEN] = '\0';
}

/* Is the id already a name of that kind?  Never with "--": changed names have it. */
static bool name_as_is(const char *id, enum name_kind k, size_t max)
{
	size_t n = strlen(id);
	if (!n || n > max || strstr(id, "--") || id[n - 1] == '-' || id[0] == '-')
		return false;
	if (k != NAME_PARAM && !is_lower(id[0]))
		return false;
	for (const char *c = id; *c; c++)
		if (!name_char(k, *c))
			return false;
	for (size_t i = 0; k == NAME_TASK && RESERVED[i]; i++)
		if (!strcmp(id, RESERVED[i]))
			return false;
	return true;
}

/*
 * An id as a name of kind k, at most max characters: the id itself when it is one;
 * otherwise its characters made allowed (lower case, others '-', or '_' in a
 * parameter), cut, then "--" and 8 hex digits of the id's SHA-256.  A name kept as it
 * is has no "--", so it never equals a changed one; two changed names are equal only
 * if their ids' hashes are (the caller checks).
 */
static char *argo_name(const char *id, enum name_kind k, size_t max)
{
	if (name_as_is(id, k, max))
		return xstrdup(id);
	struct strbuf sb = STRBUF_INIT;
	if (k != NAME_PARAM && !is_lower(to_lower(id[0])))
		strbuf_addch(&sb, 's'); /* a letter first: an identifier in `depends` */
	for (const char *c = id; *c; c++) {
		char ch = k == NAME_PARAM ? *c : to_lower(*c);
		if (!name_char(k, ch))
			ch = k == NAME_PARAM ? '_' : '-';
		if (ch == '-' && (!sb.len || sb.buf[sb.len - 1] == '-'))
			continue;
		strbuf_addch(&sb, ch);
	}
	while (sb.len && (sb.len > max - HASH_LEN - 2 || sb.buf[sb.len - 1] == '-'))
		sb.buf[--sb.len] = '\0';
	char h[HASH_LEN + 1];
	short_hash(id, h);
	char *name = xasprintf("%s--%s", sb.len ? sb.buf : "s", h);
	strbuf_release(&sb);
	return name;
}

static bool label_char(char c)
{
	return is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/*
 * A label value (Kubernetes: at most 63, [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, or
 * empty): the text itself when it is one; else its allowed characters, cut, and 8 hex
 * digits of its SHA-256.  The exact text goes in an annotation beside it.
 */
static char *label_value(const char *v)
{
	size_t n = strlen(v);
	bool ok = n <= LABEL_MAX && (!n || (is_alnum(v[0]) && is_alnum(v[n - 1])));
	for (size_t i = 0; ok && i < n; i++)
		ok = label_char(v[i]);
	if (ok)
		return xstrdup(v);
	struct strbuf sb = STRBUF_INIT;
	for (const char *c = v; *c; c++) {
		if (!label_char(*c) || (!sb.len && !is_alnum(*c)))
			continue;
		strbuf_addch(&sb, *c);
	}
	while (sb.len && (sb.len > LABEL_MAX - HASH_LEN - 1 || !is_alnum(sb.buf[sb.len - 1])))
		sb.buf[--sb.len] = '\0';
	char h[HASH_LEN + 1];
	short_hash(v, h);
	char *s = sb.len ? xasprintf("%s-%s", sb.buf, h) : xstrdup(h);
	strbuf_release(&sb);
	return s;
}

/* One task name a stage, and one parameter name an output of each stage. */
struct names {
	char **task;
	char ***out;
};

static void free_names(struct names *n, const struct swdl_workflow *wf)
{
	for (size_t i = 0; n->task && i < wf->nr_stages; i++) {
		free(n->task[i]);
		for (size_t k = 0; n->out[i] && k < wf->stages[i].nr_outputs; k++)
			free(n->out[i][k]);
		free(n->out[i]);
	}
	free(n->task);
	free(n->out);
}

/* Names unique by construction; a clash of two hashes is refused, not renamed. */
static int make_names(const struct swdl_workflow *wf, struct names *n, char **err)
{
	n->task = xcalloc(wf->nr_stages + 1, sizeof(*n->task));
	n->out = xcalloc(wf->nr_stages + 1, sizeof(*n->out));
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		n->task[i] = argo_name(s->id, NAME_TASK, TASK_NAME_MAX);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(n->task[k], n->task[i])) {
				*err = xasprintf("stages '%s' and '%s' both give the Argo name '%s'",
						 wf->stages[k].id, s->id, n->task[i]);
				return SM_ERR;
			}
		n->out[i] = xcalloc(s->nr_outputs + 1, sizeof(**n->out));
		for (size_t k = 0; k < s->nr_outputs; k++) {
			char *p = xasprintf("out-%s", s->outputs[k].name);
			n->out[i][k] = argo_name(p, NAME_PARAM, PARAM_NAME_MAX);
			free(p);
			for (size_t j = 0; j < k; j++)
				if (!strcmp(n->out[i][j], n->out[i][k])) {
					*err = xasprintf("outputs '%s' and '%s' of stage '%s' both give "
							 "the parameter name '%s'", s->outputs[j].name,
							 s->outputs[k].name, s->id, n->out[i][k]);
					return SM_ERR;
				}
		}
	}
	return SM_OK;
}

/* What the documents are made from: the workflow, its names, who depends on whom. */
struct export {
	const struct swdl_loaded *l;
	struct names n;
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

static bool is_gate(const struct export *x, size_t k)
{
	return x->l->wf.stages[k].type == STAGE_GATE;
}

/* A gate's decision is its suspend node's output, supplied when it is resumed. */
#define GATE_PARAM "decision"

/* {{tasks.A.outputs.parameters.result}} (a gate: .decision) of every ancestor. */
static json_t *upstream_args(const struct export *x, size_t i)
{
	const struct swdl_loaded *l = x->l;
	char **names = x->n.task;
	json_t *a = json_array();
	for (size_t k = 0; k < l->wf.nr_stages; k++) {
		if (!is_ancestor(x, i, k))
			continue;
		char *name = xasprintf("up-%s", names[k]);
		char *value = xasprintf("{{tasks.%s.outputs.parameters.%s}}", names[k],
					is_gate(x, k) ? GATE_PARAM : "result");
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
	const char *n = x->n.task[i];
	const struct swdl_stage *s = &l->wf.stages[i];
	json_t *deps = json_array();
	for (size_t k = 0; k < s->depends_on.nr; k++) {
		long d = swdl_stage_find(&l->wf, s->depends_on.v[k]);
		if (d >= 0)
			json_array_append_new(deps, json_string(x->n.task[d]));
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
		/* an item pod reports a failed item in its result and exits 0; one lost to an
		 * error (its node gone) has no result, and the gather fails it as item_lost */
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

/*
 * Argo's backoff factor is a whole number: workflow/controller/operator.go reads it
 * with intstr.Int32 (util/intstr/parametrizable.go: strconv.Atoi on a string), so
 * "1.5" fails the task at its first retry.  Argo waits duration * factor^(n-1) before
 * retry n, as the local host does; a fraction maps exactly only when it never
 * multiplies (one retry, or a zero interval).  False: it cannot be exported.
 */
static bool factor_text(const struct swdl_retry *r, char buf[32])
{
	double f = r->backoff_multiplier;
	if (f >= 1 && f <= 1e6 && f == (double)(long long)f) {
		snprintf(buf, 32, "%lld", (long long)f);
		return true;
	}
	if (r->max_attempts <= 2 || r->initial_interval.seconds == 0) {
		snprintf(buf, 32, "1");
		return true;
	}
	return false;
}

/* Retries are Argo's; exit status 3 from stage exec means another try cannot help. */
static json_t *retry_strategy(const struct swdl_retry *r)
{
	char limit[24], dur[24], cap[24], factor[32];
	if (!r || r->max_attempts <= 1 || !factor_text(r, factor))
		return NULL;
	snprintf(limit, sizeof(limit), "%lld", (long long)(r->max_attempts - 1));
	snprintf(dur, sizeof(dur), "%llds", (long long)r->initial_interval.seconds);
	snprintf(cap, sizeof(cap), "%llds", (long long)r->max_interval.seconds);
	char *expr = xasprintf("asInt(lastRetry.exitCode) != %d", ARGO_EXIT_PERMANENT);
	json_t *j = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s}}", "limit", limit,
			      "retryPolicy", "Always", "expression", expr, "backoff", "duration",
			      dur, "factor", factor, "cap", cap);
	free(expr);
	return j;
}

static void add_arg(json_t *args, const char *opt, const char *value)
{
	json_array_append_new(args, json_string(opt));
	json_array_append_new(args, json_string(value));
}

/* part: NULL (the whole stage) or a fan-out's part's option and its value. */
static json_t *container(const struct export *x, size_t i, const char *part, const char *arg,
			 bool retried)
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
	if (retried) /* Argo's 0-based retry index: $SKILLMEAT_ATTEMPT is one more */
		add_arg(args, "--retries", "{{retries}}");
	for (size_t k = 0; k < l->wf.nr_stages; k++) {
		if (!is_ancestor(x, i, k))
			continue;
		char *a = xasprintf("%s={{inputs.parameters.up-%s}}", l->wf.stages[k].id,
				    x->n.task[k]);
		add_arg(args, is_gate(x, k) ? "--gate" : "--upstream", a);
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

static json_t *stage_outputs(const struct export *x, size_t i)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	json_t *p = json_pack("[{s:s, s:{s:s}}]", "name", "result", "valueFrom", "path",
			      OUTPUTS_DIR "/result.json");
	for (size_t k = 0; k < s->nr_outputs; k++) {
		char *path = xasprintf(OUTPUTS_DIR "/%s", s->outputs[k].name);
		json_array_append_new(p, json_pack("{s:s, s:{s:s, s:s}}", "name", x->n.out[i][k],
						   "valueFrom", "path", path, "default", ""));
		free(path);
	}
	return json_pack("{s:o}", "parameters", p);
}

static json_t *metadata(const struct export *x, size_t i, const char *part)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	char *wl = label_value(x->l->wf.id), *sl = label_value(s->id);
	json_t *m = json_pack("{s:{s:s, s:s}, s:{s:s, s:s}}", "labels", "skillmeat.dev/workflow",
			      wl, "skillmeat.dev/stage", sl, "annotations",
			      "skillmeat.dev/workflow-id", x->l->wf.id, "skillmeat.dev/stage-id",
			      s->id);
	if (part)
		json_object_set_new(json_object_get(m, "labels"), "skillmeat.dev/part",
				    json_string(part));
	free(wl);
	free(sl);
	return m;
}

/*
 * A gate waits in a suspend template whose output `decision` is supplied when it is
 * resumed (`argo node set --output-parameter decision=...`, docs/argo.md).  With a
 * timeout, Argo resumes it by itself at `duration` with the default
 * (workflow/controller/operator.go, executeSuspend): what the gate's on_timeout says.
 */
static json_t *gate_template(const struct export *x, size_t i)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	json_t *susp = json_object();
	json_t *vf = json_pack("{s:{}}", "supplied");
	if (s->gate && s->gate->timeout.seconds > 0) {
		char d[24];
		snprintf(d, sizeof(d), "%lld", (long long)s->gate->timeout.seconds);
		json_object_set_new(susp, "duration", json_string(d));
		json_object_set_new(vf, "default", json_string(
			s->gate->on_timeout == ON_TIMEOUT_AUTO_APPROVE ? "approve" : "timeout"));
	}
	return json_pack("{s:s, s:o, s:{s:[{s:s, s:o}]}, s:o}", "name", x->n.task[i], "suspend",
			 susp, "outputs", "parameters", "name", GATE_PARAM, "valueFrom", vf,
			 "metadata", metadata(x, i, NULL));
}

/* {name: up-A} for every ancestor: a template's inputs. */
static json_t *upstream_inputs(const struct export *x, size_t i)
{
	json_t *inputs = json_array();
	for (size_t k = 0; k < x->l->wf.nr_stages; k++) {
		if (!is_ancestor(x, i, k))
			continue;
		char *n = xasprintf("up-%s", x->n.task[k]);
		json_array_append_new(inputs, json_pack("{s:s}", "name", n));
		free(n);
	}
	return inputs;
}

/* What a fan-out's part is called (labels) and the stage exec option that runs it. */
struct part {
	const char *label, *option;
};
static const struct part LIST = { "list", "--list-items" }, ITEM = { "item", "--item" },
	GATHER = { "gather", "--item-results" };

/* Seconds an item's pod may take: every attempt to its timeout, and the waits between. */
static int64_t item_deadline(const struct swdl_stage *s)
{
	const struct swdl_retry *r = s->error_policy->retry;
	int64_t t = s->error_policy->timeout.seconds, n = r ? r->max_attempts : 1, total = 0;
	double wait = r ? (double)r->initial_interval.seconds : 0;
	for (int64_t k = 0; k < n && k < 1000; k++) {
		total += t;
		if (k + 1 < n) {
			total += (int64_t)wait > r->max_interval.seconds ? r->max_interval.seconds
									   : (int64_t)wait;
			wait *= r->backoff_multiplier;
		}
	}
	return total;
}

/* A pod's template: the whole stage (part NULL) or one part of a fan-out. */
static json_t *pod_template(const struct export *x, size_t i, const char *name,
			    const struct part *part, const char *arg, json_t *outputs)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	/* Argo retries a whole stage; an item retries in its pod, as locally */
	json_t *retry = !part ? retry_strategy(s->error_policy->retry) : NULL;
	json_t *t = json_pack("{s:s, s:o, s:o}", "name", name, "container",
			      container(x, i, part ? part->option : NULL, arg, retry != NULL),
			      "outputs", outputs);
	json_t *inputs = upstream_inputs(x, i);
	if (part == &ITEM || part == &GATHER) /* the item's index; the items' results */
		json_array_append_new(inputs, json_pack("{s:s}", "name", part == &ITEM ? "item"
							: "results"));
	set_list(t, "inputs", "parameters", inputs);
	if (part == &GATHER) /* the results can be large: a file, not an argument */
		json_object_set_new(json_object_get(t, "inputs"), "artifacts", json_pack(
			"[{s:s, s:s, s:{s:s}}]", "name", "results", "path", ITEM_RESULTS_PATH,
			"raw", "data", "{{inputs.parameters.results}}"));
	if (retry)
		json_object_set_new(t, "retryStrategy", retry);
	/* stage exec stops an attempt at its timeout itself, then reports it */
	int64_t timeout = !part ? s->error_policy->timeout.seconds : part == &ITEM
		? item_deadline(s) : 0;
	if (timeout > 0) { /* int-or-string: Argo's schema says string */
		char d[24];
		snprintf(d, sizeof(d), "%lld", (long long)(timeout + ARGO_DEADLINE_GRACE));
		json_object_set_new(t, "activeDeadlineSeconds", json_string(d));
	}
	json_object_set_new(t, "metadata", metadata(x, i, part && part != &GATHER ? part->label
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
 * runs each in a pod of its own (withParam) and NAME, the stage's task,
 * gathers their results into the stage's result.
 */
static void stage_templates(const struct export *x, size_t i, json_t *templates)
{
	const struct swdl_stage *s = &x->l->wf.stages[i];
	const char *n = x->n.task[i];
	if (s->type == STAGE_GATE) {
		json_array_append_new(templates, gate_template(x, i));
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
		: NULL, s->type == STAGE_FAN_OUT ? ITEM_RESULTS_PATH : NULL, stage_outputs(x, i)));
}

/* skip_dependents needs the other branches to go on after a failure: no fail-fast. */
static bool fail_fast(const struct swdl_workflow *wf)
{
	for (size_t i = 0; i < wf->nr_stages; i++)
		if (swdl_stage_on_failure(wf, &wf->stages[i]) == ON_FAILURE_SKIP_DEPENDENTS)
			return false;
	return true;
}

static json_t *workflow_meta(const struct export *x, const char *name)
{
	const struct swdl_workflow *wf = &x->l->wf;
	char *wl = label_value(wf->id), *vl = label_value(wf->version ? wf->version : "");
	json_t *meta = json_pack("{s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "labels",
				 "skillmeat.dev/workflow", wl, "skillmeat.dev/version", vl,
				 "annotations", "skillmeat.dev/workflow-id", wf->id,
				 "skillmeat.dev/version", wf->version ? wf->version : "",
				 "skillmeat.dev/name", wf->name ? wf->name : "");
	if (x->o->workflow_template) {
		json_object_set_new(meta, "name", json_string(name));
	} else {
		char *gen = xasprintf("%s-", name);
		json_object_set_new(meta, "generateName", json_string(gen));
		free(gen);
	}
	free(wl);
	free(vl);
	return meta;
}

static json_t *workflow_doc(const struct export *x, const char *name, const char *cm)
{
	const struct argo_opts *o = x->o;
	const struct swdl_workflow *wf = &x->l->wf;
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
	if (wf->timeout.seconds > 0) /* the workflow's own is an int64, not int-or-string */
		json_object_set_new(spec, "activeDeadlineSeconds", json_integer(wf->timeout.seconds));
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "argoproj.io/v1alpha1", "kind",
			 o->workflow_template ? "WorkflowTemplate" : "Workflow", "metadata",
			 workflow_meta(x, name), "spec", spec);
}

/* What Argo cannot run as the workflow says: refused at export, not found in the pod. */
static int check_exportable(const struct swdl_workflow *wf, const struct argo_opts *o,
			    char **err)
{
	struct runner_set rs;
	runner_set_init(&rs); /* the built-in runners only: a pod's home has no config.toml */
	char f[32];
	if (!wf->nr_stages) /* workflow/validate/validate.go, validateDAG */
		*err = xstrdup("the workflow has no stage, and Argo refuses a DAG without tasks");
	for (size_t i = 0; !*err && i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		const struct swdl_retry *r = s->error_policy ? s->error_policy->retry : NULL;
		if (s->type != STAGE_FAN_OUT && r && r->max_attempts > 1 && !factor_text(r, f))
			*err = xasprintf("stage '%s': backoff_multiplier %g cannot be exported: "
				"Argo's retryStrategy.backoff.factor is a whole number (its "
				"controller reads it as an integer); use a whole multiplier (1, 2, "
				"3, ...), or at most 2 attempts", s->id, r->backoff_multiplier);
		const char *runner = s->runner ? s->runner : "claude";
		if (!*err && !swdl_stage_is_command(s) && !o->image_runners &&
		    !runner_set_find(&rs, runner))
			*err = xasprintf("stage '%s' uses runner '%s', which config.toml defines: an "
				"export carries no runner definition (it may hold credentials). Put "
				"a config.toml defining it in the image at /tmp/skillmeat/config.toml "
				"(the tasks' SKILLMEAT_HOME, no secrets in it) and export with "
				"--image-runners, or bind the stage to a built-in runner (claude, "
				"codex, gemini)", s->id, runner);
	}
	runner_set_release(&rs);
	return *err ? SM_ERR : SM_OK;
}

int export_argo(const struct swdl_loaded *l, const json_t *bundle, const struct argo_opts *o,
		json_t **workflow, json_t **configmap, char **err)
{
	*workflow = *configmap = NULL;
	*err = NULL;
	if (check_exportable(&l->wf, o, err))
		return SM_ERR;
	char *text = json_dumps(bundle, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text || strlen(text) > ARGO_BUNDLE_MAX) {
		*err = xasprintf("the run bundle is %zu bytes, more than a ConfigMap holds (%d); "
				 "the agents and context modules it carries are too large",
				 text ? strlen(text) : 0, ARGO_BUNDLE_MAX);
		free(text);
		return SM_ERR;
	}
	struct export x = { l, { NULL, NULL }, NULL, o };
	if (make_names(&l->wf, &x.n, err)) {
		free_names(&x.n, &l->wf);
		free(text);
		return SM_ERR;
	}
	x.anc = ancestors(l);
	/* one ConfigMap per bundle (its content's hash): an export with other parameters
	 * never overwrites the bundle of a run that is still going */
	char h[HOST_HASH_HEX];
	host_snapshot_hash(text, h);
	char *name = argo_name(l->wf.id, NAME_OBJECT, WORKFLOW_NAME_MAX);
	char *cm = xasprintf("%s-bundle-%.10s", name, h), *wl = label_value(l->wf.id);
	*workflow = workflow_doc(&x, name, cm);
	*configmap = json_pack("{s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}}, s:{s:s}}", "apiVersion",
			       "v1", "kind", "ConfigMap", "metadata", "name", cm, "labels",
			       "skillmeat.dev/workflow", wl, "annotations",
			       "skillmeat.dev/workflow-id", l->wf.id, "data", "bundle.json", text);
	free_names(&x.n, &l->wf);
	free(x.anc);
	free(wl);
	free(cm);
	free(name);
	free(text);
	return SM_OK;
}
