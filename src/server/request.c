/*
 * request.c - what every route handler uses and which calls no handler:
 * JSON and error replies, a request's query arguments, body, parameters,
 * id lists and store connection.
 */
#include "server_int.h"
#include "../base/fsutil.h"

#include <stdarg.h>

void reply_json(struct reply *out, int status, json_t *body)
{
	json_decref(out->json);
	out->status = status;
	out->json = body;
}

void reply_error(struct reply *out, int status, const char *code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	reply_json(out, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message",
					  sb.buf));
	strbuf_release(&sb);
}

void reply_first_diag(struct reply *out, const struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	diag_format(&sb, &dl->items[0]);
	reply_error(out, 400, "invalid", "%s", sb.buf);
	strbuf_release(&sb);
}

const char *request_arg(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, name);
}

json_t *request_json(struct request *rq, struct reply *out)
{
	json_error_t je;
	if (!rq->body.len)
		return json_object();
	json_t *j = json_loadb(rq->body.buf, rq->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		reply_error(out, 400, "bad_json", "request body, line %d column %d: %s", je.line,
			    je.column, je.text);
	else if (!json_is_object(j))
		reply_error(out, 400, "bad_json", "the request body must be a JSON object"),
			json_decref(j), j = NULL;
	return j;
}

int request_params(const json_t *body, struct request_params *rp, struct reply *out)
{
	json_t *ps = json_object_get(body, "parameters"), *v;
	const char *k;
	memset(rp, 0, sizeof(*rp));
	if ((ps && !json_is_object(ps)) || json_object_size(ps) > MAX_REQUEST_PARAMS) {
		reply_error(out, 400, "bad_request", "parameters must be an object of at most %d",
			    MAX_REQUEST_PARAMS);
		return SM_ERR;
	}
	json_object_foreach(ps, k, v) {
		rp->values[rp->nr] = json_is_string(v) ? xstrdup(json_string_value(v))
				     : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		rp->p[rp->nr] = (struct plan_param){ k, rp->values[rp->nr] };
		rp->nr++;
	}
	json_t *bs = json_object_get(body, "bindings");
	if ((bs && !json_is_object(bs)) || json_object_size(bs) > MAX_REQUEST_PARAMS) {
		reply_error(out, 400, "bad_request", "bindings must be an object of at most %d "
			    "(role: \"type:name\")", MAX_REQUEST_PARAMS);
		return SM_ERR;
	}
	json_object_foreach(bs, k, v) {
		if (!json_is_string(v)) {
			reply_error(out, 400, "bad_request", "bindings.%s must be a \"type:name\" "
				    "string", k);
			return SM_ERR;
		}
		rp->binds[rp->nr_binds++] = (struct role_binding){ k, json_string_value(v),
			ROLE_REQUEST, NULL };
	}
	return SM_OK;
}

void request_params_release(struct request_params *rp)
{
	for (size_t i = 0; i < rp->nr; i++)
		free(rp->values[i]);
	rp->nr = 0;
}

struct store *request_store(struct request *rq, struct reply *out)
{
	char *path = store_default_path(rq->srv->home), *err = NULL;
	struct store *st = NULL;
	if (store_open(path, &st, &err))
		reply_error(out, 500, "store", "%s", err);
	free(path);
	free(err);
	return st;
}

json_t *request_id_list(struct reply *out, json_t *body, const char *key)
{
	json_t *ids = json_object_get(body, key);
	size_t i;
	json_t *v;
	bool ok = json_is_array(ids) && json_array_size(ids) >= 1 && json_array_size(ids) <= 50;
	json_array_foreach(ids, i, v)
		ok = ok && json_is_string(v);
	if (!ok)
		reply_error(out, 400, "bad_request", "%s must be a list of 1 to 50 ids", key);
	return ok ? ids : NULL;
}
