/*
 * Unit tests: the server's connection table (src/server/conns.c) on real
 * sockets (socketpairs): who is dropped when a limit is passed, and that a
 * dropped connection's peer really sees its end.
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "server/conns.h"

#include <sys/socket.h>
#include <unistd.h>

#define N 16

struct fixture {
	struct conn_table t;
	int ours[N], peer[N];      /* ours: what the server holds; peer: the client's end */
	struct conn *c[N];
	size_t n;
};

static struct fixture *setup(size_t total, size_t per_address, size_t streams)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const struct conn_limits lim = { total, per_address, streams };
	conns_init(&f->t, &lim);
	return f;
}

/* Open connection number f->n from addr at time `at`; returns what was shut down. */
static int open_one(struct fixture *f, uint32_t addr, double at)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->ours[f->n] = sv[0];
	f->peer[f->n] = sv[1];
	int shut = conns_open(&f->t, sv[0], addr, at, &f->c[f->n]);
	f->n++;
	return shut;
}

/* The client's end reads end-of-file: the server shut the connection down. */
static bool peer_sees_end(struct fixture *f, size_t k)
{
	char b;
	return recv(f->peer[k], &b, 1, MSG_DONTWAIT) == 0;
}

static void teardown(struct fixture *f)
{
	for (size_t k = 0; k < f->n; k++) {
		conns_close(&f->t, f->c[k]);
		close(f->ours[k]);
		close(f->peer[k]);
	}
	conns_release(&f->t);
	free(f);
}

static void test_oldest_unauthenticated_goes_first(void **state)
{
	UNUSED(state);
	int shut;
	struct fixture *f = setup(3, 10, 4);
	assert_int_equal(open_one(f, 1, 1.0), -1);
	assert_int_equal(open_one(f, 1, 2.0), -1);
	assert_int_equal(open_one(f, 1, 3.0), -1);
	conns_authenticated(&f->t, f->c[0]); /* the oldest is a client's: it stays */
	shut = open_one(f, 1, 4.0);
	assert_int_equal(shut, f->ours[1]);
	assert_true(peer_sees_end(f, 1));
	assert_false(peer_sees_end(f, 0));
	assert_false(peer_sees_end(f, 3));
	assert_int_equal(f->t.live, 3);
	assert_int_equal(f->t.dropped, 1);
	teardown(f);
}

static void test_idle_goes_before_busy_and_streams(void **state)
{
	UNUSED(state);
	int shut;
	struct fixture *f = setup(3, 10, 4);
	for (int k = 0; k < 3; k++)
		open_one(f, 1, k);
	for (int k = 0; k < 3; k++)
		conns_authenticated(&f->t, f->c[k]);
	assert_true(conns_stream_take(&f->t, f->c[0]));
	conns_request_done(&f->t, f->c[2], 10.0); /* idle since 10 */
	/* c0 streams, c1 is busy, c2 idle: the idle one goes */
	shut = open_one(f, 1, 11.0);
	assert_int_equal(shut, f->ours[2]);
	/* now c0 streams, c1 busy, c3 new: c3 is the one without a request */
	shut = open_one(f, 1, 12.0);
	assert_int_equal(shut, f->ours[3]);
	conns_authenticated(&f->t, f->c[4]);
	/* nothing can go: the newcomer itself is refused */
	shut = open_one(f, 1, 13.0);
	assert_int_equal(shut, f->ours[5]);
	assert_true(peer_sees_end(f, 5));
	assert_int_equal(f->t.refused, 1);
	teardown(f);
}

static void test_a_request_not_yet_read_is_kept(void **state)
{
	UNUSED(state);
	int shut;
	struct fixture *f = setup(2, 10, 4);
	open_one(f, 1, 1.0);
	open_one(f, 1, 2.0);
	/* the oldest has sent its request, which no thread has read yet */
	assert_int_equal(send(f->peer[0], "GET / HTTP/1.1\r\n", 16, 0), 16);
	shut = open_one(f, 1, 3.0);
	assert_int_equal(shut, f->ours[1]);
	assert_false(peer_sees_end(f, 0));
	teardown(f);
}

static void test_per_address_limit_drops_that_address(void **state)
{
	UNUSED(state);
	int shut;
	struct fixture *f = setup(10, 2, 4);
	open_one(f, 7, 1.0);       /* another client, older */
	open_one(f, 9, 2.0);
	open_one(f, 9, 3.0);
	/* the third from address 9 pushes out 9's oldest, not 7's */
	shut = open_one(f, 9, 4.0);
	assert_int_equal(shut, f->ours[1]);
	assert_false(peer_sees_end(f, 0));
	teardown(f);
}

static void test_closed_connections_free_their_place(void **state)
{
	UNUSED(state);
	int shut;
	struct fixture *f = setup(2, 10, 4);
	open_one(f, 1, 1.0);
	open_one(f, 1, 2.0);
	conns_close(&f->t, f->c[0]);
	f->c[0] = NULL;
	assert_int_equal(open_one(f, 1, 3.0), -1);
	assert_int_equal(f->t.live, 2);
	/* a dropped one does not count twice when MHD closes it */
	shut = open_one(f, 1, 4.0);
	assert_int_equal(shut, f->ours[1]);
	conns_close(&f->t, f->c[1]);
	f->c[1] = NULL;
	assert_int_equal(f->t.live, 2);
	teardown(f);
}

static void test_streams_are_capped(void **state)
{
	UNUSED(state);
	struct fixture *f = setup(10, 10, 2);
	for (int k = 0; k < 3; k++)
		open_one(f, 1, k);
	assert_true(conns_stream_take(&f->t, f->c[0]));
	assert_true(conns_stream_take(&f->t, f->c[1]));
	assert_false(conns_stream_take(&f->t, f->c[2]));
	conns_stream_release(&f->t);
	assert_true(conns_stream_take(&f->t, f->c[2]));
	teardown(f);
}

/* A head that drips in is cut at the deadline counted from the opening,
 * not from its last byte; a request being served, or a client's, is not. */
static void test_head_deadline_is_total(void **state)
{
	UNUSED(state);
	struct fixture *f = setup(10, 10, 4);
	open_one(f, 1, 100.0);   /* drips: the table is not told of any request */
	open_one(f, 1, 100.0);   /* its head is in: a request runs */
	open_one(f, 1, 100.0);   /* a client's, idle */
	open_one(f, 1, 105.0);   /* younger */
	conns_request_started(&f->t, f->c[1]);
	conns_authenticated(&f->t, f->c[2]);
	conns_request_done(&f->t, f->c[2], 101.0);
	assert_int_equal(conns_sweep(&f->t, 109.0, 10), 0);
	assert_int_equal(conns_sweep(&f->t, 110.5, 10), 1);
	assert_true(peer_sees_end(f, 0));
	assert_false(peer_sees_end(f, 1));
	assert_false(peer_sees_end(f, 2));
	assert_false(peer_sees_end(f, 3));
	/* An unauthenticated request ended at 111: the next head counts from then. */
	conns_request_done(&f->t, f->c[1], 111.0);
	assert_int_equal(conns_sweep(&f->t, 116.0, 10), 1); /* only the younger one */
	assert_true(peer_sees_end(f, 3));
	assert_false(peer_sees_end(f, 1));
	assert_int_equal(conns_sweep(&f->t, 121.5, 10), 1);
	assert_true(peer_sees_end(f, 1));
	assert_int_equal(f->t.timed_out, 3);
	teardown(f);
}

/* The sweeper thread starts and stops with the table. */
static void test_sweeper_thread_stops(void **state)
{
	UNUSED(state);
	struct fixture *f = setup(10, 10, 4);
	assert_int_equal(conns_sweeper_start(&f->t, 10), 0);
	open_one(f, 1, 1.0); /* opened long ago: the sweeper's first pass drops it */
	for (int i = 0; i < 40 && !peer_sees_end(f, 0); i++)
		usleep(50000);
	assert_true(peer_sees_end(f, 0));
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oldest_unauthenticated_goes_first),
		cmocka_unit_test(test_idle_goes_before_busy_and_streams),
		cmocka_unit_test(test_a_request_not_yet_read_is_kept),
		cmocka_unit_test(test_per_address_limit_drops_that_address),
		cmocka_unit_test(test_closed_connections_free_their_place),
		cmocka_unit_test(test_streams_are_capped),
		cmocka_unit_test(test_head_deadline_is_total),
		cmocka_unit_test(test_sweeper_thread_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
