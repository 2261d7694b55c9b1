#!/usr/bin/env python3
"""Replay every agent transcript fixture through `skillmeat debug runner-replay`
and compare how the attempt is judged with the case's expect.json.

tests/runners/<cli>/<case>/: stdout, stderr (optional), expect.json.  expect.json
holds the fields to check (ok, error_class, error, model, input_tokens,
output_tokens, models, usd, usd_reported, retry_at, outputs, session_id),
"retry_in" (seconds from now, within 5 s), "retry_at_local" (a local time), "exit" (the CLI's exit status),
"stage_model" (the stage's model, for CLIs that name none) and "source" (the
facts the fixture was built from, docs/agent-protocols.md)."""
import json, os, subprocess, sys, tempfile, time

sm = os.environ["SKILLMEAT"]
root = os.path.dirname(os.path.abspath(__file__))
home = tempfile.mkdtemp()
passed = failed = 0
for cli in sorted(os.listdir(root)):
    d = os.path.join(root, cli)
    if not os.path.isdir(d):
        continue
    for name in sorted(os.listdir(d)):
        case = os.path.join(d, name)
        want = json.load(open(os.path.join(case, "expect.json")))
        missing = {"ok", "error_class", "error", "model", "input_tokens", "output_tokens",
                   "usd"} - set(want)
        if missing:  # every case states how it is judged, in full
            failed += 1
            print("not ok - %s/%s: expect.json lacks %s" % (cli, name, sorted(missing)))
            continue
        argv = [sm, "debug", "runner-replay", cli, os.path.join(case, "stdout"),
                "--exit", str(want.get("exit", 0))]
        if os.path.exists(os.path.join(case, "stderr")):
            argv += ["--stderr", os.path.join(case, "stderr")]
        if "stage_model" in want:
            argv += ["--model", want["stage_model"]]
        p = subprocess.run(argv, capture_output=True, text=True,
                           env=dict(os.environ, SKILLMEAT_HOME=home))
        problems = []
        if p.returncode:
            problems.append("exit %d: %s" % (p.returncode, p.stderr.strip()))
        else:
            got = json.loads(p.stdout)
            for k, v in want.items():
                if k in ("source", "exit", "stage_model"):
                    continue
                if k == "retry_in":
                    if abs(got["retry_at"] - time.time() - v) > 5:
                        problems.append("retry_at %s is not now + %s" % (got["retry_at"], v))
                elif k == "retry_at_local":  # a local date and time as the CLI printed it
                    t = time.strftime("%Y-%m-%d %H:%M", time.localtime(got["retry_at"]))
                    if t != v:
                        problems.append("retry_at %s, want %s local" % (t, v))
                elif k == "usd":
                    if abs(got["usd"] - v) > 1e-9:
                        problems.append("usd %r, want %r" % (got["usd"], v))
                elif k == "models":
                    for m, u in v.items():
                        if got["models"].get(m) != u:
                            problems.append("models[%s] %r, want %r" % (m, got["models"].get(m), u))
                elif got.get(k) != v:
                    problems.append("%s %r, want %r" % (k, got.get(k), v))
        label = "%s/%s" % (cli, name)
        if problems:
            failed += 1
            print("not ok - %s: %s" % (label, "; ".join(problems)))
        else:
            passed += 1
            print("ok - %s" % label)
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
