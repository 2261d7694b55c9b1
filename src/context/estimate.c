#include "estimate.h"
#include "tokens.h"

void estimate_stage(const struct swdl_stage *s, int64_t agent_tokens, int64_t pack_tokens,
		    const struct price_table *prices, struct stage_estimate *out)
{
	memset(out, 0, sizeof(*out));
	if (s->type == STAGE_GATE || swdl_stage_is_command(s))
		return;
	out->agent = true;
	out->input_tokens = ESTIMATE_FRAMING_TOKENS + agent_tokens + tokens_of(s->description) +
			    tokens_of(s->instructions) + pack_tokens +
			    ESTIMATE_TOKENS_PER_PORT * (int64_t)(s->nr_inputs + s->nr_outputs);
	out->output_tokens = ESTIMATE_OUTPUT_TOKENS;
	if (s->budget && s->budget->max_tokens && s->budget->max_tokens < out->output_tokens)
		out->output_tokens = s->budget->max_tokens;
	out->price = price_lookup(prices, s->model);
	if (out->price)
		out->usd = price_cost(out->price, out->input_tokens, out->output_tokens);
}
