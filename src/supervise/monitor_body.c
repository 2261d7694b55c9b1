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
#include <limits.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static bool write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Write `tmp`, then rename it over `path`: readers see all of it or nothing.
 * False when it could not be written whole. */
static bool publish(const char *tmp, const char *path, const struct fbuf *f)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	bool whole = write_all(fd, f->b, f->n);
	return !close(fd) && whole && !rename(tmp, path);
}

/* Fields of /proc/PID/stat: state, ppid, pgrp, session and start time. */
struct pstat {
	char state;
	long long ppid, pgrp, sid;
	unsigned long long start;
};

static long long stat_field(const char *p, int want, int from)
{
	for (int field = from; p && field < want; field++)
		p = strchr(p + 1, ' ');
	long long v = 0;
	for (p = p ? p + 1 : NULL; p && *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return v;
}

static int read_pstat(pid_t pid, struct pstat *ps)
{
	struct fbuf path = { .n = 0 };
	char buf[1024];
	fb_str(&path, "/proc/");
	fb_num(&path, pid);
	fb_str(&path, "/stat");
	path.b[path.n] = '\0';
	int fd = pid > 0 ? open(path.b, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name in field 2 may hold spaces and ')': count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -1;
	ps->state = p[2];
	ps->ppid = stat_field(p, 4, 2);
	ps->pgrp = stat_field(p, 5, 2);
	ps->sid = stat_field(p, 6, 2);
	ps->start = (unsigned long long)stat_field(p, 22, 2);
	return 0;
}

unsigned long long proc_start_time(pid_t pid)
{
	struct pstat ps;
	return read_pstat(pid, &ps) ? 0 : ps.start;
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

/* ---- containment: nothing of the attempt outlives it ---------------------------- */

static char cg_dir[PATH_MAX];           /* the attempt's cgroup; "" when none */
static int cg_fd = -1;                   /* that folder, for clone3(CLONE_INTO_CGROUP) */
static int cg_procs = -1;                /* its cgroup.procs, when the child joins by hand */
static volatile sig_atomic_t in_cgroup;  /* the child is in it (set by the vfork child
					    after its move, or by us after clone3) */
static bool cg_spoilt;                   /* it killed a child cloned into it (clone_into_cgroup) */

static bool path_of(char *out, const char *dir, const char *name)
{
	struct fbuf f = { .n = 0 };
	fb_str(&f, dir);
	fb_str(&f, "/");
	fb_str(&f, name);
	if (f.n >= sizeof(f.b) - 1 || f.n >= PATH_MAX)
		return false;
	memcpy(out, f.b, f.n);
	out[f.n] = '\0';
	return true;
}

static bool cgroup_open(void)
{
	return (cg_fd = open(cg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0;
}

/* The attempt's cgroup: the zygote's pooled one, else one of our own below
 * the base (cgroup v2, with cgroup.kill), else none. */
static void cgroup_prepare(const struct monitor_plan *mp)
{
	struct fbuf name = { .n = 0 };
	char kill_path[PATH_MAX];
	if (mp->cgroup_ready) {
		size_t n = strlen(mp->cgroup_ready);
		if (n < sizeof(cg_dir))
			memcpy(cg_dir, mp->cgroup_ready, n + 1);
		if (n >= sizeof(cg_dir) || !cgroup_open())
			cg_dir[0] = '\0'; /* none: the zygote's to remove, not ours */
		return;
	}
	if (!mp->cgroup_base)
		return;
	fb_str(&name, "skillmeat-");
	fb_num(&name, getpid());
	name.b[name.n] = '\0';
	if (!path_of(cg_dir, mp->cgroup_base, name.b) || (mkdir(cg_dir, 0755) && errno != EEXIST)) {
		cg_dir[0] = '\0';
		return;
	}
	if (!path_of(kill_path, cg_dir, "cgroup.kill") || access(kill_path, W_OK) ||
	    !cgroup_open()) {
		rmdir(cg_dir); /* no cgroup.kill (Linux < 5.14): the subreaper alone */
		cg_dir[0] = '\0';
	}
}

/*
 * The attempt's cgroup, empty now: removed, unless it is a zygote's that is
 * still alive and it was not killed - it is then the zygote's again
 * (cgroup_pool.c).  A zygote gone (we were reparented) cannot take it back.
 */
static void cgroup_release(const struct monitor_plan *mp, bool killed)
{
	if (cg_dir[0] && (!mp->cgroup_ready || killed || getppid() != mp->pool_owner))
		rmdir(cg_dir);
}

/* In the vfork child, before exec: into the attempt's cgroup by hand. */
static void cgroup_join(void)
{
	if (cg_procs >= 0 && write(cg_procs, "0", 1) == 1)
		in_cgroup = 1;
	/* the child's copy of the descriptor (memory is shared under vfork: the variable stays) */
	if (cg_procs >= 0)
		close(cg_procs);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * SIGKILL to every live process that is our child (the monitor is a child
 * subreaper: whatever the program left reparents to it), in our session
 * or in the program's group.  Returns how many there were.
 */
static int sweep(pid_t child)
{
	long buf[1024]; /* long-aligned for the dirent records */
	pid_t me = getpid();
	int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), found = 0;
	long n;
	while (dfd >= 0 && (n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			const struct linux_dirent64 *d = (const void *)((char *)buf + off);
			off += d->d_reclen;
			long long pid = 0;
			const char *c = d->d_name;
			for (; *c >= '0' && *c <= '9' && pid < INT_MAX; c++)
				pid = pid * 10 + (*c - '0');
			struct pstat ps;
			if (*c || !pid || pid == me || read_pstat((pid_t)pid, &ps) || ps.state == 'Z')
				continue;
			if (ps.ppid == me || ps.sid == me || ps.pgrp == child) {
				kill((pid_t)pid, SIGKILL);
				found++;
			}
		}
	}
	if (dfd >= 0)
		close(dfd);
	return found;
}

int cgroup_populated(const char *dir)
{
	char path[PATH_MAX], buf[256];
	if (!path_of(path, dir, "cgroup.events"))
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "populated 1") ? 1 : strstr(buf, "populated 0") ? 0 : -1;
}

/* Gone or unreadable counts as empty here: the sweep must end. */
static bool cgroup_empty(void)
{
	return cgroup_populated(cg_dir) != 1;
}

/*
 * The program has ended: kill whatever of the attempt is left, wherever it
 * went (setsid, a daemon's double fork, nohup).  With a cgroup, cgroup.kill
 * takes all of it at once; either way the sweep goes on, layer by layer as
 * orphans reparent to us, until we have no child left (then no descendant
 * either) and the cgroup is empty.  Gives up after about 5 s (a process in
 * uninterruptible sleep).  True when cgroup.kill was written: the kernel
 * then kills each child later clone3()d into that cgroup (clone_into_cgroup),
 * so it is not to be used again (cgroup_pool.c).  An empty cgroup is not
 * killed: nothing of the attempt is in it (what else might join it later
 * is not the attempt's).
 */
static bool kill_everything(pid_t child)
{
	struct timespec ms = { 0, 2000000 };
	char kill_path[PATH_MAX];
	/* Only a cgroup known to be empty is spared: unreadable, it is killed. */
	bool was_empty = !in_cgroup || cgroup_populated(cg_dir) == 0, killed = false;
	if (!was_empty && path_of(kill_path, cg_dir, "cgroup.kill")) {
		int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			killed = write_all(fd, "1", 1);
			close(fd);
		}
	}
	kill(-child, SIGKILL);
	for (int round = 0; round < 2500; round++) {
		pid_t r;
		while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
			;
		bool no_children = r < 0 && errno == ECHILD;
		/* No child at all: no descendant either (as a subreaper we inherit
		 * every orphan below us), and only a descendant can be in our
		 * session or the program's group.  The /proc walk (a read of every
		 * process's stat) is then not needed: most programs end this way. */
		int found = no_children ? 0 : sweep(child);
		if (!found && no_children && (was_empty || cgroup_empty()))
			break;
		nanosleep(&ms, NULL);
	}
	return killed;
}

static void SM_NORETURN exec_program(const struct monitor_plan *mp)
{
	sigset_t none;
	close(3); /* the lock is the monitor's (close-on-exec too, but exec may not come) */
	if (cg_fd >= 0)
		close(cg_fd); /* the child's copy: the variable is shared under vfork */
	setpgid(0, 0);
	cgroup_join();
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

/*
 * The program made in the attempt's cgroup by clone3(CLONE_INTO_CGROUP)
 * (Linux 5.7), or -1.  A cgroup that was ever cgroup.kill()ed, by whoever,
 * kills each child cloned into it before that runs one instruction (Linux
 * 6.18: the clone compares the target's kill count with the one of the
 * cgroup it was cloned from).  So the child first says it is alive, on a
 * pipe: silence means the cgroup is spoilt - never to be used again, and
 * this attempt's program is moved into it instead (a move is not affected).
 */
static pid_t clone_into_cgroup(const struct monitor_plan *mp)
{
#ifdef CLONE_INTO_CGROUP
	int born[2];
	if (pipe2(born, O_CLOEXEC))
		return -1;
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_INTO_CGROUP;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)cg_fd;
	long pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) { /* a fork (no CLONE_VM): our own copy of everything */
		close(born[0]);
		write_all(born[1], "!", 1);
		close(born[1]);
		exec_program(mp);
	}
	close(born[1]);
	char c;
	ssize_t n = -1;
	while (pid > 0 && (n = read(born[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(born[0]);
	if (pid > 0 && n != 1) {
		cg_spoilt = true;
		while (waitpid((pid_t)pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	return (pid_t)pid;
#else
	(void)mp;
	return -1;
#endif
}

/*
 * Start the program, in the attempt's cgroup when it has one: made there
 * (above), else (older kernels, refused, a spoilt cgroup) by a vfork whose
 * child writes itself into cgroup.procs before exec.  That move takes the
 * kernel's cgroup_threadgroup_rwsem for writing and so waits, now and then,
 * for an RCU grace period: up to 12 ms an attempt measured here, with the
 * machine idle meanwhile (bench/README.md, issue 26) - hence clone3 first.
 */
static pid_t start_program(const struct monitor_plan *mp)
{
	if (cg_fd >= 0) {
		pid_t pid = clone_into_cgroup(mp);
		if (pid > 0) {
			in_cgroup = 1;
			return pid;
		}
	}
	char procs[PATH_MAX];
	if (cg_fd >= 0 && path_of(procs, cg_dir, "cgroup.procs"))
		cg_procs = open(procs, O_WRONLY | O_CLOEXEC);
	pid_t child = vfork();
	if (child == 0)
		exec_program(mp);
	if (cg_procs >= 0) { /* the child joined (vfork: it has exec'd or exited by now) */
		close(cg_procs);
		cg_procs = -1;
	}
	return child;
}

/*
 * End the monitor: the cgroup released (cgroup_release), fds 0-3 closed -
 * the lock last, now that `exit` is written - and an exit status that tells
 * the zygote whether the cgroup may be given again (monitor_body.h).
 */
static void SM_NORETURN monitor_end(const struct monitor_plan *mp, bool recorded, bool spoilt)
{
	cgroup_release(mp, spoilt);
	for (int fd = 0; fd <= 3; fd++)
		close(fd);
	_exit(!recorded ? MONITOR_EXIT_UNRECORDED : spoilt ? MONITOR_EXIT_SPOILT
	      : MONITOR_EXIT_CLEAN);
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
	fb_str(&f, ", \"containment\": \"");
	fb_str(&f, in_cgroup ? "cgroup" : "subreaper");
	fb_str(&f, "\"");
	if (in_cgroup && !strpbrk(cg_dir, "\"\\")) {
		fb_str(&f, ", \"cgroup\": \"");
		fb_str(&f, cg_dir);
		fb_str(&f, "\"");
	}
	fb_str(&f, "}\n");
	publish(mp->monitor_tmp, mp->monitor_path, &f);
}

static bool publish_exit(const struct monitor_plan *mp, int code, int sig)
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
	return publish(mp->exit_tmp, mp->exit_path, &f);
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
	cgroup_prepare(mp);
	pid_t child = start_program(mp);
	if (cg_fd >= 0)
		close(cg_fd);
	if (child < 0) {
		struct fbuf f = { .n = 0 };
		fb_str(&f, "skillmeat: cannot start the program (fork failed)\n");
		write_all(2, f.b, f.n);
		monitor_end(mp, publish_exit(mp, 127, 0), cg_spoilt);
	}
	monitored = child;
	setpgid(child, child);
	sigprocmask(SIG_SETMASK, &none, NULL);
	publish_monitor(mp, child);
	int status = 0;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	bool killed = kill_everything(child); /* nothing of the attempt outlives it */
	bool recorded = WIFSIGNALED(status)
		? publish_exit(mp, 128 + WTERMSIG(status), WTERMSIG(status))
		: publish_exit(mp, WEXITSTATUS(status), 0);
	monitor_end(mp, recorded, killed || cg_spoilt);
}

