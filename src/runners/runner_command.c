/*
 * runner_command.c - command stages: a script run by /bin/sh -e -c (or by
 * `shell: PROGRAM ARGS...` as PROGRAM ARGS... -c SCRIPT).  Its outputs are
 * what it wrote to $SKILLMEAT_OUTPUT: a JSON object, or lines of
 * key=value, or GitHub's multi-line form (key<<DELIM ... DELIM).
 */
#include "../base/compat.h"
#include "runner_proto.h"

/* Output files are read up to this size. */
#define MAX_OUTPUT_FILE (16u << 20)

static void command_args(struct strv *argv, const struct stage_request *rq)
{
	const struct swdl_stage *s = rq->stage;
	if (!s->shell) {
		strv_push(argv, "/bin/sh");
		strv_push(argv, "-e");
	} else {
		/* Words of shell:, split on blanks (no quoting: it names a program). */
		for (const char *p = s->shell; *p;) {
			p += strspn(p, " \t");
			size_t n = strcspn(p, " \t");
			if (!n)
				break;
			char *w = xstrndup(p, n);
			strv_push(argv, w);
			free(w);
			p += n;
		}
	}
	strv_push(argv, "-c");
	strv_push(argv, s->run ? s->run : "");
}

static void command_line(struct runner_job *job, const char *line, size_t len,
			 runner_emit_fn emit, void *ctx)
{
	UNUSED(job), UNUSED(line), UNUSED(len), UNUSED(emit), UNUSED(ctx);
}

/* key=value and key<<DELIM lines into an object; SM_ERR with *err on a bad line. */
static int parse_kv(const char *text, json_t *out, char **err)
{
	int lineno = 0;
	while (*text) {
		size_t n = strcspn(text, "\n");
		lineno++;
		char *line = xstrndup(text, n);
		text += n + (text[n] == '\n');
		char *eq = strchr(line, '='), *heredoc = strstr(line, "<<");
		if (!*line) {
			free(line);
			continue;
		}
		if (heredoc && (!eq || heredoc < eq)) {
			*heredoc = '\0';
			const char *delim = heredoc + 2;
			struct strbuf val = STRBUF_INIT;
			bool closed = false;
			while (*text) {
				size_t m = strcspn(text, "\n");
				lineno++;
				bool end = m == strlen(delim) && !strncmp(text, delim, m);
				if (!end) {
					if (val.len)
						strbuf_addch(&val, '\n');
					strbuf_add(&val, text, m);
				}
				text += m + (text[m] == '\n');
				if (end) {
					closed = true;
					break;
				}
			}
			if (closed)
				json_object_set_new(out, line, json_stringn(val.buf, val.len));
			strbuf_release(&val);
			if (!closed) {
				*err = xasprintf("line %d: '%s<<%s' is never closed", lineno,
						 line, delim);
				free(line);
				return SM_ERR;
			}
		} else if (eq && eq != line) {
			*eq = '\0';
			json_object_set_new(out, line, json_string(eq + 1));
		} else {
			*err = xasprintf("line %d: expected key=value, got '%.60s'", lineno, line);
			free(line);
			return SM_ERR;
		}
		free(line);
	}
	return SM_OK;
}

static json_t *read_outputs(const char *path, char **err)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *out = NULL;
	int r = strbuf_read_file(&sb, path, MAX_OUTPUT_FILE);
	if (r) {
		*err = xasprintf("cannot read $SKILLMEAT_OUTPUT (%s): %s", path,
				 r == SM_ELIMIT ? "larger than 16 MiB" : strerror(errno));
		goto out;
	}
	const char *p = sb.buf + strspn(sb.buf, " \t\r\n");
	if (*p == '{') {
		json_error_t je;
		out = json_loads(p, JSON_REJECT_DUPLICATES, &je);
		if (!out || !json_is_object(out)) {
			*err = xasprintf("$SKILLMEAT_OUTPUT: invalid JSON at line %d, column %d: %s",
					 je.line, je.column, je.text);
			json_decref(out);
			out = NULL;
		}
		goto out;
	}
	out = json_object();
	char *kv_err = NULL;
	if (parse_kv(sb.buf, out, &kv_err)) {
		*err = xasprintf("$SKILLMEAT_OUTPUT: %s", kv_err);
		free(kv_err);
		json_decref(out);
		out = NULL;
	}
out:
	strbuf_release(&sb);
	return out;
}

static void command_finish(struct runner_job *job, int exit_code, struct runner_result *res)
{
	if (exit_code) {
		res->error_class = runner_exit_class(exit_code);
		res->error = exit_code > 128 && exit_code < 160
			? xasprintf("the command was killed by signal %d", exit_code - 128)
			: xasprintf("the command exited with status %d", exit_code);
		return;
	}
	char *err = NULL;
	res->outputs = read_outputs(job->output_file, &err);
	if (!res->outputs) {
		res->error_class = "output_invalid";
		res->error = err;
		return;
	}
	res->ok = true;
}

const struct proto_ops proto_command = { NULL, command_args, command_line,
					 command_finish };
