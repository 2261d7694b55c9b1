/*
 * suggest.h - "did you mean" for unknown keys and names.
 */
#ifndef SM_SUGGEST_H
#define SM_SUGGEST_H

#include "compat.h"

/* Edit distance (insert, delete, substitute, adjacent swap). */
size_t edit_distance(const char *a, const char *b);
/*
 * The candidate nearest to `word`, or NULL when none is close enough
 * (distance at most a third of the longer word, and at least 1 allowed).
 */
const char *suggest_nearest(const char *word, const char *const *candidates, size_t n);

#endif
