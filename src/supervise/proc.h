/*
 * proc.h - child processes for stages.
 *
 * A child is spawned (posix_spawn, no shell unless argv asks for one)
 * into a new process group, so that stopping it stops everything it
 * started.  Its exit is watched through a pidfd, its stdout and stderr
 * are read through non-blocking pipes into buffers capped at output_cap
 * (what does not fit is counted, not kept), and stdin is fed from memory
 * or /dev/null.  Every descriptor of ours is close-on-exec, so children
 * inherit only 0, 1 and 2.  Supervising children makes the process
 * ignore SIGPIPE (a child closing its stdin must not kill the host).
 */
#ifndef SM_ENGINE_PROC_H
#define SM_ENGINE_PROC_H

#include "../base/strbuf.h"

#include <spawn.h>
#include <sys/types.h>

struct proc;

/* Called with each chunk read (stream 1 = stdout, 2 = stderr), before capping. */
typedef void (*proc_data_fn)(void *ctx, struct proc *p, int stream, const char *data, size_t len);

struct proc_spec {
	const char *const *argv;  /* argv[0] is looked up in PATH when it has no '/' */
	const char *const *env;   /* NULL: inherit the environment */
	const char *cwd;          /* NULL: inherit */
	const char *input;        /* written to stdin, then closed; NULL: /dev/null */
	size_t input_len;
	size_t output_cap;        /* bytes kept of stdout and of stderr; 0: 1 MiB */
	proc_data_fn on_data;
	void *ctx;
};

struct proc {
	pid_t pid;                /* also the process group id */
	int pidfd, in_fd, out_fd, err_fd; /* -1 once closed */
	struct strbuf out, err;
	size_t out_dropped, err_dropped, cap;
	const char *input;
	size_t input_len, input_off;
	proc_data_fn on_data;
	void *ctx;
	bool exited;
	int exit_code;            /* the exit status, or 128 + signal */
	int term_signal;          /* the signal that ended it, or 0 */
};

/*
 * Attributes for a child in a group (POSIX_SPAWN_SETPGROUP) or a session
 * (POSIX_SPAWN_SETSID) of its own, with no signal blocked and the signals
 * a host ignores or handles back to their defaults.  Non-zero on failure.
 */
int proc_spawnattr_init(posix_spawnattr_t *attr, short where);

/* The path of program `name` (looked up in env's PATH when it has no '/'), or NULL. */
char *proc_find_program(const char *name, const char *const *env);

/* Start a child.  On failure returns SM_ERR with *err (caller frees). */
int proc_spawn(struct proc *p, const struct proc_spec *spec, char **err);

/*
 * Wait up to timeout_ms (-1: no limit) for any of `procs` to be readable,
 * writable or to exit, and service them: read output, feed input, reap
 * exits.  Returns SM_OK (also on timeout) or SM_EIO.
 */
int proc_poll(struct proc *const *procs, size_t n, int timeout_ms);

/* Exited, and its output pipes have reached end of file. */
bool proc_done(const struct proc *p);

/* Send `sig` to the child's whole process group (grandchildren too). */
int proc_signal_group(const struct proc *p, int sig);

/* Is any process of the child's group still there (zombies count until reaped)? */
bool proc_group_alive(const struct proc *p);

/*
 * Run a child to its end, waiting at most timeout_s seconds (then its group
 * is killed and SM_ELIMIT returned).  Output is in out->out / out->err and
 * the status in out->exit_code; the caller proc_release()s `out` unless
 * SM_ERR (could not start, *err set).
 */
int proc_run(const struct proc_spec *spec, int timeout_s, struct proc *out, char **err);

/* Close descriptors and free buffers (the child must have been reaped). */
void proc_release(struct proc *p);

#endif
