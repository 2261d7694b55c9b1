/*
 * strv.h - a growing NULL-terminated vector of owned strings (argv and
 * environment lists).  Zero-initialise, push, then detach the array.
 */
#ifndef SM_STRV_H
#define SM_STRV_H

#include "compat.h"

struct strv {
	char **v;
	size_t nr, alloc;
};
void strv_push(struct strv *sv, const char *s);
void strv_pushf(struct strv *sv, const char *fmt, ...) SM_PRINTF(2, 3);
/* The array (never NULL: empty when nothing was pushed); sv is empty again. */
char **strv_detach(struct strv *sv);
/* A detached array and its strings. */
void strv_free(char **v);

#endif
