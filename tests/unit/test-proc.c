/*
 * Unit tests: process supervision with real child processes (sh, cat).
 * No sleeps: every wait is a bounded poll loop.
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "supervise/proc.h"

#include <signal.h>
#include <time.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Conditions to poll for. */
static bool is_done(struct proc *p) { return proc_done(p); }
static bool is_ready(struct proc *p) { return p->out.buf && strstr(p->out.buf, "ready"); }
static bool group_gone(struct proc *p) { return !proc_group_alive(p); }

/* Poll until `cond` holds or `limit_ms` passes; returns whether it held. */
static bool poll_until(struct proc *p, bool (*cond)(struct proc *), int64_t limit_ms)
{
	struct proc *one[1] = { p };
	int64_t end = now_ms() + limit_ms;
	while (!cond(p) && now_ms() < end)
		proc_poll(one, 1, 50);
	return cond(p);
}

static void run_to_end(struct proc *p)
{
	assert_true(poll_until(p, is_done, 10000));
}

static void spawn(struct proc *p, const char *const *argv, const char *input)
{
	struct proc_spec spec = { argv, NULL, NULL, input, input ? strlen(input) : 0, 0, NULL, NULL };
	char *err = NULL;
	if (proc_spawn(p, &spec, &err))
		fail_msg("spawn: %s", err);
}

static void test_output_and_exit_code(void **state)
{
	(void)state;
	static const char *const argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct proc p;
	spawn(&p, argv, NULL);
	run_to_end(&p);
	assert_string_equal(p.out.buf, "out\n");
	assert_string_equal(p.err.buf, "err\n");
	assert_int_equal(p.exit_code, 3);
	assert_int_equal(p.term_signal, 0);
	proc_release(&p);
}

static void test_stdin_is_fed(void **state)
{
	(void)state;
	static const char *const argv[] = { "cat", NULL };
	struct proc p;
	spawn(&p, argv, "hello\nworld\n");
	run_to_end(&p);
	assert_string_equal(p.out.buf, "hello\nworld\n");
	assert_int_equal(p.exit_code, 0);
	proc_release(&p);
}

static void test_stdin_defaults_to_dev_null(void **state)
{
	(void)state;
	static const char *const argv[] = { "cat", NULL };
	struct proc p;
	spawn(&p, argv, NULL); /* would hang forever if stdin were inherited */
	run_to_end(&p);
	assert_int_equal(p.out.len, 0);
	proc_release(&p);
}

static void test_output_is_capped(void **state)
{
	(void)state;
	static const char *const argv[] = { "sh", "-c", "head -c 300000 /dev/zero", NULL };
	struct proc_spec spec = { argv, NULL, NULL, NULL, 0, 1000, NULL, NULL };
	struct proc p;
	char *err;
	assert_int_equal(proc_spawn(&p, &spec, &err), SM_OK);
	run_to_end(&p);
	assert_int_equal(p.out.len, 1000);
	assert_int_equal(p.out_dropped, 299000);
	proc_release(&p);
}

static void test_missing_program(void **state)
{
	(void)state;
	static const char *const argv[] = { "no-such-program-skillmeat-test", NULL };
	struct proc_spec spec = { argv, NULL, NULL, NULL, 0, 0, NULL, NULL };
	struct proc p;
	char *err = NULL;
	assert_int_equal(proc_spawn(&p, &spec, &err), SM_ERR);
	assert_non_null(strstr(err, "cannot start 'no-such-program-skillmeat-test'"));
	free(err);
}

static void test_killed_by_signal(void **state)
{
	(void)state;
	static const char *const argv[] = { "sh", "-c", "kill -TERM $$", NULL };
	struct proc p;
	spawn(&p, argv, NULL);
	run_to_end(&p);
	assert_int_equal(p.term_signal, SIGTERM);
	assert_int_equal(p.exit_code, 128 + SIGTERM);
	proc_release(&p);
}

static void test_group_kill_reaches_grandchildren(void **state)
{
	(void)state;
	static const char *const argv[] = { "sh", "-c",
		"sleep 300 & sleep 300 & echo ready; wait", NULL };
	struct proc p;
	spawn(&p, argv, NULL);
	assert_true(poll_until(&p, is_ready, 10000));
	assert_true(proc_group_alive(&p));
	assert_int_equal(proc_signal_group(&p, SIGTERM), SM_OK);
	run_to_end(&p); /* the pipes close only when the sleeps are gone too */
	assert_true(poll_until(&p, group_gone, 10000));
	proc_release(&p);
}

static void test_term_ignored_then_kill(void **state)
{
	(void)state;
	/* An ignored signal is inherited: TERM reaches no one, KILL reaches all. */
	static const char *const argv[] = { "sh", "-c",
		"trap '' TERM; sleep 300 & echo ready; wait", NULL };
	struct proc p;
	spawn(&p, argv, NULL);
	assert_true(poll_until(&p, is_ready, 10000));
	proc_signal_group(&p, SIGTERM);
	assert_false(poll_until(&p, is_done, 300));
	proc_signal_group(&p, SIGKILL);
	run_to_end(&p);
	assert_int_equal(p.term_signal, SIGKILL);
	/* orphaned members may linger as zombies until init reaps them */
	assert_true(poll_until(&p, group_gone, 10000));
	proc_release(&p);
}

/* What our descriptor `fd` refers to ("pipe:[1234]", "anon_inode:[pidfd]"). */
static void fd_target(int fd, char *buf, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void test_no_descriptor_leaks(void **state)
{
	(void)state;
	/* A child must hold none of the descriptors this library opened: not
	 * another child's pipes or pidfd, nor the parent ends of its own.
	 * Numbers can coincide, so compare what the descriptors refer to. */
	static const char *const first_argv[] = { "sh", "-c", "echo x; exec sleep 30", NULL };
	static const char *const argv[] = { "sh", "-c", "ls -l /proc/$$/fd", NULL };
	struct proc first, p;
	spawn(&first, first_argv, NULL);
	spawn(&p, argv, "some input");
	/* Another child's descriptors and our pidfd must not be there at all;
	 * the child's own pipes only once each, as its 0, 1 or 2. */
	int ours[] = { first.pidfd, first.out_fd, first.err_fd, p.pidfd, p.out_fd, p.err_fd,
		       p.in_fd };
	int allowed[] = { 0, 0, 0, 0, 1, 1, 1 };
	char targets[ARRAY_SIZE(ours)][128];
	for (size_t k = 0; k < ARRAY_SIZE(ours); k++)
		fd_target(ours[k], targets[k], sizeof(targets[k]));
	run_to_end(&p);
	assert_non_null(strstr(p.out.buf, " 0 -> ")); /* it did list its table */
	for (size_t k = 0; k < ARRAY_SIZE(ours); k++) {
		if (!*targets[k])
			continue;
		char *needle = xasprintf("-> %s\n", targets[k]);
		int seen = 0;
		for (const char *q = p.out.buf; (q = strstr(q, needle)); q++)
			seen++;
		free(needle);
		if (seen > allowed[k])
			fail_msg("child holds our descriptor %d (%s) %d times:\n%s", ours[k],
				 targets[k], seen, p.out.buf);
	}
	proc_release(&p);
	proc_signal_group(&first, SIGKILL);
	run_to_end(&first);
	proc_release(&first);
}

static void on_data(void *ctx, struct proc *p, int stream, const char *data, size_t len)
{
	(void)p;
	size_t *seen = ctx;
	seen[stream] += len;
	(void)data;
}

static void test_data_callback_sees_everything(void **state)
{
	(void)state;
	static const char *const argv[] = { "sh", "-c", "head -c 5000 /dev/zero; echo e >&2", NULL };
	size_t seen[3] = { 0, 0, 0 };
	struct proc_spec spec = { argv, NULL, NULL, NULL, 0, 100, on_data, seen };
	struct proc p;
	char *err;
	assert_int_equal(proc_spawn(&p, &spec, &err), SM_OK);
	run_to_end(&p);
	assert_int_equal(seen[1], 5000); /* the callback sees what the cap drops */
	assert_int_equal(seen[2], 2);
	assert_int_equal(p.out.len, 100);
	proc_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_exit_code),
		cmocka_unit_test(test_stdin_is_fed),
		cmocka_unit_test(test_stdin_defaults_to_dev_null),
		cmocka_unit_test(test_output_is_capped),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_group_kill_reaches_grandchildren),
		cmocka_unit_test(test_term_ignored_then_kill),
		cmocka_unit_test(test_no_descriptor_leaks),
		cmocka_unit_test(test_data_callback_sees_everything),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
