/*
 * conns.h - the server's connections, and the limits that keep room for
 * authenticated API calls when something opens connections by the
 * thousand (docs/web.md, "Limits").
 *
 * Every TCP connection is in the table from accept to close.  When a new
 * one would pass a limit (per client address, or in total), a connection
 * is dropped at once (its socket shut down, so MHD closes it): first the
 * one that has waited longest without sending an authenticated request
 * (unless bytes it sent wait unread: a request the server has not had the
 * time to read), then the longest-idle authenticated keep-alive
 * connection; a request in
 * progress and an event stream are never dropped, and when only those are
 * left the new connection itself is refused.  A real client sends its
 * request within milliseconds of connecting, so the connections that have
 * sat longest with nothing authenticated are the ones to go.  Event
 * streams are counted apart and capped.
 *
 * No MHD here: the table deals in socket descriptors, so it is tested on
 * its own (tests/unit/test-conns.c).
 */
#ifndef SM_SERVER_CONNS_H
#define SM_SERVER_CONNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conn_state {
	CONN_NEW,        /* no authenticated request yet */
	CONN_BUSY,       /* an authenticated request in progress */
	CONN_IDLE,       /* authenticated before, now waiting (keep-alive) */
	CONN_STREAM,     /* an event stream */
	CONN_DROPPED,    /* shut down by us; gone once MHD closes it */
};

struct conn {
	struct conn *prev, *next;
	int fd;
	uint32_t addr;           /* IPv4, network order */
	double since;            /* opened, or last became idle */
	enum conn_state state;
	bool in_request;         /* its head was read; the request runs */
};

struct conn_limits {
	size_t total;            /* connections at once */
	size_t per_address;      /* from one client address */
	size_t streams;          /* event streams at once (one token per server) */
};

struct conn_table {
	pthread_mutex_t lock;
	struct conn *head, *tail; /* in order of `since`: oldest first */
	struct conn_limits lim;
	size_t live, streams;
	uint64_t dropped, refused; /* for the log and the tests */
	uint64_t timed_out;        /* heads not in within the deadline */
	/* The head deadline's sweeper (conns_sweeper_start). */
	pthread_t sweeper;
	pthread_cond_t wake;
	bool sweeping, stop;
	double head_deadline;
};

void conns_init(struct conn_table *t, const struct conn_limits *lim);
void conns_release(struct conn_table *t);

/*
 * A connection was accepted: its entry (freed by conns_close).  Returns
 * the descriptor it shut down to keep within the limits (another's, or
 * fd itself when nothing could be dropped), or -1.
 */
int conns_open(struct conn_table *t, int fd, uint32_t addr, double now, struct conn **out);
void conns_close(struct conn_table *t, struct conn *c);

/*
 * A request head must be in within `deadline` seconds of the connection's
 * opening (or of its last request's end) however slowly it drips: MHD's
 * own timeout only counts silence.  conns_sweep shuts down every
 * unauthenticated connection past it whose head is not in; the sweeper
 * thread does so each half second until conns_release.
 */
size_t conns_sweep(struct conn_table *t, double now, double deadline);
int conns_sweeper_start(struct conn_table *t, double deadline);
/* A request's head was read (any request, with a token or not). */
void conns_request_started(struct conn_table *t, struct conn *c);

/* A request with a valid token arrived on it; it ended (the connection waits again). */
void conns_authenticated(struct conn_table *t, struct conn *c);
void conns_request_done(struct conn_table *t, struct conn *c, double now);

/* An event stream may start on c (false: at the limit); one ended. */
bool conns_stream_take(struct conn_table *t, struct conn *c);
void conns_stream_release(struct conn_table *t);

#endif
