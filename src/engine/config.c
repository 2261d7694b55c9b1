#include "../base/compat.h"
#include "config.h"
#include "../base/duration.h"
#include "../base/strv.h"
#include "../base/fsutil.h"
#include "../formats/load.h"

static char *first_diag(const struct diag_list *dl, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	if (dl->nr)
		diag_format(&sb, &dl->items[0]);
	else
		strbuf_addf(&sb, "%s: cannot read", path);
	return strbuf_detach(&sb, NULL);
}

/* notify = "shell command" (message in $1) or ["program", "arg", …]. */
static int load_notify(struct engine_config *c, const struct node *n, const char *path,
		       char **err)
{
	struct strv sv = { 0 };
	if (n->kind == NODE_STRING && n->len) {
		strv_push(&sv, "/bin/sh");
		strv_push(&sv, "-c");
		strv_push(&sv, n->text);
		strv_push(&sv, "skillmeat-notify");
		c->notify = strv_detach(&sv);
		return SM_OK;
	}
	for (size_t i = 0; n->kind == NODE_SEQ && i < n->nr; i++) {
		if (n->items[i]->kind != NODE_STRING)
			break;
		strv_push(&sv, n->items[i]->text);
	}
	if (n->kind != NODE_SEQ || !sv.nr || sv.nr != n->nr) {
		strv_free(strv_detach(&sv));
		*err = xasprintf("%s:%d:%d: notify must be a command string or a non-empty list "
				 "of strings", path, n->loc.line, n->loc.col);
		return SM_ERR;
	}
	c->notify = strv_detach(&sv);
	return SM_OK;
}

static int engine_duration(const struct node *t, const char *key, const char *path,
			   int64_t *out, char **err)
{
	const struct node *n = node_map_get(t, key);
	if (!n)
		return SM_OK;
	if (n->kind == NODE_STRING && duration_parse(n->text, out))
		return SM_OK;
	*err = xasprintf("%s:%d:%d: engine.%s must be a duration like \"10s\" or \"1h30m\"",
			 path, n->loc.line, n->loc.col, key);
	return SM_ERR;
}

/*
 * [engine] durability = "normal" (default) | "full"; result_grace (how long
 * an agent may linger after its final message); rate_limit_retries and
 * rate_limit_max_wait (waits for a rate limit's reset that cost no attempt).
 */
static int load_engine_table(struct engine_config *c, const struct node *t, const char *path,
			     char **err)
{
	if (t->kind != NODE_MAP) {
		*err = xasprintf("%s:%d:%d: engine must be a table", path, t->loc.line, t->loc.col);
		return SM_ERR;
	}
	const struct node *d = node_map_get(t, "durability"), *n;
	if (d && !(d->kind == NODE_STRING && (!strcmp(d->text, "normal") ||
					      !strcmp(d->text, "full")))) {
		*err = xasprintf("%s:%d:%d: engine.durability must be \"normal\" or \"full\"",
				 path, d->loc.line, d->loc.col);
		return SM_ERR;
	}
	c->durability_full = d && !strcmp(d->text, "full");
	if (engine_duration(t, "result_grace", path, &c->result_grace_s, err) ||
	    engine_duration(t, "rate_limit_max_wait", path, &c->rate_limit_max_wait_s, err))
		return SM_ERR;
	if ((n = node_map_get(t, "max_output_bytes"))) {
		if (n->kind != NODE_INT || n->v.i < 1024) {
			*err = xasprintf("%s:%d:%d: engine.max_output_bytes must be an integer of at "
					 "least 1024", path, n->loc.line, n->loc.col);
			return SM_ERR;
		}
		c->max_output_bytes = n->v.i;
	}
	if ((n = node_map_get(t, "rate_limit_retries"))) {
		if (n->kind != NODE_INT || n->v.i < 0 || n->v.i > 100) {
			*err = xasprintf("%s:%d:%d: engine.rate_limit_retries must be an integer "
					 "from 0 to 100", path, n->loc.line, n->loc.col);
			return SM_ERR;
		}
		c->rate_limit_retries = (unsigned)n->v.i;
	}
	return SM_OK;
}

int engine_config_load(struct engine_config *c, const char *path, char **err)
{
	memset(c, 0, sizeof(*c));
	*err = NULL;
	c->result_grace_s = 10;
	c->rate_limit_retries = 5;
	c->rate_limit_max_wait_s = 6 * 3600;
	c->max_output_bytes = (int64_t)256 << 20;
	runner_set_init(&c->runners);
	price_table_init(&c->prices);
	if (!path || !fs_is_file(path))
		return SM_OK;
	struct diag_list dl = DIAG_LIST_INIT;
	struct doc *doc = NULL;
	int r = doc_load_file_as(path, DOC_TOML, NULL, &doc, &dl);
	if (r) {
		*err = first_diag(&dl, path);
	} else {
		const struct node *n = node_map_get(doc->root, "notify");
		const struct node *e = node_map_get(doc->root, "engine");
		r = runner_set_load(&c->runners, node_map_get(doc->root, "runners"), path, err) ||
		    price_table_load(&c->prices, node_map_get(doc->root, "prices"), path, err) ||
		    (n && load_notify(c, n, path, err)) || (e && load_engine_table(c, e, path, err));
	}
	doc_free(doc);
	diag_list_release(&dl);
	return r ? SM_ERR : SM_OK;
}

void engine_config_release(struct engine_config *c)
{
	runner_set_release(&c->runners);
	price_table_release(&c->prices);
	strv_free(c->notify);
	memset(c, 0, sizeof(*c));
}

const char **engine_notify_argv(const struct engine_config *c, const char *message)
{
	size_t n = 0;
	if (!c->notify)
		return NULL;
	while (c->notify[n])
		n++;
	const char **argv = xcalloc(n + 2, sizeof(*argv));
	for (size_t i = 0; i < n; i++)
		argv[i] = c->notify[i];
	argv[n] = message;
	return argv;
}

void engine_check_runners(const char *home, const struct swdl_workflow *wf, struct diag_list *dl)
{
	char *path = path_join(home, "config.toml"), *err = NULL;
	struct engine_config cfg;
	if (engine_config_load(&cfg, path, &err)) {
		struct loc loc = { NULL, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "config", NULL, NULL, "%s", err);
	} else {
		runner_check_workflow(&cfg.runners, wf, path, dl);
	}
	engine_config_release(&cfg);
	free(err);
	free(path);
}
