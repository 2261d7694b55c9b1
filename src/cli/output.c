#include "cli.h"
#include "base/termesc.h"
#include "swdl/roles.h"
#include "base/suggest.h"
#include "engine/plan_context.h"
#include "swdl/plan.h"

#include <getopt.h>
#include <unistd.h>

bool use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return false;
	const char *term = getenv("TERM");
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

const char *color(FILE *f, const char *code)
{
	return use_color(f) ? code : "";
}

void die_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%serror:%s %s%s", color(stderr, C_RED), color(stderr, C_RESET), cmd,
		*cmd ? ": " : "");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'skillmeat%s%s --help'.\n", *cmd ? " " : "", cmd);
	exit(EXIT_USAGE);
}

void error_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%serror:%s ", color(stderr, C_RED), color(stderr, C_RESET));
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void warning_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%swarning:%s ", color(stderr, C_YELLOW), color(stderr, C_RESET));
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const struct doc *doc_for(const char *file, const struct doc *const *docs, size_t n)
{
	for (size_t i = 0; file && i < n; i++)
		if (docs[i] && !strcmp(docs[i]->file, file))
			return docs[i];
	return NULL;
}

/* The text of line `line` (1-based) of a document, without its newline. */
static bool source_line(const struct doc *d, int line, const char **start, size_t *len)
{
	const char *p = d->text, *end = d->text + d->len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return false;
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*start = p;
	*len = (size_t)((nl ? nl : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return *len <= 400;
}

static void print_caret(const struct diag *d, const struct doc *doc)
{
	const char *s;
	size_t len;
	struct strbuf text = STRBUF_INIT;
	struct doc from_disk;
	/* A file that did not parse has no document: its line is read again. */
	if (!doc && d->file && d->line > 0 && !strbuf_read_file(&text, d->file, 64u << 20)) {
		memset(&from_disk, 0, sizeof(from_disk));
		from_disk.text = text.buf;
		from_disk.len = text.len;
		doc = &from_disk;
	}
	bool found = doc && d->line > 0 && source_line(doc, d->line, &s, &len);
	if (!found) {
		strbuf_release(&text);
		return;
	}
	struct strbuf shown = STRBUF_INIT;
	/* Tabs kept (the caret below lines up with them); other controls escaped. */
	term_escape(&shown, s, len, TERM_KEEP_LINES);
	fprintf(stderr, "  %5d | %s\n        | ", d->line, shown.buf);
	strbuf_release(&shown);
	int col = 1;
	for (size_t i = 0; i < len && col < d->col; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		fputc(s[i] == '\t' ? '\t' : ' ', stderr);
		col++;
	}
	fprintf(stderr, "%s^%s\n", color(stderr, C_GREEN), color(stderr, C_RESET));
	strbuf_release(&text);
}

void print_diags(const struct diag_list *dl, const struct doc *const *docs, size_t nr_docs)
{
	for (size_t i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];
		struct diag plain = *d;
		struct strbuf sb = STRBUF_INIT;
		const char *col = d->severity == DIAG_ERROR ? C_RED : C_YELLOW;
		if (use_color(stderr)) {
			/* Colour just the severity word. */
			plain.file = NULL;
			if (d->file) {
				strbuf_addstr(&sb, d->file);
				if (d->line > 0)
					strbuf_addf(&sb, ":%d:%d", d->line, d->col);
				strbuf_addstr(&sb, ": ");
			}
			strbuf_addf(&sb, "%s%s" C_RESET, col, diag_severity_name(d->severity));
			struct strbuf rest = STRBUF_INIT;
			diag_format(&rest, &plain);
			const char *tail = rest.buf + strlen(diag_severity_name(d->severity));
			term_escape(&sb, tail, strlen(tail), TERM_ONE_LINE);
			strbuf_release(&rest);
		} else {
			/* Messages quote workflows, packs, agents: no control character goes out raw. */
			struct strbuf raw = STRBUF_INIT;
			diag_format(&raw, d);
			term_escape(&sb, raw.buf, raw.len, TERM_ONE_LINE);
			strbuf_release(&raw);
		}
		fprintf(stderr, "%s\n", sb.buf);
		strbuf_release(&sb);
		print_caret(d, doc_for(d->file, docs, nr_docs));
	}
}

void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

void print_json_new(json_t *j)
{
	print_json(j);
	json_decref(j);
}

void print_jw(struct jsonw *w)
{
	strbuf_addch(w->out, '\n');
	w->sink = stdout;
	jw_flush(w);
	strbuf_release(w->out);
	jw_release(w);
}

enum output_format parse_format(const char *cmd, const char *arg)
{
	if (!strcmp(arg, "text") || !strcmp(arg, "table"))
		return FORMAT_TEXT;
	if (!strcmp(arg, "json"))
		return FORMAT_JSON;
	die_usage(cmd, "--format must be 'text' or 'json', got '%s'", arg);
}

const struct cmd *cli_top_commands;

int run_subcommand(const char *group, const char *usage, const struct cmd *cmds,
		   int argc, char **argv)
{
	if (!group)
		cli_top_commands = cmds;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		fputs("\nCommands:\n", stdout);
		for (const struct cmd *c = cmds; c->name; c++)
			printf("  %-10s %s\n", c->name, c->summary);
		printf("\nRun 'skillmeat %s%sCOMMAND --help' for a command's options.\n",
		       group ? group : "", group ? " " : "");
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *names[64];
	size_t n = 0;
	for (const struct cmd *c = cmds; c->name; c++) {
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
		if (n < ARRAY_SIZE(names))
			names[n++] = c->name;
	}
	const char *near = suggest_nearest(argv[1], names, n);
	die_usage(group ? group : "", "unknown command '%s'%s%s%s", argv[1],
		  near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

void die_bad_option(const char *cmd, const struct option *longopts, const char *arg)
{
	const char *names[64];
	size_t n = 0;
	char word[64];
	/* "--parm=x" is looked up as "parm". */
	snprintf(word, sizeof(word), "%s", arg + strspn(arg, "-"));
	word[strcspn(word, "=")] = '\0';
	for (const struct option *o = longopts; o->name && n < ARRAY_SIZE(names); o++)
		names[n++] = o->name;
	const char *near = !strncmp(arg, "--", 2) ? suggest_nearest(word, names, n) : NULL;
	die_usage(cmd, "unknown or misplaced option '%s'%s%s%s", arg,
		  near ? "; did you mean '--" : "", near ? near : "", near ? "'?" : "");
}

void add_param_arg(const char *cmd, struct plan_param *params, size_t *nr, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq)
		die_usage(cmd, "invalid --param '%s': expected KEY=VALUE", arg);
	*eq = '\0';
	while (*arg == ' ')
		arg++;
	if (!*arg)
		die_usage(cmd, "invalid --param: the key is empty");
	if (*nr == MAX_PARAMS)
		die_usage(cmd, "too many --param options (limit %d)", MAX_PARAMS);
	params[(*nr)++] = (struct plan_param){ arg, eq + 1 };
}

void add_bind_arg(const char *cmd, struct role_binding *b, size_t *nr, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		die_usage(cmd, "invalid --bind '%s': expected NAME=TYPE:ARTIFACT (for example "
			  "reviewer=agent:reviewer-v2)", arg);
	*eq = '\0';
	for (size_t i = 0; i < *nr; i++)
		if (!strcmp(b[i].name, arg))
			die_usage(cmd, "role '%s' is bound twice by --bind", arg);
	if (*nr == MAX_PARAMS)
		die_usage(cmd, "too many --bind options (limit %d)", MAX_PARAMS);
	b[(*nr)++] = (struct role_binding){ arg, eq + 1, ROLE_BIND, NULL };
}

int cli_plan_context(struct plan_context *pc, const struct swdl_loaded *l,
		     const struct collection *c, const struct ref_table *refs,
		     const char *project_dir, struct diag_list *dl)
{
	char *home = skillmeat_home(), *err = NULL;
	int r = SM_ERR;
	if (!home)
		error_msg("cannot find the SkillMeat home (set SKILLMEAT_HOME or HOME)");
	else if ((r = plan_context_init(pc, home, l, c, refs, project_dir, dl, &err)))
		error_msg("%s", err);
	free(err);
	free(home);
	return r;
}
