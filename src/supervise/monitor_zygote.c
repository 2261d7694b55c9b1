/*
 * monitor_zygote.c - the host's side of its monitors' zygote (the wire and
 * why it exists: monitor_body.h and serve.c).
 *
 * The zygote is `skillmeat-monitor --serve`, started at a host's first
 * attempt and ended when the host closes its socket.  Anything that goes
 * wrong with it (no such mode in an older program, a killed zygote, a
 * broken stream) turns it off for the rest of the host's life: attempts
 * then get a monitor of their own, started as before.
 */
#include "../base/compat.h"
#include "monitor.h"
#include "monitor_int.h"
#include "proc.h"
#include "../base/strbuf.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ; /* the zygote's own (each monitor gets its request's) */

/* How long a fork of the zygote may take before it is given up on. */
#define ZYGOTE_REPLY_MS 30000
/* How long a zygote told to end may take to remove its idle cgroups. */
#define ZYGOTE_END_MS 2000

static bool zygote_wanted(void)
{
	const char *e = getenv("SKILLMEAT_MONITOR_ZYGOTE");
	return !e || strcmp(e, "0");
}

static int zygote_launch(struct monitor_zygote *z, const char *program)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return SM_EIO;
	static char name[] = "skillmeat-monitor", serve[] = "--serve";
	char *const argv[] = { name, serve, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	/* no terminal, no pipe of the host's caller held open by it */
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	int e = proc_spawnattr_init(&attr, POSIX_SPAWN_SETSID) ? EINVAL
		: posix_spawn(&z->pid, program, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sv[1]);
	if (e) {
		close(sv[0]);
		z->pid = 0;
		return SM_EIO;
	}
	z->fd = sv[0];
	return SM_OK;
}

static void add_str(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s ? s : "", strlen(s ? s : "") + 1);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SM_EIO;
		p += w;
		n -= (size_t)w;
	}
	return SM_OK;
}

static int send_request(int sock, const struct monitor_plan *mp, const char *dir)
{
	struct strbuf sb = STRBUF_INIT;
	struct zygote_request h = { ZYGOTE_MAGIC, 0, 0, 0 };
	add_str(&sb, dir);
	add_str(&sb, mp->cwd);
	add_str(&sb, mp->cgroup_base);
	add_str(&sb, mp->prog);
	for (; mp->argv[h.argc]; h.argc++)
		add_str(&sb, mp->argv[h.argc]);
	for (; mp->env && mp->env[h.envc]; h.envc++)
		add_str(&sb, mp->env[h.envc]);
	int r = SM_EIO;
	if (sb.len > ZYGOTE_MAX_PAYLOAD || h.argc > ZYGOTE_MAX_STRINGS ||
	    h.envc > ZYGOTE_MAX_STRINGS)
		goto out;
	h.len = (uint32_t)sb.len;
	int fds[4] = { mp->in_fd, mp->out_fd, mp->err_fd, mp->lock_fd };
	char ctl[CMSG_SPACE(sizeof(fds))];
	struct iovec iov = { &h, sizeof(h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	ssize_t n;
	while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(h))
		r = send_all(sock, sb.buf, sb.len);
out:
	strbuf_release(&sb);
	return r;
}

static int receive_reply(int sock, struct zygote_reply *r, int *pidfd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { r, sizeof(*r) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct pollfd p = { sock, POLLIN, 0 };
	ssize_t n;
	*pidfd = -1;
	if (poll(&p, 1, ZYGOTE_REPLY_MS) != 1)
		return SM_EIO;
	while ((n = recvmsg(sock, &m, MSG_WAITALL | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(pidfd, CMSG_DATA(c), sizeof(int));
	if (n != (ssize_t)sizeof(*r)) {
		if (*pidfd >= 0)
			close(*pidfd);
		*pidfd = -1;
		return SM_EIO;
	}
	return SM_OK;
}

/* Whether the zygote ended within `ms` (reaped then). */
static bool zygote_ended_within(pid_t pid, int ms)
{
	int status;
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return true;
		if (waited >= ms)
			return false;
		struct timespec t = { 0, 1000000 };
		nanosleep(&t, NULL);
	}
}

/*
 * Stop the zygote process (it holds nothing between requests: its monitors
 * are processes of their own).  `gently`: its end of the socket closed, it
 * removes its idle cgroups and exits (cgroup_pool.c); killed if it does not
 * within ZYGOTE_END_MS (a frozen one is waited on that long, no longer), as
 * at once when it broke.
 */
static void zygote_end(struct monitor_zygote *z, bool gently)
{
	if (z->fd >= 0)
		close(z->fd);
	z->fd = -1;
	if (z->pid > 0 && !(gently && zygote_ended_within(z->pid, ZYGOTE_END_MS))) {
		int status;
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	z->pid = 0;
}

int monitor_zygote_fork(struct monitor_zygote *z, const char *program,
			const struct monitor_plan *mp, const char *dir, pid_t *pid, int *pidfd)
{
	struct zygote_reply r;
	*pidfd = -1;
	if (z->off || (z->fd < 0 && (!zygote_wanted() || zygote_launch(z, program)))) {
		z->off = true;
		return SM_ERR;
	}
	int sent = send_request(z->fd, mp, dir);
	if (sent || receive_reply(z->fd, &r, pidfd) || (r.pid <= 0 && !r.error)) {
		/* Broken: the rest of this host's attempts go without it.  Whether it
		 * forked this monitor before it broke is not known: ended and reaped,
		 * the zygote holds the attempt's lock no more, so the lock tells. */
		if (*pidfd >= 0)
			close(*pidfd);
		*pidfd = -1;
		zygote_end(z, false);
		z->off = true;
		return SM_EIO;
	}
	if (r.error) {
		errno = r.error;
		if (*pidfd >= 0)
			close(*pidfd);
		*pidfd = -1;
		return SM_ERR; /* this fork failed (no monitor); the next one may not */
	}
	*pid = r.pid;
	return SM_OK;
}

void monitor_zygote_close(struct monitor_zygote *z)
{
	zygote_end(z, true);
	free(z->program);
	free(z->cgroup);
	z->program = z->cgroup = NULL;
	z->probed = false;
}
