/*
 * Room cli/ (docs/ARCHITECTURE.md), the top: argument parsing, human and
 * JSON output, exit codes; the only room that prints or exits.  Uses any
 * room below it.  This header is its door, shared by the cmd_*.c files.
 *
 * cli.h - shared helpers of the command-line layer, the only layer that
 * prints and exits.
 *
 * Exit codes: 0 success; 1 the input is invalid or the operation failed;
 * 2 the command line itself is wrong (unknown option, missing argument).
 */
#ifndef SM_CLI_H
#define SM_CLI_H

#include "base/compat.h"
#include "base/diag.h"
#include "base/jsonw.h"
#include "base/strbuf.h"
#include "formats/load.h"

#include <jansson.h>

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum output_format { FORMAT_TEXT, FORMAT_JSON };

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const struct cmd *sub;   /* a group's commands (completion walks them), or NULL */
};

/* The command tables of the groups (main.c has the top level's). */
extern const struct cmd workflow_cmds[], memory_cmds[], context_cmds[], pack_cmds[],
	stage_cmds[], debug_cmds[], runners_cmds[];
/* The top level's table, once main() has dispatched through it (completion
 * walks it; reading it here keeps cmd_completion.c from calling main.c). */
extern const struct cmd *cli_top_commands;

/* Colour only on a terminal, and never when NO_COLOR is set. */
bool use_color(FILE *f);
const char *color(FILE *f, const char *code);   /* "" when colour is off */
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RESET "\033[0m"

SM_NORETURN void die_usage(const char *cmd, const char *fmt, ...) SM_PRINTF(2, 3);
/* An option getopt did not know, with the nearest long option as a suggestion. */
struct option;
SM_NORETURN void die_bad_option(const char *cmd, const struct option *longopts,
				const char *arg);
void error_msg(const char *fmt, ...) SM_PRINTF(1, 2);
void warning_msg(const char *fmt, ...) SM_PRINTF(1, 2);

/* Print diagnostics to stderr, with the source line and a caret when the
 * text of the file is at hand in `docs`. */
void print_diags(const struct diag_list *dl, const struct doc *const *docs, size_t nr_docs);
/* Print a JSON value to stdout, indented, with a final newline. */
void print_json(json_t *j);
/* The same, taking the reference (for values made just to be printed). */
void print_json_new(json_t *j);
/* Print what a JSON writer wrote (and release it and its buffer). */
void print_jw(struct jsonw *w);
/* --param KEY=VALUE (at most MAX_PARAMS): appended to params; dies on a bad one. */
#define MAX_PARAMS 256
struct plan_param;
void add_param_arg(const char *cmd, struct plan_param *params, size_t *nr, char *arg);
/* --bind NAME=TYPE:ARTIFACT (at most MAX_PARAMS): appended to b; dies on a bad one. */
struct role_binding;
void add_bind_arg(const char *cmd, struct role_binding *b, size_t *nr, char *arg);
/* Parse --format; dies on a bad value. */
enum output_format parse_format(const char *cmd, const char *arg);

/* Dispatch to one of `cmds` by argv[1]; prints the group help on --help.
 * The top level (group NULL) is remembered in cli_top_commands. */
int run_subcommand(const char *group, const char *usage, const struct cmd *cmds,
		   int argc, char **argv);

/*
 * A workflow argument: an existing file, else a workflow stored in the
 * active collection.  Prints why on failure and returns NULL.
 */
char *resolve_workflow_arg(const char *cmd, const char *arg);
/* validate's checks beyond the file: each roles.primary.runner is a known runner. */
struct swdl_loaded;
struct diag_list;
void cli_check_runners(const struct swdl_loaded *l, struct diag_list *dl);
struct collection;
/* Open the active collection if there is one (*c stays NULL if not). */
int open_collection_optional(struct collection **c, struct diag_list *dl);

/* Packs and estimates of a workflow's stages (see engine/plan_context.h), printing why not. */
struct plan_context;
struct swdl_loaded;
struct ref_table;
int cli_plan_context(struct plan_context *pc, const struct swdl_loaded *l,
		     const struct collection *c, const struct ref_table *refs,
		     const char *project_dir, struct diag_list *dl);

int cmd_workflow(int argc, char **argv);
int cmd_workflow_create(int argc, char **argv);
int cmd_workflow_list(int argc, char **argv);
int cmd_workflow_delete(int argc, char **argv);
int cmd_workflow_run(int argc, char **argv);
int cmd_workflow_resume(int argc, char **argv);
int cmd_workflow_rerun(int argc, char **argv);
int cmd_workflow_runs(int argc, char **argv);
int cmd_workflow_export(int argc, char **argv);
int cmd_workflow_logs(int argc, char **argv);
int cmd_workflow_approve(int argc, char **argv);
int cmd_workflow_reject(int argc, char **argv);
int cmd_workflow_cancel(int argc, char **argv);
int cmd_workflow_pause(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_memory(int argc, char **argv);
int cmd_context(int argc, char **argv);
int cmd_web(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_stage(int argc, char **argv);
int cmd_runners(int argc, char **argv);
int cmd_completion(int argc, char **argv);

#endif
