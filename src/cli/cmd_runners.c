/*
 * cmd_runners.c - `skillmeat runners check`: is each configured agent
 * runner usable on this machine (program found, --version answered, a
 * version this engine reads correctly); and the same check of the runners
 * a workflow names, for `workflow validate`, `plan` and `store`.
 */
#include "cli.h"
#include "run_view.h"
#include "collection/collection.h"
#include "engine/config.h"
#include "swdl/workflow.h"

#include <getopt.h>

static const char check_usage[] =
"usage: skillmeat runners check [NAME...] [--format text|json]\n"
"\n"
"Check the agent runners (the built-in claude, codex and gemini, and those of\n"
"$SKILLMEAT_HOME/config.toml [runners.NAME], or only the NAMEs given): is the\n"
"program on PATH, does it answer --version within 5 seconds, and is that a\n"
"version this engine reads correctly.  Status per runner: ok, degraded (works,\n"
"with the limit noted), incompatible, broken (--version failed), not_found.\n"
"A run's manifest records the version each of its runners answered.\n"
"\n"
"Exit status: 0 when every runner checked is ok or degraded, 1 otherwise\n"
"(a runner named on the command line that is not found counts; one that is\n"
"merely not installed does not when none is named), 2 for usage errors.\n";

static void print_text(const json_t *list)
{
	size_t i;
	const json_t *r;
	printf("%-10s %-8s %-14s %-30s %s\n", "RUNNER", "PROTOCOL", "STATUS", "VERSION", "NOTE");
	json_array_foreach(list, i, r) {
		const char *st = json_string_value(json_object_get(r, "status"));
		const char *c = !strcmp(st, "ok") ? C_GREEN : !strcmp(st, "degraded") ? C_YELLOW
				: !strcmp(st, "not_found") ? C_DIM : C_RED;
		printf("%-10s %-8s %s%-14s%s %-30.30s %s\n",
		       json_string_value(json_object_get(r, "name")),
		       json_string_value(json_object_get(r, "protocol")), color(stdout, c), st,
		       color(stdout, C_RESET),
		       json_is_string(json_object_get(r, "version"))
			       ? json_string_value(json_object_get(r, "version")) : "-",
		       json_is_string(json_object_get(r, "note"))
			       ? json_string_value(json_object_get(r, "note")) : "");
	}
}

static int runners_check(int argc, char **argv)
{
	static const struct option longopts[] = { { "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	enum output_format fmt = FORMAT_TEXT;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(check_usage, stdout);
			return EXIT_OK;
		}
		if (c != 'f')
			die_bad_option("runners check", longopts, argv[optind - 1]);
		fmt = parse_format("runners check", optarg);
	}
	struct engine_config cfg;
	char *home = skillmeat_home();
	if (load_engine_config(home, &cfg)) {
		free(home);
		return EXIT_FAIL;
	}
	size_t nr = (size_t)(argc - optind);
	for (size_t i = 0; i < nr; i++) {
		const struct runner_def *d = runner_set_find(&cfg.runners, argv[optind + (int)i]);
		if (!d || d->proto == PROTO_COMMAND)
			die_usage("runners check", "no agent runner named '%s'", argv[optind + (int)i]);
	}
	json_t *list = runner_check(&cfg.runners, (const char *const *)argv + optind, nr);
	int rc = EXIT_OK;
	size_t i;
	const json_t *r;
	json_array_foreach(list, i, r) {
		const char *st = json_string_value(json_object_get(r, "status"));
		if (!strcmp(st, "incompatible") || !strcmp(st, "broken") ||
		    (nr && !strcmp(st, "not_found")))
			rc = EXIT_FAIL;
	}
	if (fmt == FORMAT_JSON)
		print_json_new(json_pack("{s:o}", "runners", list));
	else
		print_text(list), json_decref(list);
	engine_config_release(&cfg);
	free(home);
	return rc;
}

const struct cmd runners_cmds[] = {
	{ "check", runners_check, "is each agent runner found, answering, compatible", NULL },
	{ NULL, NULL, NULL, NULL },
};

int cmd_runners(int argc, char **argv)
{
	static const char usage[] =
		"usage: skillmeat runners COMMAND [ARGS]\n"
		"\n"
		"The agent CLIs workflows run (docs/running.md).\n";
	return run_subcommand("runners", usage, runners_cmds, argc, argv);
}

/* Each roles.primary.runner names a runner: built in, or in config.toml [runners]. */
void cli_check_runners(const struct swdl_loaded *l, struct diag_list *dl)
{
	char *home = skillmeat_home();
	if (l && l->schema_ok && home)
		engine_check_runners(home, &l->wf, dl);
	free(home);
}
