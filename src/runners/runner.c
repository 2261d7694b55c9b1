#include "../base/compat.h"
#include "runner_proto.h"
#include "../base/fsutil.h"
#include "../formats/load.h"
#include "../base/suggest.h"
#include "../swdl/workflow.h"
#include "../context/prices.h"


extern char **environ;

/*
 * A protocol line is kept whole however long it is (Claude Code writes a
 * final answer of any size as one result line): memory is capped per
 * line and per whole stream instead, at RUNNER_MAX_LINE.
 */
/* A raw protocol line recorded as an event: at most this much of it (the log has all). */
#define MAX_EVENT_LINE ((size_t)64 << 10)

/* ---- the runner set ------------------------------------------------------- */

static const struct proto_ops *const protos[] = {
	[PROTO_COMMAND] = &proto_command, [PROTO_CLAUDE] = &proto_claude,
	[PROTO_CODEX] = &proto_codex, [PROTO_GEMINI] = &proto_gemini, [PROTO_TEXT] = &proto_text,
};

static void add_def(struct runner_set *rs, const char *name, enum runner_protocol p)
{
	rs->defs = xrealloc(rs->defs, (rs->nr + 1) * sizeof(*rs->defs));
	rs->defs[rs->nr++] = (struct runner_def){ xstrdup(name), p, NULL, NULL };
}

static char **string_list(const struct node *n, const char *what, char **err)
{
	struct strv sv = { 0 };
	if (!n || n->kind != NODE_SEQ) {
		*err = xasprintf("%s: expected a list of strings", what);
		return NULL;
	}
	for (size_t i = 0; i < n->nr; i++) {
		if (n->items[i]->kind != NODE_STRING) {
			*err = xasprintf("%s:%d:%d: expected a string", what, n->items[i]->loc.line,
					 n->items[i]->loc.col);
			strv_free(strv_detach(&sv));
			return NULL;
		}
		strv_push(&sv, n->items[i]->text);
	}
	return strv_detach(&sv);
}

static int parse_protocol(const struct node *n, const char *file, enum runner_protocol *p,
			  char **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
		if (n && n->kind == NODE_STRING &&
		    !strcmp(n->text, runner_protocol_name((enum runner_protocol)i))) {
			*p = (enum runner_protocol)i;
			return SM_OK;
		}
	}
	*err = xasprintf("%s:%d:%d: protocol must be one of claude, codex, gemini, text, "
			 "command", file, n ? n->loc.line : 0, n ? n->loc.col : 0);
	return SM_ERR;
}

/* One [runners.NAME] table: a new runner, or settings for a built-in one. */
static int load_runner(struct runner_set *rs, const char *file, const char *name,
		       const struct node *t, char **err)
{
	struct runner_def *d = (struct runner_def *)runner_set_find(rs, name);
	if (!d) {
		add_def(rs, name, PROTO_TEXT);
		d = &rs->defs[rs->nr - 1];
		if (!node_map_get(t, "command")) {
			*err = xasprintf("%s: runner '%s' needs a command", file, name);
			return SM_ERR;
		}
	}
	const struct node *n;
	if ((n = node_map_get(t, "protocol")) && parse_protocol(n, file, &d->proto, err))
		return SM_ERR;
	if ((n = node_map_get(t, "command"))) {
		strv_free(d->argv);
		if (!(d->argv = string_list(n, file, err)) || !d->argv[0])
			return *err ? SM_ERR : (*err = xasprintf("%s: runner '%s': empty command",
								 file, name), SM_ERR);
	}
	if ((n = node_map_get(t, "args"))) {
		strv_free(d->extra);
		if (!(d->extra = string_list(n, file, err)))
			return SM_ERR;
	}
	return SM_OK;
}

void runner_set_init(struct runner_set *rs)
{
	memset(rs, 0, sizeof(*rs));
	add_def(rs, "command", PROTO_COMMAND);
	add_def(rs, "claude", PROTO_CLAUDE);
	add_def(rs, "codex", PROTO_CODEX);
	add_def(rs, "gemini", PROTO_GEMINI);
}

int runner_set_load(struct runner_set *rs, const struct node *runners, const char *file,
		    char **err)
{
	if (!runners)
		return SM_OK;
	if (runners->kind != NODE_MAP) {
		*err = xasprintf("%s:%d:%d: runners must be a table", file, runners->loc.line,
				 runners->loc.col);
		return SM_ERR;
	}
	for (size_t i = 0; i < runners->nr; i++) {
		const struct node *t = runners->pairs[i].value;
		if (t->kind != NODE_MAP) {
			*err = xasprintf("%s:%d:%d: runners.%s must be a table", file, t->loc.line,
					 t->loc.col, runners->pairs[i].key->text);
			return SM_ERR;
		}
		if (load_runner(rs, file, runners->pairs[i].key->text, t, err))
			return SM_ERR;
	}
	return SM_OK;
}

const char *runner_program(const struct runner_def *def)
{
	if (def->argv)
		return def->argv[0];
	return def->proto == PROTO_COMMAND ? "/bin/sh" : protos[def->proto]->program;
}

const struct runner_def *runner_set_find(const struct runner_set *rs, const char *name)
{
	for (size_t i = 0; i < rs->nr; i++)
		if (!strcmp(rs->defs[i].name, name))
			return &rs->defs[i];
	return NULL;
}

void runner_set_release(struct runner_set *rs)
{
	for (size_t i = 0; i < rs->nr; i++) {
		free(rs->defs[i].name);
		strv_free(rs->defs[i].argv);
		strv_free(rs->defs[i].extra);
	}
	free(rs->defs);
	memset(rs, 0, sizeof(*rs));
}

/* ---- preparing an attempt -------------------------------------------------- */

static int write_file(const char *dir, const char *name, const char *text, char **path,
		      char **err)
{
	*path = path_join(dir, name);
	/* No fsync: after an OS crash no monitor is left to adopt, and the attempt is run
	 * again in a folder of its own. */
	if (fs_write_file(*path, text ? text : "", text ? strlen(text) : 0)) {
		*err = xasprintf("cannot write %s: %s", *path, strerror(errno));
		return SM_ERR;
	}
	return SM_OK;
}

struct files {
	char *system_prompt, *prompt, *inputs, *context;
};

/* Expand {placeholders} of one argv template word. */
static char *expand(const char *word, const struct stage_request *rq, const struct files *f)
{
	struct strbuf sb = STRBUF_INIT;
	char num[64];
	while (*word) {
		const char *open = strchr(word, '{'), *close = open ? strchr(open, '}') : NULL;
		if (!close) {
			strbuf_addstr(&sb, word);
			break;
		}
		strbuf_add(&sb, word, (size_t)(open - word));
		size_t n = (size_t)(close - open - 1);
		const char *v = NULL;
#define IS(name) (n == strlen(name) && !strncmp(open + 1, name, n))
		if (IS("system_prompt_file"))
			v = f->system_prompt;
		else if (IS("prompt_file"))
			v = f->prompt;
		else if (IS("inputs_file"))
			v = f->inputs;
		else if (IS("context_file"))
			v = f->context ? f->context : "";
		else if (IS("model"))
			v = rq->model ? rq->model : "";
		else if (IS("session_id"))
			v = rq->session_id;
		else if (IS("workdir"))
			v = rq->workdir;
		else if (IS("max_turns") && rq->budget && rq->budget->max_turns)
			snprintf(num, sizeof(num), "%lld", (long long)rq->budget->max_turns), v = num;
		else if (IS("max_budget_usd") && rq->budget && rq->budget->max_usd > 0)
			snprintf(num, sizeof(num), "%.4f", rq->budget->max_usd), v = num;
		else if (IS("max_turns") || IS("max_budget_usd"))
			v = "";
#undef IS
		if (v)
			strbuf_addstr(&sb, v);
		else
			strbuf_add(&sb, open, n + 2); /* unknown: kept as written */
		word = close + 1;
	}
	return strbuf_detach(&sb, NULL);
}

static char **build_argv(const struct runner_def *def, const struct proto_ops *ops,
			 const struct stage_request *rq, const struct files *f)
{
	struct strv sv = { 0 };
	if (def->argv) {
		for (size_t i = 0; def->argv[i]; i++) {
			char *w = expand(def->argv[i], rq, f);
			strv_push(&sv, w);
			free(w);
		}
		return strv_detach(&sv);
	}
	if (ops->program)
		strv_push(&sv, ops->program);
	ops->args(&sv, rq);
	for (size_t i = 0; def->extra && def->extra[i]; i++)
		strv_push(&sv, def->extra[i]);
	return strv_detach(&sv);
}

/* The environment: ours, the stage's, and the attempt's identity. */
static char **build_env(const struct stage_request *rq, enum runner_protocol proto,
			const char *output_file, const struct files *f)
{
	struct strv sv = { 0 };
	for (char **e = environ; *e; e++) {
		if (!strncmp(*e, "SKILLMEAT_OUTPUT=", 17) || !strncmp(*e, "SKILLMEAT_INPUTS=", 17) ||
		    !strncmp(*e, "SKILLMEAT_CONTEXT=", 18) ||
		    (proto == PROTO_GEMINI && rq->delivery &&
		     json_object_size(rq->delivery->mcp_servers) &&
		     !strncmp(*e, "GEMINI_CLI_SYSTEM_SETTINGS_PATH=", 32)))
			continue;
		strv_push(&sv, *e);
	}
	for (size_t i = 0; i < rq->nr_env; i++)
		strv_push(&sv, rq->env[i]);
	/* Gemini CLI 0.41+ refuses a headless run in a folder it does not trust (exit 55);
	 * the workflow's own work tree is the one it is asked to work in. */
	if (proto == PROTO_GEMINI && !getenv("GEMINI_CLI_TRUST_WORKSPACE"))
		strv_push(&sv, "GEMINI_CLI_TRUST_WORKSPACE=true");
	runner_delivery_env(&sv, rq, proto);
	strv_pushf(&sv, "SKILLMEAT_RUN_ID=%s", rq->run_id);
	strv_pushf(&sv, "SKILLMEAT_STAGE_ID=%s", rq->stage->id);
	strv_pushf(&sv, "SKILLMEAT_ATTEMPT=%d", rq->attempt);
	strv_pushf(&sv, "SKILLMEAT_OUTPUT=%s", output_file);
	strv_pushf(&sv, "SKILLMEAT_INPUTS=%s", f->inputs);
	if (f->context)
		strv_pushf(&sv, "SKILLMEAT_CONTEXT=%s", f->context);
	return strv_detach(&sv);
}

int runner_prepare(const struct runner_def *def, const struct stage_request *rq,
		   struct runner_job *job, char **err)
{
	const struct proto_ops *ops = protos[def->proto];
	struct files f = { 0 };
	char *inputs_text = json_dumps(rq->inputs ? rq->inputs : json_object(), JSON_INDENT(2));
	memset(job, 0, sizeof(*job));
	job->proto = def->proto;
	job->reported_usd = -1;
	*err = NULL;
	int r = SM_ERR;
	if (fs_mkdirs(rq->attempt_dir)) {
		*err = xasprintf("cannot create %s: %s", rq->attempt_dir, strerror(errno));
		goto out;
	}
	if (write_file(rq->attempt_dir, "inputs.json", inputs_text, &f.inputs, err) ||
	    write_file(rq->attempt_dir, "outputs", "", &job->output_file, err) ||
	    /* a command stage has neither: two files (inodes) less an attempt */
	    (def->proto != PROTO_COMMAND &&
	     (write_file(rq->attempt_dir, "prompt.md", rq->prompt, &f.prompt, err) ||
	      write_file(rq->attempt_dir, "system-prompt.md", rq->system_prompt,
			 &f.system_prompt, err))) ||
	    (rq->context && write_file(rq->attempt_dir, "context.md", rq->context, &f.context,
				       err)))
		goto out;
	if (def->proto != PROTO_COMMAND && runner_delivery_write(rq, def->proto, err))
		goto out;
	job->argv = build_argv(def, ops, rq, &f);
	job->env = build_env(rq, def->proto, job->output_file, &f);
	job->cwd = xstrdup(rq->cwd ? rq->cwd : rq->workdir);
	if (def->proto != PROTO_COMMAND && rq->prompt)
		job->input_file = xstrdup(f.prompt);
	r = SM_OK;
out:
	free(inputs_text);
	free(f.system_prompt);
	free(f.prompt);
	free(f.inputs);
	free(f.context);
	return r;
}

void runner_job_attach(const struct runner_def *def, const char *attempt_dir,
		       struct runner_job *job)
{
	memset(job, 0, sizeof(*job));
	job->proto = def ? def->proto : PROTO_TEXT;
	job->output_file = path_join(attempt_dir, "outputs");
	job->reported_usd = -1;
}

/* ---- reading the child ------------------------------------------------------ */

static void one_line(struct runner_job *job, int stream, const char *line, size_t len,
		     runner_emit_fn emit, void *ctx)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (stream == 2 || job->proto == PROTO_COMMAND) {
		emit(ctx, "log", stream, line, len < MAX_EVENT_LINE ? len : MAX_EVENT_LINE);
		return;
	}
	if (len > MAX_EVENT_LINE) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_add(&sb, line, MAX_EVENT_LINE);
		strbuf_addf(&sb, "... (%zu more bytes of this line are in the log)",
			    len - MAX_EVENT_LINE);
		emit(ctx, "output", stream, sb.buf, sb.len);
		strbuf_release(&sb);
	} else {
		emit(ctx, "output", stream, line, len);
	}
	protos[job->proto]->line(job, line, len, emit, ctx);
}

/* gemini and text: all of a stream is kept for the final parse (up to the cap). */
static void keep_whole(struct runner_job *job, int stream, const char *data, size_t len)
{
	struct strbuf *w = &job->whole[stream == 2];
	size_t room = RUNNER_MAX_LINE > w->len ? RUNNER_MAX_LINE - w->len : 0;
	if (len > room)
		job->overflow = true;
	strbuf_add(w, data, len < room ? len : room);
}

void runner_feed(struct runner_job *job, int stream, const char *data, size_t len,
		 runner_emit_fn emit, void *ctx)
{
	struct strbuf *part = &job->partial[stream == 2];
	/* Only claude's and codex's stdout lines are protocol messages, read whole. */
	bool protocol = stream == 1 && (job->proto == PROTO_CLAUDE || job->proto == PROTO_CODEX);
	size_t cap = protocol ? RUNNER_MAX_LINE : MAX_EVENT_LINE;
	if (job->proto == PROTO_GEMINI || (stream == 1 && job->proto == PROTO_TEXT))
		keep_whole(job, stream, data, len);
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		size_t room = cap > part->len ? cap - part->len : 0;
		if (n > room && protocol)
			job->overflow = true; /* a protocol message would be cut: say so */
		strbuf_add(part, data, n < room ? n : room);
		if (!nl)
			break;
		one_line(job, stream, part->buf, part->len, emit, ctx);
		strbuf_reset(part);
		data += n + 1;
		len -= n + 1;
	}
}

void runner_finish(struct runner_job *job, int exit_code, runner_emit_fn emit, void *ctx,
		   struct runner_result *res)
{
	memset(res, 0, sizeof(*res));
	for (int s = 0; s < 2; s++) {
		if (job->partial[s].len) /* a last line without a newline */
			one_line(job, s + 1, job->partial[s].buf, job->partial[s].len, emit, ctx);
		strbuf_reset(&job->partial[s]);
	}
	protos[job->proto]->finish(job, exit_code, res);
	if (job->overflow && res->ok) {
		res->ok = false;
		res->error_class = "protocol_error";
		res->error = xasprintf("the agent wrote a line or an answer over %zu MiB: not "
				       "read", RUNNER_MAX_LINE >> 20);
		json_decref(res->outputs);
		res->outputs = NULL;
	}
	if (!res->outputs)
		res->outputs = json_object();
	runner_usage_totals(job);
}

void runner_job_release(struct runner_job *job)
{
	strv_free(job->argv);
	strv_free(job->env);
	free(job->cwd);
	free(job->input_file);
	free(job->output_file);
	for (int s = 0; s < 2; s++) {
		strbuf_release(&job->partial[s]);
		strbuf_release(&job->whole[s]);
	}
	free(job->result_text);
	free(job->error);
	free(job->session_id);
	free(job->model);
	free(job->version);
	free(job->last_error);
	json_decref(job->structured);
	json_decref(job->msg_tokens);
	usage_set_clear(&job->usage);
	memset(job, 0, sizeof(*job));
}

void runner_result_release(struct runner_result *res)
{
	free(res->error);
	json_decref(res->outputs);
	memset(res, 0, sizeof(*res));
}

/* ---- usage and cost ---------------------------------------------------------------- */

double runner_cost(struct runner_job *job, const struct price_table *t,
		   const char *fallback_model, struct strbuf *note)
{
	double usd = 0;
	runner_usage_totals(job);
	if (!job->model && fallback_model) /* codex names no model: the one it was given */
		job->model = xstrdup(fallback_model);
	if (job->reported_usd >= 0) {
		job->usd = job->reported_usd;
		return job->usd;
	}
	for (size_t i = 0; i < job->usage.nr; i++) {
		const struct model_usage *m = &job->usage.m[i];
		const char *name = *m->model ? m->model : fallback_model;
		const struct price *p = m->usd >= 0 ? NULL : price_lookup(t, name);
		if (m->usd >= 0) {
			usd += m->usd;
		} else if (p) {
			double c = price_usage(p, m->input, m->cache_read, m->cache_write, m->output);
			usd += c;
			strbuf_addf(note, "%scost of %s estimated from tokens (%s): %lld in, %lld "
				    "cache read, %lld cache write, %lld out: $%.4f",
				    note->len ? "; " : "", name, p->model, (long long)m->input,
				    (long long)m->cache_read, (long long)m->cache_write,
				    (long long)m->output, c);
		} else if (m->input + m->cache_read + m->cache_write + m->output) {
			strbuf_addf(note, "%sno price for model '%s': add [prices.\"%s\"] to "
				    "config.toml to count its cost", note->len ? "; " : "",
				    name ? name : "(default)", name ? name : "MODEL");
		}
	}
	job->usd = usd;
	return usd;
}

/* What stage s binds that its runner cannot be given: a warning each, on the tools field. */
static void warn_gaps(const struct runner_def *def, const struct swdl_stage *s,
		      struct diag_list *dl)
{
	json_t *skills = json_object(), *mcp = json_object();
	const char **allowed = NULL, **disallowed = NULL;
	for (size_t i = 0; i < s->tools.nr; i++) {
		if (!strncmp(s->tools.v[i], "skill:", 6))
			json_object_set_new(skills, s->tools.v[i] + 6, json_object());
		else if (!strncmp(s->tools.v[i], "mcp:", 4))
			json_object_set_new(mcp, s->tools.v[i] + 4, json_object());
	}
	const struct swdl_permissions *pm = s->permissions;
	static const char *const listed[] = { "(listed)", NULL }; /* only presence matters */
	if (pm && pm->allowed_tools.nr)
		allowed = (const char **)listed;
	if (pm && pm->disallowed_tools.nr)
		disallowed = (const char **)listed;
	struct stage_delivery d = { skills, mcp, pm ? pm->mode : NULL, allowed, disallowed };
	struct strbuf gaps = STRBUF_INIT;
	runner_delivery_gaps(def->proto, &d, &gaps);
	struct loc loc = swdl_stage_loc(s, s->tools.nr ? "roles.tools" : "permissions");
	for (char *line = gaps.buf, *nl; gaps.len && (nl = strchr(line, '\n')); line = nl + 1)
		diag_add(dl, DIAG_WARNING, &loc, "runner", s->id, "roles.tools",
			 "runner '%s' is not given this: %.*s", def->name, (int)(nl - line), line);
	strbuf_release(&gaps);
	json_decref(skills);
	json_decref(mcp);
}

int runner_check_workflow(const struct runner_set *rs, const struct swdl_workflow *wf,
			  const char *config_path, struct diag_list *dl)
{
	const char *names[64];
	size_t n = 0;
	int bad = 0;
	for (size_t i = 0; i < rs->nr && n < ARRAY_SIZE(names); i++)
		if (rs->defs[i].proto != PROTO_COMMAND)
			names[n++] = rs->defs[i].name;
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		if (swdl_stage_is_command(s) || s->type == STAGE_GATE)
			continue;
		const struct runner_def *def = runner_set_find(rs, s->runner ? s->runner : "claude");
		if (def)
			warn_gaps(def, s, dl);
		if (!s->runner || def)
			continue;
		struct loc loc = swdl_stage_loc(s, "roles.primary.runner");
		const char *near = suggest_nearest(s->runner, names, n);
		diag_add(dl, DIAG_ERROR, &loc, "runner", s->id, "roles.primary.runner",
			 "no runner named '%s': built in are claude, codex and gemini; others are "
			 "defined in %s as [runners.%s]%s%s%s", s->runner, config_path, s->runner,
			 near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		bad++;
	}
	return bad ? SM_ERR : SM_OK;
}
