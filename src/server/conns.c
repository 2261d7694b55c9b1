#include "../base/compat.h"
#include "conns.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

void conns_init(struct conn_table *t, const struct conn_limits *lim)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	t->lim = *lim;
}

void conns_release(struct conn_table *t)
{
	if (t->sweeping) {
		pthread_mutex_lock(&t->lock);
		t->stop = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->sweeper, NULL);
	}
	pthread_cond_destroy(&t->wake);
	for (struct conn *c = t->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	pthread_mutex_destroy(&t->lock);
}

/* Bytes the client sent that the server has not read yet: its request, waiting for a thread. */
static bool unread_request(const struct conn *c)
{
	int n = 0;
	return ioctl(c->fd, FIONREAD, &n) == 0 && n > 0;
}

static bool droppable_in(const struct conn *c, enum conn_state st, const uint32_t *addr)
{
	return c->state == st && (!addr || c->addr == *addr) &&
	       (st != CONN_NEW || !unread_request(c));
}

/*
 * The connection to drop for a newcomer (not it): the longest-waiting new
 * one that has sent nothing we have not read (under a flood the server may
 * not have had the time to read a real client's request: that one stays),
 * then the longest-idle one.
 */
static struct conn *victim(struct conn_table *t, const struct conn *newcomer,
			   const uint32_t *addr)
{
	static const enum conn_state order[] = { CONN_NEW, CONN_IDLE };
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		struct conn *best = NULL;
		for (struct conn *c = t->head; c; c = c->next)
			if (c != newcomer && droppable_in(c, order[k], addr) &&
			    (!best || c->since < best->since))
				best = c;
		if (best)
			return best;
	}
	return NULL;
}

static size_t live_from(const struct conn_table *t, uint32_t addr)
{
	size_t n = 0;
	for (const struct conn *c = t->head; c; c = c->next)
		n += c->addr == addr && c->state != CONN_DROPPED;
	return n;
}

/* Shut down under the lock: MHD closes a descriptor only after conns_close. */
static int drop(struct conn_table *t, struct conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	c->state = CONN_DROPPED;
	t->live--;
	return c->fd;
}

int conns_open(struct conn_table *t, int fd, uint32_t addr, double now, struct conn **out)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	int shut = -1;
	*c = (struct conn){ .fd = fd, .addr = addr, .since = now, .state = CONN_NEW };
	pthread_mutex_lock(&t->lock);
	c->prev = t->tail;
	if (t->tail)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
	t->live++;
	bool per_address = live_from(t, addr) > t->lim.per_address;
	if (per_address || t->live > t->lim.total) {
		struct conn *v = victim(t, c, per_address ? &addr : NULL);
		if (v) {
			shut = drop(t, v);
			t->dropped++;
		} else {
			shut = drop(t, c);
			t->refused++;
		}
	}
	pthread_mutex_unlock(&t->lock);
	*out = c;
	return shut;
}

void conns_close(struct conn_table *t, struct conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	if (c->state != CONN_DROPPED)
		t->live--;
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		t->tail = c->prev;
	pthread_mutex_unlock(&t->lock);
	free(c);
}

/* The clock http.c stamps connections with (store_now: wall time). */
static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t conns_sweep(struct conn_table *t, double now, double deadline)
{
	size_t n = 0;
	pthread_mutex_lock(&t->lock);
	for (struct conn *c = t->head; c; c = c->next)
		if (c->state == CONN_NEW && !c->in_request && now - c->since > deadline) {
			drop(t, c);
			n++;
		}
	t->timed_out += n;
	pthread_mutex_unlock(&t->lock);
	return n;
}

static void *sweeper(void *arg)
{
	struct conn_table *t = arg;
	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 500000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->wake, &t->lock, &ts);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->lock);
		conns_sweep(t, wall_now(), t->head_deadline);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int conns_sweeper_start(struct conn_table *t, double deadline)
{
	t->head_deadline = deadline;
	if (pthread_create(&t->sweeper, NULL, sweeper, t))
		return -1;
	t->sweeping = true;
	return 0;
}

void conns_request_started(struct conn_table *t, struct conn *c)
{
	pthread_mutex_lock(&t->lock);
	c->in_request = true;
	pthread_mutex_unlock(&t->lock);
}

void conns_authenticated(struct conn_table *t, struct conn *c)
{
	pthread_mutex_lock(&t->lock);
	if (c->state == CONN_NEW || c->state == CONN_IDLE)
		c->state = CONN_BUSY;
	pthread_mutex_unlock(&t->lock);
}

void conns_request_done(struct conn_table *t, struct conn *c, double now)
{
	pthread_mutex_lock(&t->lock);
	c->in_request = false;
	if (c->state == CONN_BUSY)
		c->state = CONN_IDLE;
	if (c->state == CONN_IDLE || c->state == CONN_NEW)
		c->since = now; /* the next head's deadline counts from here */
	pthread_mutex_unlock(&t->lock);
}

bool conns_stream_take(struct conn_table *t, struct conn *c)
{
	pthread_mutex_lock(&t->lock);
	bool ok = t->streams < t->lim.streams;
	if (ok) {
		t->streams++;
		if (c && c->state != CONN_DROPPED)
			c->state = CONN_STREAM;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void conns_stream_release(struct conn_table *t)
{
	pthread_mutex_lock(&t->lock);
	if (t->streams)
		t->streams--;
	pthread_mutex_unlock(&t->lock);
}
