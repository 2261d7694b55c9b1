/*
 * host_attempt.c - the life of one attempt, for the host (host.c): prepare
 * and start it under a monitor (monitor.h), follow its logs into events,
 * stop it, judge how it ended; and adopt the attempts a dead host left.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "outputs.h"
#include "../base/fsutil.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <time.h>

/* Bytes of a log read in one loop turn: a flood cannot starve the loop. */
#define FOLLOW_CHUNK ((int64_t)4 << 20)
/*
 * Lines of a stream recorded as one event each, per attempt; past either
 * figure the lines stay in the log file only and each loop turn records one
 * event with their count and byte range (the database never grows a row a
 * line, however much a stage writes).  What an agent's parser makes of its
 * protocol (its text, the tools it calls) is what a reader follows, so it
 * has a larger budget of its own than the raw lines.
 */
#define EVENT_LINES 2000
#define EVENT_BYTES ((int64_t)512 << 10)
#define AGENT_LOG_LINES 20000
#define AGENT_LOG_BYTES ((int64_t)2 << 20)

/* ---- output: log lines into events ---------------------------------------------------- */

/* The engine's own notes (stream 0) are always recorded; the program's lines within budget. */
static bool within_budget(struct slot *sl, const char *kind, int stream, size_t len)
{
	if (stream != 1 && stream != 2)
		return true;
	int s = stream - 1;
	if (!strcmp(kind, "log") && stream == 1 && sl->job.proto != PROTO_COMMAND &&
	    sl->job.proto != PROTO_TEXT) { /* the parser's reading of an agent's protocol */
		if (sl->agent_lines < AGENT_LOG_LINES &&
		    sl->agent_bytes + (int64_t)len <= AGENT_LOG_BYTES) {
			sl->agent_lines++;
			sl->agent_bytes += (int64_t)len;
			return true;
		}
		return false; /* its raw lines are counted below, once */
	}
	if (sl->event_lines[s] < EVENT_LINES && sl->event_bytes[s] + (int64_t)len <= EVENT_BYTES) {
		sl->event_lines[s]++;
		sl->event_bytes[s] += (int64_t)len;
		return true;
	}
	if (!sl->skipped_lines[s])
		sl->skipped_from[s] = sl->att.off[s];
	sl->skipped_lines[s]++;
	return false;
}

static void emit_line(void *ctx, const char *kind, int stream, const char *text, size_t len)
{
	struct slot *sl = ctx;
	struct host *h = sl->h;
	if (sl->replaying) /* an earlier host already recorded these lines */
		return;
	if (!within_budget(sl, kind, stream, len))
		return;
	json_t *t = json_stringn(text, len);
	if (!t) /* not UTF-8: keep it readable rather than lose the line */
		t = json_string("(a line that is not UTF-8)");
	host_event(h, kind, host_stage_id(h, sl->stage), sl->attempt,
		   json_pack("{s:s, s:o}", "stream", stream == 2 ? "stderr" : "stdout", "text", t));
}

static void on_data(void *ctx, int stream, const char *data, size_t len)
{
	struct slot *sl = ctx;
	runner_feed(&sl->job, stream, data, len, emit_line, sl);
}

/* The stage's output limit in bytes per stream (budget.max_output_bytes, else config). */
static int64_t output_limit(const struct host *h, const struct slot *sl)
{
	const struct swdl_budget *b = h->wf->stages[sl->stage].budget;
	return b && b->max_output_bytes ? b->max_output_bytes : h->o->config->max_output_bytes;
}

/* One event per stream for the lines this turn left in the log file only. */
static void note_skipped(struct host *h, struct slot *sl)
{
	for (int s = 0; s < 2; s++) {
		if (!sl->skipped_lines[s])
			continue;
		host_event(h, "log", host_stage_id(h, sl->stage), sl->attempt,
			   json_pack("{s:s, s:s, s:[I, I], s:I}", "stream", s ? "stderr" : "stdout",
				     "text", "(lines not recorded as events: see the attempt's log)",
				     "range", (json_int_t)sl->skipped_from[s],
				     (json_int_t)sl->att.off[s], "lines",
				     (json_int_t)sl->skipped_lines[s]));
		sl->skipped_lines[s] = 0;
	}
}

/* Read what the attempt's logs gained; 1 when a flood left more for the next turn. */
static int follow(struct host *h, struct slot *sl)
{
	int64_t cap = output_limit(h, sl);
	int64_t stop[2] = { sl->att.off[0] + FOLLOW_CHUNK, sl->att.off[1] + FOLLOW_CHUNK };
	for (int s = 0; s < 2; s++) {
		if (stop[s] > cap)
			stop[s] = cap; /* never read past the limit */
		if (sl->att.off[s] >= cap && !sl->over_limit && !sl->replaying) {
			sl->over_limit = true;
			if (!sl->kill_reason && sl->spawned && !sl->att.ended) {
				sl->kill_reason = "output_limit";
				sl->kill_at = store_now();
			}
		}
	}
	int more = attempt_follow(&sl->att, on_data, sl, stop);
	if (!sl->replaying)
		note_skipped(h, sl);
	bool again = false; /* a flood left more below the limit for the next turn */
	for (int s = 0; s < 2; s++)
		again |= sl->att.off[s] < cap && sl->att.off[s] >= stop[s];
	if (sl->att.off[0] != sl->saved_off[0] || sl->att.off[1] != sl->saved_off[1]) {
		store_attempt_offsets(h->st, h->run_id, host_stage_id(h, sl->stage), sl->attempt,
				      sl->att.off[0], sl->att.off[1]);
		sl->saved_off[0] = sl->att.off[0];
		sl->saved_off[1] = sl->att.off[1];
	}
	return more > 0 && again;
}

/* ---- starting an attempt --------------------------------------------------------------- */

const char *host_runner_of(const struct host *h, const struct swdl_stage *s)
{
	return swdl_stage_is_command(s) ? "command" : s->runner ? s->runner : h->runner;
}

static char *attempt_dir(const struct host *h, size_t stage, int attempt)
{
	return xasprintf("%s/%s/%d", h->run_dir, host_stage_id(h, stage), attempt);
}

static void new_uuid(char out[37])
{
	unsigned char b[16];
	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

/* Bytes of a fan-out item passed in $SKILLMEAT_ITEM (all of it is in $SKILLMEAT_ITEM_FILE). */
#define ITEM_ENV_MAX (64 * 1024)

/* Extra variables of an attempt: the handoffs file; a fan-out item and its index. */
static int extra_env(struct host *h, struct slot *sl, const char *dir, char **env, size_t *nr,
		     char **err)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	if (swdl_stage_is_command(s)) {
		char *path = NULL;
		if (host_handoff_file(h, s, dir, &path, err))
			return SM_ERR;
		env[(*nr)++] = xasprintf("SKILLMEAT_HANDOFF=%s", path);
		free(path);
	}
	if (sl->item < 0)
		return SM_OK;
	json_t *item = json_array_get(h->fan_items[sl->stage], (size_t)sl->item);
	char *text = json_dumps(item, JSON_COMPACT | JSON_ENCODE_ANY);
	char *path = path_join(dir, "item.json");
	int r = fs_write_file(path, text, strlen(text));
	if (r)
		*err = xasprintf("%s: %s", path, strerror(errno));
	env[(*nr)++] = xasprintf("SKILLMEAT_ITEM_FILE=%s", path);
	env[(*nr)++] = xasprintf("SKILLMEAT_ITEM_INDEX=%d", sl->item);
	/* A big item only in the file: one variable may not pass 128 KiB (E2BIG). */
	if (strlen(text) <= ITEM_ENV_MAX)
		env[(*nr)++] = xasprintf("SKILLMEAT_ITEM=%s", text);
	free(path);
	free(text);
	return r ? SM_ERR : SM_OK;
}

/* What the stage binds that this CLI cannot be given: a line each in the attempt's log. */
static void log_gaps(struct slot *sl, enum runner_protocol proto, const struct stage_delivery *d)
{
	struct strbuf gaps = STRBUF_INIT;
	runner_delivery_gaps(proto, d, &gaps);
	for (char *line = gaps.buf, *nl; gaps.len && (nl = strchr(line, '\n')); line = nl + 1) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "warning: not delivered: %.*s", (int)(nl - line), line);
		emit_line(sl, "log", 0, sb.buf, sb.len);
		strbuf_release(&sb);
	}
	strbuf_release(&gaps);
}

/* Build the request for a stage (inputs, env, prompt) and prepare the runner job. */
static int prepare(struct host *h, struct slot *sl, const struct runner_def *def,
		   const char *dir, char **err)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	const char *cls = NULL;
	size_t nr_env = 0;
	char **env = NULL, *prompt = NULL, *cwd = NULL, session[37];
	struct attempt_delivery ad = { 0 };
	host_fan_out_ctx(h, sl);
	json_t *inputs = host_resolve_inputs(h, s, &cls, err);
	int r = SM_ERR;
	if (!inputs) {
		sl->spawn_class = cls;
		host_fan_out_ctx(h, NULL);
		return SM_ERR;
	}
	sl->spawn_class = "input_invalid";
	env = host_stage_env(h, s, &nr_env, err);
	if (*err || fs_mkdirs(dir) || extra_env(h, sl, dir, env, &nr_env, err)) {
		if (!*err)
			*err = xasprintf("%s: %s", dir, strerror(errno));
		goto out;
	}
	if (swdl_stage_is_command(s) && s->working_directory) {
		char *wd = host_render_text(h, s->working_directory, err);
		if (!wd)
			goto out;
		cwd = wd[0] == '/' ? wd : path_join(h->workdir, wd);
		if (cwd != wd)
			free(wd);
	}
	if (!swdl_stage_is_command(s) && !(prompt = host_build_prompt(h, s, inputs, err)))
		goto out;
	new_uuid(session);
	if (!swdl_stage_is_command(s))
		host_delivery_build(h, s, def->proto, &ad);
	if (ad.undeliverable) {
		char *line = xasprintf("warning: not delivered: %s has no command or url in the "
				       "collection's [[mcp_servers]] entry", ad.undeliverable);
		emit_line(sl, "log", 0, line, strlen(line));
		free(line);
	}
	struct stage_request rq = { s, h->run_id, dir, h->workdir, sl->attempt, ad.body, prompt,
		inputs, s->model ? s->model : ad.model, def->proto == PROTO_CLAUDE ? session : NULL,
		s->budget, (const char *const *)env, nr_env, cwd, host_pack_text(h, s),
		swdl_stage_is_command(s) ? NULL : &ad.d };
	sl->spawn_class = "runner_missing";
	r = runner_prepare(def, &rq, &sl->job, err);
	if (!r && !swdl_stage_is_command(s))
		log_gaps(sl, def->proto, &ad.d);
out:
	host_delivery_release(&ad);
	host_fan_out_ctx(h, NULL);
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
	free(prompt);
	free(cwd);
	json_decref(inputs);
	return r;
}

/* What context the attempt receives: the modules and memory items of its pack. */
static void consumed(struct host *h, struct slot *sl)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	json_t *m = json_object_get(json_object_get(h->packs, s->id), "manifest"), *v;
	if (!m)
		return;
	json_t *mods = json_array(), *items = json_array();
	size_t i;
	json_array_foreach(json_object_get(m, "modules"), i, v)
		if (json_is_true(json_object_get(v, "included")))
			json_array_append(mods, json_object_get(v, "ref"));
	json_array_foreach(json_object_get(m, "items"), i, v)
		json_array_append(items, json_object_get(v, "id"));
	host_event(h, "context_consumed", s->id, sl->attempt, json_pack("{s:o, s:o, s:O, s:O}",
	      "modules", mods, "items", items, "tokens", json_object_get(m, "tokens"),
	      "budget", json_object_get(m, "budget")));
}

/* An item that runs elsewhere: its result, or NULL when it runs here. */
static json_t *given_result(const struct host *h, const struct slot *sl)
{
	const struct items_elsewhere *e = h->o->items_elsewhere;
	if (!e || sl->item < 0 || sl->stage != e->stage ||
	    (e->mode == ITEMS_ONE && sl->item == e->item))
		return NULL;
	if (e->mode != ITEMS_GATHER)
		return json_pack("{s:s, s:{}}", "status", "completed", "outputs");
	char key[24];
	snprintf(key, sizeof(key), "%d", sl->item);
	json_t *r = json_object_get(e->results, key);
	return r ? json_incref(r) : json_pack("{s:s, s:s, s:s}", "status", "failed", "error_class",
		"item_lost", "error", "no result came back for this item");
}

void host_spawn(struct host *h, struct slot *sl)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	if ((sl->given = given_result(h, sl)))
		return; /* it ends on the next turn, with that result */
	const char *name = host_runner_of(h, s);
	const struct runner_def *def = runner_set_find(&h->o->config->runners, name);
	char *dir = attempt_dir(h, sl->stage, sl->attempt);
	char *err = NULL;
	sl->started = store_now();
	if (!def) {
		sl->spawn_class = "runner_missing";
		sl->spawn_error = xasprintf("no runner named '%s' (built in: claude, codex, gemini; "
					    "others come from config.toml [runners.NAME])", name);
	} else if (prepare(h, sl, def, dir, &err)) {
		sl->spawn_error = err;
	} else {
		consumed(h, sl);
		struct attempt_spec as = { dir, (const char *const *)sl->job.argv,
			(const char *const *)sl->job.env, sl->job.cwd, sl->job.input_file,
			&h->zygote };
		if (attempt_start(&sl->att, &as, &err)) {
			sl->spawn_class = "runner_missing";
			sl->spawn_error = err;
		} else {
			sl->spawned = true;
		}
	}
	free(dir);
}

struct slot *host_slot_for(struct host *h, size_t stage, int item, int attempt)
{
	for (size_t i = 0; i < h->nr_slots; i++) {
		if (!h->slots[i].used) {
			struct slot *sl = &h->slots[i];
			*sl = (struct slot){ .h = h, .used = true, .stage = stage, .item = item,
					     .attempt = attempt, .started = store_now() };
			sl->att.pidfd = sl->att.out_fd = sl->att.err_fd = -1;
			return sl;
		}
	}
	/* Slots are never reallocated (runner jobs point at theirs): there are
	 * max_parallel of them and the scheduler never runs more. */
	abort();
}

/* ---- stopping ------------------------------------------------------------------------------ */

/* Seconds an agent may stay after its final message (config.toml [engine] result_grace). */
static double result_grace(const struct host *h)
{
	return (double)h->o->config->result_grace_s;
}

/* Signals owed: SIGTERM when a stop is decided, SIGKILL after the grace period. */
void host_signal_slots(struct host *h)
{
	double now = store_now(), grace = (h->o->kill_grace_ms ? h->o->kill_grace_ms : 5000) / 1e3;
	for (size_t i = 0; i < h->nr_slots; i++) {
		struct slot *sl = &h->slots[i];
		if (!sl->used || !sl->spawned)
			continue;
		const struct swdl_budget *b = h->wf->stages[sl->stage].budget;
		if (!sl->kill_reason && b && b->max_tokens && !sl->result_at &&
		    sl->job.input_tokens + sl->job.output_tokens > b->max_tokens)
			sl->kill_reason = "budget_exceeded";
		/* Its final message came and it stays: stopped, judged by that message. */
		if (!sl->kill_reason && sl->result_at && now >= sl->result_at + result_grace(h)) {
			sl->kill_reason = "lingered";
			sl->kill_at = now;
		}
		if (sl->kill_reason && !sl->hard_kill_at) {
			/* Not known yet (the monitor is starting it): next turn. */
			if (now >= sl->kill_at && attempt_signal(&sl->att, SIGTERM) != SM_ENOENT) {
				sl->hard_kill_at = now + grace;
				sl->signalled_at = now;
			}
		} else if (sl->hard_kill_at && now >= sl->hard_kill_at) {
			attempt_signal(&sl->att, SIGKILL);
			sl->hard_kill_at = now + 3600;
		}
	}
}

double host_next_signal(const struct host *h)
{
	double next = -1, now = store_now();
	for (size_t i = 0; i < h->nr_slots; i++) {
		const struct slot *sl = &h->slots[i];
		double at = !sl->used ? -1 : !sl->kill_reason
			    ? (sl->spawned && sl->result_at ? sl->result_at + result_grace(h) : -1)
			    : !sl->hard_kill_at ? sl->kill_at : sl->hard_kill_at;
		if (at >= 0 && (next < 0 || at - now < next))
			next = at > now ? at - now : 0;
	}
	return next;
}

/* ---- finishing an attempt -------------------------------------------------------------------- */


/* Killed by a signal after its deadline, with no host to decide it: a timeout all the same. */
static bool timed_out_unwatched(const struct host *h, const struct slot *sl)
{
	const struct sched_stage *ss = &h->sched.st[sl->stage];
	int64_t deadline = sl->item >= 0 && (size_t)sl->item < ss->nr_items
		? ss->items[sl->item].deadline : ss->deadline;
	return sl->att.term_signal && deadline && sl->att.finished_at >= (double)deadline;
}
/* The attempt's cost (the CLI's own figure, else its tokens priced), and its usage event. */
static void price_attempt(struct host *h, struct slot *sl)
{
	struct strbuf note = STRBUF_INIT;
	runner_cost(&sl->job, &h->o->config->prices, h->wf->stages[sl->stage].model, &note);
	if (note.len)
		emit_line(sl, "log", 0, note.buf, note.len);
	strbuf_release(&note);
	if (!sl->job.usage.nr || sl->replaying)
		return;
	json_t *models = json_object();
	for (size_t i = 0; i < sl->job.usage.nr; i++) {
		const struct model_usage *m = &sl->job.usage.m[i];
		json_object_set_new(models, *m->model ? m->model : "(unnamed)",
			json_pack("{s:I, s:I, s:I, s:I, s:I}", "input_tokens", (json_int_t)m->input,
				  "cache_read_tokens", (json_int_t)m->cache_read,
				  "cache_write_tokens", (json_int_t)m->cache_write,
				  "output_tokens", (json_int_t)m->output,
				  "thinking_tokens", (json_int_t)m->thinking));
		if (m->usd >= 0)
			json_object_set_new(json_object_get(models, *m->model ? m->model :
				"(unnamed)"), "usd", json_real(m->usd));
	}
	host_event(h, "usage", host_stage_id(h, sl->stage), sl->attempt,
		   json_pack("{s:o, s:f, s:b}", "models", models, "usd", sl->job.usd,
			     "reported", sl->job.reported_usd >= 0));
}

static void spend(struct host *h, struct slot *sl, struct runner_result *res)
{
	const struct swdl_budget *sb = h->wf->stages[sl->stage].budget, *rb = h->wf->budget;
	price_attempt(h, sl);
	int64_t tok = sl->job.input_tokens + sl->job.output_tokens;
	double usd = sl->job.usd;
	if (usd <= 0 && !tok)
		return;
	h->usd += usd;
	h->tokens += tok;
	store_run_add_spend(h->st, h->run_id, usd, tok);
	const char *id = host_stage_id(h, sl->stage);
	bool stage_over = sb && ((sb->max_usd > 0 && usd > sb->max_usd) ||
				 (sb->max_tokens && tok > sb->max_tokens));
	bool run_over = rb && ((rb->max_usd > 0 && h->usd > rb->max_usd) ||
			       (rb->max_tokens && h->tokens > rb->max_tokens));
	if (stage_over || run_over)
		host_event(h, "budget_exceeded", id, sl->attempt, json_pack("{s:s, s:f, s:I, s:f, s:I}",
		      "scope", stage_over ? "stage" : "run", "usd", usd, "tokens", (json_int_t)tok,
		      "run_usd", h->usd, "run_tokens", (json_int_t)h->tokens));
	if (stage_over && res->ok) {
		res->ok = false;
		res->error_class = "budget_exceeded";
		free(res->error);
		res->error = xasprintf("the stage used $%.4f and %lld tokens, over its budget",
				       usd, (long long)tok);
	}
}

/* An item that ran elsewhere ends as its result says. */
static void judge_given(struct host *h, struct slot *sl, struct runner_result *res)
{
	const char *status = json_string_value(json_object_get(sl->given, "status"));
	const char *cls = json_string_value(json_object_get(sl->given, "error_class"));
	const char *err = json_string_value(json_object_get(sl->given, "error"));
	json_t *outs = json_object_get(sl->given, "outputs");
	res->ok = status && !strcmp(status, "completed");
	res->outputs = json_is_object(outs) ? json_deep_copy(outs) : json_object();
	if (!res->ok) {
		/* the scheduler keeps the class: it must live as long as the host */
		res->error_class = arena_strdup(&h->scratch, cls ? cls : "error");
		res->error = xstrdup(err ? err : "the item failed elsewhere");
	}
}

static void judge(struct host *h, struct slot *sl, struct runner_result *res)
{
	const struct swdl_stage *s = &h->wf->stages[sl->stage];
	if (sl->given) {
		judge_given(h, sl, res);
		return;
	}
	if (!sl->spawned) {
		res->error_class = sl->spawn_class;
		res->error = sl->spawn_error;
		sl->spawn_error = NULL;
		res->outputs = json_object();
		return;
	}
	/* Its final message came before any stop: that message is the outcome. */
	bool answered = sl->job.got_result && sl->result_at &&
			(!sl->signalled_at || sl->result_at <= sl->signalled_at);
	if (answered && sl->kill_reason && sl->signalled_at &&
	    sl->att.finished_at >= sl->signalled_at) {
		char *line = xasprintf("the agent was still running %.0f s after its final message: "
				       "stopped (%s); judged by that message", sl->signalled_at -
				       sl->result_at, sl->kill_reason);
		emit_line(sl, "log", 0, line, strlen(line));
		free(line);
	}
	runner_finish(&sl->job, answered ? 0 : sl->att.exit_code, emit_line, sl, res);
	/* A stop decided after the program had ended (its log still being read) stopped nothing. */
	if (sl->kill_reason && (answered || !sl->signalled_at ||
				sl->att.finished_at < sl->signalled_at))
		sl->kill_reason = NULL;
	if (!sl->kill_reason && timed_out_unwatched(h, sl))
		sl->kill_reason = "timeout";
	if (sl->kill_reason) {
		res->ok = false;
		res->error_class = sl->kill_reason;
		free(res->error);
		res->error = !strcmp(sl->kill_reason, "timeout")
			? xasprintf("timed out after %s", s->error_policy->timeout.text)
			: !strcmp(sl->kill_reason, "output_limit")
			? xasprintf("wrote more than %lld bytes to one stream (its output limit): "
				    "stopped, and its log cut there", (long long)output_limit(h, sl))
			: xasprintf("stopped: %s", sl->kill_reason);
	}
	/* summary_prompt's answer: the handoff's summary, not an output. */
	json_t *summary = json_object_get(res->outputs, "handoff_summary");
	if (s->handoff && s->handoff->summary_prompt && json_is_string(summary)) {
		sl->summary = xstrdup(json_string_value(summary));
		json_object_del(res->outputs, "handoff_summary");
	}
	char *err = NULL;
	if (res->ok && outputs_check(s, res->outputs, &err)) {
		res->ok = false;
		res->error_class = "output_contract";
		res->error = err;
	}
	spend(h, sl, res);
}

static void release_slot(struct slot *sl)
{
	json_decref(sl->given);
	sl->given = NULL;
	free(sl->summary);
	free(sl->git_after);
	sl->summary = sl->git_after = NULL;
	runner_job_release(&sl->job);
	attempt_release(&sl->att);
	free(sl->spawn_error);
	sl->spawn_error = NULL;
	sl->used = false;
}

/*
 * The attempt's process is gone without a word (its monitor was killed, or
 * the machine restarted): not the stage's failure.  It is retried at once
 * and does not count against max_attempts.
 */
static void lose_attempt(struct host *h, struct slot *sl, const char *why)
{
	const char *id = host_stage_id(h, sl->stage);
	attempt_kill_orphan(&sl->att);
	struct attempt_row ar = { "failed", NULL, NULL, sl->att.child, -1, "host_lost", why,
		NULL, NULL, 0, 0, 0 };
	store_attempt_finish(h->st, h->run_id, id, sl->attempt, &ar);
	if (sl->item >= 0) {
		host_fan_out_item_ended(h, sl, NULL);
		release_slot(sl);
		return;
	}
	sched_lost(&h->sched, sl->stage, (int64_t)time(NULL));
	const struct sched_stage *ss = &h->sched.st[sl->stage];
	host_persist_stage(h, sl->stage, why, NULL);
	host_ctx_stage(h, sl->stage, stage_state_name(ss->state), NULL);
	host_event(h, "stage_failed", id, sl->attempt, json_pack("{s:s, s:s, s:b}", "error_class",
		   "host_lost", "error", why, "will_retry", ss->state == STAGE_RETRY_WAIT));
	if (ss->state == STAGE_FAILED || h->sched.run == RUN_HALTING)
		host_persist_run(h);
	release_slot(sl);
}

/* A stage's attempt ended: the stage retries, completes or fails. */
static void finish_stage(struct host *h, struct slot *sl, struct runner_result *res,
			 const char *outs)
{
	const char *id = host_stage_id(h, sl->stage);
	int64_t now = (int64_t)time(NULL);
	if (res->ok || !res->error_class || strcmp(res->error_class, "rate_limited") ||
	    !sched_rate_limited(&h->sched, sl->stage, -1, sl->job.retry_at, now))
		sched_finished(&h->sched, sl->stage, res->ok, res->error_class, now);
	const struct sched_stage *ss = &h->sched.st[sl->stage];
	host_persist_stage(h, sl->stage, res->error, outs);
	host_ctx_stage(h, sl->stage, stage_state_name(ss->state), res->ok ? res->outputs : NULL);
	double secs = (sl->spawned && sl->att.finished_at > 0 ? sl->att.finished_at : store_now())
		      - sl->started;
	secs = round(secs * 1000) / 1000; /* milliseconds are what a reader wants */
	if (ss->state == STAGE_COMPLETED || ss->state == STAGE_FAILED)
		host_handoff_end(h, sl->stage, sl, res);
	if (res->ok) {
		host_event(h, "stage_completed", id, sl->attempt, json_pack("{s:O, s:f}", "outputs",
			   res->outputs, "duration_seconds", secs));
	} else {
		json_t *d = json_pack("{s:s, s:s?, s:b, s:f}", "error_class", res->error_class,
				      "error", res->error, "will_retry", ss->state == STAGE_RETRY_WAIT,
				      "duration_seconds", secs);
		if (ss->state == STAGE_RETRY_WAIT)
			json_object_set_new(d, "retry_at", host_json_time(ss->ready_at));
		host_event(h, "stage_failed", id, sl->attempt, d);
	}
	if (ss->state == STAGE_FAILED || h->sched.run == RUN_HALTING)
		host_persist_run(h);
}

/* A log past the output limit is cut there, with a line that says so. */
static void cut_logs(struct host *h, struct slot *sl)
{
	static const char *const names[] = { "stdout.log", "stderr.log" };
	int64_t cap = output_limit(h, sl);
	char *dir = attempt_dir(h, sl->stage, sl->attempt);
	for (int s = 0; s < 2; s++) {
		char *path = path_join(dir, names[s]);
		struct stat st;
		if (!stat(path, &st) && st.st_size > cap && !truncate(path, (off_t)cap)) {
			char note[128];
			int n = snprintf(note, sizeof(note), "\n[skillmeat: cut at %lld bytes, the "
					 "stage's output limit]\n", (long long)cap);
			int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (fd >= 0) {
				ssize_t w = write(fd, note, (size_t)n); /* failing: cut, no note */
				UNUSED(w);
				close(fd);
			}
		}
		free(path);
	}
	free(dir);
}

void host_finish_slot(struct host *h, struct slot *sl)
{
	if (sl->over_limit && sl->spawned && sl->att.ended)
		cut_logs(h, sl);
	if (sl->spawned && !sl->att.has_exit) {
		lose_attempt(h, sl, "the attempt's monitor vanished before its program ended");
		return;
	}
	struct runner_result res = { 0 };
	judge(h, sl, &res);
	char *outs = res.ok ? json_dumps(res.outputs, JSON_COMPACT) : NULL;
	struct attempt_row ar = { res.ok ? "completed" : "failed", NULL, NULL, sl->att.child,
		sl->spawned ? sl->att.exit_code : -1, res.ok ? NULL : res.error_class, res.error,
		sl->job.session_id, sl->job.model, sl->job.usd, sl->job.input_tokens,
		sl->job.output_tokens, outs };
	store_attempt_finish(h->st, h->run_id, host_stage_id(h, sl->stage), sl->attempt, &ar);
	if (sl->item >= 0)
		host_fan_out_item_ended(h, sl, &res);
	else
		finish_stage(h, sl, &res, outs);
	free(outs);
	runner_result_release(&res);
	release_slot(sl);
}

/* Follow every running attempt; finish those whose monitor is gone and whose logs are read. */
bool host_follow_slots(struct host *h)
{
	bool more = false;
	for (size_t i = 0; i < h->nr_slots; i++) {
		struct slot *sl = &h->slots[i];
		if (!sl->used)
			continue;
		if (!sl->spawned) {
			host_finish_slot(h, sl);
			continue;
		}
		if (!sl->pid_saved && attempt_program_known(&sl->att)) {
			store_attempt_pid(h->st, h->run_id, host_stage_id(h, sl->stage), sl->attempt,
					  (int)sl->att.child);
			sl->pid_saved = true;
		}
		/* Ended first: once the monitor is gone, the logs are complete. */
		bool ended = attempt_check_ended(&sl->att);
		bool more_log = follow(h, sl);
		if (sl->job.got_result && !sl->result_at)
			sl->result_at = store_now();
		if (more_log)
			more = true;
		else if (ended)
			host_finish_slot(h, sl);
	}
	return more;
}

void host_release_slots(struct host *h)
{
	for (size_t i = 0; i < h->nr_slots; i++)
		if (h->slots[i].used)
			release_slot(&h->slots[i]); /* monitors go on: a later host adopts them */
}

/* ---- adopting what a dead host left ------------------------------------------------------ */

/* Rebuild the runner's state from the logs up to where the last host recorded events. */
static int replay(struct slot *sl, const int64_t upto[2])
{
	sl->replaying = true;
	int r = attempt_follow(&sl->att, on_data, sl, upto);
	sl->replaying = false;
	sl->saved_off[0] = sl->att.off[0];
	sl->saved_off[1] = sl->att.off[1];
	return r < 0 ? SM_EIO : SM_OK;
}

void host_adopt(struct host *h, const struct adoptee *ad)
{
	const struct swdl_stage *s = &h->wf->stages[ad->stage];
	struct slot *sl = host_slot_for(h, ad->stage, ad->item, ad->attempt);
	char *dir = attempt_dir(h, ad->stage, ad->attempt);
	if (ad->started_at > 0)
		sl->started = ad->started_at;
	enum attempt_found f = attempt_adopt(&sl->att, dir);
	if (f != ATTEMPT_LOST) {
		const char *name = ad->runner ? ad->runner : host_runner_of(h, s);
		runner_job_attach(runner_set_find(&h->o->config->runners, name), dir, &sl->job);
		sl->spawned = true;
		const int64_t upto[2] = { ad->out_off, ad->err_off };
		if (replay(sl, upto))
			f = ATTEMPT_LOST;
	}
	if (f == ATTEMPT_LOST) {
		lose_attempt(h, sl, "the host of the run stopped, and this attempt's process is "
			     "gone without a recorded end (it never started, or the machine "
			     "restarted)");
	} else {
		host_event(h, "stage_adopted", s->id, ad->attempt, json_pack("{s:s, s:i, s:i}",
			   "state", f == ATTEMPT_LIVE ? "running" : "exited", "monitor_pid",
			   (int)sl->att.monitor, "pid", (int)sl->att.child));
	}
	free(dir);
}
