#include "../base/compat.h"
#include "handoff.h"
#include "../supervise/supervise.h"
#include "../runners/runner.h"
#include "../base/fsutil.h"

#include <sys/stat.h>

/* git answers within this, or the files changed are not known. */
#define GIT_TIMEOUT_S 20
/* The most of `git status` we read (a tree this dirty is listed partially). */
#define GIT_STATUS_MAX (4u << 20)

void handoff_git_root(const char *dir, char **root)
{
	const char *argv[] = { "git", "-C", dir, "rev-parse", "--show-toplevel", NULL };
	struct proc_spec ps = { argv, NULL, NULL, NULL, 0, 8192, NULL, NULL };
	struct proc p;
	char *err = NULL;
	*root = NULL;
	int r = proc_run(&ps, GIT_TIMEOUT_S, &p, &err);
	free(err);
	if (r == SM_ERR)
		return;
	if (r == SM_OK && !p.exit_code && p.out.len > 1 && p.out.buf[0] == '/')
		*root = xstrndup(p.out.buf, strcspn(p.out.buf, "\n"));
	proc_release(&p);
}

static void add_entry(struct strbuf *out, const char *root, const char *xy, const char *path)
{
	if (strchr(path, '\n') || strchr(path, '\t'))
		return;
	char *full = path_join(root, path);
	struct stat st;
	long long mtime = 0, size = -1;
	if (!lstat(full, &st)) {
		mtime = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		size = (long long)st.st_size;
	}
	strbuf_addf(out, "%.2s\t%lld\t%lld\t%s\n", xy, mtime, size, path);
	free(full);
}

char *handoff_git_exclude(const char *root, const char *home)
{
	char *r = root ? realpath(root, NULL) : NULL, *hm = home ? realpath(home, NULL) : NULL;
	char *spec = NULL;
	size_t n = r ? strlen(r) : 0;
	/* Inside the tree, not the tree itself (excluding all would hide every change). */
	if (r && hm && !strncmp(hm, r, n) && hm[n] == '/' && hm[n + 1])
		spec = xasprintf(":(exclude,top,literal)%s", hm + n + 1);
	free(r);
	free(hm);
	return spec;
}

/*
 * One look at the tree.  git's own speed-ups: no rename detection (a
 * rename is a deletion and an untracked file here), the index's untracked
 * cache when it has one (`git update-index --untracked-cache`) and
 * core.fsmonitor when the repository configures it (git reads its own
 * config), and the home excluded by pathspec so its logs and database are
 * never walked.  --no-optional-locks: never take index.lock, which would
 * make a stage's own `git commit` fail.
 */
int handoff_git_state(const char *root, const char *exclude, struct strbuf *out, char **err)
{
	const char *argv[] = { "git", "-C", root, "--no-optional-locks", "status",
		"--porcelain=v1", "-z", "--no-renames", "--untracked-files=all",
		"--ignore-submodules=all", "--", exclude, NULL };
	if (!exclude)
		argv[10] = NULL;
	struct proc_spec ps = { argv, NULL, NULL, NULL, 0, GIT_STATUS_MAX, NULL, NULL };
	struct proc p;
	int r = proc_run(&ps, GIT_TIMEOUT_S, &p, err);
	if (r == SM_ERR)
		return SM_ERR;
	if (r != SM_OK || p.exit_code) {
		*err = xasprintf("git status %s", r != SM_OK ? "did not finish" : "failed");
		proc_release(&p);
		return SM_ERR;
	}
	/* Entries are "XY path\0" (no renames, so no second path). */
	const char *c = p.out.buf, *end = p.out.buf + p.out.len;
	while (c < end && end - c > 3) {
		const char *path = c + 3;
		size_t n = strnlen(path, (size_t)(end - path));
		if (path + n >= end)
			break;
		add_entry(out, root, c, path);
		c = path + n + 1;
	}
	proc_release(&p);
	return SM_OK;
}

/* The path of a state line "XY\tmtime\tsize\tpath", or NULL. */
static const char *line_path(const char *l)
{
	const char *p = l;
	for (int tabs = 0; tabs < 3 && p; tabs++)
		p = strchr(p, '\t'), p = p ? p + 1 : NULL;
	return p;
}

/* The line of `state` for path, or NULL. */
static const char *find_path(const char *state, const char *path, size_t plen)
{
	for (const char *l = state; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = line_path(l);
		if (p && !strncmp(p, path, plen) && (p[plen] == '\n' || !p[plen]))
			return l;
	}
	return NULL;
}

static size_t line_len(const char *l)
{
	return strcspn(l, "\n");
}

/* Every path of `a` whose line is not in `b` the same; `status` from `a` or "deleted". */
static void diff_into(json_t *out, const char *a, const char *b, bool a_is_after)
{
	for (const char *l = a; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		const char *p = line_path(l);
		if (!p)
			continue;
		size_t plen = line_len(p);
		const char *other = find_path(b, p, plen);
		if (other && line_len(other) == line_len(l) && !strncmp(other, l, line_len(l)))
			continue;
		if (!a_is_after && other)
			continue; /* changed: reported from the after side */
		char xy[3] = { l[0], l[1], 0 };
		json_array_append_new(out, json_pack("{s:s%, s:s}", "path", p, plen, "status",
			a_is_after ? (xy[0] == '?' ? "untracked" : xy[0] == 'D' || xy[1] == 'D'
				      ? "deleted" : xy[0] == 'A' ? "added" : "modified")
				   : "reverted"));
	}
}

json_t *handoff_files_changed(const char *before, const char *after)
{
	json_t *out = json_array();
	diff_into(out, after, before, true);
	diff_into(out, before, after, false);
	return out;
}

char *handoff_prose(const char *text)
{
	if (!text)
		return NULL;
	const char *fence = runner_last_json_fence(text);
	size_t n = fence ? (size_t)(fence - text) : strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	return xstrndup(text, n);
}

static void render_markdown(struct strbuf *sb, const json_t *rec)
{
	const char *k;
	json_t *v;
	strbuf_addf(sb, "### Handoff from stage %s (%s): %s, attempt %lld\n",
		    json_string_value(json_object_get(rec, "stage_id")),
		    json_string_value(json_object_get(rec, "stage_name")),
		    json_string_value(json_object_get(rec, "status")),
		    (long long)json_integer_value(json_object_get(rec, "attempt")));
	const char *summary = json_string_value(json_object_get(rec, "summary"));
	if (summary && *summary)
		strbuf_addf(sb, "\n**Summary.** %s\n", summary);
	json_t *outs = json_object_get(rec, "outputs");
	if (json_object_size(outs)) {
		strbuf_addstr(sb, "\n**Outputs.**\n");
		json_object_foreach(outs, k, v) {
			char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			strbuf_addf(sb, "- `%s`: %s\n", k, json_is_string(v) ? json_string_value(v) : t);
			free(t);
		}
	}
	json_t *files = json_object_get(rec, "files_changed");
	size_t i;
	if (json_array_size(files)) {
		strbuf_addstr(sb, "\n**Files changed.**\n");
		json_array_foreach(files, i, v)
			strbuf_addf(sb, "- %s (%s)\n", json_string_value(json_object_get(v, "path")),
				    json_string_value(json_object_get(v, "status")));
	}
	const char *log = json_string_value(json_object_get(rec, "run_log"));
	if (log && *log)
		strbuf_addf(sb, "\n**Run log (last lines).**\n\n```\n%s\n```\n", log);
}

void handoff_render(struct strbuf *out, const json_t *rec, enum handoff_format fmt,
		    size_t max)
{
	struct strbuf sb = STRBUF_INIT;
	if (fmt == HANDOFF_MARKDOWN) {
		render_markdown(&sb, rec);
	} else if (fmt == HANDOFF_RAW) {
		const char *t = json_string_value(json_object_get(rec, "final_text"));
		strbuf_addf(&sb, "### Handoff from stage %s (raw)\n\n%s\n",
			    json_string_value(json_object_get(rec, "stage_id")), t ? t : "");
	} else {
		char *j = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		strbuf_addf(&sb, "### Handoff from stage %s\n\n```json\n%s\n```\n",
			    json_string_value(json_object_get(rec, "stage_id")), j);
		free(j);
	}
	if (sb.len > max) {
		size_t cut = max;
		while (cut && sb.buf[cut - 1] != '\n')
			cut--;
		sb.len = cut ? cut : max;
		sb.buf[sb.len] = '\0';
		strbuf_addf(&sb, "\n[handoff trimmed to fit the prompt: `skillmeat workflow runs "
			    "%s --stage %s` shows all of it]\n",
			    json_string_value(json_object_get(rec, "run_id")),
			    json_string_value(json_object_get(rec, "stage_id")));
	}
	strbuf_add(out, sb.buf, sb.len);
	strbuf_release(&sb);
}
