#include "../base/compat.h"
#include "scheduler.h"
#include "../base/numconv.h"


static const char *const stage_names[] = { "pending", "retry_wait", "running",
	"waiting_for_approval", "completed", "failed", "skipped", "cancelled" };
static const char *const run_names[] = { "running", "paused", "halting", "cancelling",
	"completed", "failed", "cancelled" };

int stage_state_from_name(const char *name)
{
	/* A re-run's reused stage is done: dependents see it as just completed. */
	if (!strcmp(name, "reused"))
		return STAGE_COMPLETED;
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
	bool counts = s->wf->stages[i].type != STAGE_FAN_OUT; /* its items count */
	if (st->state == STAGE_RUNNING && counts)
		s->running--;
	st->state = state;
	st->attempt = attempt;
	st->ready_at = ready_at;
	st->deadline = deadline;
	st->error_class = error_class;
	if (state == STAGE_RUNNING && counts)
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
	for (size_t i = 0; s->st && i < s->wf->nr_stages; i++)
		free(s->st[i].items);
	free(s->st);
	s->st = NULL;
}

static bool is_final(enum run_state r)
{
	return r == RUN_COMPLETED || r == RUN_FAILED || r == RUN_CANCELLED;
}

static enum on_failure failure_policy(const struct sched *s, size_t i)
{
	return swdl_stage_on_failure(s->wf, &s->wf->stages[i]);
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

bool sched_class_retryable(const struct sched *s, size_t i, const char *error_class)
{
	const struct swdl_retry *r = s->wf->stages[i].error_policy->retry;
	/* Retrying cannot help these: the same input meets the same limit. */
	static const char *const never[] = { "budget_exceeded", "condition_error",
		"input_missing", "input_invalid", "runner_missing", "fan_out_items",
		/* the agent CLI's account or setup: the next attempt meets the same */
		"auth_error", "billing_error", "config_error", "model_not_found", "input_error",
		"output_limit" };
	for (size_t k = 0; error_class && k < ARRAY_SIZE(never); k++)
		if (!strcmp(never[k], error_class))
			return false;
	/* A command's outputs are what its script wrote: the same run writes them again. */
	if (error_class && (!strcmp(error_class, "output_invalid") ||
			    !strcmp(error_class, "output_contract")) &&
	    swdl_stage_is_command(&s->wf->stages[i]))
		return false;
	for (size_t k = 0; r && error_class && k < r->non_retryable_errors.nr; k++)
		if (!strcmp(r->non_retryable_errors.v[k], error_class))
			return false;
	return true;
}

/* May stage i (or one of its items) try again after `tries` attempts counted? */
static bool retryable(const struct sched *s, size_t i, unsigned tries, const char *error_class)
{
	const struct swdl_retry *r = s->wf->stages[i].error_policy->retry;
	if (!r || tries >= r->max_attempts || s->single_attempt)
		return false;
	if (!sched_class_retryable(s, i, error_class))
		return false;
	return s->run == RUN_RUNNING || s->run == RUN_PAUSED;
}

/* min(initial * multiplier^(n-1), max_interval) after the n-th failure. */
static int64_t backoff(const struct swdl_retry *r, unsigned n)
{
	double d = (double)r->initial_interval.seconds;
	for (unsigned k = 1; k < n && d < (double)r->max_interval.seconds; k++)
		d *= r->backoff_multiplier;
	int64_t v = num_to_i64(d);
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
	} else if (retryable(s, i, st->attempt - st->lost - st->waived, error_class)) {
		st->state = STAGE_RETRY_WAIT;
		st->ready_at = now + backoff(s->wf->stages[i].error_policy->retry,
					     st->attempt - st->lost - st->waived);
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

/* ---- fan-out items ---------------------------------------------------------------- */

/* fail_fast and an item failed for good: the stage's other items stop. */
static bool items_stopped(const struct sched *s, size_t i)
{
	const struct swdl_fan_out *f = s->wf->stages[i].fan_out;
	return s->st[i].error_class && (!f || f->on_item_failure == ON_ITEM_FAIL_FAST);
}

/* The stage ends once no item runs and none will start. */
static void settle_fan_out(struct sched *s, size_t i)
{
	struct sched_stage *st = &s->st[i];
	if (st->state != STAGE_RUNNING || st->items_running)
		return;
	bool stop = s->run != RUN_RUNNING && s->run != RUN_PAUSED;
	size_t open = 0, done = 0, failed = 0;
	for (size_t k = 0; k < st->nr_items; k++) {
		enum stage_state is = st->items[k].state;
		open += is == STAGE_PENDING || is == STAGE_RETRY_WAIT;
		done += is == STAGE_COMPLETED;
		failed += is == STAGE_FAILED;
	}
	if (open && !stop && !items_stopped(s, i))
		return;
	for (size_t k = 0; k < st->nr_items; k++)
		if (st->items[k].state == STAGE_PENDING || st->items[k].state == STAGE_RETRY_WAIT)
			st->items[k].state = STAGE_CANCELLED;
	if (s->run == RUN_CANCELLING)
		st->state = STAGE_CANCELLED;
	else if (failed && (items_stopped(s, i) || !done))
		fail_stage(s, i, st->error_class ? st->error_class : "item_failed");
	else if (open)
		st->state = STAGE_CANCELLED; /* halting: the rest never started */
	else
		st->state = STAGE_COMPLETED;
}

static struct sched_item *running_item(struct sched *s, size_t i, size_t k)
{
	struct sched_stage *st = &s->st[i];
	if (st->state != STAGE_RUNNING || k >= st->nr_items ||
	    st->items[k].state != STAGE_RUNNING)
		return NULL;
	s->running--;
	st->items_running--;
	st->items[k].kill_sent = false;
	return &st->items[k];
}

static void item_failed(struct sched *s, size_t i, struct sched_item *it, const char *cls)
{
	it->state = STAGE_FAILED;
	it->error_class = cls ? cls : "error";
	if (!s->st[i].error_class)
		s->st[i].error_class = it->error_class;
}

void sched_item_finished(struct sched *s, size_t i, size_t k, bool ok, const char *error_class,
			 int64_t now)
{
	struct sched_item *it = running_item(s, i, k);
	if (!it)
		return;
	if (ok) {
		it->state = STAGE_COMPLETED;
	} else if (s->run == RUN_CANCELLING || items_stopped(s, i)) {
		it->state = STAGE_CANCELLED;
	} else if (retryable(s, i, it->tries - it->lost - it->waived, error_class)) {
		it->state = STAGE_RETRY_WAIT;
		it->ready_at = now + backoff(s->wf->stages[i].error_policy->retry,
					     it->tries - it->lost - it->waived);
		it->error_class = error_class;
	} else {
		item_failed(s, i, it, error_class);
	}
	settle_fan_out(s, i);
}

void sched_item_lost(struct sched *s, size_t i, size_t k, int64_t now)
{
	struct sched_item *it = running_item(s, i, k);
	if (!it)
		return;
	it->lost++;
	if (s->run == RUN_CANCELLING || items_stopped(s, i)) {
		it->state = STAGE_CANCELLED;
	} else if (s->run == RUN_RUNNING || s->run == RUN_PAUSED) {
		it->state = STAGE_RETRY_WAIT;
		it->ready_at = now;
		it->error_class = "host_lost";
	} else {
		item_failed(s, i, it, "host_lost");
	}
	settle_fan_out(s, i);
}

void sched_restore_items(struct sched *s, size_t i, size_t n)
{
	struct sched_stage *st = &s->st[i];
	free(st->items);
	st->items = xcalloc(n ? n : 1, sizeof(*st->items));
	st->nr_items = n;
	st->items_running = 0;
}

void sched_restore_item(struct sched *s, size_t i, size_t k, enum stage_state state,
			unsigned tries, unsigned lost, unsigned attempt, int64_t ready_at,
			int64_t deadline, const char *error_class)
{
	struct sched_stage *st = &s->st[i];
	if (k >= st->nr_items)
		return;
	struct sched_item *it = &st->items[k];
	*it = (struct sched_item){ state, tries, lost, attempt, ready_at, deadline, false,
				   error_class };
	if (state == STAGE_RUNNING) {
		s->running++;
		st->items_running++;
	}
	if (state == STAGE_FAILED && !st->error_class)
		st->error_class = error_class;
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
	return (struct sched_action){ k, i, attempt, reason, -1 };
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

/* A fan-out's items owed a stop: timed out, cancelled, or fail_fast. */
static bool next_item_kill(struct sched *s, size_t i, int64_t now, struct sched_action *a)
{
	struct sched_stage *st = &s->st[i];
	bool cancel = s->run == RUN_CANCELLING, stop = items_stopped(s, i);
	for (size_t k = 0; k < st->nr_items; k++) {
		struct sched_item *it = &st->items[k];
		if (it->state != STAGE_RUNNING || it->kill_sent)
			continue;
		if (!cancel && !stop && !(it->deadline && now >= it->deadline))
			continue;
		it->kill_sent = true;
		*a = act(SA_KILL, i, it->attempt, cancel ? "cancelled" : stop ? "fail_fast"
			 : "timeout");
		a->item = (int)k;
		return true;
	}
	return false;
}

/* Kills owed: timeouts, or everything when cancelling. */
static bool next_kill(struct sched *s, int64_t now, struct sched_action *a)
{
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		struct sched_stage *st = &s->st[i];
		if (st->state == STAGE_RUNNING && st->items && next_item_kill(s, i, now, a))
			return true;
		if (st->state != STAGE_RUNNING || st->kill_sent || st->items)
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

/* The stage's item list is known now: its items start as slots allow. */
static void expand(struct sched *s, size_t i, struct sched_action *a)
{
	struct sched_stage *st = &s->st[i];
	size_t n = 0;
	const char *cls = "fan_out_items";
	if (!s->items || s->items(s->ctx, &s->wf->stages[i], &n, &cls)) {
		fail_stage(s, i, cls);
		*a = act(SA_FAIL, i, 0, cls);
		return;
	}
	st->state = STAGE_RUNNING;
	st->error_class = NULL;
	sched_restore_items(s, i, n);
	settle_fan_out(s, i); /* no items: done at once */
	*a = act(SA_EXPAND, i, 0, NULL);
}

/* The next item of running fan-out stage i to start; -1: none may, 0: none here. */
static int next_item(struct sched *s, size_t i, int64_t now, struct sched_action *a)
{
	struct sched_stage *st = &s->st[i];
	const struct swdl_fan_out *f = s->wf->stages[i].fan_out;
	if (items_stopped(s, i))
		return 0;
	for (size_t k = 0; k < st->nr_items; k++) {
		struct sched_item *it = &st->items[k];
		if (it->state != STAGE_PENDING && !(it->state == STAGE_RETRY_WAIT &&
						    now >= it->ready_at))
			continue;
		if (s->running >= s->max_parallel)
			return -1;
		if (f && f->max_parallel > 0 && st->items_running >= (unsigned)f->max_parallel)
			return 0;
		it->state = STAGE_RUNNING;
		it->tries++;
		it->attempt = ++st->attempt;
		it->kill_sent = false;
		int64_t t = s->wf->stages[i].error_policy->timeout.seconds;
		it->deadline = t > 0 ? now + t : 0;
		s->running++;
		st->items_running++;
		*a = act(SA_START, i, it->attempt, NULL);
		a->item = (int)k;
		return 1;
	}
	return 0;
}

/* The first stage (declaration order) that may begin now. */
static bool next_start(struct sched *s, int64_t now, struct sched_action *a)
{
	for (size_t i = 0; i < s->wf->nr_stages; i++) {
		struct sched_stage *st = &s->st[i];
		const struct swdl_stage *stage = &s->wf->stages[i];
		if (st->state == STAGE_RUNNING && st->items) {
			int r = next_item(s, i, now, a);
			if (r)
				return r > 0;
			continue;
		}
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
		if (stage->type == STAGE_FAN_OUT) {
			expand(s, i, a);
			return true;
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
	for (size_t i = 0; i < s->wf->nr_stages; i++)
		if (s->st[i].items)
			settle_fan_out(s, i); /* halting or cancelling: items not started never will */
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
		for (size_t k = 0; st->state == STAGE_RUNNING && k < st->nr_items; k++) {
			const struct sched_item *it = &st->items[k];
			if (it->state == STAGE_RETRY_WAIT)
				EARLIER(it->ready_at);
			else if (it->state == STAGE_RUNNING && !it->kill_sent)
				EARLIER(it->deadline);
		}
		if (st->items)
			continue;
		if (st->state == STAGE_RETRY_WAIT)
			EARLIER(st->ready_at);
		else if ((st->state == STAGE_RUNNING && !st->kill_sent) ||
			 st->state == STAGE_WAITING_APPROVAL)
			EARLIER(st->deadline);
	}
#undef EARLIER
	return t;
}

/* ---- rate limits ------------------------------------------------------------------ */

/* How long a rate-limited attempt waits: until the reset, else its backoff; -1: too long. */
static int64_t rate_wait(const struct sched *s, size_t i, unsigned tries, int64_t retry_at,
			 int64_t now)
{
	const struct swdl_retry *r = s->wf->stages[i].error_policy->retry;
	int64_t wait = retry_at > now ? retry_at - now : r ? backoff(r, tries ? tries : 1) : 60;
	return wait > s->rate_limit_max_wait ? -1 : wait;
}

bool sched_rate_limited(struct sched *s, size_t i, int item, int64_t retry_at, int64_t now)
{
	struct sched_stage *st = &s->st[i];
	if (st->state != STAGE_RUNNING || s->single_attempt ||
	    (s->run != RUN_RUNNING && s->run != RUN_PAUSED))
		return false;
	if (item < 0) {
		int64_t wait = rate_wait(s, i, st->waived + 1, retry_at, now);
		if (st->waived >= s->rate_limit_retries || wait < 0)
			return false;
		s->running--;
		st->kill_sent = false;
		st->waived++;
		st->state = STAGE_RETRY_WAIT;
		st->ready_at = now + wait;
		st->error_class = "rate_limited";
		return true;
	}
	if ((size_t)item >= st->nr_items || st->items[item].state != STAGE_RUNNING ||
	    items_stopped(s, i))
		return false;
	struct sched_item *it = &st->items[item];
	int64_t wait = rate_wait(s, i, it->waived + 1, retry_at, now);
	if (it->waived >= s->rate_limit_retries || wait < 0)
		return false;
	running_item(s, i, (size_t)item);
	it->waived++;
	it->state = STAGE_RETRY_WAIT;
	it->ready_at = now + wait;
	it->error_class = "rate_limited";
	return true;
}
