/*
 * monitor.c - attempts under monitors that outlive their host (monitor.h).
 *
 * The first half is the monitor itself: code run in a fork of the host,
 * which may have other threads, so it calls only async-signal-safe
 * functions (no malloc, no stdio) on data prepared before the fork.  The
 * second half is the host's side: start, adopt, follow, signal.
 */
#include "../base/compat.h"
#include "monitor.h"
#include "proc.h"
#include "../base/fsutil.h"
#include "../base/strbuf.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/pidfd.h>
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

/* Everything the monitor needs, made before the fork. */
struct monitor_plan {
	const char *prog, *cwd;
	char *const *argv, *const *env;
	int in_fd, out_fd, err_fd, lock_fd;
	char *monitor_path, *monitor_tmp, *exit_path, *exit_tmp;
};

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
	long ms = ts.tv_nsec / 1000000;
	fb_str(&f, ms < 100 ? (ms < 10 ? "00" : "0") : "");
	fb_num(&f, ms);
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

static void SM_NORETURN monitor_main(const struct monitor_plan *mp)
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
	_exit(0);
}

/* ---- the host's side --------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void attempt_init(struct attempt *a, const char *dir)
{
	memset(a, 0, sizeof(*a));
	a->dir = xstrdup(dir);
	a->pidfd = a->out_fd = a->err_fd = -1;
}

static int open_in(const char *dir, const char *name, int flags)
{
	char *p = path_join(dir, name);
	int fd = open(p, flags | O_CLOEXEC, 0600);
	free(p);
	return fd;
}

static int open_logs(struct attempt *a)
{
	a->out_fd = open_in(a->dir, "stdout.log", O_RDONLY);
	a->err_fd = open_in(a->dir, "stderr.log", O_RDONLY);
	return a->out_fd < 0 || a->err_fd < 0 ? SM_EIO : SM_OK;
}

int attempt_start(struct attempt *a, const struct attempt_spec *spec, char **err)
{
	struct monitor_plan mp = { .in_fd = -1, .out_fd = -1, .err_fd = -1, .lock_fd = -1 };
	char *prog = proc_find_program(spec->argv[0], spec->env);
	int r = SM_ERR;
	attempt_init(a, spec->dir);
	*err = NULL;
	if (!prog) {
		*err = xasprintf("cannot start '%s': %s", spec->argv[0],
				 strchr(spec->argv[0], '/') ? strerror(errno) : "not found in PATH");
		goto out;
	}
	/* Locked before the monitor exists, so no moment of its life looks "dead". */
	mp.lock_fd = open_in(spec->dir, "monitor.lock", O_RDWR | O_CREAT);
	mp.out_fd = open_in(spec->dir, "stdout.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
	mp.err_fd = open_in(spec->dir, "stderr.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
	mp.in_fd = open(spec->stdin_path ? spec->stdin_path : "/dev/null", O_RDONLY | O_CLOEXEC);
	if (mp.lock_fd < 0 || flock(mp.lock_fd, LOCK_EX) || mp.out_fd < 0 || mp.err_fd < 0 ||
	    mp.in_fd < 0 || open_logs(a)) {
		*err = xasprintf("cannot prepare %s: %s", spec->dir, strerror(errno));
		goto out;
	}
	mp.prog = prog;
	mp.cwd = spec->cwd;
	mp.argv = (char *const *)spec->argv;
	mp.env = (char *const *)spec->env;
	mp.monitor_path = path_join(spec->dir, "monitor");
	mp.monitor_tmp = path_join(spec->dir, ".monitor.tmp");
	mp.exit_path = path_join(spec->dir, "exit");
	mp.exit_tmp = path_join(spec->dir, ".exit.tmp");
	pid_t pid = fork();
	if (pid == 0)
		monitor_main(&mp);
	if (pid < 0) {
		*err = xasprintf("cannot start a monitor: %s", strerror(errno));
		goto out;
	}
	a->monitor = pid;
	a->own = true;
	a->pidfd = pidfd_open(pid, 0); /* -1 without pidfds (valgrind): polled instead */
	r = SM_OK;
out:
	close_fd(&mp.lock_fd);
	close_fd(&mp.out_fd);
	close_fd(&mp.err_fd);
	close_fd(&mp.in_fd);
	free(mp.monitor_path);
	free(mp.monitor_tmp);
	free(mp.exit_path);
	free(mp.exit_tmp);
	free(prog);
	return r;
}

static json_t *read_json(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	json_t *j = json_load_file(p, 0, NULL);
	free(p);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static long long json_num(const json_t *j, const char *key)
{
	const json_t *v = json_object_get(j, key);
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* The pids the monitor recorded, each kept only while its start time matches. */
static void read_monitor_file(struct attempt *a)
{
	json_t *j = read_json(a->dir, "monitor");
	if (!j)
		return;
	pid_t m = (pid_t)json_num(j, "monitor_pid"), c = (pid_t)json_num(j, "child_pid");
	unsigned long long ms = (unsigned long long)json_num(j, "monitor_start");
	a->child_start = (unsigned long long)json_num(j, "child_start");
	a->child = c > 0 ? c : 0;
	if (!a->monitor && m > 0 && ms && proc_start_time(m) == ms) {
		int fd = pidfd_open(m, 0);
		/* Checked again once the pidfd pins the process: it is the same one. */
		if (fd >= 0 && proc_start_time(m) == ms) {
			a->monitor = m;
			a->pidfd = fd;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	json_decref(j);
}

static void read_exit_file(struct attempt *a)
{
	json_t *j = read_json(a->dir, "exit");
	if (!j)
		return;
	a->has_exit = true;
	a->exit_code = (int)json_num(j, "exit_code");
	a->term_signal = (int)json_num(j, "signal");
	a->finished_at = json_real_value(json_object_get(j, "finished_at"));
	json_decref(j);
}

/* Is the monitor's lock held?  -1: there is no lock file (it never started). */
static int lock_held(const char *dir)
{
	int fd = open_in(dir, "monitor.lock", O_RDONLY);
	if (fd < 0)
		return -1;
	int held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd); /* also drops our shared lock, if we got it */
	return held;
}

enum attempt_found attempt_adopt(struct attempt *a, const char *dir)
{
	attempt_init(a, dir);
	/* The lock first: a monitor ends by writing `exit` and then dropping it. */
	int held = lock_held(dir);
	read_monitor_file(a);
	if (held <= 0)
		read_exit_file(a);
	if (held > 0 || a->has_exit) {
		a->ended = !held;
		if (!open_logs(a))
			return held > 0 ? ATTEMPT_LIVE : ATTEMPT_EXITED;
		a->has_exit = false; /* no logs: nothing can be trusted */
	}
	attempt_kill_orphan(a); /* lost: whatever the program left running is stopped */
	return ATTEMPT_LOST;
}

bool attempt_check_ended(struct attempt *a)
{
	if (a->ended)
		return true;
	if (a->own) {
		int status;
		pid_t r = waitpid(a->monitor, &status, WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR))
			return false;
	} else if (lock_held(a->dir) > 0) {
		return false;
	}
	a->ended = true;
	close_fd(&a->pidfd);
	if (!a->child)
		read_monitor_file(a);
	read_exit_file(a);
	return true;
}

int attempt_follow(struct attempt *a, attempt_data_fn fn, void *ctx, const int64_t stop[2])
{
	char buf[65536];
	int fds[2] = { a->out_fd, a->err_fd }, more = 0;
	for (int s = 0; s < 2; s++) {
		while (fds[s] >= 0) {
			if (stop[s] >= 0 && a->off[s] >= stop[s]) {
				more = 1;
				break;
			}
			size_t want = sizeof(buf);
			if (stop[s] >= 0 && (int64_t)want > stop[s] - a->off[s])
				want = (size_t)(stop[s] - a->off[s]);
			ssize_t n = pread(fds[s], buf, want, (off_t)a->off[s]);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return SM_EIO;
			if (n == 0)
				break;
			a->off[s] += n;
			fn(ctx, s + 1, buf, (size_t)n);
		}
	}
	return more;
}

void attempt_kill_orphan(struct attempt *a)
{
	if (!a->child)
		read_monitor_file(a);
	if (a->child && a->child_start && proc_start_time(a->child) == a->child_start)
		kill(-a->child, SIGKILL);
}

int attempt_signal(struct attempt *a, int sig)
{
	if (a->ended)
		return SM_OK; /* the monitor already stopped the whole group */
	if (!a->child)
		read_monitor_file(a);
	if (!a->child || !a->child_start)
		return SM_ENOENT;
	/* The leader reaped means the monitor is stopping the group itself. */
	if (proc_start_time(a->child) != a->child_start)
		return SM_OK;
	return kill(-a->child, sig) && errno != ESRCH ? SM_EIO : SM_OK;
}

void attempt_release(struct attempt *a)
{
	close_fd(&a->pidfd);
	close_fd(&a->out_fd);
	close_fd(&a->err_fd);
	free(a->dir);
	memset(a, 0, sizeof(*a));
	a->pidfd = a->out_fd = a->err_fd = -1;
}
