/*
 * ui_assets.h - the built web UI (web/dist), compiled into the binary by
 * tools/embed_dir.py.  The table ends with a NULL path.
 */
#ifndef SM_UI_ASSETS_H
#define SM_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
	const char *path;          /* "/index.html", "/assets/index-1a2b.js" */
	const char *mime;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz;   /* the same bytes gzipped, or NULL when that saves little */
	size_t gz_len;
};

extern const struct ui_asset ui_assets[];

#endif
