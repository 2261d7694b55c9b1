/*
 * yaml_write.c - JSON values as block YAML.  A string is written plain only
 * when YAML 1.2 reads that text back as the same string; anything else is
 * written as a JSON string, which is also a valid YAML double-quoted
 * scalar.  (libfyaml's emitter keeps the quoting of its input, so text
 * that came from JSON would come out quoted everywhere.)
 */
#include "../base/compat.h"
#include "yaml_write.h"
#include "../base/strbuf.h"

#include <ctype.h>
#include <math.h>

static bool looks_like_other_type(const char *s)
{
	static const char *const words[] = { "true", "false", "null", "yes", "no", "on", "off",
		"y", "n", "~", NULL };
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	char *end;
	(void)strtod(s, &end);
	return *end == '\0' || !strncmp(s, "0x", 2) || !strncmp(s, "0o", 2) || !strcmp(s, ".inf") ||
	       !strcmp(s, ".nan");
}

/* Safe as a plain scalar: a conservative set of characters, no YAML indicator first. */
static bool plain_ok(const char *s)
{
	if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` .", s[0]) || looks_like_other_type(s))
		return false;
	for (const char *c = s; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("_-./=+ ", *c))
			return false;
		if (*c == ' ' && (c[1] == '\0' || c[1] == '#' || c[1] == ' '))
			return false;
	}
	return true;
}

static void add_string(struct strbuf *out, const char *s, size_t len)
{
	if (strlen(s) == len && plain_ok(s)) {
		strbuf_add(out, s, len);
		return;
	}
	strbuf_add_json_string(out, s, len, false);
}

static void add_scalar(struct strbuf *out, const json_t *v)
{
	if (json_is_string(v)) {
		add_string(out, json_string_value(v), json_string_length(v));
		return;
	}
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	strbuf_addstr(out, t ? t : "null");
	free(t);
}

static bool is_empty_collection(const json_t *v)
{
	return (json_is_object(v) && !json_object_size(v)) || (json_is_array(v) && !json_array_size(v));
}

static void add_value(struct strbuf *out, const json_t *v, int indent);

/* After "key:" or "- ": a scalar on the same line, a collection on the next ones. */
static void add_child(struct strbuf *out, const json_t *v, int indent)
{
	if (is_empty_collection(v)) {
		strbuf_addstr(out, json_is_object(v) ? " {}\n" : " []\n");
	} else if (json_is_object(v) || json_is_array(v)) {
		strbuf_addch(out, '\n');
		add_value(out, v, indent);
	} else {
		strbuf_addch(out, ' ');
		add_scalar(out, v);
		strbuf_addch(out, '\n');
	}
}

static void add_value(struct strbuf *out, const json_t *v, int indent)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			strbuf_addf(out, "%*s", indent, "");
			add_string(out, k, strlen(k));
			strbuf_addch(out, ':');
			add_child(out, x, indent + 2);
		}
	} else if (json_is_array(v)) {
		/* A list's items sit at the parent key's indentation. */
		int at = indent >= 2 ? indent - 2 : 0;
		json_array_foreach(v, i, x) {
			strbuf_addf(out, "%*s-", at, "");
			if (json_is_object(x) && json_object_size(x)) {
				/* "- key: value", the rest of the mapping under it */
				struct strbuf sub = STRBUF_INIT;
				add_value(&sub, x, at + 2);
				strbuf_addch(out, ' ');
				strbuf_add(out, sub.buf + at + 2, sub.len - (size_t)(at + 2));
				strbuf_release(&sub);
			} else {
				add_child(out, x, at + 4);
			}
		}
	} else {
		strbuf_addf(out, "%*s", indent, "");
		add_scalar(out, v);
		strbuf_addch(out, '\n');
	}
}

int yaml_from_json(const json_t *v, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	if (is_empty_collection(v) || !(json_is_object(v) || json_is_array(v))) {
		add_scalar(&sb, v);
		strbuf_addch(&sb, '\n');
	} else {
		add_value(&sb, v, json_is_array(v) ? 2 : 0);
	}
	*out = strbuf_detach(&sb, NULL);
	return SM_OK;
}

/* ---- located trees, with the source's comments --------------------------- */

struct comment {
	int line;
	bool trailing;   /* after text on its line */
	bool used;
	const char *text; /* from '#' to the end of the line */
	size_t len;
};

struct cwriter {
	struct strbuf *out;
	struct comment *c;
	size_t nr, next;  /* next: first own-line comment not yet written */
	const char *file; /* the source's file: only its nodes place comments */
};

/* Indentation of a line, and whether it opens a block scalar (| or > last). */
static int line_indent(const char *l, const char *end)
{
	int n = 0;
	while (l + n < end && l[n] == ' ')
		n++;
	return n;
}

/*
 * The comments of YAML text: '#' at the start of a line's text or after a
 * blank, outside quotes; lines of block scalars are skipped.
 */
static void scan_comments(const char *src, struct comment **out, size_t *nr)
{
	size_t alloc = 0;
	int line = 0, block_indent = -1;
	*out = NULL;
	*nr = 0;
	for (const char *l = src; *l; ) {
		const char *end = strchr(l, '\n');
		if (!end)
			end = l + strlen(l);
		line++;
		int ind = line_indent(l, end);
		bool blank = l + ind == end;
		if (block_indent >= 0 && (blank || ind > block_indent))
			goto next;
		block_indent = -1;
		char quote = 0;
		const char *last = NULL; /* last non-blank before a comment */
		for (const char *p = l + ind; p < end; p++) {
			if (quote) {
				if (*p == quote)
					quote = 0;
				else if (*p == '\\' && quote == '"' && p + 1 < end)
					p++;
				continue;
			}
			if ((*p == '"' || *p == '\'') && (p == l + ind || strchr(" [{,:-", p[-1])))
				quote = *p;
			else if (*p == '#' && (p == l + ind || p[-1] == ' ' || p[-1] == '\t')) {
				if (*nr == alloc)
					*out = xrealloc(*out, (alloc = alloc ? 2 * alloc : 16) * sizeof(**out));
				(*out)[(*nr)++] = (struct comment){ line, p != l + ind, false, p,
					(size_t)(end - p) };
				break;
			} else if (*p != ' ' && *p != '\t') {
				last = p;
			}
		}
		/* "key: |" or "- >-": the lines after it, indented more, are text */
		if (last) {
			const char *q = last;
			while (q > l && strchr("+-0123456789", *q))
				q--;
			if ((*q == '|' || *q == '>') && (q == l + ind || q[-1] == ' '))
				block_indent = ind;
		}
next:
		l = *end ? end + 1 : end;
	}
}

static bool from_source(const struct cwriter *w, const struct node *n)
{
	return w->c && n->loc.file == w->file && n->loc.line > 0;
}

/* Own-line comments written before the source line `line`. */
static void flush_before(struct cwriter *w, int line, int indent)
{
	for (; w->next < w->nr && w->c[w->next].line < line; w->next++) {
		struct comment *c = &w->c[w->next];
		if (c->trailing || c->used)
			continue;
		strbuf_addf(w->out, "%*s", indent, "");
		strbuf_add(w->out, c->text, c->len);
		strbuf_addch(w->out, '\n');
		c->used = true;
	}
}

/* The trailing comment of source line `line`, before the newline just written. */
static void add_trailing(struct cwriter *w, int line)
{
	for (size_t i = 0; i < w->nr; i++) {
		struct comment *c = &w->c[i];
		if (c->line != line || !c->trailing || c->used)
			continue;
		if (w->out->len && w->out->buf[w->out->len - 1] == '\n')
			w->out->len--;
		strbuf_addstr(w->out, "  ");
		strbuf_add(w->out, c->text, c->len);
		strbuf_addch(w->out, '\n');
		c->used = true;
	}
}

static void add_node(struct cwriter *w, const struct node *n, int indent);

static void add_node_scalar(struct strbuf *out, const struct node *n)
{
	if (n->kind == NODE_FLOAT && isfinite(n->v.f)) {
		strbuf_add_shortest_double(out, n->v.f);
		return;
	}
	json_t *j = node_to_json(n);
	add_scalar(out, j);
	json_decref(j);
}

/*
 * A multi-line string as a literal block (| or |-) when that reads back
 * the same: printable lines, none starting or ending with a blank.
 */
static bool add_block_string(struct strbuf *out, const struct node *n, int indent)
{
	const char *t = n->text;
	size_t len = n->len;
	if (n->kind != NODE_STRING || strlen(t) != len || !strchr(t, '\n') || len < 2 ||
	    (len >= 2 && t[len - 1] == '\n' && t[len - 2] == '\n'))
		return false;
	for (const char *l = t; *l;) {
		const char *e = strchr(l, '\n');
		e = e ? e : l + strlen(l);
		if (e > l && (l[0] == ' ' || l[0] == '\t' || e[-1] == ' ' || e[-1] == '\t'))
			return false;
		for (const char *c = l; c < e; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return false;
		l = *e ? e + 1 : e;
	}
	bool keep = t[len - 1] == '\n';
	strbuf_addstr(out, keep ? " |\n" : " |-\n");
	for (const char *l = t; *l;) {
		const char *e = strchr(l, '\n');
		e = e ? e : l + strlen(l);
		if (e > l)
			strbuf_addf(out, "%*s", indent, "");
		strbuf_add(out, l, (size_t)(e - l));
		strbuf_addch(out, '\n');
		l = *e ? e + 1 : e;
	}
	return true;
}

static void add_node_child(struct cwriter *w, const struct node *n, int indent, int line)
{
	bool coll = n->kind == NODE_SEQ || n->kind == NODE_MAP;
	if (coll && !n->nr) {
		strbuf_addstr(w->out, n->kind == NODE_MAP ? " {}\n" : " []\n");
		add_trailing(w, line);
	} else if (coll) {
		strbuf_addch(w->out, '\n');
		add_trailing(w, line);
		add_node(w, n, indent);
	} else if (add_block_string(w->out, n, indent)) {
		add_trailing(w, line);
	} else {
		strbuf_addch(w->out, ' ');
		add_node_scalar(w->out, n);
		strbuf_addch(w->out, '\n');
		add_trailing(w, line);
		if (from_source(w, n) && n->loc.line != line)
			add_trailing(w, n->loc.line);
	}
}

static void add_node(struct cwriter *w, const struct node *n, int indent)
{
	if (n->kind == NODE_MAP) {
		for (size_t i = 0; i < n->nr; i++) {
			const struct node *k = n->pairs[i].key;
			int line = from_source(w, k) ? k->loc.line : 0;
			if (line)
				flush_before(w, line, indent);
			strbuf_addf(w->out, "%*s", indent, "");
			add_string(w->out, k->text, strlen(k->text));
			strbuf_addch(w->out, ':');
			add_node_child(w, n->pairs[i].value, indent + 2, line);
		}
	} else if (n->kind == NODE_SEQ) {
		int at = indent >= 2 ? indent - 2 : 0;
		for (size_t i = 0; i < n->nr; i++) {
			const struct node *x = n->items[i];
			int line = from_source(w, x) ? x->loc.line : 0;
			if (line)
				flush_before(w, line, at);
			strbuf_addf(w->out, "%*s-", at, "");
			if (x->kind == NODE_MAP && x->nr) {
				/* "- key: value", the rest of the mapping under it */
				struct strbuf sub = STRBUF_INIT, *keep = w->out;
				w->out = &sub;
				add_node(w, x, at + 2);
				w->out = keep;
				/* comments flushed before the first key belong above the dash */
				size_t skip = strspn(sub.buf, " ");
				strbuf_addch(w->out, ' ');
				strbuf_add(w->out, sub.buf + skip, sub.len - skip);
				strbuf_release(&sub);
			} else {
				add_node_child(w, x, at + 4, line);
			}
		}
	} else {
		strbuf_addf(w->out, "%*s", indent, "");
		add_node_scalar(w->out, n);
		strbuf_addch(w->out, '\n');
	}
}

int yaml_from_node(const struct node *root, const char *source, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	struct cwriter w = { &sb, NULL, 0, 0, root ? root->loc.file : NULL };
	if (source)
		scan_comments(source, &w.c, &w.nr);
	if (!root || ((root->kind == NODE_MAP || root->kind == NODE_SEQ) && !root->nr) ||
	    node_is_scalar(root)) {
		if (root)
			add_node_scalar(&sb, root);
		else
			strbuf_addstr(&sb, "null");
		strbuf_addch(&sb, '\n');
	} else {
		add_node(&w, root, root->kind == NODE_SEQ ? 2 : 0);
	}
	flush_before(&w, 1 << 30, 0);
	free(w.c);
	*out = strbuf_detach(&sb, NULL);
	return SM_OK;
}
