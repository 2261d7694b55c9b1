/*
 * scheduler.h - the pure scheduler of a run (ninja's Plan idea).
 *
 * Given the workflow, its DAG and what has happened so far, it answers
 * "what should happen now": start a stage (attempt N), skip one, hold a
 * gate for approval, kill one that ran out of time, finish the run.  It
 * reads no clock, runs no process and touches no disk: the host feeds it
 * the time and the outcomes, makes each action durable, then carries it
 * out.  That keeps every policy testable with a fake clock.
 *
 * Policies (docs/swdl.md, "Running"):
 *  - a stage may start once every dependency is completed or skipped, up
 *    to max_parallel running stages, in declaration order;
 *  - its condition (a callback) is evaluated then: false skips it, an
 *    evaluation error fails it (non-retryable: "condition_error");
 *  - a failure is retried while attempts remain and the error class is
 *    not in non_retryable_errors, after min(initial * mult^(n-1), max);
 *  - a final failure applies on_failure: halt (start nothing new; running
 *    stages finish), continue (dependents run), skip_dependents
 *    (dependents are skipped, transitively);
 *  - a gate waits for approval; rejection is a failure; gate.timeout
 *    applies on_timeout (halt, auto_approve, reject);
 *  - a stage that reaches its timeout is killed and fails ("timeout");
 *    the workflow timeout halts the run and kills what is running;
 *  - cancel kills what is running and starts nothing; pause starts
 *    nothing new until resume;
 *  - a fan_out stage, once ready, asks for its item count (a callback)
 *    and runs one attempt series per item: each item is started, retried,
 *    timed out and counted against max_parallel like a stage (and against
 *    fan_out.max_parallel); the stage ends when its items have: fail_fast
 *    stops the others at the first item that fails for good, continue
 *    lets them all run and fails the stage only if every item failed.
 */
#ifndef SM_ENGINE_SCHEDULER_H
#define SM_ENGINE_SCHEDULER_H

#include "../swdl/dag.h"

enum stage_state {
	STAGE_PENDING,
	STAGE_RETRY_WAIT,      /* failed, another attempt is due at ready_at */
	STAGE_RUNNING,
	STAGE_WAITING_APPROVAL,
	STAGE_COMPLETED,
	STAGE_FAILED,
	STAGE_SKIPPED,
	STAGE_CANCELLED,
};

enum run_state {
	RUN_RUNNING,
	RUN_PAUSED,
	RUN_HALTING,     /* a failure with on_failure halt: running ones finish */
	RUN_CANCELLING,  /* cancel or workflow timeout: running ones are killed */
	RUN_COMPLETED,
	RUN_FAILED,
	RUN_CANCELLED,
};

enum sched_action_kind {
	SA_NONE,
	SA_START,          /* run stage (attempt) */
	SA_SKIP,           /* stage skipped (reason) */
	SA_FAIL,           /* stage failed without running (reason: condition_error) */
	SA_AWAIT_APPROVAL, /* gate now waits */
	SA_KILL,           /* stop a running stage (reason: timeout, cancelled) */
	SA_GATE_DECIDED,   /* a gate timed out and on_timeout decided it */
	SA_RUN_FINISHED,   /* the run reached a final state */
	SA_EXPAND,         /* a fan-out stage started: its items are known */
};

struct sched_action {
	enum sched_action_kind kind;
	size_t stage;
	unsigned attempt;
	const char *reason;
	int item;          /* SA_START / SA_KILL of a fan-out item; -1 otherwise */
};

/* One item of a fan-out stage: the life of a stage, in small. */
struct sched_item {
	enum stage_state state;  /* PENDING, RETRY_WAIT, RUNNING, COMPLETED, FAILED, CANCELLED */
	unsigned tries, lost;    /* attempts of this item; of which lost with their host */
	unsigned waived;         /* ...and of which rate-limited, waited out for free */
	unsigned attempt;        /* the stage-wide number of its latest attempt */
	int64_t ready_at, deadline;
	bool kill_sent;
	const char *error_class;
};

struct sched_stage {
	enum stage_state state;
	unsigned attempt;       /* attempts started so far */
	unsigned lost;          /* ...of which lost with their host (not counted as tries) */
	unsigned waived;        /* ...of which rate-limited and waited out (not counted either) */
	int64_t ready_at;       /* STAGE_RETRY_WAIT: when the next attempt may start */
	int64_t deadline;       /* RUNNING: timeout; WAITING_APPROVAL: gate timeout */
	bool kill_sent;
	const char *skip_reason; /* PENDING: to be reported as skipped */
	const char *error_class; /* FAILED: why */
	/* type: fan_out, once started: attempt counts every item's attempts. */
	size_t nr_items;
	struct sched_item *items;
	unsigned items_running;
};

/* Evaluate a stage's condition: SM_OK with *result, or SM_ERR. */
typedef int (*sched_condition_fn)(void *ctx, const struct swdl_stage *s, bool *result);
/* A fan-out stage's item count: SM_OK with *n, or SM_ERR with *error_class. */
typedef int (*sched_items_fn)(void *ctx, const struct swdl_stage *s, size_t *n,
			      const char **error_class);

struct sched {
	const struct swdl_workflow *wf;
	const struct swdl_dag *dag;
	struct sched_stage *st;
	size_t max_parallel, running;
	enum run_state run;
	int64_t started_at, workflow_deadline; /* seconds; 0 = no deadline */
	const char *fail_reason;
	sched_condition_fn condition;
	sched_items_fn items;     /* set after sched_init; NULL: fan-outs fail */
	void *ctx;
	bool single_attempt;      /* never retry: another system retries (stage exec) */
	unsigned rate_limit_retries; /* free waits for a rate limit's reset (0: none) */
	int64_t rate_limit_max_wait; /* seconds; a later reset is an ordinary failure */
};

/* `dag` must be acyclic.  Times are seconds on the host's clock. */
void sched_init(struct sched *s, const struct swdl_workflow *wf, const struct swdl_dag *dag,
		size_t max_parallel, int64_t now, sched_condition_fn cond, void *ctx);
void sched_release(struct sched *s);

/* The next action due at `now` (SA_NONE when there is none). */
struct sched_action sched_next(struct sched *s, int64_t now);
/* The earliest time something becomes due without new input, or -1. */
int64_t sched_next_wakeup(const struct sched *s);

/* A started stage ended: ok, or failed with an error class ("timeout", "exit_1", …). */
void sched_finished(struct sched *s, size_t stage, bool ok, const char *error_class,
		    int64_t now);
/*
 * A started stage (item -1) or fan-out item failed with "rate_limited": it
 * waits until retry_at (when the CLI said; else its backoff) without
 * spending an attempt, up to rate_limit_retries such waits each and never
 * longer than rate_limit_max_wait.  True when it waits; false when the
 * caller is to report an ordinary failure (sched_finished / _item_).
 */
bool sched_rate_limited(struct sched *s, size_t stage, int item, int64_t retry_at,
			int64_t now);
/*
 * A started stage's attempt was lost with its host (no outcome exists):
 * it runs again at once, and the lost attempt does not count against
 * max_attempts.
 */
void sched_lost(struct sched *s, size_t stage, int64_t now);
/* The same for one item of a fan-out stage. */
void sched_item_finished(struct sched *s, size_t stage, size_t item, bool ok,
			 const char *error_class, int64_t now);
void sched_item_lost(struct sched *s, size_t stage, size_t item, int64_t now);
/*
 * Could a failure of class `error_class` of stage i succeed on another
 * attempt (its class is not one that is never retried, nor in the stage's
 * non_retryable_errors)?  Attempts left are not considered.
 */
bool sched_class_retryable(const struct sched *s, size_t i, const char *error_class);
/* A human decided a waiting gate. */
void sched_gate(struct sched *s, size_t stage, bool approved, int64_t now);
void sched_cancel(struct sched *s);
void sched_pause(struct sched *s);
void sched_resume(struct sched *s);

/*
 * Restore a stage from the store when a host takes over a run: its state,
 * attempts so far and timers.  A RUNNING stage counts against max_parallel
 * until sched_finished is called for it.
 */
void sched_restore(struct sched *s, size_t stage, enum stage_state st, unsigned attempt,
		   int64_t ready_at, int64_t deadline, const char *error_class);

/*
 * Restore a fan-out stage's items (after sched_restore of the stage): n
 * items, then each one's state.  A RUNNING item counts against
 * max_parallel until sched_item_finished is called for it.
 */
void sched_restore_items(struct sched *s, size_t stage, size_t n);
void sched_restore_item(struct sched *s, size_t stage, size_t item, enum stage_state st,
			unsigned tries, unsigned lost, unsigned attempt, int64_t ready_at,
			int64_t deadline, const char *error_class);

const char *stage_state_name(enum stage_state st);
/* The state named `name` (as stage_state_name spells it; "reused" is completed), or -1. */
int stage_state_from_name(const char *name);
int run_state_from_name(const char *name);
const char *run_state_name(enum run_state st);

#endif
