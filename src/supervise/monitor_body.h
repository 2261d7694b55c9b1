/*
 * monitor_body.h - the monitor process itself (monitor_body.c), shared by
 * the engine (its fork fallback) and the skillmeat-monitor program.
 */
#ifndef SM_ENGINE_MONITOR_BODY_H
#define SM_ENGINE_MONITOR_BODY_H

#include "../base/compat.h"

#include <sys/types.h>

/* Everything the monitor needs, made before it starts (no allocation after). */
struct monitor_plan {
	const char *prog, *cwd;          /* the program's path; its directory (NULL: ours) */
	char *const *argv, *const *env;
	int in_fd, out_fd, err_fd, lock_fd;
	const char *monitor_path, *monitor_tmp, *exit_path, *exit_tmp;
	const char *cgroup_base;         /* cgroup v2 folder to make the attempt's in; NULL: none */
};

/*
 * Become the attempt's monitor: a session of its own, fds 0-3 = stdin,
 * stdout log, stderr log, lock; start the program in a new process group,
 * record the pids, wait, kill everything of the attempt that is left
 * (its cgroup when `cgroup_base` allows one, and as child subreaper every
 * descendant, its session and group), record how it ended, exit.  Never
 * returns.
 */
void monitor_main(const struct monitor_plan *mp) SM_NORETURN;

/* Process start time (clock ticks since boot) of `pid`, or 0 when it is gone. */
unsigned long long proc_start_time(pid_t pid);

#endif
