#include "compat.h"
#include "duration.h"

#include <math.h>

#include <ctype.h>
#include <sys/time.h>

/* Upper bound keeps the sum far from overflow: 10^9 days. */
#define PART_MAX 1000000000LL

bool duration_parse(const char *text, int64_t *seconds)
{
	static const struct { char unit; int64_t mult; } parts[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	const char *p = text;
	while (isspace((unsigned char)*p))
		p++;
	int64_t total = 0;
	size_t next = 0;
	bool any = false;
	while (*p && !isspace((unsigned char)*p)) {
		if (!isdigit((unsigned char)*p))
			return false;
		int64_t v = 0;
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			if (v > PART_MAX)
				return false;
		}
		while (next < ARRAY_SIZE(parts) && parts[next].unit != *p)
			next++;
		if (next == ARRAY_SIZE(parts))
			return false;
		total += v * parts[next++].mult;
		p++;
		any = true;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || !any)
		return false;
	*seconds = total;
	return true;
}

void duration_format(int64_t seconds, char *buf, size_t size)
{
	if (seconds <= 0) {
		snprintf(buf, size, "0m");
		return;
	}
	int64_t h = seconds / 3600, m = (seconds % 3600) / 60;
	if (h && m)
		snprintf(buf, size, "%lldh %lldm", (long long)h, (long long)m);
	else if (h)
		snprintf(buf, size, "%lldh", (long long)h);
	else if (m)
		snprintf(buf, size, "%lldm", (long long)m);
	else
		snprintf(buf, size, "0m");
}

char *iso_utc(time_t sec, long usec)
{
	struct tm tm;
	gmtime_r(&sec, &tm);
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

char *iso_utc_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return iso_utc(tv.tv_sec, (long)tv.tv_usec);
}

void time_rfc3339(double t, char *buf, size_t size)
{
	double whole = floor(t);
	long ms = (long)((t - whole) * 1000 + 0.5);
	time_t secs = (time_t)whole;
	if (ms >= 1000) {
		secs++;
		ms -= 1000;
	}
	struct tm tm;
	gmtime_r(&secs, &tm);
	char day[24];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03ldZ", day, ms);
}
