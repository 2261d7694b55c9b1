/*
 * Room supervise/ (docs/ARCHITECTURE.md): starting processes and watching
 * them end.  proc.h runs short commands (posix_spawn, pipes with capped
 * buffers, a deadline); monitor.h runs an attempt under a monitor process
 * that outlives its host, with the skillmeat-monitor program
 * (monitor_main.c, monitor_body.c) that does it, forked by a zygote of the
 * host's (monitor_zygote.c, the program's serve.c).  Uses base/ only and
 * knows nothing of runs, stages or runners: engine/ tells it what to
 * start.  This header is the room's door; include it from other rooms.
 */
#ifndef SM_SUPERVISE_H
#define SM_SUPERVISE_H

#include "proc.h"
#include "monitor.h"

#endif
