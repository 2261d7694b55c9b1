#!/usr/bin/env python3
"""json-style.py FILE LABEL: FILE (a command's --format json output, or an API
reply) is one JSON document in the project's JSON style (docs/cli.md "JSON
output"): times RFC 3339 UTC strings, durations in milliseconds under *_ms,
counts under *_count (never an integer under a list's name), lists under
plural names.  Prints each breach; exit 1 if any."""
import json, re, sys

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
# Names that hold lists (or mappings of things): an integer there is a count.
LIST_NAMES = {"stages", "items", "runs", "attempts", "errors", "warnings", "results", "events",
              "modules", "tools", "logs", "workflows", "diagnostics", "batches", "artifacts",
              "roles", "bindings", "inputs", "outputs", "memories", "files", "candidates"}
# Values written by the user or an agent, kept as they are.
USER_DATA = {"outputs", "parameters", "definition", "default", "output", "data", "prompt",
             "text",
             # versioned records with a published schema of their own
             "handoff"}
# Upstream's plan structure keeps its names (docs/cli.md says so).
UPSTREAM = {"estimated_timeout_seconds", "timeout_seconds"}


def walk(v, path, out, kube=False):
    if isinstance(v, dict):
        # Kubernetes objects (workflow export --to argo) follow Kubernetes' schema.
        kube = kube or ("apiVersion" in v and "kind" in v)
        for k, x in v.items():
            p = path + "." + k
            if k in USER_DATA or kube:
                continue
            if k == "counts" and isinstance(x, dict):
                continue  # an object of counts: its name says so
            if k.endswith("_at") and not (x is None or (isinstance(x, str) and TIME.match(x))):
                out.append("%s: a time must be an RFC 3339 UTC string, got %r" % (p, x))
            if (k.endswith("_seconds") or k in ("duration", "ts", "elapsed")) and k not in UPSTREAM:
                out.append("%s: a duration is in milliseconds under *_ms" % p)
            if k.endswith("_ms") and not (x is None or isinstance(x, int)):
                out.append("%s: *_ms is a whole number of milliseconds, got %r" % (p, x))
            if k.endswith("_count") and not (x is None or isinstance(x, int)):
                out.append("%s: *_count is an integer, got %r" % (p, x))
            if k in LIST_NAMES and isinstance(x, int) and not isinstance(x, bool):
                out.append("%s: an integer under a list's name: a count is *_count" % p)
            walk(x, p, out, kube)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, "%s[%d]" % (path, i), out, kube)


def main():
    text = open(sys.argv[1]).read()
    label = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]
    try:
        doc = json.loads(text)
    except ValueError as e:
        print("%s: not one JSON document: %s" % (label, e))
        return 1
    out = []
    walk(doc, "$", out)
    for o in out:
        print("%s: %s" % (label, o))
    return 1 if out else 0


sys.exit(main())
