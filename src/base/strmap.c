#include "compat.h"
#include "strmap.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct strmap_slot *find(const struct strmap *m, const char *key)
{
	size_t i = hash_str(key) & (m->cap - 1);
	while (m->slots[i].key && strcmp(m->slots[i].key, key))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void grow(struct strmap *m)
{
	struct strmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key) = old.slots[i];
	free(old.slots);
}

bool strmap_put(struct strmap *m, const char *key, size_t value)
{
	if ((m->nr + 1) * 4 > m->cap * 3)
		grow(m);
	struct strmap_slot *s = find(m, key);
	if (s->key)
		return false;
	s->key = key;
	s->value = value;
	m->nr++;
	return true;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	if (!m->cap)
		return false;
	struct strmap_slot *s = find(m, key);
	if (!s->key)
		return false;
	if (value)
		*value = s->value;
	return true;
}

void strmap_release(struct strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->nr = 0;
}
