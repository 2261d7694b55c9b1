/*
 * pack_cli.h - what cmd_pack.c and cmd_pack_keys.c share, in pack_cli.c.
 */
#ifndef SM_PACK_CLI_H
#define SM_PACK_CLI_H

#include "pack/pack.h"

/* verify/install: intact, but not signed by a trusted key. */
#define EXIT_UNTRUSTED 3

/* The options of every pack command (each takes the ones it allows). */
struct pack_opts {
	const char *output, *name, *email, *description, *author, *license, *key, *strategy;
	const char *tags[64];
	size_t nr_tags;
	bool sign, allow_unsigned, allow_untrusted, dry_run;
	enum output_format format;
	int first, argc;
	char **argv;
};
void parse_pack_opts(const char *cmd, const char *usage, int argc, char **argv,
		     const char *allowed, int min_args, int max_args, struct pack_opts *o);
/* The keyring under $SKILLMEAT_HOME; prints why not. */
int load_keyring(struct keyring *kr);
const struct pack_key *signing_key(const char *cmd, const struct keyring *kr, const char *id);

int cmd_pack_keygen(int argc, char **argv);
int cmd_pack_keys(int argc, char **argv);
int cmd_pack_export_key(int argc, char **argv);
int cmd_pack_trust(int argc, char **argv);
int cmd_pack_untrust(int argc, char **argv);

#endif
