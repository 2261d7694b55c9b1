#!/usr/bin/env python3
"""Keep the house in order (issue 29): the rooms of src/ and their one-way doors.

  check-rooms.py [-v] SRCROOT BUILDDIR [--allow FILE]

Reports, and fails on:
  a folder of src/ that is not a room of FLOORS, or whose door (DOORS: its
      public header) does not open with "Room NAME/" and what the room owns;
  (a) an #include "..." in src/ that goes from a room to a room above it (or
      sideways, between two rooms of the same floor, or to another room's
      private *_int.h or *_proto.h header), resolved the way the
      compiler resolves quoted includes (the including file's folder first,
      then src/);
  (b) .c files that call each other: from `nm` on the objects the build made
      (compile_commands.json names them), file A calls B when A's undefined
      symbols are defined in B; every strongly connected group of two or more
      files is a circle.
Each finding is one line; a line also in the --allow file (known debts) is
listed but does not fail, and an allowed line that no longer occurs fails, so
the list only shrinks. -v names the symbols that close each circle.
"""
import json
import os
import re
import subprocess
import sys

# The floors, bottom up; rooms on one floor may not include each other.
FLOORS = [
    ['base'],
    ['formats'],
    ['swdl'],
    ['collection'],
    ['context', 'pack'],
    ['store', 'supervise', 'runners'],
    ['engine'],
    ['export'],
    ['server'],
    ['cli'],
]
FLOOR = {room: i for i, rooms in enumerate(FLOORS) for room in rooms}
# Each room's door: its public header, whose first comment says what the room owns.
DOORS = {
    'base': 'compat.h', 'formats': 'load.h', 'swdl': 'workflow.h',
    'collection': 'collection.h', 'context': 'stage.h', 'pack': 'pack.h',
    'store': 'store.h', 'supervise': 'supervise.h', 'runners': 'runner.h',
    'engine': 'host.h', 'export': 'export_argo.h', 'server': 'server.h', 'cli': 'cli.h',
}

# A room's private headers: no other room includes them.
PRIVATE = re.compile(r'_(int|proto)\.h$')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def room_of(path, src):
    rel = os.path.relpath(path, src)
    return rel.split(os.sep)[0] if os.sep in rel else None


def resolve(name, including, src):
    for base in (os.path.dirname(including), src):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(cand):
            return cand
    return None


def upward_includes(src):
    out = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith(('.c', '.h')):
                continue
            path = os.path.join(dirpath, f)
            here = room_of(path, src)
            if here not in FLOOR:
                continue
            with open(path, encoding='utf-8', errors='replace') as fh:
                text = fh.read()
            for m in INCLUDE.finditer(text):
                target = resolve(m.group(1), path, src)
                there = target and room_of(target, src)
                if not there or there == here or there not in FLOOR:
                    continue
                if PRIVATE.search(target):
                    kind = 'private'
                elif FLOOR[there] > FLOOR[here]:
                    kind = 'up'
                elif FLOOR[there] == FLOOR[here]:
                    kind = 'sideways'
                else:
                    continue
                out.append('include %s: %s -> %s' % (
                    kind, os.path.relpath(path, src), os.path.relpath(target, src)))
    return sorted(set(out))


def doors(src):
    """Every folder of src/ is a room of FLOORS whose door names it."""
    out = []
    for room in sorted(os.listdir(src)):
        if not os.path.isdir(os.path.join(src, room)):
            continue
        if room not in FLOOR:
            out.append('room %s/: not in the floors of scripts/check-rooms.py' % room)
            continue
        door = os.path.join(src, room, DOORS[room])
        try:
            with open(door, encoding='utf-8') as fh:
                head = fh.read(4096)
        except OSError:
            head = ''
        first = head.split('*/', 1)[0] if head.startswith('/*') else ''
        if ('Room %s/' % room) not in first:
            out.append('room %s/: %s does not open with "Room %s/", what it owns'
                       % (room, DOORS[room], room))
    return out


def objects(build, src):
    """Source file (relative to src/) -> its object files."""
    with open(os.path.join(build, 'compile_commands.json')) as fh:
        entries = json.load(fh)
    objs = {}
    for e in entries:
        f = os.path.normpath(os.path.join(e['directory'], e['file']))
        if not f.startswith(src + os.sep) or 'fuzz' in e['output']:
            continue
        o = os.path.join(e['directory'], e['output'])
        if os.path.isfile(o):
            objs.setdefault(os.path.relpath(f, src), []).append(o)
    return objs


def symbols(obj):
    res = subprocess.run(['nm', '-P', obj], capture_output=True, text=True, check=True)
    defined, undefined = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == 'U':
            undefined.add(name)
        elif kind.isupper() and kind not in 'N':
            defined.add(name)
    return defined, undefined


def circles(build, src):
    objs = objects(build, src)
    if not objs:
        sys.exit('check-rooms: no objects of src/ under %s: build first' % build)
    defs, uses = {}, {}
    owner = {}
    for f, olist in objs.items():
        d, u = set(), set()
        for o in olist:
            od, ou = symbols(o)
            d |= od
            u |= ou
        defs[f], uses[f] = d, u - d
        for s in d:
            owner.setdefault(s, f)
    calls = {f: sorted({owner[s] for s in uses[f] if s in owner} - {f}) for f in objs}
    out = []
    for group in strongly_connected(calls):
        out.append(' <-> '.join(group))
        if VERBOSE:  # which symbols close the circle, one edge a line
            for a in group:
                for b in calls[a]:
                    if b in group:
                        used = sorted(s for s in uses[a] if owner.get(s) == b)
                        print('  %s -> %s: %s' % (a, b, ' '.join(used)))
    return out


def strongly_connected(graph):
    """Tarjan's algorithm; groups of two or more nodes, each sorted."""
    index, low, stack, on, groups = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        work = [(v, iter(graph.get(v, ())))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph.get(w, ()))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    group.append(w)
                    if w == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


VERBOSE = False


def main(argv):
    global VERBOSE
    if '-v' in argv:
        VERBOSE = True
        argv = [a for a in argv if a != '-v']
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != '--allow'):
        sys.exit('usage: check-rooms.py [-v] SRCROOT BUILDDIR [--allow FILE]')
    src = os.path.normpath(os.path.join(os.path.abspath(argv[1]), 'src'))
    build = os.path.abspath(argv[2])
    allowed = set()
    if len(argv) == 5:
        with open(argv[4]) as fh:
            allowed = {l.strip() for l in fh if l.strip() and not l.startswith('#')}
    found = doors(src) + upward_includes(src) + ['circle: ' + c for c in circles(build, src)]
    bad = 0
    for line in found:
        known = line in allowed
        bad += not known
        print(('allowed ' if known else 'FOUND   ') + line)
    for line in sorted(allowed - set(found)):
        bad += 1
        print('STALE   %s (allowed but gone: take it off the list)' % line)
    print('check-rooms: %d finding(s), %d failing' % (len(found), bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
