/*
 * cmd_store.c - collections: `skillmeat init`, `skillmeat workflow
 * create|list|delete`.
 */
#include "cli.h"
#include "swdl/dialect.h"
#include "collection/collection.h"
#include "swdl/workflow.h"

#include <getopt.h>
#include <unistd.h>

static const char init_usage[] =
"usage: skillmeat init [--name NAME]\n"
"\n"
"Create a collection (default: 'default') under $SKILLMEAT_HOME\n"
"(~/.skillmeat): collections/NAME/ with collection.toml, collection.lock and\n"
"the agents/, skills/, commands/, workflows/ and context/ folders.  The first\n"
"collection created becomes the active one (config.toml).  Safe to repeat.\n";

static const char create_usage[] =
"usage: skillmeat workflow create PATH [--name NAME] [--force]\n"
"\n"
"Validate the workflow file PATH (exactly as `workflow validate` does) and\n"
"store it, byte for byte (comments kept), in the active collection as\n"
"workflows/NAME/WORKFLOW.<ext>, with a manifest entry (collection.toml) and\n"
"a content hash (collection.lock).  A workflow validate rejects is not stored.\n"
"\n"
"  --name NAME   store it under NAME (default: the workflow's id)\n"
"  --force       replace a stored workflow of the same name, and store one\n"
"                that validate rejects (with a warning) when it can be read\n"
"\n"
"Exit status: 0 stored, 1 invalid workflow or collection error.\n";

static const char list_usage[] =
"usage: skillmeat workflow list [--tag TAG] [--status STATUS] [--format text|json]\n"
"\n"
"List the workflows stored in the active collection: stored name, display\n"
"name, version, number of stages, tags.\n"
"\n"
"  --tag TAG           only workflows with this tag\n"
"  --status STATUS     only workflows whose stored file is valid, invalid\n"
"                      (validate reports errors) or missing\n"
"  --format FORMAT     text (default) or json\n";

static const char delete_usage[] =
"usage: skillmeat workflow delete NAME [--yes]\n"
"\n"
"Remove a stored workflow (by stored name or workflow id) from the active\n"
"collection: its folder, its manifest entry and its lock entry.\n"
"\n"
"  -y, --yes     do not ask for confirmation (needed when not on a terminal)\n";

struct store_opts {
	const char *name, *tag, *status;
	bool force, yes;
	enum output_format format;
	const char *arg;
};

static void parse_store_opts(const char *cmd, const char *usage, int argc, char **argv,
			     const char *allowed, bool wants_arg, struct store_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' }, { "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' }, { "yes", no_argument, NULL, 'y' },
		{ "tag", required_argument, NULL, 't' }, { "format", required_argument, NULL, 'F' },
		{ "status", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hy", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || !strchr(allowed, c))
			die_bad_option(cmd, longopts, argv[optind - 1]);
		switch (c) {
		case 'n': o->name = optarg; break;
		case 'f': o->force = true; break;
		case 'y': o->yes = true; break;
		case 't': o->tag = optarg; break;
		case 's':
			/* upstream's statuses are its draft/active/archived lifecycle, which
			 * stored workflows here do not have: theirs is the file's state */
			if (strcmp(optarg, "valid") && strcmp(optarg, "invalid") &&
			    strcmp(optarg, "missing"))
				die_usage(cmd, "--status must be valid, invalid or missing, got '%s'",
					  optarg);
			o->status = optarg;
			break;
		case 'F': o->format = parse_format(cmd, optarg); break;
		}
	}
	if (wants_arg && optind + 1 != argc)
		die_usage(cmd, optind == argc ? "missing argument" : "unexpected argument '%s'",
			  argv[optind + (optind < argc)]);
	if (!wants_arg && optind != argc)
		die_usage(cmd, "unexpected argument '%s'", argv[optind]);
	o->arg = wants_arg ? argv[optind] : NULL;
}

int cmd_init(int argc, char **argv)
{
	struct store_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	char *root = NULL;
	parse_store_opts("init", init_usage, argc, argv, "n", false, &o);
	int r = collection_init(o.name ? o.name : "default", &root, &dl);
	print_diags(&dl, NULL, 0);
	if (!r)
		printf("Collection '%s' is ready at %s\n", o.name ? o.name : "default", root);
	free(root);
	diag_list_release(&dl);
	return r ? EXIT_FAIL : EXIT_OK;
}

static int open_or_report(struct collection **c)
{
	struct diag_list dl = DIAG_LIST_INIT;
	int r = collection_open(NULL, c, &dl);
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	return r;
}

int cmd_workflow_create(int argc, char **argv)
{
	struct store_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct collection *c = NULL;
	char *stored = NULL;
	int rc = EXIT_FAIL;
	parse_store_opts("workflow create", create_usage, argc, argv, "nf", true, &o);
	swdl_load_file(o.arg, NULL, &l, &dl);
	cli_check_runners(l, &dl);
	diag_list_sort(&dl);
	const struct doc *docs[1] = { l ? l->doc : NULL };
	print_diags(&dl, docs, 1);
	/* --force stores an invalid workflow only when there is a model to describe it */
	if (dl.errors && (!o.force || !l || !*l->wf.id)) {
		fprintf(stderr, "%s: not stored: %zu error%s%s\n", o.arg, dl.errors,
			dl.errors == 1 ? "" : "s", o.force ? "" : " (--force stores it anyway)");
		goto out;
	}
	if (dl.errors)
		warning_msg("%s: storing a workflow with %zu error%s (--force): `workflow run` "
			    "will refuse it until they are fixed", o.arg, dl.errors,
			    dl.errors == 1 ? "" : "s");
	if (open_or_report(&c))
		goto out;
	struct workflow_meta meta = { l->wf.id, l->wf.name, l->wf.version, l->wf.description,
				      l->wf.tags.nr, l->wf.tags.v };
	struct workflow_add_opts ao = { o.name, o.force };
	diag_list_release(&dl);
	if (collection_add_workflow(c, o.arg, &meta, &ao, &stored, &dl)) {
		print_diags(&dl, NULL, 0);
		goto out;
	}
	printf("Stored workflow '%s' in collection '%s': %s\n", o.name ? o.name : l->wf.id,
	       c->name, stored);
	rc = EXIT_OK;
out:
	free(stored);
	collection_free(c);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	return rc;
}

struct listed {
	const char *name;
	char *file;
	struct swdl_loaded *l;
	bool valid;
	const char *title;   /* the manifest's (a duplicate's "<name> (copy)"), or NULL */
};

static bool has_tag(const struct listed *x, const struct artifact_entry *e, const char *tag)
{
	const struct node *tags = node_map_get(e->node, "tags");
	for (size_t i = 0; tags && tags->kind == NODE_SEQ && i < tags->nr; i++)
		if (tags->items[i]->kind == NODE_STRING && !strcmp(tags->items[i]->text, tag))
			return true;
	for (size_t i = 0; x->l && i < x->l->wf.tags.nr; i++)
		if (!strcmp(x->l->wf.tags.v[i], tag))
			return true;
	return false;
}

static void list_json(const struct listed *items, size_t nr)
{
	struct strbuf sb = STRBUF_INIT;
	struct jsonw w;
	jw_init(&w, &sb, true);
	jw_array(&w);
	for (size_t i = 0; i < nr; i++) {
		const struct swdl_workflow *wf = items[i].l ? &items[i].l->wf : NULL;
		jw_object(&w);
		jw_kstring(&w, "name", items[i].name);
		jw_kstring(&w, "id", wf ? wf->id : NULL);
		jw_kstring(&w, "title", items[i].title ? items[i].title : wf ? wf->name : NULL);
		jw_kstring(&w, "version", wf ? wf->version : NULL);
		jw_kstring(&w, "description", wf ? wf->description : NULL);
		jw_key(&w, "stage_count");
		wf ? jw_int(&w, (int64_t)wf->nr_stages) : jw_null(&w);
		jw_key(&w, "tags");
		jw_array(&w);
		for (size_t k = 0; wf && k < wf->tags.nr; k++)
			jw_string(&w, wf->tags.v[k]);
		jw_end(&w);
		jw_kstring(&w, "path", items[i].file);
		jw_kstring(&w, "status", !items[i].file ? "missing" : items[i].valid ? "valid"
											 : "invalid");
		jw_end(&w);
	}
	jw_end(&w);
	print_jw(&w);
}

static void list_text(const struct collection *c, const struct listed *items, size_t nr)
{
	printf("Collection '%s': %zu workflow%s\n", c->name, nr, nr == 1 ? "" : "s");
	if (!nr)
		return;
	printf("  %-24s %-28s %-9s %6s  %s\n", "NAME", "TITLE", "VERSION", "STAGES", "TAGS");
	for (size_t i = 0; i < nr; i++) {
		const struct swdl_workflow *wf = items[i].l ? &items[i].l->wf : NULL;
		printf("  %-24s %-28s %-9s ", items[i].name, items[i].title ? items[i].title
		       : wf ? wf->name : "(missing file)",
		       wf ? wf->version : "-");
		if (wf)
			printf("%6zu  ", wf->nr_stages);
		else
			printf("%6s  ", "-");
		for (size_t k = 0; wf && k < wf->tags.nr; k++)
			printf("%s%s", k ? ", " : "", wf->tags.v[k]);
		if (items[i].file && !items[i].valid)
			printf("%s(invalid: run 'skillmeat workflow validate %s')", wf && wf->tags.nr ? " "
			       : "", items[i].name);
		putchar('\n');
	}
}

int cmd_workflow_list(int argc, char **argv)
{
	struct store_opts o = { 0 };
	struct collection *c = NULL;
	parse_store_opts("workflow list", list_usage, argc, argv, "tFs", false, &o);
	if (open_or_report(&c))
		return EXIT_FAIL;
	struct artifact_entry *e;
	size_t nr = collection_entries(c, "workflow", &e), n = 0;
	struct listed *items = xcalloc(nr ? nr : 1, sizeof(*items));
	for (size_t i = 0; i < nr; i++) {
		const struct node *t = node_map_get(node_map_get(e[i].node, "metadata"), "title");
		struct listed x = { e[i].name, collection_workflow_file(c, e[i].name), NULL, false,
				    t && t->kind == NODE_STRING && *t->text ? t->text : NULL };
		struct diag_list dl = DIAG_LIST_INIT;
		if (x.file)
			x.valid = swdl_load_file(x.file, NULL, &x.l, &dl) == SM_OK;
		diag_list_release(&dl);
		const char *status = !x.file ? "missing" : x.valid ? "valid" : "invalid";
		if ((o.tag && !has_tag(&x, &e[i], o.tag)) || (o.status && strcmp(o.status, status))) {
			swdl_loaded_free(x.l);
			free(x.file);
			continue;
		}
		items[n++] = x;
	}
	if (o.format == FORMAT_JSON)
		list_json(items, n);
	else
		list_text(c, items, n);
	for (size_t i = 0; i < n; i++) {
		swdl_loaded_free(items[i].l);
		free(items[i].file);
	}
	free(items);
	free(e);
	collection_free(c);
	return EXIT_OK;
}

/* The stored name for NAME: a stored name, or the name of the one stored
 * workflow whose workflow.id is NAME. */
static char *stored_name(const struct collection *c, const char *arg)
{
	struct artifact_entry *e;
	size_t nr = collection_entries(c, "workflow", &e);
	char *found = NULL;
	for (size_t i = 0; !found && i < nr; i++)
		if (!strcmp(e[i].name, arg))
			found = xstrdup(e[i].name);
	for (size_t i = 0; !found && i < nr; i++) {
		char *file = collection_workflow_file(c, e[i].name);
		struct diag_list dl = DIAG_LIST_INIT;
		struct doc *d = NULL;
		if (file && !doc_load_file(file, NULL, &d, &dl)) {
			const char *id = swdl_dialect_workflow_id(d->root);
			if (id && !strcmp(id, arg))
				found = xstrdup(e[i].name);
		}
		doc_free(d);
		diag_list_release(&dl);
		free(file);
	}
	free(e);
	return found;
}

static bool confirm(const char *question)
{
	fprintf(stderr, "%s [y/N] ", question);
	char line[16];
	return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

int cmd_workflow_delete(int argc, char **argv)
{
	struct store_opts o = { 0 };
	struct collection *c = NULL;
	struct diag_list dl = DIAG_LIST_INIT;
	int rc = EXIT_FAIL;
	parse_store_opts("workflow delete", delete_usage, argc, argv, "y", true, &o);
	if (open_or_report(&c))
		return EXIT_FAIL;
	char *name = stored_name(c, o.arg);
	if (!name) {
		error_msg("workflow delete: no stored workflow '%s' in collection '%s'", o.arg, c->name);
		goto out;
	}
	if (!o.yes) {
		if (!isatty(STDIN_FILENO)) {
			error_msg("workflow delete: not on a terminal; pass --yes to delete '%s'", name);
			goto out;
		}
		char *q = xasprintf("Delete workflow '%s' from collection '%s'?", name, c->name);
		bool ok = confirm(q);
		free(q);
		if (!ok) {
			fprintf(stderr, "Nothing deleted.\n");
			rc = EXIT_OK;
			goto out;
		}
	}
	if (collection_remove_workflow(c, name, &dl)) {
		print_diags(&dl, NULL, 0);
		goto out;
	}
	printf("Deleted workflow '%s' from collection '%s'\n", name, c->name);
	rc = EXIT_OK;
out:
	free(name);
	collection_free(c);
	diag_list_release(&dl);
	return rc;
}
