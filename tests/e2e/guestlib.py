"""What real_guest.py and scripts/demo-real.sh share (issue 22): whether
QEMU can start at all, the guest image (scripts/build-guest-image.sh,
built once and cached), and the port forward the chain's ssh.connect
names.

The forward: proxmox-sim --guests qemu forwards each guest's port 22 to a
free port of 127.0.0.1 that is only known once the VM runs (GET
/api2/json/sim/guests says which), while pve-gitops.yaml is read before
`run` starts the VM. So the test picks a port first, puts it in
ssh.connect, and Forward listens there: each connection is relayed to the
port the simulator reports for the VM at that moment, or closed at once
while the guest does not run yet (the SSH wait then tries again), the way
a NAT in front of a real guest would be configured once. Loopback only.
"""

import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

QEMU = "qemu-system-x86_64"


def qemu_unusable():
    """Why QEMU cannot start at all here (not installed, or it cannot
    create even an empty machine), or None. The try is stopped by its
    own pid."""
    try:
        p = subprocess.Popen([QEMU, "-accel", "tcg", "-M", "none", "-display",
                              "none", "-monitor", "none", "-serial", "none",
                              "-S"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    except OSError as e:
        return "%s cannot be started: %s" % (QEMU, e)
    try:
        _, err = p.communicate(timeout=2)
        return "%s -M none exits %d at once: %s" % (QEMU, p.returncode,
                                                    err.strip()[-300:])
    except subprocess.TimeoutExpired:
        p.kill()  # still running after 2 s: it starts
        p.communicate()
    return None


def image_dir(src):
    """The guest image's directory: scripts/build-guest-image.sh of the
    source tree src (builds it once, then reuses its cache), its last line
    on stdout. Raises RuntimeError with its stderr when it fails."""
    script = os.path.join(src, "scripts", "build-guest-image.sh")
    p = subprocess.run([script], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    lines = p.stdout.strip().splitlines()
    if p.returncode or not lines:
        raise RuntimeError("%s: exit %d\n%s" % (script, p.returncode,
                                                p.stderr[-3000:]))
    return lines[-1]


def sim_guests(psim, token_id, secret):
    """GET /api2/json/sim/guests of psim (simlib.Sim): its data list."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # loopback, the simulator's own cert
    req = urllib.request.Request(
        psim.api("/sim/guests"),
        headers={"Authorization": "PVEAPIToken=%s=%s" % (token_id, secret)})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.load(r)["data"]


class Forward:
    """127.0.0.1:port relayed to the SSH forward proxmox-sim reports for
    vmid (None: its first guest; a thread per connection). first_banner: when bytes first came
    back from the guest (time.monotonic()), or None; guest: the last
    /sim/guests entry seen for vmid."""

    def __init__(self, psim, token_id, secret, vmid):
        self.psim, self.token_id, self.secret = psim, token_id, secret
        self.vmid = vmid
        self.first_banner = None
        self.guest = None
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def target(self):
        try:
            for g in sim_guests(self.psim, self.token_id, self.secret):
                if self.vmid in (None, g.get("vmid")) and g.get("ssh"):
                    self.guest = g
                    host, port = g["ssh"].rsplit(":", 1)
                    if host.startswith("127."):  # loopback only
                        return host, int(port)
        except (OSError, ValueError, KeyError):
            pass
        return None

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        t = self.target()
        if not t:
            c.close()
            return
        try:
            g = socket.create_connection(t, timeout=10)
        except OSError:
            c.close()
            return
        g.settimeout(None)
        self.connections += 1
        threading.Thread(target=self._pipe, args=(c, g, False),
                         daemon=True).start()
        self._pipe(g, c, True)

    def _pipe(self, a, b, from_guest):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                if from_guest and self.first_banner is None:
                    self.first_banner = time.monotonic()
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        a.close()

    def stop(self):
        self.stopped = True
        self.sock.close()


def proc_start(pid):
    """When process pid started, on time.monotonic()'s clock (both count
    from boot on Linux), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class _Api:
    """The one thing Forward wants of a simlib.Sim: api(path)."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def api(self, path):
        return self.url + "/api2/json" + path


if __name__ == "__main__":
    # guestlib.py forward SIM_URL PORTFILE: a Forward to the simulator's
    # first guest until killed, its port written to PORTFILE (for
    # scripts/demo-real.sh); the token from PM_API_TOKEN_ID and
    # PM_API_TOKEN_SECRET, never argv.
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "forward":
        sys.exit("usage: guestlib.py forward SIM_URL PORTFILE")
    fwd = Forward(_Api(sys.argv[2]), os.environ["PM_API_TOKEN_ID"],
                  os.environ["PM_API_TOKEN_SECRET"], None)
    with open(sys.argv[3] + ".tmp", "w") as f:
        f.write("%d\n" % fwd.port)
    os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    while True:
        time.sleep(3600)
