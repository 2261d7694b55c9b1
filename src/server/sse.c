/*
 * sse.c - a run's events as a server-sent event stream, read from the
 * events table: `id:` is the event's seq (so a client that reconnects with
 * Last-Event-ID misses nothing and sees nothing twice), log and output
 * lines are `log_line` events, a comment line every 15 s keeps proxies and
 * clients awake, and when the run has ended (and every event was sent) a
 * final `execution_completed` {status} closes the stream, as upstream's.
 *
 * The stream of all runs (run_id NULL) reads the feed table instead: `id:`
 * is the feed's id (commit order across runs), each event names its run,
 * and it lasts until the client or the server goes away.
 */
#include "server_int.h"

#include <microhttpd.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define POLL_US 100000
#define HEARTBEAT_S 15.0

struct sse {
	struct server *srv;
	struct store *st;
	char *run_id;              /* NULL: every run (the feed) */
	bool runs_only;            /* feed: only run-level events (no stage) */
	int64_t after;             /* last seq (feed: feed id) sent */
	sqlite3_stmt *events;      /* prepared once: every stream polls it ten times a second */
	struct strbuf pending;     /* formatted, not yet handed to MHD */
	size_t off;
	double last_write;
	bool ended;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sse *sse_new(struct server *s, struct store *st, const char *run_id, int64_t after,
		    bool runs_only)
{
	struct sse *e = xcalloc(1, sizeof(*e));
	e->srv = s;
	e->st = st;
	e->run_id = run_id ? xstrdup(run_id) : NULL;
	e->runs_only = runs_only;
	e->after = after;
	strbuf_init(&e->pending, 0);
	strbuf_addstr(&e->pending, "retry: 2000\n\n");
	e->last_write = now_s();
	return e;
}

static const char *sse_name(const char *type)
{
	if (!strcmp(type, "log") || !strcmp(type, "output"))
		return "log_line";
	return type;
}

static void add_event(struct sse *e, sqlite3_stmt *s)
{
	int64_t id = sqlite3_column_int64(s, 0), seq = sqlite3_column_int64(s, 6);
	const char *type = (const char *)sqlite3_column_text(s, 1);
	json_t *data = json_loads((const char *)sqlite3_column_text(s, 4), 0, NULL);
	if (!json_is_object(data)) {
		json_decref(data);
		data = json_object();
	}
	json_object_set_new(data, "seq", json_integer(seq));
	json_object_set_new(data, "type", json_string(type));
	json_object_set_new(data, "ts", json_real(sqlite3_column_double(s, 5)));
	json_object_set_new(data, "run_id", json_string((const char *)sqlite3_column_text(s, 7)));
	if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
		json_object_set_new(data, "stage_id",
				    json_string((const char *)sqlite3_column_text(s, 2)));
		json_object_set_new(data, "attempt", json_integer(sqlite3_column_int(s, 3)));
	}
	if (!strcmp(sse_name(type), "log_line"))
		json_object_set(data, "message", json_object_get(data, "text"));
	char *text = json_dumps(data, JSON_COMPACT);
	strbuf_addf(&e->pending, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)id,
		    sse_name(type), text);
	free(text);
	json_decref(data);
	e->after = id;
}

/* Has the run ended, and its host written its last event?  *status says how. */
static bool ended(struct sse *e, char status[16])
{
	int r = store_run_status_get(e->st, e->run_id, status);
	if (r == SM_ENOENT)
		snprintf(status, 16, "unknown");
	/* Hooks write events after the final status: wait for the host to let go. */
	return r == SM_ENOENT || (!r && store_status_final(status) &&
				  !store_host_alive(e->st, e->run_id));
}

/*
 * New events into pending; at the end of a finished run, the closing
 * event.  The end is read before the events, so an event committed before
 * the run was seen ended is always sent first.
 */
static const char SQL_RUN_EVENTS[] =
	"SELECT seq, type, stage_id, attempt, data, ts, seq, run_id FROM events"
	" WHERE run_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char SQL_FEED[] =
	"SELECT f.id, e.type, e.stage_id, e.attempt, e.data, e.ts, e.seq, e.run_id"
	" FROM feed f JOIN events e ON e.run_id = f.run_id AND e.seq = f.seq"
	" WHERE f.id > ?2 AND (?1 = 0 OR e.stage_id IS NULL) ORDER BY f.id LIMIT ?3";

static void fill(struct sse *e)
{
	int n = 0;
	char status[16];
	bool final = e->run_id && ended(e, status);
	if (!e->events && sqlite3_prepare_v2(store_db(e->st), e->run_id ? SQL_RUN_EVENTS : SQL_FEED,
					     -1, &e->events, NULL) != SQLITE_OK)
		return;
	sqlite3_stmt *s = e->events;
	if (e->run_id)
		sqlite3_bind_text(s, 1, e->run_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int(s, 1, e->runs_only);
	sqlite3_bind_int64(s, 2, e->after);
	sqlite3_bind_int(s, 3, BATCH);
	while (sqlite3_step(s) == SQLITE_ROW)
		add_event(e, s), n++;
	sqlite3_reset(s);
	if (!n && final) {
		strbuf_addf(&e->pending, "event: execution_completed\ndata: {\"status\": \"%s\"}\n\n",
			    status);
		e->ended = true;
	}
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	UNUSED(pos);
	struct sse *e = cls;
	for (;;) {
		if (e->off < e->pending.len) {
			size_t n = e->pending.len - e->off;
			n = n < max ? n : max;
			memcpy(buf, e->pending.buf + e->off, n);
			e->off += n;
			e->last_write = now_s();
			return (ssize_t)n;
		}
		strbuf_reset(&e->pending);
		e->off = 0;
		if (e->ended || e->srv->stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		fill(e);
		if (e->pending.len)
			continue;
		if (now_s() - e->last_write >= HEARTBEAT_S) {
			strbuf_addstr(&e->pending, ": heartbeat\n\n");
			continue;
		}
		usleep(POLL_US); /* one thread a connection: waiting here is the design */
	}
}

static void free_sse(void *cls)
{
	struct sse *e = cls;
	conns_stream_release(&e->srv->conns); /* its place among the streams */
	sqlite3_finalize(e->events);
	store_close(e->st);
	strbuf_release(&e->pending);
	free(e->run_id);
	free(e);
}

struct MHD_Response *sse_response(struct sse *e)
{
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
								   reader, e, free_sse);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	/* A stream ends with its run: the connection goes with it. */
	MHD_add_response_header(r, "Connection", "close");
	return r;
}
