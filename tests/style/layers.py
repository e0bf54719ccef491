#!/usr/bin/python3
"""Check the layer rule and the absence of include circles.

src/: main.c -> cmd -> ops -> io -> core -> util. A file may include headers
of its own layer or of a lower one, never of a higher one.
sim/: each simulator (sim/proxmox, sim/vault) may include its own files,
sim/common and src/util, nothing else of the client.

Circles are looked for between modules, a module being a .c file with the .h
of the same name (so "api.c calls handlers in kv2.c, which call back into
api.h" is a circle even though no header includes itself); a private
header X_int.h belongs to module X. Every include
edge between two modules counts.

With a build directory as second argument, the same is checked on what the
object files define and use (nm): a module that calls a function of another
module depends on it, whichever header declares the function. That finds
the circles that one shared header hides (a router calling handlers that
call back into the router's reply helpers). A folder below src/<layer>/ is
one module (its files share a private header); elsewhere a module is one
.c file.

Usage: layers.py SOURCE_DIR [BUILD_DIR]. Prints one line per violation and
a summary; exits 1 on any violation.
"""
import subprocess
import os
import re
import sys

LAYERS = ["util", "core", "io", "ops", "cmd", "main"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    """The layer of a path relative to src/ ('main' for src/main.c)."""
    top = rel.split("/", 1)[0]
    if top == "main.c":
        return "main"
    return top if top in LAYERS else None


def resolve(root, src_file, inc):
    """The repository-relative path an include names, or None if outside."""
    here = os.path.dirname(src_file)
    for base in (os.path.join(root, here), os.path.join(root, "src")):
        cand = os.path.normpath(os.path.join(base, inc))
        if os.path.isfile(cand):
            return os.path.relpath(cand, root)
    return None


def sources(root):
    for top in ("src", "sim"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def module_of(path):
    """The module of a source path: its name without the extension, with a
    private header X_int.h counted as part of X."""
    mod = os.path.splitext(path)[0]
    return mod[:-4] if mod.endswith("_int") else mod


def check_edge(frm, to):
    """A violation message for the include frm -> to, or None."""
    if frm.startswith("src/") and to.startswith("src/"):
        lf, lt = layer_of(frm[4:]), layer_of(to[4:])
        if lf is None or lt is None:
            return "%s includes %s: not in a known layer" % (frm, to)
        if LAYERS.index(lt) > LAYERS.index(lf):
            return "%s (%s) includes %s (%s): a higher layer" % (
                frm, lf, to, lt)
        return None
    if frm.startswith("sim/"):
        own = "/".join(frm.split("/")[:2]) + "/"
        if to.startswith(own) or to.startswith("sim/common/") \
                or to.startswith("src/util/"):
            if frm.startswith("sim/common/") and not (
                    to.startswith("sim/common/") or to.startswith("src/util/")):
                return "%s includes %s: sim/common uses src/util only" % (
                    frm, to)
            return None
        return "%s includes %s: a simulator shares only src/util and " \
               "sim/common" % (frm, to)
    if frm.startswith("src/") and to.startswith("sim/"):
        return "%s includes %s: the client never includes a simulator" % (
            frm, to)
    return None


def find_cycles(graph):
    """Every elementary circle found by a depth-first search (one per back
    edge), as lists of modules."""
    cycles, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return cycles


def object_module(root, build, obj):
    """The module of an object file, from the source path CMake encodes in
    its place: DIR/CMakeFiles/T.dir/SRC.c.o for a source SRC relative to
    DIR, with ".." written "__". None for anything outside src/ and sim/."""
    rel = os.path.relpath(obj, build)
    m = re.match(r"(.*?)CMakeFiles/[^/]+\.dir/(.+)\.c\.o$", rel)
    if not m:
        return None
    src = os.path.normpath(m.group(1) + m.group(2).replace("__", ".."))
    parts = src.split("/")
    if parts[0] not in ("src", "sim"):
        return None
    if not os.path.isfile(os.path.join(root, src)):
        return None  # left behind by a source that was renamed
    if parts[0] == "src" and len(parts) > 3:
        return "/".join(parts[:3])  # a folder module: src/core/ini
    return src


def symbol_check(root, build):
    """Circles between modules by defined and used symbols."""
    defs, uses = {}, {}
    for d, _, files in os.walk(build):
        for f in files:
            if not f.endswith(".c.o"):
                continue
            path = os.path.join(d, f)
            mod = object_module(root, build, path)
            if mod is None or "/fuzz/" in path:
                continue
            out = subprocess.run(["nm", "-P", path], capture_output=True,
                                 text=True, check=True).stdout
            for line in out.splitlines():
                fields = line.split()
                if len(fields) < 2:
                    continue
                name, kind = fields[0], fields[1]
                if kind == "U":
                    uses.setdefault(mod, set()).add(name)
                elif kind in "TDBR":
                    defs.setdefault(name, set()).add(mod)
    graph, errors = {}, []
    for mod, names in uses.items():
        for n in sorted(names):
            for owner in defs.get(n, ()):
                # the same source is built into several targets (the
                # sanitizer build, a library and a test): same module
                if owner == mod:
                    continue
                graph.setdefault(mod, set()).add(owner)
                if mod.startswith("sim/") and owner.startswith("src/") \
                        and not owner.startswith("src/util/"):
                    errors.append("%s uses %s of %s: a simulator shares "
                                  "only src/util" % (mod, n, owner))
    errors += ["call circle: " + " -> ".join(c) for c in find_cycles(graph)]
    return errors


def main():
    root = sys.argv[1]
    errors, graph, edges = [], {}, 0
    for f in sources(root):
        mod = module_of(f)
        with open(os.path.join(root, f), encoding="utf-8") as fp:
            for lineno, line in enumerate(fp, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                to = resolve(root, f, m.group(1))
                if to is None:
                    continue
                edges += 1
                bad = check_edge(f, to)
                if bad:
                    errors.append("%s:%d: %s" % (f, lineno, bad))
                tmod = module_of(to)
                if tmod != mod:
                    graph.setdefault(mod, set()).add(tmod)
    for c in find_cycles(graph):
        errors.append("include circle: " + " -> ".join(c))
    if len(sys.argv) > 2:
        errors.extend(symbol_check(root, sys.argv[2]))
    for e in errors:
        print(e)
    print("layers: %d include edges between %d modules, %d violations" % (
        edges, len(graph), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
