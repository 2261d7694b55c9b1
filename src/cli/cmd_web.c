/*
 * cmd_web.c - `skillmeat web`: serve the HTTP API and run event streams
 * until interrupted; runs started through the API are hosted here.
 */
#include "cli.h"
#include "base/fsutil.h"
#include "collection/collection.h"
#include "server/server.h"

#include <getopt.h>
#include <signal.h>
#include <unistd.h>

static const char web_usage[] =
"usage: skillmeat web [--port N] [--host ADDR] [--open]\n"
"\n"
"Serve the web UI (workflow builder and run dashboard), the workflow API\n"
"(/api/v1/..., described at /api/v1/openapi.json) and the live event\n"
"streams of runs.  It listens on 127.0.0.1 (ADDR must be an IPv4 address)\n"
"and prints its URL, which carries the access token every API request\n"
"needs (Authorization: Bearer TOKEN, the skillmeat_token cookie that opening\n"
"the URL sets, or ?token=).  The URL, port and token are also in\n"
"$SKILLMEAT_HOME/web.json (readable only by you) while it runs.  Runs\n"
"started from the UI or the API are hosted by this process; stop it with\n"
"Ctrl-C (it waits for them to end; a second Ctrl-C leaves them to\n"
"`skillmeat workflow resume`).\n"
"\n"
"  -p, --port N     port to listen on (default 8765; 0: any free port)\n"
"      --host ADDR  address to bind (default 127.0.0.1)\n"
"      --open       open the URL with xdg-open\n"
"\n"
"Exit status: 0 stopped by a signal, 1 could not start.\n";

static volatile sig_atomic_t stop_signals;

static void on_stop(int sig)
{
	UNUSED(sig);
	if (++stop_signals > 1)
		_exit(130); /* runs stay in the store: `workflow resume` finishes them */
}

int cmd_web(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' }, { "port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' }, { "open", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts so = { NULL, NULL, 8765, 0, NULL };
	bool open_it = false;
	char *end, *err = NULL;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': fputs(web_usage, stdout); return EXIT_OK;
		case 'p':
			so.port = (int)strtol(optarg, &end, 10);
			if (*end || so.port < 0 || so.port > 65535)
				die_usage("web", "--port must be 0 to 65535, got '%s'", optarg);
			break;
		case 'H': so.host = optarg; break;
		case 'o': open_it = true; break;
		default: die_bad_option("web", longopts, argv[optind - 1]);
		}
	}
	if (optind != argc)
		die_usage("web", "unexpected argument '%s'", argv[optind]);
	char *home = skillmeat_home();
	struct server *s = NULL;
	if (!home || fs_mkdirs(home)) {
		error_msg("cannot use the SkillMeat home %s", home ? home : "(unset)");
		free(home);
		return EXIT_FAIL;
	}
	so.home = home;
	signal(SIGPIPE, SIG_IGN);
	if (server_start(&so, &s, &err)) {
		error_msg("web: %s", err);
		free(err);
		free(home);
		return EXIT_FAIL;
	}
	printf("SkillMeat web: %s\n", server_url(s));
	fflush(stdout);
	if (open_it && fork() == 0) {
		execlp("xdg-open", "xdg-open", server_url(s), (char *)NULL);
		_exit(127);
	}
	struct sigaction sa = { 0 };
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop_signals)
		pause();
	fprintf(stderr, "Stopping (waiting for the runs it hosts)...\n");
	server_stop(s);
	free(home);
	return EXIT_OK;
}
