#!/usr/bin/env python3
"""New hosts are prepared at once (issue 20), with the real binary, real
git, real ansible-playbook and real sshd servers on loopback standing in
for three new VMs (127.0.0.31..33).

cloud-init on each is a stub (provision_truth.py's way: a script on the
PATH sshd gives the session) that logs when it starts and ends and
sleeps 4, 2 and 3 s, so the hosts finish in the order 2, 3, 1.

- the three cloud-init checks run at the same time: every one started
  before the first ended (one after another, they could not), and the
  whole preparation takes well under the 9 s of the sleeps' sum;
- the messages are in host order all the same, each host's together;
- known_hosts holds the three hosts' keys, and the playbook ran on all;
- the run's ssh masters (a private directory under XDG_RUNTIME_DIR) are
  closed and the directory removed when it ends: no ssh process is left
  with a ControlPath there.

Usage: provision_parallel.py PVE_GITOPS
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provision_truth as pt  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from simlib import Tap  # noqa: E402

HOSTS = ["127.0.0.31", "127.0.0.32", "127.0.0.33"]
SLEEP = {"127.0.0.31": 4, "127.0.0.32": 2, "127.0.0.33": 3}
pt.NAMES.update({ip: "par-%d" % (i + 1) for i, ip in enumerate(HOSTS)})

STUB = """#!/bin/sh
echo "start $(date +%%s.%%N)" >> %(log)s
sleep %(sleep)d
echo "end $(date +%%s.%%N)" >> %(log)s
echo "status: done"
"""


def times(log):
    with open(log) as f:
        words = dict(line.split() for line in f)
    return float(words["start"]), float(words["end"])


def main():
    t = Tap()
    with tempfile.TemporaryDirectory() as d:
        extra, logs = {}, {}
        for ip in HOSTS:
            b = os.path.join(d, "bin-" + ip)
            logs[ip] = os.path.join(d, "ci-" + ip + ".log")
            pt.write(os.path.join(b, "cloud-init"),
                     STUB % {"log": logs[ip], "sleep": SLEEP[ip]}, 0o755)
            extra[ip] = "SetEnv PATH=%s:/usr/local/bin:/usr/bin:/bin\n" % b
        with Sshds(HOSTS, extra=extra) as sshd:
            r = pt.Repo(d, sshd)
            r.setup(HOSTS, "web")
            xdg = os.path.join(d, "xdg")
            os.mkdir(xdg, 0o700)
            env = r.env
            r.env = lambda: dict(env(), XDG_RUNTIME_DIR=xdg)
            p = r.pg("provision")
            out = p.stdout + p.stderr
            pt.eq(t, p.returncode, 0, "provision exits 0", out)
            pt.eq(t, os.listdir(xdg), [],
                  "the ssh masters' directory is removed", out)
            ps = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                text=True).stdout
            left = [ln for ln in ps.splitlines() if xdg in ln]
            pt.eq(t, left, [], "no ssh master is left running", out)
            pt.eq(t, r.touched(), sorted(pt.NAMES[ip] for ip in HOSTS),
                  "the playbook ran on the three hosts", out)
            try:
                span = {ip: times(logs[ip]) for ip in HOSTS}
            except (OSError, KeyError, ValueError) as ex:
                span = None
                t.ok(False, "each cloud-init check ran", "%s\n%s" % (ex, out))
            if span:
                first_end = min(e for _, e in span.values())
                last_start = max(s for s, _ in span.values())
                t.ok(last_start < first_end,
                     "the three cloud-init checks ran at the same time",
                     "%r\n%s" % (span, out))
                total = max(e for _, e in span.values()) - min(
                    s for s, _ in span.values())
                t.ok(total < 6.0, "preparation took %.1f s, well under "
                     "the 9 s of the three in a row" % total, out)
            # host order, whatever the order they finished in
            lines = [ln for ln in p.stdout.splitlines()
                     if ln.startswith("provision: par-")]
            hosts_seen = [ln.split()[1].rstrip(":") for ln in lines]
            want = [n for n in ("par-1", "par-2", "par-3") for _ in range(3)]
            pt.eq(t, hosts_seen, want,
                  "each host's three messages together, in host order", out)
            with open(os.path.join(d, "known_hosts")) as f:
                known = f.read()
            for ip in HOSTS:
                spec = "[%s]:%d" % (ip, sshd.port)
                t.ok(known.count(spec + " ") == 1 and
                     sshd.host_pub[ip].split()[1] in known,
                     "known_hosts has %s's key" % ip, known)
    t.done()


if __name__ == "__main__":
    main()
