/*
 * http.c - the server's HTTP side on libmicrohttpd: one thread a
 * connection, checks (Host, Origin, token, body size) before any route,
 * dispatch through the route table, sending replies (request.c makes
 * them), and server_start.
 */
#include "server_int.h"
#include "../base/fsutil.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sys/resource.h>

#define DEFAULT_MAX_BODY (1u << 20)
/* Connections (conns.h): ours are kept below MHD's own limit, so we choose who goes. */
#define MAX_CONNECTIONS 1024
#define MAX_PER_ADDRESS 512
#define MAX_STREAMS 64
#define MHD_CONNECTION_LIMIT (MAX_CONNECTIONS * 4)
/* Seconds a connection may wait without an authenticated request; once it has sent one. */
#define FIRST_REQUEST_TIMEOUT 10
/* Seconds for a whole request head without a token, however slowly it drips (conns.h). */
#define HEAD_DEADLINE 10
#define AUTHENTICATED_TIMEOUT 120

/* ---- routing ---------------------------------------------------------------------- */

/* "/a/{x}/b" against "/a/42/b": captures go to rq->params. */
static bool match(const char *pattern, const char *url, struct request *rq)
{
	rq->nr_params = 0;
	while (*pattern && *url) {
		if (*pattern == '{') {
			const char *close = strchr(pattern, '}');
			size_t n = strcspn(url, "/");
			if (!close || !n || rq->nr_params == MAX_PATH_PARAMS)
				return false;
			rq->params[rq->nr_params++] = xstrndup(url, n);
			pattern = close + 1;
			url += n;
		} else if (*pattern++ != *url++) {
			return false;
		}
	}
	return !*pattern && !*url;
}

static void free_params(struct request *rq)
{
	for (size_t i = 0; i < rq->nr_params; i++)
		free(rq->params[i]);
	rq->nr_params = 0;
}

static void dispatch(struct request *rq, struct reply *out)
{
	bool path_known = false;
	for (const struct route *r = server_routes; r->method; r++) {
		bool m = match(r->path, rq->url, rq);
		if (m && !strcmp(r->method, rq->method)) {
			r->fn(rq, out);
			return;
		}
		path_known |= m;
		free_params(rq);
	}
	if (path_known)
		reply_error(out, 405, "method_not_allowed", "%s is not allowed on %s", rq->method,
			    rq->url);
	else
		reply_error(out, 404, "not_found", "no such endpoint: %s", rq->url);
}

/* ---- checks before any route ------------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static bool token_ok(struct server *s, struct MHD_Connection *c)
{
	const char *auth = header(c, "Authorization");
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "skillmeat_token");
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	const char *given = auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : cookie ? cookie : arg;
	size_t n = strlen(s->token);
	return given && strlen(given) == n && !sodium_memcmp(given, s->token, n);
}

/* Host must name this server; an Origin, when there is one, must be this server. */
static const char *refusal(struct server *s, struct MHD_Connection *c, bool need_token,
			   int *status)
{
	const char *host = header(c, "Host"), *origin = header(c, "Origin");
	*status = 403;
	if (!host || (strcmp(host, s->host_ok[0]) && strcmp(host, s->host_ok[1])))
		return "the Host header does not name this server";
	if (origin && strcmp(origin, s->origin_ok[0]) && strcmp(origin, s->origin_ok[1]))
		return "requests from other origins are refused";
	*status = 401;
	if (need_token && !token_ok(s, c))
		return "a valid token is required (Authorization: Bearer TOKEN)";
	return NULL;
}

/* ---- requests that could be read two ways ------------------------------------------ */

struct repeats {
	unsigned host, origin, auth, token;
};

static enum MHD_Result count_value(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	UNUSED(value);
	struct repeats *r = cls;
	if (kind == MHD_GET_ARGUMENT_KIND) {
		r->token += !strcmp(key, "token");
	} else {
		r->host += !strcasecmp(key, "Host");
		r->origin += !strcasecmp(key, "Origin");
		r->auth += !strcasecmp(key, "Authorization");
	}
	return MHD_YES;
}

/*
 * A header the checks rely on given twice, or `token=` twice, could be read
 * one way by a check and another by whatever comes after it: refused.
 */
static const char *ambiguity(struct MHD_Connection *c, bool nul_in_uri)
{
	struct repeats r = { 0 };
	if (nul_in_uri)
		return "a NUL (%00) in the path is refused";
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_value, &r);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, count_value, &r);
	if (r.host > 1 || r.origin > 1 || r.auth > 1)
		return r.host > 1 ? "the Host header is given more than once"
		       : r.origin > 1 ? "the Origin header is given more than once"
		       : "the Authorization header is given more than once";
	if (r.token > 1)
		return "token= is given more than once";
	return NULL;
}

/*
 * A state-changing request's body must be JSON, said so: no HTML form
 * (urlencoded, multipart, text/plain) from another site can make one.
 */
static bool media_type_ok(struct MHD_Connection *c, const char *method, size_t body_len)
{
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return true;
	const char *ct = header(c, "Content-Type");
	if (!ct)
		return body_len == 0;
	size_t n = strlen("application/json");
	return !strncasecmp(ct, "application/json", n) && (ct[n] == '\0' || ct[n] == ';' ||
							   ct[n] == ' ');
}

/* What a request head says about its body, and whether any header holds a NUL. */
struct head_check {
	unsigned content_length, transfer_encoding;
	bool nul;
	const char *te;
	const char *last;          /* the value seen before */
	size_t last_size;
};

/*
 * MHD (0.9.x) keeps each header value in place in its read buffer and ends
 * it at the first NUL: "a\0b" reads as "a".  What follows a value up to its
 * line's end (a NUL or LF MHD wrote, or the next header's name) may only
 * be blanks; anything else was hidden behind a NUL.
 */
static bool hidden_after(const char *value, size_t value_size, const char *next)
{
	const char *p = value + value_size + 1;
	for (size_t n = 0; n < 1024 && p != next && *p && *p != '\n'; p++, n++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return true;
	return false;
}

static enum MHD_Result check_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    size_t key_size, const char *value, size_t value_size)
{
	UNUSED(kind);
	struct head_check *hc = cls;
	if (hc->last && key > hc->last && hidden_after(hc->last, hc->last_size, key))
		hc->nul = true;
	hc->last = value;
	hc->last_size = value_size;
	if (strlen(key) != key_size || (value && strlen(value) != value_size))
		hc->nul = true;
	hc->content_length += !strcasecmp(key, "Content-Length");
	if (!strcasecmp(key, "Transfer-Encoding")) {
		hc->transfer_encoding++;
		hc->te = value ? value : "";
	}
	return MHD_YES;
}

/*
 * A head whose body could be framed two ways (RFC 9112 §6.3: two
 * Content-Lengths, or one beside Transfer-Encoding), a NUL in a header
 * (cut short by a C string), or a coding we cannot read: answered at once,
 * 400 or 501, before any of its body is read.
 */
static int bad_head(struct MHD_Connection *c, const char **why)
{
	struct head_check hc = { 0 };
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, check_header, &hc);
	if (hc.last && hidden_after(hc.last, hc.last_size, NULL))
		hc.nul = true;
	*why = hc.nul ? "a header holds a NUL byte"
	       : hc.content_length > 1 ? "Content-Length is given more than once"
	       : hc.transfer_encoding > 1 ? "Transfer-Encoding is given more than once"
	       : hc.transfer_encoding && hc.content_length
	       ? "both Transfer-Encoding and Content-Length are given" : NULL;
	if (*why)
		return 400;
	if (hc.transfer_encoding && strcasecmp(hc.te, "chunked")) {
		*why = "only the chunked Transfer-Encoding is supported";
		return 501;
	}
	return 0;
}

/* Content-Length over the limit: refused before reading a byte of it. */
static bool announced_too_big(struct server *s, struct MHD_Connection *c)
{
	const char *cl = header(c, "Content-Length");
	if (!cl)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	return errno == ERANGE || *end || n > s->max_body;
}

/* ---- the MHD callbacks ---------------------------------------------------------------- */

/* Called with the raw URI before MHD unescapes it: its result is the request's state. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	UNUSED(c);
	struct request *rq = xcalloc(1, sizeof(*rq));
	rq->srv = cls;
	strbuf_init(&rq->body, 0);
	rq->nul_in_uri = strcasestr(uri, "%00") != NULL;
	return rq;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, struct reply *out)
{
	struct MHD_Response *resp;
	if (out->sse) {
		resp = sse_response(out->sse);
	} else {
		struct strbuf sb = STRBUF_INIT;
		if (out->json) {
			char *text = json_dumps(out->json, JSON_INDENT(2) | JSON_SORT_KEYS |
						JSON_REAL_PRECISION(15));
			strbuf_addf(&sb, "%s\n", text);
			free(text);
		}
		size_t len;
		char *body = strbuf_detach(&sb, &len);
		resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (out->json)
			MHD_add_response_header(resp, "Content-Type", "application/json");
	}
	if (out->retry_after > 0) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%d", out->retry_after);
		MHD_add_response_header(resp, "Retry-After", secs);
	}
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result r = MHD_queue_response(c, (unsigned)out->status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* The request's connection; with a valid token it may stay longer and is not dropped. */
static void note_connection(struct server *s, struct MHD_Connection *c, struct request *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	rq->conn = ci ? ci->socket_context : NULL;
	if (rq->conn)
		conns_request_started(&s->conns, rq->conn);
	if (!rq->conn || !token_ok(s, c))
		return;
	conns_authenticated(&s->conns, rq->conn);
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
				  (unsigned)AUTHENTICATED_TIMEOUT);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **state)
{
	UNUSED(version);
	struct server *s = cls;
	struct request *rq = *state;
	struct reply out = { 200, NULL, NULL };
	if (!rq->started) {
		rq->started = true;
		note_connection(s, c, rq);
		const char *why;
		int bad = bad_head(c, &why);
		if (!bad && !announced_too_big(s, c))
			return MHD_YES;
		/* Answered now; MHD closes the connection rather than read the body. */
		if (bad)
			reply_error(&out, bad, bad == 501 ? "not_implemented" : "ambiguous_request",
				    "%s", why);
		else
			reply_error(&out, 413, "too_large", "the request body is over %zu bytes",
				    s->max_body);
		enum MHD_Result r = send_reply(c, &out);
		json_decref(out.json);
		return r;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > s->max_body)
			rq->too_big = true;
		else
			strbuf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	int status = 400;
	bool ui = static_is_ui_path(url);
	const char *why = ambiguity(c, rq->nul_in_uri);
	if (!why) {
		status = 503;
		why = s->ready ? refusal(s, c, !ui, &status) : "starting up";
	}
	if (ui && !why)
		return static_serve(s, c, url, method, token_ok(s, c) &&
				    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"));
	rq->c = c;
	rq->method = method;
	rq->url = url;
	if (why)
		reply_error(&out, status, status == 401 ? "unauthorized" : status == 403 ? "forbidden"
			    : status == 400 ? "ambiguous_request" : "unavailable", "%s", why);
	else if (rq->too_big)
		reply_error(&out, 413, "too_large", "the request body is over %zu bytes",
			    s->max_body);
	else if (!media_type_ok(c, method, rq->body.len))
		reply_error(&out, 415, "unsupported_media_type", "a %s body must be JSON, sent "
			    "with Content-Type: application/json", method);
	else
		dispatch(rq, &out);
	enum MHD_Result r = send_reply(c, &out);
	json_decref(out.json);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
			 enum MHD_RequestTerminationCode code)
{
	struct server *s = cls;
	UNUSED(c);
	UNUSED(code);
	struct request *rq = *state;
	if (!rq)
		return;
	if (rq->conn)
		conns_request_done(&s->conns, rq->conn, store_now());
	free_params(rq);
	strbuf_release(&rq->body);
	free(rq);
	*state = NULL;
}

/* Every connection enters the table when accepted, and may push an older one out. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		conns_close(&s->conns, *socket_context);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ad = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint32_t addr = 0;
	if (ad && ad->client_addr && ad->client_addr->sa_family == AF_INET)
		addr = ((const struct sockaddr_in *)(const void *)ad->client_addr)->sin_addr.s_addr;
	struct conn *entry = NULL;
	if (fd)
		conns_open(&s->conns, fd->connect_fd, addr, store_now(), &entry);
	*socket_context = entry;
}

/* Many connections need many descriptors: the soft limit goes up to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* ---- start and stop ------------------------------------------------------------------- */

static void new_token(char out[65])
{
	unsigned char raw[24];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, 65, raw, sizeof(raw));
}

int server_start(const struct server_opts *o, struct server **out, char **err)
{
	struct server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_in addr = { 0 };
	const char *host = o->host ? o->host : "127.0.0.1";
	*out = NULL;
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		*err = xasprintf("--host %s: not an IPv4 address", host);
		free(s);
		return SM_ERR;
	}
	if (sodium_init() < 0) {
		*err = xstrdup("cannot initialise libsodium");
		free(s);
		return SM_ERR;
	}
	s->home = xstrdup(o->home);
	s->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	pthread_mutex_init(&s->lock, NULL);
	if (o->token)
		snprintf(s->token, sizeof(s->token), "%s", o->token);
	else
		new_token(s->token);
	const struct conn_limits lim = { MAX_CONNECTIONS, MAX_PER_ADDRESS, MAX_STREAMS };
	conns_init(&s->conns, &lim);
	raise_fd_limit();
	/* poll(), not select(): descriptors past FD_SETSIZE (1,024) come with many connections */
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD,
				0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)MHD_CONNECTION_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)FIRST_REQUEST_TIMEOUT,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_END);
	if (!s->d) {
		*err = xasprintf("cannot listen on %s:%d: %s", host, o->port, strerror(errno));
		server_stop(s);
		return SM_ERR;
	}
	if (conns_sweeper_start(&s->conns, HEAD_DEADLINE)) {
		*err = xstrdup("cannot start the connection sweeper thread");
		server_stop(s);
		return SM_ERR;
	}
	s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
	snprintf(s->host_ok[0], sizeof(s->host_ok[0]), "%s:%d", host, s->port);
	snprintf(s->host_ok[1], sizeof(s->host_ok[1]), "localhost:%d", s->port);
	snprintf(s->origin_ok[0], sizeof(s->origin_ok[0]), "http://%s", s->host_ok[0]);
	snprintf(s->origin_ok[1], sizeof(s->origin_ok[1]), "http://%s", s->host_ok[1]);
	s->url = xasprintf("http://%s/?token=%s", s->host_ok[0], s->token);
	s->ready = 1; /* an atomic store: the strings above are visible to request threads */
	if (server_write_info(s, err)) {
		server_stop(s);
		return SM_ERR;
	}
	server_adopt_runs(s);
	*out = s;
	return SM_OK;
}

const char *server_url(const struct server *s)
{
	return s->url;
}

int server_port(const struct server *s)
{
	return s->port;
}

void server_list_routes(void (*fn)(void *ctx, const char *method, const char *path), void *ctx)
{
	for (const struct route *r = server_routes; r->method; r++)
		fn(ctx, r->method, r->path);
}
