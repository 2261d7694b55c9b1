#include "compat.h"
#include "arena.h"

#include <sys/mman.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	bool mapped;      /* from mmap (huge-page advised), not malloc */
	size_t map_size;  /* bytes to munmap */
	max_align_t data[];
};

/*
 * Chunks double from 64 KiB, so a small workflow costs little; from 2 MiB
 * on they are mapped 2 MiB-aligned and advised for transparent huge pages,
 * because on a big document page faults, not parsing, dominate (a 10,000
 * stage workflow touches ~30 MB).  All chunk memory starts zeroed, and is
 * never reused inside an arena, so handing out zeroed memory costs nothing.
 */
#define CHUNK_FIRST (64 * 1024)
#define HUGE_PAGE (2 * 1024 * 1024)

static struct arena_chunk *map_chunk(size_t bytes)
{
	size_t len = bytes + HUGE_PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	char *aligned = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (aligned > p)
		munmap(p, (size_t)(aligned - p));
	size_t tail = (size_t)(p + len - (aligned + bytes));
	if (tail)
		munmap(aligned + bytes, tail);
#ifdef MADV_HUGEPAGE
	madvise(aligned, bytes, MADV_HUGEPAGE);
#endif
	struct arena_chunk *c = (struct arena_chunk *)aligned;
	c->mapped = true;
	c->map_size = bytes;
	return c;
}

static struct arena_chunk *new_chunk(struct arena *a, size_t need)
{
	size_t size = a->head ? a->head->size * 2 : CHUNK_FIRST;
	if (size > 64 * HUGE_PAGE)
		size = 64 * HUGE_PAGE;
	if (size < need)
		size = need;
	size_t bytes = sizeof(struct arena_chunk) + size;
	struct arena_chunk *c = NULL;
	if (bytes >= HUGE_PAGE) {
		bytes = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
		c = map_chunk(bytes);
	}
	if (!c) {
		c = xcalloc(1, bytes);
		c->mapped = false;
	}
	c->size = bytes - sizeof(struct arena_chunk);
	c->used = 0;
	c->next = a->head;
	a->head = c;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < n)
		c = new_chunk(a, n);
	void *p = (char *)c->data + c->used;
	c->used += n;
	a->total += n;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *tmp = xvasprintf(fmt, ap);
	va_end(ap);
	char *p = arena_strdup(a, tmp);
	free(tmp);
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		if (c->mapped)
			munmap(c, c->map_size);
		else
			free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}
