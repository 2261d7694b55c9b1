#include "../base/compat.h"
#include "scheduler.h"


static const char *const stage_names[] = { "pending", "retry_wait", "running",
	"waiting_for_approval", "completed", "failed", "skipped", "cancelled" };
static const char *const run_names[] = { "running", "paused", "halting", "cancelling",
	"completed", "failed", "cancelled" };

int stage_state_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(stage_names); i++)
		if (!strcmp(stage_names[i], name))
			return (int)i;
	return -1;
}

int run_state_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(run_names); i++)
		if (!strcmp(run_names[i], name))
			return (int)i;
	return -1;
}

static void fail_stage(struct sched *s, size_t i, const char *error_class);

void sched_restore(struct sched *s, size_t i, enum stage_state state, unsigned attempt,
		   int64_t ready_at, int64_t deadline, const char *error_class)
{
	struct sched_stage *st = &s->st[i];
	if (st->state == STAGE_RUNNING)
		s->running--;
	st->state = state;
	st->attempt = attempt;
	st->ready_at = ready_at;
	st->deadline = deadline;
	st->error_class = error_class;
	if (state == STAGE_RUNNING)
		s->running++;
	/* Its on_failure again (idempotent): the run halts, dependents are skipped. */
	if (state == STAGE_FAILED)
		fail_stage(s, i, error_class);
}

const char *stage_state_name(enum stage_state st)
{
	return stage_names[st];
}

const char *run_state_name(enum run_state st)
{
	return run_names[st];
}

void sched_init(struct sched *s, const struct swdl_workflow *wf, const struct swdl_dag *dag,
		size_t max_parallel, int64_t now, sched_condition_fn cond, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->wf = wf;
	s->dag = dag;
	s->st = xcalloc(wf->nr_stages ? wf->nr_stages : 1, sizeof(*s->st));
	s->max_parallel = max_parallel ? max_parallel : 1;
	s->started_at = now;
	s->workflow_deadline = wf->timeout.seconds > 0 ? now + wf->timeout.seconds : 0;
	s->condition = cond;
	s->ctx = ctx;
}

void sched_release(struct sched *s)
{
	free(s->st);
	s->st = NULL;
}

static bool is_final(enum run_state r)
{
	return r == RUN_COMPLETED || r == RUN_FAILED || r == RUN_CANCELLED;
}

/* on_failure: the stage's own when written, else the workflow's on_stage_failure. */
static enum on_failure failure_policy(const struct sched *s, size_t i)
{
	const struct swdl_stage *st = &s->wf->stages[i];
	if (node_map_get(node_map_get(st->node, "error_policy"), "on_failure"))
		return st->error_policy->on_failure;
	if (s->wf->has_error_policy && s->wf->on_stage_failure == ON_STAGE_FAILURE_CONTINUE)
		return ON_FAILURE_CONTINUE;
	return ON_FAILURE_HALT; /* halt, and rollback, which has nothing to undo yet */
}

/* Mark everything downstream of stage i, not yet started, to be skipped. */
static void skip_dependents(struct sched *s, size_t i)
{
	const struct swdl_dag *d = s->dag;
	size_t *todo = xmalloc(d->n * sizeof(*todo)), nr = 0;
	todo[nr++] = i;
	while (nr) {
		size_t u = todo[--nr];
		for (size_t k = d->succ_off[u]; k < d->succ_off[u + 1]; k++) {
			struct sched_stage *v = &s->st[d->succs[k]];
			if (v->state != STAGE_PENDING || v->skip_reason)
				continue;
			v->skip_reason = "dependency_failed";
			todo[nr++] = d->succs[k];
		}
	}
	free(todo);
}

static void fail_stage(struct sched *s, size_t i, const char *error_class)
{
	s->st[i].state = STAGE_FAILED;
	s->st[i].error_class = error_class;
	switch (failure_policy(s, i)) {
	case ON_FAILURE_CONTINUE:
		break;
	case ON_FAILURE_SKIP_DEPENDENTS:
		skip_dependents(s, i);
		break;
	case ON_FAILURE_HALT:
		if (s->run == RUN_RUNNING || s->run == RUN_PAUSED) {
			s->run = RUN_HALTING;
			s->fail_reason = s->wf->stages[i].id;
		}
		break;
	}
}

static bool retryable(const struct sched *s, size_t i, const char *error_class)
{
	const struct swdl_retry *r = s->wf->stages[i].error_policy->retry;
	if (!r || s->st[i].attempt - s->st[i].lost >= r->max_attempts)
		return false;
	/* Retrying cannot help these: the same input meets the same limit. */
	static const char *const never[] = { "budget_exceeded", "condition_error",
		"input_missing", "input_invalid", "runner_missing" };
	for (size_t k = 0; error_class && k < ARRAY_SIZE(never); k++)
		if (!strcmp(never[k], error_class))
			return false;
	/* A command's outputs are what its script wrote: the same run writes them again. */
	if (error_class && !strcmp(error_class, "output_invalid") &&
	    swdl_stage_is_command(&s->wf->stages[i]))
		return false;
	for (size_t k = 0; error_class && k < r->non_retryable_errors.nr; k++)
		if (!strcmp(r->non_retryable_errors.v[k], error_class))
			return false;
	return s->run == RUN_RUNNING || s->run == RUN_PAUSED;
}

/* min(initial * multiplier^(n-1), max_interval) after the n-th failure. */
static int64_t backoff(const struct swdl_retry *r, unsigned n)
{
	double d = (double)r->initial_interval.seconds;
	for (unsigned k = 1; k < n && d < (double)r->max_interval.seconds; k++)
		d *= r->backoff_multiplier;
	int64_t v = (int64_t)d;
	return v > r->max_interval.seconds ? r->max_interval.seconds : v;
}

void sched_finished(struct sched *s, size_t i, bool ok, const char *error_class, int64_t now)
{
	struct sched_stage *st = &s->st[i];
	if (st->state != STAGE_RUNNING)
		return;
	s->running--;
	st->kill_sent = false;
	if (ok) {
		st->state = STAGE_COMPLETED;
	} else if (s->run == RUN_CANCELLING) {
		st->state = STAGE_CANCELLED;
	} else if (retryable(s, i, error_class)) {
		st->state = STAGE_RETRY_WAIT;
		st->ready_at = now + backoff(s->wf->stages[i].error_policy->retry,
					     st->attempt - st->lost);
		st->error_class = error_class;
	} else {
		fail_stage(s, i, error_class ? error_class : "error");
	}
}

void sched_lost(struct sched *s, size_t i, int64_t now)
{
	struct sched_stage *st = &s->st[i];
	if (st->state != STAGE_RUNNING)
		return;
	s->running--;
	st->kill_sent = false;
	st->lost++;
	if (s->run == RUN_CANCELLING) {
		st->state = STAGE_CANCELLED;
	} else if (s->run == RUN_RUNNING || s->run == RUN_PAUSED) {
		st->state = STAGE_RETRY_WAIT;
		st->ready_at = now;
		st->error_class = "host_lost";
	} else {
		fail_stage(s, i, "host_lost"); /* halting: nothing new starts */
	}
}

void sched_gate(struct sched *s, size_t i, bool approved, int64_t now)
{
	UNUSED(now);
	if (s->st[i].state != STAGE_WAITING_APPROVAL)
		return;
	if (approved)
		s->st[i].state = STAGE_COMPLETED;
	else
		fail_stage(s, i, "gate_rejected");
}

void sched_cancel(struct sched *s)
{
	if (!is_final(s->run)) {
		s->run = RUN_CANCELLING;
		if (!s->fail_reason)
			s->fail_reason = "cancelled";
	}
}

void sched_pause(struct sched *s)
{
	if (s->run == RUN_RUNNING)
		s->run = RUN_PAUSED;
}

void sched_resume(struct sched *s)
{
	if (s->run == RUN_PAUSED)
		s->run = RUN_RUNNING;
}

static struct sched_action act(enum sched_action_kind k, size_t i, unsigned attempt,
			       const char *reason)
{
	return (struct sched_action){ k, i, attempt, reason };
}

/* Dependencies let stage i start: completed, skipped, or failed with continue. */
static bool deps_done(const struct sched *s, size_t i)
{
	const struct swdl_dag *d = s->dag;
	for (size_t k = d->pred_off[i]; k < d->pred_off[i + 1]; k++) {
		size_t p = d->preds[k];
		enum stage_state st = s->st[p].state;
		if (st == STAGE_COMPLETED || st == STAGE_SKIPPED)
			continue;
		if (st == STAGE_FAILED && failure_policy(s, p) == ON_FAILURE_CONTINUE)
			continue;
		return false;
	}
	return true;
}

/* Kills owed: timeouts, or everything when cancelling. */
static bool next_kill(struct sched *s, int64_t now, struct sched_action *a)
{
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		struct sched_stage *st = &s->st[i];
		if (st->state != STAGE_RUNNING || st->kill_sent)
			continue;
		bool cancel = s->run == RUN_CANCELLING;
		if (!cancel && !(st->deadline && now >= st->deadline))
			continue;
		st->kill_sent = true;
		*a = act(SA_KILL, i, st->attempt, cancel ? "cancelled" : "timeout");
		return true;
	}
	return false;
}

static bool next_gate_timeout(struct sched *s, int64_t now, struct sched_action *a)
{
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		struct sched_stage *st = &s->st[i];
		if (st->state != STAGE_WAITING_APPROVAL || now < st->deadline)
			continue;
		const struct swdl_gate *g = s->wf->stages[i].gate;
		enum on_timeout ot = g ? g->on_timeout : ON_TIMEOUT_HALT;
		if (ot == ON_TIMEOUT_AUTO_APPROVE) {
			st->state = STAGE_COMPLETED;
			*a = act(SA_GATE_DECIDED, i, 0, "auto_approved");
		} else if (ot == ON_TIMEOUT_REJECT) {
			fail_stage(s, i, "gate_timeout");
			*a = act(SA_GATE_DECIDED, i, 0, "rejected");
		} else {
			st->state = STAGE_FAILED;
			st->error_class = "gate_timeout";
			if (s->run == RUN_RUNNING || s->run == RUN_PAUSED) {
				s->run = RUN_HALTING;
				s->fail_reason = s->wf->stages[i].id;
			}
			*a = act(SA_GATE_DECIDED, i, 0, "halted");
		}
		return true;
	}
	return false;
}

static bool next_skip(struct sched *s, struct sched_action *a)
{
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		struct sched_stage *st = &s->st[i];
		if (st->state == STAGE_PENDING && st->skip_reason) {
			st->state = STAGE_SKIPPED;
			*a = act(SA_SKIP, i, 0, st->skip_reason);
			return true;
		}
	}
	return false;
}

/* The first stage (declaration order) that may begin now. */
static bool next_start(struct sched *s, int64_t now, struct sched_action *a)
{
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		struct sched_stage *st = &s->st[i];
		const struct swdl_stage *stage = &s->wf->stages[i];
		bool retry = st->state == STAGE_RETRY_WAIT && now >= st->ready_at;
		if (!retry && !(st->state == STAGE_PENDING && deps_done(s, i)))
			continue;
		if (!retry && stage->condition && s->condition) {
			bool run = true;
			if (s->condition(s->ctx, stage, &run)) {
				fail_stage(s, i, "condition_error");
				*a = act(SA_FAIL, i, 0, "condition_error");
				return true;
			}
			if (!run) {
				st->state = STAGE_SKIPPED;
				*a = act(SA_SKIP, i, 0, "condition_false");
				return true;
			}
		}
		if (stage->type == STAGE_GATE) {
			st->state = STAGE_WAITING_APPROVAL;
			st->deadline = now + (stage->gate ? stage->gate->timeout.seconds : 86400);
			*a = act(SA_AWAIT_APPROVAL, i, 0, NULL);
			return true;
		}
		if (s->running >= s->max_parallel)
			return false;
		st->state = STAGE_RUNNING;
		st->attempt++;
		st->kill_sent = false;
		int64_t t = stage->error_policy->timeout.seconds;
		st->deadline = t > 0 ? now + t : 0;
		s->running++;
		*a = act(SA_START, i, st->attempt, NULL);
		return true;
	}
	return false;
}

/* Nothing can happen any more: settle the stages left and the run. */
static bool next_finish(struct sched *s, struct sched_action *a)
{
	bool open = false, failed = false;
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		enum stage_state st = s->st[i].state;
		if (st == STAGE_RUNNING)
			return false;
		if (st == STAGE_WAITING_APPROVAL || st == STAGE_RETRY_WAIT || st == STAGE_PENDING)
			open = true;
		if (st == STAGE_FAILED && failure_policy(s, i) != ON_FAILURE_CONTINUE)
			failed = true;
	}
	/* Work left that may still run: not finished unless halting or cancelling. */
	if (open && (s->run == RUN_RUNNING || s->run == RUN_PAUSED))
		return false;
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		enum stage_state st = s->st[i].state;
		if (st == STAGE_PENDING || st == STAGE_RETRY_WAIT || st == STAGE_WAITING_APPROVAL)
			s->st[i].state = STAGE_CANCELLED;
	}
	if (s->run == RUN_CANCELLING)
		s->run = s->fail_reason && !strcmp(s->fail_reason, "workflow_timeout")
			 ? RUN_FAILED : RUN_CANCELLED;
	else
		s->run = failed || s->run == RUN_HALTING ? RUN_FAILED : RUN_COMPLETED;
	*a = act(SA_RUN_FINISHED, 0, 0, run_state_name(s->run));
	return true;
}

struct sched_action sched_next(struct sched *s, int64_t now)
{
	struct sched_action a = act(SA_NONE, 0, 0, NULL);
	if (is_final(s->run))
		return a;
	if (s->workflow_deadline && now >= s->workflow_deadline && s->run != RUN_CANCELLING) {
		s->run = RUN_CANCELLING;
		s->fail_reason = "workflow_timeout";
	}
	if (next_kill(s, now, &a) || next_gate_timeout(s, now, &a) || next_skip(s, &a))
		return a;
	if (s->run == RUN_RUNNING && next_start(s, now, &a))
		return a;
	next_finish(s, &a);
	return a;
}

int64_t sched_next_wakeup(const struct sched *s)
{
	int64_t t = -1;
	if (is_final(s->run))
		return -1;
#define EARLIER(x) do { if ((x) > 0 && (t < 0 || (x) < t)) t = (x); } while (0)
	EARLIER(s->workflow_deadline);
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		const struct sched_stage *st = &s->st[i];
		if (st->state == STAGE_RETRY_WAIT)
			EARLIER(st->ready_at);
		else if ((st->state == STAGE_RUNNING && !st->kill_sent) ||
			 st->state == STAGE_WAITING_APPROVAL)
			EARLIER(st->deadline);
	}
#undef EARLIER
	return t;
}
