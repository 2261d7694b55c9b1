/*
 * model.h - the SWDL workflow model (upstream-swdl.md §1).
 *
 * Built from a located tree by swdl_parse(); every string points into the
 * workflow's arena.  Optional blocks are NULL when absent; durations keep
 * their text (NULL = unset) and the seconds they parse to.
 */
#ifndef SM_SWDL_MODEL_H
#define SM_SWDL_MODEL_H

#include "../base/compat.h"
#include "../base/arena.h"
#include "../base/diag.h"
#include "../base/strmap.h"
#include "../formats/node.h"

enum stage_type { STAGE_AGENT, STAGE_GATE, STAGE_FAN_OUT, STAGE_COMMAND, STAGE__COUNT };
enum on_failure { ON_FAILURE_HALT, ON_FAILURE_CONTINUE, ON_FAILURE_SKIP_DEPENDENTS };
enum on_stage_failure { ON_STAGE_FAILURE_HALT, ON_STAGE_FAILURE_CONTINUE, ON_STAGE_FAILURE_ROLLBACK };
enum on_timeout { ON_TIMEOUT_HALT, ON_TIMEOUT_AUTO_APPROVE, ON_TIMEOUT_REJECT };
enum handoff_format { HANDOFF_STRUCTURED, HANDOFF_MARKDOWN, HANDOFF_RAW };

extern const char *const stage_type_names[];
extern const char *const on_failure_names[];
extern const char *const on_stage_failure_names[];
extern const char *const on_timeout_names[];
extern const char *const handoff_format_names[];

struct str_list {
	size_t nr;
	const char **v;
};

struct swdl_duration {
	const char *text; /* NULL = not set */
	int64_t seconds;
};

struct swdl_retry {
	int64_t max_attempts;
	struct swdl_duration initial_interval;
	double backoff_multiplier;
	struct swdl_duration max_interval;
	struct str_list non_retryable_errors;
};

/* Memory item types, the values of memory.categories (context/memory.h's order). */
#define SWDL_NR_MEMORY_TYPES 7
extern const char *const swdl_memory_types[SWDL_NR_MEMORY_TYPES + 1];

struct swdl_memory {
	const char *project_scope;
	double min_confidence;
	struct str_list categories;
	int64_t max_tokens;
};

struct swdl_param {
	const char *name;
	const char *type;
	bool required;
	const struct node *default_value; /* NULL or a null node = no default */
	const char *description;
};

struct swdl_input {
	const char *name, *type, *source, *description;
	bool required;
};

struct swdl_output {
	const char *name, *type, *description;
	bool required;
	const struct node *default_value;
};

struct swdl_error_policy {
	struct swdl_retry *retry;
	enum on_failure on_failure;
	struct swdl_duration timeout;
};

struct swdl_handoff {
	enum handoff_format format;
	bool include_run_log;
	const char *summary_prompt;
	/* files_changed from git: 1 asked, -1 refused, 0 the default (agent stages only) */
	signed char files_changed;
};

struct swdl_gate {
	const char *kind;
	struct str_list approvers;
	struct swdl_duration timeout;
	enum on_timeout on_timeout;
	const char *message;
};

/* Spending caps (ours): 0 = no cap. */
/*
 * permissions (ours): what an agent may do unattended, in Claude Code's
 * vocabulary, mapped to each CLI's own flags (docs/running.md).
 */
struct swdl_permissions {
	const char *mode;     /* default dontAsk plan acceptEdits bypassPermissions; NULL */
	struct str_list allowed_tools, disallowed_tools;
};

struct swdl_budget {
	double max_usd;
	int64_t max_tokens;
	int64_t max_turns;   /* stage only: handed to runners that support it */
	int64_t max_output_bytes; /* stage only (ours): bytes a stream may write; 0: config's */
};

/*
 * A named role (ours): declared once at the top level, bound to an
 * artifact at plan/run time (roles.c).  Stages use it as
 * "${{ roles.NAME }}" in roles.primary.artifact or roles.tools.
 */
enum role_source { ROLE_UNBOUND, ROLE_BIND, ROLE_REQUEST, ROLE_OVERRIDES, ROLE_DEFAULT };
extern const char *const role_source_names[];

struct swdl_role {
	const char *name, *description, *default_ref;
	struct str_list accepts;     /* artifact types; empty = any */
	const struct node *node;     /* the declaration */
	/* Filled by swdl_bind_roles. */
	const char *bound;           /* the artifact, NULL when unbound */
	enum role_source source;
	const char *source_file;     /* ROLE_OVERRIDES: the file */
};

enum on_item_failure { ON_ITEM_FAIL_FAST, ON_ITEM_CONTINUE };
extern const char *const on_item_failure_names[];

/* type: fan_out: run the stage once per item of a list. */
#define SWDL_FAN_OUT_MAX_ITEMS 1000
struct swdl_fan_out {
	const char *items;           /* an expression yielding a list */
	int64_t max_parallel;        /* 0 = the run's limit */
	enum on_item_failure on_item_failure;
	int64_t max_items;           /* default SWDL_FAN_OUT_MAX_ITEMS */
	int64_t planned_items;       /* swdl_plan_fan_out: the count, or -1 (dynamic) */
};

struct swdl_ui {
	bool has_position;
	int64_t x, y;
	const char *color, *icon;
};

struct swdl_stage {
	size_t index;              /* declaration order */
	const struct node *node;   /* the stage's mapping */
	const char *id, *name, *description, *condition;
	struct str_list depends_on;
	enum stage_type type;
	bool has_roles;
	const char *artifact, *model, *instructions;
	const char *runner;        /* roles.primary.runner: which agent CLI (ours) */
	struct str_list tools;
	/* The role named by the artifact / each tool ("${{ roles.X }}"), else NULL. */
	const char *artifact_role;
	const char **tool_roles;
	size_t nr_inputs, nr_outputs;
	struct swdl_input *inputs;
	struct swdl_output *outputs;
	bool has_context;
	struct str_list modules;
	struct swdl_memory *memory;
	struct swdl_error_policy *error_policy;
	struct swdl_handoff *handoff;
	struct swdl_gate *gate;
	struct swdl_ui *ui;
	/* type: command (ours): a program run instead of an agent. */
	const char *run, *shell, *working_directory;
	size_t nr_env;
	const char **env_keys, **env_values;
	struct swdl_budget *budget;
	struct swdl_fan_out *fan_out;
	struct swdl_permissions *permissions;
};

struct swdl_workflow {
	struct arena *arena;        /* owner of everything below */
	const struct node *root;
	const char *id, *name, *version, *description, *author;
	struct str_list tags;
	const char *ui_color, *ui_icon;
	size_t nr_params;
	struct swdl_param *params;
	struct swdl_duration timeout;
	size_t nr_env;
	const char **env_keys, **env_values;
	struct swdl_budget *budget;   /* config.budget (ours) */
	bool has_context;
	struct str_list global_modules;
	struct swdl_memory *memory;
	size_t nr_stages;
	struct swdl_stage *stages;
	bool has_error_policy;
	struct swdl_retry *default_retry;
	enum on_stage_failure on_stage_failure;
	const struct node *hooks;   /* mapping or NULL; kept as written */
	size_t nr_roles;
	struct swdl_role *roles;
	struct strmap stage_index;  /* id -> index of its first definition */
	/* Written in the seed's short form (dialect.h); stages chained as written. */
	bool seed_form, written_order;
};

/*
 * Turn a located tree into a workflow.  Schema problems (types, enums,
 * ranges, required fields, malformed durations, unknown keys) go to `dl`.
 * Returns SM_OK when no schema error was found; the model is filled as far
 * as possible either way and must be released with swdl_workflow_release.
 */
int swdl_parse(const struct node *root, struct arena *arena,
	       struct swdl_workflow *wf, struct diag_list *dl);
void swdl_workflow_release(struct swdl_workflow *wf);

/* Fill the cross-field defaults of upstream-swdl.md §1.6 (idempotent). */
void swdl_apply_defaults(struct swdl_workflow *wf);

/* A command stage, or a fan-out that runs a command (`run:`) per item. */
static inline bool swdl_stage_is_command(const struct swdl_stage *s)
{
	return s->type == STAGE_COMMAND || (s->type == STAGE_FAN_OUT && s->run);
}

/* The role declared as `name`, or NULL. */
struct swdl_role *swdl_role_find(const struct swdl_workflow *wf, const char *name);
/*
 * The role a value names when it is exactly "${{ roles.NAME }}" (spaces
 * allowed inside the braces), copied into `a`; NULL otherwise.
 */
const char *swdl_role_expr(struct arena *a, const char *value);

/* What a final failure of s does: its own on_failure when written, else the workflow's. */
enum on_failure swdl_stage_on_failure(const struct swdl_workflow *wf, const struct swdl_stage *s);

/* Index of stage `id`, or -1. */
long swdl_stage_find(const struct swdl_workflow *wf, const char *id);
/* Location of a stage field ("inputs.x.source"), nearest existing node. */
struct loc swdl_stage_loc(const struct swdl_stage *s, const char *field);

#endif
