#!/usr/bin/env python3
"""upstream-pack.py HOME WORKFLOW_MODULES_DIR PROJECT: the reference for the
context-pack benchmark.  Upstream SkillMeat's packer as its documentation
and code describe it (shared/reference/upstream-formats.md §3.2-3.3),
written again here in plain Python over the same memory.db: for each context
module, for each memory type and each status in {active, stable}, query the
project's items above the module's min_confidence; post-filter by file
patterns and workflow stages; rank by confidence then created_at; take items
until the first that does not fit the budget (2000 per module, upstream's
default); render each module's Markdown pack and join them.  Prints the
text, like `skillmeat context preview`."""
import fnmatch, json, os, sqlite3, sys

home, mod_dir, project = sys.argv[1:4]
TYPES = ["constraint", "decision", "fix", "pattern", "gotcha", "style_rule", "learning"]
ORDER = [("decision", "Decisions"), ("constraint", "Constraints"), ("gotcha", "Gotchas"),
         ("style_rule", "Style Rules"), ("learning", "Learnings"), ("fix", "Fixes"),
         ("pattern", "Patterns")]
db = sqlite3.connect(os.path.join(home, "memory.db"))

def tokens(text):
    return 0 if not text else max(1, len(text) // 4)

def module_selectors(path):
    text = open(path).read()
    front = text.split("---\n")[1]
    for line in front.splitlines():
        if line.startswith("selectors: "):
            return json.loads(line[len("selectors: "):])
    return {}

def pack(sel, budget=2000):
    found, seen = [], set()
    for t in sel.get("memory_types") or TYPES:
        for status in ("active", "stable"):
            for row in db.execute(
                    "SELECT id, type, content, confidence, created_at, provenance, anchors"
                    " FROM memory_items WHERE project = ? AND type = ? AND status = ?"
                    " AND confidence >= ?", (project, t, status, sel.get("min_confidence", 0))):
                if row[0] in seen:
                    continue
                prov, anchors = json.loads(row[5]), json.loads(row[6])
                pats = sel.get("file_patterns")
                if pats and not any(fnmatch.fnmatch(a.get("path", ""), p)
                                    for a in anchors for p in pats):
                    continue
                st = sel.get("workflow_stages")
                if st and prov.get("stage") not in st:
                    continue
                seen.add(row[0])
                found.append(row)
    found.sort(key=lambda r: (-r[3], -r[4]))
    total, items = 0, []
    for r in found:
        t = tokens(r[2])
        if total + t > budget:
            break
        total += t
        items.append(r)
    out = ["# Context Pack"]
    for key, title in ORDER:
        group = [r for r in items if r[1] == key]
        if group:
            out += ["", "## " + title]
            for r in group:
                label = "[low confidence] " if r[3] < 0.6 else "[medium confidence] " if r[3] < 0.85 else ""
                out.append("- " + label + r[2].strip())
    return "\n".join(out) + "\n"

packs = [pack(module_selectors(os.path.join(mod_dir, f)))
         for f in sorted(os.listdir(mod_dir)) if f.endswith(".md")]
sys.stdout.write("\n".join(packs))
