/*
 * serve.c - skillmeat-monitor --serve: the zygote of a host's monitors
 * (the wire is in src/supervise/monitor_body.h).
 *
 * Why: every program start on a virtual machine pays glibc's CPU probe
 * (cpuid traps to the hypervisor, ~1 ms a start: bench/README.md), and an
 * attempt used to pay it twice, for its monitor and for its program.  A
 * fork of this small static process costs a few page faults instead, and
 * the forked monitor is the very same monitor_main() as a spawned one: its
 * own session, lock, subreaper, files.  So an attempt outlives its host
 * exactly as before; the zygote itself is nothing an attempt depends on.
 * It ends when its host's end of the socket closes (the host ended or
 * died), leaving its monitors to run on, as a dead host left them before.
 */
#include "../base/compat.h"
#include "cgroup_pool.h"
#include "monitor_body.h"
#include "serve.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int monitor_paths(char paths[4][PATH_MAX], const char *dir)
{
	static const char *const names[4] = { "monitor", ".monitor.tmp", "exit", ".exit.tmp" };
	for (int i = 0; i < 4; i++) {
		int n = snprintf(paths[i], PATH_MAX, "%s/%s", dir, names[i]);
		if (n <= 0 || n >= PATH_MAX)
			return -1;
	}
	return 0;
}

/* A request as received: the 4 descriptors and the strings of the payload. */
struct request {
	int fds[4];
	char *payload;
	const char **strs;               /* dir, cwd, cgroup, prog, argv..., NULL, env..., NULL */
	uint32_t argc, envc;
};

static void request_free(struct request *rq)
{
	for (int i = 0; i < 4; i++)
		if (rq->fds[i] >= 0)
			close(rq->fds[i]);
	free(rq->payload);
	free(rq->strs);
}

static int read_full(int fd, char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The header and its descriptors.  0: EOF (the host is gone), 1: got it, -1: broken. */
static int receive_header(int sock, struct zygote_request *h, int fds[4])
{
	char ctl[CMSG_SPACE(4 * sizeof(int))];
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	ssize_t n;
	while ((n = recvmsg(sock, &m, MSG_WAITALL | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n == 0)
		return 0;
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	size_t nfds = c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
		? (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) : 0;
	if (nfds > 4)
		nfds = 4; /* MSG_CTRUNC: the rest were never ours */
	if (nfds)
		memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
	if (n != (ssize_t)sizeof(*h) || nfds != 4 || h->magic != ZYGOTE_MAGIC)
		return -1;
	return 1;
}

/* Split the payload into its strings; -1 when it is not what the header says. */
static int split_payload(struct request *rq, uint32_t len)
{
	uint32_t want = 4 + rq->argc + rq->envc, got = 0;
	rq->strs = calloc((size_t)want + 2, sizeof(*rq->strs));
	if (!rq->strs || !len || rq->payload[len - 1])
		return -1;
	for (uint32_t off = 0; off < len && got < want; got++) {
		const char *s = rq->payload + off;
		/* argv ends with a NULL before env begins */
		rq->strs[got + (got >= 4 + rq->argc)] = s;
		off += (uint32_t)strlen(s) + 1;
		if (got + 1 == want && off != len)
			return -1;
	}
	return got == want ? 0 : -1;
}

static int receive_request(int sock, struct request *rq)
{
	struct zygote_request h;
	memset(rq, 0, sizeof(*rq));
	for (int i = 0; i < 4; i++)
		rq->fds[i] = -1;
	int r = receive_header(sock, &h, rq->fds);
	if (r <= 0)
		return r;
	if (h.len > ZYGOTE_MAX_PAYLOAD || h.argc < 1 || h.argc > ZYGOTE_MAX_STRINGS ||
	    h.envc > ZYGOTE_MAX_STRINGS)
		return -1;
	rq->argc = h.argc;
	rq->envc = h.envc;
	if (!(rq->payload = malloc(h.len ? h.len : 1)) || read_full(sock, rq->payload, h.len) ||
	    split_payload(rq, h.len))
		return -1;
	return 1;
}

/* `ps` shows a forked monitor as "skillmeat-monitor attempt", not as another zygote. */
static char *mode_word;

/* In the forked child: become the attempt's monitor, in the pool's cgroup
 * `ready` (NULL: it makes its own below the request's base).  Never returns. */
static void SM_NORETURN be_monitor(const struct request *rq, const char *ready, pid_t zygote)
{
	static char paths[4][PATH_MAX];
	if (mode_word && strlen(mode_word) == 7)
		memcpy(mode_word, "attempt", 7); /* argv's own bytes: what /proc/PID/cmdline reads */
	const char *const *s = rq->strs;
	if (monitor_paths(paths, s[0]))
		_exit(127);
	struct monitor_plan mp = { s[3], *s[1] ? s[1] : NULL, (char *const *)(s + 4),
				   (char *const *)(s + 5 + rq->argc), rq->fds[0], rq->fds[1],
				   rq->fds[2], rq->fds[3], paths[0], paths[1], paths[2], paths[3],
				   ready || !*s[2] ? NULL : s[2], ready, zygote };
	monitor_main(&mp);
}

static void reply(int sock, int error, pid_t pid, int pidfd)
{
	struct zygote_reply r = { error, (int32_t)pid };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &r, sizeof(r) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (pidfd >= 0) {
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pidfd, sizeof(int));
	}
	while (sendmsg(sock, &m, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* One request.  0: the host is gone, -1: the stream is broken, 1: go on. */
static int serve_one(int sock)
{
	struct request rq;
	int r = receive_request(sock, &rq);
	if (r < 0)
		reply(sock, EPROTO, 0, -1);
	if (r <= 0) {
		request_free(&rq);
		return r;
	}
	const char *cgroup = cgroup_pool_take(rq.strs[2]);
	pid_t zygote = getpid(), pid = fork();
	if (pid == 0) {
		close(sock);
		be_monitor(&rq, cgroup, zygote);
	}
	if (cgroup)
		cgroup_pool_lent(pid);
	int err = pid < 0 ? errno : 0, pidfd = -1;
	/* Not reaped before this (SIGCHLD is held until the next ppoll): the pid is still ours. */
	if (pid > 0)
		pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	reply(sock, err, pid, pidfd);
	if (pidfd >= 0)
		close(pidfd);
	request_free(&rq);
	return 1;
}

/* Monitors that ended: reaped, and their cgroups idle again or removed. */
static void reap_monitors(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		cgroup_pool_ended(pid, status);
}

static void on_child(int sig)
{
	(void)sig; /* only wakes ppoll(); the reaping is done outside */
}

int monitor_serve(int sock, char *mode)
{
	mode_word = mode;
	sigset_t chld, waiting;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN); /* its own session already; a host's ^C is not for it */
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &waiting);
	sigdelset(&waiting, SIGCHLD);
	for (;;) {
		reap_monitors();
		struct pollfd p = { sock, POLLIN, 0 };
		int polled = ppoll(&p, 1, NULL, &waiting);
		if (polled < 0 && errno == EINTR)
			continue;
		int r = polled < 0 ? -1 : serve_one(sock);
		if (r <= 0) {
			reap_monitors();
			cgroup_pool_close();
			return r < 0;
		}
	}
}
