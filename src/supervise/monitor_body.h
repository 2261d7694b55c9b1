/*
 * monitor_body.h - the monitor process itself (monitor_body.c), shared by
 * the engine (its fork fallback) and the skillmeat-monitor program.
 */
#ifndef SM_ENGINE_MONITOR_BODY_H
#define SM_ENGINE_MONITOR_BODY_H

#include "../base/compat.h"

#include <stdint.h>
#include <sys/types.h>

/* Everything the monitor needs, made before it starts (no allocation after). */
struct monitor_plan {
	const char *prog, *cwd;          /* the program's path; its directory (NULL: ours) */
	char *const *argv, *const *env;
	int in_fd, out_fd, err_fd, lock_fd;
	const char *monitor_path, *monitor_tmp, *exit_path, *exit_tmp;
	const char *cgroup_base;         /* cgroup v2 folder to make the attempt's in; NULL: none */
	const char *cgroup_ready;        /* or a zygote's pooled cgroup to use (cgroup_pool.h) */
	pid_t pool_owner;                /* that zygote: the cgroup is its again if it is alive */
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

/*
 * How a monitor exits, for the zygote that forked it (cgroup_pool.c): its
 * cgroup may be given to another attempt only after a clean exit.
 */
enum monitor_exit {
	MONITOR_EXIT_CLEAN = 0,          /* exit record written, the cgroup fit to use again */
	MONITOR_EXIT_UNRECORDED = 1,     /* the exit record could not be written */
	MONITOR_EXIT_SPOILT = 2,         /* recorded; the cgroup was cgroup.kill()ed (by us
					    or before us): never to be used again */
};

/*
 * The zygote (skillmeat-monitor --serve, serve.c): one small
 * process a host keeps, which forks each attempt's monitor on request, so
 * that an attempt costs one program start (its program) instead of two.
 * The wire, a SOCK_STREAM socketpair (fd 3 in the zygote):
 *
 *   host -> zygote   struct zygote_request, with SCM_RIGHTS of 4 fds (stdin,
 *                    stdout log, stderr log, the flock()ed monitor.lock),
 *                    then `len` bytes: NUL-terminated dir, cwd ("" = ours),
 *                    cgroup base ("" = none), program, argv[argc], env[envc]
 *   zygote -> host   struct zygote_reply, with SCM_RIGHTS of the monitor's
 *                    pidfd when the zygote could open one
 */
#define ZYGOTE_MAGIC 0x315a4d53u          /* "SMZ1" */
#define ZYGOTE_MAX_PAYLOAD (64u << 20)    /* argv + env: more than exec takes */
#define ZYGOTE_MAX_STRINGS (1u << 20)

struct zygote_request {
	uint32_t magic, len, argc, envc;
};

struct zygote_reply {
	int32_t error;                   /* 0, or the errno of the fork */
	int32_t pid;                     /* the monitor's */
};

/* Whether the cgroup `dir` has a process in it (its cgroup.events): 1, 0, or
 * -1 when that cannot be read.  Async-signal-safe. */
int cgroup_populated(const char *dir);

/* Process start time (clock ticks since boot) of `pid`, or 0 when it is gone. */
unsigned long long proc_start_time(pid_t pid);

#endif
