/*
 * cmd_pack_keys.c - `skillmeat pack keygen|keys|export-key|trust|untrust`:
 * your Ed25519 signing keys and the publishers you trust.
 */
#include "cli.h"
#include "base/termesc.h"
#include "pack_cli.h"
#include "base/fsutil.h"
#include "collection/collection.h"

static const char keygen_usage[] =
"usage: skillmeat pack keygen --name NAME [--email EMAIL] [--format text|json]\n"
"\n"
"Create an Ed25519 key pair for signing packs.  The secret key is kept in\n"
"$SKILLMEAT_HOME/signing-keys/private/ID.json (mode 0600, not encrypted:\n"
"guard it like an SSH key); its public half is trusted at once.  Give\n"
"others 'skillmeat pack export-key ID' so they can trust your packs.\n";

static const char keys_usage[] =
"usage: skillmeat pack keys [--format text|json]\n"
"\n"
"List your signing keys (secret) and the public keys you trust: key id,\n"
"fingerprint (SHA-256 of the public key), name and email.\n";

static const char export_usage[] =
"usage: skillmeat pack export-key [ID] [-o FILE]\n"
"\n"
"Print the public half of your key ID (default: your only key) as JSON,\n"
"for others to pass to 'skillmeat pack trust'.\n";

static const char trust_usage[] =
"usage: skillmeat pack trust FILE\n"
"\n"
"Trust the public key in FILE (from 'skillmeat pack export-key'): packs it\n"
"signs install without --allow-untrusted.  Check the fingerprint it prints\n"
"with the publisher.\n";

static const char untrust_usage[] =
"usage: skillmeat pack untrust ID\n"
"\n"
"Stop trusting a public key (by key id, fingerprint, or a unique prefix).\n"
"Your own secret keys are not touched.\n";

int cmd_pack_keygen(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	parse_pack_opts("pack keygen", keygen_usage, argc, argv, "neF", 0, 0, &o);
	if (!o.name || !*o.name)
		die_usage("pack keygen", "--name is required (who signs: a person or a team)");
	struct diag_list dl = DIAG_LIST_INIT;
	struct pack_key k;
	char *home = skillmeat_home();
	int r = key_generate(home, o.name, o.email, &k, &dl);
	print_diags(&dl, NULL, 0);
	if (!r && o.format == FORMAT_JSON) {
		print_json_new(key_public_json(&k));
	} else if (!r) {
		printf("Created key %s for %s%s%s%s\n", k.key_id, term_esc(k.name),
		       *k.email ? " <" : "", term_esc(k.email), *k.email ? ">" : "");
		printf("  fingerprint: %s\n", k.fingerprint);
		printf("  secret key:  %s/signing-keys/private/%s.json (keep it private)\n", home,
		       k.key_id);
	}
	if (!r)
		pack_key_release(&k);
	free(home);
	diag_list_release(&dl);
	return r ? EXIT_FAIL : EXIT_OK;
}

int cmd_pack_keys(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	struct keyring kr;
	parse_pack_opts("pack keys", keys_usage, argc, argv, "F", 0, 0, &o);
	if (load_keyring(&kr))
		return EXIT_FAIL;
	json_t *arr = json_array();
	for (size_t i = 0; i < kr.nr; i++) {
		const struct pack_key *k = &kr.keys[i];
		/* a secret key's public half is also in trusted/: show it once */
		if (!k->has_secret && keyring_find(&kr, k->fingerprint, true))
			continue;
		json_t *j = key_public_json(k);
		json_object_set_new(j, "secret", json_boolean(k->has_secret));
		json_array_append_new(arr, j);
		if (o.format == FORMAT_TEXT)
			printf("%-6s %s  %s%s%s%s\n", k->has_secret ? "secret" : "trust", k->key_id,
			       term_esc(k->name), *k->email ? " <" : "", term_esc(k->email),
			       *k->email ? ">" : "");
	}
	if (o.format == FORMAT_JSON)
		print_json_new(arr);
	else {
		if (!json_array_size(arr))
			printf("No keys.  Create one with 'skillmeat pack keygen --name NAME'.\n");
		json_decref(arr);
	}
	keyring_release(&kr);
	return EXIT_OK;
}

int cmd_pack_export_key(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	struct keyring kr;
	parse_pack_opts("pack export-key", export_usage, argc, argv, "o", 0, 1, &o);
	if (load_keyring(&kr))
		return EXIT_FAIL;
	const struct pack_key *k = signing_key("pack export-key", &kr,
					       o.first < argc ? argv[o.first] : NULL);
	int rc = EXIT_FAIL;
	if (k) {
		json_t *j = key_public_json(k);
		char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (!o.output) {
			printf("%s\n", text);
			rc = EXIT_OK;
		} else if (fs_write_atomic(o.output, text, strlen(text))) {
			error_msg("pack export-key: %s: %s", o.output, strerror(errno));
		} else {
			rc = EXIT_OK;
		}
		free(text);
		json_decref(j);
	}
	keyring_release(&kr);
	return rc;
}

int cmd_pack_trust(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	parse_pack_opts("pack trust", trust_usage, argc, argv, "", 1, 1, &o);
	const char *file = argv[o.first];
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;
	json_error_t err;
	json_t *j = NULL;
	int rc = EXIT_FAIL;
	int r = strbuf_read_file(&sb, file, 64u << 10);
	if (r) {
		error_msg("pack trust: %s: %s", file, r == SM_ELIMIT ? "larger than 64 KiB, not a "
			  "key file" : strerror(errno));
	} else if (!(j = json_loadb(sb.buf, sb.len, JSON_REJECT_DUPLICATES, &err))) {
		error_msg("pack trust: %s:%d:%d: %s", file, err.line, err.column, err.text);
	} else {
		char *home = skillmeat_home();
		struct pack_key k;
		if (!key_trust(home, j, file, &k, &dl)) {
			printf("Trusted key %s (%s%s%s%s)\n  fingerprint: %s\n", k.key_id,
			       term_esc(k.name), *k.email ? " <" : "", term_esc(k.email),
			       *k.email ? ">" : "", k.fingerprint);
			pack_key_release(&k);
			rc = EXIT_OK;
		}
		free(home);
	}
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	json_decref(j);
	strbuf_release(&sb);
	return rc;
}

int cmd_pack_untrust(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	struct keyring kr;
	parse_pack_opts("pack untrust", untrust_usage, argc, argv, "", 1, 1, &o);
	if (load_keyring(&kr))
		return EXIT_FAIL;
	const struct pack_key *k = keyring_find(&kr, argv[o.first], false);
	int rc = EXIT_FAIL;
	if (!k) {
		error_msg("pack untrust: no key '%s', or the prefix is ambiguous (see 'skillmeat "
			  "pack keys')", argv[o.first]);
	} else {
		struct diag_list dl = DIAG_LIST_INIT;
		char *home = skillmeat_home();
		if (!key_untrust(home, k, &dl)) {
			printf("Key %s is no longer trusted\n", k->key_id);
			rc = EXIT_OK;
		}
		print_diags(&dl, NULL, 0);
		diag_list_release(&dl);
		free(home);
	}
	keyring_release(&kr);
	return rc;
}
