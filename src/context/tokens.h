/*
 * tokens.h - the token estimate used for budgets and cost estimates.
 *
 * Upstream's rule, kept so that both count the same: 0 for empty text,
 * else max(1, code points / 4), counting UTF-8 code points (not bytes).
 * It is an estimate of what a model's tokenizer would say (English prose
 * runs about 4 characters a token), but an exact function of the text:
 * the same text always gives the same count.
 */
#ifndef SM_CONTEXT_TOKENS_H
#define SM_CONTEXT_TOKENS_H

#include "../base/compat.h"

static inline int64_t tokens_estimate(const char *text, size_t len)
{
	size_t cps = 0;
	for (size_t i = 0; i < len; i++)
		cps += ((unsigned char)text[i] & 0xC0) != 0x80;
	return !cps ? 0 : cps < 4 ? 1 : (int64_t)(cps / 4);
}

static inline int64_t tokens_of(const char *text)
{
	return text ? tokens_estimate(text, strlen(text)) : 0;
}

#endif
