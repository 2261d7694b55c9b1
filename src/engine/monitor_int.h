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
 * it or -1.  SM_ERR when the zygote cannot (turned off for good when it is
 * broken): the caller starts the monitor itself.
 */
int monitor_zygote_fork(struct monitor_zygote *z, const char *program,
			const struct monitor_plan *mp, const char *dir, pid_t *pid, int *pidfd);

#endif
