/*
 * Unit tests: attempts under monitors (supervise/monitor.h) with real
 * processes: exit and output through files, stdin from a file, signals to
 * the whole group, adoption of live and ended attempts, a stale pid never
 * adopted, no descriptor of ours in the program.  Every wait is bounded.
 * With $SKILLMEAT_TEST_ZYGOTE=1 every attempt's monitor is forked by a
 * zygote (the host's way); the zygote's own tests run either way.
 */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/strbuf.h"
#include "supervise/monitor.h"
#include "supervise/monitor_body.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The zygote every start() uses when $SKILLMEAT_TEST_ZYGOTE=1, else NULL. */
static struct monitor_zygote shared_zygote = MONITOR_ZYGOTE_INIT, *zygote;

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
	struct attempt_spec spec = { f->dir, argv, (const char *const *)environ, NULL, in,
				     zygote };
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
	assert_true(a.own == !zygote); /* a zygote's monitor is not our child */
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
	wait_end(f, &a); /* our own monitor: reaped (or the zygote's: its pidfd) */
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
	struct attempt_spec spec = { f->dir, argv, (const char *const *)environ, NULL, NULL,
				     zygote };
	struct attempt a;
	char *err = NULL;
	assert_int_equal(attempt_start(&a, &spec, &err), SM_ERR);
	assert_non_null(strstr(err, "not found in PATH"));
	free(err);
	attempt_release(&a);
	const char *sh[] = { "sh", "-c", "true", NULL };
	struct attempt_spec bad_cwd = { f->dir, sh, (const char *const *)environ, "/nonexistent/x",
					NULL, zygote };
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

/* ---- the zygote ---------------------------------------------------------------- */

/* A zygote needs the skillmeat-monitor program (not the fork fallback). */
static void need_monitor_program(void)
{
	const char *prog = getenv("SKILLMEAT_MONITOR");
	if (!prog || !strcmp(prog, "fork"))
		skip();
}

/* Start `script` in DIR/NAME (made) under zygote `z`. */
static char *start_in(struct fixture *f, struct monitor_zygote *z, struct attempt *a,
		      const char *name, const char *script)
{
	char *dir = path_join(f->dir, name);
	assert_int_equal(fs_mkdirs(dir), SM_OK);
	const char *argv[] = { "sh", "-c", script, NULL };
	struct attempt_spec spec = { dir, argv, (const char *const *)environ, NULL, NULL, z };
	char *err = NULL;
	if (attempt_start(a, &spec, &err))
		fail_msg("attempt_start: %s", err);
	return dir;
}

static void test_zygote_forks_many_monitors(void **state)
{
	struct fixture *f = *state;
	need_monitor_program();
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	struct attempt a[12];
	char *dirs[12];
	for (int i = 0; i < 12; i++) {
		char name[16], script[48];
		snprintf(name, sizeof(name), "a%d", i);
		snprintf(script, sizeof(script), "echo item %d; exit %d", i, i);
		dirs[i] = start_in(f, &z, &a[i], name, script);
		assert_false(a[i].own);
		assert_true(a[i].pidfd >= 0);
	}
	pid_t first = z.pid;
	assert_true(first > 0);
	for (int i = 0; i < 12; i++) {
		strbuf_reset(&f->out);
		wait_end(f, &a[i]);
		char want[16];
		snprintf(want, sizeof(want), "item %d\n", i);
		assert_string_equal(f->out.buf, want);
		assert_true(a[i].has_exit);
		assert_int_equal(a[i].exit_code, i);
		attempt_release(&a[i]);
		free(dirs[i]);
	}
	assert_int_equal(z.pid, first); /* one zygote for all of them */
	monitor_zygote_close(&z);
	assert_int_equal(z.fd, -1);
	assert_int_equal(kill(first, 0), -1); /* ended and reaped */
}

/* The host (here: the zygote) gone while an attempt runs: the attempt goes on. */
static void test_attempt_outlives_its_zygote(void **state)
{
	struct fixture *f = *state;
	need_monitor_program();
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	struct attempt a;
	char *dir = start_in(f, &z, &a, "late", "sleep 0.3; echo done");
	/* ps tells the forked monitor from its zygote */
	char *cmdline = xasprintf("/proc/%d/cmdline", (int)a.monitor);
	struct strbuf cl = STRBUF_INIT;
	for (int i = 0; i < 100; i++, poll(NULL, 0, 10)) { /* until the fork has run */
		strbuf_reset(&cl);
		assert_int_equal(strbuf_read_file(&cl, cmdline, 4096), SM_OK);
		if (cl.len > 18 && !strcmp(cl.buf + 18, "attempt"))
			break;
	}
	assert_int_equal(cl.len, sizeof("skillmeat-monitor\0attempt"));
	assert_memory_equal(cl.buf, "skillmeat-monitor\0attempt", cl.len);
	strbuf_release(&cl);
	free(cmdline);
	monitor_zygote_close(&z); /* ended, as a dead host's zygote would be */
	wait_end(f, &a);
	assert_true(a.has_exit);
	assert_int_equal(a.exit_code, 0);
	assert_string_equal(f->out.buf, "done\n");
	attempt_release(&a);
	free(dir);
}

/* A zygote killed under its host: the next attempts get monitors of their own. */
static void test_killed_zygote_falls_back(void **state)
{
	struct fixture *f = *state;
	need_monitor_program();
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	struct attempt a;
	char *dir = start_in(f, &z, &a, "one", "exit 4");
	wait_end(f, &a);
	attempt_release(&a);
	free(dir);
	assert_true(z.pid > 0);
	kill(z.pid, SIGKILL);
	dir = start_in(f, &z, &a, "two", "exit 5");
	assert_true(z.off);
	assert_true(a.own); /* spawned for this attempt alone */
	wait_end(f, &a);
	assert_int_equal(a.exit_code, 5);
	attempt_release(&a);
	free(dir);
	monitor_zygote_close(&z);
}

/*
 * A zygote that breaks once asked (tests/unit/fake-zygote.py, as MODE says):
 * the program runs exactly once all the same, under whichever monitor exists.
 */
static void broken_zygote_runs_once(struct fixture *f, const char *mode, bool adopted)
{
	const char *fake = getenv("SKILLMEAT_TEST_FAKE_ZYGOTE");
	char *real = xstrdup(getenv("SKILLMEAT_MONITOR"));
	setenv("SKILLMEAT_MONITOR", fake, 1);
	setenv("FAKE_ZYGOTE_REAL", real, 1);
	setenv("FAKE_ZYGOTE_MODE", mode, 1);
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	struct attempt a;
	char *count = path_join(f->dir, "count");
	char *script = xasprintf("sleep 0.2; echo ran >> %s", count);
	char *dir = start_in(f, &z, &a, "once", script);
	setenv("SKILLMEAT_MONITOR", real, 1);
	assert_true(z.off);
	assert_int_equal(z.fd, -1);
	assert_true(a.own == !adopted); /* a monitor of our own, or the one that exists */
	wait_end(f, &a);
	assert_true(a.has_exit);
	assert_int_equal(a.exit_code, 0);
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(strbuf_read_file(&sb, count, 1024), SM_OK);
	assert_string_equal(sb.buf, "ran\n");
	strbuf_release(&sb);
	attempt_release(&a);
	monitor_zygote_close(&z);
	free(dir);
	free(script);
	free(count);
	free(real);
}

static void test_zygote_dead_before_forking(void **state)
{
	need_monitor_program();
	broken_zygote_runs_once(*state, "die", false);
}

static void test_zygote_dead_after_forking(void **state)
{
	need_monitor_program();
	broken_zygote_runs_once(*state, "fork-die", true);
}

/* ---- the zygote's cgroups (supervise/cgroup_pool.c) ------------------------------- */

/* The "cgroup" an attempt's monitor record names (malloc'd), or NULL. */
static char *recorded_cgroup(const char *dir)
{
	char *path = path_join(dir, "monitor");
	struct strbuf sb = STRBUF_INIT;
	char *cg = NULL;
	if (!strbuf_read_file(&sb, path, 4096)) {
		const char *p = strstr(sb.buf, "\"cgroup\": \"");
		const char *e = p ? strchr(p + 11, '"') : NULL;
		if (e)
			cg = xstrndup(p + 11, (size_t)(e - p - 11));
	}
	strbuf_release(&sb);
	free(path);
	return cg;
}

/* The cgroup base attempts are made in here, or a skip (no writable cgroup v2). */
static char *need_cgroups(void)
{
	need_monitor_program();
	char *base = attempt_cgroup_base();
	if (!base)
		skip();
	return base;
}

/* How many folders named PREFIX* there are in `base`. */
static int count_named(const char *base, const char *prefix)
{
	DIR *d = opendir(base);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

/* Attempts one after another share a cgroup: made once, not once an attempt;
 * none is left once the zygote has ended. */
static void test_zygote_reuses_its_cgroups(void **state)
{
	struct fixture *f = *state;
	char *base = need_cgroups();
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	char *seen[8] = { NULL }, prefix[48];
	int distinct = 0;
	for (int i = 0; i < 8; i++) {
		struct attempt a;
		char name[16];
		snprintf(name, sizeof(name), "c%d", i);
		char *dir = start_in(f, &z, &a, name, "echo in");
		wait_end(f, &a);
		assert_int_equal(a.exit_code, 0);
		char *cg = recorded_cgroup(dir);
		assert_non_null(cg);
		snprintf(prefix, sizeof(prefix), "/skillmeat-%d-", (int)z.pid);
		assert_non_null(strstr(cg, prefix)); /* the zygote's, not a monitor's own */
		bool again = false;
		for (int k = 0; k < distinct; k++)
			again |= !strcmp(seen[k], cg);
		if (again)
			free(cg);
		else
			seen[distinct++] = cg;
		attempt_release(&a);
		free(dir);
		poll(NULL, 0, 20); /* the zygote reaps the monitor (SIGCHLD) */
	}
	assert_true(distinct <= 3); /* 1 but for a reap that came late */
	snprintf(prefix, sizeof(prefix), "skillmeat-%d-", (int)z.pid);
	monitor_zygote_close(&z);
	assert_int_equal(count_named(base, prefix), 0);
	for (int k = 0; k < distinct; k++)
		free(seen[k]);
	free(base);
}

/*
 * Run `script` as attempt NAME under `z` to its end, which must be whole:
 * exit 0, no signal, stdout `out`.  Returns the cgroup its monitor recorded.
 */
static char *run_whole(struct fixture *f, struct monitor_zygote *z, const char *name,
		       const char *script, const char *out)
{
	struct attempt a;
	strbuf_reset(&f->out);
	char *dir = start_in(f, z, &a, name, script);
	wait_end(f, &a);
	assert_int_equal(a.term_signal, 0);
	assert_int_equal(a.exit_code, 0);
	assert_string_equal(f->out.buf, out);
	char *cg = recorded_cgroup(dir);
	assert_non_null(cg);
	attempt_release(&a);
	free(dir);
	return cg;
}

/*
 * A program that leaves a process behind has its cgroup cgroup.kill()ed,
 * and such a cgroup is never given again: the kernel would kill what the
 * next attempt starts in it (seen on Linux 6.18: its kill count differs from
 * the new child's).  The next attempt runs whole, in another cgroup.
 */
static void test_killed_cgroup_is_not_reused(void **state)
{
	struct fixture *f = *state;
	char *base = need_cgroups();
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	char *cg1 = run_whole(f, &z, "leaves", "setsid sleep 30 >/dev/null 2>&1 & echo left",
			      "left\n");
	char *cg2 = run_whole(f, &z, "next", "sleep 0.05; echo whole", "whole\n");
	assert_string_not_equal(cg1, cg2);
	monitor_zygote_close(&z);
	assert_int_equal(access(cg1, F_OK), -1); /* removed, the sleep with it */
	free(cg1);
	free(cg2);
	free(base);
}

/*
 * A kept cgroup cgroup.kill()ed from elsewhere (a host killing a lost
 * attempt's recorded cgroup, or a user by hand): the kernel kills each
 * child later cloned into it.  The next attempt in it still runs whole (its
 * monitor moves the program in), forks included, and the cgroup is retired.
 */
static void test_cgroup_killed_elsewhere_still_runs(void **state)
{
	struct fixture *f = *state;
	char *base = need_cgroups();
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	char *cg = run_whole(f, &z, "first", "true", "");
	char *kill_path = path_join(cg, "cgroup.kill");
	int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "1", 1), 1);
	close(fd);
	char *cg2 = run_whole(f, &z, "second", "sh -c 'echo whole'; echo twice",
			      "whole\ntwice\n");
	assert_string_equal(cg2, cg); /* given again (it looked fine), then found spoilt */
	char *cg3 = run_whole(f, &z, "third", "true", "");
	assert_string_not_equal(cg3, cg); /* retired */
	monitor_zygote_close(&z);
	assert_int_equal(access(cg, F_OK), -1);
	free(kill_path);
	free(cg);
	free(cg2);
	free(cg3);
	free(base);
}

/* A zygote killed with its cgroups idle left them: the next zygote removes them. */
static void test_dead_zygotes_cgroups_are_removed(void **state)
{
	struct fixture *f = *state;
	char *base = need_cgroups();
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	assert_true(gone > 0);
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	char *left = xasprintf("%s/skillmeat-%d-0badc0de-0", base, (int)gone);
	assert_int_equal(mkdir(left, 0755), 0);
	struct monitor_zygote z = MONITOR_ZYGOTE_INIT;
	struct attempt a;
	char *dir = start_in(f, &z, &a, "sweeps", "true");
	wait_end(f, &a);
	assert_int_equal(access(left, F_OK), -1);
	monitor_zygote_close(&z);
	rmdir(left); /* if the test failed */
	attempt_release(&a);
	free(left);
	free(dir);
	free(base);
}

/* What is not a request (no descriptors, a wrong header) ends the zygote with EPROTO. */
static void test_zygote_refuses_a_broken_request(void **state)
{
	(void)state;
	need_monitor_program();
	const char *prog = getenv("SKILLMEAT_MONITOR");
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	const char *argv[] = { "skillmeat-monitor", "--serve", NULL };
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	struct zygote_request bad = { 0x12345678u, 4, 1, 0 };
	assert_int_equal(write(sv[0], &bad, sizeof(bad)), (ssize_t)sizeof(bad));
	struct zygote_reply r = { 0, 0 };
	assert_int_equal(read(sv[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	assert_int_equal(r.error, EPROTO);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	close(sv[0]);
}

/* After all tests: the shared zygote ended (valgrind checks no descriptor is left). */
static int close_shared_zygote(void **state)
{
	(void)state;
	monitor_zygote_close(&shared_zygote);
	return 0;
}

int main(void)
{
	const char *z = getenv("SKILLMEAT_TEST_ZYGOTE");
	zygote = z && !strcmp(z, "1") ? &shared_zygote : NULL;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exit_and_output_through_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdin_from_a_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal_group_and_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_pid_is_lost_and_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_started_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_program_and_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_program_holds_only_its_stdio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_stops_at_a_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zygote_forks_many_monitors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempt_outlives_its_zygote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_zygote_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zygote_refuses_a_broken_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zygote_dead_before_forking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zygote_dead_after_forking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zygote_reuses_its_cgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_cgroup_is_not_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cgroup_killed_elsewhere_still_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_zygotes_cgroups_are_removed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, close_shared_zygote);
}
