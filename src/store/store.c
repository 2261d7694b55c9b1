#include "../base/compat.h"
#include "store.h"
#include "../base/fsutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct store {
	sqlite3 *db;
	/* Prepared statements, keyed by the address of their SQL text. */
	struct cached_stmt {
		const char *sql;
		sqlite3_stmt *stmt;
	} *stmts;
	size_t nr_stmt, alloc_stmt;
	char *home;             /* the folder of the database: runs/RUN/host.lock is there */
	int lease_fd;           /* the lease lock this store's host holds, or -1 */
};

/* Each migration brings the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE runs ("
	"  id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, workflow_name TEXT NOT NULL,"
	"  workflow_version TEXT, workflow_hash TEXT NOT NULL, source TEXT,"
	"  snapshot TEXT NOT NULL, parameters TEXT NOT NULL, manifest TEXT NOT NULL,"
	"  workdir TEXT NOT NULL, runner TEXT, max_parallel INTEGER NOT NULL,"
	"  status TEXT NOT NULL, error TEXT,"
	"  created_at REAL NOT NULL, started_at REAL, finished_at REAL,"
	"  host_pid INTEGER, host_token TEXT, heartbeat_at REAL,"
	"  next_seq INTEGER NOT NULL DEFAULT 0,"
	"  usd REAL NOT NULL DEFAULT 0, tokens INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX runs_by_created ON runs(created_at);"
	"CREATE TABLE stages ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  stage_id TEXT NOT NULL, idx INTEGER NOT NULL, status TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL DEFAULT 0, started_at REAL, finished_at REAL,"
	"  ready_at REAL, deadline REAL, error_class TEXT, error TEXT, outputs TEXT,"
	"  PRIMARY KEY (run_id, stage_id)) WITHOUT ROWID;"
	"CREATE TABLE attempts ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  stage_id TEXT NOT NULL, attempt INTEGER NOT NULL, status TEXT NOT NULL,"
	"  runner TEXT, dir TEXT, pid INTEGER, started_at REAL NOT NULL, finished_at REAL,"
	"  exit_code INTEGER, error_class TEXT, error TEXT, session_id TEXT, model TEXT,"
	"  usd REAL NOT NULL DEFAULT 0, input_tokens INTEGER NOT NULL DEFAULT 0,"
	"  output_tokens INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (run_id, stage_id, attempt)) WITHOUT ROWID;"
	"CREATE TABLE events ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  seq INTEGER NOT NULL, ts REAL NOT NULL, type TEXT NOT NULL,"
	"  stage_id TEXT, attempt INTEGER, data TEXT NOT NULL,"
	"  PRIMARY KEY (run_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE commands ("
	"  id INTEGER PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL, stage_id TEXT, reason TEXT, created_at REAL NOT NULL,"
	"  taken_at REAL);"
	"CREATE INDEX commands_open ON commands(run_id, taken_at);",
	/* 2: one feed of every run's events, in commit order (writers are serialised). */
	"CREATE TABLE feed (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, seq INTEGER NOT NULL);"
	"INSERT INTO feed (run_id, seq) SELECT run_id, seq FROM events ORDER BY ts, run_id, seq;"
	"CREATE TRIGGER events_feed AFTER INSERT ON events BEGIN"
	"  INSERT INTO feed (run_id, seq) VALUES (NEW.run_id, NEW.seq); END;",
	/* 3: how far a host has read each attempt's logs; what kind of host a run had. */
	"ALTER TABLE attempts ADD COLUMN out_off INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE attempts ADD COLUMN err_off INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE runs ADD COLUMN host_kind TEXT;",
	/* 4: handoffs; fan-out stages' item lists, items and which item an attempt ran. */
	"ALTER TABLE stages ADD COLUMN handoff TEXT;"
	"ALTER TABLE stages ADD COLUMN items TEXT;"
	"ALTER TABLE attempts ADD COLUMN item INTEGER;"
	"ALTER TABLE attempts ADD COLUMN outputs TEXT;"
	"CREATE TABLE items ("
	"  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
	"  stage_id TEXT NOT NULL, item INTEGER NOT NULL, status TEXT NOT NULL,"
	"  tries INTEGER NOT NULL DEFAULT 0, lost INTEGER NOT NULL DEFAULT 0,"
	"  attempt INTEGER NOT NULL DEFAULT 0, ready_at REAL, deadline REAL,"
	"  error_class TEXT, error TEXT, outputs TEXT,"
	"  PRIMARY KEY (run_id, stage_id, item)) WITHOUT ROWID;",
	/* 5: re-runs: the run a run re-runs; the run a reused stage's record came from. */
	"ALTER TABLE runs ADD COLUMN rerun_of TEXT;"
	"ALTER TABLE stages ADD COLUMN reused_from TEXT;"
	"CREATE INDEX runs_by_rerun_of ON runs(rerun_of);",
};

char *store_default_path(const char *home)
{
	return path_join(home, "workflow-runs.db");
}

double store_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

const char *store_error(struct store *st)
{
	return sqlite3_errmsg(st->db);
}

/* A cached prepared statement, reset and ready to bind. */
static sqlite3_stmt *stmt(struct store *st, const char *sql)
{
	for (size_t i = 0; i < st->nr_stmt; i++) {
		if (st->stmts[i].sql == sql) {
			sqlite3_reset(st->stmts[i].stmt);
			sqlite3_clear_bindings(st->stmts[i].stmt);
			return st->stmts[i].stmt;
		}
	}
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	/* Every statement is kept (callers never finalize them): the SQL texts are
	 * constants of the program, so the cache is bounded by the program. */
	ALLOC_GROW(st->stmts, st->nr_stmt + 1, st->alloc_stmt);
	st->stmts[st->nr_stmt++] = (struct cached_stmt){ sql, s };
	return s;
}

/* Step a write statement to completion. */
static int done(sqlite3_stmt *s)
{
	if (!s)
		return SM_EIO;
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SM_OK : SM_EIO;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void bind_time(sqlite3_stmt *s, int i, double t)
{
	if (t > 0)
		sqlite3_bind_double(s, i, t);
	else
		sqlite3_bind_null(s, i);
}

static int exec(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? SM_OK : SM_EIO;
}

static int migrate(struct store *st, char **err)
{
	sqlite3_stmt *s;
	int version = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			version = sqlite3_column_int(s, 0);
		sqlite3_finalize(s);
	}
	if (version > (int)ARRAY_SIZE(migrations)) {
		*err = xasprintf("the database schema (version %d) is newer than this "
				 "skillmeat understands (%zu)", version, ARRAY_SIZE(migrations));
		return SM_ERR;
	}
	for (size_t v = (size_t)version; v < ARRAY_SIZE(migrations); v++) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", v + 1);
		if (store_begin(st) || exec(st, migrations[v]) || exec(st, pragma) ||
		    store_commit(st)) {
			*err = xasprintf("migration to schema %zu failed: %s", v + 1,
					 sqlite3_errmsg(st->db));
			store_rollback(st);
			return SM_ERR;
		}
	}
	return SM_OK;
}

/*
 * synchronous=NORMAL by default: in WAL mode a commit is then safe from any
 * crash of a process, and only an OS crash or power loss may lose the last
 * commits (the run then redoes at most what they recorded).  FULL fsyncs
 * every commit ([engine] durability = "full" in config.toml).
 */
int store_set_durability(struct store *st, bool full)
{
	return exec(st, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

int store_open(const char *path, struct store **out, char **err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	*out = NULL;
	*err = NULL;
	st->lease_fd = -1;
	const char *slash = strrchr(path, '/');
	st->home = slash ? xstrndup(path, (size_t)(slash - path + (slash == path))) : xstrdup(".");
	int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, st->db ? sqlite3_errmsg(st->db)
						       : sqlite3_errstr(rc));
		store_close(st);
		return SM_ERR;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (exec(st, "PRAGMA journal_mode=WAL") || store_set_durability(st, false) ||
	    exec(st, "PRAGMA foreign_keys=ON")) {
		*err = xasprintf("%s: %s", path, sqlite3_errmsg(st->db));
		store_close(st);
		return SM_ERR;
	}
	if (migrate(st, err)) {
		char *e = xasprintf("%s: %s", path, *err);
		free(*err);
		*err = e;
		store_close(st);
		return SM_ERR;
	}
	*out = st;
	return SM_OK;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nr_stmt; i++)
		sqlite3_finalize(st->stmts[i].stmt);
	free(st->stmts);
	sqlite3_close(st->db);
	if (st->lease_fd >= 0)
		close(st->lease_fd);
	free(st->home);
	free(st);
}

/* Prepared once (a turn begins and commits one transaction: parsing these
 * each time was a few per cent of a host's time, issue 26). */
static const char SQL_BEGIN[] = "BEGIN IMMEDIATE", SQL_COMMIT[] = "COMMIT";

int store_begin(struct store *st)
{
	return done(stmt(st, SQL_BEGIN));
}

int store_commit(struct store *st)
{
	return done(stmt(st, SQL_COMMIT));
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	return stmt(st, sql);
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		exec(st, "ROLLBACK");
}

static const char SQL_RUN_INSERT[] =
	"INSERT INTO runs (id, workflow_id, workflow_name, workflow_version, workflow_hash,"
	" source, snapshot, parameters, manifest, workdir, runner, max_parallel, status,"
	" created_at, rerun_of) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,'pending',?13,?14)";
static const char SQL_STAGE_INSERT[] =
	"INSERT INTO stages (run_id, stage_id, idx, status) VALUES (?1, ?2, ?3, 'pending')";
/* A reused stage: the original's record, never executed here. */
static const char SQL_STAGE_REUSED[] =
	"UPDATE stages SET status = 'reused', reused_from = ?3, outputs = ?4, handoff = ?5,"
	" items = ?6, started_at = ?7, finished_at = ?8 WHERE run_id = ?1 AND stage_id = ?2";
static const char SQL_ITEMS_REUSED[] =
	"INSERT INTO items (run_id, stage_id, item, status, tries, lost, attempt, error_class,"
	" error, outputs) SELECT ?1, stage_id, item, status, tries, lost, attempt, error_class,"
	" error, outputs FROM items WHERE run_id = ?3 AND stage_id = ?2";

static int stage_reused(struct store *st, const char *run_id, const char *stage_id,
			const char *from, const struct stage_reuse *u)
{
	sqlite3_stmt *s = stmt(st, SQL_STAGE_REUSED);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		bind_text(s, 3, from);
		bind_text(s, 4, u->outputs);
		bind_text(s, 5, u->handoff);
		bind_text(s, 6, u->items);
		bind_time(s, 7, u->started_at);
		bind_time(s, 8, u->finished_at);
	}
	int r = done(s);
	if (!r && u->items) {
		s = stmt(st, SQL_ITEMS_REUSED);
		if (s) {
			bind_text(s, 1, run_id);
			bind_text(s, 2, stage_id);
			bind_text(s, 3, u->from_run);
		}
		r = done(s);
	}
	return r;
}

int store_create_run(struct store *st, const struct run_new *r, const char *const *stage_ids,
		     size_t nr_stages)
{
	if (store_begin(st))
		return SM_EIO;
	sqlite3_stmt *s = stmt(st, SQL_RUN_INSERT);
	if (s) {
		const char *v[] = { r->id, r->workflow_id, r->workflow_name, r->workflow_version,
			r->workflow_hash, r->source, r->snapshot, r->parameters, r->manifest,
			r->workdir, r->runner };
		for (size_t i = 0; i < ARRAY_SIZE(v); i++)
			bind_text(s, (int)i + 1, v[i]);
		sqlite3_bind_int64(s, 12, r->max_parallel);
		sqlite3_bind_double(s, 13, store_now());
		bind_text(s, 14, r->rerun_of);
	}
	int ret = done(s);
	for (size_t i = 0; !ret && i < nr_stages; i++) {
		s = stmt(st, SQL_STAGE_INSERT);
		if (s) {
			bind_text(s, 1, r->id);
			bind_text(s, 2, stage_ids[i]);
			sqlite3_bind_int64(s, 3, (sqlite3_int64)i);
		}
		ret = done(s);
		if (!ret && r->reuse && r->reuse[i].from_run)
			ret = stage_reused(st, r->id, stage_ids[i], r->reuse[i].from_run,
					   &r->reuse[i]);
	}
	if (!ret)
		ret = store_commit(st);
	if (ret)
		store_rollback(st);
	return ret;
}

static const char SQL_NEXT_SEQ[] =
	"UPDATE runs SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq - 1";
static const char SQL_EVENT_INSERT[] =
	"INSERT INTO events (run_id, seq, ts, type, stage_id, attempt, data)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

int store_event(struct store *st, const char *run_id, const char *type, const char *stage_id,
		int attempt, const json_t *data, int64_t *seq_out)
{
	sqlite3_stmt *s = stmt(st, SQL_NEXT_SEQ);
	if (!s)
		return SM_EIO;
	bind_text(s, 1, run_id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return SM_EIO;
	}
	int64_t seq = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	/* 15 digits: 0.05 stays "0.05", not "0.050000000000000003". */
	char *text = data ? json_dumps(data, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
	s = stmt(st, SQL_EVENT_INSERT);
	if (s) {
		bind_text(s, 1, run_id);
		sqlite3_bind_int64(s, 2, seq);
		sqlite3_bind_double(s, 3, store_now());
		bind_text(s, 4, type);
		bind_text(s, 5, stage_id);
		if (attempt > 0)
			sqlite3_bind_int(s, 6, attempt);
		bind_text(s, 7, text ? text : "{}");
	}
	free(text);
	if (seq_out)
		*seq_out = seq;
	return done(s);
}

static const char SQL_RUN_STATUS[] =
	"UPDATE runs SET status = ?2, error = coalesce(?3, error),"
	" finished_at = CASE WHEN ?2 IN ('completed','failed','cancelled') THEN ?4"
	" ELSE finished_at END WHERE id = ?1";

int store_run_status(struct store *st, const char *run_id, const char *status,
		     const char *error)
{
	sqlite3_stmt *s = stmt(st, SQL_RUN_STATUS);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, status);
		bind_text(s, 3, error);
		sqlite3_bind_double(s, 4, store_now());
	}
	return done(s);
}

static const char SQL_RUN_STARTED[] =
	"UPDATE runs SET started_at = coalesce(started_at, ?2) WHERE id = ?1";

int store_run_started(struct store *st, const char *run_id)
{
	sqlite3_stmt *s = stmt(st, SQL_RUN_STARTED);
	if (s) {
		bind_text(s, 1, run_id);
		sqlite3_bind_double(s, 2, store_now());
	}
	return done(s);
}

static const char SQL_RUN_SPEND[] =
	"UPDATE runs SET usd = usd + ?2, tokens = tokens + ?3 WHERE id = ?1";

int store_run_add_spend(struct store *st, const char *run_id, double usd, int64_t tokens)
{
	sqlite3_stmt *s = stmt(st, SQL_RUN_SPEND);
	if (s) {
		bind_text(s, 1, run_id);
		sqlite3_bind_double(s, 2, usd);
		sqlite3_bind_int64(s, 3, tokens);
	}
	return done(s);
}

static const char SQL_STAGE_UPDATE[] =
	"UPDATE stages SET status = ?3, attempt = ?4,"
	" started_at = coalesce(?5, started_at), finished_at = ?6, ready_at = ?7,"
	" deadline = ?8, error_class = ?9, error = ?10, outputs = coalesce(?11, outputs)"
	" WHERE run_id = ?1 AND stage_id = ?2";

int store_stage_update(struct store *st, const char *run_id, const char *stage_id,
		       const struct stage_row *row)
{
	sqlite3_stmt *s = stmt(st, SQL_STAGE_UPDATE);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		bind_text(s, 3, row->status);
		sqlite3_bind_int(s, 4, row->attempt);
		bind_time(s, 5, row->started_at);
		bind_time(s, 6, row->finished_at);
		bind_time(s, 7, row->ready_at);
		bind_time(s, 8, row->deadline);
		bind_text(s, 9, row->error_class);
		bind_text(s, 10, row->error);
		bind_text(s, 11, row->outputs);
	}
	return done(s);
}

/* One text column of a stage's row (`sql` binds run, stage, text). */
static int stage_set_text(struct store *st, const char *sql, const char *run_id,
			  const char *stage_id, const char *text)
{
	sqlite3_stmt *s = stmt(st, sql);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		bind_text(s, 3, text);
	}
	return done(s);
}

static const char SQL_STAGE_HANDOFF[] =
	"UPDATE stages SET handoff = ?3 WHERE run_id = ?1 AND stage_id = ?2";

int store_stage_handoff(struct store *st, const char *run_id, const char *stage_id,
			const char *handoff)
{
	return stage_set_text(st, SQL_STAGE_HANDOFF, run_id, stage_id, handoff);
}

static const char SQL_STAGE_ITEMS[] =
	"UPDATE stages SET items = ?3 WHERE run_id = ?1 AND stage_id = ?2";

int store_stage_items(struct store *st, const char *run_id, const char *stage_id,
		      const char *items)
{
	return stage_set_text(st, SQL_STAGE_ITEMS, run_id, stage_id, items);
}

static const char SQL_ITEM_UPDATE[] =
	"INSERT INTO items (run_id, stage_id, item, status, tries, lost, attempt, ready_at,"
	" deadline, error_class, error, outputs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	" ?10, ?11, ?12) ON CONFLICT (run_id, stage_id, item) DO UPDATE SET status = ?4,"
	" tries = ?5, lost = ?6, attempt = ?7, ready_at = ?8, deadline = ?9, error_class = ?10,"
	" error = ?11, outputs = coalesce(?12, outputs)";

int store_item_update(struct store *st, const char *run_id, const char *stage_id,
		      const struct item_row *row)
{
	sqlite3_stmt *s = stmt(st, SQL_ITEM_UPDATE);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		sqlite3_bind_int(s, 3, row->item);
		bind_text(s, 4, row->status);
		sqlite3_bind_int(s, 5, row->tries);
		sqlite3_bind_int(s, 6, row->lost);
		sqlite3_bind_int(s, 7, row->attempt);
		bind_time(s, 8, row->ready_at);
		bind_time(s, 9, row->deadline);
		bind_text(s, 10, row->error_class);
		bind_text(s, 11, row->error);
		bind_text(s, 12, row->outputs);
	}
	return done(s);
}

static const char SQL_ATTEMPT_START[] =
	"INSERT OR REPLACE INTO attempts (run_id, stage_id, attempt, status, runner, dir,"
	" started_at, item) VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7)";

int store_attempt_start(struct store *st, const char *run_id, const char *stage_id,
			int attempt, int item, const char *runner, const char *dir)
{
	sqlite3_stmt *s = stmt(st, SQL_ATTEMPT_START);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		sqlite3_bind_int(s, 3, attempt);
		bind_text(s, 4, runner);
		bind_text(s, 5, dir);
		sqlite3_bind_double(s, 6, store_now());
		if (item >= 0)
			sqlite3_bind_int(s, 7, item);
	}
	return done(s);
}

static const char SQL_ATTEMPT_PID[] =
	"UPDATE attempts SET pid = ?4 WHERE run_id = ?1 AND stage_id = ?2 AND attempt = ?3";

int store_attempt_pid(struct store *st, const char *run_id, const char *stage_id,
		      int attempt, int pid)
{
	sqlite3_stmt *s = stmt(st, SQL_ATTEMPT_PID);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		sqlite3_bind_int(s, 3, attempt);
		sqlite3_bind_int(s, 4, pid);
	}
	return done(s);
}

static const char SQL_ATTEMPT_OFFSETS[] =
	"UPDATE attempts SET out_off = ?4, err_off = ?5"
	" WHERE run_id = ?1 AND stage_id = ?2 AND attempt = ?3";

int store_attempt_offsets(struct store *st, const char *run_id, const char *stage_id,
			  int attempt, int64_t out_off, int64_t err_off)
{
	sqlite3_stmt *s = stmt(st, SQL_ATTEMPT_OFFSETS);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		sqlite3_bind_int(s, 3, attempt);
		sqlite3_bind_int64(s, 4, out_off);
		sqlite3_bind_int64(s, 5, err_off);
	}
	return done(s);
}

static const char SQL_ATTEMPT_FINISH[] =
	"UPDATE attempts SET status = ?4, finished_at = ?5, exit_code = ?6, error_class = ?7,"
	" error = ?8, session_id = ?9, model = ?10, usd = ?11, input_tokens = ?12,"
	" output_tokens = ?13, outputs = ?14 WHERE run_id = ?1 AND stage_id = ?2 AND attempt = ?3";

int store_attempt_finish(struct store *st, const char *run_id, const char *stage_id,
			 int attempt, const struct attempt_row *a)
{
	sqlite3_stmt *s = stmt(st, SQL_ATTEMPT_FINISH);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, stage_id);
		sqlite3_bind_int(s, 3, attempt);
		bind_text(s, 4, a->status);
		sqlite3_bind_double(s, 5, store_now());
		if (a->exit_code >= 0)
			sqlite3_bind_int(s, 6, a->exit_code);
		bind_text(s, 7, a->error_class);
		bind_text(s, 8, a->error);
		bind_text(s, 9, a->session_id);
		bind_text(s, 10, a->model);
		sqlite3_bind_double(s, 11, a->usd);
		sqlite3_bind_int64(s, 12, a->input_tokens);
		sqlite3_bind_int64(s, 13, a->output_tokens);
		bind_text(s, 14, a->outputs);
	}
	return done(s);
}

static const char SQL_ATTEMPT_DURATION[] =
	"UPDATE attempts SET finished_at = started_at + ?4"
	" WHERE run_id = ?1 AND stage_id = ?2 AND attempt = ?3 AND finished_at IS NOT NULL";
static const char SQL_STAGE_ENDED_AT[] =
	"UPDATE stages SET finished_at = (SELECT finished_at FROM attempts"
	"  WHERE run_id = ?1 AND stage_id = ?2 AND attempt = ?3)"
	" WHERE run_id = ?1 AND stage_id = ?2 AND attempt = ?3 AND finished_at IS NOT NULL"
	" AND items IS NULL";

int store_attempt_duration(struct store *st, const char *run_id, const char *stage_id,
			   int attempt, double seconds)
{
	const char *sql[2] = { SQL_ATTEMPT_DURATION, SQL_STAGE_ENDED_AT };
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *s = stmt(st, sql[i]);
		if (s) {
			bind_text(s, 1, run_id);
			bind_text(s, 2, stage_id);
			sqlite3_bind_int(s, 3, attempt);
			if (!i)
				sqlite3_bind_double(s, 4, seconds);
		}
		if (done(s))
			return SM_EIO;
	}
	return SM_OK;
}

static const char SQL_LEASE_GET[] =
	"SELECT host_pid, host_token, heartbeat_at FROM runs WHERE id = ?1";
static const char SQL_LEASE_SET[] =
	"UPDATE runs SET host_pid = ?2, host_token = ?3, heartbeat_at = ?4,"
	" host_kind = coalesce(?5, host_kind) WHERE id = ?1";

/*
 * Host liveness.  A host holds an exclusive flock() on runs/RUN/host.lock
 * for as long as it hosts the run: the kernel drops it when the process
 * dies, so a killed host, a zombie nobody reaps or a pid reused since is
 * never taken for a live one (kill(pid, 0) answers for all three).  Only
 * when the lock cannot be tested (no lock file: a host of an older
 * version) does a heartbeat fresh within STORE_LEASE_STALE_S count.
 */
static char *lease_lock_path(const struct store *st, const char *run_id)
{
	return xasprintf("%s/runs/%s/host.lock", st->home, run_id);
}

/* 1: a host holds the run's lock; 0: none does; -1: cannot tell (no lock file). */
static int lease_lock_held(const struct store *st, const char *run_id)
{
	char *p = lease_lock_path(st, run_id);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -1;
	/* Shared and for an instant: a host taking the lock retries past us. */
	int held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* Take the run's lock for this store's host: 0, SM_ERR (another holds it), SM_EIO. */
static int lease_lock_take(struct store *st, const char *run_id)
{
	char *dir = xasprintf("%s/runs/%s", st->home, run_id), *p = lease_lock_path(st, run_id);
	int fd = fs_mkdirs(dir) ? -1 : open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int r = fd < 0 ? SM_EIO : SM_ERR;
	/* ~100 ms of tries: a liveness test holds a shared lock for microseconds. */
	for (int i = 0; fd >= 0 && i < 50 && r == SM_ERR; i++) {
		if (!flock(fd, LOCK_EX | LOCK_NB))
			r = SM_OK;
		else if (errno != EWOULDBLOCK && errno != EINTR)
			r = SM_EIO; /* not a holder: flock itself failed */
		else
			usleep(2000);
	}
	if (!r) {
		if (st->lease_fd >= 0)
			close(st->lease_fd);
		st->lease_fd = fd;
	} else if (fd >= 0) {
		close(fd);
	}
	free(dir);
	free(p);
	return r;
}

/* Is the holder of a lease row alive?  The one test every command uses. */
static bool holder_alive(const struct store *st, const char *run_id, double heartbeat)
{
	int held = lease_lock_held(st, run_id);
	if (held >= 0)
		return held;
	return store_now() - heartbeat <= STORE_LEASE_STALE_S;
}

int store_lease_acquire(struct store *st, const char *run_id, const char *token,
			const char *kind, double stale_after, int *holder)
{
	*holder = 0;
	/* The lock first: once it is ours, whoever held the row is dead. */
	int locked = lease_lock_take(st, run_id);
	if (store_begin(st))
		return SM_EIO;
	sqlite3_stmt *s = stmt(st, SQL_LEASE_GET);
	int ret = SM_EIO;
	if (s) {
		bind_text(s, 1, run_id);
		int rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			int pid = sqlite3_column_int(s, 0);
			/* Without a lock file (cannot create it), the heartbeat decides. */
			bool held = locked == SM_ERR ||
				(locked == SM_EIO && sqlite3_column_type(s, 1) != SQLITE_NULL &&
				 store_now() - sqlite3_column_double(s, 2) <= stale_after);
			ret = held ? SM_ERR : SM_OK;
			if (held)
				*holder = pid;
		} else if (rc == SQLITE_DONE) {
			ret = SM_ENOENT;
		}
		sqlite3_reset(s);
	}
	if (!ret) {
		s = stmt(st, SQL_LEASE_SET);
		if (s) {
			bind_text(s, 1, run_id);
			sqlite3_bind_int(s, 2, (int)getpid());
			bind_text(s, 3, token);
			sqlite3_bind_double(s, 4, store_now());
			bind_text(s, 5, kind);
		}
		ret = done(s);
	}
	if (!ret)
		ret = store_commit(st);
	if (ret) {
		store_rollback(st);
		if (!locked) {
			close(st->lease_fd);
			st->lease_fd = -1;
		}
	}
	return ret;
}

static const char SQL_HEARTBEAT[] =
	"UPDATE runs SET heartbeat_at = ?3 WHERE id = ?1 AND host_token = ?2";

int store_lease_heartbeat(struct store *st, const char *run_id, const char *token)
{
	sqlite3_stmt *s = stmt(st, SQL_HEARTBEAT);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, token);
		sqlite3_bind_double(s, 3, store_now());
	}
	if (done(s))
		return SM_EIO;
	return sqlite3_changes(st->db) == 1 ? SM_OK : SM_ERR;
}

static const char SQL_LEASE_RELEASE[] =
	"UPDATE runs SET host_pid = NULL, host_token = NULL, heartbeat_at = NULL"
	" WHERE id = ?1 AND host_token = ?2";

int store_lease_release(struct store *st, const char *run_id, const char *token)
{
	sqlite3_stmt *s = stmt(st, SQL_LEASE_RELEASE);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, token);
	}
	int r = done(s);
	if (st->lease_fd >= 0) /* the row first: a host seen locked has its row */
		close(st->lease_fd);
	st->lease_fd = -1;
	return r;
}

static const char SQL_COMMAND_ADD[] =
	"INSERT INTO commands (run_id, kind, stage_id, reason, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";

int store_command_add(struct store *st, const char *run_id, const char *kind,
		      const char *stage_id, const char *reason)
{
	sqlite3_stmt *s = stmt(st, SQL_COMMAND_ADD);
	if (s) {
		bind_text(s, 1, run_id);
		bind_text(s, 2, kind);
		bind_text(s, 3, stage_id);
		bind_text(s, 4, reason);
		sqlite3_bind_double(s, 5, store_now());
	}
	return done(s);
}

static const char SQL_COMMANDS_OPEN[] =
	"SELECT id, kind, stage_id, reason FROM commands"
	" WHERE run_id = ?1 AND taken_at IS NULL ORDER BY id";
static const char SQL_COMMAND_TAKEN[] =
	"UPDATE commands SET taken_at = ?2 WHERE id = ?1";

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? xstrdup((const char *)t) : NULL;
}

int store_commands_take(struct store *st, const char *run_id, struct command **out,
			size_t *nr)
{
	size_t alloc = 0;
	*out = NULL;
	*nr = 0;
	sqlite3_stmt *s = stmt(st, SQL_COMMANDS_OPEN);
	if (!s)
		return SM_EIO;
	bind_text(s, 1, run_id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		ALLOC_GROW(*out, *nr + 1, alloc);
		struct command *c = &(*out)[(*nr)++];
		c->id = sqlite3_column_int64(s, 0);
		c->kind = col_dup(s, 1);
		c->stage_id = col_dup(s, 2);
		c->reason = col_dup(s, 3);
	}
	sqlite3_reset(s);
	for (size_t i = 0; i < *nr; i++) {
		s = stmt(st, SQL_COMMAND_TAKEN);
		if (s) {
			sqlite3_bind_int64(s, 1, (*out)[i].id);
			sqlite3_bind_double(s, 2, store_now());
		}
		if (done(s))
			return SM_EIO;
	}
	return SM_OK;
}

void command_list_free(struct command *c, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(c[i].kind);
		free(c[i].stage_id);
		free(c[i].reason);
	}
	free(c);
}

void store_new_run_id(char out[24])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	if (sodium_init() < 0)
		abort();
	uint32_t r = randombytes_random();
	char date[16];
	strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
	snprintf(out, 24, "%.15s-%06x", date, (unsigned)(r & 0xffffff));
}

int store_host_alive(struct store *st, const char *run_id)
{
	sqlite3_stmt *s;
	int pid = 0;
	if (sqlite3_prepare_v2(store_db(st), "SELECT host_pid, heartbeat_at FROM runs "
			       "WHERE id = ?1 AND host_token IS NOT NULL", -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW && holder_alive(st, run_id, sqlite3_column_double(s, 1)))
		pid = sqlite3_column_int(s, 0) > 0 ? sqlite3_column_int(s, 0) : 1;
	sqlite3_finalize(s);
	return pid;
}

int store_run_status_get(struct store *st, const char *run_id, char status[16])
{
	sqlite3_stmt *s;
	int r = SM_ENOENT;
	if (sqlite3_prepare_v2(store_db(st), "SELECT status FROM runs WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(status, 16, "%s", (const char *)sqlite3_column_text(s, 0));
		r = SM_OK;
	}
	sqlite3_finalize(s);
	return r;
}

bool store_status_final(const char *status)
{
	return !strcmp(status, "completed") || !strcmp(status, "failed") ||
	       !strcmp(status, "cancelled");
}

int store_runs_orphaned(struct store *st, const char *kind, char ***ids, size_t *nr)
{
	sqlite3_stmt *s;
	size_t alloc = 0;
	*ids = NULL;
	*nr = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT id, host_pid, host_token, heartbeat_at FROM runs"
			       " WHERE host_kind = ?1 AND started_at IS NOT NULL AND status NOT IN"
			       " ('completed', 'failed', 'cancelled') ORDER BY created_at", -1, &s,
			       NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_type(s, 2) != SQLITE_NULL &&
		    holder_alive(st, (const char *)sqlite3_column_text(s, 0),
				 sqlite3_column_double(s, 3)))
			continue;
		ALLOC_GROW(*ids, *nr + 1, alloc);
		(*ids)[(*nr)++] = col_dup(s, 0);
	}
	sqlite3_finalize(s);
	return SM_OK;
}
