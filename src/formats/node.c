#include "../base/compat.h"
#include "node.h"

#include <ctype.h>
#include <math.h>

const char *node_kind_name(enum node_kind kind)
{
	switch (kind) {
	case NODE_NULL: return "null";
	case NODE_BOOL: return "boolean";
	case NODE_INT: return "integer";
	case NODE_FLOAT: return "number";
	case NODE_STRING: return "string";
	case NODE_SEQ: return "list";
	case NODE_MAP: return "mapping";
	case NODE_DATETIME: return "datetime";
	}
	return "?";
}

struct node *node_map_key(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->nr; i++)
		if (!strcmp(map->pairs[i].key->text, key))
			return map->pairs[i].key;
	return NULL;
}

struct node *node_map_get(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->nr; i++) {
		const char *k = map->pairs[i].key->text;
		if (k[0] == key[0] && !strcmp(k, key))
			return map->pairs[i].value;
	}
	return NULL;
}

const struct node *node_path_nearest(const struct node *root, const char *path)
{
	const struct node *cur = root;
	char seg[256];
	const char *p = path;
	while (cur && *p) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			char *end;
			unsigned long idx = strtoul(p + 1, &end, 10);
			if (*end != ']' || cur->kind != NODE_SEQ || idx >= cur->nr)
				break;
			cur = cur->items[idx];
			p = end + 1;
			continue;
		}
		size_t n = strcspn(p, ".[");
		if (n >= sizeof(seg))
			break;
		memcpy(seg, p, n);
		seg[n] = '\0';
		const struct node *next = node_map_get(cur, seg);
		if (!next)
			break;
		cur = next;
		p += n;
	}
	return cur;
}

json_t *node_to_json(const struct node *n)
{
	switch (n->kind) {
	case NODE_NULL: return json_null();
	case NODE_BOOL: return json_boolean(n->v.b);
	case NODE_INT: return json_integer(n->v.i);
	case NODE_FLOAT: /* JSON has no inf or nan: keep them as the text written */
		return isfinite(n->v.f) ? json_real(n->v.f) : json_stringn(n->text, n->len);
	case NODE_STRING:
	case NODE_DATETIME: return json_stringn_nocheck(n->text, n->len);
	case NODE_SEQ: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->nr; i++)
			json_array_append_new(a, node_to_json(n->items[i]));
		return a;
	}
	case NODE_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; i < n->nr; i++)
			json_object_set_new_nocheck(o, n->pairs[i].key->text,
						    node_to_json(n->pairs[i].value));
		return o;
	}
	}
	return json_null();
}

static struct node *new_scalar(struct arena *a, enum node_kind k, const struct loc *loc)
{
	struct node *n = ARENA_NEW(a, struct node);
	n->kind = k;
	n->style = NODE_STYLE_QUOTED;
	n->loc = *loc;
	n->weight = 1;
	n->text = "";
	return n;
}

struct node *node_from_json(struct arena *a, const json_t *j, const struct loc *loc)
{
	struct node *n;
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		n = new_scalar(a, NODE_MAP, loc);
		n->nr = json_object_size(j);
		n->pairs = ARENA_ARRAY(a, struct node_pair, n->nr);
		const char *k;
		json_t *v;
		size_t i = 0;
		json_object_foreach((json_t *)j, k, v) {
			struct node *key = new_scalar(a, NODE_STRING, loc);
			key->text = arena_strdup(a, k);
			key->len = strlen(k);
			n->pairs[i].key = key;
			n->pairs[i++].value = node_from_json(a, v, loc);
			n->weight += n->pairs[i - 1].value->weight + 1;
		}
		return n;
	}
	case JSON_ARRAY:
		n = new_scalar(a, NODE_SEQ, loc);
		n->nr = json_array_size(j);
		n->items = ARENA_ARRAY(a, struct node *, n->nr);
		for (size_t i = 0; i < n->nr; i++) {
			n->items[i] = node_from_json(a, json_array_get(j, i), loc);
			n->weight += n->items[i]->weight;
		}
		return n;
	case JSON_STRING:
		n = new_scalar(a, NODE_STRING, loc);
		n->len = json_string_length(j);
		n->text = arena_strndup(a, json_string_value(j), n->len);
		return n;
	case JSON_INTEGER:
		n = new_scalar(a, NODE_INT, loc);
		n->v.i = json_integer_value(j);
		n->text = arena_printf(a, "%lld", (long long)n->v.i);
		break;
	case JSON_REAL:
		n = new_scalar(a, NODE_FLOAT, loc);
		n->v.f = json_real_value(j);
		n->text = arena_printf(a, "%.17g", n->v.f);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		n = new_scalar(a, NODE_BOOL, loc);
		n->v.b = json_is_true(j);
		n->text = n->v.b ? "true" : "false";
		break;
	default:
		n = new_scalar(a, NODE_NULL, loc);
		n->text = "null";
		break;
	}
	n->len = strlen(n->text);
	return n;
}

static bool all_match(const char *s, int (*pred)(int))
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!pred((unsigned char)*s))
			return false;
	return true;
}

static int is_octal(int c) { return c >= '0' && c <= '7'; }

static bool parse_int(const char *s, int base, int64_t *out)
{
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, base);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	size_t digits = 0;
	while (isdigit((unsigned char)*s))
		s++, digits++;
	if (*s == '.') {
		s++;
		size_t frac = 0;
		while (isdigit((unsigned char)*s))
			s++, frac++;
		if (!digits && !frac)
			return false;
	} else if (!digits) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!all_match(s, isdigit))
			return false;
		return true;
	}
	return *s == '\0';
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

void node_type_plain_scalar(struct node *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	static const char *const infs[] = { ".inf", ".Inf", ".INF", NULL };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	const char *s = n->text;
	const char *u = (*s == '-' || *s == '+') ? s + 1 : s;

	n->kind = NODE_STRING;
	/* Fast path: most plain scalars are words that cannot be anything else. */
	if (*s && !strchr("-+.0123456789~nNtTfF", *s))
		return;
	if (one_of(s, nulls)) {
		n->kind = NODE_NULL;
	} else if (one_of(s, trues) || one_of(s, falses)) {
		n->kind = NODE_BOOL;
		n->v.b = one_of(s, trues);
	} else if (all_match(u, isdigit)) {
		if (parse_int(s, 10, &n->v.i)) {
			n->kind = NODE_INT;
		} else {
			n->kind = NODE_FLOAT;
			n->v.f = strtod(s, NULL);
		}
	} else if (!strncmp(s, "0o", 2) && all_match(s + 2, is_octal)) {
		if (parse_int(s + 2, 8, &n->v.i))
			n->kind = NODE_INT;
	} else if (!strncmp(s, "0x", 2) && all_match(s + 2, isxdigit)) {
		if (parse_int(s + 2, 16, &n->v.i))
			n->kind = NODE_INT;
	} else if (one_of(u, infs)) {
		n->kind = NODE_FLOAT;
		n->v.f = *s == '-' ? -INFINITY : INFINITY;
	} else if (one_of(s, nans)) {
		n->kind = NODE_FLOAT;
		n->v.f = NAN;
	} else if (is_core_float(s)) {
		n->kind = NODE_FLOAT;
		n->v.f = strtod(s, NULL);
	}
}

struct node *node_new_string(struct arena *a, const char *text)
{
	struct node *n = ARENA_NEW(a, struct node);
	n->kind = NODE_STRING;
	n->style = NODE_STYLE_QUOTED;
	n->text = arena_strdup(a, text);
	n->len = (uint32_t)strlen(text);
	n->weight = 1;
	return n;
}

struct node *node_new_map(struct arena *a, size_t cap)
{
	struct node *n = ARENA_NEW(a, struct node);
	n->kind = NODE_MAP;
	n->text = "";
	n->weight = 1;
	n->pairs = ARENA_ARRAY(a, struct node_pair, cap);
	return n;
}

struct node *node_new_seq(struct arena *a, size_t cap)
{
	struct node *n = ARENA_NEW(a, struct node);
	n->kind = NODE_SEQ;
	n->text = "";
	n->weight = 1;
	n->items = ARENA_ARRAY(a, struct node *, cap);
	return n;
}

void node_map_add(struct arena *a, struct node *map, const char *key, struct node *value)
{
	map->pairs[map->nr].key = node_new_string(a, key);
	map->pairs[map->nr++].value = value;
	map->weight += 1 + value->weight;
}

void node_seq_add(struct node *seq, struct node *item)
{
	seq->items[seq->nr++] = item;
	seq->weight += item->weight;
}

struct node *node_map_copy(struct arena *a, const struct node *map, size_t extra)
{
	struct node *n = ARENA_NEW(a, struct node);
	*n = *map;
	n->pairs = ARENA_ARRAY(a, struct node_pair, map->nr + extra);
	if (map->nr)
		memcpy(n->pairs, map->pairs, map->nr * sizeof(*map->pairs));
	return n;
}

void node_map_set(struct arena *a, struct node *map, const char *key, struct node *value)
{
	for (size_t i = 0; i < map->nr; i++) {
		if (!strcmp(map->pairs[i].key->text, key)) {
			map->pairs[i].value = value;
			return;
		}
	}
	node_map_add(a, map, key, value);
}
