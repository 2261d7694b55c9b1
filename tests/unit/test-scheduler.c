/*
 * Unit tests: the pure scheduler, driven with a fake clock and a fake
 * executor (the test decides when and how each started stage ends).
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/strbuf.h"
#include "engine/scheduler.h"
#include "swdl/validate.h"
#include "formats/load.h"

struct fx {
	struct doc *doc;
	struct arena arena;
	struct swdl_workflow wf;
	struct swdl_dag dag;
	struct diag_list dl;
	struct sched s;
	const char *false_conditions; /* stage ids whose condition is false, ",a,b," */
	const char *bad_conditions;   /* stage ids whose condition fails to evaluate */
	long items;                   /* a fan-out's item count; -1: the list is bad */
};

static int fake_items(void *ctx, const struct swdl_stage *st, size_t *n, const char **cls)
{
	struct fx *f = ctx;
	(void)st;
	if (f->items < 0) {
		*cls = "fan_out_items";
		return SM_ERR;
	}
	*n = (size_t)f->items;
	return SM_OK;
}

static int fake_condition(void *ctx, const struct swdl_stage *st, bool *result)
{
	struct fx *f = ctx;
	char key[64];
	snprintf(key, sizeof(key), ",%s,", st->id);
	if (f->bad_conditions && strstr(f->bad_conditions, key))
		return SM_ERR;
	*result = !(f->false_conditions && strstr(f->false_conditions, key));
	return SM_OK;
}

static struct fx *setup_fx(const char *stages, size_t max_parallel)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char *yaml = xasprintf("workflow: {id: w, name: W}\n%s", stages);
	assert_int_equal(doc_load_buffer("t.yaml", yaml, strlen(yaml), DOC_YAML, NULL, &f->doc,
					 &f->dl), SM_OK);
	free(yaml);
	swdl_parse(f->doc->root, &f->arena, &f->wf, &f->dl);
	swdl_apply_defaults(&f->wf);
	swdl_validate(&f->wf, &f->dag, &f->dl);
	for (size_t i = 0; i < f->dl.nr; i++)
		if (f->dl.items[i].severity == DIAG_ERROR)
			fail_msg("fixture invalid: %s", f->dl.items[i].message);
	sched_init(&f->s, &f->wf, &f->dag, max_parallel, 0, fake_condition, f);
	f->s.items = fake_items;
	return f;
}

static void teardown_fx(struct fx *f)
{
	sched_release(&f->s);
	swdl_dag_release(&f->dag);
	swdl_workflow_release(&f->wf);
	arena_free(&f->arena);
	doc_free(f->doc);
	diag_list_release(&f->dl);
	free(f);
}

static size_t idx(struct fx *f, const char *id)
{
	long i = swdl_stage_find(&f->wf, id);
	assert_true(i >= 0);
	return (size_t)i;
}

/* Every action due at `now`, as "start:a#1 skip:b(condition_false) …". */
static char *drain(struct fx *f, int64_t now)
{
	static const char *const kinds[] = { "none", "start", "skip", "fail", "await", "kill",
		"gate", "finished", "expand" };
	struct strbuf sb = STRBUF_INIT;
	for (int guard = 0; guard < 1000; guard++) {
		struct sched_action a = sched_next(&f->s, now);
		if (a.kind == SA_NONE)
			break;
		if (sb.len)
			strbuf_addch(&sb, ' ');
		if (a.kind == SA_RUN_FINISHED) {
			strbuf_addf(&sb, "finished(%s)", a.reason);
			continue;
		}
		strbuf_addf(&sb, "%s:%s", kinds[a.kind], f->wf.stages[a.stage].id);
		if (a.item >= 0)
			strbuf_addf(&sb, "[%d]", a.item);
		if (a.kind == SA_START)
			strbuf_addf(&sb, "#%u", a.attempt);
		if (a.reason)
			strbuf_addf(&sb, "(%s)", a.reason);
	}
	return strbuf_detach(&sb, NULL);
}

#define EXPECT(f, now, text)                                   \
	do {                                                   \
		char *got_ = drain((f), (now));                \
		assert_string_equal(got_, (text));             \
		free(got_);                                    \
	} while (0)

static void ok(struct fx *f, const char *id, int64_t now)
{
	sched_finished(&f->s, idx(f, id), true, NULL, now);
}

static void bad(struct fx *f, const char *id, const char *cls, int64_t now)
{
	sched_finished(&f->s, idx(f, id), false, cls, now);
}

#define A(id, extra) "  - {id: " id ", name: X, roles: {primary: {artifact: 'agent:x'}}" extra "}\n"
/* A fan-out stage over a list the fixture's `items` sizes. */
#define F(id, fan, extra) "  - {id: " id ", name: X, type: fan_out, run: 'true', fan_out: {items: " \
	"'${{ fromJSON(\"[]\") }}'" fan "}" extra "}\n"

static void item_ok(struct fx *f, const char *id, size_t k, int64_t now)
{
	sched_item_finished(&f->s, idx(f, id), k, true, NULL, now);
}

static void item_bad(struct fx *f, const char *id, size_t k, const char *cls, int64_t now)
{
	sched_item_finished(&f->s, idx(f, id), k, false, cls, now);
}

static void test_dependencies_and_capacity(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", "") A("b", ", depends_on: [a]")
				A("c", ", depends_on: [a]") A("d", ", depends_on: [b, c]"), 1);
	EXPECT(f, 0, "start:a#1");
	ok(f, "a", 5);
	EXPECT(f, 5, "start:b#1"); /* capacity 1: c waits */
	ok(f, "b", 6);
	EXPECT(f, 6, "start:c#1");
	ok(f, "c", 7);
	EXPECT(f, 7, "start:d#1");
	ok(f, "d", 8);
	EXPECT(f, 8, "finished(completed)");
	teardown_fx(f);
}

static void test_starts_as_soon_as_ready(void **state)
{
	(void)state;
	/* no batch barrier: b starts when a is done, while slow c still runs */
	struct fx *f = setup_fx("stages:\n" A("a", "") A("b", ", depends_on: [a]") A("c", ""), 4);
	EXPECT(f, 0, "start:a#1 start:c#1");
	ok(f, "a", 1);
	EXPECT(f, 1, "start:b#1");
	ok(f, "b", 2);
	EXPECT(f, 2, "");
	ok(f, "c", 3);
	EXPECT(f, 3, "finished(completed)");
	teardown_fx(f);
}

static void test_retry_backoff(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: {max_attempts: 3, "
				"initial_interval: 10s, backoff_multiplier: 2, max_interval: 15s}}"), 1);
	EXPECT(f, 0, "start:a#1");
	bad(f, "a", "exit_1", 0);
	assert_int_equal(sched_next_wakeup(&f->s), 10);
	EXPECT(f, 9, "");
	EXPECT(f, 10, "start:a#2");
	bad(f, "a", "exit_1", 10);
	assert_int_equal(sched_next_wakeup(&f->s), 25); /* min(20, 15) */
	EXPECT(f, 25, "start:a#3");
	bad(f, "a", "exit_1", 25);
	EXPECT(f, 25, "finished(failed)");
	assert_int_equal(f->s.st[0].state, STAGE_FAILED);
	teardown_fx(f);
}

static void test_non_retryable(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: {max_attempts: 5, "
				"non_retryable_errors: [auth_error]}}"), 1);
	EXPECT(f, 0, "start:a#1");
	bad(f, "a", "auth_error", 1);
	EXPECT(f, 1, "finished(failed)");
	teardown_fx(f);
}

static void test_rate_limited_waits_free(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: {max_attempts: 1, "
				"initial_interval: 10s}}"), 1);
	f->s.rate_limit_retries = 2;
	f->s.rate_limit_max_wait = 3600;
	EXPECT(f, 0, "start:a#1");
	/* waits until the reset the CLI reported, and the attempt is not counted */
	assert_true(sched_rate_limited(&f->s, idx(f, "a"), -1, 100, 5));
	assert_int_equal(sched_next_wakeup(&f->s), 100);
	EXPECT(f, 99, "");
	EXPECT(f, 100, "start:a#2");
	/* no reset given: the stage's backoff, growing with each wait (10s x2) */
	assert_true(sched_rate_limited(&f->s, idx(f, "a"), -1, 0, 100));
	assert_int_equal(sched_next_wakeup(&f->s), 120);
	EXPECT(f, 120, "start:a#3");
	/* the free waits are used up: an ordinary failure (max_attempts 1, none left) */
	assert_false(sched_rate_limited(&f->s, idx(f, "a"), -1, 200, 120));
	bad(f, "a", "rate_limited", 120);
	EXPECT(f, 120, "finished(failed)");
	assert_string_equal(f->s.st[idx(f, "a")].error_class, "rate_limited");
	teardown_fx(f);
}

static void test_rate_limited_too_far(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: {max_attempts: 2, "
				"initial_interval: 1s}}"), 1);
	f->s.rate_limit_retries = 5;
	f->s.rate_limit_max_wait = 60;
	EXPECT(f, 0, "start:a#1");
	/* a reset past rate_limit_max_wait is not waited for */
	assert_false(sched_rate_limited(&f->s, idx(f, "a"), -1, 1000, 1));
	bad(f, "a", "rate_limited", 1);
	EXPECT(f, 2, "start:a#2"); /* an ordinary retry, counted */
	teardown_fx(f);
}

static void test_skip_dependents_is_transitive(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n"
		A("a", ", error_policy: {on_failure: skip_dependents, retry: {max_attempts: 1}}")
		A("b", ", depends_on: [a]") A("c", ", depends_on: [b]") A("d", ""), 4);
	EXPECT(f, 0, "start:a#1 start:d#1");
	bad(f, "a", "exit_1", 1);
	EXPECT(f, 1, "skip:b(dependency_failed) skip:c(dependency_failed)");
	ok(f, "d", 2);
	EXPECT(f, 2, "finished(failed)");
	teardown_fx(f);
}

static void test_continue_lets_dependents_run(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n"
		A("a", ", error_policy: {on_failure: continue, retry: {max_attempts: 1}}")
		A("b", ", depends_on: [a]"), 4);
	EXPECT(f, 0, "start:a#1");
	bad(f, "a", "exit_1", 1);
	EXPECT(f, 1, "start:b#1");
	ok(f, "b", 2);
	EXPECT(f, 2, "finished(completed)");
	teardown_fx(f);
}

static void test_global_on_stage_failure(void **state)
{
	(void)state;
	struct fx *f = setup_fx("error_policy: {on_stage_failure: continue, default_retry: "
				"{max_attempts: 1}}\nstages:\n" A("a", "") A("b", ", depends_on: [a]"), 4);
	EXPECT(f, 0, "start:a#1");
	bad(f, "a", "exit_1", 1);
	EXPECT(f, 1, "start:b#1");
	teardown_fx(f);
}

static void test_halt_lets_running_finish(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: {max_attempts: 1}}")
				A("b", "") A("c", ", depends_on: [b]"), 4);
	EXPECT(f, 0, "start:a#1 start:b#1");
	bad(f, "a", "exit_1", 1);
	EXPECT(f, 1, ""); /* b keeps running, nothing new starts */
	assert_int_equal(f->s.run, RUN_HALTING);
	ok(f, "b", 2);
	EXPECT(f, 2, "finished(failed)");
	assert_int_equal(f->s.st[idx(f, "c")].state, STAGE_CANCELLED);
	teardown_fx(f);
}

static void test_stage_timeout_kills(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {timeout: 1m, retry: "
				"{max_attempts: 2, initial_interval: 5s}}"), 1);
	EXPECT(f, 0, "start:a#1");
	assert_int_equal(sched_next_wakeup(&f->s), 60);
	EXPECT(f, 59, "");
	EXPECT(f, 60, "kill:a(timeout)");
	EXPECT(f, 61, ""); /* killed once only */
	bad(f, "a", "timeout", 62);
	EXPECT(f, 67, "start:a#2");
	ok(f, "a", 70);
	EXPECT(f, 70, "finished(completed)");
	teardown_fx(f);
}

static void test_workflow_timeout(void **state)
{
	(void)state;
	struct fx *f = setup_fx("config: {timeout: 10m}\nstages:\n" A("a", "") A("b", ", depends_on: [a]"), 1);
	EXPECT(f, 0, "start:a#1");
	EXPECT(f, 600, "kill:a(cancelled)");
	bad(f, "a", "killed", 601);
	EXPECT(f, 601, "finished(failed)");
	assert_string_equal(f->s.fail_reason, "workflow_timeout");
	assert_int_equal(f->s.st[idx(f, "b")].state, STAGE_CANCELLED);
	teardown_fx(f);
}

#define GATE(id, extra) "  - {id: " id ", name: G, type: gate" extra "}\n"

static void test_gate_blocks_until_approved(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", "") GATE("g", ", depends_on: [a]")
				A("b", ", depends_on: [g]"), 4);
	EXPECT(f, 0, "start:a#1");
	ok(f, "a", 1);
	EXPECT(f, 1, "await:g");
	EXPECT(f, 500, "");
	sched_gate(&f->s, idx(f, "g"), true, 600);
	EXPECT(f, 600, "start:b#1");
	ok(f, "b", 601);
	EXPECT(f, 601, "finished(completed)");
	teardown_fx(f);
}

static void test_gate_reject_and_timeouts(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" GATE("g", "") A("b", ", depends_on: [g]"), 4);
	EXPECT(f, 0, "await:g");
	sched_gate(&f->s, idx(f, "g"), false, 1);
	EXPECT(f, 1, "finished(failed)");
	assert_string_equal(f->s.st[0].error_class, "gate_rejected");
	teardown_fx(f);

	f = setup_fx("stages:\n" GATE("g", ", gate: {timeout: 1h, on_timeout: auto_approve}")
		     A("b", ", depends_on: [g]"), 4);
	EXPECT(f, 0, "await:g");
	assert_int_equal(sched_next_wakeup(&f->s), 3600);
	EXPECT(f, 3600, "gate:g(auto_approved) start:b#1");
	teardown_fx(f);

	f = setup_fx("stages:\n" GATE("g", ", gate: {timeout: 1h, on_timeout: reject}, "
		     "error_policy: {on_failure: skip_dependents}") A("b", ", depends_on: [g]")
		     A("c", ""), 4);
	EXPECT(f, 0, "await:g start:c#1");
	ok(f, "c", 10); /* before its own 30m timeout */
	EXPECT(f, 10, "");
	EXPECT(f, 3600, "gate:g(rejected) skip:b(dependency_failed) finished(failed)");
	teardown_fx(f);

	f = setup_fx("stages:\n" GATE("g", ", gate: {timeout: 1h}") A("b", ", depends_on: [g]"), 4);
	EXPECT(f, 0, "await:g");
	EXPECT(f, 3600, "gate:g(halted) finished(failed)");
	teardown_fx(f);
}

static void test_conditions(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", condition: 'false'")
				A("b", ", depends_on: [a]") A("c", ", condition: 'true'"), 4);
	f->false_conditions = ",a,";
	f->bad_conditions = ",c,";
	EXPECT(f, 0, "skip:a(condition_false) start:b#1 fail:c(condition_error)");
	ok(f, "b", 1);
	EXPECT(f, 1, "finished(failed)");
	teardown_fx(f);
}

static void test_cancel_and_pause(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", "") A("b", "") A("c", ", depends_on: [a]"), 1);
	EXPECT(f, 0, "start:a#1");
	sched_pause(&f->s);
	ok(f, "a", 1);
	EXPECT(f, 1, ""); /* paused: nothing new */
	sched_resume(&f->s);
	EXPECT(f, 2, "start:b#1");
	sched_cancel(&f->s);
	EXPECT(f, 3, "kill:b(cancelled)");
	bad(f, "b", "killed", 4);
	EXPECT(f, 4, "finished(cancelled)");
	assert_int_equal(f->s.st[idx(f, "b")].state, STAGE_CANCELLED);
	assert_int_equal(f->s.st[idx(f, "c")].state, STAGE_CANCELLED);
	EXPECT(f, 5, "");
	teardown_fx(f);
}

/* Classes that no retry can fix are final whatever the policy says. */
static void test_never_retried_classes(void **state)
{
	(void)state;
	static const char *const never[] = { "budget_exceeded", "condition_error",
		"input_missing", "input_invalid", "runner_missing" };
	for (size_t k = 0; k < ARRAY_SIZE(never); k++) {
		struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: "
					"{max_attempts: 5, initial_interval: 1s}}"), 1);
		EXPECT(f, 0, "start:a#1");
		bad(f, "a", never[k], 1);
		EXPECT(f, 1, "finished(failed)");
		assert_string_equal(f->s.st[0].error_class, never[k]);
		teardown_fx(f);
	}
	/* …while an ordinary class with the same policy is retried. */
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: "
				"{max_attempts: 5, initial_interval: 1s}}"), 1);
	EXPECT(f, 0, "start:a#1");
	bad(f, "a", "host_lost", 1);
	EXPECT(f, 2, "start:a#2");
	teardown_fx(f);
}

/* A host taking over: completed stages stay done, a lost attempt is retried. */
static void test_restore_after_crash(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", "") A("b", ", depends_on: [a], error_policy: "
				"{retry: {max_attempts: 2, initial_interval: 5s}}")
				A("c", ", depends_on: [a]") A("d", ", depends_on: [b, c]"), 2);
	sched_restore(&f->s, idx(f, "a"), STAGE_COMPLETED, 1, 0, 0, NULL);
	sched_restore(&f->s, idx(f, "b"), STAGE_RUNNING, 1, 0, 1000, NULL);
	sched_restore(&f->s, idx(f, "c"), STAGE_RUNNING, 1, 0, 1000, NULL);
	assert_int_equal(f->s.running, 2);
	EXPECT(f, 100, ""); /* both slots held by the restored attempts */
	bad(f, "b", "host_lost", 100);
	ok(f, "c", 100);
	assert_int_equal(f->s.running, 0);
	EXPECT(f, 104, "");
	EXPECT(f, 105, "start:b#2"); /* attempt 2: the lost one counted */
	ok(f, "b", 106);
	EXPECT(f, 106, "start:d#1");
	ok(f, "d", 107);
	EXPECT(f, 107, "finished(completed)");
	teardown_fx(f);
}

/* An attempt lost with its host runs again at once and does not use up a try. */
static void test_lost_attempt_is_free(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {retry: {max_attempts: 1, "
				"initial_interval: 30s}}") A("b", ", depends_on: [a], error_policy: "
				"{retry: {max_attempts: 2, initial_interval: 10s}}"), 1);
	sched_restore(&f->s, idx(f, "a"), STAGE_RUNNING, 1, 0, 0, NULL);
	sched_lost(&f->s, idx(f, "a"), 100);
	assert_int_equal(f->s.st[0].lost, 1);
	EXPECT(f, 100, "start:a#2"); /* at once: no backoff */
	sched_lost(&f->s, idx(f, "a"), 101);
	EXPECT(f, 101, "start:a#3"); /* still allowed: max_attempts 1 counts real tries */
	ok(f, "a", 102);
	EXPECT(f, 102, "start:b#1");
	sched_lost(&f->s, idx(f, "b"), 103);
	EXPECT(f, 103, "start:b#2");
	bad(f, "b", "exit_1", 104);
	assert_int_equal(sched_next_wakeup(&f->s), 114); /* first real failure: 10 s */
	EXPECT(f, 114, "start:b#3");
	bad(f, "b", "exit_1", 115);
	EXPECT(f, 115, "finished(failed)"); /* two real tries of two */
	teardown_fx(f);
}

/* While cancelling, a lost attempt is cancelled; while halting, it fails. */
static void test_lost_attempt_when_stopping(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", "") A("b", ""), 2);
	EXPECT(f, 0, "start:a#1 start:b#1");
	sched_cancel(&f->s);
	EXPECT(f, 1, "kill:a(cancelled) kill:b(cancelled)");
	sched_lost(&f->s, idx(f, "a"), 1);
	assert_int_equal(f->s.st[0].state, STAGE_CANCELLED);
	ok(f, "b", 1);
	EXPECT(f, 1, "finished(cancelled)");
	teardown_fx(f);
	f = setup_fx("stages:\n" A("a", "") A("b", ", error_policy: {retry: {max_attempts: 1}}"), 2);
	EXPECT(f, 0, "start:a#1 start:b#1");
	bad(f, "b", "exit_1", 1); /* halt */
	sched_lost(&f->s, idx(f, "a"), 2);
	assert_int_equal(f->s.st[0].state, STAGE_FAILED);
	EXPECT(f, 2, "finished(failed)");
	teardown_fx(f);
}

/* Restored timers: a retry due in the past starts now, a deadline still holds. */
static void test_restore_timers(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", ", error_policy: {timeout: 60s, retry: "
				"{max_attempts: 3}}") A("b", ", error_policy: {retry: {max_attempts: 1}, "
				"on_failure: continue}"), 2);
	sched_restore(&f->s, idx(f, "a"), STAGE_RETRY_WAIT, 1, 50, 0, "exit_1");
	sched_restore(&f->s, idx(f, "b"), STAGE_RUNNING, 1, 0, 90, NULL);
	assert_int_equal(sched_next_wakeup(&f->s), 50);
	EXPECT(f, 80, "start:a#2");
	EXPECT(f, 90, "kill:b(timeout)");
	bad(f, "b", "timeout", 91);
	assert_int_equal(f->s.st[idx(f, "b")].state, STAGE_FAILED); /* one attempt only */
	ok(f, "a", 92);
	EXPECT(f, 92, "finished(completed)"); /* b's on_failure is continue */
	teardown_fx(f);
}

/* A restored failure with halt leaves the run failed without starting more. */
static void test_restore_final_failure(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" A("a", "") A("b", ", depends_on: [a]"), 2);
	sched_restore(&f->s, idx(f, "a"), STAGE_FAILED, 2, 0, 0, "exit_2");
	assert_int_equal(f->s.run, RUN_HALTING);
	EXPECT(f, 0, "finished(failed)");
	assert_int_equal(f->s.st[idx(f, "b")].state, STAGE_CANCELLED);
	teardown_fx(f);
	/* skip_dependents: the dependents a crash left pending are skipped, transitively. */
	f = setup_fx("stages:\n" A("a", ", error_policy: {on_failure: skip_dependents}")
		     A("b", ", depends_on: [a]") A("c", ", depends_on: [b]") A("d", ""), 2);
	sched_restore(&f->s, idx(f, "a"), STAGE_FAILED, 2, 0, 0, "exit_2");
	EXPECT(f, 0, "skip:b(dependency_failed) skip:c(dependency_failed) start:d#1");
	ok(f, "d", 1);
	EXPECT(f, 1, "finished(failed)");
	teardown_fx(f);
}


/* Items start as slots allow, shared with other stages; outputs wait for all. */
static void test_fan_out_items_share_slots(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", "", "") A("other", "") A("after", ", depends_on: [fan]"), 3);
	f->items = 4;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2 start:fan[2]#3");
	item_ok(f, "fan", 1, 1);
	EXPECT(f, 1, "start:fan[3]#4"); /* declaration order: the fan's items before `other` */
	item_ok(f, "fan", 0, 2);
	EXPECT(f, 2, "start:other#1");
	item_ok(f, "fan", 2, 3);
	item_ok(f, "fan", 3, 3);
	assert_int_equal(f->s.st[idx(f, "fan")].state, STAGE_COMPLETED);
	EXPECT(f, 3, "start:after#1");
	ok(f, "other", 4);
	ok(f, "after", 4);
	EXPECT(f, 4, "finished(completed)");
	teardown_fx(f);
}

static void test_fan_out_max_parallel(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", ", max_parallel: 2", ""), 8);
	f->items = 3;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2");
	item_ok(f, "fan", 0, 1);
	EXPECT(f, 1, "start:fan[2]#3");
	teardown_fx(f);
}

/* fail_fast: the first item that fails for good stops the others. */
static void test_fan_out_fail_fast(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", "", ", error_policy: {retry: {max_attempts: 1}}"), 2);
	f->items = 5;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2");
	item_bad(f, "fan", 1, "exit_2", 1);
	EXPECT(f, 1, "kill:fan[0](fail_fast)");
	item_bad(f, "fan", 0, "cancelled", 2); /* stopped: cancelled, not failed */
	const struct sched_stage *st = &f->s.st[idx(f, "fan")];
	assert_int_equal(st->state, STAGE_FAILED);
	assert_string_equal(st->error_class, "exit_2");
	assert_int_equal(st->items[0].state, STAGE_CANCELLED);
	assert_int_equal(st->items[4].state, STAGE_CANCELLED);
	EXPECT(f, 2, "finished(failed)");
	teardown_fx(f);
}

/* continue: every item runs; the stage fails only if all failed. */
static void test_fan_out_continue(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", ", on_item_failure: continue",
				", error_policy: {retry: {max_attempts: 1}}"), 4);
	f->items = 2;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2");
	item_bad(f, "fan", 0, "exit_1", 1);
	EXPECT(f, 1, "");
	item_ok(f, "fan", 1, 2);
	assert_int_equal(f->s.st[idx(f, "fan")].state, STAGE_COMPLETED);
	EXPECT(f, 2, "finished(completed)");
	teardown_fx(f);
	f = setup_fx("stages:\n" F("fan", ", on_item_failure: continue",
		     ", error_policy: {retry: {max_attempts: 1}}"), 4);
	f->items = 2;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2");
	item_bad(f, "fan", 0, "exit_1", 1);
	item_bad(f, "fan", 1, "exit_3", 1);
	assert_int_equal(f->s.st[idx(f, "fan")].state, STAGE_FAILED);
	EXPECT(f, 1, "finished(failed)");
	teardown_fx(f);
}

/* Each item retries on its own clock; a lost item runs again at once, for free. */
static void test_fan_out_item_retries(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", "", ", error_policy: {retry: {max_attempts: 2, "
				"initial_interval: 10s}}"), 4);
	f->items = 2;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2");
	item_bad(f, "fan", 0, "exit_1", 5);
	assert_int_equal(sched_next_wakeup(&f->s), 15);
	EXPECT(f, 14, "");
	sched_item_lost(&f->s, idx(f, "fan"), 1, 14);
	EXPECT(f, 14, "start:fan[1]#3");
	EXPECT(f, 15, "start:fan[0]#4");
	const struct sched_stage *st = &f->s.st[idx(f, "fan")];
	assert_int_equal(st->items[1].tries - st->items[1].lost, 1);
	item_bad(f, "fan", 1, "exit_1", 16); /* its second counted try: a retry left */
	assert_int_equal(st->items[1].state, STAGE_RETRY_WAIT);
	item_ok(f, "fan", 0, 17);
	EXPECT(f, 26, "start:fan[1]#5");
	item_ok(f, "fan", 1, 27);
	EXPECT(f, 27, "finished(completed)");
	teardown_fx(f);
}

static void test_fan_out_empty_and_bad_lists(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", "", "") A("after", ", depends_on: [fan]"), 4);
	f->items = 0;
	EXPECT(f, 0, "expand:fan start:after#1");
	teardown_fx(f);
	f = setup_fx("stages:\n" F("fan", "", "") A("after", ", depends_on: [fan]"), 4);
	f->items = -1;
	EXPECT(f, 0, "fail:fan(fan_out_items) finished(failed)");
	teardown_fx(f);
}

/* Cancel stops every running item; per-item timeouts kill only that item. */
static void test_fan_out_cancel_and_timeout(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", "", ", error_policy: {timeout: 30s}"), 2);
	f->items = 3;
	EXPECT(f, 0, "expand:fan start:fan[0]#1 start:fan[1]#2");
	item_ok(f, "fan", 0, 10);
	EXPECT(f, 10, "start:fan[2]#3");
	EXPECT(f, 30, "kill:fan[1](timeout)");
	sched_cancel(&f->s);
	EXPECT(f, 31, "kill:fan[2](cancelled)");
	item_bad(f, "fan", 1, "timeout", 32);
	item_bad(f, "fan", 2, "cancelled", 32);
	EXPECT(f, 32, "finished(cancelled)");
	assert_int_equal(f->s.st[idx(f, "fan")].state, STAGE_CANCELLED);
	teardown_fx(f);
}

/* A new host: running items count against the limit, finished ones stay finished. */
static void test_fan_out_restore(void **state)
{
	(void)state;
	struct fx *f = setup_fx("stages:\n" F("fan", "", "") A("other", ""), 2);
	size_t fan = idx(f, "fan");
	sched_restore(&f->s, fan, STAGE_RUNNING, 3, 0, 0, NULL);
	sched_restore_items(&f->s, fan, 4);
	sched_restore_item(&f->s, fan, 0, STAGE_COMPLETED, 1, 0, 1, 0, 0, NULL);
	sched_restore_item(&f->s, fan, 1, STAGE_RUNNING, 1, 0, 2, 0, 0, NULL);
	sched_restore_item(&f->s, fan, 2, STAGE_RUNNING, 2, 1, 3, 0, 0, NULL);
	assert_int_equal(f->s.running, 2);
	EXPECT(f, 0, "");
	item_ok(f, "fan", 1, 1);
	EXPECT(f, 1, "start:fan[3]#4");
	item_ok(f, "fan", 2, 2);
	item_ok(f, "fan", 3, 2);
	EXPECT(f, 2, "start:other#1");
	teardown_fx(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dependencies_and_capacity),
		cmocka_unit_test(test_starts_as_soon_as_ready),
		cmocka_unit_test(test_retry_backoff),
		cmocka_unit_test(test_non_retryable),
		cmocka_unit_test(test_skip_dependents_is_transitive),
		cmocka_unit_test(test_continue_lets_dependents_run),
		cmocka_unit_test(test_global_on_stage_failure),
		cmocka_unit_test(test_halt_lets_running_finish),
		cmocka_unit_test(test_stage_timeout_kills),
		cmocka_unit_test(test_workflow_timeout),
		cmocka_unit_test(test_gate_blocks_until_approved),
		cmocka_unit_test(test_gate_reject_and_timeouts),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_cancel_and_pause),
		cmocka_unit_test(test_never_retried_classes),
		cmocka_unit_test(test_restore_after_crash),
		cmocka_unit_test(test_restore_timers),
		cmocka_unit_test(test_restore_final_failure),
		cmocka_unit_test(test_lost_attempt_is_free),
		cmocka_unit_test(test_lost_attempt_when_stopping),
		cmocka_unit_test(test_fan_out_items_share_slots),
		cmocka_unit_test(test_fan_out_max_parallel),
		cmocka_unit_test(test_fan_out_fail_fast),
		cmocka_unit_test(test_fan_out_continue),
		cmocka_unit_test(test_fan_out_item_retries),
		cmocka_unit_test(test_fan_out_empty_and_bad_lists),
		cmocka_unit_test(test_fan_out_cancel_and_timeout),
		cmocka_unit_test(test_fan_out_restore),
		cmocka_unit_test(test_rate_limited_waits_free),
		cmocka_unit_test(test_rate_limited_too_far),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
