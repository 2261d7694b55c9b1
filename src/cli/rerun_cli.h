/*
 * rerun_cli.h - a re-run's decisions, shared by `workflow rerun`
 * (cmd_rerun.c) and `workflow plan --rerun-of` (cmd_workflow.c), so both
 * say the same about which stages would be reused and why.
 */
#ifndef SM_RERUN_CLI_H
#define SM_RERUN_CLI_H

#include "cli.h"
#include "engine/rerun.h"

#define MAX_FROM 256

/* --from STAGE[,STAGE...]: appended to from (at most MAX_FROM); dies on too many. */
void add_from_arg(const char *cmd, const char **from, size_t *nr, char *arg);

/*
 * Prepare the re-run of orig as `workflow rerun` starts it (the workflow
 * file it ran, as it is now; ro's parameters and bindings over its own) and
 * decide each stage.  Problems with the workflow go to dl (print them with
 * p->l's documents); a refusal or other failure is SM_ERR with *err.
 * The caller releases r, p, plan, dl and *err in every case.
 */
int cli_rerun_prepare(const char *home, const struct rerun_origin *orig,
		      const struct rerun_opts *ro, struct rerun_request *r,
		      struct run_prepared *p, struct rerun_plan *plan, struct diag_list *dl,
		      char **err);

/* rerun_plan_json's object as text: "Re-run of RUN:" and a line a stage. */
void rerun_plan_text(struct strbuf *out, json_t *plan);

#endif
