/*
 * cmd_completion.c - `skillmeat completion bash|zsh|fish`: a completion
 * script made from the command tables (cli.h) and each command's own
 * --help, so it can never name a command or option that does not exist.
 * meson builds the three scripts with the binary and installs them.
 */
#include "cli.h"

#include <ctype.h>
#include <sys/wait.h>
#include <unistd.h>

static const char completion_usage[] =
"usage: skillmeat completion bash|zsh|fish\n"
"\n"
"Print a completion script for the shell: command and subcommand names (with\n"
"their summaries where the shell shows them), each command's options, files\n"
"for the rest.  Installed by `meson install`; to try one at once:\n"
"  bash:  source <(skillmeat completion bash)\n"
"  zsh:   skillmeat completion zsh > ~/.zfunc/_skillmeat   (with ~/.zfunc in fpath)\n"
"  fish:  skillmeat completion fish | source\n";

/* One command path ("", "workflow", "workflow run"): its subcommands or options. */
struct cmd_node {
	char *path;
	const struct cmd *subs;    /* a group's table, or NULL for a leaf */
	struct strbuf opts;        /* leaf: "--a --b ..." */
};

struct cmd_tree {
	struct cmd_node *v;
	size_t nr, alloc;
};

/* Whether `word` is one of the space-separated words of sb. */
static bool has_word(const struct strbuf *sb, const char *word, size_t len)
{
	for (const char *p = sb->buf; p && (p = strstr(p, word)); p += len)
		if ((p == sb->buf || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

/* The long options a command's --help names (run in a child: --help exits). */
static void help_options(const struct cmd *c, struct strbuf *out)
{
	int fds[2];
	if (pipe(fds))
		return;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		/* nothing to read, nothing to say but the help */
		if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "r", stdin))
			_exit(1);
		char *argv[] = { (char *)c->name, (char *)"--help", NULL };
		exit(c->fn(2, argv));
	}
	close(fds[1]);
	struct strbuf help = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof(buf))) > 0 && help.len < (1u << 20))
		strbuf_add(&help, buf, (size_t)n);
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	for (const char *p = help.buf ? help.buf : ""; (p = strstr(p, "--")); p += 2) {
		bool word_start = p == help.buf || strchr(" [(|,\t", p[-1]);
		size_t len = 2;
		while (isalnum((unsigned char)p[len]) || p[len] == '-')
			len++;
		if (!word_start || len < 4 || !isalpha((unsigned char)p[2]))
			continue;
		char *opt = xstrndup(p, len);
		if (!has_word(out, opt, len))
			strbuf_addf(out, "%s%s", out->len ? " " : "", opt);
		free(opt);
	}
	strbuf_release(&help);
	if (!has_word(out, "--help", 6))
		strbuf_addstr(out, out->len ? " --help" : "--help");
}

static void walk(struct cmd_tree *t, const char *path, const struct cmd *table)
{
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	struct cmd_node *nd = &t->v[t->nr++];
	*nd = (struct cmd_node){ xstrdup(path), table, STRBUF_INIT };
	for (const struct cmd *c = table; c->name; c++) {
		char *sub = xasprintf("%s%s%s", path, *path ? " " : "", c->name);
		if (c->sub) {
			walk(t, sub, c->sub);
		} else {
			ALLOC_GROW(t->v, t->nr + 1, t->alloc);
			struct cmd_node *leaf = &t->v[t->nr++];
			*leaf = (struct cmd_node){ sub, NULL, STRBUF_INIT };
			help_options(c, &leaf->opts);
			continue;
		}
		free(sub);
	}
}

/* What a node offers as words: subcommand names, or options. */
static void node_words(const struct cmd_node *nd, struct strbuf *sb)
{
	if (!nd->subs) {
		strbuf_addstr(sb, nd->opts.buf ? nd->opts.buf : "");
		return;
	}
	for (const struct cmd *c = nd->subs; c->name; c++)
		strbuf_addf(sb, "%s%s", sb->len ? " " : "", c->name);
	strbuf_addstr(sb, *nd->path ? " --help" : " --help --version");
}

static void emit_bash(const struct cmd_tree *t)
{
	puts("# bash completion for skillmeat (made by `skillmeat completion bash`)\n"
	     "_skillmeat() {\n"
	     "\tlocal cur=${COMP_WORDS[COMP_CWORD]} at= w i words\n"
	     "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	     "\t\tw=${COMP_WORDS[i]}\n"
	     "\t\t[[ $w == -* ]] && continue\n"
	     "\t\t_skillmeat_words \"${at:+$at }$w\" >/dev/null && at=${at:+$at }$w\n"
	     "\tdone\n"
	     "\twords=$(_skillmeat_words \"$at\")\n"
	     "\tif [[ $cur == -* || -z $(_skillmeat_is_leaf \"$at\") ]]; then\n"
	     "\t\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
	     "\tfi\n"
	     "}\n"
	     "_skillmeat_is_leaf() {\n"
	     "\tcase $1 in");
	for (size_t i = 0; i < t->nr; i++)
		if (!t->v[i].subs)
			printf("\t'%s') echo leaf ;;\n", t->v[i].path);
	puts("\tesac\n}\n_skillmeat_words() {\n\tcase $1 in");
	for (size_t i = 0; i < t->nr; i++) {
		struct strbuf w = STRBUF_INIT;
		node_words(&t->v[i], &w);
		printf("\t'%s') echo '%s' ;;\n", t->v[i].path, w.buf ? w.buf : "");
		strbuf_release(&w);
	}
	puts("\t*) return 1 ;;\n\tesac\n}\ncomplete -o default -F _skillmeat skillmeat");
}

/* Quoted for a single-quoted shell word: ' becomes '\''. */
static void put_quoted(const char *s)
{
	for (; *s; s++)
		fputs(*s == '\'' ? "'\\''" : (char[]){ *s, 0 }, stdout);
}

static void emit_zsh(const struct cmd_tree *t)
{
	puts("#compdef skillmeat\n"
	     "# zsh completion for skillmeat (made by `skillmeat completion zsh`)\n"
	     "typeset -gA _skillmeat_subs _skillmeat_opts");
	for (size_t i = 0; i < t->nr; i++) {
		const struct cmd_node *nd = &t->v[i];
		if (!nd->subs) {
			printf("_skillmeat_opts+=('%s' '%s')\n", *nd->path ? nd->path : "-",
			       nd->opts.buf ? nd->opts.buf : "");
			continue;
		}
		printf("_skillmeat_subs+=('%s' '", *nd->path ? nd->path : "-");
		for (const struct cmd *c = nd->subs; c->name; c++) {
			printf("%s%s:", c == nd->subs ? "" : "\n", c->name);
			put_quoted(c->summary);
		}
		puts("')");
	}
	/* not "path": zsh ties it to PATH */
	puts("_skillmeat() {\n"
	     "\tlocal at=- w i next\n"
	     "\tfor ((i = 2; i < CURRENT; i++)); do\n"
	     "\t\tw=${words[i]}\n"
	     "\t\t[[ $w == -* ]] && continue\n"
	     "\t\tnext=${${at#-}:+${at#-} }$w\n"
	     "\t\t(( ${+_skillmeat_subs[$next]} || ${+_skillmeat_opts[$next]} )) && at=$next\n"
	     "\tdone\n"
	     "\tif (( ${+_skillmeat_subs[$at]} )); then\n"
	     "\t\tlocal -a cmds=(\"${(@f)_skillmeat_subs[$at]}\")\n"
	     "\t\t_describe command cmds\n"
	     "\telse\n"
	     "\t\tlocal -a opts=(${=_skillmeat_opts[$at]})\n"
	     "\t\tif [[ $PREFIX == -* ]]; then compadd -- $opts; else _files; fi\n"
	     "\tfi\n"
	     "}\n"
	     "compdef _skillmeat skillmeat");
}

static void emit_fish(const struct cmd_tree *t)
{
	puts("# fish completion for skillmeat (made by `skillmeat completion fish`)\n"
	     "function __skillmeat_path\n"
	     "\tset -l path\n"
	     "\tfor w in (commandline -opc)[2..-1]\n"
	     "\t\tstring match -q -- '-*' $w; and continue\n"
	     "\t\tcontains -- \"$path $w\" $__skillmeat_known; and set path \"$path $w\"\n"
	     "\tend\n"
	     "\techo \"$path\"\n"
	     "end");
	printf("set -g __skillmeat_known");
	for (size_t i = 1; i < t->nr; i++)
		printf(" ' %s'", t->v[i].path);
	puts("\ncomplete -c skillmeat -f");
	for (size_t i = 0; i < t->nr; i++) {
		const struct cmd_node *nd = &t->v[i];
		const char *sp = *nd->path ? " " : "";
		if (nd->subs) {
			for (const struct cmd *c = nd->subs; c->name; c++) {
				printf("complete -c skillmeat -n 'test (__skillmeat_path) = \"%s%s\"' "
				       "-a %s -d '", sp, nd->path, c->name);
				put_quoted(c->summary);
				puts("'");
			}
			continue;
		}
		printf("complete -c skillmeat -n 'test (__skillmeat_path) = \"%s%s\"' -F\n", sp,
		       nd->path);
		struct strbuf o = STRBUF_INIT;
		strbuf_addstr(&o, nd->opts.buf ? nd->opts.buf : "");
		for (char *tok = strtok(o.buf ? o.buf : (char[]){ 0 }, " "); tok;
		     tok = strtok(NULL, " "))
			printf("complete -c skillmeat -n 'test (__skillmeat_path) = \"%s%s\"' -l %s\n",
			       sp, nd->path, tok + 2);
		strbuf_release(&o);
	}
}

int cmd_completion(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(completion_usage, stdout);
		return EXIT_OK;
	}
	if (argc != 2 || (strcmp(argv[1], "bash") && strcmp(argv[1], "zsh") &&
			  strcmp(argv[1], "fish")))
		die_usage("completion", "expected one shell: bash, zsh or fish");
	struct cmd_tree t = { 0 };
	if (!cli_top_commands)
		die_usage("completion", "no command table (not run through skillmeat's main)");
	walk(&t, "", cli_top_commands);
	if (!strcmp(argv[1], "bash"))
		emit_bash(&t);
	else if (!strcmp(argv[1], "zsh"))
		emit_zsh(&t);
	else
		emit_fish(&t);
	for (size_t i = 0; i < t.nr; i++) {
		free(t.v[i].path);
		strbuf_release(&t.v[i].opts);
	}
	free(t.v);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}
