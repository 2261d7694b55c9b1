/*
 * cmd_memory_io.c - `skillmeat memory export|import|capture`: memory items
 * in and out as JSON, and from a run's `learnings` outputs.
 */
#include "memory_cli.h"
#include "run_view.h"
#include "base/fsutil.h"

#include <sqlite3.h>
#include <time.h>

/* Largest export file read by import. */
#define MAX_IMPORT (64u << 20)
#define EXPORT_FORMAT "skillmeat-memory/1"

static const char export_usage[] =
"usage: skillmeat memory export [-o FILE] [--project DIR | --all-projects]\n"
"\n"
"Write the items (every status) as JSON: {\"format\": \"" EXPORT_FORMAT "\",\n"
"\"items\": [...]}, to FILE (written atomically) or stdout.\n";

static const char import_usage[] =
"usage: skillmeat memory import FILE [--project DIR] [--format FORMAT]\n"
"\n"
"Add the items of FILE, an export of `memory export`, or upstream\n"
"SkillMeat's cache.db (read only; its memory_items and their projects).\n"
"Items keep their type, content, confidence, status, provenance, anchors\n"
"and creation time;\n"
"--project puts them all in DIR (default: each item's own project).\n"
"Content already in the project is skipped.  Every item is checked first:\n"
"nothing is added when one has an error.\n";

static const char capture_usage[] =
"usage: skillmeat memory capture --run RUN [--project DIR] [--format FORMAT]\n"
"\n"
"Turn what a run learned into candidate memory items.  Convention: a stage\n"
"output named `learnings` holds a string or a list whose elements are\n"
"strings or objects {content, type, confidence, anchors}.  Each becomes a\n"
"candidate (type learning, confidence 0.5 unless given) of the run's\n"
"project (its workdir, or --project), with provenance: run id, stage,\n"
"workflow.  Content already known is skipped.  RUN may be `last` or a\n"
"prefix.  Works from a hook:\n"
"  hooks: {on_complete: {run: \"skillmeat memory capture --run ${{ run.id }}\"}}\n";

int memory_export_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts("memory export", export_usage, "opB", 0, argc, argv, &o);
	char *project = o.all_projects ? NULL : project_path(o.project), *err = NULL;
	struct memory_db *m = project || o.all_projects ? open_memory() : NULL;
	struct arena a = { 0 };
	struct memory_item *items = NULL;
	size_t nr = 0;
	int rc = EXIT_FAIL;
	struct memory_query q = { project, 0, 0, 0, 0 };
	if (!m)
		goto out;
	if (memory_list(m, &q, &a, &items, &nr, &err)) {
		error_msg("%s", err);
		goto out;
	}
	json_t *arr = json_array();
	for (size_t i = nr; i-- > 0;) /* oldest first: an import keeps the order */
		json_array_append_new(arr, memory_item_json(&items[i]));
	json_t *doc = json_pack("{s:s, s:o}", "format", EXPORT_FORMAT, "items", arr);
	if (o.output) {
		char *text = json_dumps(doc, JSON_INDENT(2));
		if (fs_write_atomic(o.output, text, strlen(text)))
			error_msg("cannot write %s: %s", o.output, strerror(errno));
		else
			fprintf(stderr, "Exported %zu item%s to %s\n", nr, nr == 1 ? "" : "s",
				o.output), rc = EXIT_OK;
		free(text);
		json_decref(doc);
	} else {
		print_json_new(doc);
		rc = EXIT_OK;
	}
out:
	free(items);
	free(err);
	free(project);
	arena_free(&a);
	memory_close(m);
	return rc;
}

/* "2026-01-05T15:07:49Z" (or with +00:00, or a fraction) -> seconds; 0 when absent. */
static double parse_iso(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	return end ? (double)timegm(&tm) : 0;
}

/* One exported item into n (strings borrowed from the JSON); NULL or why not. */
static char *item_from_json(json_t *j, const char *project, struct memory_new *n)
{
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *status = json_string_value(json_object_get(j, "status"));
	json_t *conf = json_object_get(j, "confidence");
	memset(n, 0, sizeof(*n));
	if (!json_is_object(j))
		return xstrdup("an item must be an object");
	n->content = json_string_value(json_object_get(j, "content"));
	n->project = project ? project : json_string_value(json_object_get(j, "project"));
	if (!n->content || !*n->content || strlen(n->content) > MEMORY_MAX_CONTENT)
		return xasprintf("content: a string of 1 to %d bytes is required",
				 MEMORY_MAX_CONTENT);
	if (!n->project || n->project[0] != '/')
		return xstrdup("project: an absolute path is required (or give --project)");
	int t = memory_type_from_name(type ? type : "learning");
	int s = memory_status_from_name(status ? status : "candidate");
	if (t < 0)
		return xasprintf("type: unknown type '%s'", type);
	if (s < 0)
		return xasprintf("status: unknown status '%s'", status);
	n->type = (enum memory_type)t;
	n->status = (enum memory_status)s;
	n->confidence = conf ? json_number_value(conf) : 0.5;
	if ((conf && !json_is_number(conf)) || !(n->confidence >= 0 && n->confidence <= 1))
		return xstrdup("confidence: a number from 0 to 1 is required");
	n->provenance = json_object_get(j, "provenance");
	n->anchors = json_object_get(j, "anchors");
	if ((n->provenance && !json_is_object(n->provenance)) ||
	    (n->anchors && !json_is_array(n->anchors)))
		return xstrdup("provenance must be an object and anchors a list");
	n->created_at = parse_iso(json_string_value(json_object_get(j, "created_at")));
	return NULL;
}

static json_t *load_export(const char *file)
{
	struct strbuf sb = STRBUF_INIT;
	json_error_t je;
	int r = strbuf_read_file(&sb, file, MAX_IMPORT);
	json_t *doc = NULL;
	if (r)
		error_msg("%s: %s", file, r == SM_ELIMIT ? "larger than 64 MiB" : strerror(errno));
	else if (!(doc = json_loadb(sb.buf, sb.len, JSON_REJECT_DUPLICATES, &je)))
		error_msg("%s:%d:%d: %s", file, je.line, je.column, je.text);
	else if (!json_is_array(json_object_get(doc, "items")) ||
		 !json_is_string(json_object_get(doc, "format")) ||
		 strcmp(json_string_value(json_object_get(doc, "format")), EXPORT_FORMAT)) {
		error_msg("%s: not a memory export (expected {\"format\": \"" EXPORT_FORMAT
			  "\", \"items\": [...]})", file);
		json_decref(doc);
		doc = NULL;
	}
	strbuf_release(&sb);
	return doc;
}

/* Does the file start like an SQLite database? */
static bool is_sqlite(const char *file)
{
	char head[16] = { 0 };
	FILE *f = fopen(file, "rb");
	size_t n = f ? fread(head, 1, sizeof(head), f) : 0;
	if (f)
		fclose(f);
	return n == sizeof(head) && !memcmp(head, "SQLite format 3", 16);
}

/* Upstream's anchors: objects, or "path:type[:start-end]" strings. */
static json_t *upstream_anchors(const char *text)
{
	json_t *a = text ? json_loads(text, 0, NULL) : NULL, *out = json_array(), *v;
	size_t i;
	json_array_foreach(a, i, v) {
		if (json_is_object(v) && json_is_string(json_object_get(v, "path"))) {
			json_array_append(out, v);
		} else if (json_is_string(v)) {
			const char *s = json_string_value(v), *colon = strchr(s, ':');
			size_t n = colon ? (size_t)(colon - s) : strlen(s);
			size_t k = colon ? strcspn(colon + 1, ":") : 0;
			json_array_append_new(out, json_pack("{s:s%, s:s%}", "path", s, n, "type",
							     colon ? colon + 1 : "code", colon ? k : 4));
		}
	}
	json_decref(a);
	return out;
}

static json_t *upstream_item(sqlite3_stmt *s)
{
	const char *col[8];
	for (int i = 0; i < 8; i++)
		col[i] = (const char *)sqlite3_column_text(s, i);
	json_t *prov = col[4] ? json_loads(col[4], 0, NULL) : NULL;
	if (!json_is_object(prov)) {
		json_decref(prov);
		prov = json_object();
	}
	json_object_set_new(prov, "source", json_string("upstream cache.db"));
	return json_pack("{s:s?, s:s?, s:f, s:s?, s:o, s:o, s:s?, s:s?}", "type", col[0],
			 "content", col[1], "confidence", sqlite3_column_double(s, 2), "status", col[3],
			 "provenance", prov, "anchors", upstream_anchors(col[5]), "created_at",
			 col[6], "project", col[7]);
}

/* Upstream SkillMeat's cache.db (read only): its memory_items as an export document. */
static json_t *load_upstream(const char *file)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	json_t *items = json_array();
	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT m.type, m.content, m.confidence, m.status,"
			       " m.provenance_json, m.anchors_json, m.created_at, p.path"
			       " FROM memory_items m LEFT JOIN projects p ON p.id = m.project_id"
			       " ORDER BY m.created_at", -1, &s, NULL) != SQLITE_OK) {
		error_msg("%s: not an upstream SkillMeat cache.db (%s)", file, sqlite3_errmsg(db));
		json_decref(items);
		items = NULL;
	}
	while (s && sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(items, upstream_item(s));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return items ? json_pack("{s:s, s:o}", "format", EXPORT_FORMAT, "items", items) : NULL;
}

int memory_import_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts("memory import", import_usage, "pE", 1, argc, argv, &o);
	char *project = o.project ? project_path(o.project) : NULL, *err = NULL;
	json_t *doc = o.project && !project ? NULL : is_sqlite(o.args[0]) ? load_upstream(o.args[0])
		      : load_export(o.args[0]);
	json_t *items = json_object_get(doc, "items"), *it;
	struct memory_db *m = NULL;
	size_t i, added = 0, dups = 0, bad = 0;
	int rc = EXIT_FAIL;
	struct memory_new n;
	json_array_foreach(items, i, it) {
		char *why = item_from_json(it, project, &n);
		if (why)
			error_msg("%s: items[%zu]: %s", o.args[0], i, why), bad++;
		free(why);
	}
	if (!doc || bad || !(m = open_memory()) || memory_begin(m))
		goto out;
	json_array_foreach(items, i, it) {
		char id[33];
		bool dup;
		free(item_from_json(it, project, &n));
		if (memory_add(m, &n, id, &dup, &err)) {
			error_msg("%s: items[%zu]: %s", o.args[0], i, err);
			memory_rollback(m);
			goto out;
		}
		dup ? dups++ : added++;
	}
	if (memory_commit(m)) {
		error_msg("%s: cannot commit the import", o.args[0]);
		goto out;
	}
	if (o.format == FORMAT_JSON)
		print_json_new(json_pack("{s:I, s:I}", "added", (json_int_t)added, "duplicates",
				     (json_int_t)dups));
	else
		printf("Imported %zu item%s (%zu already known)\n", added, added == 1 ? "" : "s",
		       dups);
	rc = EXIT_OK;
out:
	if (bad)
		error_msg("%s: nothing imported (%zu bad item%s)", o.args[0], bad,
			  bad == 1 ? "" : "s");
	free(err);
	free(project);
	json_decref(doc);
	memory_close(m);
	return rc;
}

/* ---- capture ------------------------------------------------------------------- */

struct capture {
	struct memory_db *m;
	const char *project, *run_id, *workflow;
	json_t *added, *duplicates, *skipped;
};

static void capture_one(struct capture *c, const char *stage, size_t idx, json_t *v)
{
	json_t *obj = json_is_string(v) ? json_pack("{s:O}", "content", v) : json_incref(v);
	json_t *prov = json_pack("{s:s, s:s, s:s, s:s, s:s}", "source", "run", "run_id",
				 c->run_id, "stage", stage, "workflow", c->workflow, "author",
				 "workflow");
	struct memory_new n;
	char *why = item_from_json(obj, c->project, &n), *err = NULL, id[33];
	bool dup = false;
	if (!why) {
		n.status = MEM_CANDIDATE; /* a run's word needs a human's promote */
		n.provenance = prov;
		n.created_at = 0;
		if (memory_add(c->m, &n, id, &dup, &err))
			why = err, err = NULL;
	}
	if (why)
		json_array_append_new(c->skipped, json_pack("{s:s, s:I, s:s}", "stage", stage,
				      "index", (json_int_t)idx, "reason", why));
	else
		json_array_append_new(dup ? c->duplicates : c->added, json_string(id));
	free(why);
	json_decref(prov);
	json_decref(obj);
}

static int capture_stages(struct capture *c, sqlite3 *db)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT stage_id, outputs FROM stages WHERE run_id = ?1"
			       " AND outputs IS NOT NULL ORDER BY idx", -1, &s, NULL) != SQLITE_OK)
		return SM_EIO;
	sqlite3_bind_text(s, 1, c->run_id, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *stage = (const char *)sqlite3_column_text(s, 0);
		json_t *outs = json_loads((const char *)sqlite3_column_text(s, 1), 0, NULL);
		json_t *l = json_object_get(outs, "learnings"), *v;
		size_t i;
		if (json_is_array(l))
			json_array_foreach(l, i, v)
				capture_one(c, stage, i, v);
		else if (json_is_string(l))
			capture_one(c, stage, 0, l);
		json_decref(outs);
	}
	sqlite3_finalize(s);
	return SM_OK;
}

static char *run_row(sqlite3 *db, const char *run_id, char **workflow)
{
	sqlite3_stmt *s;
	char *workdir = NULL;
	if (sqlite3_prepare_v2(db, "SELECT workdir, workflow_id FROM runs WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(s, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		workdir = xstrdup((const char *)sqlite3_column_text(s, 0));
		*workflow = xstrdup((const char *)sqlite3_column_text(s, 1));
	}
	sqlite3_finalize(s);
	return workdir;
}

int memory_capture_cmd(int argc, char **argv)
{
	struct mem_opts o = { 0 };
	parse_mem_opts("memory capture", capture_usage, "FpE", 0, argc, argv, &o);
	if (!o.run)
		die_usage("memory capture", "--run RUN is required");
	char *home = NULL, *id = NULL, *workdir = NULL, *workflow = NULL, *project = NULL;
	struct store *st = open_run_store(&home);
	struct capture c = { 0 };
	int rc = EXIT_FAIL;
	if (!st || !(id = resolve_run_id(st, o.run)))
		goto out;
	workdir = run_row(store_db(st), id, &workflow);
	project = project_path(o.project ? o.project : workdir);
	if (!project || !(c.m = open_memory()))
		goto out;
	c = (struct capture){ c.m, project, id, workflow, json_array(), json_array(), json_array() };
	if (capture_stages(&c, store_db(st))) {
		error_msg("cannot read run %s: %s", id, store_error(st));
		goto out;
	}
	if (o.format == FORMAT_JSON) {
		print_json_new(json_pack("{s:s, s:s, s:O, s:O, s:O}", "run_id", id, "project", project,
				     "added", c.added, "duplicates", c.duplicates, "skipped",
				     c.skipped));
	} else {
		size_t i;
		json_t *v;
		printf("Run %s: %zu candidate%s added, %zu already known, %zu skipped\n", id,
		       json_array_size(c.added), json_array_size(c.added) == 1 ? "" : "s",
		       json_array_size(c.duplicates), json_array_size(c.skipped));
		json_array_foreach(c.skipped, i, v)
			printf("  skipped %s learnings[%lld]: %s\n",
			       json_string_value(json_object_get(v, "stage")),
			       (long long)json_integer_value(json_object_get(v, "index")),
			       json_string_value(json_object_get(v, "reason")));
	}
	rc = EXIT_OK;
out:
	json_decref(c.added);
	json_decref(c.duplicates);
	json_decref(c.skipped);
	memory_close(c.m);
	store_close(st);
	free(home);
	free(id);
	free(workdir);
	free(workflow);
	free(project);
	return rc;
}
