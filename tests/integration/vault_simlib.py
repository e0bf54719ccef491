"""Start vault-sim on a free loopback port and read its start-up lines.

Shared by vault-sim's integration tests (vault_sim_hvac.py,
vault_sim_http.py). Run with /usr/bin/python3 so that Debian's python3-hvac
and python3-requests are importable. Set VAULT_SIM_KEEP=1 to keep the
temporary directory (request log, stderr) for a look afterwards.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time


class VaultSim:
    """A running vault-sim; use as a context manager.

    url, token (the root token: given or read from the start-up line),
    lines (the start-up lines as printed), log (the request log's path).
    With token_in_args, token is what args make the root token (e.g. with
    --root-token-file) and no root-token line is expected.
    """

    def __init__(self, binary, *args, token=None, token_in_args=False,
                 startup_timeout=30):
        self.dir = tempfile.mkdtemp(prefix="vault-sim-test.")
        self.log = os.path.join(self.dir, "requests.jsonl")
        self.stderr_path = os.path.join(self.dir, "stderr")
        argv = [binary, "--listen", "127.0.0.1:0", "--request-log", self.log]
        if token is not None and not token_in_args:
            argv += ["--root-token", token]
        argv += list(args)
        if os.environ.get("VAULT_SIM_KEEP"):
            print("# vault-sim files: " + self.dir)
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.deadline = time.monotonic() + startup_timeout
        self.lines = []
        self.url = None
        self.token = token
        first = self.readline()
        if first.split()[:2] != ["listening", "on"]:
            self.stop()
            raise RuntimeError("vault-sim did not start: %r %r" %
                               (first, self.stderr_text()))
        self.url = first.split()[2]
        self.port = int(self.url.rsplit(":", 1)[1])
        if token is None:
            line = self.readline().split()
            if line[:1] != ["root-token"] or len(line) != 2:
                self.stop()
                raise RuntimeError("no root-token line: %r" % line)
            self.token = line[1]

    def readline(self):
        """One line of stdout, or "" at EOF or after the start-up timeout."""
        fd = self.proc.stdout.fileno()
        buf = b""
        while not buf.endswith(b"\n"):
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            c = os.read(fd, 1)
            if not c:
                break
            buf += c
        line = buf.decode()
        self.lines.append(line)
        return line

    def api(self, path):
        return self.url + "/v1/" + path.lstrip("/")

    def headers(self, **extra):
        h = {"X-Vault-Token": self.token}
        h.update(extra)
        return h

    def stop(self, sig=signal.SIGTERM):
        """Send sig (once), wait, and return the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if not self.stderr.closed:
            self.stderr.close()
        return rc

    def rest_of_stdout(self):
        """What the simulator printed after the start-up lines (call after
        stop())."""
        return self.proc.stdout.read().decode()

    def stderr_text(self):
        if not self.stderr.closed:
            self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def log_entries(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def log_text(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log) as f:
            return f.read()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.proc.stdout.close()
        if not os.environ.get("VAULT_SIM_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
