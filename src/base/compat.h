/*
 * Room base/ (docs/ARCHITECTURE.md), the floor: what every other room
 * uses and which uses nothing of ours: strings and buffers (strbuf, strv,
 * strmap, arena), located diagnostics, durations, files (fsutil), JSON
 * writing, terminal-safe text, suggestions.  This header is its door and
 * the first include of every .c file.
 *
 * compat.h - the first include of every .c file in the project.
 *
 * Feature macros, the system headers nearly every file needs, and a few
 * small macros.  Keep it small: anything bigger earns a header of its own.
 */
#ifndef SM_COMPAT_H
#define SM_COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define UNUSED(x) ((void)(x))

#if defined(__GNUC__)
#define SM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SM_NORETURN __attribute__((noreturn))
#else
#define SM_PRINTF(f, a)
#define SM_NORETURN
#endif

/* Error codes returned by library functions (0 = success). */
enum sm_err {
	SM_OK = 0,
	SM_ERR = -1,       /* failure described in the diagnostics list */
	SM_ENOENT = -2,    /* a named thing does not exist */
	SM_EIO = -3,       /* an I/O call failed; errno is kept */
	SM_ELIMIT = -4,    /* an input exceeded a configured limit */
};

/*
 * Allocation that cannot fail: on out-of-memory the process aborts with a
 * message (the git "xmalloc" convention).  Recovering from OOM halfway
 * through a parse buys nothing for a CLI, and it keeps every call site
 * honest about the real errors it must handle.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) SM_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap);

/* Grow an array so that it can hold at least `nr` items (git ALLOC_GROW). */
#define ALLOC_GROW(arr, nr, alloc)                                          \
	do {                                                                \
		if ((nr) > (alloc)) {                                       \
			(alloc) = (alloc) ? (alloc) * 2 : 8;                \
			if ((alloc) < (nr))                                 \
				(alloc) = (nr);                             \
			(arr) = xrealloc((arr), (alloc) * sizeof(*(arr)));  \
		}                                                           \
	} while (0)

#endif
