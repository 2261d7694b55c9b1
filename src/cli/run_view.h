/*
 * run_view.h - showing runs: the live view while a run is hosted here,
 * run details and lookups shared by the run commands.
 */
#ifndef SM_CLI_RUN_VIEW_H
#define SM_CLI_RUN_VIEW_H

#include "cli.h"
#include "engine/config.h"
#include "store/run_json.h"
#include "store/store.h"

struct run_view;

/* `quiet`: show nothing while running (--format json prints a summary at the end). */
struct run_view *run_view_new(struct store *st, const char *run_id, FILE *out, bool quiet);
/* A host_event_fn. */
void run_view_event(void *ctx, const char *type, const char *stage_id, int attempt,
		    const json_t *data);
void run_view_finish(struct run_view *v, const char *status);
void run_view_free(struct run_view *v);

void run_view_print_json(struct store *st, const char *run_id);

/* A run id from an exact id, a unique prefix or `last` (prints why not). */
char *resolve_run_id(struct store *st, const char *arg);
/* The pid of a live host of the run, or 0. */
int run_host_alive(struct store *st, const char *run_id);

struct store *open_run_store(char **home_out);
int load_engine_config(const char *home, struct engine_config *cfg);
/* Host a run here (or --detach it); ready_fd >= 0: a detached host, telling its parent. */
int host_in_cli(struct store *st, const char *home, const struct engine_config *cfg,
		const char *run_id, bool detach, enum output_format format, int ready_fd);

#endif
