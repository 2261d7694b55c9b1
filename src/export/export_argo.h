/*
 * Room export/ (docs/ARCHITECTURE.md): runs elsewhere: the Argo compiler
 * (this header), run bundles and `stage exec` (stage_exec.h), the pod's
 * entry point, which hosts one stage with the engine.  Above engine/; only
 * cli/ uses it.  This header is its door.
 *
 * export_argo.h - a workflow as an Argo Workflows `Workflow` (or
 * `WorkflowTemplate`) and the ConfigMap that holds its run bundle
 * (docs/argo.md has the mapping, and where it differs).
 *
 * Every stage is a DAG task whose container runs `skillmeat stage exec`
 * on the bundle, so a stage runs with the same semantics as locally; Argo
 * orders the tasks, retries them (retryStrategy), bounds them
 * (activeDeadlineSeconds, parallelism) and suspends at gates.  A fan-out
 * is three tasks: its list, its items (withParam, a pod each) and the
 * stage's own task, which gathers their results.
 */
#ifndef SM_EXPORT_ARGO_H
#define SM_EXPORT_ARGO_H

#include "../swdl/workflow.h"

#include <jansson.h>

/* A ConfigMap holds at most 1 MiB; the bundle must fit with room to spare. */
#define ARGO_BUNDLE_MAX (1000 * 1024)
/* Client-side `kubectl apply` copies an object into an annotation; all of an object's
 * annotations hold at most 256 KiB (Kubernetes' TotalAnnotationSizeLimitB). */
#define ARGO_CLIENT_APPLY_MAX (256 * 1024)
/* Seconds a task's pod gets past the stage's timeout to report it. */
#define ARGO_DEADLINE_GRACE 60
/* stage exec's exit status for a failure another attempt cannot fix. */
#define ARGO_EXIT_PERMANENT 3

struct argo_opts {
	const char *image;          /* the container image with skillmeat (NULL: default) */
	bool workflow_template;     /* kind WorkflowTemplate instead of Workflow */
	const char *const *secrets; /* Secrets whose keys become the tasks' environment */
	size_t nr_secrets;
	long parallelism;           /* tasks at once (the run's -j) */
	bool image_runners;         /* runners not built in are defined in the image */
};

#define ARGO_DEFAULT_IMAGE "skillmeat-workflow:" SM_VERSION

/*
 * The two documents (new references): *workflow and *configmap.  SM_ERR
 * with *err: the bundle too large for a ConfigMap, a backoff multiplier Argo
 * cannot take, a runner a pod would not have (docs/argo.md).
 */
int export_argo(const struct swdl_loaded *l, const json_t *bundle, const struct argo_opts *o,
		json_t **workflow, json_t **configmap, char **err);

#endif
