/*
 * cmd_pack.c - `skillmeat pack build|inspect|verify|sign|install`: share
 * workflows with the artifacts they use as signed .skillmeat-pack files.
 * Keys are in cmd_pack_keys.c.
 */
#include "cli.h"
#include "base/termesc.h"
#include "pack_cli.h"
#include "base/fsutil.h"
#include "pack/share.h"

#include <getopt.h>

static const char build_usage[] =
"usage: skillmeat pack build WORKFLOW... [-o FILE] [--name NAME] [--sign] [options]\n"
"\n"
"Bundle workflows (files, or names stored in the active collection) with\n"
"every artifact they use, found in the active collection: the agents and\n"
"skills of their roles and tools, their context modules, and the skills\n"
"each agent's front matter lists.  Each file gets a SHA-256 in manifest.json;\n"
"the bundle hash covers them all.  MCP servers are not bundled.\n"
"\n"
"  -o, --output FILE     where to write (default: ./NAME.skillmeat-pack)\n"
"  --name NAME           the pack's name (default: the first workflow's)\n"
"  --description TEXT    --author NAME    --license ID (default MIT)\n"
"  --tag TAG             a tag (repeatable)\n"
"  --sign                sign with your key (see 'skillmeat pack keygen')\n"
"  --key ID              which key, when you have several\n"
"  --format FORMAT       text (default) or json\n"
"\n"
"Exit status: 0 written, 1 a workflow is invalid or an artifact is missing.\n";

static const char inspect_usage[] =
"usage: skillmeat pack inspect FILE [--strategy S] [--format text|json]\n"
"\n"
"Verify a pack (every hash, and the signature against your keyring) and\n"
"show what it holds and what 'pack install' would do in the active\n"
"collection with strategy S (skip, overwrite or rename; default skip).\n"
"Nothing is written.\n"
"\n"
"Exit status: 0 intact, 1 damaged, altered or unsafe.\n";

static const char verify_usage[] =
"usage: skillmeat pack verify FILE [--format text|json]\n"
"\n"
"Check a pack: its archive (no links, devices, FIFOs, unsafe paths or\n"
"bombs), its manifest, every file against its hash, the bundle hash, the\n"
"signature against the keyring of trusted keys, and that each workflow in\n"
"it plans with what the pack holds (its roles bound to their defaults).\n"
"\n"
"Exit status: 0 intact and signed by a trusted key; 3 intact but unsigned,\n"
"or signed by a key that is not trusted; 1 damaged, altered, unsafe, a\n"
"bad signature, or a workflow that needs an artifact the pack lacks.\n";

static const char sign_usage[] =
"usage: skillmeat pack sign FILE [--key ID] [-o OUT]\n"
"\n"
"Verify the pack, then sign it with your Ed25519 key (replacing any\n"
"signature).  The signature covers the bundle hash and the manifest, so\n"
"every file.  Writes FILE in place (atomically) unless -o is given.\n";

static const char install_usage[] =
"usage: skillmeat pack install FILE [--strategy skip|overwrite|rename] [options]\n"
"\n"
"Install a pack into the active collection.  Everything is verified first\n"
"(archive safety, hashes, signature); then all the pack's artifacts and\n"
"workflows are installed, or, on any error, none.  An artifact whose name\n"
"is taken by different content follows the strategy: skip (keep yours; the\n"
"default), overwrite (replace it), or rename (install it as\n"
"NAME-imported, and rename the pack's references to it).  Identical\n"
"content is left as it is.\n"
"\n"
"  --strategy S          skip, overwrite or rename (also upstream's merge, fork)\n"
"  --allow-unsigned      install a pack that is not signed\n"
"  --allow-untrusted     install a pack signed by a key you do not trust\n"
"  --dry-run             show what would happen; write nothing\n"
"  --format FORMAT       text (default) or json\n"
"\n"
"Exit status: 0 installed, 1 refused or failed (nothing written), 3 not\n"
"signed by a trusted key (nothing written).\n";


/* Read and verify FILE; prints why not. */
static struct pack *read_pack(const char *file)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct pack *p = NULL;
	pack_read_file(file, NULL, &p, &dl);
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	return p;
}

static int sign_and_write(const char *cmd, struct pack *p, const char *key, const char *out)
{
	struct keyring kr;
	struct diag_list dl = DIAG_LIST_INIT;
	int r = SM_ERR;
	if (!load_keyring(&kr)) {
		const struct pack_key *k = signing_key(cmd, &kr, key);
		if (k && !pack_sign(p, k, &dl))
			r = pack_write_file(p, out, &dl);
	}
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	keyring_release(&kr);
	return r;
}

/* Each WORKFLOW argument: its file, and the stored name when it is stored.
 * Returns how many resolved (fewer than asked: one was said not to). */
static int build_inputs(const struct pack_opts *o, const struct collection *c,
			struct pack_build_input *in, char **files)
{
	char *wdir = path_join(c->root, "workflows");
	size_t wl = strlen(wdir);
	int nr = 0;
	for (int i = o->first; i < o->argc; i++, nr++) {
		files[nr] = resolve_workflow_arg("pack build", o->argv[i]);
		if (!files[nr])
			break;
		in[nr].file = files[nr];
		in[nr].name = NULL;
		if (!strncmp(files[nr], wdir, wl) && files[nr][wl] == '/') {
			char *name = xstrdup(files[nr] + wl + 1);
			*strchrnul(name, '/') = '\0';
			in[nr].name = name;
		}
	}
	free(wdir);
	return nr;
}

static void print_built(const struct pack_opts *o, const struct pack *p, const char *out,
			bool signed_)
{
	if (o->format == FORMAT_JSON) {
		json_t *arts = json_array();
		for (size_t i = 0; i < p->nr_arts; i++)
			json_array_append_new(arts, json_pack("{s:s, s:s, s:s, s:I}", "type",
				p->arts[i].type, "name", p->arts[i].name, "hash", p->arts[i].hash,
				"file_count", (json_int_t)p->arts[i].nr_files));
		print_json_new(json_pack("{s:s, s:s, s:O, s:b, s:o}", "file", out, "name",
			json_string_value(json_object_get(p->manifest, "name")), "bundle_hash",
			json_object_get(p->manifest, "bundle_hash"), "signed", signed_,
			"artifacts", arts));
		return;
	}
	for (size_t i = 0; i < p->nr_arts; i++)
		printf("  %s:%s (%zu file%s)\n", term_esc(p->arts[i].type), term_esc(p->arts[i].name),
		       p->arts[i].nr_files, p->arts[i].nr_files == 1 ? "" : "s");
	printf("Wrote %s: %zu artifact%s, %s%s\n", out, p->nr_arts, p->nr_arts == 1 ? "" : "s",
	       signed_ ? "signed" : "unsigned",
	       signed_ ? "" : " (sign it with 'skillmeat pack sign')");
}

static int cmd_pack_build(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	struct pack *p = NULL;
	int rc = EXIT_FAIL, nr = 0;
	parse_pack_opts("pack build", build_usage, argc, argv, "ondaltskF", 1, -1, &o);
	int n = argc - o.first;
	struct pack_build_input *in = xcalloc((size_t)n, sizeof(*in));
	char **files = xcalloc((size_t)n, sizeof(*files));
	if (collection_open(NULL, &c, &dl) || (nr = build_inputs(&o, c, in, files)) < n)
		goto out;
	struct pack_build_opts bo = { o.name, o.description, o.author, o.license, o.nr_tags,
				      o.tags };
	if (!pack_build(c, in, (size_t)nr, &bo, &p, &dl)) {
		const char *name = json_string_value(json_object_get(p->manifest, "name"));
		char *out = o.output ? xstrdup(o.output) : xasprintf("%s" PACK_EXT, name);
		int r = o.sign ? sign_and_write("pack build", p, o.key, out)
			       : pack_write_file(p, out, &dl);
		print_diags(&dl, NULL, 0);
		diag_list_release(&dl);
		if (!r) {
			print_built(&o, p, out, o.sign);
			rc = EXIT_OK;
		}
		free(out);
	}
out:
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	for (int i = 0; i < nr; i++) {
		free(files[i]);
		free((char *)in[i].name);
	}
	free(files);
	free(in);
	pack_free(p);
	collection_free(c);
	return rc;
}

/* ---- inspect, verify ---- */

static size_t pack_bytes(const struct pack *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nr_entries; i++)
		n += p->entries[i].len;
	return n;
}

static json_t *sig_json(const struct pack_sig_info *si)
{
	json_t *j = json_pack("{s:s, s:s}", "status", pack_sig_status_name(si->status), "reason",
			      si->reason);
	if (si->fingerprint[0])
		json_object_set_new(j, "key_fingerprint", json_string(si->fingerprint));
	if (si->signer_name)
		json_object_set_new(j, "signer_name", json_string(si->signer_name));
	if (si->signer_email)
		json_object_set_new(j, "signer_email", json_string(si->signer_email));
	if (si->signed_at)
		json_object_set_new(j, "signed_at", json_string(si->signed_at));
	return j;
}

static void print_sig(const struct pack_sig_info *si)
{
	FILE *f = stdout;
	const char *col = si->status == SIG_TRUSTED ? C_GREEN : si->status == SIG_INVALID ? C_RED
			: C_YELLOW;
	printf("  signature:   %s%s%s", color(f, col), pack_sig_status_name(si->status),
	       color(f, C_RESET));
	/* The keyring's name for the key; the pack's unsigned signer_name only as a claim. */
	const char *claim = si->signer_name ? si->signer_name : "";
	if (si->fingerprint[0]) {
		printf(" (key %.16s", si->fingerprint);
		if (*si->key_name)
			printf(", %s%s%s%s", term_esc(si->key_name), *si->key_email ? " <" : "",
			       term_esc(si->key_email), *si->key_email ? ">" : "");
		if (*claim && strcmp(claim, si->key_name))
			printf(", claims to be \"%s\"", term_esc(claim));
		printf(")");
	}
	printf(": %s\n", si->reason);
}

static const char *mstr(const struct pack *p, const char *key)
{
	const char *s = json_string_value(json_object_get(p->manifest, key));
	return s ? s : "";
}

static void print_pack(const struct pack *p, const struct pack_sig_info *si)
{
	printf("%s%s%s: %zu artifact%s, %zu file%s, %.1f KiB\n", color(stdout, C_BOLD),
	       term_esc(mstr(p, "name")), color(stdout, C_RESET), p->nr_arts, p->nr_arts == 1 ? "" : "s",
	       p->nr_entries - 1, p->nr_entries == 2 ? "" : "s", (double)pack_bytes(p) / 1024);
	if (*mstr(p, "description"))
		printf("  description: %s\n", term_esc(mstr(p, "description")));
	printf("  author:      %s (license %s), built %s\n", *mstr(p, "author") ?
	       term_esc(mstr(p, "author")) : "-", *mstr(p, "license") ? term_esc(mstr(p, "license"))
	       : "-", term_esc(mstr(p, "created_at")));
	printf("  bundle hash: %s (every file verified)\n", term_esc(mstr(p, "bundle_hash")));
	print_sig(si);
}

static json_t *pack_json(const struct pack *p, const struct pack_sig_info *si)
{
	json_t *arts = json_array();
	for (size_t i = 0; i < p->nr_arts; i++) {
		json_t *files = json_array();
		for (size_t k = 0; k < p->arts[i].nr_files; k++)
			json_array_append_new(files, json_string(p->arts[i].files[k]));
		json_array_append_new(arts, json_pack("{s:s, s:s, s:s, s:o}", "type",
			p->arts[i].type, "name", p->arts[i].name, "hash", p->arts[i].hash,
			"files", files));
	}
	/* the manifest keeps upstream's naive UTC time; JSON output says it is UTC */
	const char *made = mstr(p, "created_at");
	char at[64];
	snprintf(at, sizeof(at), "%s%s", made, *made && !strchr(made, 'Z') && !strchr(made + 10, '+')
		 ? "Z" : "");
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o}", "name", mstr(p, "name"),
		"description", mstr(p, "description"), "author", mstr(p, "author"), "license",
		mstr(p, "license"), "created_at", at, "bundle_hash",
		mstr(p, "bundle_hash"), "bytes", (json_int_t)pack_bytes(p), "signature",
		sig_json(si), "artifacts", arts);
}

static json_t *plan_json(const struct pack_plan *plan)
{
	json_t *v = json_array();
	for (size_t i = 0; i < plan->nr; i++) {
		const struct pack_action *a = &plan->v[i];
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", a->a->type, "name",
				      a->a->name, "action", pack_action_name(a->kind), "installed_as",
				      a->name, "path", a->rel);
		if (a->rewrites)
			json_object_set_new(j, "references_renamed", json_integer((json_int_t)a->rewrites));
		json_array_append_new(v, j);
	}
	return v;
}

static void print_plan(const struct pack_plan *plan, const char *collection, const char *verb)
{
	static const char *const cols[] = { C_GREEN, C_DIM, C_YELLOW, C_YELLOW, C_YELLOW };
	printf("%s collection '%s':\n", verb, term_esc(collection));
	for (size_t i = 0; i < plan->nr; i++) {
		const struct pack_action *a = &plan->v[i];
		char *ref = xasprintf("%s:%s", a->a->type, a->a->name);
		printf("  %s%-9s%s %-32s %s", color(stdout, cols[a->kind]), pack_action_name(a->kind),
		       color(stdout, C_RESET), term_esc(ref), term_esc(a->rel));
		if (a->kind == ACT_SKIP)
			printf("  (yours differs; kept)");
		if (a->rewrites)
			printf("  (%zu reference%s renamed)", a->rewrites, a->rewrites == 1 ? "" : "s");
		putchar('\n');
		free(ref);
	}
	printf("%zu new, %zu unchanged, %zu skipped, %zu overwritten, %zu renamed\n",
	       plan->count[ACT_NEW], plan->count[ACT_UNCHANGED], plan->count[ACT_SKIP],
	       plan->count[ACT_OVERWRITE], plan->count[ACT_RENAME]);
}

static enum pack_strategy strategy_of(const char *cmd, const char *s)
{
	enum pack_strategy st = PACK_SKIP;
	if (s && pack_strategy_parse(s, &st))
		die_usage(cmd, "unknown --strategy '%s' (skip, overwrite or rename)", s);
	return st;
}

/* read_pack, then the signature against the keyring. */
static struct pack *read_checked(const char *file, struct pack_sig_info *si)
{
	struct pack *p = read_pack(file);
	struct keyring kr;
	if (!p)
		return NULL;
	load_keyring(&kr); /* a bad key file is reported; the good keys still count */
	pack_check_signature(p, &kr, si);
	keyring_release(&kr);
	return p;
}

static int cmd_pack_inspect(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	parse_pack_opts("pack inspect", inspect_usage, argc, argv, "SF", 1, 1, &o);
	enum pack_strategy st = strategy_of("pack inspect", o.strategy);
	struct pack_sig_info si;
	struct pack *p = read_checked(argv[o.first], &si);
	if (!p)
		return EXIT_FAIL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	struct pack_plan plan = { 0 };
	collection_open_optional(&c, &dl);
	if (c)
		pack_plan_install(p, c, st, &plan, &dl);
	if (o.format == FORMAT_JSON) {
		json_t *j = pack_json(p, &si);
		if (c)
			json_object_set_new(j, "install", json_pack("{s:s, s:o}", "collection",
					    c->name, "actions", plan_json(&plan)));
		print_json_new(j);
	} else {
		print_pack(p, &si);
		if (c)
			print_plan(&plan, c->name, "Installing it would do this in");
		else
			printf("No collection yet: everything would be new.\n");
	}
	print_diags(&dl, NULL, 0);
	int rc = dl.errors ? EXIT_FAIL : EXIT_OK;
	diag_list_release(&dl);
	pack_plan_release(&plan);
	collection_free(c);
	pack_free(p);
	return rc;
}

static int sig_exit(enum pack_sig_status s)
{
	return s == SIG_TRUSTED ? EXIT_OK : s == SIG_INVALID ? EXIT_FAIL : EXIT_UNTRUSTED;
}

static int cmd_pack_verify(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	parse_pack_opts("pack verify", verify_usage, argc, argv, "F", 1, 1, &o);
	const char *file = argv[o.first];
	struct pack_sig_info si;
	struct pack *p = read_checked(file, &si);
	if (!p) {
		if (o.format == FORMAT_JSON)
			print_json_new(json_pack("{s:s, s:b}", "file", file, "ok", 0));
		return EXIT_FAIL;
	}
	int rc = sig_exit(si.status);
	struct diag_list dl = DIAG_LIST_INIT;
	bool plans = !pack_check_plans(p, &dl); /* its workflows plan with what it holds */
	if (!plans)
		rc = EXIT_FAIL;
	if (o.format == FORMAT_JSON) {
		print_json_new(json_pack("{s:s, s:b, s:b, s:o}", "file", file, "ok", rc == EXIT_OK,
					 "plans", plans, "signature", sig_json(&si)));
	} else {
		print_pack(p, &si);
		printf("%s: %s\n", file, !plans ? "INCOMPLETE: a workflow does not plan with what "
		       "the pack holds" : rc == EXIT_OK ? "OK" : rc == EXIT_FAIL ? "BAD SIGNATURE"
		       : "intact, but not signed by a trusted key");
	}
	print_diags(&dl, NULL, 0);
	diag_list_release(&dl);
	pack_free(p);
	return rc;
}

static int cmd_pack_sign(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	parse_pack_opts("pack sign", sign_usage, argc, argv, "ok", 1, 1, &o);
	const char *file = argv[o.first];
	struct pack *p = read_pack(file);
	if (!p)
		return EXIT_FAIL;
	const char *out = o.output ? o.output : file;
	int r = sign_and_write("pack sign", p, o.key, out);
	if (!r) {
		const json_t *sig = json_object_get(p->manifest, "signature");
		printf("Signed %s with key %.16s\n", out,
		       json_string_value(json_object_get(sig, "key_fingerprint")));
	}
	pack_free(p);
	return r ? EXIT_FAIL : EXIT_OK;
}

/* ---- install ---- */

/* May a pack with this signature be installed?  Prints why not. */
static int signature_allows(const struct pack_opts *o, const struct pack_sig_info *si)
{
	switch (si->status) {
	case SIG_TRUSTED:
		return EXIT_OK;
	case SIG_INVALID:
		error_msg("pack install: refused: %s", si->reason);
		return EXIT_FAIL;
	case SIG_UNSIGNED:
		if (o->allow_unsigned)
			return EXIT_OK;
		error_msg("pack install: refused: the pack is not signed; install it with "
			  "--allow-unsigned only if you trust where it came from");
		return EXIT_UNTRUSTED;
	default:
		if (o->allow_untrusted)
			return EXIT_OK;
		error_msg("pack install: refused: %s (key %.16s%s%s); trust the publisher's key "
			  "with 'skillmeat pack trust', or use --allow-untrusted", si->reason,
			  si->fingerprint, si->signer_name ? ", claims to be " : "",
			  si->signer_name ? term_esc(si->signer_name) : "");
		return EXIT_UNTRUSTED;
	}
}

/* The active collection, locked against other writers before its manifest
 * is read, after any interrupted install was recovered (then read again). */
static int open_locked(struct collection **c, bool dry_run, struct diag_list *dl)
{
	size_t recovered = 0;
	if (collection_open(NULL, c, dl) || collection_lock(*c, dl) ||
	    pack_recover(*c, dry_run, &recovered, dl))
		return SM_ERR;
	return recovered ? collection_reread(*c, dl) : SM_OK;
}

static int cmd_pack_install(int argc, char **argv)
{
	struct pack_opts o = { 0 };
	parse_pack_opts("pack install", install_usage, argc, argv, "SUTDF", 1, 1, &o);
	enum pack_strategy st = strategy_of("pack install", o.strategy);
	struct pack_sig_info si;
	struct pack *p = read_checked(argv[o.first], &si);
	if (!p)
		return EXIT_FAIL;
	struct diag_list dl = DIAG_LIST_INIT;
	struct collection *c = NULL;
	struct pack_plan plan = { 0 };
	int rc = signature_allows(&o, &si);
	if (rc)
		goto out;
	rc = EXIT_FAIL;
	if (open_locked(&c, o.dry_run, &dl) || pack_plan_install(p, c, st, &plan, &dl))
		goto out;
	if (!o.dry_run && pack_install(c, &plan, &dl))
		goto out;
	rc = EXIT_OK;
	if (o.format == FORMAT_JSON)
		print_json_new(json_pack("{s:s, s:s, s:b, s:o, s:o}", "pack", mstr(p, "name"),
			"collection", c->name, "dry_run", o.dry_run, "signature", sig_json(&si),
			"actions", plan_json(&plan)));
	else
		print_plan(&plan, c->name, o.dry_run ? "Dry run: nothing written to" : "Installed "
			   "into");
out:
	print_diags(&dl, NULL, 0);
	if (rc == EXIT_FAIL && dl.errors)
		fprintf(stderr, "pack install: nothing was installed\n");
	diag_list_release(&dl);
	pack_plan_release(&plan);
	collection_free(c);
	pack_free(p);
	return rc;
}

static const char pack_usage[] =
"usage: skillmeat pack COMMAND [ARGS]\n"
"\n"
"Share workflows with the agents, skills and context modules they use, as\n"
"signed .skillmeat-pack files (see docs/packs.md).\n";

const struct cmd pack_cmds[] = {
	{ "build", cmd_pack_build, "bundle workflows and what they use into a pack", NULL },
	{ "inspect", cmd_pack_inspect, "show a pack and what installing it would do", NULL },
	{ "verify", cmd_pack_verify, "check a pack's hashes and signature", NULL },
	{ "sign", cmd_pack_sign, "sign a pack with your key", NULL },
	{ "install", cmd_pack_install, "install a pack into the active collection", NULL },
	{ "keygen", cmd_pack_keygen, "create a signing key", NULL },
	{ "keys", cmd_pack_keys, "list your keys and the keys you trust", NULL },
	{ "export-key", cmd_pack_export_key, "print your public key, for others to trust", NULL },
	{ "trust", cmd_pack_trust, "trust a publisher's public key", NULL },
	{ "untrust", cmd_pack_untrust, "stop trusting a key", NULL },
	{ NULL, NULL, NULL, NULL },
};

int cmd_pack(int argc, char **argv)
{
	return run_subcommand("pack", pack_usage, pack_cmds, argc, argv);
}
