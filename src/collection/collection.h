/*
 * Room collection/ (docs/ARCHITECTURE.md): collections on disk: roots,
 * manifest and lock, artifact lookup and references (refs.h), content
 * hashes (hash.h).  Uses base/, formats/, swdl/.  This header is its door.
 *
 * collection.h - SkillMeat collections on disk (upstream-formats.md §1).
 *
 *   $SKILLMEAT_HOME (default ~/.skillmeat)/
 *     config.toml                 [settings] default-collection = "default"
 *     collections/<name>/
 *       collection.toml           manifest: [collection], [[artifacts]], …
 *       collection.lock           [lock.entries."<name>::<type>"] content_hash
 *       agents/<n>.md  skills/<n>/SKILL.md  commands/<n>.md
 *       workflows/<name>/WORKFLOW.yaml   context/<n>.md
 *
 * The manifest is rewritten atomically, keeping every entry this program
 * does not understand.
 */
#ifndef SM_COLLECTION_H
#define SM_COLLECTION_H

#include "../formats/load.h"

struct collection {
	char *home;          /* the SkillMeat home */
	char *name;          /* the collection's name */
	char *root;          /* home/collections/name */
	struct doc *manifest;
	struct doc *lock;    /* NULL when there is no lock file yet */
	struct arena arena;  /* edited trees */
	int lock_fd;         /* the folder, flock'ed; -1 when not locked */
};

/* $SKILLMEAT_HOME, else $HOME/.skillmeat (malloc'd). */
char *skillmeat_home(void);

/*
 * The active collection's name: [settings] default-collection of
 * home/config.toml, "default" when unset or when there is no config.
 * Errors (a malformed config) go to `dl`.
 */
int collection_active_name(const char *home, char **name, struct diag_list *dl);

/*
 * Open collection `name` (NULL: the active one).  SM_ENOENT when it does
 * not exist (a diagnostic says how to create it).
 */
int collection_open(const char *name, struct collection **out, struct diag_list *dl);
void collection_free(struct collection *c);
/* The active collection if there is one (*c stays NULL if not; other problems to dl). */
int collection_open_optional(struct collection **c, struct diag_list *dl);

/* Create collection `name` (dirs, empty manifest and lock); make it the
 * default when there is no config yet.  SM_OK if it already exists. */
int collection_init(const char *name, char **root_out, struct diag_list *dl);

/*
 * Writers take turns: an flock on the collection's folder, held until
 * collection_unlock or collection_free.  Taking it reads the manifest and
 * lock again, so every read-modify-write starts from what the last writer
 * left.  collection_add_workflow and _remove_workflow take it themselves
 * when the caller does not hold it.
 */
int collection_lock(struct collection *c, struct diag_list *dl);
void collection_unlock(struct collection *c);
/* Read the manifest and lock again (entries made before are dropped). */
int collection_reread(struct collection *c, struct diag_list *dl);

/* ---- artifacts ---- */

struct artifact_entry {
	const char *name, *type, *path;
	const struct node *node; /* the [[artifacts]] table */
};

/* Manifest entries of `type` (NULL: all); caller frees the array. */
size_t collection_entries(const struct collection *c, const char *type,
			  struct artifact_entry **out);

/*
 * Resolve a reference ("agent:researcher-v1", "ctx:repo-rules", …) to the
 * file or directory that holds it (malloc'd), or NULL.  Manifest entries
 * win; otherwise the conventional place (agents/<n>.md, skills/<n>/…).
 */
char *collection_resolve(const struct collection *c, const char *ref);
/* Where an artifact of `type` lives, relative to the root (malloc'd):
 * agents/<n>.md, skills/<n>, workflows/<n>, context/<n>.md, …; NULL for
 * a type kept elsewhere (mcp). */
char *collection_artifact_rel(const char *type, const char *name);

/* ---- workflows ---- */

struct workflow_add_opts {
	const char *name;   /* stored name; default: the workflow's id */
	bool force;         /* replace an existing one */
};

/*
 * Store a validated workflow file: workflows/<name>/WORKFLOW.<ext> (the
 * bytes unchanged), a manifest entry and a lock entry.  `id`, `title`,
 * `version`, `description` and `tags` come from the parsed workflow.
 */
struct workflow_meta {
	const char *id, *title, *version, *description;
	size_t nr_tags;
	const char *const *tags;
};
int collection_add_workflow(struct collection *c, const char *src,
			    const struct workflow_meta *meta, const struct workflow_add_opts *opts,
			    char **stored_path, struct diag_list *dl);
int collection_remove_workflow(struct collection *c, const char *name, struct diag_list *dl);

/*
 * A batch of manifest and lock changes, written together: each removes the
 * entry (type, name) and, when `entry` is set, appends it; the lock entry
 * "<name>::<type>" gets `hash` (NULL removes it).  collection.toml is
 * written first, then collection.lock, each atomically.
 */
struct collection_change {
	const char *type, *name;
	struct node *entry;
	const char *hash;
};
int collection_apply(struct collection *c, const struct collection_change *ch, size_t nr,
		     struct diag_list *dl);
/* Manifest entries (in c's arena) for a workflow and for any other artifact;
 * the latter keeps the fields of an existing entry of the same name. */
struct node *collection_workflow_entry(struct collection *c, const char *name,
				       const struct workflow_meta *meta);
struct node *collection_artifact_entry(struct collection *c, const char *type, const char *name,
				       const char *path);

/* The WORKFLOW.* file of a stored workflow entry (malloc'd), or NULL. */
char *collection_workflow_file(const struct collection *c, const char *name);

/* Is `name` safe as an artifact name (no '/', '\\', "..", not ".x")? */
bool artifact_name_ok(const char *name);

#endif
