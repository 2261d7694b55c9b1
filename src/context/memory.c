#include "memory.h"
#include "../base/fsutil.h"
#include "../base/strbuf.h"
#include "../swdl/model.h"

#include <sodium.h>
#include <sqlite3.h>
#include <sys/time.h>
#include <time.h>

struct memory_db {
	sqlite3 *db;
};

/* One list of names for the workflow language and the store. */
_Static_assert(MEM_NR_TYPES == SWDL_NR_MEMORY_TYPES, "memory types differ from SWDL's");
static const char *const *const type_names = swdl_memory_types;
static const char *const status_names[MEM_NR_STATUS] = {
	"candidate", "active", "stable", "deprecated",
};

const char *memory_type_name(enum memory_type t)
{
	return type_names[t];
}

int memory_type_from_name(const char *name)
{
	for (int i = 0; i < MEM_NR_TYPES; i++)
		if (name && !strcmp(name, type_names[i]))
			return i;
	return -1;
}

const char *memory_status_name(enum memory_status s)
{
	return status_names[s];
}

int memory_status_from_name(const char *name)
{
	for (int i = 0; i < MEM_NR_STATUS; i++)
		if (name && !strcmp(name, status_names[i]))
			return i;
	return -1;
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS memory_items ("
	"  id TEXT PRIMARY KEY, project TEXT NOT NULL,"
	"  type TEXT NOT NULL CHECK (type IN ('constraint','decision','fix','pattern','gotcha',"
	"    'style_rule','learning')),"
	"  content TEXT NOT NULL,"
	"  confidence REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),"
	"  status TEXT NOT NULL CHECK (status IN ('candidate','active','stable','deprecated')),"
	"  content_hash TEXT NOT NULL, provenance TEXT NOT NULL DEFAULT '{}',"
	"  anchors TEXT NOT NULL DEFAULT '[]',"
	"  stage TEXT, anchor_paths TEXT,"  /* from provenance and anchors, for selectors */
	"  created_at REAL NOT NULL, updated_at REAL NOT NULL, deprecated_at REAL,"
	"  UNIQUE (project, content_hash));"
	"CREATE INDEX IF NOT EXISTS memory_by_project ON memory_items(project, status);";

char *memory_default_path(const char *home)
{
	return path_join(home, "memory.db");
}

static int fail(struct memory_db *m, char **err, const char *what)
{
	*err = xasprintf("%s: %s", what, sqlite3_errmsg(m->db));
	return SM_EIO;
}

int memory_open(const char *path, struct memory_db **out, char **err)
{
	struct memory_db *m = xcalloc(1, sizeof(*m));
	*out = NULL;
	*err = NULL;
	int rc = sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(m->db, 10000);
		/* Packing reads all of a project's items: bigger pages, fewer reads (new files). */
		rc = sqlite3_exec(m->db, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL", NULL,
				  NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(m->db, SCHEMA, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		*err = xasprintf("%s: %s", path, m->db ? sqlite3_errmsg(m->db) : sqlite3_errstr(rc));
		memory_close(m);
		return SM_EIO;
	}
	*out = m;
	return SM_OK;
}

void memory_close(struct memory_db *m)
{
	if (!m)
		return;
	sqlite3_close(m->db);
	free(m);
}

static void hash_hex(const char *text, char out[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, (const unsigned char *)text, strlen(text));
	sodium_bin2hex(out, 65, d, sizeof(d));
}

static int find_by_hash(struct memory_db *m, const char *project, const char *hash,
			char id[33])
{
	sqlite3_stmt *s;
	int found = 0;
	if (sqlite3_prepare_v2(m->db, "SELECT id FROM memory_items WHERE project = ?1 AND "
			       "content_hash = ?2", -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, project, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(id, 33, "%s", (const char *)sqlite3_column_text(s, 0));
		found = 1;
	}
	sqlite3_finalize(s);
	return found;
}

int memory_add(struct memory_db *m, const struct memory_new *n, char id[33], bool *duplicate,
	       char **err)
{
	char hash[65];
	*duplicate = false;
	if (!n->content[0] || strlen(n->content) > MEMORY_MAX_CONTENT) {
		*err = xasprintf("content must be 1 to %d bytes", MEMORY_MAX_CONTENT);
		return SM_ERR;
	}
	if (!(n->confidence >= 0 && n->confidence <= 1)) {
		*err = xasprintf("confidence must be between 0 and 1, got %g", n->confidence);
		return SM_ERR;
	}
	hash_hex(n->content, hash);
	int f = find_by_hash(m, n->project, hash, id);
	if (f)
		return f < 0 ? fail(m, err, "memory") : (*duplicate = true, SM_OK);
	unsigned char raw[16];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(id, 33, raw, sizeof(raw));
	char *prov = n->provenance ? json_dumps(n->provenance, JSON_COMPACT | JSON_SORT_KEYS)
				   : xstrdup("{}");
	char *anch = n->anchors ? json_dumps(n->anchors, JSON_COMPACT) : xstrdup("[]");
	double t = n->created_at > 0 ? n->created_at : now_s();
	sqlite3_stmt *s;
	int r = SM_OK;
	if (sqlite3_prepare_v2(m->db, "INSERT INTO memory_items (id, project, type, content,"
			       " confidence, status, content_hash, provenance, anchors, created_at,"
			       " updated_at, stage, anchor_paths) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,"
			       "?10,?10, coalesce(json_extract(?8, '$.stage'), json_extract(?8,"
			       " '$.workflow_stage')), (SELECT group_concat(json_extract(value,"
			       " '$.path'), char(10)) FROM json_each(?9)))", -1, &s,
			       NULL) != SQLITE_OK) {
		r = fail(m, err, "memory");
		goto out;
	}
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, n->project, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, type_names[n->type], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, n->content, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 5, n->confidence);
	sqlite3_bind_text(s, 6, status_names[n->status], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, prov, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, anch, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 10, t);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = fail(m, err, "memory");
	sqlite3_finalize(s);
out:
	free(prov);
	free(anch);
	return r;
}

#define ITEM_COLS "id, project, type, content, confidence, status, provenance, anchors," \
		  " created_at, updated_at, stage, anchor_paths"
/* The same places, without what packing does not read. */
#define PACK_COLS "id, NULL, type, content, confidence, status, NULL, NULL," \
		  " created_at, updated_at, stage, anchor_paths"

static void read_item(sqlite3_stmt *s, struct arena *a, struct memory_item *it, bool lean)
{
	snprintf(it->id, sizeof(it->id), "%s", (const char *)sqlite3_column_text(s, 0));
	it->project = lean ? "" : arena_strdup(a, (const char *)sqlite3_column_text(s, 1));
	int t = memory_type_from_name((const char *)sqlite3_column_text(s, 2));
	it->type = t < 0 ? MEM_LEARNING : (enum memory_type)t;
	it->content = arena_strdup(a, (const char *)sqlite3_column_text(s, 3));
	it->confidence = sqlite3_column_double(s, 4);
	int st = memory_status_from_name((const char *)sqlite3_column_text(s, 5));
	it->status = st < 0 ? MEM_CANDIDATE : (enum memory_status)st;
	it->provenance = lean ? "{}" : arena_strdup(a, (const char *)sqlite3_column_text(s, 6));
	it->anchors = lean ? "[]" : arena_strdup(a, (const char *)sqlite3_column_text(s, 7));
	it->created_at = sqlite3_column_double(s, 8);
	it->updated_at = sqlite3_column_double(s, 9);
	const char *stage = (const char *)sqlite3_column_text(s, 10);
	const char *paths = (const char *)sqlite3_column_text(s, 11);
	it->stage = stage ? arena_strdup(a, stage) : NULL;
	it->paths = paths ? arena_strdup(a, paths) : NULL;
}

/* "type IN (…)" from a bit set: names are ours, so no quoting problem. */
static void add_in(struct strbuf *sql, const char *col, unsigned bits,
		   const char *const *names, int nr)
{
	if (!bits)
		return;
	strbuf_addf(sql, " AND %s IN (", col);
	const char *sep = "";
	for (int i = 0; i < nr; i++)
		if (bits & (1u << i)) {
			strbuf_addf(sql, "%s'%s'", sep, names[i]);
			sep = ",";
		}
	strbuf_addch(sql, ')');
}

int memory_list(struct memory_db *m, const struct memory_query *q, struct arena *a,
		struct memory_item **items, size_t *nr, char **err)
{
	struct strbuf sql = STRBUF_INIT;
	strbuf_addf(&sql, "SELECT %s FROM memory_items WHERE confidence >= ?1"
		    " AND (?2 IS NULL OR project = ?2)", q->for_packing ? PACK_COLS : ITEM_COLS);
	add_in(&sql, "type", q->types, type_names, MEM_NR_TYPES);
	add_in(&sql, "status", q->statuses, status_names, MEM_NR_STATUS);
	if (!q->for_packing)
		strbuf_addstr(&sql, " ORDER BY created_at DESC, id");
	if (q->limit)
		strbuf_addf(&sql, " LIMIT %zu", q->limit);
	sqlite3_stmt *s;
	size_t alloc = 0;
	*items = NULL;
	*nr = 0;
	int r = SM_OK;
	if (sqlite3_prepare_v2(m->db, sql.buf, -1, &s, NULL) != SQLITE_OK) {
		strbuf_release(&sql);
		return fail(m, err, "memory");
	}
	sqlite3_bind_double(s, 1, q->min_confidence);
	if (q->project)
		sqlite3_bind_text(s, 2, q->project, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ALLOC_GROW(*items, *nr + 1, alloc);
		read_item(s, a, &(*items)[(*nr)++], q->for_packing);
	}
	if (rc != SQLITE_DONE)
		r = fail(m, err, "memory");
	sqlite3_finalize(s);
	strbuf_release(&sql);
	return r;
}

int memory_get(struct memory_db *m, const char *id, struct arena *a, struct memory_item *out,
	       char **err)
{
	sqlite3_stmt *s;
	size_t len = strlen(id);
	if (!len || len > 32 || strspn(id, "0123456789abcdef") != len) {
		*err = xasprintf("'%s' is not a memory id (up to 32 hex digits)", id);
		return SM_ENOENT;
	}
	if (sqlite3_prepare_v2(m->db, "SELECT " ITEM_COLS " FROM memory_items WHERE id >= ?1"
			       " AND id < ?1 || 'g' ORDER BY id LIMIT 2", -1, &s, NULL) != SQLITE_OK)
		return fail(m, err, "memory");
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	int r = SM_ENOENT, n = 0;
	while (sqlite3_step(s) == SQLITE_ROW && n < 2) {
		if (n++ == 0)
			read_item(s, a, out, false);
	}
	sqlite3_finalize(s);
	if (n == 1)
		r = SM_OK;
	else if (n == 2)
		*err = xasprintf("'%s' matches more than one memory item: give more digits", id),
		r = SM_ERR;
	else
		*err = xasprintf("no memory item '%s'", id);
	return r;
}

/* The transition is appended to provenance.transitions. */
static char *with_transition(const char *prov, const char *from, const char *to,
			     const char *reason, double t)
{
	json_t *p = json_loads(prov, 0, NULL);
	if (!json_is_object(p)) {
		json_decref(p);
		p = json_object();
	}
	json_t *tr = json_object_get(p, "transitions");
	if (!json_is_array(tr)) {
		tr = json_array();
		json_object_set_new(p, "transitions", tr);
	}
	json_array_append_new(tr, json_pack("{s:s, s:s, s:s?, s:f}", "from", from, "to", to,
					    "reason", reason, "at", t));
	char *s = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(p);
	return s;
}

int memory_set_status(struct memory_db *m, const char *id, enum memory_status to,
		      const char *reason, char **err)
{
	struct arena a = { 0 };
	struct memory_item it;
	int r = memory_get(m, id, &a, &it, err);
	if (r)
		goto out;
	double t = now_s();
	char *prov = with_transition(it.provenance, status_names[it.status], status_names[to],
				     reason, t);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(m->db, "UPDATE memory_items SET status = ?2, provenance = ?3,"
			       " updated_at = ?4, deprecated_at = CASE WHEN ?2 = 'deprecated'"
			       " THEN ?4 ELSE deprecated_at END WHERE id = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		free(prov);
		r = fail(m, err, "memory");
		goto out;
	}
	sqlite3_bind_text(s, 1, it.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, status_names[to], -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, prov, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 4, t);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = fail(m, err, "memory");
	sqlite3_finalize(s);
	free(prov);
out:
	arena_free(&a);
	return r;
}

int memory_delete(struct memory_db *m, const char *id, char **err)
{
	struct arena a = { 0 };
	struct memory_item it;
	int r = memory_get(m, id, &a, &it, err);
	sqlite3_stmt *s;
	if (!r && sqlite3_prepare_v2(m->db, "DELETE FROM memory_items WHERE id = ?1", -1, &s,
				     NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, it.id, -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_DONE)
			r = fail(m, err, "memory");
		sqlite3_finalize(s);
	} else if (!r) {
		r = fail(m, err, "memory");
	}
	arena_free(&a);
	return r;
}

static json_t *iso_time(double t)
{
	char buf[40];
	time_t secs = (time_t)t;
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *memory_item_json(const struct memory_item *it)
{
	json_t *prov = json_loads(it->provenance, 0, NULL), *anch = json_loads(it->anchors, 0, NULL);
	return json_pack("{s:s, s:s, s:s, s:s, s:f, s:s, s:o, s:o, s:o, s:o}", "id", it->id,
			 "project", it->project, "type", type_names[it->type], "content",
			 it->content, "confidence", it->confidence, "status",
			 status_names[it->status], "provenance", prov ? prov : json_object(),
			 "anchors", anch ? anch : json_array(), "created_at",
			 iso_time(it->created_at), "updated_at", iso_time(it->updated_at));
}

int memory_begin(struct memory_db *m)
{
	return sqlite3_exec(m->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ? SM_EIO : SM_OK;
}

int memory_commit(struct memory_db *m)
{
	return sqlite3_exec(m->db, "COMMIT", NULL, NULL, NULL) ? SM_EIO : SM_OK;
}

void memory_rollback(struct memory_db *m)
{
	if (!sqlite3_get_autocommit(m->db))
		sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
}
