#!/usr/bin/env python3
"""embed_dir.py DIR OUTPUT DEPFILE: write OUTPUT, a C file defining
`const struct ui_asset ui_assets[]` (path, MIME type, bytes) with every
file under DIR (the built web UI), and DEPFILE so that ninja rebuilds it
when a file or the list of files changes.  A missing DIR gives an empty
table: the server then says the UI was not built."""
import gzip
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
    ".ico": "image/x-icon", ".json": "application/json", ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8", ".map": "application/json",
}

src, dst, depfile = sys.argv[1:4]
files, dirs = [], [src]
while not os.path.isdir(dirs[0]):  # watch the nearest folder that exists, for DIR to appear
    dirs[0] = os.path.dirname(os.path.abspath(dirs[0]))
if os.path.isdir(src):
    for root, subdirs, names in os.walk(src):
        subdirs.sort()
        dirs += [os.path.join(root, d) for d in subdirs]
        for n in sorted(names):
            if os.path.splitext(n)[1] in TYPES:
                files.append(os.path.join(root, n))

out = ["/* Generated from the built web UI by tools/embed_dir.py; do not edit. */",
       '#include "ui_assets.h"', ""]


def array(name, data):
    out.append("static const unsigned char %s[%d] = {" % (name, len(data) or 1))
    for j in range(0, len(data), 20):
        out.append(",".join(str(b) for b in data[j:j + 20]) + ",")
    if not data:
        out.append("0")
    out.append("};")


rows = []
for i, path in enumerate(files):
    data = open(path, "rb").read()
    array("asset_%d" % i, data)
    # A gzip copy (fixed mtime: the same input gives the same bytes) when it is worth it.
    gz = gzip.compress(data, 9, mtime=0)
    gz_ref = "0, 0"
    if len(gz) < len(data) * 0.9:
        array("asset_%d_gz" % i, gz)
        gz_ref = "asset_%d_gz, %d" % (i, len(gz))
    rel = "/" + os.path.relpath(path, src).replace(os.sep, "/")
    rows.append('\t{ "%s", "%s", asset_%d, %d, %s },' % (rel, TYPES[os.path.splitext(path)[1]], i,
                                                        len(data), gz_ref))
out.append("const struct ui_asset ui_assets[] = {")
out += rows
out.append("\t{ 0, 0, 0, 0, 0, 0 }\n};\n")
text = "\n".join(out)
if not os.path.exists(dst) or open(dst).read() != text:
    with open(dst, "w") as f:
        f.write(text)
os.utime(dst)  # newer than its inputs, or ninja would run this again and again
with open(depfile, "w") as f:
    f.write("%s: %s\n" % (dst, " ".join(p.replace(" ", "\\ ") for p in dirs + files)))
