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
