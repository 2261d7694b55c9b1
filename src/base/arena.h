/*
 * arena.h - bump allocator for everything that lives as long as a document
 * (located trees, the workflow model, expression ASTs).  One arena_free()
 * releases it all; nothing inside is freed on its own.
 */
#ifndef SM_ARENA_H
#define SM_ARENA_H

#include "compat.h"

struct arena_chunk;
struct arena {
	struct arena_chunk *head;
	size_t total; /* bytes handed out, for limits and benchmarks */
};

#define ARENA_INIT { NULL, 0 }

void *arena_alloc(struct arena *a, size_t n);   /* zeroed, 16-byte aligned */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...) SM_PRINTF(2, 3);
void arena_free(struct arena *a);

#define ARENA_NEW(a, type) ((type *)arena_alloc((a), sizeof(type)))
#define ARENA_ARRAY(a, type, n) ((type *)arena_alloc((a), sizeof(type) * (n)))

#endif
