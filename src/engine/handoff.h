/*
 * handoff.h - the record a finished stage hands to the stages after it
 * (schema/handoff.schema.json): what it produced, what it changed, what
 * it cost, and a summary.  Built by the host when a stage ends; rendered
 * for an agent's prompt (structured, markdown or raw) or written as a
 * JSON file for a command stage ($SKILLMEAT_HANDOFF).
 */
#ifndef SM_ENGINE_HANDOFF_H
#define SM_ENGINE_HANDOFF_H

#include "../base/strbuf.h"
#include "../swdl/model.h"

#include <jansson.h>

#define HANDOFF_SCHEMA "https://skillmeat.dev/schema/handoff/v1"
#define HANDOFF_VERSION 1

/* Bytes of a stage's final text and of its run log kept in a record. */
#define HANDOFF_TEXT_MAX (16 * 1024)
#define HANDOFF_LOG_MAX (8 * 1024)

/*
 * The work tree the run works in, as git sees it: *root (malloc'd) is its
 * top directory, NULL when `dir` is not in a git work tree or git is not
 * there.
 */
void handoff_git_root(const char *dir, char **root);

/*
 * The pathspec that keeps git out of `home` when it lies inside the work
 * tree at `root` (malloc'd), else NULL.
 */
char *handoff_git_exclude(const char *root, const char *home);

/*
 * The state of the work tree: one line per path git reports as changed or
 * untracked, "XY<TAB>mtime_ns<TAB>size<TAB>path" (paths relative to root),
 * so an edit of an already modified file is seen too.  `exclude` (or NULL):
 * a pathspec git does not look into.  SM_ERR with *err.
 */
int handoff_git_state(const char *root, const char *exclude, struct strbuf *out, char **err);

/* The paths whose line differs between two states: [{path, status}] (new reference). */
json_t *handoff_files_changed(const char *before, const char *after);

/*
 * The text a downstream agent reads for `rec` in format `fmt`, at most
 * `max` bytes (cut at a line with a note naming how to see the rest).
 */
void handoff_render(struct strbuf *out, const json_t *rec, enum handoff_format fmt,
		    size_t max);

/* A final answer without its ```json block (the outputs are recorded apart). */
char *handoff_prose(const char *text);

#endif
