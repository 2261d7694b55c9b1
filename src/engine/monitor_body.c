/*
 * monitor_body.c - the monitor process of an attempt (see monitor.h).
 *
 * Built twice: into the engine, where a fork of the host runs it (the
 * fallback), and into the small static program skillmeat-monitor, which
 * the host starts with posix_spawn (no copy of the host's pages, and no
 * copy-on-write faults for the host afterwards).  Either way it calls only
 * async-signal-safe functions: a fork of a threaded server may do no more.
 */
#include "../base/compat.h"
#include "monitor_body.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- async-signal-safe helpers ---------------------------------------------------- */

/* A fixed buffer that text is appended to (silently cut when full). */
struct fbuf {
	char b[512];
	size_t n;
};

static void fb_str(struct fbuf *f, const char *s)
{
	while (*s && f->n < sizeof(f->b) - 1)
		f->b[f->n++] = *s++;
}

static void fb_num(struct fbuf *f, long long v)
{
	char d[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	if (v < 0)
		fb_str(f, "-");
	do
		d[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < (int)sizeof(d));
	while (n && f->n < sizeof(f->b) - 1)
		f->b[f->n++] = d[--n];
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Write `tmp`, then rename it over `path`: readers see all of it or nothing. */
static void publish(const char *tmp, const char *path, const struct fbuf *f)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	write_all(fd, f->b, f->n);
	close(fd);
	rename(tmp, path);
}

unsigned long long proc_start_time(pid_t pid)
{
	struct fbuf path = { .n = 0 };
	char buf[1024];
	fb_str(&path, "/proc/");
	fb_num(&path, pid);
	fb_str(&path, "/stat");
	path.b[path.n] = '\0';
	int fd = pid > 0 ? open(path.b, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* Field 22 (starttime); the name in field 2 may hold spaces and ')'. */
	char *p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	unsigned long long v = 0;
	for (p = p ? p + 1 : NULL; p && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned long long)(*p - '0');
	return v;
}

/* ---- the monitor --------------------------------------------------------------------- */

static volatile sig_atomic_t monitored; /* the program's pid, in the monitor */

/* SIGTERM to the monitor stops the program (its whole group). */
static void forward_term(int sig)
{
	if (monitored > 0)
		kill(-(pid_t)monitored, sig);
}

static void set_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static const int reset_signals[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD,
				     SIGUSR1, SIGUSR2, SIGALRM };

/* fds 0-3 = stdin, stdout log, stderr log, lock; nothing else stays open. */
static void monitor_fds(const struct monitor_plan *mp)
{
	int src[4] = { mp->in_fd, mp->out_fd, mp->err_fd, mp->lock_fd }, high[4];
	for (int i = 0; i < 4; i++) /* out of the way first: a source may be 0-3 */
		high[i] = fcntl(src[i], F_DUPFD, 64);
	for (int i = 0; i < 4; i++)
		dup2(high[i], i);
	if (close_range(4, ~0U, 0)) {
		for (int fd = 4; fd < 1024; fd++)
			close(fd);
	}
	fcntl(3, F_SETFD, FD_CLOEXEC); /* the lock is the monitor's, not the program's */
}

static void SM_NORETURN exec_program(const struct monitor_plan *mp)
{
	sigset_t none;
	close(3); /* the lock is the monitor's (close-on-exec too, but exec may not come) */
	setpgid(0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(reset_signals); i++)
		set_signal(reset_signals[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct fbuf f = { .n = 0 };
	if (mp->cwd && chdir(mp->cwd)) {
		fb_str(&f, "skillmeat: cannot enter the working directory ");
		fb_str(&f, mp->cwd);
	} else {
		execve(mp->prog, mp->argv, mp->env);
		fb_str(&f, "skillmeat: cannot execute ");
		fb_str(&f, mp->prog);
	}
	fb_str(&f, "\n");
	write_all(2, f.b, f.n);
	_exit(127);
}

static void publish_monitor(const struct monitor_plan *mp, pid_t child)
{
	struct fbuf f = { .n = 0 };
	fb_str(&f, "{\"monitor_pid\": ");
	fb_num(&f, getpid());
	fb_str(&f, ", \"monitor_start\": ");
	fb_num(&f, (long long)proc_start_time(getpid()));
	fb_str(&f, ", \"child_pid\": ");
	fb_num(&f, child);
	fb_str(&f, ", \"child_start\": ");
	fb_num(&f, (long long)proc_start_time(child));
	fb_str(&f, "}\n");
	publish(mp->monitor_tmp, mp->monitor_path, &f);
}

static void publish_exit(const struct monitor_plan *mp, int code, int sig)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct fbuf f = { .n = 0 };
	fb_str(&f, "{\"exit_code\": ");
	fb_num(&f, code);
	fb_str(&f, ", \"signal\": ");
	fb_num(&f, sig);
	fb_str(&f, ", \"finished_at\": ");
	fb_num(&f, (long long)ts.tv_sec);
	fb_str(&f, ".");
	long us = ts.tv_nsec / 1000; /* microseconds, as the host's clock: it compares them */
	for (long d = 100000; d > 1 && us < d; d /= 10)
		fb_str(&f, "0");
	fb_num(&f, us);
	fb_str(&f, "}\n");
	publish(mp->exit_tmp, mp->exit_path, &f);
}

/*
 * The monitor is a child subreaper: what the program leaves behind is
 * re-parented to it, not to init (which may never reap, as in some
 * sandboxes).  Reap those killed with the group; give up after ~50 ms on
 * one that left the group (it goes on to init when we exit).
 */
static void reap_leftovers(void)
{
	struct timespec ms = { 0, 1000000 };
	for (int idle = 0; idle < 50;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r < 0 && errno != EINTR)
			return; /* ECHILD: none left */
		if (r == 0) {
			nanosleep(&ms, NULL);
			idle++;
		}
	}
}

void monitor_main(const struct monitor_plan *mp)
{
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid(); /* no terminal's signals, no host's process group */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (size_t i = 0; i < ARRAY_SIZE(reset_signals); i++)
		set_signal(reset_signals[i], SIG_IGN);
	set_signal(SIGCHLD, SIG_DFL);
	set_signal(SIGTERM, forward_term);
	monitor_fds(mp);
	pid_t child = vfork();
	if (child == 0)
		exec_program(mp);
	if (child < 0) {
		struct fbuf f = { .n = 0 };
		fb_str(&f, "skillmeat: cannot start the program (fork failed)\n");
		write_all(2, f.b, f.n);
		publish_exit(mp, 127, 0);
		_exit(0);
	}
	monitored = child;
	setpgid(child, child);
	sigprocmask(SIG_SETMASK, &none, NULL);
	publish_monitor(mp, child);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	kill(-child, SIGKILL); /* nothing of the attempt outlives it */
	reap_leftovers();
	if (WIFSIGNALED(status))
		publish_exit(mp, 128 + WTERMSIG(status), WTERMSIG(status));
	else
		publish_exit(mp, WEXITSTATUS(status), 0);
	for (int fd = 0; fd <= 3; fd++) /* the lock last, now that `exit` is written */
		close(fd);
	_exit(0);
}

