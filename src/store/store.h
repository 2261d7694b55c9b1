/*
 * Room store/ (docs/ARCHITECTURE.md): the run database and its JSON
 * views (run_json.h).  Uses base/ only; beside supervise/ and runners/,
 * which it does not use; engine/, export/, server/ and cli/ use it.  This
 * header is its door.
 *
 * store.h - the durable state of runs: one SQLite database (WAL).
 *
 * SQLite is the source of truth and the bus between processes: the host
 * of a run writes every state change here, in a transaction, before it
 * acts on it; other processes read runs and events and post commands
 * (approve, reject, cancel, pause, resume) that the host picks up.
 *
 * Tables (schema version in PRAGMA user_version, migrations in store.c):
 *   runs      one row a run: snapshot, parameters, manifest, status,
 *             lease (host pid, token, heartbeat), next event seq, spend,
 *             the run it re-runs (rerun_of)
 *   stages    one row a stage of a run: status, attempt, timers, outputs,
 *             handoff record, fan-out item list, reused_from (a re-run's
 *             stage that took its record from that run: status "reused")
 *   attempts  one row an attempt: runner, pid, exit, error class, usage,
 *             outputs, and the fan-out item it ran (NULL for other stages)
 *   items     one row an item of a fan-out stage: its state like a stage's
 *   events    append-only, (run_id, seq) with seq monotonic per run
 *   commands  control requests from any process, taken once by the host
 */
#ifndef SM_STORE_H
#define SM_STORE_H

#include "../base/compat.h"

#include <jansson.h>
#include <sqlite3.h>

struct store;

/* The database of a SkillMeat home: <home>/workflow-runs.db (malloc'd). */
char *store_default_path(const char *home);

/* Open (creating and migrating as needed).  SM_ERR with *err (caller frees). */
int store_open(const char *path, struct store **out, char **err);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);
/*
 * The statement for `sql`, prepared once per store and kept (keyed by the
 * text's address: pass a string constant), reset and unbound; NULL on a
 * SQL error.  Not to be finalized; sqlite3_reset() it after its last row.
 */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
/* The last SQLite error message, for reports. */
const char *store_error(struct store *st);

/* Wall clock in seconds (with fractions), as stored. */
double store_now(void);

/* synchronous=FULL (every commit fsynced) or NORMAL (the default; see store.c). */
int store_set_durability(struct store *st, bool full);

int store_begin(struct store *st);   /* BEGIN IMMEDIATE: the write lock now */
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* A stage of a re-run that takes the original's record instead of running. */
struct stage_reuse {
	const char *from_run;                 /* NULL: the stage runs */
	const char *outputs, *handoff, *items; /* JSON text or NULL */
	double started_at, finished_at;
};

struct run_new {
	const char *id, *workflow_id, *workflow_name, *workflow_version, *workflow_hash;
	const char *source, *snapshot, *parameters, *manifest, *workdir, *runner;
	long max_parallel;
	const char *rerun_of;                 /* the run this one re-runs, or NULL */
	const struct stage_reuse *reuse;      /* per stage (as stage_ids), or NULL */
};
/*
 * Insert a run (status "pending") and its stages (status "pending", or
 * "reused" with the original's outputs, handoff and items), in one
 * transaction.
 */
int store_create_run(struct store *st, const struct run_new *r, const char *const *stage_ids,
		     size_t nr_stages);

/* Append an event; `data` is borrowed (NULL: {}).  *seq (may be NULL) gets its seq. */
int store_event(struct store *st, const char *run_id, const char *type, const char *stage_id,
		int attempt, const json_t *data, int64_t *seq);

int store_run_status(struct store *st, const char *run_id, const char *status,
		     const char *error);
/* Mark the run started (its first host). */
int store_run_started(struct store *st, const char *run_id);
int store_run_add_spend(struct store *st, const char *run_id, double usd, int64_t tokens);

struct stage_row {
	const char *status;
	int attempt;
	double started_at, finished_at, ready_at, deadline; /* 0 = unset */
	const char *error_class, *error, *outputs;          /* NULL = unchanged/none */
};
int store_stage_update(struct store *st, const char *run_id, const char *stage_id,
		       const struct stage_row *row);

struct attempt_row {
	const char *status, *runner, *dir;
	int pid, exit_code;
	const char *error_class, *error, *session_id, *model;
	double usd;
	int64_t input_tokens, output_tokens;
	const char *outputs;       /* JSON text, or NULL */
};
/* The stage's handoff record (JSON text). */
int store_stage_handoff(struct store *st, const char *run_id, const char *stage_id,
			const char *handoff);
/* A fan-out stage's item list (JSON array text), fixed once it is evaluated. */
int store_stage_items(struct store *st, const char *run_id, const char *stage_id,
		      const char *items);
struct item_row {
	int item;
	const char *status;
	int tries, lost, attempt;
	double ready_at, deadline;                  /* 0 = unset */
	const char *error_class, *error, *outputs;  /* outputs NULL = unchanged */
};
int store_item_update(struct store *st, const char *run_id, const char *stage_id,
		      const struct item_row *row);
/* item: the fan-out item the attempt runs, -1 for other stages. */
int store_attempt_start(struct store *st, const char *run_id, const char *stage_id,
			int attempt, int item, const char *runner, const char *dir);
int store_attempt_pid(struct store *st, const char *run_id, const char *stage_id,
		      int attempt, int pid);
/* How far the host has read the attempt's stdout and stderr logs. */
int store_attempt_offsets(struct store *st, const char *run_id, const char *stage_id,
			  int attempt, int64_t out_off, int64_t err_off);
int store_attempt_finish(struct store *st, const char *run_id, const char *stage_id,
			 int attempt, const struct attempt_row *a);

/*
 * An ended attempt lasted `seconds` of its program's own time (the
 * monitor's recorded end minus its start): its finished_at, and that of
 * its stage when this attempt ended it, say so, not the host's clock when
 * it collected the end (which, after a crash, includes the time no host
 * was there).
 */
int store_attempt_duration(struct store *st, const char *run_id, const char *stage_id,
			   int attempt, double seconds);

/*
 * The lease: a run has at most one host.  The host holds an exclusive
 * flock() on <home>/runs/RUN/host.lock (kept by the store until release or
 * close), which the kernel drops when the process dies or becomes a
 * zombie.  Acquire succeeds when that lock could be taken (or, when no
 * lock file can be made, when the holder's heartbeat is older than
 * `stale_after` seconds).  Otherwise SM_ERR with *holder set to its pid.
 * `kind` ("cli", "web"; NULL: keep) records what hosts the run, so a
 * restarted server takes back its own.
 */
int store_lease_acquire(struct store *st, const char *run_id, const char *token,
			const char *kind, double stale_after, int *holder);
/* Refresh; SM_ERR when the lease is no longer ours. */
int store_lease_heartbeat(struct store *st, const char *run_id, const char *token);
int store_lease_release(struct store *st, const char *run_id, const char *token);

/* Post a control command for a run's host (kind: approve, reject, cancel, pause, resume). */
int store_command_add(struct store *st, const char *run_id, const char *kind,
		      const char *stage_id, const char *reason);

struct command {
	int64_t id;
	char *kind, *stage_id, *reason;
};
/* Take the commands not yet taken, oldest first (caller frees with command_list_free). */
int store_commands_take(struct store *st, const char *run_id, struct command **out,
			size_t *nr);
void command_list_free(struct command *c, size_t nr);

/* A host whose heartbeat is older than this (seconds) counts as gone. */
#define STORE_LEASE_STALE_S 15.0

/*
 * The pid of a live host of the run, or 0.  Alive means holding the run's
 * lease lock; only when there is no lock file to test, a heartbeat fresh
 * within STORE_LEASE_STALE_S.  Never a pid answering kill(pid, 0).  Every
 * command (resume, pause, cancel, approve, logs --follow, runs, the web API)
 * asks this one function.
 */
int store_host_alive(struct store *st, const char *run_id);

/* The run's status (SM_ENOENT: no such run); is a status one a run ends in? */
int store_run_status_get(struct store *st, const char *run_id, char status[16]);
bool store_status_final(const char *status);

/* Runs last hosted by `kind` that have not ended and whose host is gone (free each id). */
int store_runs_orphaned(struct store *st, const char *kind, char ***ids, size_t *nr);

/* A fresh run id: 12 hex digits of time + 8 random ones. */
void store_new_run_id(char out[24]);

#endif
