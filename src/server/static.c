/*
 * static.c - the web UI's files, served from the table built into the
 * binary (ui_assets.h).  Nothing is read from disk, so no request path can
 * reach outside the UI: an unknown path is a 404, never a file lookup.
 * Opening the page with the right ?token= sets the token cookie that the
 * UI's own API calls and event streams then carry (HttpOnly: scripts never
 * see it; SameSite=Strict: other sites' pages never send it).
 */
#include "server_int.h"
#include "ui_assets.h"

#include <microhttpd.h>
#include <sodium.h>
#include <string.h>

/* What the page may load: only this server; React Flow sets inline styles. */
#define UI_CSP "default-src 'self'; connect-src 'self'; img-src 'self' data:; " \
	"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

static const char not_built[] =
	"<!doctype html><title>skillmeat web</title><p>This skillmeat was built without its "
	"web UI: run <code>scripts/build-ui.sh</code>, then rebuild. The API is at "
	"<code>/api/v1</code>.</p>\n";

static const struct ui_asset *find_asset(const char *url)
{
	if (!strcmp(url, "/"))
		url = "/index.html";
	for (const struct ui_asset *a = ui_assets; a->path; a++)
		if (!strcmp(a->path, url))
			return a;
	return NULL;
}

bool static_is_ui_path(const char *url)
{
	return strncmp(url, "/api/", 5) != 0;
}

/* Does the client take gzip?  A plain token search: "gzip;q=0" is rare enough to ignore. */
static bool takes_gzip(struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	return ae && strstr(ae, "gzip");
}

static struct MHD_Response *static_body(struct MHD_Connection *c, const char *url, int *status)
{
	const struct ui_asset *a = find_asset(url);
	struct MHD_Response *r;
	if (a) {
		bool gz = a->gz && takes_gzip(c);
		*status = 200;
		r = MHD_create_response_from_buffer(gz ? a->gz_len : a->len,
						    (void *)(gz ? a->gz : a->data),
						    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Content-Type", a->mime);
		if (a->gz)
			MHD_add_response_header(r, "Vary", "Accept-Encoding");
		if (gz)
			MHD_add_response_header(r, "Content-Encoding", "gzip");
		/* Vite names assets by content hash: they never change under their name. */
		MHD_add_response_header(r, "Cache-Control", strncmp(url, "/assets/", 8)
					? "no-store" : "public, max-age=31536000, immutable");
		return r;
	}
	bool home = !strcmp(url, "/") || !strcmp(url, "/index.html");
	*status = home && !ui_assets[0].path ? 503 : 404;
	const char *text = *status == 503 ? not_built : "not found\n";
	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", *status == 503 ? "text/html; charset=utf-8"
				: "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return r;
}

/*
 * The page opened with this server's ?token=.  Checked here, not by the
 * caller's token check, which takes a cookie first: an old cookie (from a
 * server since restarted) must not stop the new token from replacing it.
 */
static bool token_in_url(struct server *s, struct MHD_Connection *c)
{
	const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	size_t n = strlen(s->token);
	return arg && strlen(arg) == n && !sodium_memcmp(arg, s->token, n);
}

enum MHD_Result static_serve(struct server *s, struct MHD_Connection *c, const char *url,
			     const char *method, bool token_given)
{
	int status;
	struct MHD_Response *r;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		static const char text[] = "method not allowed\n";
		status = 405;
		r = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text,
						    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Allow", "GET, HEAD");
	} else {
		r = static_body(c, url, &status);
	}
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", UI_CSP);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if ((token_given || token_in_url(s, c)) && status == 200) {
		char cookie[128];
		snprintf(cookie, sizeof(cookie), "skillmeat_token=%s; Path=/; HttpOnly; "
			 "SameSite=Strict", s->token);
		MHD_add_response_header(r, "Set-Cookie", cookie);
	}
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}
