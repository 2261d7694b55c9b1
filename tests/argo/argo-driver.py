#!/usr/bin/env python3
"""argo-driver.py SKILLMEAT DIR WORK [DECISIONS]: run an exported Argo Workflow the way
Argo's controller runs a DAG, on this machine, for the semantics test (no cluster here).

DIR holds `workflow export --to argo --format json` (workflow.json and
bundle-configmap.json).  DECISIONS is a JSON object {gate task: decision} (default
"approve" for each): what `argo node set WF --output-parameter decision=...
--node-field-selector displayName=GATE` then `argo resume` supplies.  Each rule below
names the file of argoproj/argo-workflows it follows:

- workflow/common/ancestry.go (expandDependency): a task runs when each dependency is
  Succeeded, Skipped or Daemoned, or Failed / Errored with continueOn.failed / .error;
  otherwise it is Omitted.
- workflow/controller/dag.go (assessDAGPhase): failFast is read only when no node of the
  DAG is running, to decide the DAG's phase; every task whose dependencies allow it
  starts, whatever failed on another branch.  This driver runs one task at a time, so
  it starts every task that becomes ready, and the workflow fails at the end if a task
  failed without continueOn.
- workflow/controller/operator.go (retryStrategy): limit retries after the first pod;
  `expression` evaluated on lastRetry.exitCode; {{retries}} is the 0-based retry index
  (backoff is not waited for).
- workflow/controller/operator.go (executeSuspend): a suspend node ends with its
  supplied output parameters (or their valueFrom.default when its duration runs out).
- workflow/controller/dag.go (expandTask, "Skipped, empty params"): a withParam task
  whose list is empty is Skipped; workflow/controller/scope.go
  (addSkippedNodeOutputsToScope) then gives later tasks each declared output's default,
  and no aggregate {{tasks.NAME.outputs.parameters}} exists.
- workflow/controller/dag.go (resolveDependencyReferences): a task whose arguments name
  a tasks.* value that does not exist is requeued, not failed: it stays Running, the
  tasks after it wait, and the workflow does not end.
- workflow/controller/operator.go (processAggregateNodeOutputs): a withParam task's
  {{tasks.NAME.outputs.parameters}} is the JSON list of the parameter maps of the
  children that Succeeded, in item order: a failed or errored child's outputs are
  left out.
A pod runs its container with the arguments substituted, its image replaced by
SKILLMEAT, mount paths and SKILLMEAT_HOME mapped into WORK (a fresh home per pod), raw
input artifacts written where they are mounted; output parameters are read from their
valueFrom.path (or default).
Prints {"phase", "tasks": {name: {"phase", "attempts", "exit_codes", "result" (the
"result" output parameter, parsed), "parameters" (the others)}}}."""
import json, os, re, subprocess, sys

sm, src, work = sys.argv[1], sys.argv[2], sys.argv[3]
decisions = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
wf = json.load(open(os.path.join(src, "workflow.json")))
cm = json.load(open(os.path.join(src, "bundle-configmap.json")))
spec = wf["spec"]
templates = {t["name"]: t for t in spec["templates"]}
main = templates[spec["entrypoint"]]["dag"]
mounts = {}
for v in spec.get("volumes", []):
    assert v["configMap"]["name"] == cm["metadata"]["name"], "the volume names the ConfigMap"
    d = os.path.join(work, "volumes", v["name"])
    os.makedirs(d, exist_ok=True)
    for k, text in cm["data"].items():
        with open(os.path.join(d, k), "w") as f:
            f.write(text)
    mounts[v["name"]] = d

tasks = {t["name"]: t for t in main["tasks"]}
state = {}    # name -> {"phase", "attempts", "exit_codes", "outputs", "result"}
failed = False

def substitute(text, scope):
    def one(m):
        key = m.group(1).strip()
        if key not in scope:
            raise KeyError(key)
        return scope[key]
    return re.sub(r"\{\{([^}]*)\}\}", one, text)

def run_pod(pod_name, tpl, args_scope, attempt):
    c = tpl["container"]
    pod = os.path.join(work, "pods", "%s-%d" % (pod_name, attempt))
    paths = {}
    for m in c.get("volumeMounts", []):
        paths[m["mountPath"]] = mounts[m["name"]]
    for a in tpl.get("inputs", {}).get("artifacts", []):
        local_path = os.path.join(pod, "artifacts", a["name"])
        os.makedirs(os.path.dirname(local_path), exist_ok=True)
        with open(local_path, "w") as f:
            f.write(substitute(a["raw"]["data"], args_scope))
        paths[a["path"]] = local_path
    outputs_dir = os.path.join(pod, "outputs")
    paths["/tmp/outputs"] = outputs_dir
    env = dict(os.environ)
    for e in c.get("env", []):
        env[e["name"]] = e["value"]
    env["SKILLMEAT_HOME"] = os.path.join(pod, "home")  # a fresh pod: an empty home
    def local(a):
        for k, v in paths.items():
            if a == k or a.startswith(k + "/"):
                return v + a[len(k):]
        return a
    argv = [sm] + [local(substitute(a, args_scope)) for a in c.get("args", [])]
    assert c["command"] == ["skillmeat"], c["command"]
    os.makedirs(pod, exist_ok=True)
    with open(os.path.join(pod, "log"), "w") as log:
        code = subprocess.call(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                               cwd=os.path.join(work, "workdir"))
    outs = {}
    for p in tpl.get("outputs", {}).get("parameters", []):
        path = local(p["valueFrom"]["path"])
        if os.path.exists(path):
            outs[p["name"]] = open(path).read()
        elif "default" in p["valueFrom"]:
            outs[p["name"]] = p["valueFrom"]["default"]
    return code, outs

def retry_allowed(tpl, code, attempts):
    rs = tpl.get("retryStrategy")
    if not rs or attempts > int(rs.get("limit", 0)):
        return False
    expr = rs.get("expression")
    if expr:
        m = re.fullmatch(r"asInt\(lastRetry\.exitCode\) != (\d+)", expr)
        assert m, "an expression this driver does not know: " + expr
        return code != int(m.group(1))
    return True

def requeued(key):
    """A reference to tasks.* that does not resolve: Argo requeues the task and waits
    (workflow/controller/dag.go, resolveDependencyReferences: ReplaceStrictAny, then
    requeue on a missing variable), so it never starts and the workflow never ends."""
    return {"phase": "Running", "attempts": 0, "exit_codes": [], "outputs": {},
            "message": "requeued: %s does not resolve" % key}

def run_task(t, pod_name, item_scope):
    tpl = templates[t["template"]]
    if "suspend" in tpl:  # resumed with its supplied outputs
        outs = {}
        for p in tpl.get("outputs", {}).get("parameters", []):
            assert "supplied" in p["valueFrom"], p
            outs[p["name"]] = decisions.get(t["name"], "approve")
        return {"phase": "Succeeded", "attempts": 0, "exit_codes": [], "outputs": outs}
    scope = {}
    declared = {p["name"] for p in tpl.get("inputs", {}).get("parameters", [])}
    for p in t.get("arguments", {}).get("parameters", []):
        assert p["name"] in declared, "argument %s is not an input of %s" % (p["name"], tpl["name"])
        try:
            scope["inputs.parameters." + p["name"]] = substitute(p["value"],
                                                                 dict(task_scope, **item_scope))
        except KeyError as e:
            return requeued(e)
    codes, attempt = [], 0
    while True:
        if "retryStrategy" in tpl:
            scope["retries"] = str(attempt)
        code, outs = run_pod(pod_name, tpl, scope, attempt)
        codes.append(code)
        attempt += 1
        if code == 0 or not retry_allowed(tpl, code, attempt):
            break
    return {"phase": "Succeeded" if code == 0 else "Failed", "attempts": attempt,
            "exit_codes": codes, "outputs": outs}

def run_expanded(t):
    """withParam: a child per element; the outputs aggregated as Argo does."""
    try:
        elements = json.loads(substitute(t["withParam"], task_scope))
    except KeyError as e:
        return requeued(e)
    assert isinstance(elements, list), "withParam needs a list"
    if not elements:  # Skipped; each declared output its default, no aggregate
        tpl = templates[t["template"]]
        outs = {p["name"]: p["valueFrom"]["default"]
                for p in tpl.get("outputs", {}).get("parameters", [])
                if "default" in p.get("valueFrom", {})}
        return {"phase": "Skipped", "attempts": 0, "exit_codes": [], "children": 0,
                "outputs": outs}
    children = []
    for k, e in enumerate(elements):
        value = e if isinstance(e, str) else json.dumps(e)
        children.append(run_task(t, "%s-%d" % (t["name"], k), {"item": value}))
    cont = t.get("continueOn", {})
    ok = all(c["phase"] == "Succeeded" or (c["phase"] == "Failed" and cont.get("failed")) or
             (c["phase"] == "Error" and cont.get("error")) for c in children)
    return {"phase": "Succeeded" if ok else "Failed",
            "attempts": sum(c["attempts"] for c in children),
            "exit_codes": [c["exit_codes"] for c in children], "children": len(children),
            "outputs": {}, "aggregate": json.dumps([c["outputs"] for c in children
                                                    if c["phase"] == "Succeeded"])}

task_scope = {}
os.makedirs(os.path.join(work, "workdir"), exist_ok=True)
while True:
    ready = []
    for name, t in tasks.items():
        if name in state:
            continue
        deps = t.get("dependencies", [])
        if any(d not in state or state[d]["phase"] == "Running" for d in deps):
            continue
        ok = all(state[d]["phase"] in ("Succeeded", "Skipped") or
                 (state[d]["phase"] == "Failed" and tasks[d].get("continueOn", {}).get("failed")) or
                 (state[d]["phase"] == "Error" and tasks[d].get("continueOn", {}).get("error"))
                 for d in deps)
        ready.append((name, ok))
    if not ready:
        break
    for name, ok in ready:
        if not ok:
            state[name] = {"phase": "Omitted", "attempts": 0, "exit_codes": [], "outputs": {}}
            continue
        st = run_expanded(tasks[name]) if "withParam" in tasks[name] else \
            run_task(tasks[name], name, {})
        state[name] = st
        for k, v in st["outputs"].items():
            task_scope["tasks.%s.outputs.parameters.%s" % (name, k)] = v
        if "aggregate" in st:
            task_scope["tasks.%s.outputs.parameters" % name] = st.pop("aggregate")
        if st["phase"] in ("Failed", "Error") and not tasks[name].get("continueOn", {}).get("failed"):
            failed = True
for s in state.values():
    r = s["outputs"].get("result")
    s["result"] = json.loads(r) if r else None
    s["parameters"] = {k: v for k, v in s.pop("outputs").items() if k != "result"}
phase = "Running" if any(s["phase"] == "Running" for s in state.values()) else \
    "Failed" if failed else "Succeeded"
print(json.dumps({"phase": phase, "tasks": state}, indent=2,
                 sort_keys=True))
