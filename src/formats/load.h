/*
 * Room formats/ (docs/ARCHITECTURE.md): the file formats under the
 * language: YAML and JSON read into a located tree (node.h), YAML 1.1
 * readings, the TOML decoder, the YAML and TOML writers.  Uses base/ only.
 * This header is its door.
 *
 * load.h - read a YAML or JSON file into a located tree, within limits.
 *
 * YAML is read as YAML 1.2 with the core schema for plain scalars (see
 * docs/swdl.md "Scalar typing"); JSON goes through the same parser in
 * JSON mode, so both give the same tree and the same diagnostics.  Every
 * limit breach is a located diagnostic, never a crash or a hang.
 */
#ifndef SM_LOAD_H
#define SM_LOAD_H

#include "node.h"

enum doc_format { DOC_YAML, DOC_JSON, DOC_TOML };

struct load_limits {
	size_t max_bytes;      /* input size */
	unsigned max_depth;    /* nesting of mappings and sequences */
	size_t max_nodes;      /* nodes in the tree, aliases counted expanded */
	size_t max_map_keys;   /* keys in one mapping */
};

#define LOAD_LIMITS_DEFAULT { 16u << 20, 128, 4000000, 100000 }

struct doc {
	struct arena arena;
	char *file;     /* the name diagnostics use */
	char *text;     /* the bytes read, NUL-terminated */
	size_t len;
	enum doc_format format;
	struct node *root; /* NULL for an empty document */
};

/* The format a file name implies, or -1 when its extension is unknown. */
int doc_format_from_name(const char *path);

/*
 * Load `path` (format from its extension).  On failure returns an error
 * code, fills `dl` and sets *out to NULL.  The caller frees with doc_free.
 */
int doc_load_file(const char *path, const struct load_limits *lim,
		  struct doc **out, struct diag_list *dl);
/* Load `path` as `fmt`, whatever its extension (collection.lock is TOML). */
int doc_load_file_as(const char *path, enum doc_format fmt, const struct load_limits *lim,
		     struct doc **out, struct diag_list *dl);
/* Load from memory; `name` is used in diagnostics.  Copies `buf`. */
int doc_load_buffer(const char *name, const char *buf, size_t len, enum doc_format fmt,
		    const struct load_limits *lim, struct doc **out, struct diag_list *dl);
void doc_free(struct doc *d);

/* Text checks shared by every loader: UTF-8 validity and no NUL bytes. */
bool text_check_utf8(const char *buf, size_t len, size_t *bad_offset);
/* 1-based line and column (in characters) of a byte offset. */
void text_line_col(const char *buf, size_t off, int *line, int *col);

#endif
