#!/usr/bin/python3
"""The simulators' structure, checked on the build's object files and on
the sources' #include lines:

- within each program (proxmox-sim, vault-sim) and sim/common, the graph
  "object A calls or uses a symbol object B defines" has no cycle (a
  router that calls handlers which call back into the router's file is
  one);
- no simulator object uses a symbol of the client's libraries (src/core,
  src/io, src/ops): a simulator sharing the client's idea of the API
  could not catch the client's mistakes;
- sim/common/ includes src/util/ only (and its own headers); a simulator
  includes src/util/, sim/common/ and its own headers, nothing else of
  src/.

Usage: sim_deps.py SOURCE_DIR NAME=OBJ;OBJ;... ... -- CLIENT_LIB.a ...
"""

import os
import re
import subprocess
import sys

from simlib import Tap

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def symbols(path):
    """(defined, undefined) external symbols of an object or archive."""
    out = subprocess.run(["nm", "-P", "-g", path], capture_output=True,
                         text=True, check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2 or f[0].endswith(":"):
            continue
        (undefined if f[1] == "U" else defined).add(f[0])
    return defined, undefined


def find_cycle(graph):
    """One cycle of graph {node: [node]} as a list, or None."""
    state = {}

    def visit(n, path):
        state[n] = "open"
        path.append(n)
        for m in graph.get(n, ()):
            if state.get(m) == "open":
                return path[path.index(m):] + [m]
            if m not in state:
                c = visit(m, path)
                if c:
                    return c
        path.pop()
        state[n] = "done"
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n, [])
            if c:
                return c
    return None


def object_graph(objs):
    syms = {os.path.basename(o).split(".")[0]: symbols(o) for o in objs}
    owner = {s: k for k, (d, _) in syms.items() for s in d}
    return {k: sorted({owner[s] for s in u if s in owner and owner[s] != k})
            for k, (_, u) in syms.items()}, syms


def check_includes(t, src):
    bad = []
    for sub in ("common", "proxmox", "vault"):
        d = os.path.join(src, "sim", sub)
        own = set(os.listdir(d)) if os.path.isdir(d) else set()
        for name in sorted(own):
            if not name.endswith((".c", ".h")):
                continue
            with open(os.path.join(d, name)) as f:
                for inc in INCLUDE.findall(f.read()):
                    ok = (inc in own or inc.startswith("util/") or
                          (sub != "common" and inc.startswith("common/")))
                    if not ok:
                        bad.append("sim/%s/%s: %s" % (sub, name, inc))
    t.eq(bad, [], "sim/ includes only src/util/, sim/common/ and its own "
         "headers")


def main():
    src = sys.argv[1]
    sep = sys.argv.index("--")
    programs = [a.split("=", 1) for a in sys.argv[2:sep]]
    client_libs = [a for a in sys.argv[sep + 1:] if a]
    t = Tap()
    client = set()
    for lib in client_libs:
        client |= symbols(lib)[0]
    for name, objs in programs:
        objs = [o for o in objs.split(";") if o]
        graph, syms = object_graph(objs)
        t.ok(len(graph) >= 3, "%s: %d objects read" % (name, len(graph)))
        t.eq(find_cycle(graph), None, "%s: no cycle between its files "
             "(who calls whom)" % name)
        used = sorted({s for _, u in syms.values() for s in u} & client)
        t.eq(used, [], "%s: uses nothing of src/core, src/io, src/ops" %
             name)
    check_includes(t, src)
    t.done()


if __name__ == "__main__":
    main()
