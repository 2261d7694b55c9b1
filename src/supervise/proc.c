#include "../base/compat.h"
#include "proc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_CAP (1024 * 1024)

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A pipe whose ends are close-on-exec; the parent's end is non-blocking. */
static int make_pipe(int fds[2], int parent_end)
{
	if (pipe2(fds, O_CLOEXEC))
		return SM_EIO;
	int fl = fcntl(fds[parent_end], F_GETFL);
	if (fl < 0 || fcntl(fds[parent_end], F_SETFL, fl | O_NONBLOCK)) {
		close(fds[0]);
		close(fds[1]);
		return SM_EIO;
	}
	return SM_OK;
}

int proc_spawnattr_init(posix_spawnattr_t *attr, short where)
{
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	/* What the host ignores or handles must be default again in the child. */
	static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&defaults, sigs[i]);
	return posix_spawnattr_init(attr) ||
	       posix_spawnattr_setflags(attr, where | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF) ||
	       (where == POSIX_SPAWN_SETPGROUP && posix_spawnattr_setpgroup(attr, 0)) ||
	       posix_spawnattr_setsigmask(attr, &none) ||
	       posix_spawnattr_setsigdefault(attr, &defaults);
}

static int set_files(posix_spawn_file_actions_t *fa, const struct proc_spec *spec,
		     int in[2], int out[2], int errp[2])
{
	int r = posix_spawn_file_actions_init(fa);
	if (!r && spec->input)
		r = posix_spawn_file_actions_adddup2(fa, in[0], 0);
	else if (!r)
		r = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, out[1], 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(fa, errp[1], 2);
	if (!r && spec->cwd)
		r = posix_spawn_file_actions_addchdir_np(fa, spec->cwd);
	return r;
}

/*
 * Find argv[0] before spawning: posix_spawnp reports a missing program only
 * on some libcs and runtimes (under valgrind the child just exits 127), and
 * "command not found" deserves a clear error of its own.
 */
char *proc_find_program(const char *name, const char *const *env)
{
	if (strchr(name, '/'))
		return access(name, X_OK) ? NULL : xstrdup(name);
	const char *path = NULL;
	for (const char *const *e = env ? env : (const char *const *)environ; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char *cand = xasprintf("%.*s%s%s", (int)n, path, n ? "/" : "", name);
		if (!access(cand, X_OK))
			return cand;
		free(cand);
		path += n + (path[n] == ':');
	}
	return NULL;
}

int proc_spawn(struct proc *p, const struct proc_spec *spec, char **err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	bool fa_ok = false, attr_ok = false;
	int r = SM_ERR;
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	p->pidfd = p->in_fd = p->out_fd = p->err_fd = -1;
	strbuf_init(&p->out, 0);
	strbuf_init(&p->err, 0);
	*err = NULL;
	signal(SIGPIPE, SIG_IGN);
	char *prog = proc_find_program(spec->argv[0], spec->env);
	if (!prog) {
		*err = xasprintf("cannot start '%s': %s", spec->argv[0],
				 strchr(spec->argv[0], '/') ? strerror(errno) : "not found in PATH");
		goto out;
	}
	if ((spec->input && make_pipe(in, 1)) || make_pipe(out, 0) || make_pipe(errp, 0)) {
		*err = xasprintf("cannot create pipes: %s", strerror(errno));
		goto out;
	}
	int e = set_files(&fa, spec, in, out, errp);
	fa_ok = true;
	if (!e) {
		e = proc_spawnattr_init(&attr, POSIX_SPAWN_SETPGROUP);
		attr_ok = true;
	}
	if (!e)
		e = posix_spawn(&p->pid, prog, &fa, &attr, (char *const *)spec->argv,
				 spec->env ? (char *const *)spec->env : environ);
	if (e) {
		*err = xasprintf("cannot start '%s': %s", spec->argv[0], strerror(e));
		p->pid = -1;
		goto out;
	}
	/* Without pidfds (old kernels; valgrind 3.19 answers ENOSYS) exits are
	 * noticed by proc_poll's short timeout and waitpid(WNOHANG). */
	p->pidfd = pidfd_open(p->pid, 0);
	if (p->pidfd < 0 && errno != ENOSYS) {
		*err = xasprintf("pidfd_open: %s", strerror(errno));
		kill(-p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = -1;
		goto out;
	}
	if (p->pidfd >= 0)
		fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
	p->out_fd = out[0], out[0] = -1;
	p->err_fd = errp[0], errp[0] = -1;
	p->in_fd = in[1], in[1] = -1;
	p->input = spec->input;
	p->input_len = spec->input_len;
	p->cap = spec->output_cap ? spec->output_cap : DEFAULT_CAP;
	p->on_data = spec->on_data;
	p->ctx = spec->ctx;
	if (p->in_fd >= 0 && !p->input_len)
		close_fd(&p->in_fd);
	r = SM_OK;
out:
	free(prog);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&errp[i]);
	}
	if (r)
		proc_release(p);
	return r;
}

static void take(struct proc *p, int stream, const char *data, size_t len)
{
	struct strbuf *sb = stream == 1 ? &p->out : &p->err;
	size_t *dropped = stream == 1 ? &p->out_dropped : &p->err_dropped;
	if (p->on_data)
		p->on_data(p->ctx, p, stream, data, len);
	size_t room = sb->len < p->cap ? p->cap - sb->len : 0;
	size_t keep = len < room ? len : room;
	strbuf_add(sb, data, keep);
	*dropped += len - keep;
}

/* Read what a pipe has; close it at end of file. */
static int drain(struct proc *p, int *fd, int stream)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			take(p, stream, buf, (size_t)n);
			continue;
		}
		if (n == 0) {
			close_fd(fd);
			return SM_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return SM_OK;
		close_fd(fd);
		return SM_EIO;
	}
}

static void feed(struct proc *p)
{
	while (p->input_off < p->input_len) {
		ssize_t n = write(p->in_fd, p->input + p->input_off, p->input_len - p->input_off);
		if (n > 0) {
			p->input_off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* EPIPE: the child does not want the rest */
	}
	close_fd(&p->in_fd);
}

static void reap(struct proc *p)
{
	int status;
	pid_t r = waitpid(p->pid, &status, WNOHANG);
	if (r != p->pid)
		return;
	p->exited = true;
	if (WIFSIGNALED(status)) {
		p->term_signal = WTERMSIG(status);
		p->exit_code = 128 + p->term_signal;
	} else {
		p->exit_code = WEXITSTATUS(status);
	}
	close_fd(&p->pidfd);
}

/* Up to four descriptors a child: pidfd, stdout, stderr, stdin. */
#define FDS_PER_PROC 4

int proc_poll(struct proc *const *procs, size_t n, int timeout_ms)
{
	struct pollfd *fds = xcalloc(n * FDS_PER_PROC + 1, sizeof(*fds));
	size_t nfds = 0;
	for (size_t i = 0; i < n; i++) {
		const struct proc *p = procs[i];
		if (!p->exited && p->pidfd < 0 && (timeout_ms < 0 || timeout_ms > 20))
			timeout_ms = 20; /* no pidfd: look for the exit often */
		int want[FDS_PER_PROC] = { p->pidfd, p->out_fd, p->err_fd, p->in_fd };
		for (int k = 0; k < FDS_PER_PROC; k++)
			if (want[k] >= 0)
				fds[nfds++] = (struct pollfd){ want[k], k == 3 ? POLLOUT : POLLIN, 0 };
	}
	int r = nfds ? poll(fds, nfds, timeout_ms) : 0;
	free(fds);
	if (r < 0 && errno != EINTR)
		return SM_EIO;
	/* Service everything: reads and writes are non-blocking, so this is cheap. */
	int ret = SM_OK;
	for (size_t i = 0; i < n; i++) {
		struct proc *p = procs[i];
		if (p->out_fd >= 0 && drain(p, &p->out_fd, 1))
			ret = SM_EIO;
		if (p->err_fd >= 0 && drain(p, &p->err_fd, 2))
			ret = SM_EIO;
		if (p->in_fd >= 0)
			feed(p);
		if (!p->exited && p->pid > 0)
			reap(p);
	}
	return ret;
}

bool proc_done(const struct proc *p)
{
	return p->exited && p->out_fd < 0 && p->err_fd < 0;
}

int proc_signal_group(const struct proc *p, int sig)
{
	if (p->pid <= 0)
		return SM_ERR;
	return kill(-p->pid, sig) && errno != ESRCH ? SM_EIO : SM_OK;
}

bool proc_group_alive(const struct proc *p)
{
	return p->pid > 0 && (kill(-p->pid, 0) == 0 || errno == EPERM);
}

void proc_release(struct proc *p)
{
	close_fd(&p->pidfd);
	close_fd(&p->in_fd);
	close_fd(&p->out_fd);
	close_fd(&p->err_fd);
	strbuf_release(&p->out);
	strbuf_release(&p->err);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int proc_run(const struct proc_spec *spec, int timeout_s, struct proc *out, char **err)
{
	if (proc_spawn(out, spec, err))
		return SM_ERR;
	struct proc *list[1] = { out };
	double end = now_s() + timeout_s;
	bool killed = false;
	while (!proc_done(out)) {
		/* Past the limit (or exited, leaving a grandchild on the pipes): stop the group. */
		if (!killed && now_s() > end) {
			proc_signal_group(out, SIGKILL);
			killed = true;
			end = now_s() + 5;
		} else if (killed && now_s() > end) {
			break; /* a grandchild escaped the group and holds a pipe */
		}
		proc_poll(list, 1, 100);
	}
	while (!out->exited) {
		proc_signal_group(out, SIGKILL);
		proc_poll(list, 1, 100);
	}
	return killed ? SM_ELIMIT : SM_OK;
}
