/*
 * pack_cli.c - what the `skillmeat pack` commands share (pack_cli.h): their
 * options, the keyring and the key to sign with.
 */
#include "cli.h"
#include "collection/collection.h"
#include "pack_cli.h"

#include <getopt.h>

void parse_pack_opts(const char *cmd, const char *usage, int argc, char **argv,
		     const char *allowed, int min_args, int max_args, struct pack_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' }, { "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' }, { "email", required_argument, NULL, 'e' },
		{ "description", required_argument, NULL, 'd' },
		{ "author", required_argument, NULL, 'a' }, { "license", required_argument, NULL, 'l' },
		{ "tag", required_argument, NULL, 't' }, { "sign", no_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' }, { "strategy", required_argument, NULL, 'S' },
		{ "allow-unsigned", no_argument, NULL, 'U' },
		{ "allow-untrusted", no_argument, NULL, 'T' }, { "dry-run", no_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'F' }, { NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		if (c == '?' || !strchr(allowed, c))
			die_bad_option(cmd, longopts, argv[optind - 1]);
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'n': o->name = optarg; break;
		case 'e': o->email = optarg; break;
		case 'd': o->description = optarg; break;
		case 'a': o->author = optarg; break;
		case 'l': o->license = optarg; break;
		case 't':
			if (o->nr_tags == ARRAY_SIZE(o->tags))
				die_usage(cmd, "too many --tag options");
			o->tags[o->nr_tags++] = optarg;
			break;
		case 's': o->sign = true; break;
		case 'k': o->key = optarg; break;
		case 'S': o->strategy = optarg; break;
		case 'U': o->allow_unsigned = true; break;
		case 'T': o->allow_untrusted = true; break;
		case 'D': o->dry_run = true; break;
		case 'F': o->format = parse_format(cmd, optarg); break;
		}
	}
	int n = argc - optind;
	if (n < min_args)
		die_usage(cmd, "missing argument");
	if (max_args >= 0 && n > max_args)
		die_usage(cmd, "unexpected argument '%s'", argv[optind + max_args]);
	o->first = optind;
	o->argc = argc;
	o->argv = argv;
}

int load_keyring(struct keyring *kr)
{
	struct diag_list dl = DIAG_LIST_INIT;
	char *home = skillmeat_home();
	int r = keyring_load(home, kr, &dl);
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	free(home);
	return r;
}

/* The secret key to sign with: --key, else the only one there is. */
const struct pack_key *signing_key(const char *cmd, const struct keyring *kr, const char *id)
{
	size_t nr = 0;
	const struct pack_key *only = NULL;
	if (id) {
		const struct pack_key *k = keyring_find(kr, id, true);
		if (!k)
			error_msg("%s: no secret key '%s' (see 'skillmeat pack keys')", cmd, id);
		return k;
	}
	for (size_t i = 0; i < kr->nr; i++)
		if (kr->keys[i].has_secret) {
			nr++;
			only = &kr->keys[i];
		}
	if (nr == 1)
		return only;
	error_msg(nr ? "%s: you have several keys; choose one with --key (see 'skillmeat pack "
		  "keys')" : "%s: no signing key; create one with 'skillmeat pack keygen --name "
		  "NAME'", cmd);
	return NULL;
}
