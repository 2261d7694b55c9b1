#!/usr/bin/env python3
"""upstream-bundle.py build|verify|install ...: the reference for
bench/run-share.sh: upstream SkillMeat's bundle algorithms, re-implemented
from upstream-formats.md §4 (upstream's own code needs its whole package
and pydantic, which Debian does not ship).
  build COLLECTION WORKFLOW OUT   BundleBuilder: files, hashes, manifest, ZIP
  verify PACK                     inspect_bundle: read, recompute the hashes
  install PACK DEST               importer: validate, extractall, copy in"""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import zipfile

sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()


def dir_hash(files):
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + files[name])
    return "sha256:" + h.hexdigest()


def build(coll, wf_path, out):
    import re
    text = open(wf_path, "rb").read()
    refs = sorted(set(re.findall(rb"(agent|skill|ctx):([A-Za-z0-9_.-]+)", text)))
    arts, entries = [], {}
    places = {b"agent": "agents/%s.md", b"ctx": "context/%s.md", b"skill": "skills/%s"}
    for t, n in refs + [(b"workflow", b"big-ship")]:
        t, n = t.decode(), n.decode()
        if t == "workflow":
            files = {"WORKFLOW.yaml": text}
        else:
            p = os.path.join(coll, places[t.encode()] % n)
            if os.path.isdir(p):
                files = {}
                for dp, _, fns in os.walk(p):
                    for fn in fns:
                        full = os.path.join(dp, fn)
                        files[os.path.relpath(full, p)] = open(full, "rb").read()
            else:
                files = {n + ".md": open(p, "rb").read()}
        path = f"artifacts/{t}/{n}/"
        h = sha(next(iter(files.values()))) if len(files) == 1 and t != "skill" else dir_hash(files)
        arts.append({"type": t, "name": n, "version": "unknown", "scope": "user", "path": path,
                     "files": sorted(files), "hash": h, "metadata": {}})
        for f, b in files.items():
            entries[path + f] = b
    m = {"version": "1.0", "name": "big-ship", "description": "", "author": "bench",
         "created_at": "2026-01-01T00:00:00", "license": "MIT", "tags": [],
         "artifacts": arts, "dependencies": []}
    mh = sha(json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    m["bundle_hash"] = sha((mh + "".join(sorted(a["hash"] for a in arts))).encode())
    entries["manifest.json"] = (json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False)
                                + "\n").encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(entries):
            z.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), entries[name],
                       compress_type=zipfile.ZIP_DEFLATED)


def verify(pack):
    with zipfile.ZipFile(pack) as z:
        m = json.loads(z.read("manifest.json"))
        for a in m["artifacts"]:
            files = {f: z.read(a["path"] + f) for f in a["files"]}
            want = (sha(next(iter(files.values()))) if len(files) == 1 and a["type"] != "skill"
                    else dir_hash(files))
            assert want == a["hash"], a["name"]
    copy = {k: v for k, v in m.items() if k not in ("bundle_hash", "signature")}
    mh = sha(json.dumps(copy, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    assert m["bundle_hash"] == sha((mh + "".join(sorted(a["hash"] for a in m["artifacts"]))).encode())
    return m


def install(pack, dest):
    m = verify(pack)
    with zipfile.ZipFile(pack) as z:
        assert z.testzip() is None
        tmp = tempfile.mkdtemp()
        z.extractall(tmp)
    places = {"agent": "agents/%s.md", "ctx": "context/%s.md", "skill": "skills/%s",
              "workflow": "workflows/%s"}
    for a in m["artifacts"]:
        src = os.path.join(tmp, a["path"])
        dst = os.path.join(dest, places[a["type"]] % a["name"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if a["type"] in ("skill", "workflow"):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copyfile(os.path.join(src, a["files"][0]), dst)
    shutil.rmtree(tmp)


cmd = sys.argv[1]
if cmd == "build":
    build(sys.argv[2], sys.argv[3], sys.argv[4])
elif cmd == "verify":
    verify(sys.argv[2])
else:
    install(sys.argv[2], sys.argv[3])
