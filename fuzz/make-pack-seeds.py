#!/usr/bin/env python3
"""make-pack-seeds.py DIR: seeds for fuzz-pack, a small valid pack built
the way skillmeat builds one: as an archive, and as 'M' + its manifest."""
import hashlib
import io
import json
import sys
import zipfile

out = sys.argv[1]
agent = b"---\nname: a\n---\nHello.\n"
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
m = {"version": "1.0", "name": "seed", "description": "", "author": "fuzz",
     "created_at": "2026-01-01T00:00:00", "license": "MIT", "tags": [], "dependencies": [],
     "artifacts": [
         {"type": "agent", "name": "a", "path": "artifacts/agent/a/", "files": ["a.md"],
          "file_hashes": {"a.md": sha(agent)}, "hash": sha(agent), "version": "unknown",
          "scope": "user", "metadata": {}},
         {"type": "skill", "name": "s", "path": "artifacts/skill/s/", "files": ["SKILL.md"],
          "file_hashes": {"SKILL.md": sha(agent)},
          "hash": sha(b"SKILL.md" + agent), "metadata": {}}]}
copy = {k: v for k, v in m.items() if k not in ("bundle_hash", "signature")}
mh = sha(json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
m["bundle_hash"] = sha((mh + "".join(sorted(a["hash"] for a in m["artifacts"]))).encode())
text = json.dumps(m, indent=2, sort_keys=True).encode() + b"\n"
with open(f"{out}/manifest.seed", "wb") as f:
    f.write(b"M" + text)
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("artifacts/agent/a/a.md", agent)
    z.writestr("artifacts/skill/s/SKILL.md", agent)
    z.writestr("manifest.json", text)
with open(f"{out}/pack.seed", "wb") as f:
    f.write(buf.getvalue())
with zipfile.ZipFile(f"{out}/stored.seed", "w", zipfile.ZIP_STORED) as z:
    z.writestr("manifest.json", text)

# Hostile ones (issue 25): a listed file marked a FIFO, a device, a name in
# UTF-8 and one with a bidi override, control characters in the manifest.
import stat


def unix(name, mode):
    info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    return info


for seed, mode in (("fifo", stat.S_IFIFO), ("device", stat.S_IFCHR), ("socket", stat.S_IFSOCK)):
    with zipfile.ZipFile(f"{out}/{seed}.seed", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(unix("artifacts/agent/a/a.md", mode | 0o644), agent)
        z.writestr("artifacts/skill/s/SKILL.md", agent)
        z.writestr("manifest.json", text)
for seed, name in (("utf8", "caf\u00e9"), ("bidi", "x\u202ey"), ("nfd", "cafe\u0301")):
    with zipfile.ZipFile(f"{out}/{seed}.seed", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"artifacts/agent/{name}/{name}.md", agent)
        z.writestr("manifest.json", text)
spoof = json.loads(text)
spoof["description"] = "ok\x1b[2K\r  signature:   trusted"
spoof["signature"] = {"signer_name": "Mallory\x1b[31m", "algorithm": "Ed25519",
                      "key_fingerprint": "0" * 64, "signature": "A" * 88}
with open(f"{out}/manifest-spoof.seed", "wb") as f:
    f.write(b"M" + json.dumps(spoof, indent=2, sort_keys=True).encode() + b"\n")
