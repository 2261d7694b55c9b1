/*
 * skillmeat-monitor - the monitor of one attempt of a stage (see
 * src/supervise/monitor.h).  The host starts it with posix_spawn:
 *
 *   skillmeat-monitor DIR CWD CGROUP PROGRAM ARGV0 [ARG...]
 *
 * with fd 0 the program's stdin, 1 and 2 its log files, 3 the attempt's
 * flock()ed monitor.lock, and the program's environment as its own.  CWD
 * "-" keeps the current directory; CGROUP is the cgroup v2 folder to make
 * the attempt's cgroup in, "-" for none.  A small static program: starting it
 * costs the host far less than a fork of itself.
 *
 *   skillmeat-monitor --serve
 *
 * with fd 3 a socket: the zygote of one host, forking a monitor for each
 * attempt the host asks for (serve.c).
 */
#include "../base/compat.h"
#include "monitor_body.h"
#include "serve.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
	"usage: skillmeat-monitor DIR CWD CGROUP PROGRAM ARGV0 [ARG...]\n"
	"       skillmeat-monitor --serve\n"
	"(started by skillmeat for each attempt of a stage, with fds 0-3 prepared;\n"
	"not meant to be run by hand)\n";

int main(int argc, char **argv)
{
	static char paths[4][PATH_MAX];
	if (argc == 2 && !strcmp(argv[1], "--serve") && fcntl(3, F_GETFD) >= 0)
		return monitor_serve(3, argv[1]);
	if (argc < 6 || fcntl(3, F_GETFD) < 0) {
		if (write(2, usage, sizeof(usage) - 1) < 0)
			return 2;
		return 2;
	}
	const char *dir = argv[1];
	if (monitor_paths(paths, dir))
		return 2;
	struct monitor_plan mp = { argv[4], strcmp(argv[2], "-") ? argv[2] : NULL, argv + 5,
				   environ, 0, 1, 2, 3, paths[0], paths[1], paths[2], paths[3],
				   strcmp(argv[3], "-") ? argv[3] : NULL };
	monitor_main(&mp);
}
