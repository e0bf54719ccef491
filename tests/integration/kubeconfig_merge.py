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
import re
import shutil
import subprocess
import sys
import tempfile

from kubelib import MEM_MB, bomb_text, limited_env
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


def limited(argv, timeout=30):
    """argv under a hard memory limit of MEM_MB (kubelib). Returns
    (CompletedProcess, seconds)."""
    import time
    env, pre = limited_env(BIN, os.environ)
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env,
                       preexec_fn=pre, timeout=timeout)
    return p, time.monotonic() - start


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
    t.ok(re.search(r"active\.yaml:2[01]:\d+: error: " + re.escape(field),
                   p.stderr), "refused at its line: " + name, p.stderr)
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

# bounded (issue 13): the alias bomb is refused at its line, within
# seconds, under a hard memory limit, whether it comes as --from or --into
bomb = write("bomb.yaml", bomb_text())
for role in ("--from", "--into"):
    into, frm = (shared, bomb) if role == "--from" else (bomb, k3s("10.7.0.1"))
    p, secs = limited([BIN, "kubeconfig", "merge", "--into", into, "--from",
                       frm, "--context", "k8s-b"])
    t.ok(p.returncode == 2 and bomb + ":8:" in p.stderr
         and "aliases expand" in p.stderr,
         "the alias bomb as %s: refused at bomb.yaml:8 under %d MB"
         % (role, MEM_MB), p.stderr[-2000:])
    t.ok(secs < 10, "the alias bomb as %s: refused in %.1f s" % (role, secs))
    t.ok(open(shared, "rb").read() == snapshot
         and open(bomb).read() == bomb_text(),
         "the alias bomb as %s: nothing changed" % role)

# a file over the size limit is refused at its first line
big = write("big.yaml", "#" * (5 << 20) + "\n")
p = merge(shared, big, "--context", "k8s-b")
t.ok(p.returncode == 2 and big + ":1:1: error: the file is larger than "
     "the limit of 4194304 bytes" in p.stderr,
     "a 5 MiB kubeconfig is refused at big.yaml:1:1", p.stderr[-2000:])
t.ok(open(shared, "rb").read() == snapshot, "nothing changed: 5 MiB file")
os.unlink(big)

# --into a file that is not a kubeconfig is refused, as publish refuses:
# one definition for both (a mapping with apiVersion v1 and kind Config)
NOT_KC = [
    ("a mapping of something else", "foo: bar\n", ":1:1:",
     "not a kubeconfig: no 'kind: Config'"),
    ("a list", "- a\n- b\n", ":1:1:", "a kubeconfig is a mapping, not a "
     "list"),
    ("a scalar", "hello\n", ":1:1:", "a kubeconfig is a mapping, not a "
     "string"),
    ("kind Pod", "apiVersion: v1\nkind: Pod\n", ":2:7:",
     "kind: a kubeconfig is kind Config"),
    ("apiVersion v2", "kind: Config\napiVersion: v2\n", ":2:13:",
     "apiVersion: a kubeconfig is v1"),
    ("no apiVersion", "kind: Config\nclusters: []\n", ":1:1:",
     "no 'apiVersion: v1'"),
]
for name, text, pos, msg in NOT_KC:
    path = write("notkc.yaml", text)
    p = merge(path, k3s("10.7.0.1"), "--context", "k8s-n")
    t.ok(p.returncode == 2 and path + pos in p.stderr and msg in p.stderr
         and "nothing was written" in p.stderr,
         "--into " + name + ": refused at its line", p.stderr)
    t.eq(open(path).read(), text, "--into " + name + ": left as it was")

# every refusal of the incoming kubeconfig names its file and line
HEAD = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
TAIL = ("users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: x\n"
        "  context: {cluster: c, user: %s}\n")
PLACED = [
    ("an empty file", "", ":1:1:", "the kubeconfig to merge is empty"),
    ("a server with a newline", HEAD + '    server: "https://10.7.0.9:6443'
     '\\nX: y"\n' + TAIL % "u", ":6:14:",
     "holds a control character (0x0a)"),
    ("a server that is not a URL", HEAD + "    server: 10.7.0.9:6443\n"
     + TAIL % "u", ":6:13:", "is not a URL"),
    ("a context naming a missing user", HEAD + "    server: https://a:1\n"
     + TAIL % "ghost", ":12:", "names a user it does not define"),
    ("no clusters", "apiVersion: v1\nkind: Config\ncontexts:\n"
     "- {name: a, context: {cluster: x, user: y}}\n", ":4:",
     "names a cluster it does not define"),
    ("a duplicate name", HEAD + "    server: https://a:1\n- name: c\n"
     "  cluster: {server: https://b:1}\n" + TAIL % "u", ":7:9:",
     "a second cluster named 'c'"),
]
for name, text, pos, msg in PLACED:
    path = write("placed.yaml", text)
    p = merge(shared, path, "--context", "k8s-p", "--server-host", "10.7.0.2")
    t.ok(p.returncode == 2 and path + pos in p.stderr and msg in p.stderr,
         "refused at its line: " + name, p.stderr)
    t.ok(open(shared, "rb").read() == snapshot, "nothing changed: " + name)
p = merge(shared, k3s("127.0.0.1"), "--context", "k8s-x")
t.ok("k3s-127.0.0.1.yaml:5:13: error: clusters[0].cluster.server:"
     in p.stderr, "the loopback refusal names the server's line", p.stderr)

shutil.rmtree(D)
t.done()
