/*
 * fuzz-http: request heads (and what follows them) sent to the web server
 * itself, started once in this process on a free port of 127.0.0.1 with a
 * fixed token, its home a fresh folder.  Each input is one connection:
 * its bytes, then end-of-input, then everything the server answers until
 * it closes (at most 2 s).  The server's checks on the head (Host, Origin,
 * token, Content-Length, Transfer-Encoding, NUL bytes: src/server/http.c)
 * see what a client could send; a crash or a sanitizer report is a bug.
 * Every "@T" in an input is replaced by the valid token, so the fuzzer
 * reaches the routes as well.
 */
#include "base/compat.h"
#include "base/fsutil.h"
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef"

static int port;
static char home[] = "/tmp/fuzz-http-XXXXXX";

static void remove_home(void)
{
	fs_remove_tree(home);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	UNUSED(argc);
	UNUSED(argv);
	struct server *s;
	char *err = NULL;
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(home))
		abort();
	atexit(remove_home);
	struct server_opts o = { .home = home, .port = 0, .token = TOKEN };
	if (server_start(&o, &s, &err)) {
		fprintf(stderr, "fuzz-http: %s\n", err);
		abort();
	}
	port = server_port(s); /* it runs until the process ends */
	return 0;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	uint8_t *msg = xmalloc(size / 2 * (sizeof(TOKEN) - 1) + size + 1);
	size_t n = 0;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '@' && i + 1 < size && data[i + 1] == 'T') {
			memcpy(msg + n, TOKEN, sizeof(TOKEN) - 1);
			n += sizeof(TOKEN) - 1;
			i++;
		} else {
			msg[n++] = data[i];
		}
	}
	send_all(fd, msg, n);
	free(msg);
	shutdown(fd, SHUT_WR);
	char buf[4096];
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = 2000 - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0 || recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
	}
	close(fd);
	return 0;
}
