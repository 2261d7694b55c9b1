#include "../base/compat.h"
#include "load.h"
#include "../base/strbuf.h"
#include "../base/strmap.h"
#include "toml.h"

#include <libfyaml.h>
#include <strings.h>

int doc_format_from_name(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (!dot || (slash && dot < slash))
		return -1;
	if (!strcasecmp(dot, ".yaml") || !strcasecmp(dot, ".yml"))
		return DOC_YAML;
	if (!strcasecmp(dot, ".json"))
		return DOC_JSON;
	if (!strcasecmp(dot, ".toml"))
		return DOC_TOML;
	return -1;
}

bool text_check_utf8(const char *buf, size_t len, size_t *bad)
{
	const unsigned char *s = (const unsigned char *)buf;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n;
		uint32_t min;
		if (c == 0) {
			*bad = i;
			return false;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			n = 2, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			n = 3, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			n = 4, min = 0x10000;
		else
			goto fail;
		if (i + n > len)
			goto fail;
		uint32_t cp = c & (0x7F >> n);
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto fail;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto fail;
		i += n;
		continue;
fail:
		*bad = i;
		return false;
	}
	return true;
}

void text_line_col(const char *buf, size_t off, int *line, int *col)
{
	int l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

/* ---- tree building from parser events ---------------------------------- */

/*
 * Children of every open collection live on one shared stack (`kids` in
 * the builder): a frame records where its children start, and when it
 * closes they are copied into the arena and popped.  No allocation per
 * collection.
 */
struct frame {
	struct node *node;
	size_t base;        /* index of its first child on the kid stack */
	struct strmap keys; /* duplicate-key index, only for large mappings */
	struct node *merge; /* a "<<" value, applied at mapping end */
	long anchor;        /* index of its anchor, or -1 */
};

struct anchor {
	const char *name;
	struct node *node;
	bool complete;
};

struct builder {
	struct doc *doc;
	const struct load_limits *lim;
	struct diag_list *dl;
	struct frame *stack;
	size_t depth, alloc;
	struct node **kids; /* shared child stack */
	size_t nr_kids, alloc_kids;
	struct anchor *anchors;
	size_t nr_anchors, alloc_anchors;
	struct strmap anchor_index;
	size_t total_weight;
	struct node *root;
	int documents;
};

static int fail_at(struct builder *b, const struct loc *loc, const char *fmt, ...) SM_PRINTF(3, 4);
static int fail_at(struct builder *b, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	diag_add(b->dl, DIAG_ERROR, loc, "parse", NULL, NULL, "%s", msg);
	free(msg);
	return SM_ERR;
}

static struct loc mark_loc(struct builder *b, const struct fy_mark *m)
{
	struct loc l = { b->doc->file, 0, 0 };
	if (m) {
		l.line = m->line + 1;
		l.col = m->column + 1;
	}
	return l;
}

static const char *token_text(struct fy_token *t, size_t *len)
{
	size_t n = 0;
	const char *s = t ? fy_token_get_text(t, &n) : NULL;
	if (len)
		*len = s ? n : 0;
	return s ? s : "";
}

static int add_weight(struct builder *b, size_t w, const struct loc *loc)
{
	b->total_weight += w;
	if (b->total_weight > b->lim->max_nodes)
		return fail_at(b, loc, "document too large: more than %zu nodes "
			       "(aliases counted expanded)", b->lim->max_nodes);
	return SM_OK;
}

/* Record an anchor; returns its index, or -1 when there is none. */
static long register_anchor(struct builder *b, struct fy_token *t, struct node *n, bool complete)
{
	if (!t)
		return -1;
	size_t len;
	const char *s = token_text(t, &len);
	const char *name = arena_strndup(&b->doc->arena, s, len);
	size_t idx;
	if (strmap_get(&b->anchor_index, name, &idx)) {
		/* YAML allows redefinition: the later anchor wins from here on. */
		b->anchors[idx].node = n;
		b->anchors[idx].complete = complete;
		return (long)idx;
	}
	ALLOC_GROW(b->anchors, b->nr_anchors + 1, b->alloc_anchors);
	b->anchors[b->nr_anchors] = (struct anchor){ name, n, complete };
	strmap_put(&b->anchor_index, name, b->nr_anchors);
	return (long)b->nr_anchors++;
}

#define SMALL_MAP 16 /* keys compared directly below this; hashed above */

/* Record `key` in the frame's mapping; false if it is already there. */
static bool key_is_new(struct builder *b, struct frame *f, const char *key)
{
	size_t nr = (b->nr_kids - f->base) / 2;
	if (nr < SMALL_MAP) {
		for (size_t i = 0; i < nr; i++)
			if (!strcmp(b->kids[f->base + 2 * i]->text, key))
				return false;
		return true;
	}
	if (!f->keys.nr) /* switch to hashing: index the keys so far */
		for (size_t i = 0; i < nr; i++)
			strmap_put(&f->keys, b->kids[f->base + 2 * i]->text, i);
	return strmap_put(&f->keys, key, nr);
}

static void push_kid(struct builder *b, struct node *n)
{
	ALLOC_GROW(b->kids, b->nr_kids + 1, b->alloc_kids);
	b->kids[b->nr_kids++] = n;
}

static int frame_add_key(struct builder *b, struct frame *f, struct node *key)
{
	if (!node_is_scalar(key))
		return fail_at(b, &key->loc, "mapping keys must be scalars, got a %s",
			       node_kind_name(key->kind));
	size_t nr = b->nr_kids - f->base;
	if (nr / 2 >= b->lim->max_map_keys)
		return fail_at(b, &key->loc, "too many keys in one mapping (limit %zu)",
			       b->lim->max_map_keys);
	if (key->style == NODE_STYLE_PLAIN && !strcmp(key->text, "<<"))
		return SM_OK; /* merge key: handled by the caller */
	if (!key_is_new(b, f, key->text))
		return fail_at(b, &key->loc, "duplicate key '%s' in mapping", key->text);
	return SM_OK;
}

/* Hand a finished node to the enclosing collection (or make it the root). */
static int emit(struct builder *b, struct node *n)
{
	if (!b->depth) {
		b->root = n;
		return SM_OK;
	}
	struct frame *f = &b->stack[b->depth - 1];
	bool value_pos = (b->nr_kids - f->base) % 2;
	if (f->node->kind == NODE_MAP && !value_pos) {
		int r = frame_add_key(b, f, n);
		if (r)
			return r;
	} else if (f->node->kind == NODE_MAP) {
		struct node *key = b->kids[b->nr_kids - 1];
		if (key->style == NODE_STYLE_PLAIN && !strcmp(key->text, "<<")) {
			if (f->merge)
				return fail_at(b, &key->loc, "more than one '<<' merge key in a mapping");
			f->merge = n;
			b->nr_kids--; /* drop the "<<" key */
			return SM_OK;
		}
	}
	push_kid(b, n);
	return SM_OK;
}

static struct node *new_node(struct builder *b, enum node_kind k, const struct loc *loc)
{
	struct node *n = ARENA_NEW(&b->doc->arena, struct node);
	n->kind = k;
	n->loc = *loc;
	n->weight = 1;
	n->text = "";
	return n;
}

static int on_scalar(struct builder *b, struct fy_event *e)
{
	struct loc loc = mark_loc(b, fy_event_start_mark(e));
	struct node *n = new_node(b, NODE_STRING, &loc);
	size_t len;
	const char *s = token_text(e->scalar.value, &len);
	if (memchr(s, '\0', len))
		return fail_at(b, &loc, "NUL character in a scalar");
	n->text = arena_strndup(&b->doc->arena, s, len);
	n->len = len;
	enum fy_scalar_style st = fy_token_scalar_style(e->scalar.value);
	n->style = st == FYSS_PLAIN ? NODE_STYLE_PLAIN
		 : (st == FYSS_LITERAL || st == FYSS_FOLDED) ? NODE_STYLE_BLOCK
		 : NODE_STYLE_QUOTED;
	if (n->style == NODE_STYLE_PLAIN)
		node_type_plain_scalar(n);
	if (e->scalar.tag) {
		const char *tag = token_text(e->scalar.tag, NULL);
		if (!strcmp(tag, "tag:yaml.org,2002:str") || !strcmp(tag, "!!str"))
			n->kind = NODE_STRING;
	}
	int r = add_weight(b, 1, &loc);
	if (r)
		return r;
	register_anchor(b, e->scalar.anchor, n, true);
	return emit(b, n);
}

static int on_alias(struct builder *b, struct fy_event *e)
{
	struct loc loc = mark_loc(b, fy_event_start_mark(e));
	size_t len, idx;
	const char *s = token_text(e->alias.anchor, &len);
	char *name = xstrndup(s, len);
	bool found = strmap_get(&b->anchor_index, name, &idx);
	int r;
	if (!found)
		r = fail_at(b, &loc, "alias '*%s' refers to an unknown anchor", name);
	else if (!b->anchors[idx].complete)
		r = fail_at(b, &loc, "alias '*%s' refers to a node that contains it "
			    "(recursive structures are not allowed)", name);
	else
		r = add_weight(b, b->anchors[idx].node->weight, &loc);
	free(name);
	return r ? r : emit(b, b->anchors[idx].node);
}

static int on_collection_start(struct builder *b, struct fy_event *e, enum node_kind k)
{
	struct loc loc = mark_loc(b, fy_event_start_mark(e));
	if (b->depth >= b->lim->max_depth)
		return fail_at(b, &loc, "nesting deeper than %u levels", b->lim->max_depth);
	struct node *n = new_node(b, k, &loc);
	int r = add_weight(b, 1, &loc);
	if (r)
		return r;
	struct fy_token *anchor = k == NODE_MAP ? e->mapping_start.anchor : e->sequence_start.anchor;
	ALLOC_GROW(b->stack, b->depth + 1, b->alloc);
	struct frame *f = &b->stack[b->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->base = b->nr_kids;
	f->anchor = register_anchor(b, anchor, n, false);
	return SM_OK;
}

/* Apply a "<<" merge: keys from the merged mapping(s) not set explicitly. */
static int apply_merge(struct builder *b, struct frame *f)
{
	struct node *m = f->merge;
	size_t nsrc = m->kind == NODE_SEQ ? m->nr : 1;
	for (size_t s = 0; s < nsrc; s++) {
		struct node *src = m->kind == NODE_SEQ ? m->items[s] : m;
		if (src->kind != NODE_MAP)
			return fail_at(b, &src->loc, "'<<' merge value must be a mapping "
				       "or a list of mappings, got a %s", node_kind_name(src->kind));
		for (size_t i = 0; i < src->nr; i++) {
			if (!key_is_new(b, f, src->pairs[i].key->text))
				continue;
			push_kid(b, src->pairs[i].key);
			push_kid(b, src->pairs[i].value);
		}
	}
	return SM_OK;
}

static int on_collection_end(struct builder *b)
{
	struct frame *f = &b->stack[b->depth - 1];
	struct node *n = f->node;
	struct arena *a = &b->doc->arena;
	int r = f->merge ? apply_merge(b, f) : SM_OK;
	/* kids is NULL until the first scalar: no offset from it (UB) then. */
	struct node **kids = b->kids ? b->kids + f->base : NULL;
	size_t nr = b->nr_kids - f->base;
	if (n->kind == NODE_MAP) {
		n->nr = nr / 2;
		n->pairs = ARENA_ARRAY(a, struct node_pair, n->nr);
		for (size_t i = 0; i < n->nr; i++) {
			n->pairs[i].key = kids[2 * i];
			n->pairs[i].value = kids[2 * i + 1];
			n->weight += n->pairs[i].key->weight + n->pairs[i].value->weight;
		}
	} else {
		n->nr = nr;
		n->items = ARENA_ARRAY(a, struct node *, n->nr);
		for (size_t i = 0; i < n->nr; i++) {
			n->items[i] = kids[i];
			n->weight += n->items[i]->weight;
		}
	}
	b->nr_kids = f->base;
	strmap_release(&f->keys);
	if (f->anchor >= 0 && b->anchors[f->anchor].node == n)
		b->anchors[f->anchor].complete = true;
	b->depth--;
	return r ? r : emit(b, n);
}

static int on_event(struct builder *b, struct fy_event *e)
{
	switch (e->type) {
	case FYET_DOCUMENT_START:
		if (++b->documents > 1) {
			struct loc loc = mark_loc(b, fy_event_start_mark(e));
			return fail_at(b, &loc, "more than one YAML document in the file");
		}
		return SM_OK;
	case FYET_SCALAR:
		return on_scalar(b, e);
	case FYET_ALIAS:
		return on_alias(b, e);
	case FYET_MAPPING_START:
		return on_collection_start(b, e, NODE_MAP);
	case FYET_SEQUENCE_START:
		return on_collection_start(b, e, NODE_SEQ);
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		return on_collection_end(b);
	default:
		return SM_OK;
	}
}

/* libfyaml's words for what is, nine times in ten, a line indented wrongly. */
static const char *indentation_hint(const char *msg)
{
	static const char *const signs[] = { "indent", "did not find expected",
		"mapping values are not allowed", "block sequence", "block mapping" };
	for (size_t i = 0; msg && i < ARRAY_SIZE(signs); i++)
		if (strstr(msg, signs[i]))
			return " (hint: check the indentation of this line and of the one before it: "
			       "the keys of one mapping line up, with spaces, never tabs)";
	return "";
}

static void report_parser_errors(struct builder *b, struct fy_diag *diag)
{
	void *it = NULL;
	struct fy_diag_error *de;
	size_t before = b->dl->errors;
	while ((de = fy_diag_errors_iterate(diag, &it))) {
		struct loc loc = { b->doc->file, de->line, de->column };
		diag_add(b->dl, DIAG_ERROR, &loc, "parse", NULL, NULL, "%s %s%s",
			 b->doc->format == DOC_JSON ? "JSON syntax error:" : "YAML syntax error:",
			 de->msg, b->doc->format == DOC_JSON ? "" : indentation_hint(de->msg));
		break; /* the first error is the one worth reading */
	}
	if (b->dl->errors == before) {
		struct loc loc = { b->doc->file, 0, 0 };
		diag_add(b->dl, DIAG_ERROR, &loc, "parse", NULL, NULL, "syntax error");
	}
}

static int build_tree(struct builder *b)
{
	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	if (!diag)
		return fail_at(b, NULL, "cannot create the YAML diagnostics object");
	fy_diag_set_collect_errors(diag, true);

	struct fy_parse_cfg cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_DEFAULT_VERSION_1_2 |
		    (b->doc->format == DOC_JSON ? FYPCF_JSON_FORCE : FYPCF_JSON_NONE);
	cfg.diag = diag;
	struct fy_parser *p = fy_parser_create(&cfg);
	int r = SM_OK;
	if (!p) {
		r = fail_at(b, NULL, "cannot create the YAML parser");
		goto out;
	}
	fy_parser_set_string(p, b->doc->text, b->doc->len);
	struct fy_event *e;
	while ((e = fy_parser_parse(p))) {
		r = on_event(b, e);
		fy_parser_event_free(p, e);
		if (r)
			goto out;
	}
	if (fy_parser_get_stream_error(p)) {
		report_parser_errors(b, diag);
		r = SM_ERR;
	}
out:
	if (p)
		fy_parser_destroy(p);
	/* destroy, not unref: the last unref frees the object but not the
	 * errors it collected (libfyaml 0.7 fy-diag.c); a warning on a
	 * document we refuse early stays collected. */
	fy_diag_destroy(diag);
	return r;
}

static void builder_release(struct builder *b)
{
	for (size_t i = 0; i < b->depth; i++)
		strmap_release(&b->stack[i].keys);
	free(b->stack);
	free(b->kids);
	free(b->anchors);
	strmap_release(&b->anchor_index);
}

static int check_text(struct doc *d, struct diag_list *dl)
{
	size_t bad;
	if (text_check_utf8(d->text, d->len, &bad))
		return SM_OK;
	struct loc loc = { d->file, 0, 0 };
	text_line_col(d->text, bad, &loc.line, &loc.col);
	if (!d->text[bad])
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL,
			 "NUL byte in the input (is this a binary file?)");
	else
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL,
			 "invalid UTF-8 (byte 0x%02x); files must be UTF-8 text",
			 (unsigned char)d->text[bad]);
	return SM_ERR;
}

static int doc_parse(struct doc *d, const struct load_limits *lim, struct diag_list *dl)
{
	int r = check_text(d, dl);
	if (r)
		return r;
	if (d->format == DOC_TOML)
		return toml_parse_doc(d, lim, dl);
	struct builder b;
	memset(&b, 0, sizeof(b));
	b.doc = d;
	b.lim = lim;
	b.dl = dl;
	r = build_tree(&b);
	d->root = b.root;
	builder_release(&b);
	return r;
}

/* Like doc_load_buffer, but takes ownership of `buf` (malloc'd, NUL-terminated). */
static int load_owned(const char *name, char *buf, size_t len, enum doc_format fmt,
		      const struct load_limits *lim, struct doc **out, struct diag_list *dl);

int doc_load_buffer(const char *name, const char *buf, size_t len, enum doc_format fmt,
		    const struct load_limits *lim, struct doc **out, struct diag_list *dl)
{
	return load_owned(name, xstrndup(buf, len), len, fmt, lim, out, dl);
}

static int load_owned(const char *name, char *buf, size_t len, enum doc_format fmt,
		      const struct load_limits *lim, struct doc **out, struct diag_list *dl)
{
	static const struct load_limits defaults = LOAD_LIMITS_DEFAULT;
	if (!lim)
		lim = &defaults;
	*out = NULL;
	struct doc *d = xcalloc(1, sizeof(*d));
	d->file = xstrdup(name);
	d->format = fmt;
	if (len > lim->max_bytes) {
		struct loc loc = { d->file, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL,
			 "file is %zu bytes, over the limit of %zu bytes", len, lim->max_bytes);
		free(buf);
		doc_free(d);
		return SM_ELIMIT;
	}
	d->text = buf;
	d->len = len;
	int r = doc_parse(d, lim, dl);
	if (r) {
		doc_free(d);
		return r;
	}
	*out = d;
	return SM_OK;
}

int doc_load_file_as(const char *path, enum doc_format fmt, const struct load_limits *lim,
		     struct doc **out, struct diag_list *dl)
{
	static const struct load_limits defaults = LOAD_LIMITS_DEFAULT;
	struct loc loc = { path, 0, 0 };
	struct strbuf sb = STRBUF_INIT;
	if (!lim)
		lim = &defaults;
	*out = NULL;
	int r = strbuf_read_file(&sb, path, lim->max_bytes);
	if (r == SM_ENOENT) {
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL, "file not found");
	} else if (r == SM_ELIMIT) {
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL,
			 "file is over the size limit of %zu bytes", lim->max_bytes);
	} else if (r) {
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL,
			 "cannot read: %s", strerror(errno));
	} else {
		size_t len;
		char *text = strbuf_detach(&sb, &len);
		r = load_owned(path, text, len, fmt, lim, out, dl);
	}
	strbuf_release(&sb);
	return r;
}

int doc_load_file(const char *path, const struct load_limits *lim,
		  struct doc **out, struct diag_list *dl)
{
	int fmt = doc_format_from_name(path);
	*out = NULL;
	if (fmt < 0) {
		struct loc loc = { path, 0, 0 };
		const char *dot = strrchr(path, '.');
		diag_add(dl, DIAG_ERROR, &loc, "parse", NULL, NULL,
			 "unsupported file extension '%s'; supported: .json, .toml, .yaml, .yml",
			 dot && !strchr(dot, '/') ? dot : "");
		return SM_ERR;
	}
	return doc_load_file_as(path, (enum doc_format)fmt, lim, out, dl);
}

void doc_free(struct doc *d)
{
	if (!d)
		return;
	arena_free(&d->arena);
	free(d->file);
	free(d->text);
	free(d);
}
