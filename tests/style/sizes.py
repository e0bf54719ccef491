#!/usr/bin/python3
"""Check the size rules of the tree.

- every file in src/cmd/ under 250 lines (a command parses options, calls
  one operation and prints its result);
- no function in src/ longer than 80 lines, counted from the line of its
  opening brace to the line of its closing brace.

The sources are clang-formatted in the kernel style, so a function body is
a '{' alone at the start of a line up to the next '}' alone at the start of
a line; the declarator stands on the lines before it.

An exception is a line "PATH FUNCTION REASON" in tests/style/sizes.allow;
an entry that no longer matches anything is itself an error, so the list
cannot go stale.

Usage: sizes.py SOURCE_DIR. Exits 1 on any violation.
"""
import os
import re
import sys

MAX_FUNCTION = 80
MAX_CMD_FILE = 250
NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions(path):
    """(name, first line, length) for each function of a C file."""
    with open(path, encoding="utf-8") as fp:
        lines = fp.read().split("\n")
    out, start = [], None
    for i, line in enumerate(lines):
        if line == "{":
            start = i
        elif line.startswith("}") and start is not None and (
                line == "}" or line.startswith("} ")):
            head = " ".join(lines[max(0, start - 4):start])
            names = NAME.findall(head)
            name = names[0] if names else "?"
            # the declarator's function name is the first identifier
            # followed by '(' on the last declarator line(s)
            for k in range(start - 1, max(-1, start - 5), -1):
                found = NAME.findall(lines[k])
                if found:
                    name = found[0]
                    if not lines[k].startswith(("\t", " ")):
                        break
            out.append((name, start + 1, i - start + 1))
            start = None
    return out


def load_allow(root):
    allow = {}
    path = os.path.join(root, "tests/style/sizes.allow")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fp:
            for n, line in enumerate(fp, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                parts = line.split(None, 2)
                if len(parts) < 3:
                    print("sizes.allow:%d: expected PATH FUNCTION REASON" % n)
                    sys.exit(1)
                allow[(parts[0], parts[1])] = n
    return allow


def main():
    root = sys.argv[1]
    allow, used, errors, nfunc = load_allow(root), set(), [], 0
    for d, _, files in os.walk(os.path.join(root, "src")):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            if rel.startswith("src/cmd/"):
                with open(path, encoding="utf-8") as fp:
                    n = fp.read().count("\n")
                if n >= MAX_CMD_FILE:
                    errors.append("%s: %d lines; a command file stays under "
                                  "%d" % (rel, n, MAX_CMD_FILE))
            if not f.endswith(".c"):
                continue
            for name, line, length in functions(path):
                nfunc += 1
                if length <= MAX_FUNCTION:
                    continue
                if (rel, name) in allow:
                    used.add((rel, name))
                    continue
                errors.append("%s:%d: %s() is %d lines; at most %d" % (
                    rel, line, name, length, MAX_FUNCTION))
    for key, n in sorted(allow.items(), key=lambda kv: kv[1]):
        if key not in used:
            errors.append("sizes.allow:%d: %s %s is not over the limit any "
                          "more: remove the entry" % (n, key[0], key[1]))
    for e in errors:
        print(e)
    print("sizes: %d functions checked, %d violations" % (nfunc, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
