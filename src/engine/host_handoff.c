/*
 * host_handoff.c - what a stage hands on (handoff.h), for the host: the
 * work tree's state when the stage first starts, the record when it ends
 * (stored with the stage, kept for the stages after it), and the record's
 * delivery: in an agent's prompt, or as $SKILLMEAT_HANDOFF for a command.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "handoff.h"
#include "../base/fsutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Characters of a summary taken from an agent's final answer. */
#define SUMMARY_MAX 2000
/* Log lines a run_log excerpt looks at. */
#define LOG_LINES 200

static char *git_before_path(const struct host *h, size_t stage)
{
	return xasprintf("%s/%s/git-before", h->run_dir, host_stage_id(h, stage));
}

void host_handoff_init(struct host *h)
{
	bool any = false;
	for (size_t i = 0; i < h->wf->nr_stages; i++)
		any = any || host_handoff_wants_files(&h->wf->stages[i]);
	if (!any)
		return; /* no stage lists its files: git is never asked */
	handoff_git_root(h->workdir, &h->git_root);
	if (h->git_root)
		h->git_exclude = handoff_git_exclude(h->git_root, h->o->home);
}

bool host_handoff_wants_files(const struct swdl_stage *s)
{
	if (s->handoff && s->handoff->files_changed)
		return s->handoff->files_changed > 0;
	return s->type == STAGE_AGENT || (s->type == STAGE_FAN_OUT && !s->run);
}

/* This turn's state of the work tree: one look shared by every stage starting or ending. */
static const char *turn_state(struct host *h, char **err)
{
	struct strbuf sb = STRBUF_INIT;
	if (!h->git_turn && !handoff_git_state(h->git_root, h->git_exclude, &sb, err))
		h->git_turn = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	return h->git_turn;
}

void host_handoff_begin(struct host *h, size_t stage)
{
	if (!h->git_root || !host_handoff_wants_files(&h->wf->stages[stage]))
		return;
	char *path = git_before_path(h, stage), *err = NULL;
	const char *state;
	if (access(path, F_OK) && (state = turn_state(h, &err))) {
		char *dir = xasprintf("%s/%s", h->run_dir, host_stage_id(h, stage));
		if (fs_mkdirs(dir) || fs_write_file(path, state, strlen(state)))
			err = xasprintf("%s: %s", path, strerror(errno));
		free(dir);
	}
	if (err)
		host_event(h, "handoff_warning", host_stage_id(h, stage), 0, json_pack("{s:s, s:s}",
			   "error", err, "effect", "files_changed will not be known"));
	free(err);
	free(path);
}

void host_handoff_prefetch(struct host *h)
{
	free(h->git_turn); /* a new turn: the tree may have changed */
	h->git_turn = NULL;
	for (size_t i = 0; h->git_root && i < h->nr_slots; i++) {
		struct slot *sl = &h->slots[i];
		char *err = NULL;
		const char *state;
		if (!sl->used || !sl->spawned || sl->git_after ||
		    !host_handoff_wants_files(&h->wf->stages[sl->stage]) ||
		    !attempt_check_ended(&sl->att))
			continue;
		if ((state = turn_state(h, &err)))
			sl->git_after = xstrdup(state);
		free(err);
	}
}

/* files_changed: git's view when the run is in a work tree, else what the stage listed. */
static void add_files(struct host *h, size_t stage, const struct slot *sl, json_t *rec,
		      const json_t *outputs)
{
	char *path = git_before_path(h, stage), *err = NULL;
	struct strbuf before = STRBUF_INIT, after = STRBUF_INIT;
	json_t *listed = json_object_get(outputs, "files_changed"), *files = NULL;
	const char *source = "none";
	if (sl && sl->git_after)
		strbuf_addstr(&after, sl->git_after);
	bool wants = h->git_root && host_handoff_wants_files(&h->wf->stages[stage]);
	if (wants && !strbuf_read_file(&before, path, 64u << 20) &&
	    ((sl && sl->git_after) ||
	     !handoff_git_state(h->git_root, h->git_exclude, &after, &err))) {
		files = handoff_files_changed(before.buf, after.buf);
		source = "git";
	} else if (json_is_array(listed)) {
		size_t i;
		json_t *v;
		files = json_array();
		json_array_foreach(listed, i, v)
			if (json_is_string(v))
				json_array_append_new(files, json_pack("{s:O, s:s}", "path", v,
								       "status", "listed"));
		source = "stage";
	}
	json_object_set_new(rec, "files_changed", files ? files : json_array());
	json_object_set_new(rec, "files_source", json_string(source));
	if (wants)
		json_object_set_new(rec, "repository", json_string(h->git_root));
	free(err);
	free(path);
	strbuf_release(&before);
	strbuf_release(&after);
}

/* Tokens and cost of every attempt of the stage. */
static void add_usage(struct host *h, const char *id, json_t *rec)
{
	static const char sql[] = "SELECT total(usd), total(input_tokens), total(output_tokens)"
		" FROM attempts WHERE run_id = ?1 AND stage_id = ?2";
	sqlite3_stmt *s = store_stmt(h->st, sql);
	json_int_t in = 0, out = 0;
	double usd = 0;
	if (s) {
		sqlite3_bind_text(s, 1, h->run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW) {
			usd = sqlite3_column_double(s, 0);
			in = (json_int_t)sqlite3_column_double(s, 1);
			out = (json_int_t)sqlite3_column_double(s, 2);
		}
		sqlite3_reset(s);
	}
	json_object_set_new(rec, "usage", json_pack("{s:I, s:I, s:f}", "input_tokens", in,
			    "output_tokens", out, "usd", usd));
}

/* The last `max` bytes of sb as a JSON string, cut at a character ("" if not UTF-8). */
static json_t *tail_string(const struct strbuf *sb, size_t max)
{
	size_t off = sb->len > max ? sb->len - max : 0;
	while (off && off < sb->len && ((unsigned char)sb->buf[off] & 0xC0) == 0x80)
		off++;
	json_t *j = json_stringn(sb->buf + off, sb->len - off);
	return j ? j : json_string("");
}

/* The last lines the stage logged (its last attempt), at most HANDOFF_LOG_MAX bytes. */
static json_t *run_log(struct host *h, const char *id, int attempt)
{
	sqlite3_stmt *s;
	struct strbuf sb = STRBUF_INIT;
	json_t **lines = xcalloc(LOG_LINES, sizeof(*lines));
	size_t n = 0, bytes = 0;
	if (sqlite3_prepare_v2(store_db(h->st), "SELECT data FROM events WHERE run_id = ?1 AND"
			       " stage_id = ?2 AND attempt = ?3 AND type = 'log' ORDER BY seq DESC"
			       " LIMIT ?4", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, h->run_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, attempt);
		sqlite3_bind_int(s, 4, LOG_LINES);
		while (sqlite3_step(s) == SQLITE_ROW && bytes < HANDOFF_LOG_MAX) {
			json_t *d = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
			bytes += json_string_length(json_object_get(d, "text")) + 1;
			lines[n++] = d;
		}
		sqlite3_finalize(s);
	}
	while (n--) {
		strbuf_addf(&sb, "%s%s", sb.len ? "\n" : "",
			    json_string_value(json_object_get(lines[n], "text")));
		json_decref(lines[n]);
	}
	free(lines);
	json_t *j = tail_string(&sb, HANDOFF_LOG_MAX);
	strbuf_release(&sb);
	return j;
}

/* The last `max` bytes of a file (a command's stdout may be any size: never read it all). */
static void read_tail(const char *path, size_t max, struct strbuf *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && st.st_size > 0) {
		off_t from = st.st_size > (off_t)max ? st.st_size - (off_t)max : 0;
		char buf[4096];
		ssize_t n;
		if (lseek(fd, from, SEEK_SET) == from)
			while (sb->len < max && (n = read(fd, buf, sizeof(buf))) > 0)
				strbuf_add(sb, buf, (size_t)n);
	}
	close(fd);
}

/* The stage's last words: an agent's final answer, a command's stdout (their ends). */
static json_t *final_text(struct host *h, size_t stage, const struct slot *sl)
{
	struct strbuf sb = STRBUF_INIT;
	if (sl && sl->job.result_text) {
		strbuf_addstr(&sb, sl->job.result_text);
	} else if (sl && swdl_stage_is_command(&h->wf->stages[stage])) {
		char *path = xasprintf("%s/%s/%d/stdout.log", h->run_dir, host_stage_id(h, stage),
				       sl->attempt);
		read_tail(path, HANDOFF_TEXT_MAX + 4, &sb); /* + a split UTF-8 sequence */
		free(path);
	}
	json_t *j = tail_string(&sb, HANDOFF_TEXT_MAX);
	strbuf_release(&sb);
	return j;
}

static json_t *summary_of(const struct slot *sl, const json_t *outputs, const json_t *text,
			  const struct sched_stage *ss)
{
	if (sl && sl->summary)
		return json_string(sl->summary);
	json_t *s = json_object_get(outputs, "summary");
	if (json_is_string(s))
		return json_incref(s);
	if (ss->items) {
		size_t done = 0;
		for (size_t k = 0; k < ss->nr_items; k++)
			done += ss->items[k].state == STAGE_COMPLETED;
		return json_sprintf("%zu of %zu items completed", done, ss->nr_items);
	}
	char *prose = sl && sl->job.result_text ? handoff_prose(json_string_value(text)) : NULL;
	json_t *j = prose ? json_stringn(prose, strlen(prose) > SUMMARY_MAX ? SUMMARY_MAX
					  : strlen(prose)) : NULL;
	free(prose);
	return j ? j : json_null();
}

static json_t *items_json(struct host *h, size_t stage)
{
	const struct sched_stage *ss = &h->sched.st[stage];
	json_t *a = json_array();
	for (size_t k = 0; k < ss->nr_items; k++) {
		const struct sched_item *it = &ss->items[k];
		json_array_append_new(a, json_pack("{s:I, s:O, s:s, s:i, s:O, s:s?}", "index",
			(json_int_t)k, "item", json_array_get(h->fan_items[stage], k), "status",
			stage_state_name(it->state), "attempts", (int)it->tries, "outputs",
			json_array_get(h->fan_outputs[stage], k), "error_class",
			it->state == STAGE_FAILED ? it->error_class : NULL));
	}
	return a;
}

/* Memory items the stage's pack gave it; the learnings it proposed (memory capture). */
static json_t *memory_json(struct host *h, const char *id, const json_t *outputs)
{
	json_t *m = json_object_get(json_object_get(h->packs, id), "manifest"), *v;
	json_t *consumed = json_array(), *learn = json_object_get(outputs, "learnings");
	size_t i;
	json_array_foreach(json_object_get(m, "items"), i, v)
		json_array_append(consumed, json_object_get(v, "id"));
	json_t *cands = json_is_array(learn) ? json_incref(learn) : json_is_string(learn)
		? json_pack("[O]", learn) : json_array();
	return json_pack("{s:o, s:o}", "consumed", consumed, "candidates", cands);
}

void host_handoff_end(struct host *h, size_t stage, const struct slot *sl,
		      const struct runner_result *res)
{
	const struct swdl_stage *s = &h->wf->stages[stage];
	const struct sched_stage *ss = &h->sched.st[stage];
	bool ok = ss->state == STAGE_COMPLETED;
	json_t *outputs = ok ? json_object_get(json_object_get(h->stage_ctx, s->id), "outputs")
			  : NULL;
	json_t *text = final_text(h, stage, ss->items ? NULL : sl);
	json_t *rec = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:o}",
		"$schema", HANDOFF_SCHEMA, "version", HANDOFF_VERSION, "run_id", h->run_id,
		"workflow_id", h->wf->id, "stage_id", s->id, "stage_name", s->name, "stage_type",
		stage_type_names[s->type], "status", stage_state_name(ss->state), "attempt",
		(int)ss->attempt, "format", handoff_format_names[s->handoff->format], "outputs",
		outputs ? json_incref(outputs) : json_object());
	if (!ok)
		json_object_set_new(rec, "error", json_pack("{s:s, s:s?}", "class", ss->error_class
				    ? ss->error_class : "error", "message", res ? res->error : NULL));
	add_files(h, stage, sl, rec, outputs);
	json_object_set_new(rec, "memory", memory_json(h, s->id, outputs));
	add_usage(h, s->id, rec);
	json_object_set_new(rec, "summary", summary_of(ss->items ? NULL : sl, outputs, text, ss));
	json_object_set_new(rec, "final_text", text);
	if (s->handoff->include_run_log)
		json_object_set_new(rec, "run_log", run_log(h, s->id, sl ? sl->attempt
							    : (int)ss->attempt));
	if (ss->items)
		json_object_set_new(rec, "items", items_json(h, stage));
	json_object_set_new(rec, "finished_at", host_json_time((int64_t)store_now()));
	char *dump = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(15));
	store_stage_handoff(h->st, h->run_id, s->id, dump);
	free(dump);
	json_object_set_new(h->handoffs, s->id, rec);
}

void host_handoff_restore(struct host *h, size_t stage, const char *text)
{
	json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
	if (rec)
		json_object_set_new(h->handoffs, host_stage_id(h, stage), rec);
}

char *host_handoff_prompt(struct host *h, const struct swdl_stage *s, size_t max)
{
	size_t have = 0;
	for (size_t i = 0; i < s->depends_on.nr; i++)
		have += json_object_get(h->handoffs, s->depends_on.v[i]) != NULL;
	if (!have)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < s->depends_on.nr; i++) {
		json_t *rec = json_object_get(h->handoffs, s->depends_on.v[i]);
		long dep = swdl_stage_find(h->wf, s->depends_on.v[i]);
		if (!rec || dep < 0)
			continue;
		handoff_render(&sb, rec, h->wf->stages[dep].handoff->format, max / have);
		strbuf_addch(&sb, '\n');
	}
	return strbuf_detach(&sb, NULL);
}

int host_handoff_file(struct host *h, const struct swdl_stage *s, const char *dir,
		      char **path, char **err)
{
	json_t *all = json_object();
	for (size_t i = 0; i < s->depends_on.nr; i++) {
		json_t *rec = json_object_get(h->handoffs, s->depends_on.v[i]);
		if (rec)
			json_object_set(all, s->depends_on.v[i], rec);
	}
	char *text = json_dumps(all, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	json_decref(all);
	*path = path_join(dir, "handoff.json");
	int r = fs_write_file(*path, text, strlen(text));
	if (r)
		*err = xasprintf("%s: %s", *path, strerror(errno));
	free(text);
	return r ? SM_ERR : SM_OK;
}
