#!/usr/bin/env python3
"""gen-toml.py OUT [MB]: a TOML document of about MB megabytes (default 5)
shaped like a large collection manifest: [collection], then [[artifacts]]
with nested metadata tables, arrays, inline tables, every scalar kind
(strings with escapes, integers, floats, booleans, date-times)."""
import random
import sys


def main():
    out = sys.argv[1]
    target = float(sys.argv[2] if len(sys.argv) > 2 else 5) * 1024 * 1024
    rng = random.Random(5)
    parts = ['[collection]\nname = "bench"\nversion = "1.0.0"\n'
             'created = 2026-01-01T00:00:00Z\n\n']
    size, i = len(parts[0]), 0
    while size < target:
        kind = ("agent", "skill", "command", "workflow")[i % 4]
        tags = ", ".join(f'"tag-{rng.randint(0, 50)}"' for _ in range(rng.randint(0, 4)))
        entry = f'''[[artifacts]]
name = "artifact-{i}"
type = "{kind}"
path = "{kind}s/artifact-{i}.md"
origin = "github"
upstream = "https://github.com/example/repo-{i % 97}/tree/main/{kind}s"
added = 2026-03-{1 + i % 28:02d}T10:{i % 60:02d}:00.{i % 1000000:06d}
version_spec = "latest"
tags = [{tags}]
score = {rng.random() * 100:.6f}
downloads = {rng.randint(0, 10**9):_}
enabled = {str(i % 3 != 0).lower()}
checksum = 0x{rng.getrandbits(60):x}

[artifacts.metadata]
title = "Artifact {i}: \\"quoted\\" \\u00e9l\\u00e8ve"
description = """
A multi-line description of artifact {i}.
It spans several lines, with a \\
continued line."""
author = 'Literal {i} \\no escape'
dependencies = ["skill:dep-{i % 13}", "agent:helper-{i % 7}"]
limits = {{ max_tokens = {1000 + i % 5000}, temperature = 0.{i % 9 + 1}, tools = ["Read", "Grep"] }}

'''
        parts.append(entry)
        size += len(entry)
        i += 1
    with open(out, "w") as f:
        f.write("".join(parts))


if __name__ == "__main__":
    main()
