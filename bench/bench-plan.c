/*
 * bench-plan FILE ITERATIONS: in-process time of load + parse + defaults +
 * validate + parameters + JSON plan (into memory), the process start-up
 * left out.  Prints the mean and best milliseconds per iteration.
 */
#include "base/compat.h"
#include "swdl/workflow.h"

#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int plan_once(const char *path)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct plan_param p = { "feature_name", "bench" };
	int r = swdl_load_file(path, NULL, &l, &dl);
	json_t *params = r ? NULL : swdl_plan_parameters(&l->wf, &p, 1, true, &dl);
	if (params) {
		struct strbuf sb = STRBUF_INIT;
		struct jsonw w;
		jw_init(&w, &sb, true);
		swdl_plan_write_json(&w, &l->wf, &l->dag, params, &l->po, NULL, NULL, &dl);
		jw_release(&w);
		strbuf_release(&sb);
	}
	json_decref(params);
	swdl_loaded_free(l);
	r = dl.errors ? 1 : 0;
	diag_list_release(&dl);
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench-plan FILE ITERATIONS\n");
		return 2;
	}
	int n = atoi(argv[2]);
	double total = 0, best = 1e18;
	if (plan_once(argv[1])) {
		fprintf(stderr, "bench-plan: %s does not plan\n", argv[1]);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_ms();
		plan_once(argv[1]);
		double t = now_ms() - t0;
		total += t;
		if (t < best)
			best = t;
	}
	printf("%.3f %.3f\n", total / n, best);
	return 0;
}
