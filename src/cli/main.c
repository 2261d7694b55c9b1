/*
 * main.c - the `skillmeat` command.
 */
#include "cli.h"

static const char usage[] =
"usage: skillmeat [--version] [--help] COMMAND [ARGS]\n"
"\n"
"SkillMeat workflow engine: validate, plan and run multi-stage agent\n"
"workflows (SWDL).  See docs/cli.md.\n";

int main(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "init", cmd_init, "create a collection" },
		{ "workflow", cmd_workflow, "validate, plan, run and store workflows" },
		{ "memory", cmd_memory, "project memory that context packs draw from" },
		{ "context", cmd_context, "preview the context a stage would receive" },
		{ "pack", cmd_pack, "share workflows as signed .skillmeat-pack files" },
		{ "web", cmd_web, "serve the HTTP API and live run events" },
		{ "stage", cmd_stage, "run one stage of a run orchestrated elsewhere" },
		{ "debug", cmd_debug, "low-level entry points for tests and tools" },
		{ NULL, NULL, NULL },
	};
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("skillmeat %s\n", SM_VERSION);
		return EXIT_OK;
	}
	return run_subcommand(NULL, usage, cmds, argc, argv);
}
