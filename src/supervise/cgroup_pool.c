/*
 * cgroup_pool.c - the zygote's attempt cgroups, reused from one attempt to
 * the next (see cgroup_pool.h).
 *
 * Why: making a cgroup and removing it costs the kernel far more than
 * joining one (the css and its interface files' kernfs nodes made, then
 * taken down and freed after an RCU grace period): about 250 us of CPU an
 * attempt on the reference VM, a quarter of what a `run: true` stage costs
 * in all, while joining a cgroup that exists costs next to nothing
 * (bench/README.md, issue 26).  A host's zygote lives as long as the host,
 * so it keeps the cgroups of the monitors that ended cleanly and gives them
 * to the next attempts.
 *
 * Safety, the one rule: a cgroup is given again only when its monitor
 * exited MONITOR_EXIT_CLEAN - it wrote the attempt's `exit` record, and
 * its cgroup was never cgroup.kill()ed as far as it could tell (the kernel
 * kills each child later clone3()d into a killed cgroup; a monitor that
 * meets such a cgroup moves its program in instead and reports it spoilt:
 * monitor_body.c) - and cgroup.events says it is empty.  Anything else is
 * removed (or left to whoever kills it, when something still runs in it).
 * Names carry a random token, so that a lost attempt's recorded cgroup (a
 * host cgroup.kill()s it) is never the name of a later zygote's cgroup,
 * even with the zygote's pid reused.
 *
 * Who removes a cgroup: the zygote, when a monitor's ended badly and when
 * the zygote itself ends (every one it made that is empty then); a monitor
 * whose zygote is gone, its own at its end (monitor_body.c); and a zygote
 * starting, the empty ones a killed zygote left (named after its pid).
 */
#include "../base/compat.h"
#include "cgroup_pool.h"
#include "monitor_body.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Idle cgroups kept at most: more than a host runs at once is never needed. */
#define POOL_IDLE_MAX 64

struct pooled {
	char *dir;
	pid_t owner;                     /* its monitor; 0: idle; -1: taken, not yet forked */
};

static struct pooled *pool;
static size_t nr_pool, alloc_pool;
static unsigned long next_seq;
static char *swept_base;                 /* the base whose leftovers were removed */

/* "skillmeat-PID-TOKEN-SEQ": the PID of the zygote that made it, else 0
 * (a monitor's own cgroup is "skillmeat-PID": not the pool's). */
static pid_t maker_of(const char *name)
{
	long long pid = 0;
	const char *c = name + 10;
	if (strncmp(name, "skillmeat-", 10))
		return 0;
	for (; *c >= '0' && *c <= '9' && pid < INT_MAX; c++)
		pid = pid * 10 + (*c - '0');
	return *c == '-' && strchr(c + 1, '-') ? (pid_t)pid : 0;
}

/* The pool cgroups under `base` of zygotes that are gone (killed before they
 * could remove them): removed when empty (rmdir refuses one that is not). */
static void sweep_leftovers(const char *base)
{
	if (swept_base && !strcmp(swept_base, base))
		return;
	free(swept_base);
	swept_base = strdup(base);
	DIR *d = opendir(base);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		pid_t maker = maker_of(e->d_name);
		char path[PATH_MAX];
		if (maker <= 0 || maker == getpid() || !kill(maker, 0) || errno != ESRCH)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", base, e->d_name) < (int)sizeof(path))
			rmdir(path);
	}
	if (d)
		closedir(d);
}

static bool under(const char *dir, const char *base)
{
	size_t n = strlen(base);
	return !strncmp(dir, base, n) && !strncmp(dir + n, "/skillmeat-", 11);
}

static char *make_one(const char *base)
{
	static unsigned int token;
	char path[PATH_MAX], kill_path[PATH_MAX + 16];
	while (!token && getrandom(&token, sizeof(token), 0) != (ssize_t)sizeof(token))
		if (errno != EINTR)
			token = (unsigned int)time(NULL) ^ (unsigned int)getpid() << 16;
	int n = snprintf(path, sizeof(path), "%s/skillmeat-%ld-%08x-%lu", base, (long)getpid(),
			 token, next_seq++);
	if (n <= 0 || n >= (int)sizeof(path) || mkdir(path, 0755))
		return NULL;
	snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", path);
	if (access(kill_path, W_OK)) { /* no cgroup.kill (Linux < 5.14): not one to use */
		rmdir(path);
		return NULL;
	}
	return strdup(path);
}

const char *cgroup_pool_take(const char *base)
{
	if (!base || !*base)
		return NULL;
	for (size_t i = 0; i < nr_pool; i++) {
		if (!pool[i].owner && under(pool[i].dir, base)) {
			pool[i].owner = -1;
			return pool[i].dir;
		}
	}
	sweep_leftovers(base);
	if (nr_pool == alloc_pool) {
		size_t want = alloc_pool ? 2 * alloc_pool : 16;
		struct pooled *p = realloc(pool, want * sizeof(*p));
		if (!p)
			return NULL;
		pool = p;
		alloc_pool = want;
	}
	char *dir = make_one(base);
	if (!dir)
		return NULL;
	pool[nr_pool++] = (struct pooled){ dir, -1 };
	return dir;
}

static struct pooled *find_owner(pid_t owner)
{
	for (size_t i = 0; i < nr_pool; i++)
		if (pool[i].owner == owner)
			return &pool[i];
	return NULL;
}

static size_t nr_idle(void)
{
	size_t n = 0;
	for (size_t i = 0; i < nr_pool; i++)
		n += !pool[i].owner;
	return n;
}

void cgroup_pool_lent(pid_t monitor)
{
	struct pooled *p = find_owner(-1); /* one at a time: taken, then forked */
	if (p)
		p->owner = monitor > 0 ? monitor : 0; /* a failed fork put nothing in it */
}

static void drop(struct pooled *p)
{
	rmdir(p->dir); /* refused while something is in it: then whoever kills it removes it */
	free(p->dir);
	*p = pool[--nr_pool];
}

void cgroup_pool_ended(pid_t monitor, int status)
{
	struct pooled *p = find_owner(monitor);
	if (!p)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == MONITOR_EXIT_CLEAN &&
	    nr_idle() < POOL_IDLE_MAX && cgroup_populated(p->dir) == 0) {
		p->owner = 0;
		return;
	}
	drop(p);
}

void cgroup_pool_close(void)
{
	/* The ones still lent hold a live program (rmdir refuses: their monitors
	 * remove them), or are empty: ending this moment, or - a monitor forked
	 * just before its host went - not yet entered, whose attempt then goes
	 * without a cgroup (its monitor's subreaper sweep alone). */
	while (nr_pool)
		drop(&pool[0]);
	free(pool);
	pool = NULL;
	alloc_pool = 0;
	free(swept_base);
	swept_base = NULL;
}
