/*
 * host_create.c - creating a run: the snapshot (merged workflow and the
 * artifacts its agents and context modules need) and the manifest
 * (hashes, engine and runner versions, models, parameters).
 */
#include "../base/compat.h"
#include "host.h"
#include "../supervise/supervise.h"
#include "artifact_capture.h"
#include "../base/fsutil.h"

#include <sodium.h>

static json_t *artifacts_json(const struct run_create *rc, char **err)
{
	json_t *a = json_object();
	for (size_t i = 0; i < rc->nr_artifacts; i++) {
		const struct artifact_text *t = &rc->artifacts[i];
		json_t *entry = artifact_capture(t->ref, t->path, err);
		if (!entry) {
			json_decref(a);
			return NULL;
		}
		json_object_set_new(a, t->ref, entry);
	}
	return a;
}

/* The runners the stages use: name -> protocol, program and version. */
static json_t *runners_json(const struct run_create *rc)
{
	json_t *out = json_object();
	const struct swdl_workflow *wf = &rc->loaded->wf;
	for (size_t i = 0; i < wf->nr_stages; i++) {
		const struct swdl_stage *s = &wf->stages[i];
		if (s->type == STAGE_GATE)
			continue;
		const char *name = swdl_stage_is_command(s) ? "command"
				   : s->runner ? s->runner : rc->runner ? rc->runner : "claude";
		if (json_object_get(out, name))
			continue;
		const struct runner_def *d = rc->config
			? runner_set_find(&rc->config->runners, name) : NULL;
		if (!d) {
			json_object_set_new(out, name, json_pack("{s:s}", "error", "not configured"));
			continue;
		}
		const char *prog = runner_program(d);
		json_t *r = json_pack("{s:s, s:s?}", "protocol", runner_protocol_name(d->proto),
				      "program", prog);
		if (prog && d->proto != PROTO_COMMAND)
			json_object_update_new(r, runner_program_version(prog));
		json_object_set_new(out, name, r);
	}
	return out;
}

static json_t *models_json(const struct swdl_workflow *wf)
{
	json_t *m = json_object();
	for (size_t i = 0; i < wf->nr_stages; i++)
		if (wf->stages[i].model)
			json_object_set_new(m, wf->stages[i].id, json_string(wf->stages[i].model));
	return m;
}

static char *manifest_json(const struct run_create *rc, const char *hash)
{
	json_t *m = json_pack("{s:s, s:s, s:s, s:s?, s:O, s:s?, s:I, s:o, s:o, s:o}", "engine",
			      "skillmeat", "engine_version", SM_VERSION, "workflow_hash", hash,
			      "workflow_source", rc->source, "parameters", rc->params,
			      "runner", rc->runner, "max_parallel", (json_int_t)rc->max_parallel,
			      "runners", runners_json(rc), "models", models_json(&rc->loaded->wf),
			      "bindings", swdl_roles_json(&rc->loaded->wf));
	char *s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(m);
	return s;
}

json_t *host_snapshot_json(const struct run_create *rc, char **err)
{
	const struct swdl_workflow *wf = &rc->loaded->wf;
	*err = NULL;
	json_t *arts = artifacts_json(rc, err);
	if (!arts)
		return NULL;
	/* The bindings travel with the snapshot: every host binds the roles the same way. */
	return json_pack("{s:o, s:o, s:O*, s:o}", "workflow", node_to_json(wf->root),
			 "artifacts", arts, "packs", rc->packs, "bindings", swdl_roles_json(wf));
}

void host_snapshot_hash(const char *snapshot, char hash[HOST_HASH_HEX])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, (const unsigned char *)snapshot, strlen(snapshot));
	sodium_bin2hex(hash, HOST_HASH_HEX, digest, sizeof(digest));
}

int host_store_run(struct store *st, const struct swdl_workflow *wf, struct run_new *rn,
		   char out[24], char **err)
{
	const char **ids = xcalloc(wf->nr_stages + 1, sizeof(*ids));
	for (size_t i = 0; i < wf->nr_stages; i++)
		ids[i] = wf->stages[i].id;
	store_new_run_id(out);
	rn->id = out;
	int r = store_create_run(st, rn, ids, wf->nr_stages);
	if (r)
		*err = xasprintf("cannot record the run: %s", store_error(st));
	free(ids);
	return r ? SM_ERR : SM_OK;
}

int host_create_run(struct store *st, const struct run_create *rc, char out[24], char **err)
{
	const struct swdl_workflow *wf = &rc->loaded->wf;
	json_t *snap = host_snapshot_json(rc, err);
	if (!snap)
		return SM_ERR;
	char *snapshot = json_dumps(snap, JSON_COMPACT);
	char *params = json_dumps(rc->params, JSON_COMPACT);
	char hash[HOST_HASH_HEX];
	host_snapshot_hash(snapshot, hash);
	char *manifest = manifest_json(rc, hash);
	struct run_new rn = { NULL, wf->id, wf->name, wf->version, hash, rc->source, snapshot,
		params, manifest, rc->workdir, rc->runner, rc->max_parallel, rc->rerun_of,
		rc->reuse };
	int r = host_store_run(st, wf, &rn, out, err);
	free(manifest);
	free(params);
	free(snapshot);
	json_decref(snap);
	return r;
}
