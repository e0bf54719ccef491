#!/usr/bin/python3
"""What a misbehaving Proxmox or a hostile pusher can make pve-gitops do.

A fake Proxmox (plain HTTP on 127.0.0.1, written here: proxmox-sim stays
faithful to the real API and cannot give these answers) serves
/cluster/resources, /nodes, a node's storages, bridges and VM
configurations from a scenario, and logs every request:

- a managed VM without "node": plan --prune neither crashes nor plans it;
- a vmid past 999999999 (4294967396 would be VM 100 cut to int): ignored,
  VM 100 is never read;
- one unrelated VM whose configuration answers 500: the address check
  warns and skips it, the plan goes on;
- 40 nodes and a definition naming none: the blocked reason names 16 and
  "and 24 more", not all of them;
- more nodes than a cluster has: a clear error, at once;
- a clone POST on a kept-alive connection that dies unanswered, the port
  refusing connections for a moment: apply says it may have been carried
  out and never sends it again.

The git server's lease ref, pushed by hand:

- pointing at a blob: taken over as an unreadable lease, not an error;
- a lease message expiring at INT64_MAX: held (a runner whose clock is far
  behind must not take live leases over), and the error says it is further
  away than any runner sets one and how to delete it; nothing reaches
  Proxmox.

And watch's first line shows a remote URL's token redacted.

Usage: hostile_answers.py PVE_GITOPS SOURCE_DIR
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from simlib import Tap

BIN, SRC = sys.argv[1], sys.argv[2]


def vm(vmid, name, node="pve1", **kw):
    d = {"type": "qemu", "vmid": vmid, "name": name, "node": node,
         "status": "stopped", "template": 0}
    d.update(kw)
    return d


def scenario(name):
    s = {"nodes": [{"node": "pve1", "status": "online"}],
         "storage": [{"storage": "local-lvm", "content": "images,rootdir",
                      "enabled": 1, "active": 1}],
         "network": [{"iface": "vmbr0"}],
         "resources": [vm(9000, "ubuntu24-template", template=1)],
         "configs": {}, "broken": set()}
    if name == "nonode":
        s["resources"].append({"type": "qemu", "vmid": 400, "name": "old",
                               "tags": "pve-gitops;pg-00000000"})
    elif name == "bigvmid":
        s["resources"].append(vm(4294967396, "old",
                                 tags="pve-gitops;pg-00000000"))
    elif name == "brokenvm":
        s["resources"].append(vm(300, "unrelated"))
        s["resources"].append(vm(301, "neighbour"))
        s["configs"][301] = {"name": "neighbour",
                             "ipconfig0": "ip=10.0.0.99/24"}
        s["broken"].add(300)
    elif name == "manynodes":
        s["nodes"] = [{"node": "n%02d" % i, "status": "online"}
                      for i in range(40)]
    elif name == "hugenodes":
        s["nodes"] = [{"node": "n%05d" % i, "status": "online"}
                      for i in range(5000)]
    return s


def route(s, p):
    """The answer (status, data) of the scenario s to GET p (the path
    after /api2/json)."""
    if p == "/cluster/resources":
        return 200, s["resources"]
    if p == "/nodes":
        return 200, s["nodes"]
    if p == "/cluster/nextid":
        return 200, "100"
    if re.match(r"^/nodes/[^/]+/storage$", p):
        return 200, s["storage"]
    if re.match(r"^/nodes/[^/]+/network$", p):
        return 200, s["network"]
    m = re.match(r"^/nodes/[^/]+/qemu/(\d+)/config$", p)
    if m:
        vmid = int(m.group(1))
        if vmid in s["broken"]:
            return 500, None
        return 200, s["configs"].get(vmid, {})
    return 404, None


class Dropper:
    """A fake Proxmox on raw sockets with kept-alive connections, for the
    once-only requests: GETs answered as Fake does; the first POST is read,
    then its connection is closed unanswered and the port refuses
    connections for 1.5 s (pveproxy restarting); later POSTs get 500."""

    def __init__(self):
        self.s = scenario("drop")
        self.posts = []  # (path, requests its connection served before)
        self.ls = self.listen(0)
        self.port = self.ls.getsockname()[1]
        self.url = "http://127.0.0.1:%d/api2/json" % self.port
        self.done = False

    @staticmethod
    def listen(port):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(16)
        ls.settimeout(0.1)
        return ls

    def __enter__(self):
        threading.Thread(target=self.serve, daemon=True).start()
        return self

    def __exit__(self, *a):
        self.done = True

    def serve(self):
        while not self.done:
            ls = self.ls
            if ls is None:  # refusing connections
                time.sleep(0.05)
                continue
            try:
                c, _ = ls.accept()
            except (OSError, socket.timeout):
                continue
            c.settimeout(None)
            threading.Thread(target=self.conn, args=(c,),
                             daemon=True).start()

    def conn(self, c):
        f, served = c.makefile("rb"), 0
        while True:
            line = f.readline()
            if not line.strip():
                break
            method, path = line.decode().split(" ")[:2]
            n = 0
            for h in iter(f.readline, b"\r\n"):
                if not h:
                    return
                k, _, v = h.decode().partition(":")
                if k.strip().lower() == "content-length":
                    n = int(v)
            body = f.read(n).decode()
            if method != "GET":
                self.posts.append((path, served))
                if len(self.posts) == 1:
                    # carried out: the clone is there, locked
                    q = parse_qs(body)
                    self.s["resources"].append(vm(
                        int(q["newid"][0]), q.get("name", ["?"])[0],
                        lock="clone"))
                    # carried out, never answered: the port refuses
                    # connections before this one closes
                    old, self.ls = self.ls, None
                    old.shutdown(socket.SHUT_RDWR)  # stops listening now
                    old.close()
                    c.close()
                    time.sleep(1.5)
                    self.ls = self.listen(self.port)
                    return
                code, data = 500, None
            else:
                code, data = route(self.s, urlparse(path).path[10:])
            body = json.dumps({"data": data}).encode()
            c.sendall(b"HTTP/1.1 %d X\r\nContent-Type: application/json"
                      b"\r\nContent-Length: %d\r\n\r\n" % (code, len(body))
                      + body)
            served += 1


class Fake:
    """The fake Proxmox of one scenario; use as a context manager."""

    def __init__(self, name):
        self.s = scenario(name)
        self.log = []
        fake = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, code, data):
                body = json.dumps({"data": data}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def any(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                fake.log.append((self.command, self.path))
                if self.command != "GET":
                    return self.reply(500, None)
                p = urlparse(self.path).path[len("/api2/json"):]
                return self.reply(*route(fake.s, p))
            do_GET = do_POST = do_PUT = do_DELETE = any

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/api2/json" % self.srv.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *a):
        self.srv.shutdown()
        self.srv.server_close()

    def paths(self):
        return [p for _, p in self.log]


CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
outputs: proxmox/.pve-gitops/outputs.json
validate_with_ansible: never
"""

VM = """name: web
target_node: %s
cores: 1
memory: 512
clone: ubuntu24-template
ipconfig0: "ip=10.0.0.10/24,gw=10.0.0.1"
network: {bridge: vmbr0}
disks: {scsi0: {size: 4G, storage: local-lvm}}
"""


def repo(d, node="pve1"):
    os.makedirs(os.path.join(d, "proxmox", "vms"))
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write(CONFIG)
    with open(os.path.join(d, "proxmox", "vms", "web.yaml"), "w") as f:
        f.write(VM % node)


def pg(d, url, *args, timeout=120):
    env = dict(os.environ, PM_API_URL=url, PM_API_TOKEN_ID="a@pve!t",
               PM_API_TOKEN_SECRET="s", HOME=d)
    t0 = time.monotonic()
    p = subprocess.run([BIN, "-C", d, "--no-color"] + list(args),
                       capture_output=True, text=True, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    p.took = time.monotonic() - t0
    return p


def fake_cases(t, top):
    d = os.path.join(top, "nonode")
    repo(d)
    with Fake("nonode") as f:
        p = pg(d, f.url, "plan", "--prune")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 0 and "old" not in p.stdout,
             "a managed VM without a node: no crash, not planned",
             "rc %d\n%s" % (p.returncode, out))
    d = os.path.join(top, "bigvmid")
    repo(d)
    with Fake("bigvmid") as f:
        p = pg(d, f.url, "plan", "--prune")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 0 and "vmid 100" not in out and
             not any("/qemu/100/" in x for x in f.paths()),
             "a vmid past 999999999 is no VM (not VM 100)",
             "rc %d\n%s\n%r" % (p.returncode, out, f.paths()))
    d = os.path.join(top, "brokenvm")
    repo(d)
    with Fake("brokenvm") as f:
        p = pg(d, f.url, "plan")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 0 and
             "the address check skips 1 VM whose configuration Proxmox "
             "did not give" in p.stderr and "will be created" in p.stdout,
             "one VM's unreadable configuration: a warning, the plan goes "
             "on", "rc %d\n%s" % (p.returncode, out))
    d = os.path.join(top, "manynodes")
    repo(d, node="pve1")
    with Fake("manynodes") as f:
        p = pg(d, f.url, "plan")
        out = p.stdout + p.stderr
        t.ok("pve1 is not a cluster node (nodes: n00, " in out and
             "n15 and 24 more)" in out and "n16" not in out,
             "40 nodes: the reason names 16 and how many more", out)
    d = os.path.join(top, "hugenodes")
    repo(d)
    with Fake("hugenodes") as f:
        p = pg(d, f.url, "plan")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 1 and "GET /nodes: 5000 nodes, more than a "
             "cluster has" in p.stderr and p.took < 30,
             "5000 nodes: a clear error at once (%.1f s)" % p.took, out)


def once_only(t, top):
    """A clone POST carried out on a kept-alive connection that then dies
    unanswered, the server refusing connections a moment: lost (whether
    it was carried out is for the caller to find), never sent again."""
    d = os.path.join(top, "drop")
    repo(d)
    with Dropper() as f:
        p = pg(d, f.url, "apply", "--auto-approve")
        time.sleep(2)  # a second send would have come by now
        out = p.stdout + p.stderr
        clones = [x for x in f.posts if x[0].endswith("/clone")]
        t.ok(p.returncode == 1 and len(clones) == 1,
             "a once-only POST whose connection died, carried out: never "
             "sent again", "rc %d, POSTs %r\n%s" %
             (p.returncode, f.posts, out[-2000:]))
        t.ok(f.posts and f.posts[0][1] > 0,
             "... it went on a connection that had served requests before "
             "(the re-send libcurl would make)", f.posts)


def git(*args, cwd):
    return subprocess.run(["git"] + list(args), cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def lease_repo(top, name):
    remote = os.path.join(top, name + ".git")
    clone = os.path.join(top, name)
    git("init", "-q", "--bare", "-b", "main", remote, cwd=top)
    git("init", "-q", "-b", "main", clone, cwd=top)
    shutil.copytree(os.path.join(SRC, "examples", "infra"), clone,
                    dirs_exist_ok=True)
    cfg = os.path.join(clone, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^  lease_wait_seconds: \d+", "  "
                      "lease_wait_seconds: 0", text)
    if n != 1:
        raise RuntimeError("the example config has no lease_wait_seconds")
    with open(cfg, "w") as f:
        f.write(text)
    for k, v in (("user.name", "Dev"), ("user.email", "dev@example.test")):
        git("config", k, v, cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-qm", "init", cwd=clone)
    git("remote", "add", "origin", remote, cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    return remote, clone


def lease_cases(t, top):
    # a closed port: whatever gets past the lease fails at Proxmox
    dead = "https://127.0.0.1:1/api2/json"
    remote, clone = lease_repo(top, "blob")
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"],
                          cwd=clone, input="hello\n", capture_output=True,
                          text=True, check=True).stdout.strip()
    git("push", "-q", "origin", blob + ":refs/pve-gitops/lease", cwd=clone)
    p = pg(clone, dead, "run", "--push")
    out = p.stdout + p.stderr
    t.ok("took over the lease on " in out and "from an unreadable lease"
         in out and "expected commit type" not in out,
         "a lease ref at a blob is taken over as unreadable", out)
    t.ok(git("for-each-ref", "refs/pve-gitops/lease", cwd=remote) == "",
         "... and released at the end", out)

    remote, clone = lease_repo(top, "forever")
    tree = git("mktree", cwd=clone)
    msg = ("pve-gitops lease\n\nholder: ci-runner-7 4242 0123456789abcdef\n"
           "expires: 9223372036854775807\n")
    c = subprocess.run(["git", "commit-tree", tree], cwd=clone, input=msg,
                       capture_output=True, text=True,
                       check=True).stdout.strip()
    git("push", "-q", "origin", c + ":refs/pve-gitops/lease", cwd=clone)
    with Fake("nonode") as f:
        p = pg(clone, f.url, "run", "--push")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 1 and "held by ci-runner-7 4242 "
             "0123456789abcdef" in p.stderr and "further away than any "
             "runner sets one" in p.stderr and "delete it: git push origin "
             ":refs/pve-gitops/lease" in p.stderr,
             "a lease until INT64_MAX: held, said to be no runner's, with "
             "the way out", out)
        t.ok(f.log == [], "... and nothing reached Proxmox", repr(f.log))
    t.ok(git("rev-parse", "refs/pve-gitops/lease", cwd=remote) == c,
         "... and the lease is left as it was")
    # the way out the message gives works
    git("push", "-q", remote, ":refs/pve-gitops/lease", cwd=clone)
    p = pg(clone, dead, "run", "--push")
    t.ok("held by" not in p.stderr, "after deleting it, the lease is free",
         p.stderr)


def watch_url(t, top):
    d = os.path.join(top, "watch")
    repo(d)
    git("init", "-q", "-b", "main", cwd=d)
    url = "https://u:SECRET1@127.0.0.1:1/r.git"
    p = pg(d, "https://127.0.0.1:1/api2/json", "watch", "--once",
           "--remote", url, timeout=60)
    out = p.stdout + p.stderr
    t.ok("SECRET1" not in out and
         "watch: https://***@127.0.0.1:1/r.git main" in p.stdout,
         "watch's first line shows the remote with its token redacted", out)


def main():
    t = Tap()
    top = tempfile.mkdtemp(prefix="pve-gitops-hostile.")
    os.environ.update(GIT_AUTHOR_NAME="Dev", GIT_AUTHOR_EMAIL="d@x.test",
                      GIT_COMMITTER_NAME="Dev", GIT_COMMITTER_EMAIL="d@x.test")
    try:
        fake_cases(t, top)
        once_only(t, top)
        lease_cases(t, top)
        watch_url(t, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
