/*
 * main.c - the `skillmeat` command.
 */
#include "cli.h"

static const char usage[] =
"usage: skillmeat [--version] [--help] COMMAND [ARGS]\n"
"\n"
"SkillMeat workflow engine: validate, plan and run multi-stage agent\n"
"workflows (SWDL).  See docs/cli.md.\n";

static const struct cmd skillmeat_cmds[] = {
	{ "init", cmd_init, "create a collection", NULL },
	{ "workflow", cmd_workflow, "validate, plan, run and store workflows", workflow_cmds },
	{ "memory", cmd_memory, "project memory that context packs draw from", memory_cmds },
	{ "context", cmd_context, "preview the context a stage would receive", context_cmds },
	{ "pack", cmd_pack, "share workflows as signed .skillmeat-pack files", pack_cmds },
	{ "web", cmd_web, "serve the HTTP API and live run events", NULL },
	{ "runners", cmd_runners, "check the agent CLIs workflows run", runners_cmds },
	{ "stage", cmd_stage, "run one stage of a run orchestrated elsewhere", stage_cmds },
	{ "completion", cmd_completion, "print a shell completion script (bash, zsh, fish)",
	  NULL },
	{ "debug", cmd_debug, "low-level entry points for tests and tools", debug_cmds },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("skillmeat %s\n", SM_VERSION);
		return EXIT_OK;
	}
	return run_subcommand(NULL, usage, skillmeat_cmds, argc, argv);
}
