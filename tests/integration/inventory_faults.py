#!/usr/bin/python3
"""pve-gitops inventory under injected write failures: a failure at any
file-changing call leaves the previous files intact.

A count-only run under tests/tools/failshim.so learns how many such calls a
successful `pve-gitops inventory` makes (N) and what it writes. Then, for
each n in 1..N, the initial tree is restored and the run repeated with the
nth call failing (EIO, ENOSPC for write). Each run must either fail with
'pve-gitops: error:' and leave every file and directory of the repository
exactly as it was, or succeed with exactly the files of the count-only run.
A failed run must also leave TMPDIR (where the new files are staged for
ansible-inventory and diff) empty. After a success, a '<file>.old.XXXXXX'
that holds the old content of <file> (a backup whose removal after the
commit failed) is tolerated and counted, and so is a staging directory
left in TMPDIR by a failed cleanup.

Scenarios: an inventory with a host that must go, an ours host_vars file to
delete, one to update and one to create, a hand-made one to keep, and an old
new_hosts.txt; the same without host_vars/ and new_hosts.txt (the
transaction creates the directory and must remove it on failure); and the
first again with validate_with_ansible: auto (ansible-inventory runs).

Usage: inventory_faults.py PVE_GITOPS FAILSHIM_SO SOURCE_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BIN, SHIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
MARK = "# Managed by pve-gitops"

OUTPUTS = {"ansible_inventory": {"sensitive": False, "type": [], "value": {
    "k8s-observability": {"ansible_host": "192.168.1.20",
                          "ansible_user": "suporte", "node": "node03",
                          "vmid": 120},
    "haproxy-prod": {"ansible_host": "192.168.1.10",
                     "ansible_user": "ubuntu", "node": "node01",
                     "vmid": 110}}}}


class Tap:
    """ok / not ok lines and an exit status."""

    def __init__(self):
        self.n = self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name))
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines():
                print("#   " + line)
        sys.stdout.flush()
        return cond

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_repo(dest, host_vars, validate):
    """The initial tree: the example repository plus earlier outputs."""
    shutil.copytree(os.path.join(SRC, "examples", "infra"), dest)
    cfg = os.path.join(dest, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^validate_with_ansible: .*$",
                      "validate_with_ansible: " + validate, text)
    assert n == 1, "no validate_with_ansible line in the example config"
    write(cfg, text)
    px = os.path.join(dest, "proxmox")
    write(os.path.join(px, ".pve-gitops", "outputs.json"),
          json.dumps(OUTPUTS))
    ini = os.path.join(px, "k8s.ini")
    with open(ini) as f:
        text = f.read()
    assert "# Individual hosts\n" in text
    text = text.replace("# Individual hosts\n", "# Individual hosts\n"
                        "old-vm ansible_host=192.168.1.99 "
                        "ansible_user=ubuntu\n")
    write(ini, text + "\n[k3s]\nold-vm\n")
    if not host_vars:
        return
    write(os.path.join(px, "new_hosts.txt"), "192.168.1.99,old-vm\n")
    hv = os.path.join(px, "host_vars")
    write(os.path.join(hv, "old-vm.yml"),
          MARK + " from proxmox/vms/old-vm.yaml; `pve-gitops inventory` "
          "rewrites it.\npve_vmid: 199\n")
    write(os.path.join(hv, "haproxy-prod.yml"),
          MARK + " from proxmox/vms/haproxy-prod.yaml; `pve-gitops "
          "inventory` rewrites it.\npve_vmid: 1\n")
    write(os.path.join(hv, "hand-made.yml"), "custom: true\n")


def snapshot(root):
    """Every directory and file under root: {relpath: None | (mode, data)}."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs:
            out[os.path.relpath(os.path.join(d, name), root)] = None
        for name in files:
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = (os.stat(p).st_mode, f.read())
    return out


def diff(got, want):
    lines = []
    for p in sorted(set(got) | set(want)):
        if p not in want:
            lines.append("stray: " + p + ("/" if got[p] is None else
                                          " (%d bytes)" % len(got[p][1])))
        elif p not in got:
            lines.append("missing: " + p)
        elif got[p] != want[p]:
            lines.append("differs: " + p)
    return lines


class Runner:
    """Runs pve-gitops inventory in a fresh copy of the initial tree."""

    def __init__(self, top, initial_dir):
        self.top, self.initial_dir = top, initial_dir
        self.work = os.path.join(top, "work")
        self.tmp = os.path.join(top, "stage")
        self.count_file = os.path.join(top, "count")
        self.home = os.path.join(top, "home")
        os.makedirs(self.home, exist_ok=True)

    def run(self, at=None, shim=True):
        for d in (self.work, self.tmp):
            shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(self.initial_dir, self.work, symlinks=True)
        os.mkdir(self.tmp)
        if os.path.exists(self.count_file):
            os.unlink(self.count_file)
        env = dict(os.environ, TMPDIR=self.tmp, HOME=self.home,
                   LC_ALL="C.UTF-8")
        for k in ("FAILSHIM_AT", "FAILSHIM_TRACE", "FAILSHIM_COUNT_FILE"):
            env.pop(k, None)
        if shim:
            env["LD_PRELOAD"] = SHIM
            env["FAILSHIM_COUNT_FILE"] = self.count_file
            # The shim comes before ASan's runtime in the library list.
            opts = env.get("ASAN_OPTIONS", "")
            env["ASAN_OPTIONS"] = ((opts + ":") if opts else "") + \
                "verify_asan_link_order=0"
            if at is not None:
                env["FAILSHIM_AT"] = str(at)
        p = subprocess.run([BIN, "--no-color", "inventory"], cwd=self.work,
                           env=env, capture_output=True, text=True)
        count = None
        if shim and os.path.exists(self.count_file):
            with open(self.count_file) as f:
                count = int(f.read())
        return p, count, snapshot(self.work), sorted(os.listdir(self.tmp))


def is_kept_backup(path, data, initial):
    """A '<file>.old.XXXXXX' holding exactly the old <file>."""
    m = re.fullmatch(r"(.*)\.old\.[A-Za-z0-9]{6}", path)
    return bool(m) and m.group(1) in initial and \
        initial[m.group(1)] is not None and initial[m.group(1)][1] == data[1]


def sanitizer_report(stderr):
    return "Sanitizer" in stderr or "runtime error:" in stderr


def check_expected(t, name, initial, final, host_vars):
    """What a successful run must have done, so the faults hit real work."""
    def text(p):
        return final[p][1].decode() if final.get(p) else ""
    ini = text("proxmox/k8s.ini")
    hv = "proxmox/host_vars/"
    t.ok("old-vm" not in ini and "haproxy-prod ansible_host=192.168.1.10"
         in ini and "k8s-observability ansible_host=192.168.1.20" in ini,
         name + ": the inventory drops old-vm and lists both VMs", ini)
    t.ok(text("proxmox/new_hosts.txt") == "192.168.1.10,haproxy-prod\n"
         "192.168.1.20,k8s-observability\n",
         name + ": new_hosts.txt lists the two new hosts",
         text("proxmox/new_hosts.txt"))
    t.ok(text(hv + "haproxy-prod.yml").startswith(MARK) and
         "pve_vmid: 110" in text(hv + "haproxy-prod.yml") and
         text(hv + "k8s-observability.yml").startswith(MARK),
         name + ": host_vars written for both VMs")
    if host_vars:
        t.ok(hv + "old-vm.yml" not in final and
             final.get(hv + "hand-made.yml") ==
             initial[hv + "hand-made.yml"],
             name + ": ours old-vm.yml deleted, hand-made.yml kept")
    t.ok(not [p for p in final if ".tmp." in p or ".old." in p],
         name + ": a clean run leaves no temp or backup file",
         "\n".join(diff(final, {})))


def scenario(t, name, host_vars, validate, totals):
    top = tempfile.mkdtemp(prefix="inventory-faults.")
    try:
        initial_dir = os.path.join(top, "initial")
        make_repo(initial_dir, host_vars, validate)
        initial = snapshot(initial_dir)
        r = Runner(top, initial_dir)

        plain, _, plain_final, _ = r.run(shim=False)
        p, n_calls, final, leftovers = r.run()
        if not t.ok(n_calls is not None and p.returncode == 0 and
                    plain.returncode == 0 and
                    final == plain_final and not leftovers and
                    not sanitizer_report(p.stderr),
                    name + ": count-only run succeeds like a run without "
                    "the shim (%s calls)" % n_calls,
                    "exit %d / %d\n%s%s\n%s" % (
                        p.returncode, plain.returncode, p.stderr,
                        plain.stderr, "\n".join(diff(final, plain_final)))):
            return
        check_expected(t, name, initial, final, host_vars)
        t.ok(n_calls >= 10, name + ": at least 10 calls to fault (%d)"
             % n_calls)

        refused = succeeded = kept = staged = 0
        bad = []
        for n in range(1, n_calls + 1):
            p, reached, got, leftovers = r.run(at=n)
            why = None
            if sanitizer_report(p.stderr):
                why = "sanitizer report"
            elif reached is None or reached < n:
                why = "fault %d never reached (%s calls)" % (n, reached)
            elif p.returncode != 0:
                if not 0 < p.returncode < 126:
                    why = "died with %d" % p.returncode
                elif "pve-gitops: error:" not in p.stderr:
                    why = "failed without 'pve-gitops: error:'"
                elif got != initial:
                    why = "failed and changed files: " + \
                        ", ".join(diff(got, initial))
                elif leftovers:
                    why = "failed and left in TMPDIR: " + \
                        " ".join(leftovers)
                else:
                    refused += 1
            else:
                extra = [q for q in got if q not in final and
                         is_kept_backup(q, got[q], initial)]
                rest = {q: v for q, v in got.items() if q not in extra}
                if rest != final:
                    why = "succeeded with other files: " + \
                        ", ".join(diff(rest, final))
                else:
                    succeeded += 1
                    kept += len(extra)
                    for q in extra:
                        print("# %s: step %d: backup %s left behind"
                              % (name, n, q))
            if leftovers and p.returncode == 0:
                staged += 1
                print("# %s: step %d: left in TMPDIR: %s"
                      % (name, n, " ".join(leftovers)))
            if why:
                bad.append("step %d (exit %d): %s\n  %s" % (
                    n, p.returncode, why,
                    p.stderr.strip().replace("\n", "\n  ")))
        print("# %s faults: %d steps injected, %d refused cleanly, "
              "%d succeeded (%d kept backups, %d runs with staging "
              "leftovers), %d bad" % (name, n_calls, refused, succeeded,
                                        kept, staged, len(bad)))
        totals["n"] += n_calls
        totals["refused"] += refused
        totals["succeeded"] += succeeded
        totals["bad"] += len(bad)
        t.ok(not bad, name + ": every injected failure leaves the old "
             "files or the new ones, never a mix or a stray file",
             "\n".join(bad))
    finally:
        shutil.rmtree(top, ignore_errors=True)


def main():
    t = Tap()
    totals = {"n": 0, "refused": 0, "succeeded": 0, "bad": 0}
    scenario(t, "existing", True, "never", totals)
    scenario(t, "no-host_vars", False, "never", totals)
    if shutil.which("ansible-inventory"):
        scenario(t, "existing+ansible", True, "auto", totals)
    else:
        print("# ansible-inventory not on PATH: the auto scenario runs "
              "without it")
        scenario(t, "existing+auto", True, "auto", totals)
    print("faults: %d steps injected, %d refused cleanly, %d succeeded, "
          "%d bad" % (totals["n"], totals["refused"], totals["succeeded"],
                        totals["bad"]))
    t.done()


main()
