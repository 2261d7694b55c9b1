#!/usr/bin/env python3
"""check-schema.py SKILLMEAT SCHEMA [--reject] FILE...

Every FILE must satisfy the SWDL JSON Schema (with --reject: must violate
it).  Files are read with skillmeat's own loader (`skillmeat debug load`),
so YAML is typed exactly as the engine types it.
"""
import json
import subprocess
import sys

import jsonschema


def main():
    bin_, schema_path, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    reject = bool(files) and files[0] == "--reject"
    if reject:
        files = files[1:]
    schema = json.load(open(schema_path))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    passed = failed = 0
    for f in files:
        out = subprocess.run([bin_, "debug", "load", f], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"FAIL {f}: skillmeat could not load it:\n{out.stderr}")
            failed += 1
            continue
        errors = list(validator.iter_errors(json.loads(out.stdout)))
        if bool(errors) == reject:
            passed += 1
            continue
        failed += 1
        if reject:
            print(f"FAIL {f}: the schema accepts it")
        for e in errors:
            print(f"FAIL {f}: {e.message} at /{'/'.join(map(str, e.absolute_path))}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
