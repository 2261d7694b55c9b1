#!/usr/bin/env python3
"""many-agents-pack.py OUT PREFIX N [DESCRIPTION AUTHOR]: write an unsigned
pack OUT of N agents named PREFIX-<i>, hashed as upstream-formats.md §4.3
says (t0023: parallel installs; a description and author with control
characters)."""
import hashlib
import json
import re
import sys
import zipfile

out, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
files, arts = {}, []
for i in range(n):
    name = f"{prefix}-{i}"
    body = f"---\nname: {name}\ndescription: agent {i}\n---\nAgent {i}.\n".encode()
    files[f"artifacts/agent/{name}/{name}.md"] = body
    arts.append({"type": "agent", "name": name, "version": "unknown", "scope": "user",
                 "path": f"artifacts/agent/{name}/", "files": [f"{name}.md"],
                 "file_hashes": {f"{name}.md": sha(body)}, "hash": sha(body), "metadata": {}})
desc = sys.argv[4] if len(sys.argv) > 4 else "many agents"
author = sys.argv[5] if len(sys.argv) > 5 else "t0023"
m = {"version": "1.0", "name": re.sub(r"[^A-Za-z0-9_-]", "_", prefix), "description": desc, "author": author,
     "created_at": "2026-01-01T00:00:00", "license": "MIT", "tags": [], "artifacts": arts,
     "dependencies": []}
mh = sha(json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
m["bundle_hash"] = sha((mh + "".join(sorted(a["hash"] for a in arts))).encode())
files["manifest.json"] = (json.dumps(m, indent=2, sort_keys=True) + "\n").encode()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for path in sorted(files):
        z.writestr(zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0)), files[path])
