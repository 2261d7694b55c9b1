/*
 * yaml11.c - PyYAML's implicit resolvers for bool, int and float
 * (pyyaml lib/yaml/resolver.py, the regular expressions of
 * Resolver.add_implicit_resolver; values as lib/yaml/constructor.py's
 * construct_yaml_bool/int/float), matched by hand.
 */
#include "../base/compat.h"
#include "yaml11.h"

#include <ctype.h>
#include <math.h>
#include <strings.h>

static const char *skip_sign(const char *s)
{
	return (*s == '-' || *s == '+') ? s + 1 : s;
}

/* [set]* : the end of a run of characters from `set`. */
static const char *span(const char *s, const char *set)
{
	while (*s && strchr(set, *s))
		s++;
	return s;
}

/* (?::[0-5]?[0-9])+ : true when [s, end) is one or more such groups. */
static bool sexagesimal_tail(const char *s, const char *end)
{
	if (s == end)
		return false;
	while (s < end) {
		if (*s++ != ':')
			return false;
		const char *d = s;
		while (d < end && isdigit((unsigned char)*d))
			d++;
		if (!(d - s == 1 || (d - s == 2 && *s <= '5')))
			return false;
		s = d;
	}
	return true;
}

/* The text without '_' (PyYAML removes them before converting). */
static void strip_underscores(const char *s, char *out, size_t size)
{
	size_t n = 0;
	for (; *s && n + 1 < size; s++)
		if (*s != '_')
			out[n++] = *s;
	out[n] = '\0';
}

static double base60(const char *s)
{
	double v = 0;
	for (const char *p = s;;) {
		char *end;
		double part = strtod(p, &end);
		if (end == p)
			break;
		v = v * 60 + part;
		if (*end != ':')
			break;
		p = end + 1;
	}
	return v;
}

static bool match_int(const char *s)
{
	const char *u = skip_sign(s), *e;
	if (!strncmp(u, "0b", 2))
		return *(e = span(u + 2, "01_")) == '\0' && e > u + 2;
	if (!strncmp(u, "0x", 2))
		return *(e = span(u + 2, "0123456789abcdefABCDEF_")) == '\0' && e > u + 2;
	if (u[0] == '0')
		return u[1] == '\0' || (*(e = span(u + 1, "01234567_")) == '\0');
	if (!(*u >= '1' && *u <= '9'))
		return false;
	e = span(u + 1, "0123456789_");
	return *e == '\0' || sexagesimal_tail(e, e + strlen(e));
}

static bool match_float(const char *s)
{
	static const char *const specials[] = { ".inf", ".Inf", ".INF" };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN" };
	const char *u = skip_sign(s);
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(u, specials[i]) || !strcmp(s, nans[i]))
			return true;
	const char *e;
	if (*s == '.') { /* \.[0-9_]+(?:[eE][-+][0-9]+)?  (no sign) */
		e = span(s + 1, "0123456789_");
		if (e == s + 1)
			return false;
	} else {
		if (!isdigit((unsigned char)*u))
			return false;
		e = span(u + 1, "0123456789_");
		const char *dot = strchr(e, '.');
		if (*e == ':') { /* [0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* */
			return dot && sexagesimal_tail(e, dot) && *span(dot + 1, "0123456789_") == '\0';
		}
		if (*e != '.')
			return false;
		e = span(e + 1, "0123456789_");
	}
	if (*e == 'e' || *e == 'E') {
		if (e[1] != '-' && e[1] != '+')
			return false;
		const char *d = span(e + 2, "0123456789");
		return d > e + 2 && *d == '\0';
	}
	return *e == '\0';
}

enum node_kind yaml11_number(const char *text, int64_t *i, double *f)
{
	char v[128];
	if (strlen(text) >= sizeof(v))
		return NODE_STRING;
	if (match_int(text)) {
		strip_underscores(text, v, sizeof(v));
		bool neg = v[0] == '-';
		const char *u = skip_sign(v);
		char *end;
		errno = 0;
		long long x;
		if (!strcmp(u, "0"))
			x = 0;
		else if (!strncmp(u, "0b", 2))
			x = strtoll(u + 2, &end, 2);
		else if (!strncmp(u, "0x", 2))
			x = strtoll(u + 2, &end, 16);
		else if (u[0] == '0')
			x = strtoll(u, &end, 8);
		else if (strchr(u, ':')) {
			double d = base60(u);
			if (d > 9e15)
				return NODE_STRING;
			x = (long long)d;
		} else
			x = strtoll(u, &end, 10);
		if (errno)
			return NODE_STRING; /* too big for us: let the 1.2 reading decide */
		*i = neg ? -x : x;
		return NODE_INT;
	}
	if (match_float(text)) {
		strip_underscores(text, v, sizeof(v));
		bool neg = v[0] == '-';
		const char *u = skip_sign(v);
		if (!strcasecmp(u, ".inf"))
			*f = INFINITY;
		else if (!strcasecmp(u, ".nan"))
			*f = NAN;
		else
			*f = strchr(u, ':') ? base60(u) : strtod(u, NULL);
		if (neg)
			*f = -*f;
		return NODE_FLOAT;
	}
	return NODE_STRING;
}

/* PyYAML's booleans are yes/no/on/off/true/false in three cases; y and n and
 * any case are what upstream's pydantic accepts for a boolean field. */
static int lax_bool(const char *s)
{
	static const char *const yes[] = { "yes", "on", "true", "y" };
	static const char *const no[] = { "no", "off", "false", "n" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

static void spell_number(const struct node *n, char *spell, size_t size)
{
	if (n->kind == NODE_INT)
		snprintf(spell, size, "%lld", (long long)n->v.i);
	else if (isinf(n->v.f))
		snprintf(spell, size, "%s.inf", n->v.f < 0 ? "-" : "");
	else if (isnan(n->v.f))
		snprintf(spell, size, ".nan");
	else
		snprintf(spell, size, "%.17g", n->v.f);
}

bool yaml11_retype(const struct node *n, enum yaml11_want want, struct node *out,
		   char *spell, size_t spell_size)
{
	if (n->style != NODE_STYLE_PLAIN || !node_is_scalar(n))
		return false;
	*out = *n;
	if (want == Y11_BOOLEAN) {
		int b = lax_bool(n->text);
		if (n->kind == NODE_BOOL || b < 0)
			return false;
		out->kind = NODE_BOOL;
		out->v.b = b == 1;
		snprintf(spell, spell_size, "%s", b ? "true" : "false");
		return true;
	}
	int64_t i;
	double f;
	enum node_kind k = yaml11_number(n->text, &i, &f);
	if (k == NODE_STRING || (k == NODE_FLOAT && want == Y11_INTEGER))
		return false;
	if (k == NODE_INT && n->kind == NODE_INT && n->v.i == i)
		return false;
	if (k == NODE_FLOAT && n->kind == NODE_FLOAT &&
	    (n->v.f == f || (isnan(n->v.f) && isnan(f))))
		return false;
	out->kind = (uint8_t)k;
	if (k == NODE_INT)
		out->v.i = i;
	else
		out->v.f = f;
	spell_number(out, spell, spell_size);
	return true;
}
