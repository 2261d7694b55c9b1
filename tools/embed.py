#!/usr/bin/env python3
"""embed.py NAME INPUT OUTPUT: write OUTPUT, a C file defining
`const char NAME[]` with INPUT's bytes (NUL-terminated), for files built
into the binary."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, "rb").read()
with open(dst, "w") as f:
    f.write("/* Generated from %s by tools/embed.py; do not edit. */\n" % src.split("/")[-1])
    f.write("const char %s[] = {\n" % name)
    for i in range(0, len(data), 16):
        # as signed char values: UTF-8 bytes over 127 would overflow `char`
        f.write("\t" + ", ".join(str(b - 256 if b > 127 else b) for b in data[i:i + 16]) + ",\n")
    f.write("\t0x00\n};\n")
