/*
 * bench-toml FILE ITERATIONS: decode FILE with skillmeat's TOML decoder
 * ITERATIONS times in one process; print the best and mean MB/s.
 */
#include "base/compat.h"
#include "base/strbuf.h"
#include "formats/load.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench-toml FILE ITERATIONS\n");
		return 2;
	}
	struct strbuf sb = STRBUF_INIT;
	if (strbuf_read_file(&sb, argv[1], 64u << 20)) {
		perror(argv[1]);
		return 1;
	}
	struct load_limits lim = LOAD_LIMITS_DEFAULT;
	lim.max_bytes = 64u << 20;
	int n = atoi(argv[2]);
	double best = 1e9, total = 0;
	for (int i = 0; i < n; i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct doc *d = NULL;
		double t0 = now_s();
		int r = doc_load_buffer(argv[1], sb.buf, sb.len, DOC_TOML, &lim, &d, &dl);
		double t = now_s() - t0;
		doc_free(d);
		diag_list_release(&dl);
		if (r) {
			fprintf(stderr, "bench-toml: %s does not decode\n", argv[1]);
			return 1;
		}
		total += t;
		if (t < best)
			best = t;
	}
	double mb = sb.len / 1e6;
	printf("%.1f %.1f\n", mb / best, mb / (total / n));
	strbuf_release(&sb);
	return 0;
}
