/*
 * monitor.h - attempts that outlive their host (podman's conmon idea).
 *
 * Each attempt of a stage runs under a small monitor process: a fork of
 * the host in a session of its own, so that neither the host's death nor
 * its terminal's signals reach it.  The monitor starts the stage's
 * program in a new process group, with stdout and stderr going straight
 * to files of the attempt's folder, waits for it, kills what is left of
 * its group, writes how it ended to a file (temp + rename) and exits.
 * The host follows the log files (no pipes that die with it) and learns
 * of the end from the monitor's pidfd.  A new host adopts the attempts of
 * a dead one from the same files.
 *
 * The attempt's folder holds:
 *   stdout.log, stderr.log   what the program wrote
 *   monitor.lock             flock()ed by the monitor for its whole life;
 *                            the host takes it before the fork, so the
 *                            lock is held from before the monitor exists
 *                            until it has written `exit`
 *   monitor                  {"monitor_pid", "monitor_start", "child_pid",
 *                            "child_start", "containment", "cgroup"}:
 *                            start times (clock ticks since boot) tell a
 *                            reused pid from ours; "cgroup" or "subreaper"
 *   exit                     {"exit_code", "signal", "finished_at"}
 *
 * "Alive" is decided by the lock, never by a pid alone; signals go to the
 * program's group only while its leader's pid and start time still match.
 *
 * The monitor is the small static program skillmeat-monitor, forked by
 * the host's zygote (below) or started with posix_spawn (found beside this
 * binary, in the install's libexec folder, or at $SKILLMEAT_MONITOR).  Without it, a fork of the host runs
 * the same code (monitor_body.c, async-signal-safe, so a threaded server
 * may fork too): the same behaviour, at the price of copy-on-write faults
 * in the host while the fork lives ($SKILLMEAT_MONITOR=fork asks for it).
 */
#ifndef SM_ENGINE_MONITOR_H
#define SM_ENGINE_MONITOR_H

#include "../base/compat.h"
#include "monitor_body.h"

#include <sys/types.h>

/*
 * A host's zygote of monitors (monitor_body.h, serve.c): one
 * small process, started at the first attempt, that forks each attempt's
 * monitor, so an attempt costs one program start instead of two.  The
 * forked monitors are the same as spawned ones; the zygote ends with its
 * host (monitor_zygote_close, or EOF when the host dies) and they go on.
 * $SKILLMEAT_MONITOR_ZYGOTE=0 (or no skillmeat-monitor program) goes
 * without it.
 */
struct monitor_zygote {
	int fd;                          /* our end of its socket; -1: not started */
	pid_t pid;
	bool off;                        /* not used (any more) by this host */
	bool probed;                     /* program and cgroup below are looked up */
	char *program, *cgroup;          /* the host's monitor program and cgroup base, or NULL */
};
#define MONITOR_ZYGOTE_INIT { -1, 0, false, false, NULL, NULL }

/* End the zygote (its monitors go on) and free what it holds. */
void monitor_zygote_close(struct monitor_zygote *z);

struct attempt_spec {
	const char *dir;                 /* the attempt's folder (exists) */
	const char *const *argv;         /* argv[0] looked up in PATH when it has no '/' */
	const char *const *env;
	const char *cwd;
	const char *stdin_path;          /* NULL: /dev/null */
	struct monitor_zygote *zygote;   /* NULL: a monitor started for this attempt */
};

struct attempt {
	char *dir;
	pid_t monitor;                   /* 0: unknown */
	int pidfd;                       /* the monitor's, for poll(); -1: none */
	bool own;                        /* our child: reap it */
	pid_t child;                     /* the program (and its group); 0: not known yet */
	unsigned long long child_start;
	int out_fd, err_fd;              /* read ends of the logs; -1: closed */
	int64_t off[2];                  /* bytes of stdout, stderr read so far */
	bool ended;                      /* the monitor is gone */
	bool has_exit;                   /* ...and it wrote how the program ended */
	int exit_code;                   /* exit status, or 128 + signal */
	int term_signal;
	double finished_at;              /* wall clock, seconds */
};

/*
 * Where attempts are contained (docs/running.md, "Process containment"):
 * the cgroup v2 folder each attempt gets a cgroup of its own below (our
 * own cgroup, when cgroup2 is mounted and we may write to it; malloc'd),
 * or NULL: the monitor as child subreaper alone.  $SKILLMEAT_CONTAINMENT=
 * subreaper asks for the latter.
 */
char *attempt_cgroup_base(void);

/* Start an attempt under a new monitor.  SM_ERR with *err when it could not. */
int attempt_start(struct attempt *a, const struct attempt_spec *spec, char **err);

enum attempt_found {
	ATTEMPT_LIVE,     /* the monitor is alive: follow it */
	ATTEMPT_EXITED,   /* it finished while no host watched: collect it */
	ATTEMPT_LOST,     /* no monitor, no exit (it never started, or the machine rebooted) */
};
/*
 * Find the attempt an earlier host started in `dir`.  LIVE and EXITED
 * leave `a` open (log read ends at 0: the caller replays them); LOST
 * also kills what is left of the program's group if its leader is still
 * the one the monitor recorded.
 */
enum attempt_found attempt_adopt(struct attempt *a, const char *dir);

/* Has the monitor gone?  Reaps our own; reads `exit` once it has. */
bool attempt_check_ended(struct attempt *a);

/* Data read from the logs, stream 1 (stdout) or 2 (stderr). */
typedef void (*attempt_data_fn)(void *ctx, int stream, const char *data, size_t len);
/*
 * Read what the logs have past off[], each stream up to offset stop[s]
 * (-1: to its end).  1 when a stream stopped at its limit (more may be
 * there), 0 when both reached their end, SM_EIO on a read error.
 */
int attempt_follow(struct attempt *a, attempt_data_fn fn, void *ctx, const int64_t stop[2]);

/* Signal the program's whole group, if it is still ours.  SM_ENOENT: not (yet) known. */
int attempt_signal(struct attempt *a, int sig);

/* Is the program's pid known yet (the monitor records it once it started it)? */
bool attempt_program_known(struct attempt *a);

/* Kill the program's group if its leader is still the one the monitor recorded. */
void attempt_kill_orphan(struct attempt *a);

/* Close descriptors; the monitor, if alive, goes on without us. */
void attempt_release(struct attempt *a);

#endif
