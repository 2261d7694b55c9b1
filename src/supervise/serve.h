/*
 * serve.h - the parts of the skillmeat-monitor program beyond monitor_main().
 */
#ifndef SM_MONITOR_SERVE_H
#define SM_MONITOR_SERVE_H

#include <limits.h>

/* DIR/monitor, DIR/.monitor.tmp, DIR/exit, DIR/.exit.tmp; -1 when too long. */
int monitor_paths(char paths[4][PATH_MAX], const char *dir);

/*
 * Serve the zygote's requests on `sock` (monitor_body.h) until the host
 * closes it.  `mode` is the program's "--serve" argument, which each forked
 * monitor overwrites with "attempt" so that `ps` tells them apart.  Returns
 * the program's exit status: 0 at EOF, 1 when the stream broke.
 */
int monitor_serve(int sock, char *mode);

#endif
