/*
 * cmd_memory.c - `skillmeat memory add|list|show|promote|deprecate|delete|
 * import|export|capture`: the project memory that context packs draw from.
 */
#include "cli.h"
#include "run_view.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "context/memory.h"
#include "memory_cli.h"

#include <getopt.h>
#include <unistd.h>

static const char memory_usage[] =
"usage: skillmeat memory COMMAND [options]\n"
"\n"
"Project memory: short facts (constraints, decisions, fixes, patterns,\n"
"gotchas, style rules, learnings) that context packs inject into workflow\n"
"stages.  Items belong to a project (a directory; default: the current\n"
"one) and live in $SKILLMEAT_HOME/memory.db.  Only active and stable items\n"
"are ever injected: new items start as candidates, `promote` moves them\n"
"candidate -> active -> stable, `deprecate` retires them.\n";

static const char add_usage[] =
"usage: skillmeat memory add CONTENT [options]\n"
"\n"
"  -t, --type TYPE          constraint, decision, fix, pattern, gotcha,\n"
"                           style_rule or learning (default learning)\n"
"  -c, --confidence X       0 to 1 (default 0.5)\n"
"  -s, --status STATUS      candidate (default), active or stable\n"
"  -a, --anchor PATH[:KIND] a file the item is about (repeatable; KIND is\n"
"                           code, plan, doc, config or test)\n"
"      --author NAME        who says so (default $USER)\n"
"  -p, --project DIR        the project (default: the current directory)\n"
"      --format FORMAT      text (default) or json\n"
"\n"
"The same content twice in a project is one item: the second add reports\n"
"the existing id.  Exit status: 0 added (or already there), 1 error.\n";

static const char list_usage[] =
"usage: skillmeat memory list [options]\n"
"\n"
"  -t, --type TYPE          only this type (repeatable)\n"
"  -s, --status STATUS      only this status (repeatable; default: all but\n"
"                           deprecated)\n"
"      --min-confidence X   only items at least this confident\n"
"  -n, --limit N            at most N items (newest first)\n"
"  -p, --project DIR        the project (default: the current directory)\n"
"      --all-projects       every project\n"
"      --format FORMAT      text (default) or json\n";

static const char show_usage[] =
"usage: skillmeat memory show ID [--format FORMAT]\n"
"\n"
"One item with its provenance and status history.  ID may be a unique\n"
"prefix.\n";

static const char promote_usage[] =
"usage: skillmeat memory promote ID [--reason TEXT]\n"
"\n"
"candidate -> active, or active -> stable.  Active and stable items are\n"
"injected into stages; stable ones rank first among equals.\n";

static const char deprecate_usage[] =
"usage: skillmeat memory deprecate ID [--reason TEXT]\n"
"\n"
"Retire an item: it is kept (with its history) but never injected again.\n";

static const char delete_usage[] =
"usage: skillmeat memory delete ID [--yes]\n"
"\n"
"Remove an item for good (prefer deprecate, which keeps its history).\n"
"  -y, --yes   do not ask (needed when not on a terminal)\n";

static enum memory_type type_arg(const char *cmd, const char *s)
{
	int t = memory_type_from_name(s);
	if (t < 0)
		die_usage(cmd, "unknown type '%s' (constraint, decision, fix, pattern, gotcha, "
			  "style_rule, learning)", s);
	return (enum memory_type)t;
}

static enum memory_status status_arg(const char *cmd, const char *s)
{
	int t = memory_status_from_name(s);
	if (t < 0)
		die_usage(cmd, "unknown status '%s' (candidate, active, stable, deprecated)", s);
	return (enum memory_status)t;
}

/* "src/x.c:code" -> {path, type}; the kind is optional. */
static json_t *anchors_json(const struct mem_opts *o)
{
	static const char *const kinds[] = { "code", "plan", "doc", "config", "test" };
	json_t *a = json_array();
	for (size_t i = 0; i < o->nr_anchors; i++) {
		const char *s = o->anchors[i], *colon = strrchr(s, ':');
		const char *kind = NULL;
		for (size_t k = 0; colon && k < ARRAY_SIZE(kinds); k++)
			if (!strcmp(colon + 1, kinds[k]))
				kind = kinds[k];
		size_t len = kind ? (size_t)(colon - s) : strlen(s);
		json_array_append_new(a, json_pack("{s:s%, s:s}", "path", s, len, "type",
						   kind ? kind : "code"));
	}
	return a;
}

static int memory_add_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts("memory add", add_usage, "tcsapCE", 1, argc, argv, &o);
	const char *cmd = "memory add";
	if (o.nr_type > 1 || o.nr_status > 1)
		die_usage(cmd, "one --type and one --status at most");
	enum memory_type type = o.nr_type ? type_arg(cmd, o.type[0]) : MEM_LEARNING;
	enum memory_status status = o.nr_status ? status_arg(cmd, o.status[0]) : MEM_CANDIDATE;
	if (status == MEM_DEPRECATED)
		die_usage(cmd, "a new item cannot be deprecated");
	char *project = project_path(o.project), id[33], *err = NULL;
	struct memory_db *m = project ? open_memory() : NULL;
	int rc = EXIT_FAIL;
	if (!m)
		goto out;
	const char *author = o.author ? o.author : getenv("USER");
	json_t *prov = json_pack("{s:s, s:s?}", "source", "manual", "author", author);
	json_t *anch = anchors_json(&o);
	struct memory_new n = { project, o.args[0], type, status, o.confidence, prov, anch, 0 };
	bool dup;
	if (memory_add(m, &n, id, &dup, &err)) {
		error_msg("memory add: %s", err);
	} else {
		if (o.format == FORMAT_JSON)
			print_json_new(json_pack("{s:s, s:b}", "id", id, "duplicate", dup));
		else
			printf(dup ? "Already known as %s\n" : "Added %s (%s)\n", id,
			       memory_status_name(status));
		rc = EXIT_OK;
	}
	json_decref(prov);
	json_decref(anch);
out:
	free(err);
	free(project);
	memory_close(m);
	return rc;
}

static void print_item_row(const struct memory_item *it)
{
	const char *c = it->content;
	size_t n = strcspn(c, "\n");
	printf("%.12s  %-10s  %-10s  %.2f  %.*s%s\n", it->id, memory_type_name(it->type),
	       memory_status_name(it->status), it->confidence, (int)(n > 60 ? 57 : n), c,
	       n > 60 || c[n] ? "..." : "");
}

static unsigned bits_of(const char *cmd, const char *const *v, size_t nr, bool types)
{
	unsigned b = 0;
	for (size_t i = 0; i < nr; i++)
		b |= 1u << (types ? (int)type_arg(cmd, v[i]) : (int)status_arg(cmd, v[i]));
	return b;
}

static int memory_list_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	const char *cmd = "memory list";
	parse_mem_opts(cmd, list_usage, "tsnpABE", 0, argc, argv, &o);
	char *project = o.all_projects ? NULL : project_path(o.project), *err = NULL;
	struct memory_db *m = project || o.all_projects ? open_memory() : NULL;
	struct arena a = { 0 };
	struct memory_item *items = NULL;
	size_t nr = 0;
	int rc = EXIT_FAIL;
	unsigned st = bits_of(cmd, o.status, o.nr_status, false);
	struct memory_query q = { project, bits_of(cmd, o.type, o.nr_type, true),
		st ? st : (1u << MEM_NR_STATUS) - 1 - (1u << MEM_DEPRECATED), o.min_confidence,
		(size_t)o.limit };
	if (!m)
		goto out;
	if (memory_list(m, &q, &a, &items, &nr, &err)) {
		error_msg("%s", err);
		goto out;
	}
	if (o.format == FORMAT_JSON) {
		json_t *arr = json_array();
		for (size_t i = 0; i < nr; i++)
			json_array_append_new(arr, memory_item_json(&items[i]));
		print_json_new(arr);
	} else if (!nr) {
		printf("No memory items%s%s.\n", project ? " for " : "", project ? project : "");
	} else {
		printf("%-12s  %-10s  %-10s  %-4s  %s\n", "ID", "TYPE", "STATUS", "CONF", "CONTENT");
		for (size_t i = 0; i < nr; i++)
			print_item_row(&items[i]);
	}
	rc = EXIT_OK;
out:
	free(items);
	free(err);
	free(project);
	arena_free(&a);
	memory_close(m);
	return rc;
}

/* memory.db and the item `id` (a prefix will do) in it; NULL after saying why not. */
static struct memory_db *open_item(const char *id, struct arena *a, struct memory_item *it)
{
	struct memory_db *m = open_memory();
	char *err = NULL;
	if (m && memory_get(m, id, a, it, &err)) {
		error_msg("%s", err);
		memory_close(m);
		m = NULL;
	}
	free(err);
	return m;
}

static int memory_show_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts("memory show", show_usage, "E", 1, argc, argv, &o);
	struct arena a = { 0 };
	struct memory_item it;
	struct memory_db *m = open_item(o.args[0], &a, &it);
	int rc = EXIT_FAIL;
	if (!m)
		goto out;
	json_t *j = memory_item_json(&it);
	if (o.format == FORMAT_JSON) {
		print_json_new(j);
	} else {
		printf("%s  %s  %s  confidence %.2f\n  project %s\n\n%s\n", it.id,
		       memory_type_name(it.type), memory_status_name(it.status), it.confidence,
		       it.project, it.content);
		char *p = json_dumps(json_object_get(j, "provenance"), JSON_INDENT(2) | JSON_SORT_KEYS);
		char *an = json_dumps(json_object_get(j, "anchors"), JSON_COMPACT);
		printf("\nanchors: %s\nprovenance: %s\n", an, p);
		free(p);
		free(an);
		json_decref(j);
	}
	rc = EXIT_OK;
out:
	arena_free(&a);
	memory_close(m);
	return rc;
}

/* promote and deprecate: check the transition, then record it. */
static int transition(const char *cmd, const char *usage, bool promote, int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts(cmd, usage, "D", 1, argc, argv, &o);
	struct arena a = { 0 };
	struct memory_item it;
	struct memory_db *m = open_item(o.args[0], &a, &it);
	char *err = NULL;
	int rc = EXIT_FAIL;
	if (!m)
		goto out;
	enum memory_status to = promote ? (it.status == MEM_CANDIDATE ? MEM_ACTIVE : MEM_STABLE)
				: MEM_DEPRECATED;
	if (it.status == MEM_DEPRECATED || (promote && it.status == MEM_STABLE)) {
		error_msg("%s: %s is %s: nothing to do", cmd, it.id, memory_status_name(it.status));
		goto out;
	}
	if (memory_set_status(m, it.id, to, o.reason, &err)) {
		error_msg("%s", err);
		goto out;
	}
	printf("%s: %s -> %s\n", it.id, memory_status_name(it.status), memory_status_name(to));
	rc = EXIT_OK;
out:
	free(err);
	arena_free(&a);
	memory_close(m);
	return rc;
}

static int memory_promote_cmd(int argc, char **argv)
{
	return transition("memory promote", promote_usage, true, argc, argv);
}

static int memory_deprecate_cmd(int argc, char **argv)
{
	return transition("memory deprecate", deprecate_usage, false, argc, argv);
}

static int memory_delete_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts("memory delete", delete_usage, "y", 1, argc, argv, &o);
	if (!o.yes && !isatty(STDIN_FILENO)) {
		error_msg("memory delete: not on a terminal; pass --yes to delete %s", o.args[0]);
		return EXIT_FAIL;
	}
	if (!o.yes) {
		fprintf(stderr, "Delete memory item %s for good? [y/N] ", o.args[0]);
		char line[16];
		if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
			fprintf(stderr, "Nothing deleted.\n");
			return EXIT_OK;
		}
	}
	struct memory_db *m = open_memory();
	char *err = NULL;
	int rc = EXIT_FAIL;
	if (m && memory_delete(m, o.args[0], &err))
		error_msg("%s", err);
	else if (m)
		printf("Deleted %s\n", o.args[0]), rc = EXIT_OK;
	free(err);
	memory_close(m);
	return rc;
}

const struct cmd memory_cmds[] = {
	{ "add", memory_add_cmd, "add an item (a candidate unless --status)", NULL },
	{ "list", memory_list_cmd, "list the items of a project", NULL },
	{ "show", memory_show_cmd, "one item, its provenance and history", NULL },
	{ "promote", memory_promote_cmd, "candidate -> active -> stable", NULL },
	{ "deprecate", memory_deprecate_cmd, "retire an item (kept, never injected)", NULL },
	{ "delete", memory_delete_cmd, "remove an item for good", NULL },
	{ "export", memory_export_cmd, "write items as JSON", NULL },
	{ "import", memory_import_cmd, "add the items of an export", NULL },
	{ "capture", memory_capture_cmd, "turn a run's learnings into candidates", NULL },
	{ NULL, NULL, NULL, NULL },
};

int cmd_memory(int argc, char **argv)
{
	return run_subcommand("memory", memory_usage, memory_cmds, argc, argv);
}
