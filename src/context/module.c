#include "module.h"
#include "../base/strbuf.h"
#include "../base/suggest.h"
#include "../formats/load.h"

#include <fnmatch.h>

static const char *const top_keys[] = { "name", "description", "max_tokens", "selectors",
	"items", "priority", NULL };
static const char *const selector_keys[] = { "memory_types", "min_confidence",
	"file_patterns", "workflow_stages", NULL };

static void err_at(struct diag_list *dl, const struct node *n, const char *file,
		   const char *field, const char *fmt, const char *arg)
{
	struct loc loc = { file, n ? n->loc.line : 1, n ? n->loc.col : 1 };
	diag_add(dl, DIAG_ERROR, &loc, "context", NULL, field, fmt, arg);
}

static void check_keys(const struct node *map, const char *const *keys, const char *file,
		       const char *where, struct diag_list *dl)
{
	for (size_t i = 0; i < map->nr; i++) {
		const char *k = map->pairs[i].key->text;
		size_t j = 0, nr = 0;
		while (keys[j] && strcmp(keys[j], k))
			j++;
		if (keys[j])
			continue;
		while (keys[nr])
			nr++;
		const char *near = suggest_nearest(k, keys, nr);
		struct loc loc = { file, map->pairs[i].key->loc.line, map->pairs[i].key->loc.col };
		diag_add(dl, DIAG_ERROR, &loc, "context", NULL, where, "unknown key '%s'%s%s%s",
			 k, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
}

/* A list of strings, or an error naming the field. */
static char **str_list(const struct node *n, const char *file, const char *field,
		       size_t *nr, struct diag_list *dl)
{
	*nr = 0;
	if (!n)
		return NULL;
	if (n->kind != NODE_SEQ) {
		err_at(dl, n, file, field, "%s must be a list of strings", field);
		return NULL;
	}
	char **v = xcalloc(n->nr + 1, sizeof(*v));
	for (size_t i = 0; i < n->nr; i++) {
		if (n->items[i]->kind != NODE_STRING) {
			err_at(dl, n->items[i], file, field, "%s: expected a string", field);
			continue;
		}
		v[(*nr)++] = xstrdup(n->items[i]->text);
	}
	return v;
}

static void parse_types(struct ctx_module *m, const struct node *n, const char *file,
			struct diag_list *dl)
{
	size_t nr;
	char **v = str_list(n, file, "selectors.memory_types", &nr, dl);
	for (size_t i = 0; i < nr; i++) {
		int t = memory_type_from_name(v[i]);
		if (t < 0)
			err_at(dl, n->items[i], file, "selectors.memory_types", "unknown memory type "
			       "'%s' (constraint, decision, fix, pattern, gotcha, style_rule, "
			       "learning)", v[i]);
		else
			m->types |= 1u << t;
		free(v[i]);
	}
	free(v);
}

static void parse_selectors(struct ctx_module *m, const struct node *sel, const char *file,
			    struct diag_list *dl)
{
	if (sel->kind != NODE_MAP) {
		err_at(dl, sel, file, "selectors", "%s must be a mapping", "selectors");
		return;
	}
	m->has_selectors = true;
	check_keys(sel, selector_keys, file, "selectors", dl);
	const struct node *n;
	if ((n = node_map_get(sel, "memory_types")))
		parse_types(m, n, file, dl);
	if ((n = node_map_get(sel, "min_confidence"))) {
		double v = n->kind == NODE_INT ? (double)n->v.i : n->kind == NODE_FLOAT ? n->v.f : -1;
		if (!(v >= 0 && v <= 1))
			err_at(dl, n, file, "selectors.min_confidence", "%s must be a number "
			       "between 0 and 1", "selectors.min_confidence");
		else
			m->min_confidence = v;
	}
	m->file_patterns = str_list(node_map_get(sel, "file_patterns"), file,
				    "selectors.file_patterns", &m->nr_file_patterns, dl);
	m->stages = str_list(node_map_get(sel, "workflow_stages"), file,
			     "selectors.workflow_stages", &m->nr_stages, dl);
}

static void parse_front(struct ctx_module *m, const struct node *root, const char *file,
			struct diag_list *dl)
{
	if (!root)
		return;
	if (root->kind != NODE_MAP) {
		err_at(dl, root, file, NULL, "the front matter must be a mapping%s", "");
		return;
	}
	check_keys(root, top_keys, file, NULL, dl);
	const struct node *n;
	if ((n = node_map_get(root, "description")) && n->kind == NODE_STRING)
		m->description = xstrdup(n->text);
	if ((n = node_map_get(root, "max_tokens"))) {
		if (n->kind != NODE_INT || n->v.i <= 0 || n->v.i > 1000000)
			err_at(dl, n, file, "max_tokens", "%s must be a whole number from 1 to "
			       "1000000", "max_tokens");
		else
			m->max_tokens = n->v.i;
	}
	if ((n = node_map_get(root, "selectors")))
		parse_selectors(m, n, file, dl);
	m->items = str_list(node_map_get(root, "items"), file, "items", &m->nr_items, dl);
}

int ctx_module_parse(const char *name, const char *text, size_t len, const char *ref,
		     struct ctx_module *m, struct diag_list *dl)
{
	size_t errors = dl->errors;
	memset(m, 0, sizeof(*m));
	m->ref = xstrdup(ref);
	m->path = xstrdup(name);
	m->body_line = 1;
	const char *body = text;
	if (len >= 4 && !strncmp(text, "---\n", 4)) {
		const char *end = strstr(text + 3, "\n---");
		while (end && end[4] != '\n' && end[4] != '\0')
			end = strstr(end + 4, "\n---");
		if (!end) {
			struct loc loc = { name, 1, 1 };
			diag_add(dl, DIAG_ERROR, &loc, "context", NULL, NULL,
				 "the front matter opened here is never closed by a '---' line");
			return SM_ERR;
		}
		/* A leading newline keeps the YAML's line numbers those of the file. */
		size_t flen = (size_t)(end - (text + 3)) + 1;
		struct doc *d = NULL;
		if (!doc_load_buffer(name, text + 3, flen, DOC_YAML, NULL, &d, dl))
			parse_front(m, d->root, name, dl);
		doc_free(d);
		body = end + 4 + (end[4] == '\n');
		for (const char *p = text; p < body; p++)
			m->body_line += *p == '\n';
	}
	m->body = xstrndup(body, len - (size_t)(body - text));
	return dl->errors > errors ? SM_ERR : SM_OK;
}

int ctx_module_load(const char *path, const char *ref, struct ctx_module *m,
		    struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_read_file(&sb, path, MODULE_MAX_BYTES);
	if (r) {
		struct loc loc = { path, 0, 0 };
		memset(m, 0, sizeof(*m));
		diag_add(dl, DIAG_ERROR, &loc, "context", NULL, NULL, "cannot read %s: %s", ref,
			 r == SM_ELIMIT ? "larger than 1 MiB" : strerror(errno));
		strbuf_release(&sb);
		return SM_ERR;
	}
	size_t bad;
	if (!text_check_utf8(sb.buf, sb.len, &bad)) {
		int line, col;
		text_line_col(sb.buf, bad, &line, &col);
		struct loc loc = { path, line, col };
		memset(m, 0, sizeof(*m));
		diag_add(dl, DIAG_ERROR, &loc, "context", NULL, NULL,
			 "not UTF-8 text (or a NUL byte)");
		strbuf_release(&sb);
		return SM_ERR;
	}
	r = ctx_module_parse(path, sb.buf, sb.len, ref, m, dl);
	strbuf_release(&sb);
	return r;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ctx_module_release(struct ctx_module *m)
{
	free(m->ref);
	free(m->path);
	free(m->description);
	free(m->body);
	free_strv(m->file_patterns, m->nr_file_patterns);
	free_strv(m->stages, m->nr_stages);
	free_strv(m->items, m->nr_items);
	memset(m, 0, sizeof(*m));
}

bool ctx_module_selects(const struct ctx_module *m, const struct item_facts *f)
{
	if (!m->has_selectors)
		return false;
	if (m->types && !(m->types & (1u << f->it->type)))
		return false;
	if (f->it->confidence < m->min_confidence)
		return false;
	if (m->nr_stages) {
		size_t i = 0;
		while (i < m->nr_stages && (!f->stage || strcmp(m->stages[i], f->stage)))
			i++;
		if (i == m->nr_stages)
			return false;
	}
	if (m->nr_file_patterns) {
		for (size_t i = 0; i < m->nr_file_patterns; i++)
			for (size_t k = 0; k < f->nr_paths; k++)
				if (!fnmatch(m->file_patterns[i], f->paths[k], 0))
					return true;
		return false;
	}
	return true;
}
