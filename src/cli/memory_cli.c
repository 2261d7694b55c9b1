/*
 * memory_cli.c - what the `skillmeat memory` commands share (memory_cli.h):
 * their options, the project's path and the memory database.
 */
#include "cli.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "context/memory.h"
#include "memory_cli.h"

#include <getopt.h>

static double parse_unit(const char *cmd, const char *opt, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	if (*end || !(v >= 0 && v <= 1))
		die_usage(cmd, "%s must be a number from 0 to 1, got '%s'", opt, arg);
	return v;
}

static void push_opt(const char *cmd, const char **v, size_t *nr, size_t cap, const char *arg)
{
	if (*nr >= cap)
		die_usage(cmd, "too many '%s'", arg);
	v[(*nr)++] = arg;
}

void parse_mem_opts(const char *cmd, const char *usage, const char *allowed,
			   size_t nargs, int argc, char **argv, struct mem_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' }, { "type", required_argument, NULL, 't' },
		{ "confidence", required_argument, NULL, 'c' },
		{ "status", required_argument, NULL, 's' }, { "anchor", required_argument, NULL, 'a' },
		{ "project", required_argument, NULL, 'p' }, { "limit", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' }, { "yes", no_argument, NULL, 'y' },
		{ "min-confidence", required_argument, NULL, OPT_MIN_CONF },
		{ "all-projects", no_argument, NULL, OPT_ALL },
		{ "author", required_argument, NULL, OPT_AUTHOR },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "run", required_argument, NULL, OPT_RUN }, { NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	o->confidence = 0.5;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ht:c:s:a:p:n:o:y", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || !strchr(allowed, c < 256 ? c : c - 256 + 'A'))
			die_bad_option(cmd, longopts, argv[optind - 1]);
		switch (c) {
		case 't': push_opt(cmd, o->type, &o->nr_type, MEM_NR_TYPES, optarg); break;
		case 's': push_opt(cmd, o->status, &o->nr_status, MEM_NR_STATUS, optarg); break;
		case 'a': push_opt(cmd, o->anchors, &o->nr_anchors, 32, optarg); break;
		case 'c': o->confidence = parse_unit(cmd, "--confidence", optarg); break;
		case 'p': o->project = optarg; break;
		case 'o': o->output = optarg; break;
		case 'y': o->yes = true; break;
		case 'n':
			o->limit = strtol(optarg, &end, 10);
			if (*end || o->limit < 1)
				die_usage(cmd, "--limit must be a positive number, got '%s'", optarg);
			break;
		case OPT_MIN_CONF:
			o->min_confidence = parse_unit(cmd, "--min-confidence", optarg);
			break;
		case OPT_ALL: o->all_projects = true; break;
		case OPT_AUTHOR: o->author = optarg; break;
		case OPT_REASON: o->reason = optarg; break;
		case OPT_FORMAT: o->format = parse_format(cmd, optarg); break;
		case OPT_RUN: o->run = optarg; break;
		}
	}
	if ((size_t)(argc - optind) != nargs)
		die_usage(cmd, (size_t)(argc - optind) < nargs ? "missing argument"
			  : "unexpected argument '%s'", argv[optind + (int)nargs]);
	if (o->project && o->all_projects)
		die_usage(cmd, "--project and --all-projects do not go together");
	o->args = argv + optind;
	o->nr_args = nargs;
}

/* The project directory as an absolute path (printing why not). */
char *project_path(const char *dir)
{
	char *p = realpath(dir ? dir : ".", NULL);
	if (!p)
		error_msg("project %s: %s", dir ? dir : ".", strerror(errno));
	return p;
}

struct memory_db *open_memory(void)
{
	char *home = skillmeat_home(), *path = NULL, *err = NULL;
	struct memory_db *m = NULL;
	if (!home) {
		error_msg("cannot find the SkillMeat home (set SKILLMEAT_HOME or HOME)");
		return NULL;
	}
	if (fs_mkdirs(home)) {
		error_msg("cannot create %s: %s", home, strerror(errno));
	} else {
		path = memory_default_path(home);
		if (memory_open(path, &m, &err))
			error_msg("%s", err);
	}
	free(home);
	free(path);
	free(err);
	return m;
}
