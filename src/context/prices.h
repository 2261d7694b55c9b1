/*
 * prices.h - what a model's tokens cost, for runners that report no cost
 * (codex, gemini) and for the plan's estimate.
 *
 * Prices are USD per million tokens.  A small built-in table gives list
 * prices for the common model families; config.toml overrides or extends
 * it:
 *
 *   [prices."gpt-5-codex"]
 *   input_per_mtok = 1.25
 *   output_per_mtok = 10.0
 *   cache_read_per_mtok = 0.125     # optional: input read from the prompt cache
 *   cache_write_per_mtok = 1.25     # optional: input written to it
 *
 * A row without the cache rates prices cached input at the input rate
 * (never an underestimate).  Thinking tokens are billed as output.
 *
 * A model is matched by exact name first, else by the longest table key
 * that occurs in its name ("sonnet" prices "claude-sonnet-4-5").
 */
#ifndef SM_CONTEXT_PRICES_H
#define SM_CONTEXT_PRICES_H

#include "../formats/node.h"

struct price {
	const char *model;          /* the table key */
	double input_per_mtok, output_per_mtok;
	double cache_read_per_mtok, cache_write_per_mtok;
	bool from_config;
};

struct price_table {
	struct price *items;
	size_t nr, alloc;
	char **owned;               /* keys read from config */
	size_t nr_owned;
};

/* The built-in table. */
void price_table_init(struct price_table *t);
/* Add or replace from a [prices] table of config.toml (NULL: nothing). */
int price_table_load(struct price_table *t, const struct node *prices, const char *file,
		     char **err);
void price_table_release(struct price_table *t);

/* The price of `model`, or NULL when nothing matches. */
const struct price *price_lookup(const struct price_table *t, const char *model);
double price_cost(const struct price *p, int64_t input_tokens, int64_t output_tokens);
/* The cost of uncached input, cache reads, cache writes and output (thinking included). */
double price_usage(const struct price *p, int64_t input, int64_t cache_read, int64_t cache_write,
		   int64_t output);

#endif
