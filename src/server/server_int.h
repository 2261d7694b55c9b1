/*
 * server_int.h - what the server's files share: a request, a reply, the
 * route table.  Private to src/server/.  Calls go one way: http.c (the
 * HTTP side) calls routes.c, the routes call the api_*.c handlers, and
 * all of them call request.c (replies, request parts) and lifecycle.c
 * (hosted runs, web.json, stop), which call none of them back.
 */
#ifndef SM_SERVER_INT_H
#define SM_SERVER_INT_H

#include "server.h"
#include "../base/strbuf.h"
#include "conns.h"
#include "../store/store.h"
#include "../swdl/plan.h"
#include "../swdl/roles.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>

#define MAX_PATH_PARAMS 4

struct hosted_run;

struct server {
	struct MHD_Daemon *d;
	char *home, *url, *info_path;
	char token[65];
	int port;
	char host_ok[2][80];       /* accepted Host headers */
	char origin_ok[2][96];     /* accepted Origin headers */
	size_t max_body;
	pthread_mutex_t lock;      /* guards runs */
	struct hosted_run *runs;
	_Atomic int stopping;      /* read by every stream's thread */
	_Atomic int ready;         /* host_ok and the rest are set (the port is known late) */
	struct conn_table conns;   /* every connection, and the limits (conns.h) */
};

struct request {
	struct server *srv;
	struct MHD_Connection *c;
	const char *method, *url;
	struct strbuf body;
	bool started;              /* the headers have been looked at */
	bool too_big;
	bool nul_in_uri;           /* "%00" in the raw URI: MHD would cut the path there */
	struct conn *conn;         /* its connection's entry (conns.h), or NULL */
	char *params[MAX_PATH_PARAMS];
	size_t nr_params;
};

struct sse;

/* Seconds a client refused for the stream limit is told to wait (Retry-After). */
#define STREAM_RETRY_AFTER 10

struct reply {
	int status;
	json_t *json;              /* the body (taken), or NULL */
	struct sse *sse;           /* an event stream instead */
	int retry_after;           /* seconds, for a Retry-After header (0: none) */
};

typedef void (*route_fn)(struct request *rq, struct reply *out);

struct route {
	const char *method, *path;
	route_fn fn;
};

extern const struct route server_routes[];

/* Replies and request parts (request.c). */
void reply_json(struct reply *out, int status, json_t *body);
void reply_error(struct reply *out, int status, const char *code, const char *fmt, ...)
	SM_PRINTF(4, 5);
/* 400 "invalid" with the first diagnostic of `dl` (file, line, column, message). */
void reply_first_diag(struct reply *out, const struct diag_list *dl);
/* A query argument, or NULL. */
const char *request_arg(struct request *rq, const char *name);
/* The body as a JSON object (an empty body is {}); NULL after an error reply. */
json_t *request_json(struct request *rq, struct reply *out);
/* body.parameters ({k: v}) as KEY=VALUE text, for the CLI's coercion by declared type. */
#define MAX_REQUEST_PARAMS 64
struct request_params {
	struct plan_param p[MAX_REQUEST_PARAMS];  /* names borrowed from the body */
	char *values[MAX_REQUEST_PARAMS];
	size_t nr;
	/* body.bindings ({role: "type:name"}), borrowed from the body */
	struct role_binding binds[MAX_REQUEST_PARAMS];
	size_t nr_binds;
};
/*
 * body.parameters and body.bindings: SM_ERR (after an error reply) unless
 * objects of at most 64 (bindings of strings); release in any case.
 */
int request_params(const json_t *body, struct request_params *rp, struct reply *out);
void request_params_release(struct request_params *rp);

/* A store connection for this request (or an error reply). */
struct store *request_store(struct request *rq, struct reply *out);

/* Route handlers, by file. */
void api_workflows_list(struct request *rq, struct reply *out);
void api_workflow_get(struct request *rq, struct reply *out);
void api_workflow_create(struct request *rq, struct reply *out);
void api_workflow_update(struct request *rq, struct reply *out);
void api_workflow_delete(struct request *rq, struct reply *out);
void api_workflow_validate(struct request *rq, struct reply *out);
void api_definition_validate(struct request *rq, struct reply *out);
void api_workflow_plan(struct request *rq, struct reply *out);
void api_artifacts(struct request *rq, struct reply *out);
void api_context_modules(struct request *rq, struct reply *out);
void api_memory_items(struct request *rq, struct reply *out);
void api_runs_list(struct request *rq, struct reply *out);
void api_run_get(struct request *rq, struct reply *out);
void api_run_start(struct request *rq, struct reply *out);
void api_run_control(struct request *rq, struct reply *out);
void api_run_rerun(struct request *rq, struct reply *out);
void api_run_gate(struct request *rq, struct reply *out);
void api_run_stream(struct request *rq, struct reply *out);
void api_runs_stream(struct request *rq, struct reply *out);
void api_openapi(struct request *rq, struct reply *out);
void api_workflow_duplicate(struct request *rq, struct reply *out);
void api_workflows_batch_delete(struct request *rq, struct reply *out);
void api_runs_by_workflow(struct request *rq, struct reply *out);
void api_runs_batch(struct request *rq, struct reply *out);
/* The body's list of 1 to 50 id strings under `key` (borrowed), or NULL after an error reply. */
json_t *request_id_list(struct reply *out, json_t *body, const char *key);

/* The web UI's files (static.c): every path outside /api/ is one of them. */
bool static_is_ui_path(const char *url);
enum MHD_Result static_serve(struct server *s, struct MHD_Connection *c, const char *url,
			     const char *method, bool token_given);

/* Host run_id in a thread of this process (started from the API). */
int server_host_run(struct server *s, const char *run_id, char **err);
/* At start: host again the runs a killed server of this home left unfinished. */
void server_adopt_runs(struct server *s);
/* Write web.json (lifecycle.c; server_stop removes it while it is still ours). */
int server_write_info(struct server *s, char **err);

/* SSE (sse.c): the response for out->sse, freed by MHD. */
struct MHD_Response *sse_response(struct sse *e);
/* run_id NULL: the feed of every run (runs_only: only run-level events). */
struct sse *sse_new(struct server *s, struct store *st, const char *run_id, int64_t after,
		    bool runs_only);

#endif
