/*
 * Room server/ (docs/ARCHITECTURE.md): `skillmeat web`: the HTTP API,
 * event streams, the web UI's files and the runs it hosts.  It may not
 * print.  Calls go http.c -> routes.c -> api_*.c, all of them calling
 * request.c and lifecycle.c, never back.  This header is its door;
 * server_int.h is private to server/.
 *
 * server.h - `skillmeat web`: the HTTP API (/api/v1/...), server-sent
 * event streams of runs, and the runs started through it, in one process.
 *
 * Safety: binds 127.0.0.1 by default; every request needs the token made
 * at start (Authorization: Bearer, the skillmeat_token cookie, or ?token=
 * for EventSource); the Host header must name this server and an Origin,
 * when sent, must be this server (no DNS rebinding, no cross-site calls);
 * bodies are capped.  The URL with the token and the port are written to
 * $SKILLMEAT_HOME/web.json (mode 0600) so the CLI and tests can call it.
 */
#ifndef SM_SERVER_H
#define SM_SERVER_H

#include "../base/compat.h"

struct server_opts {
	const char *home;         /* $SKILLMEAT_HOME */
	const char *host;         /* address to bind; NULL: 127.0.0.1 */
	int port;                 /* 0: any free port */
	size_t max_body;          /* 0: 1 MiB */
	const char *token;        /* NULL: a new random one */
};

struct server;

int server_start(const struct server_opts *o, struct server **out, char **err);
const char *server_url(const struct server *s);     /* with ?token= */
int server_port(const struct server *s);
/* Stop accepting, end the event streams, wait for hosted runs' hosts to stop. */
void server_stop(struct server *s);

/* The API's routes as "METHOD /path/{param}" lines (for the OpenAPI check). */
void server_list_routes(void (*fn)(void *ctx, const char *method, const char *path),
			void *ctx);

#endif
