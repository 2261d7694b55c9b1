#!/usr/bin/env python3
"""yaml11-table.py SKILLMEAT: typed values written as upstream's files write
them, read here as PyYAML (YAML 1.1, upstream's reader) reads them.

Each row is a declared type and a plain scalar.  PyYAML's reading of the same
text is computed here, with yaml.safe_load: when it is a value of the
declared type, skillmeat must give exactly that value, warning (with the
YAML 1.2 spelling) when YAML 1.2 would read the text otherwise.  When PyYAML
gives a string, the row says what skillmeat does instead: the YAML 1.2
value, or an error.  The value is read back from `workflow plan --format
json` (parameters), so it is what a run sees.
"""
import json, os, subprocess, sys, tempfile
import yaml

SM = sys.argv[1]
# type, text, expected when PyYAML's value does not fit the type
# ("error", or the value), and whether a YAML 1.1 warning is expected.
ROWS = [
    ("boolean", "on", None, True), ("boolean", "off", None, True),
    ("boolean", "On", None, True), ("boolean", "OFF", None, True),
    ("boolean", "yes", None, True), ("boolean", "no", None, True),
    ("boolean", "Yes", None, True), ("boolean", "NO", None, True),
    ("boolean", "true", None, False), ("boolean", "False", None, False),
    ("boolean", "TRUE", None, False),
    ("boolean", "y", True, True), ("boolean", "n", False, True),
    ("boolean", "Y", True, True), ("boolean", "N", False, True),
    ("boolean", "yEs", True, True), ("boolean", "oFF", False, True),
    ("boolean", "maybe", "error", False), ("boolean", "1", "error", False),
    ("integer", "017", None, True), ("integer", "-017", None, True),
    ("integer", "0o17", 15, False), ("integer", "1_000", None, True),
    ("integer", "1:30", None, True), ("integer", "1:30:00", None, True),
    ("integer", "-1:30", None, True), ("integer", "0x1F", None, False),
    ("integer", "0x_1F", None, True), ("integer", "0b101", None, True),
    ("integer", "42", None, False), ("integer", "-7", None, False),
    ("integer", "+12", None, False), ("integer", "0", None, False),
    ("integer", "08", 8, False), ("integer", "ten", "error", False),
    ("integer", "1:3x", "error", False),
    ("number", "1.5", None, False), ("number", "1_000.5", None, True),
    ("number", "1:30.5", None, True), ("number", "017", None, True),
    ("number", "1_000", None, True), ("number", "1e3", 1000.0, False),
    ("number", "6.02e+23", None, False), ("number", ".5", None, False),
    ("number", "3", None, False), ("number", "1:30", None, True),
    ("number", "abc", "error", False),
]


def pyyaml(text):
    return yaml.safe_load("v: " + text)["v"]


def fits(t, v):
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def workflow(rows):
    lines = ["workflow: {id: y11, name: Y11}", "config:", "  parameters:"]
    for i, (t, text, _, _) in enumerate(rows):
        lines.append("    p%d: {type: %s, default: %s}" % (i, t, text))
    lines += ["stages:", "  - id: a", "    name: A", "    type: command", "    run: 'true'"]
    return "\n".join(lines) + "\n"


def main():
    passed = failed = 0
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, SKILLMEAT_HOME=os.path.join(tmp, "home"), NO_COLOR="1")
    good = [r for r in ROWS if r[2] != "error"]
    path = os.path.join(tmp, "w.yaml")
    with open(path, "w") as f:
        f.write(workflow(good))
    p = subprocess.run([SM, "workflow", "plan", path, "--no-overrides", "--format", "json"],
                       capture_output=True, text=True, env=env)
    plan = json.loads(p.stdout)
    warned = {w.get("field") for w in plan["validation"]["warnings"]
              if "YAML 1.1" in w["message"]}
    for i, (t, text, instead, warn) in enumerate(good):
        py = pyyaml(text)
        want = py if fits(t, py) else instead
        got = plan["parameters"].get("p%d" % i)
        field = "config.parameters.p%d.default" % i
        ok = got == want and type(got) is type(want) and (field in warned) == warn
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s %r: got %r (warning: %s), PyYAML %r, expected %r (warning: %s)"
                  % (t, text, got, field in warned, py, want, warn))
    for t, text, _, _ in (r for r in ROWS if r[2] == "error"):
        py = pyyaml(text)
        with open(path, "w") as f:
            f.write(workflow([(t, text, None, False)]))
        v = subprocess.run([SM, "workflow", "validate", path], capture_output=True,
                           text=True, env=env)
        ok = (not fits(t, py) and v.returncode == 1 and
              "config.parameters.p0.default" in v.stdout + v.stderr)
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s %r: expected an error (PyYAML %r), exit %d: %s"
                  % (t, text, py, v.returncode, v.stdout + v.stderr))
    # Typed fields of the schema, not only parameter defaults (yaml11-fields.yaml).
    fields = os.path.join(os.path.dirname(os.path.abspath(__file__)), "yaml11-fields.yaml")
    p = subprocess.run([SM, "workflow", "plan", fields, "--no-overrides", "--format", "json"],
                       capture_output=True, text=True, env=env)
    plan = json.loads(p.stdout)
    st = plan["batches"][0]["stages"][0]
    warned = sorted(w["field"] for w in plan["validation"]["warnings"] if "YAML 1.1" in w["message"])
    checks = [
        ("parameters", plan["parameters"], {"quick": False, "count": 15, "ratio": 1000.5,
                                            "wait": 90, "files": ["a", "b"]}),
        ("retry", (st["retry"]["max_attempts"], st["retry"]["backoff_multiplier"]), (10, 90.5)),
        ("fan_out", (st["fan_out"]["max_parallel"], st["fan_out"]["max_items"]), (3, 10)),
        ("warnings", warned, sorted(["config.parameters.quick.default",
                                     "config.parameters.quick.required",
                                     "config.parameters.count.default",
                                     "config.parameters.ratio.default",
                                     "config.parameters.wait.default",
                                     "fan_out.max_parallel", "fan_out.max_items",
                                     "error_policy.retry.max_attempts",
                                     "error_policy.retry.backoff_multiplier",
                                     "handoff.include_run_log"])),
    ]
    for name, got, want in checks:
        if got == want:
            passed += 1
        else:
            failed += 1
            print("FAIL fields %s: got %r, expected %r" % (name, got, want))
    with open(fields) as f:
        py = yaml.safe_load(f)
    pst = py["stages"][0]
    if (pst["error_policy"]["retry"]["max_attempts"], pst["fan_out"]["max_parallel"],
            pst["handoff"]["include_run_log"]) == (10, 3, True):
        passed += 1
    else:
        failed += 1
        print("FAIL fields: PyYAML reads the file otherwise: %r" % pst)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
