#!/usr/bin/python3
"""Differential test of the INI inventory parser (src/core/ini/) against
Ansible's own ini plugin: for every inventory in CASES, run ini_check and
ansible-core's InventoryModule.parse() (plus InventoryData's
reconcile_inventory(), which ansible-inventory and ansible-playbook run
next) and require the same verdict; where Ansible's message names
"FILE:LINE:", the same line.

Rows marked STRICT hold what our parser refuses on purpose although
Ansible may read it (NUL, lone CR, form feed, vertical tab, \\x1c-\\x1e,
U+0085/U+2028/U+2029, invalid UTF-8 outside comment lines, more than 65
ranges in one host pattern, range numbers beyond 64 bits or written with
non-ASCII digits, a non-ASCII host in "[host]:port", values nesting more
than 1000 operators deep, an ansible_group_priority that is not an integer): there the test only checks that we refuse.

All Ansible runs happen in one /usr/bin/python3 process, in a scratch
directory with an empty ansible.cfg, so no local configuration applies.

Usage: ini_ansible_diff.py INI_CHECK
"""

import json
import os
import re
import subprocess
import sys
import tempfile

from simlib import Tap

STRICT = True

# (name, file content, strict)
CASES = [
    # --- the reference's verified runs (section 7) ---------------------------
    ("ref-good", b"lonely.example.com\n\n[pve]\n"
     b"pve1.example.com ansible_host=10.0.0.11 ansible_port=2222 node_id=1 "
     b"ansible_python_interpreter=/usr/bin/python3\n"
     b"pve2.example.com ansible_host=10.0.0.12\n"
     b"vm[01:03].lab.example.com\n\n[k3s_servers]\nk3s-[a:c].lab\n\n"
     b"[cluster:children]\npve\nk3s_servers\n\n[pve:vars]\n"
     b"env=test # comment?\nflag=False\nproxmox_api_port=8006\n\n"
     b"[all:vars]\nansible_user=root\n", False),
    ("ref-broken", b"[pve]\npve1.example.com ansible_host=10.0.0.11\n"
     b"pve2.example.com ansible_host=10.0.0.12 this-is-not-a-var\n\n"
     b"[all:vars]\nansible_user=root\n", False),
    ("ref-host-novalue", b"[pve]\nhost1 novalue\n", False),
    ("ref-vars-noeq", b"[pve]\nh1\n\n[pve:vars]\njust_a_word\n", False),
    ("ref-bad-section", b"[bad section]\n", False),
    ("ref-unknown-type", b"[grp:foo]\n", False),
    ("ref-ghost-vars", b"[ghost:vars]\nx=1\n", False),
    ("ref-missing-child", b"[parent:children]\nmissingchild\n", False),
    ("ref-unclosed-quote", b"[pve]\nhost1 x=\"unclosed\n", False),
    ("ref-trailing-colon", b"[pve]\nhost1:\n", False),
    ("ref-unequal-range", b"[pve]\nvm[01:3]\n", False),
    ("ref-step-letter", b"[pve]\nvm[1:3:x]\n", False),
    ("ref-yaml-marker", b"[pve]\n---\n", False),
    ("ref-reversed-range", b"[pve]\nvm[3:1]\n", False),
    ("ref-ports", b"[2001:db8::1]:2222\n10.0.0.5:2200 ansible_user=x\n",
     False),

    # --- blank files, comments, line endings ---------------------------------
    ("empty-file", b"", False),
    ("only-newlines", b"\n\n\n", False),
    ("only-blanks", b"   \n\t\n  \t  ", False),
    ("comments", b"# hash\n; semicolon\n   # indented\n\t; tab\nh1\n", False),
    ("no-final-newline", b"[g]\nh1 x=1", False),
    ("no-final-newline-error", b"[g]\nh1 bad", False),
    ("crlf", b"[g]\r\nh1 x=1\r\n\r\n[g:vars]\r\na=b\r\n", False),
    ("crlf-error-line", b"# c\r\n[g]\r\nh1 bad\r\n", False),
    ("cr-at-eof", b"[g]\nh1\r", False),
    ("lone-cr", b"[g]\rh1\n", STRICT),
    ("lone-cr-in-comment", b"# a\rb\nh1\n", STRICT),
    ("nul-in-host", b"h1\x00\n", STRICT),
    ("nul-in-comment", b"# \x00\nh1\n", STRICT),
    ("form-feed", b"[g]\nh1\x0c\n", STRICT),
    ("vertical-tab", b"h1 \x0b x=1\n", STRICT),
    ("x1c", b"# a\x1cb\n", STRICT),
    ("x1d", b"h1\x1d\n", STRICT),
    ("x1e", b"[g]\x1e\n", STRICT),
    ("u0085", b"# a\xc2\x85[g:vars]\n", STRICT),
    ("u2028", b"h1\xe2\x80\xa8x\n", STRICT),
    ("u2029", b"[g]\nh1 x=\"\xe2\x80\xa9\"\n", STRICT),
    ("bom-host", b"\xef\xbb\xbfh1\n", False),
    ("bom-section", b"\xef\xbb\xbf[g]\nh1\n", False),
    ("bom-comment", b"\xef\xbb\xbf# c\n", False),

    # --- non-UTF-8 -----------------------------------------------------------
    ("latin1-hash-comment", b"# caf\xe9\n[g]\nh1\n", False),
    ("latin1-semicolon-comment", b";\xff\xfe\nh1\n", False),
    ("latin1-indented-comment", b"  # caf\xe9\nh1\n", False),
    ("latin1-host", b"[g]\nh\xe9te\n", STRICT),
    ("latin1-inline-comment", b"h1 # caf\xe9\n", STRICT),
    ("latin1-section", b"[gr\xe9]\nh1\n", STRICT),
    ("latin1-var-value", b"[all:vars]\nx=\xff\n", STRICT),
    ("utf8-names", b"[gr\xc3\xa9]\nh\xc3\xb4te x=\xc3\xa9\n", False),

    # --- section headers -----------------------------------------------------
    ("section-comment", b"[g] # the group\nh1\n[g:vars]   # c\nx=1\n", False),
    ("section-semicolon-after", b"[g] ; c\n", False),
    ("section-trailing-space", b"[g] \t \nh1\n", False),
    ("section-leading-space", b"   [g]\nh1\n", False),
    ("section-space-inside", b"[ g]\n", False),
    ("section-empty-name", b"[]\n", False),
    ("section-empty-tag", b"[g:]\n", False),
    ("section-three-parts", b"[a:b:c]\n", False),
    ("section-hosts-tag", b"[g:hosts]\nh1\n", False),
    ("section-tag-case", b"[g:VARS]\n", False),
    ("section-double-bracket", b"[[g]]\n", False),
    ("section-unclosed", b"[g\n", False),
    ("section-text-after", b"[g] x=1\n", False),
    ("section-odd-chars", b"[web.dmz]\nh1\n[k3s-servers]\nh2\n[g#1]\nh3\n"
     b"[a!b@c$]\nh4\n[g=1]\nh5\n", False),
    ("section-bracket-inside", b"[a[b]\nh1\n", False),
    ("section-nbsp-after", b"[g]\xc2\xa0\nh1\n", False),
    ("section-nbsp-inside", b"[a\xc2\xa0b]\n", False),
    ("section-x1f-after", b"[g]\x1f\nh1\n", False),
    ("section-x1f-inside", b"[a\x1fb]\n", False),
    ("nbsp-before-vars-header", b"[g]\nh1\n\xc2\xa0[g:vars]\nx=1\n", False),
    ("ideographic-space-comment", b"\xe3\x80\x80# comment\nh1\n", False),
    ("nbsp-comment-latin1", b"\xc2\xa0# caf\xe9\nh1\n", False),
    ("section-ideographic-space-comment", b"[g]\xe3\x80\x80# c\nh1\n",
     False),

    # --- children and vars ---------------------------------------------------
    ("children-declared-later", b"[p:children]\nc\n\n[c]\nh1\n", False),
    ("children-never-declared", b"[p:children]\nc\n[p:vars]\nx=1\n", False),
    ("children-two-parents", b"[a:children]\nc\n[b:children]\nc\n", False),
    ("children-resolved-by-children", b"[p:children]\nc\n[c:children]\n",
     False),
    ("children-vars-does-not-declare", b"[p:children]\nc\n[c:vars]\nx=1\n",
     False),
    ("children-comment", b"[p:children]\nc # later\n[c]\n", False),
    ("children-two-words", b"[p:children]\nc d\n", False),
    ("children-colon", b"[p:children]\nc:1\n[c]\n", False),
    ("children-hash-name", b"[p:children]\nc#d\n", False),
    ("children-header-inside", b"[p:children]\n[c]\nh1\n", False),
    ("children-self", b"[a:children]\na\n", False),
    ("children-cycle", b"[a:children]\nb\n[b:children]\na\n", False),
    ("children-cycle-pending", b"[a:children]\nx\n[b:children]\nx\n"
     b"[x:children]\na\n", False),
    ("children-all", b"[g:children]\nall\n", False),
    ("children-ungrouped-all", b"[ungrouped:children]\nall\n", False),
    ("children-all-ungrouped", b"[all:children]\nungrouped\n", False),
    ("vars-before-group", b"[g:vars]\nx=1\n\n[g]\nh1\n", False),
    ("vars-after-group", b"[g]\nh1\n[g:vars]\nx=1\n", False),
    ("vars-never", b"[g:vars]\nx=1\n[h:vars]\ny=2\n", False),
    ("vars-group-only-as-child", b"[g:vars]\nx=1\n[p:children]\ng\n", False),
    ("vars-all-ungrouped", b"[all:vars]\nx=1\n[ungrouped:vars]\ny=2\n", False),
    ("vars-odd-lines", b"[g]\n[g:vars]\na = b = c\n=empty_key\nk=\n"
     b"h1 x=1\n", False),
    ("vars-unhashable", b"[all:vars]\nx={[]: 1}\n", False),
    ("vars-group-priority-ok", b"[g]\nh1\n[g:vars]\n"
     b"ansible_group_priority=10\n", False),
    ("vars-group-priority-bad", b"[g]\nh1\n[g:vars]\n"
     b"ansible_group_priority=high\n", False),
    ("vars-group-priority-forms", b"[g]\n[g:vars]\n"
     b"ansible_group_priority='5'\nansible_group_priority=1.5\n"
     b"ansible_group_priority=True\nansible_group_priority=1_0\n"
     b"ansible_group_priority=010\nansible_group_priority = 7 \n", False),
    ("vars-group-priority-empty", b"[g]\n[g:vars]\nansible_group_priority=\n",
     False),
    ("vars-group-priority-list", b"[all:vars]\nansible_group_priority=[1]\n",
     False),
    ("vars-group-priority-hex", b"[g]\n[g:vars]\nansible_group_priority=0x10\n",
     STRICT),
    ("vars-literals-ok", b"[all:vars]\nd={'a': [1], 'b': {}}\nt=({},)\n"
     b"e={}\ns={1, 'a', (1, 2)}\nk={(1, 2): 3}\nu={[]: 1\nm=-[1]\n"
     b"x=1, []\nq=\"{[]: 1}\"\n", False),
    ("vars-set-of-dict", b"[all:vars]\nx={{}}\n", False),
    ("vars-set-of-tuple-with-dict", b"[all:vars]\nx={({},)}\n", False),
    ("vars-second-key-unhashable", b"[all:vars]\nx={1: 2, [3]: 4}\n", False),
    ("vars-nested-unhashable", b"[all:vars]\nx=[1, {'a': {[]}}]\n", False),

    # --- host lines ----------------------------------------------------------
    ("host-inline-comment", b"h1 # a comment\nh2 x=1# tight\n", False),
    ("host-inline-semicolon", b"h1 ;c\n", False),
    ("host-quoted-vars", b"h1 quoted=\"a b\" zero='007' flag=False n=1\n",
     False),
    ("host-escaped-space", b"h1 x=a\\ b y=\"c\\\"d\"\n", False),
    ("host-backslash-at-end", b"h1 x=a\\\n", False),
    ("host-dq-backslash-at-end", b"h1 x=\"a\\\n", False),
    ("host-unclosed-single", b"h1 x='a\n", False),
    ("host-hash-in-quotes", b"h1 x=\"#a\" y='#b'\n", False),
    ("host-hash-in-name", b"h1#x y\n", False),
    ("host-quoted-name", b"\"my host\" x=1\n", False),
    ("host-empty-name", b"\"\"\n", False),
    ("host-empty-name-vars", b"'' x=1\n", False),
    ("host-var-no-eq", b"h1 a=1 b\n", False),
    ("host-var-empty-key", b"h1 =1 a==b\n", False),
    ("host-unhashable-var", b"h1 x={[1]}\n", False),
    ("host-deep-unary", b"h1 x=" + b"-" * 3000 + b"1\n", False),
    ("host-deep-binop", b"h1 x=" + b"1+" * 3000 + b"1\n", False),
    ("host-unary-1500", b"h1 x=" + b"-" * 1500 + b"1\n", STRICT),
    ("host-long-list", b"h1 x=[" + b"'10.0.0.1'," * 600 + b"]\n", False),
    ("host-dict-value-list", b"h1 x={'a':[1]} y=\"{'b': [2]}\"\n", False),
    ("host-tuple-key-with-list", b"h1 x={(1,[2]):3}\n", False),
    ("host-set-with-list", b"h1 x={1,[]}\n", False),
    ("host-named-all-priority", b"all ansible_group_priority=x\n", False),
    ("host-key-value-order", b"h1 bad x={[]:1}\n", False),
    ("host-in-vars-section", b"[g]\n[g:vars]\nh1 x=1\n", False),
    ("host-unicode", b"h\xc3\xb4te.example x=1\n", False),
    ("host-named-all", b"all\nungrouped\n", False),
    ("host-duplicates", b"[a]\nh1\nh1 x=2\n[b]\nh1\n", False),
    ("host-priority-on-group-named-host", b"[web]\nweb "
     b"ansible_group_priority=x\n", False),
    ("yaml-marker-vars", b"--- x=1\n", False),
    ("yaml-marker-quoted-space", b"\" ---\"\n", False),
    ("yaml-marker-x1f", b"---\x1f\n", False),
    ("yaml-marker-port", b"---:22\n", False),
    ("colon-quoted-space", b"\"h1: \"\n", False),
    ("colon-with-vars", b"h1: x=1\n", False),
    ("double-colon", b"h1::\n", False),
    ("port-then-more", b"h1:22:33\n", False),
    ("port-plain", b"h1:22 x=1\nweb.example.com:2222\n", False),

    # --- IPv6 and bracketed host:port ----------------------------------------
    ("ipv6-bare", b"::1\nfe80::1%eth0\n", False),
    ("ipv6-bracket-no-port", b"[::1]\n", False),
    ("ipv6-bracket-port", b"[::1]:22\n[2001:db8::5]:2200 x=1\n", False),
    ("ipv6-v4mapped", b"[::ffff:10.0.0.1]:22\n", False),
    ("ipv6-zone", b"[fe80::1%eth0]:22\n", False),
    ("ipv6-trailing-compressed", b"[1:2:3:4:5:6:7::]:22\n", False),
    ("ipv6-v4-suffix", b"[1:2:3:4:5:6:1.2.3.4]:22\n", False),
    ("ipv6-junk-after-prefix", b"[1::zz]:22\n", False),
    ("ipv6-hex-range", b"[fe80::[1:3]]:22\n", False),
    ("bracket-ipv4-port", b"[10.0.0.1]:22\n", False),
    ("bracket-name-port", b"[h1]:22\n[h1.example.com]:2222\n", False),
    ("bracket-range-port", b"[1:2]:22\n", False),
    ("bracket-unicode-word-port", b"[h\xc3\xa9]:22\n", STRICT),
    ("bracket-unicode-symbol-port", b"[h\xe2\x82\xac]:22\n", False),
    ("ipv4-range-port", b"10.0.0.[1:3]:22\n", False),
    ("unicode-symbol-port", b"h\xe2\x82\xac:22\n", False),
    ("ipv6-unspecified", b"[::]:22\n", False),
    ("ipv6-full", b"[1:2:3:4:5:6:7:8]:22\n[a:b:c:d:e:f:0:1]:22\n", False),
    ("ipv6-nine-groups", b"[1:2:3:4:5:6:7:8:9]:22\n", False),
    ("ipv6-v4-mapped-full", b"[0:0:0:0:0:ffff:1.2.3.4]:22\n"
     b"[0:0:0:0:0:FFFF:1.2.3.4]:22\n", False),
    ("ipv6-v4-mapped-junk", b"[0:0:0:0:0:ffff:1.2.3.4x]:22\n", False),
    ("ipv6-v4-compat", b"[0:0:0:0:0:0:1.2.3.4]:22\n", False),
    ("ipv6-five-hex", b"[12345::1]:22\n", False),
    ("ipv6-bad-port", b"[fe80::1]:abc\n", False),
    ("ipv6-upper", b"[FE80::A]:22\n", False),

    # --- host ranges ---------------------------------------------------------
    ("range-good", b"vm[01:03].lab\nvm[1:10:2]\nk3s-[a:c]\nx[ab:cd]\n"
     b"db[01:10:3]node-[01:10]\nvm[:3]\n", False),
    ("range-letters-case", b"vm[A:c]\n", False),
    ("range-letters-reversed", b"vm[c:a]\n", False),
    ("range-letters-step", b"vm[a:e:2]\n", False),
    ("range-letters-negative-step", b"vm[a:e:-1]\n", False),
    ("range-mixed", b"vm[a:3]\n", False),
    ("range-empty-end", b"vm[1:]\n", False),
    ("range-zero-pad-long", b"vm[001:10]\n", False),
    ("range-zero-pad-equal", b"vm[00:10]\n", False),
    ("range-step-zero", b"vm[1:3:0]\n", False),
    ("range-step-negative", b"vm[1:3:-1]\n", False),
    ("range-four-parts", b"vm[1:3:1:1]\n", False),
    ("range-empty", b"vm[]\n", False),
    ("range-dash", b"vm[1-3]\n", False),
    ("range-unclosed", b"vm[1:3\n", False),
    ("range-close-first", b"vm]1:3[x\n", False),
    ("range-close-only", b"vm1:3]\n", False),
    ("range-second-bad", b"vm[1:3]x[1:]\n", False),
    ("range-empty-first-hides-second", b"vm[3:1]x[1:]\n", False),
    ("range-negative-step-empty", b"vm[3:2:-1]x[1:]\n", False),
    ("range-negative-step-one", b"vm[4:2:-1]x[1:]\n", False),
    ("range-underscore", b"vm[1_0:12]\n", False),
    ("range-bar-delimiter", b"vm[1:3|x\n", False),
    ("range-bar-extra", b"vm[1:3]|\n", False),
    ("range-huge-reversed", b"vm[99999999999999999999:99999999999999999998]"
     b"x[1:]\n", STRICT),
    ("range-huge-step", b"vm[1:3:99999999999999999999]\n", STRICT),
    ("range-unicode-digits", b"vm[\xd9\xa1:\xd9\xa3]\n", STRICT),
    ("range-signs", b"vm[-3:-1]\nvm[1:3:+1]\nvm[+1:3]\n", False),
    ("range-quoted-step-space", b"\"vm[1:3: 2]\"\n", False),
    ("range-nbsp-bound", b"\"vm[\xc2\xa01:3]\"\n", False),
    ("range-hex-bound", b"vm[0x1:3]\n", False),
    ("range-three", b"vm[1:3]x[a:c]y[01:02]\n", False),
    ("range-letters-port", b"vm[a:c]:22\n", False),
    ("range-bracket-and-bar", b"vm[1:3]x|\n", False),
    ("range-bar-first", b"vm|1:3[x\n", False),
    ("range-bar-then-open", b"vm[1:3|x[\n", False),
    ("range-zero-pad-underscore", b"vm[01:1_0]\n", False),
    ("range-double-underscore", b"vm[1__0:12]\n", False),
    ("range-then-colon", b"vm[1:3]:\n", False),
    ("range-quoted-spaces", b"\"vm[ 1:3 ]\"\n", False),
    ("range-66-single", b"h" + b"[1:1]" * 66 + b"\n", STRICT),
    ("range-65-single", b"h" + b"[1:1]" * 65 + b"\n", False),
]

ANSIBLE_DRIVER = r'''
import contextlib, io, json, sys
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.inventory.ini import InventoryModule

loader = DataLoader()
for path in sys.argv[1:]:
    inv = InventoryData()
    sink = io.StringIO()
    stage = "parse"
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            InventoryModule().parse(inv, loader, path, cache=False)
            stage = "reconcile"
            inv.reconcile_inventory()
        out = {"ok": True}
    except BaseException as e:
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        out = {"ok": False, "stage": stage, "type": type(e).__name__,
               "msg": str(e)}
    print(json.dumps(out), flush=True)
'''


def verdict(ok, line):
    if ok:
        return "accepts"
    return "refuses at line %d" % line if line else "refuses"


def printable(s):
    return s.encode("utf-8", "backslashreplace").decode("ascii",
                                                         "backslashreplace")


def ansible_verdicts(paths, workdir):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(workdir, "ansible.cfg"),
               HOME=workdir, ANSIBLE_LOCAL_TEMP=os.path.join(workdir, "tmp"),
               ANSIBLE_INVENTORY_ENABLED="ini", PYTHONHASHSEED="0")
    p = subprocess.run(["/usr/bin/python3", "-c", ANSIBLE_DRIVER] + paths,
                       cwd=workdir, env=env, capture_output=True, timeout=600)
    lines = p.stdout.decode().splitlines()
    if p.returncode != 0 or len(lines) != len(paths):
        sys.exit("ansible driver failed (exit %d):\n%s" %
                 (p.returncode, p.stderr.decode(errors="replace")[-3000:]))
    return [json.loads(line) for line in lines]


def ours(ini_check, path):
    p = subprocess.run([ini_check, path], capture_output=True, timeout=60)
    out = p.stdout.decode(errors="replace").rstrip("\n")
    if p.returncode != 0:
        sys.exit("ini_check %s: exit %d: %s" % (path, p.returncode,
                                                 p.stderr.decode()))
    if out == "ok":
        return True, None, ""
    m = re.match(r"error (\d+): (.*)", out, re.S)
    if not m:
        sys.exit("ini_check %s: unexpected output %r" % (path, out))
    return False, int(m.group(1)), m.group(2)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: ini_ansible_diff.py INI_CHECK")
    ini_check = os.path.abspath(sys.argv[1])
    names = [c[0] for c in CASES]
    if len(set(names)) != len(names):
        sys.exit("duplicate case names")
    t = Tap()
    agree = differ = strict = 0
    with tempfile.TemporaryDirectory(prefix="ini-diff-") as work:
        open(os.path.join(work, "ansible.cfg"), "w").close()
        os.mkdir(os.path.join(work, "tmp"))
        paths = []
        for i, (name, data, _) in enumerate(CASES):
            path = os.path.join(work, "case%03d.ini" % i)
            with open(path, "wb") as f:
                f.write(data)
            paths.append(path)
        verdicts = ansible_verdicts(paths, work)
        for (name, data, is_strict), path, a in zip(CASES, paths, verdicts):
            ok, line, msg = ours(ini_check, path)
            detail = "input:   %r\nansible: %s\nours:    %s" % (
                data[:300], printable(json.dumps(a)) if not a["ok"] else "ok",
                "ok" if ok else "error %d: %s" % (line, printable(msg)))
            if is_strict:
                strict += 1
                good = not ok
                t.ok(good, "%s: refused on purpose (ansible %s)" %
                     (name, "accepts" if a["ok"] else "refuses"), detail)
                if good:
                    agree += 1
                else:
                    differ += 1
                continue
            aline = None
            if not a["ok"]:
                m = re.match(re.escape(path) + r":(\d+): ", a["msg"])
                aline = int(m.group(1)) if m else None
            good = ok == a["ok"] and (ok or aline is None or aline == line)
            t.ok(good, "%s: ansible %s, ours %s" % (
                name, verdict(a["ok"], aline), verdict(ok, line)), detail)
            if good:
                agree += 1
            else:
                differ += 1
    print("# ini_ansible_diff: %d cases, %d agree (%d strict refusals), "
          "%d differ" % (len(CASES), agree, strict, differ))
    t.done()


if __name__ == "__main__":
    main()
