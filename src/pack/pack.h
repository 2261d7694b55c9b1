/*
 * Room pack/ (docs/ARCHITECTURE.md): .skillmeat-pack archives: reading
 * (trusting nothing), verifying, signing, building, installing under a
 * journal.  Beside context/ on its floor; uses base/, swdl/, collection/.
 * This header is its door; pack_int.h is private to pack_*.c, and
 * pack_core.c holds what those files share without calling them back.
 *
 * pack.h - .skillmeat-pack bundles: workflows and the artifacts they use,
 * in one signed ZIP (upstream-formats.md §4, docs/packs.md).
 *
 *   manifest.json                  name, description, author, artifacts[],
 *                                  bundle_hash, signature (optional)
 *   artifacts/<type>/<name>/<file> the artifact's files
 *
 * Each artifact entry lists its files, a hash per file and the artifact's
 * hash; bundle_hash commits to the manifest and every artifact hash, and
 * the Ed25519 signature covers bundle_hash and the manifest.  So every
 * byte that is installed is checked against what was signed.
 *
 * Reading never extracts: the archive is read into memory under caps,
 * every entry checked (type, path, size, count, compression ratio), the
 * manifest validated and every hash verified before anything is written.
 */
#ifndef SM_PACK_H
#define SM_PACK_H

#include "../base/compat.h"
#include "../base/diag.h"
#include "../base/strbuf.h"

#include <jansson.h>

#define PACK_EXT ".skillmeat-pack"

struct pack_limits {
	size_t max_archive;   /* bytes of the .skillmeat-pack file */
	size_t max_entries;
	size_t max_entry;     /* bytes of one file, uncompressed */
	size_t max_total;     /* bytes of all files, uncompressed */
	size_t max_ratio;     /* uncompressed : compressed, over the archive */
};
extern const struct pack_limits pack_default_limits;

struct pack_file {
	char *path;           /* the entry's path in the archive */
	unsigned char *data;
	size_t len;
	bool listed;          /* named by the manifest (set while checking it) */
};

struct pack_artifact {
	const char *type, *name, *dir;  /* dir: "artifacts/<type>/<name>/" */
	const char *hash;               /* "sha256:<hex>" */
	size_t nr_files;
	const char **files;             /* relative to dir, manifest order */
	struct pack_file **data;        /* the entries, same order */
	json_t *json;                   /* its manifest entry */
};

struct pack {
	char *source;                   /* for messages */
	json_t *manifest;
	struct pack_file *entries;
	size_t nr_entries, alloc_entries;
	struct pack_artifact *arts;
	size_t nr_arts;
};

/* Types a pack may carry.  A single-file type's one file is hashed as its
 * bytes (a workflow too, as upstream does); a workflow is installed as a
 * folder, the others (agent, command, ctx) as that one file. */
bool pack_type_known(const char *type);
bool pack_type_single_file(const char *type);
bool pack_type_installs_as_file(const char *type);

/*
 * Read, check and verify a pack (a file, or bytes already in memory).
 * Every problem is a diagnostic naming the entry or the manifest field;
 * SM_ERR then, and *out stays NULL.  The signature is not checked here
 * (see pack_check_signature).
 */
int pack_read_file(const char *path, const struct pack_limits *lim, struct pack **out,
		   struct diag_list *dl);
int pack_read_buffer(const char *name, const void *buf, size_t len,
		     const struct pack_limits *lim, struct pack **out, struct diag_list *dl);
void pack_free(struct pack *p);

/* ---- hashes and the manifest (pack_manifest.c) ---- */

/* "sha256:<hex>" of bytes, into a 72-byte buffer. */
void pack_sha256(const void *data, size_t len, char out[72]);
/* An artifact's hash: a single file's bytes, or for a directory each file
 * (sorted as strings) as its path then its bytes (upstream's hasher). */
void pack_artifact_hash(const char *type, size_t nr, const char *const *files,
			const struct pack_file *const *data, char out[72]);
/* bundle_hash: the manifest without bundle_hash and signature, then every
 * artifact hash in sorted order (upstream's algorithm). */
void pack_bundle_hash(const json_t *manifest, char out[72]);
/* Python's json.dumps(sort_keys=True) text: compact (indent 0) with
 * separators "," ":", or indented by `indent` spaces with ", " / ": ". */
void pack_json_dump(struct strbuf *sb, const json_t *j, int indent, bool ascii);
/* Check the manifest's fields and link every artifact to its entries. */
int pack_manifest_load(struct pack *p, struct diag_list *dl);

/* ---- signatures and keys (pack_keys.c) ---- */

struct pack_key {
	char key_id[17];          /* the first 16 hex digits of the fingerprint */
	char fingerprint[65];     /* SHA-256 hex of the raw public key */
	unsigned char pk[32];
	unsigned char sk[64];     /* zero for a public key */
	bool has_secret, trusted;
	char *name, *email, *created_at, *file;
};

enum pack_sig_status {
	SIG_UNSIGNED,     /* no signature */
	SIG_TRUSTED,      /* valid, by a key in the trusted keyring */
	SIG_UNTRUSTED,    /* valid, by a key that is not trusted here */
	SIG_UNKNOWN_KEY,  /* signed by a key we do not have: cannot check */
	SIG_INVALID,      /* does not verify: tampered or forged */
};
const char *pack_sig_status_name(enum pack_sig_status s);

struct pack_sig_info {
	enum pack_sig_status status;
	char fingerprint[65];
	const char *signer_name, *signer_email, *signed_at; /* in the manifest: claims */
	char key_name[128], key_email[128]; /* what the local keyring calls the key ("": none) */
	char reason[160];
};

/* The keys under home/signing-keys/ (private/ and trusted/). */
struct keyring {
	struct pack_key *keys;
	size_t nr, alloc;
};
int keyring_load(const char *home, struct keyring *kr, struct diag_list *dl);
void keyring_release(struct keyring *kr);
/* By key id, fingerprint or a unique prefix of either; secret keys only if asked. */
const struct pack_key *keyring_find(const struct keyring *kr, const char *id, bool secret);

/* A new key pair, saved (secret 0600) and trusted. */
int key_generate(const char *home, const char *name, const char *email, struct pack_key *out,
		 struct diag_list *dl);
/* The public half as JSON (what `pack export-key` prints and `pack trust` reads). */
json_t *key_public_json(const struct pack_key *k);
int key_trust(const char *home, const json_t *pub, const char *source, struct pack_key *out,
	      struct diag_list *dl);
int key_untrust(const char *home, const struct pack_key *k, struct diag_list *dl);
void pack_key_release(struct pack_key *k);

/* Sign (replacing any signature), and check a pack's signature. */
int pack_sign(struct pack *p, const struct pack_key *k, struct diag_list *dl);
void pack_check_signature(const struct pack *p, const struct keyring *kr,
			  struct pack_sig_info *info);

/* ---- writing (pack_write.c) ---- */

/* The ZIP: entries sorted, fixed times, deflate; reproducible. */
int pack_write(const struct pack *p, struct strbuf *out, struct diag_list *dl);
int pack_write_file(const struct pack *p, const char *path, struct diag_list *dl);
/* Add a file (copied) to a pack being built.  Paths must be unique
 * (pack_build's are: one folder per artifact, checked to be unique). */
struct pack_file *pack_add_entry(struct pack *p, const char *path, const void *data,
				 size_t len);

#endif
