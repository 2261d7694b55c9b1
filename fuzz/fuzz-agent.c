/*
 * fuzz-agent: an agent CLI's output through its protocol's parser
 * (FUZZ_PROTOCOL: claude, codex or gemini), fed in uneven chunks as a pipe
 * delivers it, then judged and priced with a few exit statuses.  For
 * gemini, what follows a line "--stderr--" is its stderr.
 */
#include "base/compat.h"
#include "context/prices.h"
#include "engine/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void quiet(void *ctx, const char *kind, int stream, const char *text, size_t len)
{
	(void)ctx, (void)kind, (void)stream, (void)text, (void)len;
}

static void feed(struct runner_job *job, int stream, const char *p, size_t n)
{
	/* chunks of 1, 7, 4093 ... bytes: lines split anywhere */
	static const size_t sizes[] = { 1, 7, 4093, 64, 3 };
	for (size_t off = 0, k = 0; off < n; k++) {
		size_t c = sizes[k % ARRAY_SIZE(sizes)];
		c = c < n - off ? c : n - off;
		runner_feed(job, stream, p + off, c, quiet, NULL);
		off += c;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct engine_config cfg;
	static bool ready;
	static const int exits[] = { 0, 1, 143, 173 };
	if (!ready) {
		char *err = NULL;
		engine_config_load(&cfg, NULL, &err);
		ready = true;
	}
	if (size > (1u << 20))
		return 0;
	const struct runner_def *def = runner_set_find(&cfg.runners, FUZZ_PROTOCOL);
	const char *text = (const char *)data;
	const char *mark = memmem(text, size, "\n--stderr--\n", 12);
	size_t out_len = mark ? (size_t)(mark - text) : size;
	for (size_t i = 0; i < ARRAY_SIZE(exits); i++) {
		struct runner_job job;
		struct runner_result res;
		struct strbuf note = STRBUF_INIT;
		runner_job_attach(def, "/nonexistent", &job);
		feed(&job, 1, text, out_len);
		if (mark)
			feed(&job, 2, mark + 12, size - out_len - 12);
		runner_finish(&job, exits[i], quiet, NULL, &res);
		runner_cost(&job, &cfg.prices, "sonnet", &note);
		strbuf_release(&note);
		runner_result_release(&res);
		runner_job_release(&job);
	}
	return 0;
}
