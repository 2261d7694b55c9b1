#!/usr/bin/env python3
"""run-toml-test.py [--roundtrip] SKILLMEAT SUITE_DIR [SKIP_FILE]

Runs the toml-test suite (https://github.com/toml-lang/toml-test) against
`skillmeat debug toml-decode`, as toml-test's own harness would: every case
listed in SUITE_DIR/files-toml-1.0.0 runs; a valid case must decode to the
expected tagged JSON (strings exactly, floats numerically with nan equal to
nan, date-times as instants at millisecond precision), an invalid case must
be rejected with exit status 1 and a located message.  Cases named in
SKIP_FILE (one per line, then '#' and the reason) are skipped and counted.
With --roundtrip, each valid case is also encoded by `skillmeat debug
toml-encode` and decoded again, and must still equal the expected values.
Prints "N passed, N failed" (and ", N skipped").
"""
import datetime
import json
import math
import os
import re
import subprocess
import sys


def parse_dt(kind, text):
    text = text.replace(" ", "T").replace("t", "T").replace("z", "Z")
    m = re.match(r"^(.*?)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", text)
    base, frac, off = m.group(1), m.group(2) or "", m.group(3) or ""
    ms = (frac[1:] + "000")[:3] if frac else "000"  # millisecond precision
    if kind == "time-local":
        return datetime.time.fromisoformat(base + "." + ms)
    if kind == "date-local":
        return datetime.date.fromisoformat(base)
    value = datetime.datetime.fromisoformat(base + "." + ms + off.replace("Z", "+00:00"))
    return value


def same(expected, got):
    if isinstance(expected, dict) and set(expected) == {"type", "value"} and \
            isinstance(expected["value"], str):
        if not (isinstance(got, dict) and set(got) == {"type", "value"}):
            return False
        if expected["type"] != got["type"]:
            return False
        kind, e, g = expected["type"], expected["value"], got["value"]
        if kind == "float":
            fe, fg = float(e), float(g)
            return (math.isnan(fe) and math.isnan(fg)) or fe == fg
        if kind == "bool":
            return e.lower() == g.lower()
        if kind in ("datetime", "datetime-local", "date-local", "time-local"):
            try:
                return parse_dt(kind, e) == parse_dt(kind, g)
            except ValueError:
                return False
        return e == g
    if isinstance(expected, dict):
        return isinstance(got, dict) and set(expected) == set(got) and \
            all(same(expected[k], got[k]) for k in expected)
    if isinstance(expected, list):
        return isinstance(got, list) and len(expected) == len(got) and \
            all(same(a, b) for a, b in zip(expected, got))
    return False


def main():
    roundtrip = "--roundtrip" in sys.argv
    sys.argv = [a for a in sys.argv if a != "--roundtrip"]
    binary, suite = sys.argv[1], sys.argv[2]
    skip = {}
    if len(sys.argv) > 3:
        for line in open(sys.argv[3]):
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, why = line.partition("#")
                skip[name.strip()] = why.strip()
    cases = [l.strip() for l in open(os.path.join(suite, "files-toml-1.0.0")) if l.strip()]
    passed = failed = skipped = 0
    for case in cases:
        if not case.endswith(".toml"):
            continue
        if case in skip:
            skipped += 1
            continue
        path = os.path.join(suite, case)
        with open(path, "rb") as f:
            data = f.read()
        r = subprocess.run([binary, "debug", "toml-decode"], input=data, capture_output=True)
        if case.startswith("valid/"):
            expected = json.load(open(path[:-5] + ".json"))
            ok = r.returncode == 0 and same(expected, json.loads(r.stdout))
            why = r.stderr.decode(errors="replace").strip() if r.returncode else "output differs"
            if ok and roundtrip:
                # Our encoder must write TOML that decodes to the same values.
                enc = subprocess.run([binary, "debug", "toml-encode"], input=data,
                                     capture_output=True)
                dec = subprocess.run([binary, "debug", "toml-decode"], input=enc.stdout,
                                     capture_output=True)
                ok = enc.returncode == 0 and dec.returncode == 0 and \
                    same(expected, json.loads(dec.stdout))
                why = "round trip through the encoder differs: " + \
                    (dec.stderr.decode(errors="replace").strip() or "values differ")
        else:
            ok = r.returncode == 1 and b"error:" in r.stderr
            why = "accepted" if r.returncode == 0 else f"exit {r.returncode}"
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {case}: {why[:300]}")
    extra = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{extra}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
