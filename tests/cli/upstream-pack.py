#!/usr/bin/env python3
"""upstream-pack.py OUTDIR: write a pack the way upstream SkillMeat's
BundleBuilder does (upstream-formats.md §4: no file_hashes, workflow YAML
also inline in metadata.content), and, when Python's `cryptography` is
there, a copy signed the way upstream's signer does (no public key in the
signature) with the public key as a `pack trust` file.  Prints "signed" or
"unsigned" to say which were written."""
import base64
import datetime
import hashlib
import io
import json
import sys
import zipfile

out = sys.argv[1]
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
agent = b"---\nname: up-agent\ndescription: from upstream\nskills: [up-skill]\n---\nBe upstream.\n"
skill = {"SKILL.md": b"---\nname: up-skill\n---\nA skill.\n", "scripts/run.sh": b"echo hi\n"}
wf = (b"workflow:\n  id: up-flow\n  name: Up flow\nstages:\n  - id: one\n    name: One\n    roles:\n"
      b"      primary: {artifact: agent:up-agent}\n      tools: [skill:up-skill]\n")
h = hashlib.sha256()
for f in sorted(skill):
    h.update(f.encode() + skill[f])
arts = [
    {"type": "agent", "name": "up-agent", "version": "unknown", "scope": "user",
     "path": "artifacts/agent/up-agent/", "files": ["up-agent.md"], "hash": sha(agent),
     "metadata": {"description": "from upstream"}},
    {"type": "skill", "name": "up-skill", "version": "unknown", "scope": "user",
     "path": "artifacts/skill/up-skill/", "files": sorted(skill), "hash": "sha256:" + h.hexdigest(),
     "metadata": {}},
    {"type": "workflow", "name": "up-flow", "version": "unknown", "scope": "user",
     "path": "artifacts/workflow/up-flow/", "files": ["WORKFLOW.yaml"], "hash": sha(wf),
     "metadata": {"description": "", "content": wf.decode()}},
]
m = {"version": "1.0", "name": "up-pack", "description": "Built like upstream",
     "author": "Upstream Person", "created_at": datetime.datetime(2026, 3, 1).isoformat(),
     "license": "MIT", "tags": ["upstream"], "artifacts": arts, "dependencies": []}
copy = dict(m)
mh = sha(json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
m["bundle_hash"] = sha((mh + "".join(sorted(a["hash"] for a in arts))).encode())
files = {"artifacts/agent/up-agent/up-agent.md": agent,
         "artifacts/workflow/up-flow/WORKFLOW.yaml": wf}
files.update({"artifacts/skill/up-skill/" + f: b for f, b in skill.items()})


def write(name, manifest):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for path in sorted(list(files) + ["manifest.json"]):
            info = zipfile.ZipInfo(path, (2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode() if path == "manifest.json" else files[path])
    with open(f"{out}/{name}.skillmeat-pack", "wb") as f:
        f.write(buf.getvalue())


write("upstream", m)
try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
except ImportError:
    print("unsigned")
    sys.exit(0)
key = Ed25519PrivateKey.generate()
raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
fp = hashlib.sha256(raw).hexdigest()
canon = {k: v for k, v in m.items() if k not in ("signature", "created_at", "bundle_path")}
msg = json.dumps({"bundle_hash": m["bundle_hash"], "manifest": canon}, sort_keys=True,
                 separators=(",", ":")).encode()
signed = dict(m)
signed["signature"] = {"signature": base64.b64encode(key.sign(msg)).decode(),
                       "signer_name": "Upstream Person", "signer_email": "up@example.org",
                       "key_fingerprint": fp, "signed_at": "2026-03-01T00:00:00",
                       "algorithm": "Ed25519"}
write("upstream-signed", signed)
with open(f"{out}/upstream.pub", "w") as f:
    json.dump({"algorithm": "Ed25519", "name": "Upstream Person", "email": "up@example.org",
               "public_key": base64.b64encode(raw).decode(), "fingerprint": fp}, f)
print("signed")
