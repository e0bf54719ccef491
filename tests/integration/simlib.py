"""Start proxmox-sim on a free loopback port and read its start-up lines.

Shared by the simulator's integration tests. Run with /usr/bin/python3 so
that Debian's python3-proxmoxer and python3-requests are importable.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


class Sim:
    """A running proxmox-sim; use as a context manager."""

    def __init__(self, binary, *args, http=False):
        self.dir = tempfile.mkdtemp(prefix="proxmox-sim-test.")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.stderr_path = os.path.join(self.dir, "stderr")
        argv = [binary, "--listen", "127.0.0.1:0", "--request-log", self.log]
        if http:
            argv.append("--http")
        argv += list(args)
        self.stderr = open(self.stderr_path, "w")
        if os.environ.get("PVE_SIM_KEEP"):
            print("# request log: " + self.log)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=self.stderr, text=True)
        self.url = self.fingerprint = self.token = None
        first = self.proc.stdout.readline().split()
        if first[:2] != ["listening", "on"]:
            self.stop()
            raise RuntimeError("proxmox-sim did not start: %r" % first)
        self.url = first[2]
        self.port = int(self.url.rsplit(":", 1)[1])
        if not http:
            line = self.proc.stdout.readline().split()
            assert line[0] == "fingerprint", line
            self.fingerprint = line[1]

    def api(self, path):
        return self.url + "/api2/json" + path

    def stop(self):
        """SIGTERM, wait, and return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if not self.stderr.closed:
            self.stderr.close()
        return rc

    def stderr_text(self):
        with open(self.stderr_path) as f:
            return f.read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if not os.environ.get("PVE_SIM_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


def make_cert(d):
    """A self-signed certificate for 127.0.0.1 and its key (openssl), for
    a simulator's --tls-cert and a client's CA bundle."""
    cert, key = os.path.join(d, "sim.pem"), os.path.join(d, "sim.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
         cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1"], capture_output=True, check=True,
        timeout=60)
    return cert, key


def wait_task(node, upid, timeout=30):
    """Poll a proxmoxer node's task until it stops; its status."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = node.tasks(upid).status.get()
        if st["status"] == "stopped":
            return st
        time.sleep(0.02)
    raise RuntimeError("task %s did not finish" % upid)


def schema_check(t, sim, clean=True):
    """A developer's check, only when PVE_SCHEMA_CHECK names the official
    schema checker (the project's tests read nothing outside it), with
    PVE_SCHEMA_CHECK_SCHEMA naming the schema it reads if not its own: its
    verdict on sim's request log is printed; with clean, 0 violations is
    a check of its own (a test that sends bad requests on purpose says
    clean=False)."""
    tool = os.environ.get("PVE_SCHEMA_CHECK")
    if not tool:
        return
    with open(sim.log) as f:
        n = sum(1 for line in f if line.strip())
    argv = ["/usr/bin/python3", tool]
    if os.environ.get("PVE_SCHEMA_CHECK_SCHEMA"):  # the subset + our extra
        argv += ["--schema", os.environ["PVE_SCHEMA_CHECK_SCHEMA"]]
    p = subprocess.run(argv + [sim.log], capture_output=True, text=True,
                       timeout=300)
    last = p.stdout.strip().splitlines()[-1:]
    print("# schema check: " + " ".join(last))
    if not clean:
        return
    t.eq((p.returncode, last), (0, ["%d requests, 0 violations" % n]),
         "every request matches the official schema")
    if p.returncode:
        print("\n".join("#   " + x for x in p.stdout.splitlines()[:20]))


def clean_exit(t, sim):
    """Stop sim and check it ended as it should: exit status 0 and no
    sanitizer or runtime error report on its stderr (an ASan build reports
    leaks and UB only there)."""
    rc = sim.stop()
    err = sim.stderr_text()
    t.ok(rc == 0, "proxmox-sim exits cleanly (%s)" % rc, err[-2000:])
    t.ok("ERROR: " not in err and "runtime error" not in err,
         "no sanitizer report", err[-2000:])


def point_at(sim, cfg):
    """Rewrite the proxmox.endpoint line of the config file cfg to sim,
    its certificate pinned."""
    import re
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r"  endpoint: .*", "  endpoint: %s\n  tls_fingerprint: "
                  "\"%s\"" % (sim.url, sim.fingerprint), text)
    with open(cfg, "w") as f:
        f.write(text)


def example_repo(sim, src):
    """A copy of examples/infra pointed at sim (its certificate pinned)."""
    d = tempfile.mkdtemp(prefix="pve-gitops-repo.")
    shutil.copytree(os.path.join(src, "examples", "infra"), d,
                    dirs_exist_ok=True)
    point_at(sim, os.path.join(d, "pve-gitops.yaml"))
    return d


def pve_gitops(binary, d, secret, *args, outputs=None):
    """Run pve-gitops in d with the API token in the environment."""
    env = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
               PM_API_TOKEN_SECRET=secret)
    env.pop("PM_API_URL", None)
    p = subprocess.run([binary, "-C", d, "--no-color"] + list(args),
                       capture_output=True, text=True, env=env, timeout=300,
                       stdin=subprocess.DEVNULL)
    if outputs is not None:
        outputs.append(p.stdout + p.stderr)
    return p


class Tap:
    """Minimal TAP output: ok / not ok lines and an exit status."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            if detail:
                for line in str(detail).splitlines():
                    print("#   " + line)
        sys.stdout.flush()
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)
