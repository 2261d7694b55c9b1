/*
 * run_json.h - a run as JSON: the run row with its manifest, its stages
 * (with the context pack each received) and its attempts.  Used by
 * `workflow runs RUN` and the HTTP API.
 */
#ifndef SM_STORE_RUN_JSON_H
#define SM_STORE_RUN_JSON_H

#include "store.h"

#include <jansson.h>

/* The run's details, or NULL if there is no such run. */
json_t *run_details_json(struct store *st, const char *run_id);

/* One JSON object a row, JSON text columns (outputs, parameters, manifest, data) parsed. */
json_t *store_rows_json(struct store *st, const char *sql, const char *arg);
/* The current row of a statement, the same way. */
json_t *store_row_json(sqlite3_stmt *s);

/*
 * For a failed run, one paragraph: the stage that failed, its class and
 * message, and what to do.  NULL when the run did not fail.
 */
char *run_failure_summary(struct store *st, const char *run_id);

#endif
