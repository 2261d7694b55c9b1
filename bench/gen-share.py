#!/usr/bin/env python3
"""gen-share.py DIR AGENTS SKILLS FILES: a collection under DIR/home with a
workflow of AGENTS stages, each stage its own agent and one of SKILLS
skills; each skill a folder of FILES files of 4 KiB (text-like, so it
compresses the way real files do)."""
import os
import random
import sys

d, agents, skills, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
root = f"{d}/home/collections/default"
rng = random.Random(7)
words = "the stage agent skill plan review code test build ship context module memory".split()


def text(n):
    out, size = [], 0
    while size < n:
        w = rng.choice(words)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)[:n] + "\n"


for sub in ("agents", "skills", "context", "workflows"):
    os.makedirs(f"{root}/{sub}", exist_ok=True)
with open(f"{root}/collection.toml", "w") as f:
    f.write('[collection]\nname = "default"\nversion = "1.0.0"\n'
            'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n')
for i in range(agents):
    with open(f"{root}/agents/agent-{i}.md", "w") as f:
        f.write(f"---\nname: agent-{i}\ndescription: agent {i}\n---\n{text(2000)}")
for s in range(skills):
    for k in range(files):
        os.makedirs(f"{root}/skills/skill-{s}/ref", exist_ok=True)
        name = "SKILL.md" if k == 0 else f"ref/part-{k}.md"
        with open(f"{root}/skills/skill-{s}/{name}", "w") as f:
            f.write(text(4096))
with open(f"{root}/context/rules.md", "w") as f:
    f.write("---\nmax_tokens: 500\n---\n" + text(3000))
lines = ["workflow:", "  id: big-ship", "  name: Big ship", "context:",
         "  global_modules: [\"ctx:rules\"]", "stages:"]
for i in range(agents):
    lines += [f"  - id: s{i}", f"    name: Stage {i}",
              f"    depends_on: [s{i - 1}]" if i else "    depends_on: []",
              "    roles:", f"      primary: {{artifact: agent:agent-{i}}}",
              f"      tools: [skill:skill-{i % skills}]"]
os.makedirs(f"{d}/wf", exist_ok=True)
with open(f"{d}/wf/big-ship.yaml", "w") as f:
    f.write("\n".join(lines) + "\n")
