/*
 * numconv.h - numbers read back from the database or a file, converted
 * with their range checked: a double cast to an integer type it does not
 * fit is undefined behaviour, and a stored value can be anything (1e308,
 * NaN) once the file is someone else's.
 */
#ifndef SM_NUMCONV_H
#define SM_NUMCONV_H

#include <stdint.h>
#include <time.h>

/* NaN is 0; anything past the int64_t range is clamped to it. */
static inline int64_t num_to_i64(double d)
{
	if (d != d)
		return 0;
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

/* Seconds since the epoch, clamped to what gmtime/localtime can show
 * (years 0 to 9999): -62167219200 to 253402300799. */
static inline time_t num_to_time(double d)
{
	int64_t t = num_to_i64(d);
	if (t < -62167219200LL)
		t = -62167219200LL;
	if (t > 253402300799LL)
		t = 253402300799LL;
	return (time_t)t;
}

#endif
