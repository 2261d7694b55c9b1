/*
 * bench-pack WORKFLOW PROJECT ITERATIONS: in-process time to pack the first
 * stage of WORKFLOW from the active collection's modules and PROJECT's
 * memory ($SKILLMEAT_HOME/memory.db), the process start-up left out.
 * Prints two lines, median, mean and best milliseconds per iteration:
 *   cold: open the memory, read the modules and the items, pack
 *   pack: context_pack alone on items and modules already in memory
 */
#include "base/compat.h"
#include "collection/collection.h"
#include "context/stage.h"
#include "swdl/workflow.h"

#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cold(const struct swdl_loaded *l, const struct collection *c, const char *db,
		const char *project, struct diag_list *dl, struct pack_result *r)
{
	struct memory_db *m = NULL;
	struct context_env env;
	char *err = NULL;
	if (memory_open(db, &m, &err)) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	context_env_init(&env, c, m, project, dl);
	int rc = context_stage_pack(&env, &l->wf, &l->wf.stages[0], r);
	context_env_release(&env);
	memory_close(m);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int n)
{
	double total = 0;
	for (int i = 0; i < n; i++)
		total += t[i];
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("%s median %.3f mean %.3f best %.3f\n", what, t[n / 2], total / n, t[0]);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: bench-pack WORKFLOW PROJECT ITERATIONS\n");
		return 2;
	}
	struct diag_list dl = DIAG_LIST_INIT;
	struct swdl_loaded *l = NULL;
	struct collection *c = NULL;
	char *home = skillmeat_home(), *db = memory_default_path(home);
	int n = atoi(argv[3]);
	if (swdl_load_file(argv[1], NULL, &l, &dl) || collection_open(NULL, &c, &dl) || n < 1) {
		fprintf(stderr, "cannot load %s or the collection\n", argv[1]);
		return 1;
	}
	double *times = xcalloc((size_t)n, sizeof(*times));
	struct pack_result r = { 0 };
	for (int i = 0; i < n; i++) {
		pack_result_release(&r);
		double t = now_ms();
		if (cold(l, c, db, argv[2], &dl, &r))
			return 1;
		times[i] = now_ms() - t;
	}
	report("cold", times, n);
	/* Pack alone: the same request on an environment already loaded. */
	struct memory_db *m = NULL;
	struct context_env env;
	char *err = NULL;
	memory_open(db, &m, &err);
	context_env_init(&env, c, m, argv[2], &dl);
	pack_result_release(&r);
	context_stage_pack(&env, &l->wf, &l->wf.stages[0], &r); /* fills the caches */
	for (int i = 0; i < n; i++) {
		pack_result_release(&r);
		double t = now_ms();
		context_stage_pack(&env, &l->wf, &l->wf.stages[0], &r);
		times[i] = now_ms() - t;
	}
	report("pack", times, n);
	free(times);
	fprintf(stderr, "%lld of %lld tokens, %zu modules, %zu items\n", (long long)r.tokens,
		(long long)r.budget, r.nr_modules, r.nr_items);
	pack_result_release(&r);
	context_env_release(&env);
	memory_close(m);
	collection_free(c);
	swdl_loaded_free(l);
	diag_list_release(&dl);
	free(db);
	free(home);
	return 0;
}
