#!/usr/bin/env python3
"""Count test results.

count-results.py TESTLOG.json LABEL
    Reads meson's testlog.json.  A test whose output has a line
    "N passed, N failed" counts as that many cases; any other test counts
    as one case, passed or failed by its result.  Prints "LABEL: N passed,
    N failed".
count-results.py --total SUMMARY
    Adds up the "LABEL: N passed, N failed" lines of SUMMARY and prints
    the closing "N passed, N failed" line.
"""
import json
import re
import sys

LINE = re.compile(r"^(?:\w[\w-]*: )?(\d+) passed, (\d+) failed", re.M)


def count_testlog(path):
    passed = failed = 0
    with open(path) as f:
        for raw in f:
            t = json.loads(raw)
            ok = t["result"] == "OK"
            found = LINE.findall(t.get("stdout") or "")
            if found:
                p, fl = map(int, found[-1])
                passed += p
                failed += fl
                if not ok and fl == 0:
                    failed += 1  # crashed after printing its count
            elif ok:
                passed += 1
            else:
                failed += 1
    return passed, failed


def main():
    if sys.argv[1] == "--total":
        passed = failed = 0
        with open(sys.argv[2]) as f:
            for m in LINE.finditer(f.read()):
                passed += int(m.group(1))
                failed += int(m.group(2))
        print(f"{passed} passed, {failed} failed")
        return 0
    passed, failed = count_testlog(sys.argv[1])
    print(f"{sys.argv[2]}: {passed} passed, {failed} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
