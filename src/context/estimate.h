/*
 * estimate.h - what a stage will cost, before it runs (`workflow plan`).
 *
 * Input tokens: the agent's text, the stage's description and
 * instructions (before interpolation), its context pack, a fixed framing
 * allowance and a little per declared input and output.  Output tokens:
 * an allowance of ESTIMATE_OUTPUT_TOKENS per agent stage (less when the
 * stage's budget caps tokens lower).  Priced with the price table of the
 * stage's model.  Retries are not counted.  Labelled an estimate
 * everywhere it is shown.
 */
#ifndef SM_CONTEXT_ESTIMATE_H
#define SM_CONTEXT_ESTIMATE_H

#include "prices.h"
#include "../swdl/model.h"

#define ESTIMATE_OUTPUT_TOKENS 4000
#define ESTIMATE_FRAMING_TOKENS 100
#define ESTIMATE_TOKENS_PER_PORT 10

struct stage_estimate {
	bool agent;                  /* command stages and gates cost no tokens */
	int64_t input_tokens, output_tokens;
	const struct price *price;   /* NULL: no price for the model */
	double usd;
};

void estimate_stage(const struct swdl_stage *s, int64_t agent_tokens, int64_t pack_tokens,
		    const struct price_table *prices, struct stage_estimate *out);

#endif
