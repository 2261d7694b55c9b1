#!/usr/bin/env python3
"""gen-pack.py DIR [ITEMS] [MODULES]: a SkillMeat home for the context-pack
benchmark: a collection with MODULES context modules (context/mNNN.md, varied
selectors), a memory export of ITEMS items for project DIR/proj (imported
by run-pack.sh) and a workflow whose one agent stage binds every module and
a memory query.  Deterministic (seeded)."""
import json, os, random, sys

d = sys.argv[1]
n_items = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
n_mods = int(sys.argv[3]) if len(sys.argv) > 3 else 200
rng = random.Random(42)
types = ["constraint", "decision", "fix", "pattern", "gotcha", "style_rule", "learning"]
words = ("the run store cache keeps every stage attempt durable before the host acts "
         "retry backoff timeout gate approval context module memory budget token").split()
proj = os.path.join(d, "proj")
os.makedirs(proj, exist_ok=True)
coll = os.path.join(d, "home", "collections", "default")
os.makedirs(os.path.join(coll, "context"), exist_ok=True)
os.makedirs(os.path.join(coll, "agents"), exist_ok=True)
with open(os.path.join(coll, "collection.toml"), "w") as f:
    f.write('[collection]\nname = "default"\nversion = "1.0.0"\n'
            'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n\nartifacts = []\n')
with open(os.path.join(d, "home", "config.toml"), "w") as f:
    f.write('[settings]\ndefault-collection = "default"\n')
with open(os.path.join(coll, "agents", "coder.md"), "w") as f:
    f.write("---\nname: coder\n---\nYou write careful C.\n")
for m in range(n_mods):
    sel = {"memory_types": rng.sample(types, 2), "min_confidence": round(rng.uniform(0.5, 0.9), 2)}
    if m % 4 == 0:
        sel["file_patterns"] = ["src/mod%d/*.c" % (m % 20)]
    if m % 5 == 0:
        sel["workflow_stages"] = ["code"]
    with open(os.path.join(coll, "context", "m%03d.md" % m), "w") as f:
        f.write("---\ndescription: module %d\nselectors: %s\n---\n%s\n"
                % (m, json.dumps(sel), " ".join(rng.choice(words) for _ in range(12))))
items = []
for i in range(n_items):
    items.append({
        "project": proj, "type": rng.choice(types),
        "content": "%d: %s" % (i, " ".join(rng.choice(words) for _ in range(rng.randint(6, 40)))),
        "confidence": round(rng.uniform(0.3, 1.0), 3),
        "status": rng.choice(["candidate", "active", "active", "stable", "deprecated"]),
        "provenance": {"stage": rng.choice(["code", "plan", "review"])},
        "anchors": [{"path": "src/mod%d/f%d.c" % (rng.randrange(20), rng.randrange(50)),
                     "type": "code"}],
        "created_at": "2026-%02d-%02dT12:00:00Z" % (rng.randint(1, 11), rng.randint(1, 28)),
    })
with open(os.path.join(d, "memory-export.json"), "w") as f:
    json.dump({"format": "skillmeat-memory/1", "items": items}, f)
mods = ", ".join('"ctx:m%03d"' % m for m in range(n_mods))
with open(os.path.join(d, "pack.yaml"), "w") as f:
    f.write("workflow: {id: pack-bench, name: Pack bench}\n"
            "context:\n  global_modules: [%s]\n"
            "  memory: {categories: [decision, constraint], min_confidence: 0.8, max_tokens: 8000}\n"
            "stages:\n  - id: code\n    name: Code\n"
            "    roles: {primary: {artifact: \"agent:coder\", model: sonnet}}\n" % mods)
