/* Unit tests: model defaults, DAG, types, overrides, parameters. */
#include "base/compat.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/strbuf.h"
#include "swdl/model_json.h"
#include "swdl/overrides.h"
#include "swdl/plan.h"
#include "swdl/types.h"
#include "swdl/validate.h"

#include <unistd.h>

struct fixture {
	struct doc *doc;
	struct arena arena;
	struct swdl_workflow wf;
	struct swdl_dag dag;
	struct diag_list dl;
};

static struct fixture *parse(const char *yaml)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	assert_int_equal(doc_load_buffer("t.yaml", yaml, strlen(yaml), DOC_YAML, NULL,
					 &f->doc, &f->dl), SM_OK);
	swdl_parse(f->doc->root, &f->arena, &f->wf, &f->dl);
	swdl_apply_defaults(&f->wf);
	swdl_validate(&f->wf, &f->dag, &f->dl);
	return f;
}

static void release(struct fixture *f)
{
	swdl_dag_release(&f->dag);
	swdl_workflow_release(&f->wf);
	arena_free(&f->arena);
	doc_free(f->doc);
	diag_list_release(&f->dl);
	free(f);
}

#define WF "workflow: {id: w, name: W}\n"
#define AGENT "roles: {primary: {artifact: 'agent:x'}}"

static void test_defaults(void **state)
{
	(void)state;
	struct fixture *f = parse(WF "stages:\n"
		"  - {id: a, name: A, " AGENT "}\n"
		"  - {id: g, name: G, type: gate, depends_on: [a]}\n"
		"  - {id: b, name: B, " AGENT ", error_policy: {on_failure: continue}}\n");
	assert_int_equal(f->dl.errors, 0);
	const struct swdl_stage *a = &f->wf.stages[0], *g = &f->wf.stages[1], *b = &f->wf.stages[2];
	assert_string_equal(a->error_policy->timeout.text, "30m");
	assert_int_equal(a->error_policy->retry->max_attempts, 2);
	assert_string_equal(a->error_policy->retry->initial_interval.text, "30s");
	assert_int_equal(a->handoff->format, HANDOFF_STRUCTURED);
	assert_null(a->gate);
	assert_string_equal(g->error_policy->timeout.text, "24h");
	assert_non_null(g->gate);
	assert_string_equal(g->gate->kind, "manual_approval");
	assert_string_equal(g->gate->timeout.text, "24h");
	assert_int_equal(b->error_policy->on_failure, ON_FAILURE_CONTINUE);
	assert_string_equal(b->error_policy->timeout.text, "30m");
	assert_string_equal(f->wf.timeout.text, "2h");
	assert_string_equal(f->wf.version, "1.0.0");
	/* idempotent: applying again changes nothing */
	json_t *before = swdl_workflow_to_json(&f->wf);
	swdl_apply_defaults(&f->wf);
	json_t *after = swdl_workflow_to_json(&f->wf);
	assert_true(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	release(f);
}

static void test_deep_chain_is_iterative(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, WF "stages:\n");
	for (int i = 0; i < 10000; i++) {
		strbuf_addf(&sb, "  - {id: s%d, name: S, " AGENT, i);
		if (i)
			strbuf_addf(&sb, ", depends_on: [s%d]", i - 1);
		strbuf_addstr(&sb, "}\n");
	}
	struct fixture *f = parse(sb.buf);
	assert_int_equal(f->dl.errors, 0);
	assert_int_equal(f->dag.nr_batches, 10000);
	assert_true(swdl_dag_depends_on(&f->dag, 9999, 0));
	assert_false(swdl_dag_depends_on(&f->dag, 0, 9999));
	release(f);
	strbuf_release(&sb);
}

static void test_types(void **state)
{
	(void)state;
	char *err;
	json_t *v = swdl_type_coerce("boolean", "Yes", &err);
	assert_true(json_is_true(v));
	json_decref(v);
	v = swdl_type_coerce("integer", "-12", &err);
	assert_int_equal(json_integer_value(v), -12);
	json_decref(v);
	assert_null(swdl_type_coerce("integer", "12abc", &err));
	free(err);
	assert_null(swdl_type_coerce("integer", "", &err));
	free(err);
	v = swdl_type_coerce("number", "2.5", &err);
	assert_true(json_real_value(v) == 2.5);
	json_decref(v);
	v = swdl_type_coerce("array<integer>", "[1, 2]", &err);
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
	assert_null(swdl_type_coerce("array<integer>", "[1, \"x\"]", &err));
	free(err);
	assert_null(swdl_type_coerce("object", "[1]", &err));
	free(err);
	v = swdl_type_coerce("string", "false", &err);
	assert_string_equal(json_string_value(v), "false");
	json_decref(v);
	assert_true(swdl_type_known("array<string>"));
	assert_false(swdl_type_known("array<str>"));
	assert_false(swdl_type_known("str"));
	assert_string_equal(swdl_type_suggest("bool"), "boolean");
	assert_true(swdl_types_compatible("number", "integer"));
	assert_false(swdl_types_compatible("integer", "number"));
}

static void test_parameters(void **state)
{
	(void)state;
	struct fixture *f = parse(WF "config:\n  parameters:\n"
		"    a: {type: string, required: true, default: dflt}\n"
		"    b: {type: boolean, default: false}\n"
		"    c: {type: integer}\n"
		"    d: {type: integer, required: true}\n"
		"stages: []\n");
	assert_int_equal(f->dl.errors, 0);
	struct plan_param given[] = { { "d", "4" }, { "d", "5" } };
	json_t *p = swdl_plan_parameters(&f->wf, given, 2, false, &f->dl);
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "a")), "dflt");
	assert_true(json_is_false(json_object_get(p, "b"))); /* false is a default */
	assert_null(json_object_get(p, "c"));                /* optional, no default */
	assert_int_equal(json_integer_value(json_object_get(p, "d")), 5); /* last wins */
	json_decref(p);
	assert_null(swdl_plan_parameters(&f->wf, NULL, 0, false, &f->dl));
	assert_true(f->dl.errors == 1 && strstr(f->dl.items[0].message, "'d' was not provided"));
	struct plan_param extra[] = { { "d", "1" }, { "zz", "q" } };
	assert_null(swdl_plan_parameters(&f->wf, extra, 2, false, &f->dl));
	p = swdl_plan_parameters(&f->wf, extra, 2, true, &f->dl);
	assert_string_equal(json_string_value(json_object_get(p, "zz")), "q");
	json_decref(p);
	release(f);
}

static const struct node *load_block(const char *yaml, struct doc **d, struct diag_list *dl,
				     int *rc)
{
	char path[] = "/tmp/sm-ov-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	const struct node *block = NULL;
	const struct node *roles;
	*rc = swdl_overrides_load(path, "w", d, &block, &roles, dl);
	unlink(path);
	return block;
}

static void test_overrides(void **state)
{
	(void)state;
	struct fixture *f = parse(WF "config: {timeout: 1h}\nstages:\n"
		"  - {id: a, name: A, roles: {primary: {artifact: 'agent:x', model: opus}, tools: ['skill:t']}}\n"
		"  - {id: b, name: B, " AGENT "}\n");
	struct doc *od = NULL;
	struct diag_list dl = DIAG_LIST_INIT;
	int rc;
	const struct node *block = load_block("overrides:\n  w:\n    stages:\n"
		"      a: {roles: {primary: {artifact: 'agent:mine'}, tools: []}}\n"
		"    config: {timeout: 3h}\n  other: {stages: {zz: {}}}\n", &od, &dl, &rc);
	assert_int_equal(rc, SM_OK);
	assert_non_null(block);
	struct arena a = ARENA_INIT;
	struct plan_override po = { 0 };
	const struct node *merged;
	assert_int_equal(swdl_overrides_apply(&a, f->doc->root, block, &merged, &po, &dl), SM_OK);
	const struct node *s0 = node_map_get(merged, "stages")->items[0];
	const struct node *prim = node_path_nearest(s0, "roles.primary");
	assert_string_equal(node_map_get(prim, "artifact")->text, "agent:mine");
	assert_string_equal(node_map_get(prim, "model")->text, "opus"); /* deep merge keeps */
	assert_int_equal(node_path_nearest(s0, "roles.tools")->nr, 0);   /* lists replace */
	assert_string_equal(node_path_nearest(merged, "config.timeout")->text, "3h");
	/* the base tree is untouched */
	assert_string_equal(node_path_nearest(f->doc->root, "config.timeout")->text, "1h");
	assert_int_equal(po.nr, 3);
	assert_string_equal(po.entries[0].field, "roles.primary.artifact");
	assert_string_equal(po.entries[0].before, "agent:x");
	assert_string_equal(po.entries[0].after, "agent:mine");
	plan_override_release(&po);
	arena_free(&a);
	doc_free(od);

	/* protected fields and unknown stages */
	od = NULL;
	block = load_block("overrides:\n  w:\n    workflow: {id: z}\n    stages: {a: {depends_on: []}}\n"
			   "    hooks: {}\n", &od, &dl, &rc);
	assert_int_equal(rc, SM_ERR);
	assert_int_equal(dl.errors, 3);
	doc_free(od);
	od = NULL;
	block = load_block("overrides:\n  w:\n    stages: {nope: {name: X}}\n", &od, &dl, &rc);
	assert_int_equal(rc, SM_OK);
	assert_int_equal(swdl_overrides_apply(&a, f->doc->root, block, &merged, &po, &dl), SM_ERR);
	assert_non_null(strstr(dl.items[dl.nr - 1].message, "stage 'nope'"));
	plan_override_release(&po);
	arena_free(&a);
	doc_free(od);
	od = NULL;
	load_block("stages: {}\n", &od, &dl, &rc);
	assert_int_equal(rc, SM_ERR);
	doc_free(od);
	diag_list_release(&dl);
	release(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_deep_chain_is_iterative),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_overrides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
