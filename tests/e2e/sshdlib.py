"""Real sshd servers on loopback addresses (127.0.0.x), standing in for
the SSH side of freshly created VMs, with a client key for Ansible.

Each server has its own host key, listens on ADDRESS:PORT and lets the
current user in with the generated client key only. Nothing listens
beyond 127.0.0.0/8.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SSHD = "/usr/sbin/sshd"


def keygen(path, kind="ed25519"):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C",
                    "pve-gitops-test", "-f", path], check=True)
    with open(path + ".pub") as f:
        return f.read().strip()


def free_port(addr="127.0.0.1"):
    s = socket.socket()
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sshds:
    """Servers on addrs, all on one port (as VMs share ssh.port).

    extra: {addr: sshd_config lines} put first in that server's file
    (sshd keeps the first value of a keyword), such as "SetEnv PATH=..."
    or another AuthorizedKeysFile."""

    def __init__(self, addrs, port=None, extra=None):
        self.extra = extra or {}
        self.dir = tempfile.mkdtemp(prefix="pve-gitops-sshd.")
        self.port = port or free_port()
        self.client_key = os.path.join(self.dir, "id_ed25519")
        self.client_pub = keygen(self.client_key)
        auth = os.path.join(self.dir, "authorized_keys")
        with open(auth, "w") as f:
            f.write(self.client_pub + "\n")
        os.chmod(auth, 0o600)
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.procs = {}
        self.host_pub = {}
        for addr in addrs:
            self.start(addr, auth)
        for addr in addrs:
            self.wait(addr)

    def start(self, addr, auth):
        key = os.path.join(self.dir, "host-%s" % addr)
        self.host_pub[addr] = keygen(key)
        conf = os.path.join(self.dir, "sshd-%s.conf" % addr)
        with open(conf, "w") as f:
            f.write(self.extra.get(addr, ""))
            f.write("""ListenAddress %s:%d
HostKey %s
PidFile %s/sshd-%s.pid
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
""" % (addr, self.port, key, self.dir, addr, auth))
        self.procs[addr] = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", conf],
            stderr=open(os.path.join(self.dir, "log-%s" % addr), "w"))

    def wait(self, addr, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((addr, self.port), 1) as s:
                    if s.recv(4) == b"SSH-":
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd on %s:%d did not start" % (addr,
                                                            self.port))

    def host_pub_file(self, addr):
        return os.path.join(self.dir, "host-%s.pub" % addr)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
