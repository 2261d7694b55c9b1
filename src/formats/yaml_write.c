/*
 * yaml_write.c - JSON values as block YAML.  A string is written plain only
 * when YAML 1.2 reads that text back as the same string; anything else is
 * written as a JSON string, which is also a valid YAML double-quoted
 * scalar.  (libfyaml's emitter keeps the quoting of its input, so text
 * that came from JSON would come out quoted everywhere.)
 */
#include "../base/compat.h"
#include "yaml_write.h"
#include "../base/strbuf.h"

#include <ctype.h>

static bool looks_like_other_type(const char *s)
{
	static const char *const words[] = { "true", "false", "null", "yes", "no", "on", "off",
		"y", "n", "~", NULL };
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	char *end;
	(void)strtod(s, &end);
	return *end == '\0' || !strncmp(s, "0x", 2) || !strncmp(s, "0o", 2) || !strcmp(s, ".inf") ||
	       !strcmp(s, ".nan");
}

/* Safe as a plain scalar: a conservative set of characters, no YAML indicator first. */
static bool plain_ok(const char *s)
{
	if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` .", s[0]) || looks_like_other_type(s))
		return false;
	for (const char *c = s; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("_-./=+ ", *c))
			return false;
		if (*c == ' ' && (c[1] == '\0' || c[1] == '#' || c[1] == ' '))
			return false;
	}
	return true;
}

static void add_string(struct strbuf *out, const char *s, size_t len)
{
	if (strlen(s) == len && plain_ok(s)) {
		strbuf_add(out, s, len);
		return;
	}
	strbuf_add_json_string(out, s, len, false);
}

static void add_scalar(struct strbuf *out, const json_t *v)
{
	if (json_is_string(v)) {
		add_string(out, json_string_value(v), json_string_length(v));
		return;
	}
	char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
	strbuf_addstr(out, t ? t : "null");
	free(t);
}

static bool is_empty_collection(const json_t *v)
{
	return (json_is_object(v) && !json_object_size(v)) || (json_is_array(v) && !json_array_size(v));
}

static void add_value(struct strbuf *out, const json_t *v, int indent);

/* After "key:" or "- ": a scalar on the same line, a collection on the next ones. */
static void add_child(struct strbuf *out, const json_t *v, int indent)
{
	if (is_empty_collection(v)) {
		strbuf_addstr(out, json_is_object(v) ? " {}\n" : " []\n");
	} else if (json_is_object(v) || json_is_array(v)) {
		strbuf_addch(out, '\n');
		add_value(out, v, indent);
	} else {
		strbuf_addch(out, ' ');
		add_scalar(out, v);
		strbuf_addch(out, '\n');
	}
}

static void add_value(struct strbuf *out, const json_t *v, int indent)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x) {
			strbuf_addf(out, "%*s", indent, "");
			add_string(out, k, strlen(k));
			strbuf_addch(out, ':');
			add_child(out, x, indent + 2);
		}
	} else if (json_is_array(v)) {
		/* A list's items sit at the parent key's indentation. */
		int at = indent >= 2 ? indent - 2 : 0;
		json_array_foreach(v, i, x) {
			strbuf_addf(out, "%*s-", at, "");
			if (json_is_object(x) && json_object_size(x)) {
				/* "- key: value", the rest of the mapping under it */
				struct strbuf sub = STRBUF_INIT;
				add_value(&sub, x, at + 2);
				strbuf_addch(out, ' ');
				strbuf_add(out, sub.buf + at + 2, sub.len - (size_t)(at + 2));
				strbuf_release(&sub);
			} else {
				add_child(out, x, at + 4);
			}
		}
	} else {
		strbuf_addf(out, "%*s", indent, "");
		add_scalar(out, v);
		strbuf_addch(out, '\n');
	}
}

int yaml_from_json(const json_t *v, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	if (is_empty_collection(v) || !(json_is_object(v) || json_is_array(v))) {
		add_scalar(&sb, v);
		strbuf_addch(&sb, '\n');
	} else {
		add_value(&sb, v, json_is_array(v) ? 2 : 0);
	}
	*out = strbuf_detach(&sb, NULL);
	return SM_OK;
}
