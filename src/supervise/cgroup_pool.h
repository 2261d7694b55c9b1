/*
 * cgroup_pool.h - the zygote's attempt cgroups, reused (cgroup_pool.c says
 * why and when a cgroup may be given again).  Used by serve.c only, in the
 * skillmeat-monitor program; names are BASE/skillmeat-ZYGOTEPID-TOKEN-SEQ.
 */
#ifndef SM_SUPERVISE_CGROUP_POOL_H
#define SM_SUPERVISE_CGROUP_POOL_H

#include <sys/types.h>

/*
 * A cgroup below `base` for the next attempt: an idle one, or a new one
 * (with cgroup.kill).  NULL when none can be had: the monitor then tries to
 * make its own, as without a zygote.  The string is the pool's; tell the
 * pool what became of it with cgroup_pool_lent() before the next take.
 */
const char *cgroup_pool_take(const char *base);

/* The cgroup last taken went to the monitor `monitor`; <= 0: the fork failed. */
void cgroup_pool_lent(pid_t monitor);

/* A monitor was reaped with `status`: its cgroup idle again, or removed. */
void cgroup_pool_ended(pid_t monitor, int status);

/* The zygote ends: every cgroup it made that is empty is removed. */
void cgroup_pool_close(void);

#endif
