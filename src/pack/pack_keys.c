/*
 * pack_keys.c - Ed25519 signing keys, the keyring of trusted publishers,
 * and signing and checking packs (libsodium).
 *
 *   $SKILLMEAT_HOME/signing-keys/private/<key_id>.json   our key pairs (0600)
 *   $SKILLMEAT_HOME/signing-keys/trusted/<key_id>.json   public keys we trust
 *
 * What is signed is upstream's message (§4.4): the JSON text, keys sorted,
 * compact, ASCII only, of {"bundle_hash": …, "manifest": the manifest
 * without signature, created_at and bundle_path}.  bundle_hash commits to
 * every artifact hash and every per-file hash (pack_verify.c checks them
 * all), so the signature covers every byte that is installed.
 */
#include "../base/compat.h"
#include "pack.h"
#include "pack_int.h"
#include "../base/duration.h"
#include "../base/fsutil.h"

#include <dirent.h>
#include <sodium.h>
#include <unistd.h>

#define KEY_FILE_MAX (64u << 10)

const char *pack_sig_status_name(enum pack_sig_status s)
{
	static const char *const names[] = { "unsigned", "trusted", "untrusted", "unknown-key",
		"invalid" };
	return names[s];
}

static void fingerprint_of(const unsigned char pk[32], char fp[65], char id[17])
{
	unsigned char h[32];
	crypto_hash_sha256(h, pk, 32);
	sodium_bin2hex(fp, 65, h, 32);
	memcpy(id, fp, 16);
	id[16] = '\0';
}

static char *b64(const unsigned char *bin, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *out = xmalloc(n);
	sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

static bool unb64(const char *s, unsigned char *bin, size_t want)
{
	size_t got = 0;
	return s && !sodium_base642bin(bin, want, s, strlen(s), NULL, &got, NULL,
				       sodium_base64_VARIANT_ORIGINAL) && got == want;
}

void pack_key_release(struct pack_key *k)
{
	sodium_memzero(k->sk, sizeof(k->sk));
	free(k->name);
	free(k->email);
	free(k->created_at);
	free(k->file);
	memset(k, 0, sizeof(*k));
}

void keyring_release(struct keyring *kr)
{
	for (size_t i = 0; i < kr->nr; i++)
		pack_key_release(&kr->keys[i]);
	free(kr->keys);
	memset(kr, 0, sizeof(*kr));
}

/* A key from its JSON; the fingerprint must be the public key's. */
static int key_from_json(const json_t *j, bool secret, struct pack_key *k, const char **why)
{
	memset(k, 0, sizeof(*k));
	const char *pk = json_string_value(json_object_get(j, "public_key"));
	const char *fp = json_string_value(json_object_get(j, "fingerprint"));
	const char *alg = json_string_value(json_object_get(j, "algorithm"));
	*why = NULL;
	if (!alg || strcmp(alg, "Ed25519"))
		*why = "algorithm must be \"Ed25519\"";
	else if (!unb64(pk, k->pk, 32))
		*why = "public_key must be 32 bytes in base64";
	else if (secret && !unb64(json_string_value(json_object_get(j, "secret_key")), k->sk, 64))
		*why = "secret_key must be 64 bytes in base64";
	else if (secret && memcmp(k->sk + 32, k->pk, 32))
		*why = "secret_key does not belong to public_key";
	if (*why)
		return SM_ERR;
	fingerprint_of(k->pk, k->fingerprint, k->key_id);
	if (fp && strcmp(fp, k->fingerprint)) {
		*why = "fingerprint is not the public key's";
		return SM_ERR;
	}
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *email = json_string_value(json_object_get(j, "email"));
	const char *created = json_string_value(json_object_get(j, "created_at"));
	k->name = xstrdup(name ? name : "");
	k->email = xstrdup(email ? email : "");
	k->created_at = xstrdup(created ? created : "");
	k->has_secret = secret;
	k->trusted = true;
	return SM_OK;
}

static int load_dir(const char *dir, bool secret, struct keyring *kr, struct diag_list *dl)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = SM_OK;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		char *path = path_join(dir, e->d_name);
		struct strbuf sb = STRBUF_INIT;
		json_error_t err;
		json_t *j = NULL;
		const char *why = "cannot be read";
		struct pack_key k;
		if (!strbuf_read_file(&sb, path, KEY_FILE_MAX) &&
		    (j = json_loadb(sb.buf, sb.len, JSON_REJECT_DUPLICATES, &err)) &&
		    !key_from_json(j, secret, &k, &why)) {
			k.file = xstrdup(path);
			ALLOC_GROW(kr->keys, kr->nr + 1, kr->alloc);
			kr->keys[kr->nr++] = k;
		} else {
			struct loc loc = { path, 0, 0 };
			diag_add(dl, DIAG_ERROR, &loc, "keys", NULL, NULL, "not a key file: %s",
				 sb.len && !j ? err.text : why);
			r = SM_ERR;
		}
		json_decref(j);
		if (sb.buf)
			sodium_memzero(sb.buf, sb.len);
		strbuf_release(&sb);
		free(path);
	}
	if (d)
		closedir(d);
	return r;
}

int keyring_load(const char *home, struct keyring *kr, struct diag_list *dl)
{
	char *priv = xasprintf("%s/signing-keys/private", home);
	char *trusted = xasprintf("%s/signing-keys/trusted", home);
	memset(kr, 0, sizeof(*kr));
	/* A bad file is reported; the good keys still load. */
	int r = load_dir(priv, true, kr, dl);
	if (load_dir(trusted, false, kr, dl))
		r = SM_ERR;
	free(priv);
	free(trusted);
	return r;
}

const struct pack_key *keyring_find(const struct keyring *kr, const char *id, bool secret)
{
	const struct pack_key *found = NULL;
	size_t len = strlen(id);
	for (size_t i = 0; i < kr->nr; i++) {
		const struct pack_key *k = &kr->keys[i];
		if ((secret && !k->has_secret) || !len)
			continue;
		if (strncmp(k->fingerprint, id, len))
			continue;
		if (found && strcmp(found->fingerprint, k->fingerprint))
			return NULL; /* ambiguous prefix */
		if (!found || (k->has_secret && !found->has_secret))
			found = k;
	}
	return found;
}

json_t *key_public_json(const struct pack_key *k)
{
	char *pk = b64(k->pk, 32);
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "algorithm", "Ed25519",
			      "key_id", k->key_id, "fingerprint", k->fingerprint, "name",
			      k->name ? k->name : "", "email", k->email ? k->email : "",
			      "created_at", k->created_at ? k->created_at : "", "public_key", pk);
	free(pk);
	return j;
}

static int save_key(const char *home, const char *sub, const json_t *j, const char *id,
		    unsigned mode, struct diag_list *dl)
{
	char *dir = xasprintf("%s/signing-keys/%s", home, sub);
	char *path = xasprintf("%s/%s.json", dir, id);
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	int r = fs_mkdirs(dir);
	if (!r)
		r = fs_write_atomic_mode(path, text, strlen(text), mode);
	if (r) {
		struct loc loc = { path, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "keys", NULL, NULL, "cannot write: %s",
			 strerror(errno));
	}
	sodium_memzero(text, strlen(text));
	free(text);
	free(dir);
	free(path);
	return r;
}

int key_generate(const char *home, const char *name, const char *email, struct pack_key *out,
		 struct diag_list *dl)
{
	struct pack_key *k = out;
	memset(k, 0, sizeof(*k));
	crypto_sign_keypair(k->pk, k->sk);
	fingerprint_of(k->pk, k->fingerprint, k->key_id);
	k->name = xstrdup(name);
	k->email = xstrdup(email ? email : "");
	k->created_at = iso_utc_now();
	k->has_secret = k->trusted = true;
	json_t *pub = key_public_json(k);
	json_t *priv = json_copy(pub);
	char *sk = b64(k->sk, 64);
	json_object_set_new(priv, "secret_key", json_string(sk));
	sodium_memzero(sk, strlen(sk));
	free(sk);
	int r = save_key(home, "private", priv, k->key_id, 0600, dl);
	if (!r)
		r = save_key(home, "trusted", pub, k->key_id, 0644, dl);
	json_decref(pub);
	json_decref(priv);
	if (r)
		pack_key_release(k);
	return r;
}

int key_trust(const char *home, const json_t *pub, const char *source, struct pack_key *out,
	      struct diag_list *dl)
{
	const char *why;
	if (key_from_json(pub, false, out, &why)) {
		struct loc loc = { source, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "keys", NULL, NULL, "not a public key: %s", why);
		return SM_ERR;
	}
	json_t *clean = key_public_json(out); /* only the fields we know, checked */
	int r = save_key(home, "trusted", clean, out->key_id, 0644, dl);
	json_decref(clean);
	return r;
}

int key_untrust(const char *home, const struct pack_key *k, struct diag_list *dl)
{
	char *path = xasprintf("%s/signing-keys/trusted/%s.json", home, k->key_id);
	int r = SM_OK;
	if (unlink(path) && errno != ENOENT) {
		struct loc loc = { path, 0, 0 };
		diag_add(dl, DIAG_ERROR, &loc, "keys", NULL, NULL, "cannot remove: %s",
			 strerror(errno));
		r = SM_EIO;
	}
	free(path);
	return r;
}

/* The bytes that are signed (see the top of this file). */
static void signed_message(const json_t *manifest, struct strbuf *sb)
{
	json_t *canon = json_copy((json_t *)manifest);
	json_object_del(canon, "signature");
	json_object_del(canon, "created_at");
	json_object_del(canon, "bundle_path");
	json_t *msg = json_pack("{s:O, s:o}", "bundle_hash", json_object_get(manifest, "bundle_hash"),
				"manifest", canon);
	pack_json_dump(sb, msg, 0, true);
	json_decref(msg);
}

int pack_sign(struct pack *p, const struct pack_key *k, struct diag_list *dl)
{
	if (!k->has_secret) {
		pack_error(dl, p, NULL, "key %s has no secret half here; it cannot sign", k->key_id);
		return SM_ERR;
	}
	json_object_del(p->manifest, "signature");
	struct strbuf msg = STRBUF_INIT;
	signed_message(p->manifest, &msg);
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg.buf, msg.len, k->sk);
	strbuf_release(&msg);
	char *s = b64(sig, sizeof(sig)), *pk = b64(k->pk, 32), *now = iso_utc_now();
	json_object_set_new(p->manifest, "signature",
		json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "algorithm", "Ed25519",
			  "signature", s, "key_fingerprint", k->fingerprint, "public_key", pk,
			  "signer_name", k->name ? k->name : "", "signer_email",
			  k->email ? k->email : "", "signed_at", now));
	free(s);
	free(pk);
	free(now);
	return SM_OK;
}

/* The status of `p`'s signature; *why says it in words. */
static enum pack_sig_status check(const struct pack *p, const struct keyring *kr,
				  struct pack_sig_info *info, const char **why)
{
	const json_t *sig = json_object_get(p->manifest, "signature");
	*why = "the pack is not signed";
	if (!sig)
		return SIG_UNSIGNED;
	const char *alg = json_string_value(json_object_get(sig, "algorithm"));
	const char *fp = json_string_value(json_object_get(sig, "key_fingerprint"));
	info->signer_name = json_string_value(json_object_get(sig, "signer_name"));
	info->signer_email = json_string_value(json_object_get(sig, "signer_email"));
	info->signed_at = json_string_value(json_object_get(sig, "signed_at"));
	unsigned char s[crypto_sign_BYTES], pk[32];
	*why = "the signature's algorithm is not Ed25519";
	if (!alg || strcmp(alg, "Ed25519"))
		return SIG_INVALID;
	*why = "the signature names no key fingerprint";
	if (!fp || strlen(fp) != 64)
		return SIG_INVALID;
	snprintf(info->fingerprint, sizeof(info->fingerprint), "%s", fp);
	*why = "the signature is not 64 bytes in base64";
	if (!unb64(json_string_value(json_object_get(sig, "signature")), s, sizeof(s)))
		return SIG_INVALID;
	const struct pack_key *k = kr ? keyring_find(kr, fp, false) : NULL;
	bool trusted = k && !strcmp(k->fingerprint, fp);
	if (trusted) {
		memcpy(pk, k->pk, 32);
		/* The name shown is ours for the key: the pack's signer_name is not signed. */
		snprintf(info->key_name, sizeof(info->key_name), "%s", k->name ? k->name : "");
		snprintf(info->key_email, sizeof(info->key_email), "%s", k->email ? k->email : "");
	} else if (unb64(json_string_value(json_object_get(sig, "public_key")), pk, 32)) {
		char got[65], id[17];
		fingerprint_of(pk, got, id);
		*why = "the public key in the signature is not the one its fingerprint names";
		if (strcmp(got, fp))
			return SIG_INVALID;
	} else {
		*why = "signed by a key that is not in the keyring, so the signature cannot be "
		       "checked";
		return SIG_UNKNOWN_KEY;
	}
	struct strbuf msg = STRBUF_INIT;
	signed_message(p->manifest, &msg);
	int bad = crypto_sign_verify_detached(s, (const unsigned char *)msg.buf, msg.len, pk);
	strbuf_release(&msg);
	*why = "the signature does not match the pack: it was altered after signing, or the "
	       "signature is forged";
	if (bad)
		return SIG_INVALID;
	*why = trusted ? "signed by a trusted key" : "validly signed, by a key that is not "
						     "trusted here";
	return trusted ? SIG_TRUSTED : SIG_UNTRUSTED;
}

void pack_check_signature(const struct pack *p, const struct keyring *kr,
			  struct pack_sig_info *info)
{
	const char *why;
	memset(info, 0, sizeof(*info));
	info->status = check(p, kr, info, &why);
	snprintf(info->reason, sizeof(info->reason), "%s", why);
}
