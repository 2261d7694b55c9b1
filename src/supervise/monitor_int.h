/*
 * monitor_int.h - shared by monitor.c and monitor_zygote.c only.
 */
#ifndef SM_ENGINE_MONITOR_INT_H
#define SM_ENGINE_MONITOR_INT_H

#include "monitor.h"
#include "monitor_body.h"

/*
 * Have the zygote `z` (started with `program` when it is not yet) fork the
 * monitor `mp` describes for the attempt in `dir`: its pid, and a pidfd of
 * it or -1.  SM_ERR when no monitor was forked: the caller starts one
 * itself.  SM_EIO when the zygote broke after it was asked (it is ended and
 * turned off for good): whether the monitor exists is told by the
 * attempt's lock, once the caller has closed its own descriptor of it.
 */
int monitor_zygote_fork(struct monitor_zygote *z, const char *program,
			const struct monitor_plan *mp, const char *dir, pid_t *pid, int *pidfd);

#endif
