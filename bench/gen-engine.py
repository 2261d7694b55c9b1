#!/usr/bin/env python3
"""gen-engine.py N DIR: a DAG of N trivial command stages (each depends on
up to two earlier ones, fixed seed) as DIR/dag.yaml, and the same graph as
DIR/build.ninja (one edge a stage, each touching its stamp file)."""
import os, random, sys

n, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(d, exist_ok=True)
rnd = random.Random(42)
deps = [sorted(set(rnd.sample(range(i), min(i, 2)))) if i else [] for i in range(n)]
with open(os.path.join(d, "dag.yaml"), "w") as f:
    f.write("workflow: {id: bench-dag, name: Bench DAG}\nstages:\n")
    for i in range(n):
        f.write("  - id: s%d\n    name: S%d\n    type: command\n    run: touch s%d.stamp\n" % (i, i, i))
        if deps[i]:
            f.write("    depends_on: [%s]\n" % ", ".join("s%d" % k for k in deps[i]))
with open(os.path.join(d, "build.ninja"), "w") as f:
    f.write("rule touch\n  command = /bin/sh -e -c 'touch $out'\n")
    for i in range(n):
        f.write("build s%d.stamp: touch%s\n" % (i, (" | " + " ".join("s%d.stamp" % k for k in deps[i])) if deps[i] else ""))
