/*
 * plan_context.c - packs and estimates of a workflow's stages (see
 * plan_context.h), and how plans show them.
 */
#include "../base/compat.h"
#include "plan_context.h"
#include "config.h"
#include "../base/fsutil.h"
#include "../context/tokens.h"

/* Tokens of the agent's text (its file, or SKILL.md of a skill folder). */
static int64_t agent_tokens(const struct ref_table *refs, const char *ref)
{
	const char *path = refs && ref ? ref_table_lookup((void *)refs, ref) : NULL;
	if (!path)
		return 0;
	char *file = fs_is_dir(path) ? path_join(path, "SKILL.md") : xstrdup(path);
	struct strbuf sb = STRBUF_INIT;
	int64_t t = strbuf_read_file(&sb, file, MODULE_MAX_BYTES) ? 0
		    : tokens_estimate(sb.buf, sb.len);
	strbuf_release(&sb);
	free(file);
	return t;
}

static int load_prices(const char *home, struct price_table *t, char **err)
{
	char *path = path_join(home, "config.toml");
	struct engine_config cfg;
	int r = engine_config_load(&cfg, path, err);
	*t = cfg.prices;
	memset(&cfg.prices, 0, sizeof(cfg.prices));
	engine_config_release(&cfg);
	free(path);
	return r;
}

/* memory.db when there is one (plans and previews never create it). */
static int open_memory_if_any(const char *home, struct memory_db **m, char **err)
{
	char *path = memory_default_path(home);
	int r = fs_is_file(path) ? memory_open(path, m, err) : SM_OK;
	free(path);
	return r;
}

int plan_context_init(struct plan_context *pc, const char *home, const struct swdl_loaded *l,
		      const struct collection *c, const struct ref_table *refs,
		      const char *project_dir, struct diag_list *dl, char **err)
{
	const struct swdl_workflow *wf = &l->wf;
	memset(pc, 0, sizeof(*pc));
	pc->l = l;
	*err = NULL;
	if (!(pc->project = realpath(project_dir ? project_dir : ".", NULL))) {
		*err = xasprintf("project %s: %s", project_dir ? project_dir : ".", strerror(errno));
		return SM_ERR;
	}
	if (load_prices(home, &pc->prices, err) || open_memory_if_any(home, &pc->mem, err))
		return SM_ERR;
	context_env_init(&pc->env, c, pc->mem, pc->project, dl);
	pc->st = xcalloc(wf->nr_stages + 1, sizeof(*pc->st));
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		struct stage_context *sc = &pc->st[i];
		sc->has_pack = context_stage_has_pack(wf, s);
		if (sc->has_pack && context_stage_pack(&pc->env, wf, s, &sc->pack)) {
			*err = xasprintf("cannot read the memory of %s", pc->project);
			return SM_ERR;
		}
		estimate_stage(s, agent_tokens(refs, s->artifact), sc->pack.tokens, &pc->prices,
			       &sc->est);
		int64_t runs = swdl_plan_runs(s); /* a fan-out's agent runs once per item */
		sc->est.input_tokens *= runs;
		sc->est.output_tokens *= runs;
		sc->est.usd *= (double)runs;
	}
	return SM_OK;
}

void plan_context_release(struct plan_context *pc)
{
	for (size_t i = 0; pc->st && i < pc->l->wf.nr_stages; i++)
		pack_result_release(&pc->st[i].pack);
	free(pc->st);
	context_env_release(&pc->env);
	memory_close(pc->mem);
	price_table_release(&pc->prices);
	free(pc->project);
	memset(pc, 0, sizeof(*pc));
}

json_t *plan_context_packs(const struct plan_context *pc)
{
	json_t *packs = json_object();
	for (size_t i = 0; i < pc->l->wf.nr_stages; i++)
		if (pc->st[i].has_pack)
			json_object_set_new(packs, pc->l->wf.stages[i].id, json_pack("{s:s, s:O}",
					    "text", pc->st[i].pack.text, "manifest",
					    pc->st[i].pack.manifest));
	return packs;
}

/* ---- in plans ----------------------------------------------------------------- */

static const struct stage_context *stage_ctx(const struct plan_context *pc,
					     const struct swdl_stage *s)
{
	return &pc->st[s->index];
}

static void estimate_json(struct jsonw *w, const struct stage_estimate *e, const char *model)
{
	jw_object(w);
	jw_kint(w, "input_tokens", e->input_tokens);
	jw_kint(w, "output_tokens", e->output_tokens);
	jw_kstring(w, "model", model);
	jw_kstring(w, "price", e->price ? e->price->model : NULL);
	jw_key(w, "usd");
	if (e->price)
		jw_real(w, e->usd);
	else
		jw_null(w);
	jw_end(w);
}

static void stage_json(void *data, struct jsonw *w, const struct swdl_stage *s)
{
	const struct stage_context *sc = stage_ctx(data, s);
	jw_object(w);
	jw_key(w, "pack");
	if (sc->has_pack)
		jw_value(w, sc->pack.manifest);
	else
		jw_null(w);
	jw_key(w, "estimate");
	if (sc->est.agent)
		estimate_json(w, &sc->est, s->model);
	else
		jw_null(w);
	jw_end(w);
}

static void pack_text(struct strbuf *out, const struct pack_result *p)
{
	size_t i;
	json_t *m;
	const char *sep = "";
	strbuf_addstr(out, "      Context pack: ");
	json_array_foreach(json_object_get(p->manifest, "modules"), i, m) {
		const char *why = json_string_value(json_object_get(m, "reason"));
		strbuf_addf(out, "%s%s%s%s%s", sep, json_string_value(json_object_get(m, "ref")),
			    why ? " (" : "", why ? why : "", why ? ")" : "");
		sep = ", ";
	}
	strbuf_addf(out, "%s%zu memory item%s; %lld of %lld tokens\n", *sep ? "; " : "",
		    p->nr_items, p->nr_items == 1 ? "" : "s", (long long)p->tokens,
		    (long long)p->budget);
	/* An item that can never fit is worth a word: shorten it or raise the budget. */
	json_int_t big = json_integer_value(json_object_get(json_object_get(p->manifest,
								"counts"), "larger_than_budget"));
	if (!big)
		return;
	strbuf_addf(out, "      Warning: %lld memory item%s larger than the whole budget (",
		    (long long)big, big == 1 ? " is" : "s are");
	sep = "";
	json_array_foreach(json_object_get(p->manifest, "excluded"), i, m)
		if (!strcmp(json_string_value(json_object_get(m, "reason")), "larger_than_budget")) {
			strbuf_addf(out, "%s%.12s, %lld tokens", sep,
				    json_string_value(json_object_get(m, "id")),
				    (long long)json_integer_value(json_object_get(m, "tokens")));
			sep = "; ";
		}
	strbuf_addstr(out, "): raise memory.max_tokens or shorten them\n");
}

static void stage_text(void *data, struct strbuf *out, const struct swdl_stage *s)
{
	const struct stage_context *sc = stage_ctx(data, s);
	if (sc->has_pack)
		pack_text(out, &sc->pack);
	if (!sc->est.agent)
		return;
	strbuf_addf(out, "      Estimate: ~%lld input + %lld output tokens", (long long)sc->est.input_tokens,
		    (long long)sc->est.output_tokens);
	if (sc->est.price)
		strbuf_addf(out, " at %s prices: ~$%.4f\n", sc->est.price->model, sc->est.usd);
	else
		strbuf_addf(out, " (no price for model %s)\n", s->model ? s->model : "(default)");
}

struct totals {
	int64_t in, out;
	double usd;
	size_t unpriced;
};

static void add_totals(struct totals *t, const struct stage_estimate *e)
{
	t->in += e->input_tokens;
	t->out += e->output_tokens;
	t->usd += e->usd;
	t->unpriced += e->agent && !e->price;
}

static void totals_json(struct jsonw *w, const struct totals *t)
{
	jw_kint(w, "input_tokens", t->in);
	jw_kint(w, "output_tokens", t->out);
	jw_key(w, "usd");
	jw_real(w, t->usd);
	jw_kint(w, "unpriced_stages", (int64_t)t->unpriced);
}

static void tail_json(void *data, struct jsonw *w)
{
	const struct plan_context *pc = data;
	const struct swdl_dag *dag = &pc->l->dag;
	struct totals all = { 0 };
	jw_object(w);
	jw_kstring(w, "kind", "estimate");
	jw_kstring(w, "currency", "USD");
	jw_kint(w, "output_allowance_tokens", ESTIMATE_OUTPUT_TOKENS);
	jw_key(w, "batches");
	jw_array(w);
	for (size_t b = 0; b < dag->nr_batches; b++) {
		struct totals t = { 0 };
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++)
			add_totals(&t, &pc->st[dag->batch_items[k]].est);
		all.in += t.in, all.out += t.out, all.usd += t.usd, all.unpriced += t.unpriced;
		jw_object(w);
		jw_kint(w, "index", (int64_t)b);
		totals_json(w, &t);
		jw_end(w);
	}
	jw_end(w);
	jw_key(w, "total");
	jw_object(w);
	totals_json(w, &all);
	jw_end(w);
	jw_end(w);
}

static void tail_text(void *data, struct strbuf *out)
{
	const struct plan_context *pc = data;
	const struct swdl_dag *dag = &pc->l->dag;
	struct totals all = { 0 };
	struct strbuf per = STRBUF_INIT;
	for (size_t b = 0; b < dag->nr_batches; b++) {
		struct totals t = { 0 };
		for (size_t k = dag->batch_off[b]; k < dag->batch_off[b + 1]; k++)
			add_totals(&t, &pc->st[dag->batch_items[k]].est);
		all.in += t.in, all.out += t.out, all.usd += t.usd, all.unpriced += t.unpriced;
		strbuf_addf(&per, "%sbatch %zu ~$%.4f", b ? ", " : "", b + 1, t.usd);
	}
	if (!all.in) {
		strbuf_release(&per);
		return;
	}
	strbuf_addf(out, "Estimated cost: ~$%.4f for ~%lld input + %lld output tokens (%s)\n",
		    all.usd, (long long)all.in, (long long)all.out, per.buf);
	strbuf_addf(out, "  An estimate: about 4 characters a token, an output allowance of %d "
		    "tokens an agent stage, one attempt each", ESTIMATE_OUTPUT_TOKENS);
	if (all.unpriced)
		strbuf_addf(out, "; %zu stage%s without a price (set [prices.\"MODEL\"] in "
			    "config.toml)", all.unpriced, all.unpriced == 1 ? "" : "s");
	strbuf_addstr(out, ".\n");
	strbuf_release(&per);
}

struct plan_extra plan_context_extra(struct plan_context *pc)
{
	return (struct plan_extra){ stage_json, stage_text, tail_json, tail_text, pc };
}
