/*
 * termesc.h - text from outside (a pack, a key file, a workflow, an agent's
 * output) made safe to print on a terminal: C0 and C1 control characters,
 * DEL and the bidirectional-text controls (U+061C, U+200E-F, U+202A-E,
 * U+2066-9, which reorder what follows: "Trojan Source") are shown escaped
 * (\x1b, \u202e), bytes that are not UTF-8 as \xNN.  Everything else,
 * other scripts included, is kept as it is.
 */
#ifndef SM_TERMESC_H
#define SM_TERMESC_H

#include "strbuf.h"

enum { TERM_ONE_LINE = 0, TERM_KEEP_LINES = 1 }; /* newlines and tabs kept, or escaped */

void term_escape(struct strbuf *sb, const char *s, size_t len, int flags);
/* The escaped text of `s` (one line), valid until 16 more calls (CLI use only). */
const char *term_esc(const char *s);
/* Is `s` free of what term_escape would escape (flags as for it)? */
bool term_clean(const char *s, size_t len, int flags);

#endif
