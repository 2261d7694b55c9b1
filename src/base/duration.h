/*
 * duration.h - SWDL durations: "[Nd][Nh][Nm][Ns]", in that order, at least
 * one part, integers only, lowercase, surrounding white space allowed.
 * Upstream turns anything else into 0 seconds silently; we report it.
 */
#ifndef SM_DURATION_H
#define SM_DURATION_H

#include "compat.h"

/* Parse `text`; on success store seconds and return true. */
bool duration_parse(const char *text, int64_t *seconds);
/* Upstream's display form: "1h 30m", "25h", "0m" (seconds dropped). */
void duration_format(int64_t seconds, char *buf, size_t size);

#endif
