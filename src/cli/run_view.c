#include "run_view.h"

#include <signal.h>
#include <time.h>

/* ---- the live view ------------------------------------------------------------- */

struct view_stage {
	char *id, *status, *last;
	int attempt;
	double started, ended;
	long items, items_ended;   /* a fan-out: its items, and how many have ended */
};

struct run_view {
	FILE *out;
	bool tty, quiet;
	size_t nr;
	struct view_stage *stages;
	int drawn;          /* lines of the table on screen */
	double last_draw;
};

struct run_view *run_view_new(struct store *st, const char *run_id, FILE *out, bool quiet)
{
	struct run_view *v = xcalloc(1, sizeof(*v));
	sqlite3_stmt *s;
	size_t alloc = 0;
	v->out = out;
	v->quiet = quiet;
	v->tty = use_color(out);
	if (sqlite3_prepare_v2(store_db(st), "SELECT stage_id, status, attempt FROM stages "
			       "WHERE run_id = ?1 ORDER BY idx", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
		while (sqlite3_step(s) == SQLITE_ROW) {
			ALLOC_GROW(v->stages, v->nr + 1, alloc);
			struct view_stage *vs = &v->stages[v->nr++];
			memset(vs, 0, sizeof(*vs));
			vs->id = xstrdup((const char *)sqlite3_column_text(s, 0));
			vs->status = xstrdup((const char *)sqlite3_column_text(s, 1));
			vs->attempt = sqlite3_column_int(s, 2);
		}
		sqlite3_finalize(s);
	}
	return v;
}

static struct view_stage *find(struct run_view *v, const char *id)
{
	for (size_t i = 0; id && i < v->nr; i++)
		if (!strcmp(v->stages[i].id, id))
			return &v->stages[i];
	return NULL;
}

static void set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static const char *status_color(const char *st)
{
	return !strcmp(st, "completed") ? C_GREEN : !strcmp(st, "failed") ? C_RED
	       : !strcmp(st, "running") || !strcmp(st, "waiting_for_approval") ? C_YELLOW : C_DIM;
}

static void draw(struct run_view *v, bool force)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (!force && now - v->last_draw < 0.1)
		return;
	v->last_draw = now;
	if (v->drawn)
		fprintf(v->out, "\033[%dA", v->drawn);
	double wall = store_now();
	fprintf(v->out, "\033[2K%s%-24s %-22s %-7s %-8s %s%s\n", C_BOLD, "STAGE", "STATUS",
		"ATTEMPT", "ELAPSED", "LAST LINE", C_RESET);
	for (size_t i = 0; i < v->nr; i++) {
		struct view_stage *s = &v->stages[i];
		char elapsed[16] = "";
		if (s->started > 0)
			snprintf(elapsed, sizeof(elapsed), "%.1fs",
				 (s->ended > 0 ? s->ended : wall) - s->started);
		char status[64];
		if (s->items > 0 && !strcmp(s->status, "running"))
			snprintf(status, sizeof(status), "running %ld/%ld items", s->items_ended, s->items);
		else
			snprintf(status, sizeof(status), "%s", s->status);
		fprintf(v->out, "\033[2K%-24.24s %s%-22s%s %-7d %-8s %.60s\n", s->id,
			status_color(s->status), status, C_RESET, s->attempt, elapsed,
			s->last ? s->last : "");
	}
	v->drawn = (int)v->nr + 1;
	fflush(v->out);
}

static void plain(struct run_view *v, const char *type, const char *stage_id, int attempt,
		  const json_t *data)
{
	time_t t = time(NULL);
	struct tm tm;
	char when[16];
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (!strcmp(type, "log")) {
		fprintf(v->out, "%s %s | %s\n", when, stage_id,
			json_string_value(json_object_get(data, "text")));
		return;
	}
	char *d = json_object_size(data)
		  ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15)) : NULL;
	/* One write a line (stderr is unbuffered): whole lines when hosts share a terminal. */
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s %s%s%s", when, type, stage_id ? " " : "", stage_id ? stage_id : "");
	if (attempt > 0)
		strbuf_addf(&sb, " (attempt %d)", attempt);
	strbuf_addf(&sb, "%s%s\n", d ? " " : "", d ? d : "");
	fwrite(sb.buf, 1, sb.len, v->out);
	strbuf_release(&sb);
	free(d);
}

void run_view_event(void *ctx, const char *type, const char *stage_id, int attempt,
		    const json_t *data)
{
	struct run_view *v = ctx;
	if (v->quiet || !strcmp(type, "output"))
		return;
	struct view_stage *s = find(v, stage_id);
	if (s) {
		if (attempt > 0)
			s->attempt = attempt;
		if (!strcmp(type, "stage_started")) {
			set(&s->status, "running");
			s->started = store_now();
			s->ended = 0;
			s->items = (long)json_integer_value(json_object_get(data, "items"));
		} else if (!strcmp(type, "item_completed") || (!strcmp(type, "item_failed") &&
			   !json_is_true(json_object_get(data, "will_retry")))) {
			s->items_ended++;
		} else if (!strcmp(type, "log")) {
			set(&s->last, json_string_value(json_object_get(data, "text")));
		} else if (!strncmp(type, "stage_", 6) && strcmp(type, "stage_killing")) {
			set(&s->status, type + 6);
			if (strcmp(type, "stage_waiting_for_approval"))
				s->ended = store_now();
			const char *err = json_string_value(json_object_get(data, "error"));
			if (err)
				set(&s->last, err);
		} else if (!strncmp(type, "gate_", 5)) {
			set(&s->status, type);
		}
	}
	if (v->tty)
		draw(v, false);
	else
		plain(v, type, stage_id, attempt, data);
}

void run_view_finish(struct run_view *v, const char *status)
{
	if (v->quiet)
		return;
	if (v->tty)
		draw(v, true);
	if (status)
		fprintf(v->out, "Run %s%s%s\n", use_color(v->out) ? status_color(status) : "",
			status, use_color(v->out) ? C_RESET : "");
}

void run_view_free(struct run_view *v)
{
	for (size_t i = 0; i < v->nr; i++) {
		free(v->stages[i].id);
		free(v->stages[i].status);
		free(v->stages[i].last);
	}
	free(v->stages);
	free(v);
}

/* ---- details and lookups --------------------------------------------------------------- */

void run_view_print_json(struct store *st, const char *run_id)
{
	json_t *j = run_details_json(st, run_id);
	if (j)
		print_json(j);
	json_decref(j);
}

char *resolve_run_id(struct store *st, const char *arg)
{
	sqlite3_stmt *s;
	char *found = NULL;
	int n = 0;
	bool last = !strcmp(arg, "last");
	const char *sql = last ? "SELECT id FROM runs ORDER BY created_at DESC LIMIT 1"
			       : "SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2";
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		error_msg("%s", store_error(st));
		return NULL;
	}
	if (!last)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW && n < 2) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		n++;
		if (!strcmp(id, arg) || n == 1) {
			free(found);
			found = xstrdup(id);
			if (!strcmp(id, arg))
				break;
		}
	}
	sqlite3_finalize(s);
	if (n == 2 && strcmp(found, arg)) {
		error_msg("run '%s' is ambiguous: give more of its id", arg);
		free(found);
		return NULL;
	}
	if (!found)
		error_msg(last ? "there are no runs yet" : "no run '%s'", arg);
	return found;
}

int run_host_alive(struct store *st, const char *run_id)
{
	return store_host_alive(st, run_id);
}
