#!/usr/bin/python3
"""pve-gitops kubeconfig merge on files, checked with real kubectl: into
nothing, a second cluster, a re-publish under a new cluster name (the old
cluster and user go when nothing else uses them), K3s's "default" names,
127.0.0.1 / localhost / [::1] servers replaced, other clusters (an exec
user, extensions, preferences) untouched; bad input changes nothing.

Usage: kubeconfig_merge.py PVE_GITOPS
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from simlib import Tap

BIN = sys.argv[1]
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-kc.")

K3S = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: https://{host}:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {{}}
users:
- name: default
  user:
    client-certificate-data: REVG
    client-key-data: R0hJ
"""

OTHER = """apiVersion: v1
kind: Config
preferences:
  colors: true
current-context: eks
clusters:
- name: eks-prod
  cluster:
    server: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com
    certificate-authority-data: RUtT
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: sts}
contexts:
- name: eks
  context: {cluster: eks-prod, user: eks-user, namespace: apps}
users:
- name: eks-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, prod]
      env:
      - {name: AWS_PROFILE, value: prod}
      interactiveMode: Never
extensions:
- name: my-tool
  extension: {owner: platform}
"""


def write(name, text):
    p = os.path.join(D, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def k3s(host, ca="QUJD"):
    return write("k3s-%s.yaml" % host.strip("[]").replace(":", "_"),
                 K3S.format(host=host, ca=ca))


def merge(into, frm, *args):
    return subprocess.run([BIN, "kubeconfig", "merge", "--into", into,
                           "--from", frm] + list(args),
                          capture_output=True, text=True)


def kubectl(*args):
    return subprocess.run(["kubectl"] + list(args), capture_output=True,
                          text=True)


def view(path):
    p = kubectl("config", "view", "--kubeconfig", path, "--raw", "-o",
                "json")
    assert p.returncode == 0, p.stderr
    v = json.loads(p.stdout)
    return v


def entries(v, kind):
    return {e["name"]: e[kind[:-1]] for e in v.get(kind) or []}


def contexts_table(path):
    p = kubectl("config", "get-contexts", "--kubeconfig", path, "-o",
                "name")
    return sorted(p.stdout.split())


def valid(path, name):
    p = kubectl("config", "view", "--kubeconfig", path, "--minify", "-o",
                "json")
    t.ok(p.returncode == 0, name + ": kubectl config view --minify "
         "accepts it", p.stderr)


shared = os.path.join(D, "shared.yaml")

# into nothing
p = merge(shared, k3s("127.0.0.1"), "--context", "k8s-obs",
          "--server-host", "10.0.0.20")
t.eq(p.returncode, 0, "into nothing: exit 0")
t.eq(oct(os.stat(shared).st_mode & 0o777), "0o600", "written with mode 0600")
valid(shared, "into nothing")
v = view(shared)
cl = entries(v, "clusters")
t.eq(len(cl), 1, "one cluster")
name1 = list(cl)[0]
t.ok(name1 != "default" and "-" in name1,
     "K3s's 'default' renamed to a generated adjective-noun name", name1)
t.eq(cl[name1]["server"], "https://10.0.0.20:6443", "127.0.0.1 replaced")
t.eq(list(entries(v, "users")), [name1], "the user renamed the same way")
t.eq(entries(v, "contexts"), {"k8s-obs": {"cluster": name1, "user": name1}},
     "the context named after the inventory name")
t.eq(v["current-context"], "k8s-obs", "current-context set on a new file")

# a second cluster, localhost
p = merge(shared, k3s("localhost"), "--context", "k8s-dev",
          "--server-host", "10.0.0.21")
t.eq(p.returncode, 0, "a second cluster: exit 0")
valid(shared, "a second cluster")
v = view(shared)
t.eq(contexts_table(shared), ["k8s-dev", "k8s-obs"],
     "get-contexts shows both")
ctx = entries(v, "contexts")
t.eq(entries(v, "clusters")[ctx["k8s-dev"]["cluster"]]["server"],
     "https://10.0.0.21:6443", "localhost replaced")
t.eq(entries(v, "clusters")[name1]["server"], "https://10.0.0.20:6443",
     "the first cluster untouched")
t.eq(v["current-context"], "k8s-obs", "current-context kept")

# the same inventory name again: the cluster keeps its name
p = merge(shared, k3s("127.0.0.1", "TkVX"), "--context", "k8s-obs",
          "--server-host", "10.0.0.22")
v = view(shared)
t.eq(entries(v, "contexts")["k8s-obs"]["cluster"], name1,
     "re-publish: the context keeps its cluster name")
t.eq(entries(v, "clusters")[name1],
     {"certificate-authority-data": "TkVX",
      "server": "https://10.0.0.22:6443"},
     "re-publish: the cluster's data replaced")
t.eq(len(entries(v, "clusters")), 2, "re-publish: no duplicate")

# a new cluster name: the old cluster and user go
p = merge(shared, k3s("[::1]"), "--context", "k8s-obs", "--cluster-name",
          "cozy-haven", "--server-host", "fd00::20")
t.eq(p.returncode, 0, "new cluster name: exit 0")
t.ok("removed unused cluster " + name1 in p.stderr,
     "new cluster name: the removal is reported", p.stderr)
v = view(shared)
t.ok(name1 not in entries(v, "clusters") and name1 not in
     entries(v, "users"), "the old cluster and user are gone")
t.eq(entries(v, "clusters")["cozy-haven"]["server"],
     "https://[fd00::20]:6443", "[::1] replaced by an IPv6 address")
valid(shared, "after a rename")

# merging into a hand-made file keeps everything else
other = write("other.yaml", OTHER)
before = view(other)
p = merge(other, k3s("127.0.0.1"), "--context", "k8s-obs",
          "--server-host", "10.0.0.30", "--cluster-name", "obs")
t.eq(p.returncode, 0, "into a hand-made file: exit 0")
after = view(other)
t.eq(entries(after, "users")["eks-user"], entries(before, "users")["eks-user"],
     "the exec user untouched")
t.eq(entries(after, "clusters")["eks-prod"],
     entries(before, "clusters")["eks-prod"],
     "the other cluster (with extensions) untouched")
t.eq(entries(after, "contexts")["eks"], entries(before, "contexts")["eks"],
     "the other context (with namespace) untouched")
t.eq(after["preferences"], before["preferences"], "preferences kept")
t.eq(after.get("extensions"), before.get("extensions"), "extensions kept")
t.eq(after["current-context"], "eks", "current-context kept")
t.eq(contexts_table(other), ["eks", "k8s-obs"], "both contexts listed")
valid(other, "the hand-made file")

# bad input changes nothing
snapshot = open(shared, "rb").read()
cases = [
    ("invalid YAML", write("bad1.yaml", "clusters: [\n"), "bad1.yaml:2"),
    ("no clusters", write("bad2.yaml", "apiVersion: v1\nkind: Config\n"
                          "contexts:\n- {name: a, context: {cluster: x, "
                          "user: y}}\n"), "names a cluster it does not"),
    ("not a kubeconfig", write("bad3.yaml", "kind: Pod\n"),
     "kind: a kubeconfig is kind Config"),
    ("bad base64", write("bad4.yaml", K3S.format(host="127.0.0.1",
                                                 ca="Q!JD")),
     "not base64"),
]
for name, path, msg in cases:
    p = merge(shared, path, "--context", "k8s-x", "--server-host", "10.9.9.9")
    t.ok(p.returncode == 2 and msg in p.stderr,
         "refused: " + name, p.stderr)
    t.ok(open(shared, "rb").read() == snapshot, "nothing changed: " + name)

# a kubeconfig from a VM carries data, not code (issue 13): every user of
# the shared file would run an exec command or read a local file
ACTIVE = [
    ("an exec user", "    exec:\n      apiVersion: "
     "client.authentication.k8s.io/v1beta1\n      command: /bin/sh\n"
     "      args: [-c, 'touch /tmp/pwned']\n", "users[0].user.exec"),
    ("an auth-provider", "    auth-provider:\n      name: oidc\n"
     "      config: {cmd-path: /bin/sh}\n", "users[0].user.auth-provider"),
    ("a client key file", "    client-key: /root/.ssh/id_rsa\n",
     "users[0].user.client-key"),
    ("a token file", "    tokenFile: /etc/shadow\n",
     "users[0].user.tokenFile"),
]
for name, user, field in ACTIVE:
    path = write("active.yaml", K3S.format(host="127.0.0.1", ca="QUJD")
                 + user)
    p = merge(shared, path, "--context", "k8s-x", "--server-host", "10.9.9.9")
    t.ok(p.returncode == 2 and field in p.stderr and "--force" in p.stderr,
         "refused: " + name, p.stderr)
    t.ok(open(shared, "rb").read() == snapshot, "nothing changed: " + name)
insecure = K3S.format(host="127.0.0.1", ca="QUJD").replace(
    "    server:", "    insecure-skip-tls-verify: true\n    server:")
p = merge(shared, write("insecure.yaml", insecure), "--context", "k8s-x",
          "--server-host", "10.9.9.9")
t.ok(p.returncode == 2 and "insecure-skip-tls-verify" in p.stderr,
     "refused: insecure-skip-tls-verify", p.stderr)
forced = os.path.join(D, "forced.yaml")
p = merge(forced, path, "--context", "k8s-x", "--server-host", "10.9.9.9",
          "--force")
t.ok(p.returncode == 0 and "warning:" in p.stderr and "tokenFile" in
     p.stderr, "--force merges it, with a warning", p.stderr)
t.ok([u.get("tokenFile") for u in entries(view(forced), "users").values()]
     == ["/etc/shadow"], "--force: the field is merged as it was")

p = merge(shared, k3s("127.0.0.1"), "--context", "k8s-x")
t.ok(p.returncode == 2 and "--server-host" in p.stderr,
     "a loopback server without --server-host is refused", p.stderr)
BROKEN = "apiVersion: v1\nkind: Config\nclusters: 3\n"
p = merge(write("broken-into.yaml", BROKEN), k3s("127.0.0.1"),
          "--context", "k8s-x", "--server-host", "10.1.1.1")
t.ok(p.returncode == 2 and "broken-into.yaml:3:11: error: clusters: "
     "expected a list" in p.stderr,
     "a broken shared file is refused at its line, not overwritten",
     p.stderr)
t.eq(open(os.path.join(D, "broken-into.yaml")).read(), BROKEN,
     "the broken shared file is left as it was")
t.ok(open(shared, "rb").read() == snapshot, "the shared file never changed")

shutil.rmtree(D)
t.done()
