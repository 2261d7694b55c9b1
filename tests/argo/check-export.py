#!/usr/bin/env python3
"""check-export.py DIR...: what a cluster would refuse in an export, found without one.

Each DIR holds `workflow export --to argo --format json` (workflow.json and
bundle-configmap.json).  The rules, each from where it is enforced:

- Kubernetes (apimachinery pkg/util/validation: IsDNS1123Subdomain, IsDNS1123Label,
  IsQualifiedName, IsValidLabelValue; pkg/api/validation/objectmeta.go): object names
  are DNS-1123 subdomains; label keys are qualified names, label values at most 63 of
  [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?; all annotations of an object together at
  most 256 KiB.
- argo-workflows workflow/validate/validate.go: a Workflow's name at most 63
  (maxCharsInObjectName; generateName gets 5 more characters); template, task and
  other field names unique, of [a-zA-Z0-9][-a-zA-Z0-9]*, at most 128
  (isValidWorkflowFieldName); parameter and artifact names of [-a-zA-Z0-9_]+
  (isValidParamOrArtifactName), unique in their list; the entrypoint, every task's
  template and every dependency exist; a task name does not begin with a digit when
  dependencies are used; {{...}} references are of the form paramRegex accepts and
  resolve: inputs.parameters.X declared by the template, tasks.T.outputs.parameters.P
  of an ancestor task T whose template outputs P (the aggregate
  tasks.T.outputs.parameters only for a withParam T), item only in a task with
  withParam, retries only in a template with a retryStrategy; an argument names a
  declared input, and every input without a default gets one.
- workflow/controller/dag.go (evaluateDependsLogic): dependencies are evaluated as an
  expr-lang expression with each name's '-' read as '_': a name must then be an
  identifier that is no word of the language (in, not, nil, ...).
- util/intstr/parametrizable.go and workflow/controller/operator.go: int-or-string
  fields (activeDeadlineSeconds of a template, retryStrategy.limit,
  backoff.factor) are whole numbers; this project writes them as strings, as Argo's
  published schema types them.
- workflow/controller/operator.go (executeSuspend): a suspend template with a duration
  gives each supplied output parameter a default (else the resume fails).
Prints each problem as DIR: message; exits 1 if there is any.
"""
import json, os, re, sys

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
QUALIFIED = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$")
FIELD_NAME = re.compile(r"^[a-zA-Z0-9][-a-zA-Z0-9]*$")
PARAM_NAME = re.compile(r"^[-a-zA-Z0-9_]+$")
PARAM_REF = re.compile(r"^[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*$")  # validate.go paramRegex
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# expr-lang/expr: word operators and literals, and builtins a bare name would mean.
EXPR_WORDS = {"in", "not", "and", "or", "nil", "true", "false", "matches", "contains",
              "startsWith", "endsWith", "let", "if", "else", "len", "all", "none", "any",
              "one", "filter", "map", "count", "sum", "find", "abs", "int", "float",
              "string", "trim", "upper", "lower", "split", "join", "type", "keys",
              "values", "now", "duration", "date", "first", "last", "get", "max", "min"}
WHOLE = re.compile(r"^[0-9]+$")


class Check:
    def __init__(self, where):
        self.where, self.problems = where, []

    def fail(self, msg):
        self.problems.append("%s: %s" % (self.where, msg))

    def meta(self, what, m, kind):
        if "name" in m:
            n = m["name"]
            if not DNS_SUBDOMAIN.match(n) or len(n) > 253:
                self.fail("%s name %r is not a DNS-1123 subdomain" % (what, n))
            if kind != "ConfigMap" and len(n) > 63:
                self.fail("%s name %r is over 63 characters" % (what, n))
        if "generateName" in m:
            g = m["generateName"]
            if not DNS_SUBDOMAIN.match(g + "x") or len(g) + 5 > 63:
                self.fail("%s generateName %r makes an invalid name" % (what, g))
        for k, v in m.get("labels", {}).items():
            prefix, _, name = k.rpartition("/")
            if (prefix and not DNS_SUBDOMAIN.match(prefix)) or not QUALIFIED.match(name) \
                    or len(name) > 63:
                self.fail("%s label key %r is not a qualified name" % (what, k))
            if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
                self.fail("%s label %s=%r is not a valid label value" % (what, k, v))
        size = sum(len(k) + len(v.encode()) for k, v in m.get("annotations", {}).items())
        if size > 256 * 1024:
            self.fail("%s annotations are %d bytes, over 256 KiB" % (what, size))

    def unique_names(self, what, items, pattern, max_len=None):
        seen = set()
        for i in items:
            n = i.get("name", "")
            if not pattern.match(n) or (max_len and len(n) > max_len):
                self.fail("%s name %r is invalid" % (what, n))
            if n in seen:
                self.fail("%s name %r is not unique" % (what, n))
            seen.add(n)

    def whole(self, what, v):
        if not isinstance(v, str) or not WHOLE.match(v):
            self.fail("%s is %r: a whole number written as a string expected" % (what, v))


def refs(value):
    return re.findall(r"\{\{([^}]*)\}\}", json.dumps(value))


def check(d):
    c = Check(d)
    w = json.load(open(os.path.join(d, "workflow.json")))
    cm = json.load(open(os.path.join(d, "bundle-configmap.json")))
    c.meta("Workflow", w["metadata"], w["kind"])
    c.meta("ConfigMap", cm["metadata"], "ConfigMap")
    spec = w["spec"]
    if spec["volumes"][0]["configMap"]["name"] != cm["metadata"]["name"]:
        c.fail("the volume does not name the ConfigMap")
    tpls = spec["templates"]
    c.unique_names("template", tpls, FIELD_NAME, 128)
    by_name = {t["name"]: t for t in tpls}
    if spec["entrypoint"] not in by_name:
        c.fail("entrypoint %r is no template" % spec["entrypoint"])
    for t in tpls:
        where = "template " + t["name"]
        if "metadata" in t:
            c.meta(where, t["metadata"], "pod")
        ins = t.get("inputs", {})
        c.unique_names(where + " input parameter", ins.get("parameters", []), PARAM_NAME)
        c.unique_names(where + " input artifact", ins.get("artifacts", []), PARAM_NAME)
        outs = t.get("outputs", {}).get("parameters", [])
        c.unique_names(where + " output parameter", outs, PARAM_NAME)
        if "activeDeadlineSeconds" in t:
            c.whole(where + " activeDeadlineSeconds", t["activeDeadlineSeconds"])
        rs = t.get("retryStrategy")
        if rs:
            c.whole(where + " retryStrategy.limit", rs.get("limit"))
            if "factor" in rs.get("backoff", {}):
                c.whole(where + " backoff.factor", rs["backoff"]["factor"])
        if "suspend" in t and t["suspend"].get("duration"):
            for p in outs:
                if "supplied" in p.get("valueFrom", {}) and "default" not in p["valueFrom"]:
                    c.fail("%s: supplied output %s has no default for its duration"
                           % (where, p["name"]))
        declared = {p["name"] for p in ins.get("parameters", [])}
        for r in refs({k: v for k, v in t.items() if k != "dag"}):
            r = r.strip()
            if not PARAM_REF.match(r):
                c.fail("%s: {{%s}} is not a parameter reference" % (where, r))
            elif r.startswith("inputs.parameters."):
                if r[len("inputs.parameters."):] not in declared:
                    c.fail("%s: {{%s}} names no input" % (where, r))
            elif r == "retries":
                if not rs:
                    c.fail("%s: {{retries}} without a retryStrategy" % where)
            else:
                c.fail("%s: {{%s}} cannot resolve in a template" % (where, r))
        if "dag" in t:
            check_dag(c, t, by_name)
    return c.problems


def check_dag(c, t, by_name):
    tasks = t["dag"]["tasks"]
    if not tasks:
        c.fail("DAG %s has no task" % t["name"])
    c.unique_names("task", tasks, FIELD_NAME, 128)
    by_task = {k["name"]: k for k in tasks}
    for k in tasks:
        n = k["name"]
        if n[0].isdigit() and k.get("dependencies"):
            c.fail("task %r begins with a digit" % n)
        ident = n.replace("-", "_")
        if not IDENT.match(ident) or ident in EXPR_WORDS:
            c.fail("task %r is no identifier in a depends expression (%r)" % (n, ident))
        if k["template"] not in by_name:
            c.fail("task %s: template %r does not exist" % (n, k["template"]))
            continue
        for d in k.get("dependencies", []):
            if d not in by_task:
                c.fail("task %s: dependency %r not defined" % (n, d))
    for k in tasks:
        check_task(c, k, by_task, by_name)


def ancestors(name, by_task):
    seen, todo = set(), list(by_task[name].get("dependencies", []))
    while todo:
        d = todo.pop()
        if d in by_task and d not in seen:
            seen.add(d)
            todo.extend(by_task[d].get("dependencies", []))
    return seen


def check_task(c, k, by_task, by_name):
    where = "task " + k["name"]
    tpl = by_name.get(k["template"])
    if not tpl:
        return
    args = k.get("arguments", {}).get("parameters", [])
    c.unique_names(where + " argument", args, PARAM_NAME)
    inputs = {p["name"]: p for p in tpl.get("inputs", {}).get("parameters", [])}
    for a in args:
        if a["name"] not in inputs:
            c.fail("%s: argument %r is no input of %s" % (where, a["name"], tpl["name"]))
    for name, p in inputs.items():
        if "default" not in p and "value" not in p and name not in {a["name"] for a in args}:
            c.fail("%s: input %r gets no value" % (where, name))
    anc = ancestors(k["name"], by_task)
    for r in refs(k):
        r = r.strip()
        if not PARAM_REF.match(r):
            c.fail("%s: {{%s}} is not a parameter reference" % (where, r))
            continue
        if r == "item":
            if "withParam" not in k:
                c.fail("%s: {{item}} without withParam" % where)
            continue
        m = re.match(r"^tasks\.([^.]+)\.outputs\.parameters(?:\.(.+))?$", r)
        if not m or m.group(1) not in anc:
            c.fail("%s: {{%s}} names no ancestor's output" % (where, r))
            continue
        src = by_task[m.group(1)]
        if src["template"] not in by_name:  # reported with its task
            continue
        outs = {p["name"] for p in by_name[src["template"]].get("outputs", {})
                .get("parameters", [])}
        if m.group(2) is None and "withParam" not in src:
            c.fail("%s: {{%s}}: an aggregate of a task without withParam" % (where, r))
        if m.group(2) is not None and m.group(2) not in outs:
            c.fail("%s: {{%s}}: %s has no output %r" % (where, r, src["name"], m.group(2)))


problems = [p for d in sys.argv[1:] for p in check(d)]
print("\n".join(problems))
sys.exit(1 if problems else 0)
