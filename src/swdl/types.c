#include "../base/compat.h"
#include "types.h"
#include "../base/suggest.h"

#include <ctype.h>
#include <math.h>
#include <strings.h>

static const char *const base_types[] = {
	"string", "integer", "number", "boolean", "array", "object", "any", NULL,
};

static bool base_known(const char *t, size_t len)
{
	for (size_t i = 0; base_types[i]; i++)
		if (strlen(base_types[i]) == len && !strncmp(base_types[i], t, len))
			return true;
	return false;
}

/* Element type of "array<T>", or NULL. */
static const char *array_elem(const char *type, size_t *len)
{
	size_t n = strlen(type);
	if (n < 8 || strncmp(type, "array<", 6) || type[n - 1] != '>')
		return NULL;
	*len = n - 7;
	return type + 6;
}

bool swdl_type_known(const char *type)
{
	size_t len;
	const char *elem = array_elem(type, &len);
	if (elem)
		return base_known(elem, len);
	return base_known(type, strlen(type));
}

const char *swdl_type_suggest(const char *type)
{
	static const char *const aliases[][2] = {
		{ "str", "string" }, { "int", "integer" }, { "float", "number" },
		{ "bool", "boolean" }, { "list", "array" }, { "dict", "object" },
		{ "map", "object" }, { "double", "number" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcasecmp(type, aliases[i][0]))
			return aliases[i][1];
	return suggest_nearest(type, base_types, ARRAY_SIZE(base_types) - 1);
}

static bool base_accepts(const char *t, size_t len, const json_t *v)
{
#define IS(name) (len == strlen(name) && !strncmp(t, name, len))
	if (IS("string")) return json_is_string(v);
	if (IS("integer")) return json_is_integer(v);
	if (IS("number")) return json_is_number(v);
	if (IS("boolean")) return json_is_boolean(v);
	if (IS("array")) return json_is_array(v);
	if (IS("object")) return json_is_object(v);
#undef IS
	return true;
}

bool swdl_type_accepts(const char *type, const json_t *v)
{
	size_t len;
	const char *elem = array_elem(type, &len);
	if (!elem)
		return base_accepts(type, strlen(type), v);
	if (!json_is_array(v))
		return false;
	for (size_t i = 0; i < json_array_size(v); i++)
		if (!base_accepts(elem, len, json_array_get(v, i)))
			return false;
	return true;
}

bool swdl_types_compatible(const char *a, const char *b)
{
	if (!strcmp(a, b) || !strcmp(a, "any") || !strcmp(b, "any"))
		return true;
	/* An integer output fits a number input; array<T> fits array. */
	if (!strcmp(a, "number") && !strcmp(b, "integer"))
		return true;
	if (!strcmp(a, "array") && !strncmp(b, "array<", 6))
		return true;
	return false;
}

static json_t *coerce_bool(const char *text, char **err)
{
	/* y and n as upstream's pydantic and YAML 1.1 files (docs/swdl.md §5) */
	static const char *const yes[] = { "true", "yes", "on", "1", "y" };
	static const char *const no[] = { "false", "no", "off", "0", "n" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(text, yes[i]))
			return json_true();
		if (!strcasecmp(text, no[i]))
			return json_false();
	}
	*err = xasprintf("'%s' is not a boolean (use true or false)", text);
	return NULL;
}

static json_t *coerce_number(const char *text, bool integer, char **err)
{
	char *end;
	errno = 0;
	if (integer) {
		long long v = strtoll(text, &end, 10);
		if (!errno && end != text && !*end && !isspace((unsigned char)*text))
			return json_integer(v);
		*err = xasprintf("'%s' is not an integer", text);
		return NULL;
	}
	double d = strtod(text, &end);
	if (!errno && end != text && !*end && isfinite(d) && !isspace((unsigned char)*text)) {
		if (!strpbrk(text, ".eE") && fabs(d) < 9e15)
			return json_integer((json_int_t)d);
		return json_real(d);
	}
	*err = xasprintf("'%s' is not a number", text);
	return NULL;
}

json_t *swdl_type_coerce(const char *type, const char *text, char **err)
{
	*err = NULL;
	if (!strcmp(type, "boolean"))
		return coerce_bool(text, err);
	if (!strcmp(type, "integer") || !strcmp(type, "number"))
		return coerce_number(text, type[0] == 'i', err);
	if (!strcmp(type, "string"))
		return json_string(text);
	bool structured = !strcmp(type, "array") || !strcmp(type, "object") ||
			  !strncmp(type, "array<", 6);
	if (!structured) { /* "any" and unknown types: JSON if it parses, else text */
		json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
		return v ? v : json_string(text);
	}
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!v) {
		*err = xasprintf("expected JSON for type %s: %s", type, jerr.text);
		return NULL;
	}
	if (!swdl_type_accepts(type, v)) {
		*err = xasprintf("JSON value does not fit type %s", type);
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- artifact types ---------------------------------------------------- */

bool swdl_artifact_type_known(const char *type, size_t len)
{
	static const char *const types[] = { "agent", "skill", "command", "mcp", "hook",
		"workflow", "composite", NULL };
	for (size_t i = 0; types[i]; i++)
		if (strlen(types[i]) == len && !strncmp(types[i], type, len))
			return true;
	return false;
}
