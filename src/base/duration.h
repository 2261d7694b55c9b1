/*
 * duration.h - SWDL durations: "[Nd][Nh][Nm][Ns]", in that order, at least
 * one part, integers only, lowercase, surrounding white space allowed.
 * Upstream turns anything else into 0 seconds silently; we report it.
 * Also the timestamps upstream writes in manifests.
 */
#ifndef SM_DURATION_H
#define SM_DURATION_H

#include "compat.h"

#include <time.h>

/* Parse `text`; on success store seconds and return true. */
bool duration_parse(const char *text, int64_t *seconds);
/* Upstream's display form: "1h 30m", "25h", "0m" (seconds dropped). */
void duration_format(int64_t seconds, char *buf, size_t size);

/* Naive UTC ISO-8601 with microseconds, as upstream writes timestamps
 * ("2026-01-05T15:07:49.157370"); malloc'd. */
char *iso_utc(time_t sec, long usec);
char *iso_utc_now(void);

/*
 * A time (seconds since the epoch) as RFC 3339 UTC with milliseconds,
 * "2026-12-03T11:19:33.368Z": how every JSON output writes times
 * (docs/cli.md "JSON output").  `size` at least 32.
 */
void time_rfc3339(double t, char *buf, size_t size);

#endif
