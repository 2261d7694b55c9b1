/*
 * diag.h - located diagnostics.
 *
 * Library code never prints: it appends diagnostics to a caller-owned list.
 * Each carries where (file:line:col, 1-based; 0 = unknown), how bad,
 * which check produced it (category), and, for workflow checks, the stage
 * id and field path it concerns.
 */
#ifndef SM_DIAG_H
#define SM_DIAG_H

#include "compat.h"
#include "strbuf.h"

struct loc {
	const char *file;
	int line, col;
};

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	char *file;
	int line, col;
	char *category; /* parse, schema, dag, expression, artifact, override, parameter */
	char *stage_id; /* NULL when not about one stage */
	char *field;    /* dotted field path, NULL when not about one field */
	char *message;
	size_t seq;     /* insertion order, for a stable sort */
};

struct diag_list {
	struct diag *items;
	size_t nr, alloc;
	size_t errors, warnings;
};

#define DIAG_LIST_INIT { NULL, 0, 0, 0, 0 }

struct diag *diag_add(struct diag_list *dl, enum diag_severity sev,
		      const struct loc *loc, const char *category,
		      const char *stage_id, const char *field,
		      const char *fmt, ...) SM_PRINTF(7, 8);
void diag_list_release(struct diag_list *dl);
/* Stable sort by file, line, column (insertion order breaks ties). */
void diag_list_sort(struct diag_list *dl);
/* "file:line:col: error: [category] stage 'x' field 'y': message" */
void diag_format(struct strbuf *out, const struct diag *d);
const char *diag_severity_name(enum diag_severity s);

#endif
