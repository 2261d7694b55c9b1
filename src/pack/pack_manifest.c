/*
 * pack_manifest.c - the manifest of a pack: its canonical JSON text, the
 * hashes (upstream's algorithms, §4.3), and the checks that tie every
 * archive entry to a manifest entry whose hash it must match.
 */
#include "../base/compat.h"
#include "pack.h"
#include "pack_int.h"

#include <sodium.h>

/* ---- hashes ---- */

static void format_sha256(const unsigned char h[32], char out[72])
{
	memcpy(out, "sha256:", 7);
	sodium_bin2hex(out + 7, 65, h, 32);
}

void pack_sha256(const void *data, size_t len, char out[72])
{
	unsigned char h[32];
	crypto_hash_sha256(h, data, len);
	format_sha256(h, out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void pack_artifact_hash(const char *type, size_t nr, const char *const *files,
			const struct pack_file *const *data, char out[72])
{
	if (nr == 1 && pack_type_single_file(type)) {
		pack_sha256(data[0]->data, data[0]->len, out);
		return;
	}
	/* Files in plain string order, each its path then its bytes. */
	struct named { const char *name; size_t k; } *order = xcalloc(nr ? nr : 1, sizeof(*order));
	for (size_t i = 0; i < nr; i++)
		order[i] = (struct named){ files[i], i };
	if (nr > 1)
		qsort(order, nr, sizeof(*order), cmp_str); /* name is the first member */
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	for (size_t i = 0; i < nr; i++) {
		size_t k = order[i].k;
		crypto_hash_sha256_update(&st, (const unsigned char *)files[k], strlen(files[k]));
		crypto_hash_sha256_update(&st, data[k]->data, data[k]->len);
	}
	unsigned char h[32];
	crypto_hash_sha256_final(&st, h);
	format_sha256(h, out);
	free(order);
}

void pack_bundle_hash(const json_t *manifest, char out[72])
{
	json_t *copy = json_copy((json_t *)manifest);
	json_object_del(copy, "bundle_hash");
	json_object_del(copy, "signature");
	struct strbuf sb = STRBUF_INIT;
	pack_json_dump(&sb, copy, 0, false);
	char mh[72];
	pack_sha256(sb.buf, sb.len, mh);
	json_decref(copy);

	const json_t *arts = json_object_get(manifest, "artifacts");
	size_t nr = json_array_size(arts);
	const char **hashes = xcalloc(nr ? nr : 1, sizeof(*hashes));
	size_t n = 0;
	for (size_t i = 0; i < nr; i++) {
		const char *h = json_string_value(json_object_get(json_array_get(arts, i), "hash"));
		if (h)
			hashes[n++] = h;
	}
	if (n > 1)
		qsort(hashes, n, sizeof(*hashes), cmp_str);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, mh);
	for (size_t i = 0; i < n; i++)
		strbuf_addstr(&sb, hashes[i]);
	pack_sha256(sb.buf, sb.len, out);
	strbuf_release(&sb);
	free(hashes);
}

/* ---- Python's json.dumps(sort_keys=True) ---- */

static void newline(struct strbuf *sb, int indent, int depth)
{
	if (!indent)
		return;
	strbuf_addch(sb, '\n');
	for (int i = 0; i < indent * depth; i++)
		strbuf_addch(sb, ' ');
}

static void dump(struct strbuf *sb, const json_t *j, int indent, bool ascii, int depth)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		if (!n) {
			strbuf_addstr(sb, "{}");
			return;
		}
		const char **keys = xcalloc(n, sizeof(*keys));
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)j, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), cmp_str);
		strbuf_addch(sb, '{');
		for (i = 0; i < n; i++) {
			if (i)
				strbuf_addch(sb, ',');
			newline(sb, indent, depth + 1);
			strbuf_add_json_string(sb, keys[i], strlen(keys[i]), ascii);
			strbuf_addstr(sb, indent ? ": " : ":");
			dump(sb, json_object_get(j, keys[i]), indent, ascii, depth + 1);
		}
		newline(sb, indent, depth);
		strbuf_addch(sb, '}');
		free(keys);
		return;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		if (!n) {
			strbuf_addstr(sb, "[]");
			return;
		}
		strbuf_addch(sb, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				strbuf_addch(sb, ',');
			newline(sb, indent, depth + 1);
			dump(sb, json_array_get(j, i), indent, ascii, depth + 1);
		}
		newline(sb, indent, depth);
		strbuf_addch(sb, ']');
		return;
	}
	case JSON_STRING:
		strbuf_add_json_string(sb, json_string_value(j), json_string_length(j), ascii);
		return;
	case JSON_INTEGER:
		strbuf_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return;
	case JSON_REAL: /* never in a manifest (pack_manifest_load refuses them) */
		strbuf_add_shortest_double(sb, json_real_value(j));
		return;
	case JSON_TRUE:
		strbuf_addstr(sb, "true");
		return;
	case JSON_FALSE:
		strbuf_addstr(sb, "false");
		return;
	case JSON_NULL:
		strbuf_addstr(sb, "null");
		return;
	}
}

void pack_json_dump(struct strbuf *sb, const json_t *j, int indent, bool ascii)
{
	dump(sb, j, indent, ascii, 0);
}
