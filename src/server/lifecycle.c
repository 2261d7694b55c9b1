/*
 * lifecycle.c - the server's life after server_start (http.c): the file
 * that says where it is (web.json), the runs it hosts (a thread each, and
 * those a killed server of this home left), and stopping.  It calls the
 * engine and the store, never a route or the HTTP side, which both call it.
 */
#include "server_int.h"
#include "../base/fsutil.h"
#include "../engine/config.h"
#include "../engine/host.h"

#include <microhttpd.h>
#include <sys/stat.h>
#include <unistd.h>

/* web.json: where the server is and its token, for the CLI and tests (0600). */
int server_write_info(struct server *s, char **err)
{
	json_t *j = json_pack("{s:s, s:i, s:s, s:I}", "url", s->url, "port", s->port, "token",
			      s->token, "pid", (json_int_t)getpid());
	char *text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	s->info_path = path_join(s->home, "web.json");
	mode_t old = umask(077);
	int r = fs_write_atomic(s->info_path, text, strlen(text));
	umask(old);
	if (r)
		*err = xasprintf("cannot write %s: %s", s->info_path, strerror(errno));
	free(text);
	return r ? SM_ERR : SM_OK;
}

struct hosted_run {
	pthread_t thread;
	struct server *srv;
	char run_id[24];
	volatile sig_atomic_t interrupted; /* never set: a server stop leaves runs to resume */
	struct hosted_run *next;
};

static void *host_thread(void *arg)
{
	struct hosted_run *h = arg;
	struct engine_config cfg;
	struct store *st = NULL;
	char *err = NULL, *path = store_default_path(h->srv->home), status[16];
	char *config = path_join(h->srv->home, "config.toml");
	if (!engine_config_load(&cfg, config, &err) && !store_open(path, &st, &err)) {
		struct host_opts ho = { h->srv->home, &cfg, NULL, NULL, &h->interrupted, 0, 0, "web",
					NULL, NULL };
		host_run(st, h->run_id, &ho, status, &err);
	}
	/* Whatever happened is in the run's events; a failed start leaves it resumable. */
	engine_config_release(&cfg);
	store_close(st);
	free(config);
	free(path);
	free(err);
	return NULL;
}

int server_host_run(struct server *s, const char *run_id, char **err)
{
	struct hosted_run *h = xcalloc(1, sizeof(*h));
	h->srv = s;
	snprintf(h->run_id, sizeof(h->run_id), "%s", run_id);
	int e = pthread_create(&h->thread, NULL, host_thread, h);
	if (e) {
		*err = xasprintf("cannot start a host thread: %s", strerror(e));
		free(h);
		return SM_ERR;
	}
	pthread_mutex_lock(&s->lock);
	h->next = s->runs;
	s->runs = h;
	pthread_mutex_unlock(&s->lock);
	return SM_OK;
}

/* Runs this kind of server hosted whose host is gone (it was killed): host them again. */
void server_adopt_runs(struct server *s)
{
	char *path = store_default_path(s->home), *err = NULL, **ids = NULL;
	struct store *st = NULL;
	size_t nr = 0;
	if (!store_open(path, &st, &err) && !store_runs_orphaned(st, "web", &ids, &nr)) {
		for (size_t i = 0; i < nr; i++) {
			char *e = NULL;
			server_host_run(s, ids[i], &e); /* a failure leaves it to `workflow resume` */
			free(e);
		}
	}
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
	store_close(st);
	free(path);
	free(err);
}

/*
 * Remove web.json only while it is still ours: a server started since (this
 * one may wait minutes for its runs) has written its own, which must stay.
 */
static void remove_info(struct server *s)
{
	struct strbuf sb = STRBUF_INIT;
	if (!s->info_path || strbuf_read_file(&sb, s->info_path, 1 << 16))
		goto out;
	json_t *j = json_loads(sb.buf, 0, NULL);
	const char *token = json_string_value(json_object_get(j, "token"));
	if (json_integer_value(json_object_get(j, "pid")) == (json_int_t)getpid() && token &&
	    !strcmp(token, s->token))
		unlink(s->info_path);
	json_decref(j);
out:
	strbuf_release(&sb);
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	s->stopping = 1;
	remove_info(s); /* now: a new server may start while our runs finish */
	if (s->d)
		MHD_stop_daemon(s->d);
	/* Hosts finish their runs (a run never hangs: timeouts bound every stage). */
	for (struct hosted_run *h = s->runs, *next; h; h = next) {
		next = h->next;
		pthread_join(h->thread, NULL);
		free(h);
	}
	pthread_mutex_destroy(&s->lock);
	conns_release(&s->conns);
	free(s->info_path);
	free(s->url);
	free(s->home);
	free(s);
}
