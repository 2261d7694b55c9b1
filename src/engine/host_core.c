/*
 * host_core.c - what the loop (host.c) and its parts (host_attempt.c,
 * host_fan_out.c, host_handoff.c, ...) all record through: events and the
 * run's and stages' rows.  It calls the store and the scheduler's state
 * only, never the loop or a part, so the host's files call one way.
 */
#include "../base/compat.h"
#include "host_int.h"
#include "../base/numconv.h"

#include <time.h>

void host_event(struct host *h, const char *type, const char *stage_id, int attempt,
		  json_t *data)
{
	if (!data)
		data = json_object();
	store_event(h->st, h->run_id, type, stage_id, attempt, data, NULL);
	/* An attempt's end event carries its own duration (the monitor's end): the rows too. */
	json_t *secs = json_object_get(data, "duration_seconds");
	if (stage_id && attempt > 0 && json_is_number(secs) && (!strcmp(type, "stage_completed") ||
	    !strcmp(type, "stage_failed") || !strcmp(type, "item_completed") ||
	    !strcmp(type, "item_failed")))
		store_attempt_duration(h->st, h->run_id, stage_id, attempt, json_number_value(secs));
	if (h->o->on_event)
		h->o->on_event(h->o->ctx, type, stage_id, attempt, data);
	json_decref(data);
}

json_t *host_json_time(int64_t t)
{
	time_t tt = num_to_time((double)t);
	struct tm tm;
	char buf[32] = "";
	if (gmtime_r(&tt, &tm))
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

const char *host_stage_id(const struct host *h, size_t i)
{
	return h->wf->stages[i].id;
}

void host_ctx_stage(struct host *h, size_t i, const char *status, json_t *outputs)
{
	json_t *e = json_object_get(h->stage_ctx, host_stage_id(h, i));
	json_object_set_new(e, "status", json_string(status));
	if (outputs)
		json_object_set(e, "outputs", outputs);
}

int host_persist_stage(struct host *h, size_t i, const char *error, const char *outputs)
{
	const struct sched_stage *ss = &h->sched.st[i];
	bool final = ss->state == STAGE_COMPLETED || ss->state == STAGE_FAILED ||
		     ss->state == STAGE_SKIPPED || ss->state == STAGE_CANCELLED;
	struct stage_row row = { stage_state_name(ss->state), (int)ss->attempt,
		ss->state == STAGE_RUNNING && ss->attempt == 1 ? store_now() : 0,
		final ? store_now() : 0,
		ss->state == STAGE_RETRY_WAIT ? (double)ss->ready_at : 0,
		ss->state == STAGE_RUNNING || ss->state == STAGE_WAITING_APPROVAL
			? (double)ss->deadline : 0,
		ss->state == STAGE_FAILED || ss->state == STAGE_RETRY_WAIT ? ss->error_class : NULL,
		error, outputs };
	return store_stage_update(h->st, h->run_id, host_stage_id(h, i), &row);
}

void host_persist_run(struct host *h)
{
	store_run_status(h->st, h->run_id, run_state_name(h->sched.run), h->sched.fail_reason);
}
