"""What the workloads tests share (issue 17): a repository with the two K3s
VMs and the golden workspaces, the shared kubeconfig in vault-sim, and a
loopback TLS server standing for a cluster's API server."""

import base64
import json
import os
import shutil
import socket
import ssl
import tempfile
import threading

import hvac

TOKEN = "s.workloadstest0123456789abcd"
KPATH = "cluster-secret-store/secrets/KUBECONFIG"

VM = """name: {name}
target_node: node03
cores: 2
memory: 4096
clone: ubuntu24-template
ipconfig0: "ip={ip}/24,gw=192.168.1.1"
"""


class TlsServer:
    """A loopback TLS server that completes handshakes and hangs up: the
    part of a Kubernetes API server that check looks at."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.settimeout(5)
                s = self.ctx.wrap_socket(c, server_side=True)
                self.handshakes += 1
                s.close()
            except (OSError, ssl.SSLError):
                c.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def kubeconfig(contexts, cert):
    """A shared kubeconfig (JSON, which is YAML) with {context: server},
    every cluster trusting cert."""
    ca = base64.b64encode(open(cert, "rb").read()).decode()
    kc = {"apiVersion": "v1", "kind": "Config", "clusters": [],
          "contexts": [], "users": [], "preferences": {}}
    for i, (name, server) in enumerate(sorted(contexts.items())):
        cl, us = "cluster-%d" % i, "user-%d" % i
        kc["clusters"].append({"name": cl, "cluster": {
            "server": server, "certificate-authority-data": ca}})
        kc["users"].append({"name": us, "user": {
            "client-certificate-data": "REVG", "client-key-data": "R0hJ"}})
        kc["contexts"].append({"name": name, "context": {
            "cluster": cl, "user": us}})
    return json.dumps(kc, indent=1) + "\n"


def store(sim, contexts, cert):
    """The shared kubeconfig with contexts into vault-sim at KPATH."""
    hvac.Client(url=sim.url, token=sim.token).secrets.kv.v2.\
        create_or_update_secret(path=KPATH, mount_point="kv",
                                secret={"KUBECONFIG": kubeconfig(contexts,
                                                                 cert)})


def repo(d, golden, config="workload_modules: [lab_tools]\n"):
    """A repository below d with the two K3s VMs and the golden
    workspaces of the directory golden."""
    r = tempfile.mkdtemp(dir=d, prefix="repo.")
    os.makedirs(os.path.join(r, "proxmox", "vms"))
    os.makedirs(os.path.join(r, "clusters"))
    for name, ip in (("k8s-observability", "192.168.1.20"),
                     ("k8s-lab", "192.168.1.21")):
        with open(os.path.join(r, "proxmox", "vms", name + ".yaml"),
                  "w") as f:
            f.write(VM.format(name=name, ip=ip))
    for ws in ("observability", "lab"):
        shutil.copy(os.path.join(golden, ws + ".yaml"),
                    os.path.join(r, "clusters"))
    with open(os.path.join(r, "pve-gitops.yaml"), "w") as f:
        f.write(config)
    return r


def finish(t, d):
    """Remove d (unless KEEP is set) and end the TAP output."""
    if not os.environ.get("KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    t.done()
