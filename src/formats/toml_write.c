#include "../base/compat.h"
#include "toml_write.h"

#include <ctype.h>
#include <math.h>

/* A sequence of mappings is written as an array of tables ([[key]]). */
static bool is_table_array(const struct node *n)
{
	if (n->kind != NODE_SEQ || !n->nr)
		return false;
	for (size_t i = 0; i < n->nr; i++)
		if (n->items[i]->kind != NODE_MAP)
			return false;
	return true;
}

static void write_string(struct strbuf *out, const char *s, size_t len);

static void write_key(struct strbuf *out, const struct node *key)
{
	bool bare = key->len > 0;
	for (size_t i = 0; bare && i < key->len; i++)
		bare = isalnum((unsigned char)key->text[i]) || key->text[i] == '_' ||
		       key->text[i] == '-';
	if (bare)
		strbuf_add(out, key->text, key->len);
	else
		write_string(out, key->text, key->len);
}

static void write_string(struct strbuf *out, const char *s, size_t len)
{
	/* JSON's string escapes are a subset of TOML's basic-string escapes,
	 * except DEL, which TOML wants escaped. */
	struct strbuf tmp = STRBUF_INIT;
	strbuf_add_json_string(&tmp, s, len, false);
	for (size_t i = 0; i < tmp.len; i++) {
		if (tmp.buf[i] == 0x7f)
			strbuf_addstr(out, "\\u007F");
		else
			strbuf_addch(out, tmp.buf[i]);
	}
	strbuf_release(&tmp);
}

static void write_float(struct strbuf *out, double d)
{
	if (isnan(d)) {
		strbuf_addstr(out, "nan");
		return;
	}
	if (isinf(d)) {
		strbuf_addstr(out, d < 0 ? "-inf" : "inf");
		return;
	}
	strbuf_add_shortest_double(out, d);
}

static void write_inline(struct strbuf *out, const struct node *n)
{
	switch (n->kind) {
	case NODE_STRING: write_string(out, n->text, n->len); break;
	case NODE_INT: strbuf_addf(out, "%lld", (long long)n->v.i); break;
	case NODE_FLOAT: write_float(out, n->v.f); break;
	case NODE_BOOL: strbuf_addstr(out, n->v.b ? "true" : "false"); break;
	case NODE_DATETIME: strbuf_add(out, n->text, n->len); break;
	case NODE_NULL: strbuf_addstr(out, "\"\""); break; /* only inside arrays */
	case NODE_SEQ:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < n->nr; i++) {
			if (i)
				strbuf_addstr(out, ", ");
			write_inline(out, n->items[i]);
		}
		strbuf_addch(out, ']');
		break;
	case NODE_MAP: {
		bool first = true;
		strbuf_addch(out, '{');
		for (size_t i = 0; i < n->nr; i++) {
			if (n->pairs[i].value->kind == NODE_NULL)
				continue;
			strbuf_addstr(out, first ? " " : ", ");
			first = false;
			write_key(out, n->pairs[i].key);
			strbuf_addstr(out, " = ");
			write_inline(out, n->pairs[i].value);
		}
		strbuf_addstr(out, first ? "}" : " }");
		break;
	}
	}
}

struct path {
	const struct node *keys[128];
	size_t nr;
};

static void write_header(struct strbuf *out, const struct path *p, bool array)
{
	if (out->len)
		strbuf_addch(out, '\n');
	strbuf_addstr(out, array ? "[[" : "[");
	for (size_t i = 0; i < p->nr; i++) {
		if (i)
			strbuf_addch(out, '.');
		write_key(out, p->keys[i]);
	}
	strbuf_addstr(out, array ? "]]\n" : "]\n");
}

static bool is_plain(const struct node *v)
{
	return v->kind != NODE_NULL && v->kind != NODE_MAP && !is_table_array(v);
}

/* A table needs its own [header] unless sub-headers define it implicitly. */
static bool needs_header(const struct node *map)
{
	if (!map->nr)
		return true;
	for (size_t i = 0; i < map->nr; i++)
		if (is_plain(map->pairs[i].value))
			return true;
	return false;
}

static void write_table(struct strbuf *out, const struct node *map, struct path *p);

/* Sub-tables, then arrays of tables (each group in key order). */
static void write_children(struct strbuf *out, const struct node *map, struct path *p, bool arrays)
{
	for (size_t i = 0; i < map->nr; i++) {
		const struct node *v = map->pairs[i].value;
		if (arrays ? !is_table_array(v) : v->kind != NODE_MAP)
			continue;
		if (p->nr == ARRAY_SIZE(p->keys)) { /* deeper than any manifest: inline */
			write_key(out, map->pairs[i].key);
			strbuf_addstr(out, " = ");
			write_inline(out, v);
			strbuf_addch(out, '\n');
			continue;
		}
		p->keys[p->nr++] = map->pairs[i].key;
		if (!arrays) {
			if (needs_header(v))
				write_header(out, p, false);
			write_table(out, v, p);
		} else {
			for (size_t k = 0; k < v->nr; k++) {
				write_header(out, p, true);
				write_table(out, v->items[k], p);
			}
		}
		p->nr--;
	}
}

static void write_table(struct strbuf *out, const struct node *map, struct path *p)
{
	/* Plain values first: after a sub-table header they would land in it. */
	for (size_t i = 0; i < map->nr; i++) {
		const struct node *v = map->pairs[i].value;
		if (!is_plain(v))
			continue;
		write_key(out, map->pairs[i].key);
		strbuf_addstr(out, " = ");
		write_inline(out, v);
		strbuf_addch(out, '\n');
	}
	write_children(out, map, p, false);
	write_children(out, map, p, true);
}

int toml_write(struct strbuf *out, const struct node *root)
{
	if (!root || root->kind != NODE_MAP)
		return SM_ERR;
	struct path p = { { NULL }, 0 };
	write_table(out, root, &p);
	return SM_OK;
}
