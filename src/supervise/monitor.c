/*
 * monitor.c - the host's side of attempts under monitors (monitor.h):
 * start, adopt, follow, signal.  The monitor itself is monitor_body.c.
 */
#include "../base/compat.h"
#include "monitor.h"
#include "monitor_body.h"
#include "monitor_int.h"
#include "proc.h"
#include "../base/fsutil.h"
#include "../base/strbuf.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <jansson.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* The skillmeat-monitor program: $SKILLMEAT_MONITOR, beside this binary, or installed.
 * NULL: none (or $SKILLMEAT_MONITOR=fork), so a fork of the host runs the monitor. */
static char *monitor_program(void)
{
	const char *env = getenv("SKILLMEAT_MONITOR");
	if (env && *env)
		return strcmp(env, "fork") ? xstrdup(env) : NULL;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = n > 0 ? (self[n] = '\0', strrchr(self, '/')) : NULL;
	char *p = slash ? xasprintf("%.*s/skillmeat-monitor", (int)(slash - self), self) : NULL;
	if (p && !access(p, X_OK))
		return p;
	free(p);
#ifdef SM_LIBEXECDIR
	p = path_join(SM_LIBEXECDIR, "skillmeat-monitor");
	if (!access(p, X_OK))
		return p;
	free(p);
#endif
	return NULL;
}

/* ---- containment (monitor_body.c does it; this finds where) ------------------------ */

/* The line of /proc/self/mountinfo for a cgroup2 mount: its root and mount point. */
static bool cgroup2_mount(char **root, char **point)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *fields[5] = { 0 }, *save = NULL;
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = '\0';
		char *t = strtok_r(line, " ", &save);
		for (int i = 0; t && i < 5; i++, t = strtok_r(NULL, " ", &save))
			fields[i] = t;
		/* mountinfo escapes blanks as \040: such a path is not used */
		if (fields[4] && !strchr(fields[3], '\\') && !strchr(fields[4], '\\')) {
			*root = xstrdup(fields[3]);
			*point = xstrdup(fields[4]);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* Our own cgroup v2 path ("0::/path" of /proc/self/cgroup). */
static char *own_cgroup(void)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096], *path = NULL;
	while (f && !path && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			path = xstrdup(line + 3);
		}
	if (f)
		fclose(f);
	return path;
}

char *attempt_cgroup_base(void)
{
	const char *force = getenv("SKILLMEAT_CONTAINMENT");
	char *root = NULL, *point = NULL, *own = NULL, *base = NULL;
	if ((force && !strcmp(force, "subreaper")) || !cgroup2_mount(&root, &point) ||
	    !(own = own_cgroup()))
		goto out;
	size_t rl = strcmp(root, "/") ? strlen(root) : 0;
	if (strncmp(own, root, rl) || (own[rl] && own[rl] != '/'))
		goto out; /* our cgroup is not below what is mounted */
	base = xasprintf("%s%s", point, strcmp(own + rl, "/") ? own + rl : "");
	char *procs = path_join(base, "cgroup.procs");
	bool ok = !access(base, W_OK) && !access(procs, W_OK);
	free(procs);
	if (!ok) {
		free(base);
		base = NULL;
	}
out:
	free(root);
	free(point);
	free(own);
	return base;
}

/* posix_spawn the monitor program: no copy of our pages, fds 0-3 set up as it expects. */
static int spawn_monitor(const char *program, const struct monitor_plan *mp, const char *dir,
			 pid_t *pid)
{
	size_t n = 0;
	while (mp->argv[n])
		n++;
	const char **argv = xcalloc(n + 6, sizeof(*argv));
	argv[0] = "skillmeat-monitor";
	argv[1] = dir;
	argv[2] = mp->cwd ? mp->cwd : "-";
	argv[3] = mp->cgroup_base ? mp->cgroup_base : "-";
	argv[4] = mp->prog;
	memcpy(argv + 5, mp->argv, n * sizeof(*argv));
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int src[4] = { mp->in_fd, mp->out_fd, mp->err_fd, mp->lock_fd };
	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 4; i++)
		posix_spawn_file_actions_adddup2(&fa, src[i], i);
	int e = proc_spawnattr_init(&attr, POSIX_SPAWN_SETSID) ? EINVAL
		: posix_spawn(pid, program, &fa, &attr, (char *const *)argv, mp->env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	free(argv);
	errno = e;
	return e ? SM_EIO : SM_OK;
}

/*
 * The monitor program and the cgroup base (malloc'd, or NULL).  A host's
 * zygote keeps them: read once, not from /proc/self/mountinfo each attempt.
 */
static void where_monitors_run(struct monitor_zygote *z, char **monitor, char **cgroup)
{
	if (z && !z->probed) {
		z->program = monitor_program();
		z->cgroup = attempt_cgroup_base();
		z->probed = true;
	}
	*monitor = z ? (z->program ? xstrdup(z->program) : NULL) : monitor_program();
	*cgroup = z ? (z->cgroup ? xstrdup(z->cgroup) : NULL) : attempt_cgroup_base();
}

static int lock_held(const char *dir);

/*
 * The zygote broke while it was asked for this attempt's monitor.  Our lock
 * descriptor closed (the zygote, ended, holds none), the lock is held only if
 * the monitor lives, and its files are there if it lived: then it is followed
 * like an adopted one (SM_OK).  Else
 * SM_ERR with the lock taken again, for a monitor started here; SM_EIO when
 * it cannot be.
 */
static int after_broken_zygote(struct attempt *a, struct monitor_plan *mp, char **err)
{
	close_fd(&mp->lock_fd);
	char *mon = path_join(a->dir, "monitor"), *ex = path_join(a->dir, "exit");
	/* held: it runs; its files: it ran (and may have ended already) */
	bool exists = lock_held(a->dir) > 0 || !access(mon, F_OK) || !access(ex, F_OK);
	free(mon);
	free(ex);
	if (exists) {
		a->monitor = 0;
		return SM_OK;
	}
	mp->lock_fd = open_in(a->dir, "monitor.lock", O_RDWR | O_CREAT);
	if (mp->lock_fd < 0 || flock(mp->lock_fd, LOCK_EX)) {
		*err = xasprintf("cannot prepare %s: %s", a->dir, strerror(errno));
		return SM_EIO;
	}
	return SM_ERR;
}

int attempt_start(struct attempt *a, const struct attempt_spec *spec, char **err)
{
	struct monitor_plan mp = { .in_fd = -1, .out_fd = -1, .err_fd = -1, .lock_fd = -1 };
	char *prog = proc_find_program(spec->argv[0], spec->env), *monitor, *cgroup;
	where_monitors_run(spec->zygote, &monitor, &cgroup);
	char *paths[4] = { path_join(spec->dir, "monitor"), path_join(spec->dir, ".monitor.tmp"),
			   path_join(spec->dir, "exit"), path_join(spec->dir, ".exit.tmp") };
	pid_t pid = -1;
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
	mp = (struct monitor_plan){ prog, spec->cwd, (char *const *)spec->argv,
		(char *const *)spec->env, mp.in_fd, mp.out_fd, mp.err_fd, mp.lock_fd,
		paths[0], paths[1], paths[2], paths[3], cgroup };
	int zr = monitor && spec->zygote
		? monitor_zygote_fork(spec->zygote, monitor, &mp, spec->dir, &pid, &a->pidfd)
		: SM_ERR;
	if (zr == SM_OK) {
		a->monitor = pid; /* the zygote's child: not ours to reap; its pidfd tells the end */
		r = SM_OK;
		goto out;
	}
	if (zr == SM_EIO && (r = after_broken_zygote(a, &mp, err)) != SM_ERR)
		goto out; /* its monitor runs (followed as an adopted one), or it failed */
	if (monitor && spawn_monitor(monitor, &mp, spec->dir, &pid)) {
		*err = xasprintf("cannot start the monitor %s: %s", monitor, strerror(errno));
		goto out;
	}
	if (!monitor && (pid = fork()) == 0)
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
	for (int i = 0; i < 4; i++)
		free(paths[i]);
	free(monitor);
	free(prog);
	free(cgroup);
	return r;
}

/* The monitor's records are a line each: read whole, not through stdio's
 * character-at-a-time reader (json_load_file: 3% of a host's time). */
#define RECORD_MAX 4096

static json_t *read_json(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	struct strbuf sb = STRBUF_INIT;
	json_t *j = strbuf_read_file(&sb, p, RECORD_MAX) ? NULL
		: json_loadb(sb.buf, sb.len, 0, NULL);
	strbuf_release(&sb);
	free(p);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* An integer of a file the attempt's folder holds; 0 when absent or out of range. */
static long long json_num_in(const json_t *j, const char *key, long long lo, long long hi)
{
	const json_t *v = json_object_get(j, key);
	long long n = json_is_integer(v) ? (long long)json_integer_value(v) : 0;
	return n < lo || n > hi ? 0 : n;
}

static long long json_num(const json_t *j, const char *key)
{
	return json_num_in(j, key, INT_MIN, INT_MAX);
}

/* The pids the monitor recorded, each kept only while its start time matches. */
static void read_monitor_file(struct attempt *a)
{
	json_t *j = read_json(a->dir, "monitor");
	if (!j)
		return;
	pid_t m = (pid_t)json_num(j, "monitor_pid"), c = (pid_t)json_num(j, "child_pid");
	unsigned long long ms = (unsigned long long)json_num_in(j, "monitor_start", 0, LLONG_MAX);
	a->child_start = (unsigned long long)json_num_in(j, "child_start", 0, LLONG_MAX);
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
	a->finished_at = json_number_value(json_object_get(j, "finished_at"));
	if (!(a->finished_at >= 0 && a->finished_at < 253402300800.0)) /* NaN too */
		a->finished_at = 0;
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
	} else if (a->pidfd >= 0) {
		struct pollfd p = { a->pidfd, POLLIN, 0 };
		if (poll(&p, 1, 0) == 0)
			return false; /* readable once the monitor has exited */
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

bool attempt_program_known(struct attempt *a)
{
	if (!a->child)
		read_monitor_file(a);
	return a->child > 0;
}

/* The cgroup the dead monitor recorded, if it is one of ours: all of it killed. */
static void kill_recorded_cgroup(const char *dir)
{
	json_t *j = read_json(dir, "monitor");
	const char *cg = j ? json_string_value(json_object_get(j, "cgroup")) : NULL;
	const char *base = cg ? strrchr(cg, '/') : NULL;
	if (base && !strncmp(base, "/skillmeat-", 11) && !strstr(cg, "/../")) {
		char *kill_path = path_join(cg, "cgroup.kill");
		int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "1", 1) == 1)
				rmdir(cg); /* gone once empty; it may take a moment (ignored) */
			close(fd);
		}
		free(kill_path);
	}
	json_decref(j);
}

void attempt_kill_orphan(struct attempt *a)
{
	if (!a->child)
		read_monitor_file(a);
	if (a->child && a->child_start && proc_start_time(a->child) == a->child_start)
		kill(-a->child, SIGKILL);
	kill_recorded_cgroup(a->dir);
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
