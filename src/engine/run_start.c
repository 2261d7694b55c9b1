#include "../base/compat.h"
#include "run_start.h"

#include <unistd.h>

int run_prepare(const struct run_request *rq, struct run_prepared *p, struct diag_list *dl,
		char **err)
{
	memset(p, 0, sizeof(*p));
	*err = NULL;
	struct swdl_load_opts lo = { !rq->no_overrides, rq->overrides_dir, NULL, true,
		rq->bindings, rq->nr_bindings };
	swdl_load_file(rq->path, &lo, &p->l, dl);
	if (!dl->errors)
		p->params = swdl_plan_parameters(&p->l->wf, rq->params, rq->nr_params,
						 rq->allow_extra, dl);
	if (p->params)
		swdl_plan_fan_out(&p->l->wf, p->params, dl);
	if (!dl->errors && !collection_open_optional(&p->c, dl) && p->c)
		collection_check_workflow(p->c, &p->l->wf, rq->allow_missing, &p->refs, dl);
	if (dl->errors)
		return SM_OK;
	p->source = realpath(rq->path, NULL);
	p->workdir = rq->workdir ? realpath(rq->workdir, NULL) : getcwd(NULL, 0);
	if (!p->workdir) {
		*err = xasprintf("workdir %s: %s", rq->workdir ? rq->workdir : ".", strerror(errno));
		return SM_ERR;
	}
	/* The packs are made now, from the memory of the project the run works in. */
	return plan_context_init(&p->pc, rq->home, p->l, p->c, p->c ? &p->refs : NULL,
				 p->workdir, dl, err);
}

void run_prepared_create_of(const struct run_request *rq, struct run_prepared *p,
			  const struct engine_config *cfg, struct run_create *cr)
{
	struct artifact_text *arts = xcalloc(p->refs.nr + 1, sizeof(*arts));
	size_t nr = 0;
	for (size_t i = 0; i < p->refs.nr; i++)
		if (p->refs.paths[i])
			arts[nr++] = (struct artifact_text){ p->refs.refs[i], p->refs.paths[i] };
	*cr = (struct run_create){ p->l, p->params, p->source ? p->source : rq->path, p->workdir, rq->runner,
		rq->max_parallel, arts, nr, cfg, plan_context_packs(&p->pc), rq->rerun_of,
		rq->reuse };
}

void run_create_release(struct run_create *cr)
{
	json_decref((json_t *)cr->packs);
	free((void *)cr->artifacts);
}

int run_prepared_create(const struct run_request *rq, struct run_prepared *p, struct store *st,
			const struct engine_config *cfg, char out[24], char **err)
{
	struct run_create cr;
	run_prepared_create_of(rq, p, cfg, &cr);
	int r = host_create_run(st, &cr, out, err);
	run_create_release(&cr);
	return r;
}

json_t *run_prepared_snapshot(const struct run_request *rq, struct run_prepared *p, char **err)
{
	struct run_create cr;
	run_prepared_create_of(rq, p, NULL, &cr);
	json_t *snap = host_snapshot_json(&cr, err);
	run_create_release(&cr);
	return snap;
}

void run_prepared_release(struct run_prepared *p)
{
	plan_context_release(&p->pc);
	json_decref(p->params);
	ref_table_release(&p->refs);
	collection_free(p->c);
	swdl_loaded_free(p->l);
	free(p->workdir);
	free(p->source);
	memset(p, 0, sizeof(*p));
}
