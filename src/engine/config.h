/*
 * config.h - the engine's part of $SKILLMEAT_HOME/config.toml:
 *
 *   notify = ["notify-send", "SkillMeat"]   # hooks' notify: message appended
 *   # or a shell command, the message in $1:  notify = "mail -s \"$1\" me"
 *
 *   [runners.NAME]      command, protocol, args     (see runner.h)
 *   [prices."MODEL"]    input_per_mtok, output_per_mtok (see context/prices.h)
 *   [engine]            durability = "normal" | "full"  (see store.h)
 *                       result_grace = "10s"   (an agent lingering after its
 *                         final message is stopped then, judged by that message)
 *                       rate_limit_retries = 5, rate_limit_max_wait = "6h"
 *                         (a rate-limited attempt waits for the reset the CLI
 *                         reports; such waits cost no attempt, up to this many)
 *                       max_output_bytes = 268435456 (per stream of an attempt)
 *
 * A missing file is an empty config.  Other keys belong to other parts
 * of SkillMeat and are left alone.
 */
#ifndef SM_ENGINE_CONFIG_H
#define SM_ENGINE_CONFIG_H

#include "../runners/runner.h"
#include "../context/prices.h"

struct engine_config {
	struct runner_set runners;
	struct price_table prices;
	char **notify;              /* argv (NULL-terminated), the message appended; or NULL */
	bool durability_full;       /* fsync every commit of the runs database */
	int64_t result_grace_s;     /* default 10 */
	unsigned rate_limit_retries; /* default 5 */
	int64_t rate_limit_max_wait_s; /* default 6 hours */
	int64_t max_output_bytes;   /* per stream of an attempt; default 256 MiB */
};

int engine_config_load(struct engine_config *c, const char *path, char **err);
void engine_config_release(struct engine_config *c);

/*
 * The workflow's runners against HOME/config.toml (runner_check_workflow:
 * unknown runners are errors, what a runner cannot be given is a warning);
 * a config that cannot be read is an error in `dl`.
 */
struct swdl_workflow;
void engine_check_runners(const char *home, const struct swdl_workflow *wf, struct diag_list *dl);

/*
 * Is a runner usable here (runner_check.c: it runs the program, so it is
 * the engine's, not a protocol's).  {version} (first line of `program --version`)
 * or {error}.
 */
json_t *runner_program_version(const char *program);
/*
 * Each agent runner of the set (or only those named): {name, protocol,
 * program, path, version, status: ok|degraded|incompatible|broken|not_found,
 * note}.
 */
json_t *runner_check(const struct runner_set *rs, const char *const *only, size_t nr_only);

/* argv for notifying `message` (free the array, not the strings), or NULL. */
const char **engine_notify_argv(const struct engine_config *c, const char *message);

#endif
