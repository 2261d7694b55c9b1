/*
 * strmap.h - open-addressing hash map from borrowed C strings to size_t.
 * Keys are not copied: they must outlive the map (they live in an arena).
 */
#ifndef SM_STRMAP_H
#define SM_STRMAP_H

#include "compat.h"

struct strmap_slot {
	const char *key;
	size_t value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap, nr;
};

#define STRMAP_INIT { NULL, 0, 0 }

/* Insert; returns false (and leaves the old value) if the key exists. */
bool strmap_put(struct strmap *m, const char *key, size_t value);
bool strmap_get(const struct strmap *m, const char *key, size_t *value);
void strmap_release(struct strmap *m);

#endif
