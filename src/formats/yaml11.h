/*
 * yaml11.h - what YAML 1.1 (PyYAML's resolver, which upstream SkillMeat
 * reads its files with) makes of a plain scalar, for values whose
 * declared type is boolean, integer or number.  We read YAML 1.2; where
 * the two disagree for such a value the 1.1 reading wins, so a file
 * written for upstream keeps its meaning, and the caller warns with the
 * YAML 1.2 spelling.
 */
#ifndef SM_FORMATS_YAML11_H
#define SM_FORMATS_YAML11_H

#include "node.h"

enum yaml11_want { Y11_BOOLEAN, Y11_INTEGER, Y11_NUMBER };

/*
 * For a plain scalar `n` wanted as `want`: returns true and fills *out (a
 * copy of n, retyped, same location and text) and spell (the YAML 1.2
 * spelling of the value) when YAML 1.1 gives a value of that type that the
 * 1.2 reading does not.  False when n already fits, or fits neither (the
 * caller's type check reports that).
 */
bool yaml11_retype(const struct node *n, enum yaml11_want want, struct node *out,
		   char *spell, size_t spell_size);

/*
 * PyYAML's reading of plain text as int or float (bool and null aside):
 * NODE_INT, NODE_FLOAT or NODE_STRING when it is neither.  For tests.
 */
enum node_kind yaml11_number(const char *text, int64_t *i, double *f);

#endif
