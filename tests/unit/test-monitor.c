/*
 * Unit tests: attempts under monitors (supervise/monitor.h) with real
 * processes: exit and output through files, stdin from a file, signals to
 * the whole group, adoption of live and ended attempts, a stale pid never
 * adopted, no descriptor of ours in the program.  Every wait is bounded.
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "supervise/monitor.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct fixture {
	char dir[64];
	struct strbuf out, err;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sm-monitor-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strbuf_init(&f->out, 0);
	strbuf_init(&f->err, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fs_remove_tree(f->dir);
	strbuf_release(&f->out);
	strbuf_release(&f->err);
	free(f);
	return 0;
}

static void collect(void *ctx, int stream, const char *data, size_t len)
{
	struct fixture *f = ctx;
	strbuf_add(stream == 1 ? &f->out : &f->err, data, len);
}

static void start(struct fixture *f, struct attempt *a, const char *script, const char *in)
{
	const char *argv[] = { "sh", "-c", script, NULL };
	struct attempt_spec spec = { f->dir, argv, (const char *const *)environ, NULL, in };
	char *err = NULL;
	if (attempt_start(a, &spec, &err))
		fail_msg("attempt_start: %s", err);
}

/* Wait (at most 10 s) for the monitor to go; then read all of the logs. */
static void wait_end(struct fixture *f, struct attempt *a)
{
	for (int i = 0; i < 1000 && !attempt_check_ended(a); i++)
		poll(NULL, 0, 10);
	assert_true(a->ended);
	const int64_t all[2] = { -1, -1 };
	assert_int_equal(attempt_follow(a, collect, f, all), 0);
}

static void test_exit_and_output_through_files(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	start(f, &a, "echo out; echo err >&2; exit 3", NULL);
	assert_true(a.own);
	wait_end(f, &a);
	assert_true(a.has_exit);
	assert_int_equal(a.exit_code, 3);
	assert_int_equal(a.term_signal, 0);
	assert_true(a.finished_at > 1e9);
	assert_string_equal(f->out.buf, "out\n");
	assert_string_equal(f->err.buf, "err\n");
	assert_int_equal(a.off[0], 4);
	assert_true(a.child > 0);
	attempt_release(&a);
}

static void test_stdin_from_a_file(void **state)
{
	struct fixture *f = *state;
	char *in = path_join(f->dir, "prompt.md");
	assert_int_equal(fs_write_file(in, "the prompt\n", 11), SM_OK);
	struct attempt a;
	start(f, &a, "cat", in);
	wait_end(f, &a);
	assert_string_equal(f->out.buf, "the prompt\n");
	attempt_release(&a);
	start(f, &a, "cat; echo end", NULL); /* NULL: /dev/null */
	strbuf_reset(&f->out);
	wait_end(f, &a);
	assert_string_equal(f->out.buf, "end\n");
	attempt_release(&a);
	free(in);
}

static void test_signal_group_and_adopt(void **state)
{
	struct fixture *f = *state;
	struct attempt a, b;
	start(f, &a, "sleep 30 & sleep 30", NULL);
	assert_int_equal(attempt_adopt(&b, f->dir), ATTEMPT_LIVE); /* another host's view */
	assert_false(b.own);
	int r = SM_ENOENT;
	for (int i = 0; i < 500 && r == SM_ENOENT; i++, poll(NULL, 0, 10))
		r = attempt_signal(&b, SIGTERM);
	assert_int_equal(r, SM_OK);
	wait_end(f, &b);
	assert_int_equal(b.exit_code, 128 + SIGTERM);
	assert_int_equal(b.term_signal, SIGTERM);
	wait_end(f, &a); /* our own monitor: reaped */
	attempt_release(&a);
	attempt_release(&b);
	assert_int_equal(attempt_adopt(&b, f->dir), ATTEMPT_EXITED);
	assert_true(b.has_exit);
	assert_int_equal(b.exit_code, 128 + SIGTERM);
	attempt_release(&b);
}

static void test_stale_pid_is_lost_and_untouched(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "sleep", "30", NULL };
	pid_t other;
	assert_int_equal(posix_spawnp(&other, "sleep", NULL, NULL, (char *const *)argv, environ), 0);
	char *lock = path_join(f->dir, "monitor.lock"), *mon = path_join(f->dir, "monitor");
	char *text = xasprintf("{\"monitor_pid\": %d, \"monitor_start\": 1, \"child_pid\": %d, "
			       "\"child_start\": 1}\n", (int)other, (int)other);
	assert_int_equal(fs_write_file(lock, "", 0), SM_OK);
	assert_int_equal(fs_write_file(mon, text, strlen(text)), SM_OK);
	struct attempt a;
	assert_int_equal(attempt_adopt(&a, f->dir), ATTEMPT_LOST);
	assert_int_equal(a.monitor, 0); /* the start time did not match: not ours */
	assert_int_equal(kill(other, 0), 0);
	attempt_release(&a);
	assert_true(proc_start_time(other) > 0);
	assert_true(proc_start_time(other) != 1);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	assert_int_equal(proc_start_time(other), 0);
	free(lock);
	free(mon);
	free(text);
}

static void test_nothing_started_is_lost(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	assert_int_equal(attempt_adopt(&a, f->dir), ATTEMPT_LOST); /* no lock file at all */
	attempt_release(&a);
}

static void test_missing_program_and_directory(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "no-such-program-3141", NULL };
	struct attempt_spec spec = { f->dir, argv, (const char *const *)environ, NULL, NULL };
	struct attempt a;
	char *err = NULL;
	assert_int_equal(attempt_start(&a, &spec, &err), SM_ERR);
	assert_non_null(strstr(err, "not found in PATH"));
	free(err);
	attempt_release(&a);
	const char *sh[] = { "sh", "-c", "true", NULL };
	struct attempt_spec bad_cwd = { f->dir, sh, (const char *const *)environ, "/nonexistent/x",
					NULL };
	assert_int_equal(attempt_start(&a, &bad_cwd, &err), SM_OK);
	wait_end(f, &a);
	assert_int_equal(a.exit_code, 127);
	assert_non_null(strstr(f->err.buf, "cannot enter the working directory /nonexistent/x"));
	attempt_release(&a);
}

static void test_program_holds_only_its_stdio(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	start(f, &a, "exec sleep 30", NULL);
	/* The program's descriptors, seen from outside: the lock and ours stay behind. */
	int r = SM_ENOENT;
	for (int i = 0; i < 500 && r == SM_ENOENT; i++, poll(NULL, 0, 10))
		r = attempt_signal(&a, 0);
	assert_int_equal(r, SM_OK);
	char *dir = xasprintf("/proc/%d/fd", (int)a.child);
	struct strbuf seen = STRBUF_INIT;
	/* Until sh has become sleep and its loader closed what it opened (1 s at most). */
	for (int tries = 0; tries < 100; tries++, poll(NULL, 0, 10)) {
		strbuf_reset(&seen);
		DIR *d = opendir(dir);
		assert_non_null(d);
		int fds[16], n = 0;
		for (struct dirent *e; (e = readdir(d)) && n < 16;)
			if (e->d_name[0] != '.')
				fds[n++] = atoi(e->d_name);
		closedir(d);
		for (int i = 0; i < n; i++) /* readdir's order is not numeric */
			for (int k = 0; k + 1 < n; k++)
				if (fds[k] > fds[k + 1]) {
					int t = fds[k];
					fds[k] = fds[k + 1];
					fds[k + 1] = t;
				}
		for (int i = 0; i < n; i++)
			strbuf_addf(&seen, "%d ", fds[i]);
		if (!strcmp(seen.buf, "0 1 2 "))
			break;
	}
	assert_string_equal(seen.buf, "0 1 2 ");
	strbuf_release(&seen);
	free(dir);
	attempt_signal(&a, SIGKILL);
	wait_end(f, &a);
	attempt_release(&a);
}

static void test_follow_stops_at_a_limit(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	start(f, &a, "printf 0123456789", NULL);
	for (int i = 0; i < 1000 && !attempt_check_ended(&a); i++)
		poll(NULL, 0, 10);
	const int64_t upto[2] = { 4, -1 };
	assert_int_equal(attempt_follow(&a, collect, f, upto), 1);
	assert_string_equal(f->out.buf, "0123");
	const int64_t rest[2] = { -1, -1 };
	assert_int_equal(attempt_follow(&a, collect, f, rest), 0);
	assert_string_equal(f->out.buf, "0123456789");
	attempt_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_and_output_through_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin_from_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_group_and_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_pid_is_lost_and_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_started_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program_and_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_holds_only_its_stdio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_stops_at_a_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
