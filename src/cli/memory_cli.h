/*
 * memory_cli.h - what the `skillmeat memory` commands (cmd_memory.c,
 * cmd_memory_io.c) share, in memory_cli.c.
 */
#ifndef SM_CLI_MEMORY_CLI_H
#define SM_CLI_MEMORY_CLI_H

#include "cli.h"
#include "context/memory.h"

struct mem_opts {
	const char *type[MEM_NR_TYPES], *status[MEM_NR_STATUS], *anchors[32];
	size_t nr_type, nr_status, nr_anchors;
	const char *project, *reason, *author, *output, *run;
	double confidence, min_confidence;
	long limit;
	bool all_projects, yes;
	enum output_format format;
	char **args;
	size_t nr_args;
};

enum { OPT_MIN_CONF = 256, OPT_ALL, OPT_AUTHOR, OPT_REASON, OPT_FORMAT, OPT_RUN };

/*
 * Options of a memory command.  `allowed` lists its short options; long
 * ones without a short form are A (--min-confidence), B (--all-projects),
 * C (--author), D (--reason), E (--format), F (--run).  `nargs`
 * positional arguments are required.  Dies on a usage error.
 */
void parse_mem_opts(const char *cmd, const char *usage, const char *allowed, size_t nargs,
		    int argc, char **argv, struct mem_opts *o);
/* The project directory as an absolute path (printing why not). */
char *project_path(const char *dir);
/* $SKILLMEAT_HOME/memory.db (printing why not). */
struct memory_db *open_memory(void);

int memory_export_cmd(int argc, char **argv);
int memory_import_cmd(int argc, char **argv);
int memory_capture_cmd(int argc, char **argv);

#endif
