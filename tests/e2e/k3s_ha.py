#!/usr/bin/python3
"""The seed's multi-node K3s clusters end to end, on loopback only: real
git (a bare remote), proxmox-sim, vault-sim, real ansible-playbook running
the shipped examples/infra/proxmox/playbooks/k8s-ha.yml, and real sshd
servers on 127.0.0.x standing in for the VMs.

K3s cannot be downloaded here: k3s_install_command is a recording
stand-in (fake-k3s.py) that does what the playbook relies on (a server
writes a K3s-shaped kubeconfig, an agent its uninstall script, the token
read from K3S_TOKEN_FILE) and records, for each call, the host it stands
for, INSTALL_K3S_EXEC, K3S_URL, the token file's mode, a digest of the
token, its own argv, the argv and environment of every ancestor process
and the argv of every process on the machine at that moment (`ps`), so
that a token on any command line or in any environment would be found.
The sshd servers all run on this machine, so each host's files are kept
apart with paths built from inventory_hostname (playbooks/group_vars).

- `run --push` on a commit tagged [ansible k8s-ha] creating
  k8s-e2e-cp01, k8s-e2e-cp02 (servers) and k8s-e2e-w01 (an agent) on
  three sshd hosts: the inventory has them in [k3s_servers] and
  [k3s_agents]; k8s-ha.yml (not k8s.yml) runs once over the new hosts;
  cp01 installs first with --cluster-init, cp02 joins it as a server and
  w01 as an agent, all with one token that is in a 0600 file and nowhere
  else (not in Ansible's output, not in any argv or environment); Vault
  then holds ONE context, k8s-e2e, whose server is cp01's address
  (checked with kubectl config view);
- a later agent k8s-e2e-w02 joins the cluster alone: its first server is
  read from the repository inventory, nothing else is reinstalled;
- a later server with a lower number, k8s-e2e-cp00, joins cp01 (which has
  K3s) instead of starting a second cluster;
- with k8s_api_address set, provision on the whole inventory reinstalls
  nothing and publishes the same single context with the API address;
- run by hand on local connections: a given k3s_token reaches every host,
  other hosts are left alone, an agent without a server fails clearly.

Usage: k3s_ha.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
import kubelib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "3d1f5a7c-9e2b-4c6d-8f0a-1b3c5d7e9f2a"
VTOKEN = "s.k3shae2etesttoken0000000"
API = "127.0.0.10"
t = Tap()
W = e2elib.Workdir("pve-gitops-k3sha.")
D, REPO, REMOTE = W.dir, W.repo, W.remote
KNOWN = os.path.join(D, "ssh", "known_hosts")
NODES = os.path.join(D, "nodes")
LOG = os.path.join(D, "installs.log")
GROUP_VARS = os.path.join(REPO, "proxmox", "playbooks", "group_vars",
                          "all.yml")

FAKE = r'''#!/usr/bin/python3
# stand-in for K3s's install script; argv[1] is the host it runs for
import hashlib, json, os, subprocess, sys
host = sys.argv[1]
node = os.path.join(%(nodes)r, host)
os.makedirs(node, exist_ok=True)
exe = os.environ.get("INSTALL_K3S_EXEC", "")
tf = os.environ.get("K3S_TOKEN_FILE", "")
st = os.stat(tf)
token = open(tf).read().strip()
chain, pid = [], os.getppid()
while pid > 1:
    try:
        argv = open("/proc/%%d/cmdline" %% pid, "rb").read()
        env = open("/proc/%%d/environ" %% pid, "rb").read()
        stat = open("/proc/%%d/stat" %% pid).read()
    except OSError:
        break
    chain.append({"argv": argv.decode(errors="replace"),
                  "environ": env.decode(errors="replace")})
    pid = int(stat.rsplit(")", 1)[1].split()[1])
ps = subprocess.run(["ps", "-eww", "-o", "args="], capture_output=True,
                    text=True).stdout
rec = {"host": host, "exec": exe, "url": os.environ.get("K3S_URL"),
       "token_mode": "%%o" %% (st.st_mode & 0o777),
       "token_sha": hashlib.sha256(token.encode()).hexdigest(),
       "token_env": "K3S_TOKEN" in os.environ,
       "argv": sys.argv, "chain": chain, "ps": ps}
if exe.startswith("server"):
    with open(os.path.join(node, "k3s.yaml"), "w") as f:
        f.write(%(k3s)r)
elif exe.startswith("agent"):
    open(os.path.join(node, "agent-installed"), "w").close()
else:
    sys.exit("neither a server nor an agent: %%r" %% exe)
with open(%(log)r, "a") as f:
    f.write(json.dumps(rec) + "\n")
'''


def setup(psim, vsim, sshd):
    W.infra_repo(SRC)
    W.configure(psim, sshd, KNOWN, vault=vsim,
                extra=e2elib.asan_ansible(BIN))
    fake = os.path.join(D, "fake-k3s.py")
    with open(fake, "w") as f:
        f.write(FAKE % {"nodes": NODES, "log": LOG, "k3s": kubelib.K3S})
    os.chmod(fake, 0o755)
    os.makedirs(os.path.dirname(GROUP_VARS))
    node = NODES + "/{{ inventory_hostname }}"
    with open(GROUP_VARS, "w") as f:
        f.write("k3s_install_command: %s {{ inventory_hostname }}\n"
                "k3s_kubeconfig_path: %s/k3s.yaml\n"
                "k3s_token_file: %s/cluster-token\n"
                "k3s_server_token_path: %s/server-token\n"
                "k3s_agent_marker: %s/agent-installed\n"
                "k3s_wait_seconds: 10\n" % (fake, node, node, node, node))
    W.commit("chore: the infrastructure repository")


def env_for(vsim, sshd):
    return W.env(sshd, SECRET, path=[os.path.dirname(os.path.abspath(BIN))],
                 VAULT_ADDR=vsim.url, VAULT_TOKEN=VTOKEN)


def installs():
    if not os.path.exists(LOG):
        return []
    return [json.loads(x) for x in open(LOG).read().splitlines()]


def token_of(host):
    p = os.path.join(NODES, host, "cluster-token")
    return open(p).read().strip() if os.path.exists(p) else None


def vault_contexts(env, name):
    """{context: server} of the kubeconfig in Vault, read back with
    pve-gitops and viewed with kubectl."""
    out = os.path.join(D, name)
    q = W.run(BIN, env, "kubeconfig", "get", "--out", out)
    if not t.eq(q.returncode, 0, "%s: the kubeconfig is in Vault" % name):
        print("#", q.stderr[-2000:])
        return {}
    v = subprocess.run(["kubectl", "config", "view", "--kubeconfig", out,
                        "--raw", "-o", "json"], capture_output=True,
                       text=True)
    t.eq(v.returncode, 0, "%s: kubectl config view reads it" % name)
    kc = json.loads(v.stdout) if v.returncode == 0 else {}
    servers = {c["name"]: c["cluster"]["server"]
               for c in kc.get("clusters") or []}
    return {c["name"]: servers.get(c["context"]["cluster"])
            for c in kc.get("contexts") or []}


def no_secret(token, p, recs, what):
    """The token is in no output, argv or environment recorded."""
    t.ok(token and token not in p.stdout + p.stderr,
         "%s: the token is not in pve-gitops' or Ansible's output" % what)
    t.ok(VTOKEN not in p.stdout + p.stderr,
         "%s: the Vault token is not in the output" % what)
    leaks = []
    for r in recs:
        if token in " ".join(r["argv"]) or r["token_env"]:
            leaks.append("%s: the stand-in's argv or K3S_TOKEN" % r["host"])
        for c in r["chain"]:
            if token in c["argv"] or token in c["environ"]:
                leaks.append("%s: ancestor %r" % (r["host"], c["argv"]))
        if token in r["ps"]:
            leaks.append("%s: ps" % r["host"])
    t.eq(leaks, [], "%s: the token is in no argv (the stand-in's, its "
         "ancestors', ps) and no environment" % what)
    t.ok(all(len(r["chain"]) >= 3 for r in recs),
         "%s: the ancestors were recorded (bash, Ansible's module, sshd)"
         % what, [len(r["chain"]) for r in recs])


def stage_cluster(env):
    W.vm_file("k8s-e2e-cp01", "127.0.0.2")
    W.vm_file("k8s-e2e-cp02", "127.0.0.3")
    W.vm_file("k8s-e2e-w01", "127.0.0.4")
    W.commit("feat(proxmox): add k8s-e2e control plane [ansible k8s-ha]")
    p = W.run(BIN, env, "run", "--push")
    if not t.eq(p.returncode, 0, "cluster: run --push exits 0"):
        print("#", p.stdout[-4000:], p.stderr[-4000:])
        return
    t.eq(W.remote_log()[0],
         "Auto-update Ansible inventory [ansible k8s-ha]",
         "cluster: the automated commit carries the tag")
    ini = W.git("show", "main:proxmox/k8s.ini", cwd=REMOTE)
    t.ok("[k3s_servers]\nk8s-e2e-cp01\nk8s-e2e-cp02\n" in ini and
         "[k3s_agents]\nk8s-e2e-w01" in ini and "\n[k3s]\n" not in ini,
         "cluster: the inventory groups servers and agents", ini)
    t.ok("running k8s-ha.yml on the new hosts" in p.stdout,
         "cluster: [ansible k8s-ha] runs k8s-ha.yml once, over the new "
         "hosts", p.stdout[-2000:])
    recs = installs()
    t.eq([r["host"] for r in recs][:1], ["k8s-e2e-cp01"],
         "cluster: the first server is installed first")
    by = {r["host"]: r for r in recs}
    t.eq(sorted(by), ["k8s-e2e-cp01", "k8s-e2e-cp02", "k8s-e2e-w01"],
         "cluster: each host installed once")
    if len(by) != 3 or len(recs) != 3:
        return
    url = "https://127.0.0.2:6443"
    t.eq(by["k8s-e2e-cp01"]["exec"],
         "server --cluster-init --tls-san 127.0.0.2",
         "cluster: cp01 starts the cluster (--cluster-init)")
    t.eq(by["k8s-e2e-cp02"]["exec"],
         "server --server %s --tls-san 127.0.0.2" % url,
         "cluster: cp02 joins cp01 as a server")
    t.eq((by["k8s-e2e-w01"]["exec"], by["k8s-e2e-w01"]["url"]),
         ("agent --server %s" % url, url),
         "cluster: w01 joins cp01 as an agent (K3S_URL)")
    t.eq({r["token_mode"] for r in recs}, {"600"},
         "cluster: every token file is 0600")
    token = token_of("k8s-e2e-cp01")
    t.eq({r["token_sha"] for r in recs},
         {hashlib.sha256((token or "").encode()).hexdigest()},
         "cluster: all three got the same token")
    t.ok(token and len(token) >= 32, "cluster: a generated token")
    no_secret(token, p, recs, "cluster")
    ctx = vault_contexts(env, "kc1.yaml")
    t.eq(ctx, {"k8s-e2e": url},
         "cluster: ONE context, k8s-e2e, server the first server's address")


def stage_join_later(env):
    W.vm_file("k8s-e2e-w02", "127.0.0.5")
    W.commit("feat(proxmox): one more agent [ansible k8s-ha]")
    n = len(installs())
    p = W.run(BIN, env, "run", "--push")
    if not t.eq(p.returncode, 0, "later agent: run --push exits 0"):
        print("#", p.stdout[-4000:], p.stderr[-4000:])
        return
    recs = installs()[n:]
    t.eq([(r["host"], r["exec"]) for r in recs],
         [("k8s-e2e-w02", "agent --server https://127.0.0.2:6443")],
         "later agent: only w02 installs, and joins cp01 (found in the "
         "repository inventory)")
    token = token_of("k8s-e2e-cp01")
    t.eq([r["token_sha"] for r in recs],
         [hashlib.sha256((token or "").encode()).hexdigest()],
         "later agent: with the cluster's token, read from cp01")
    no_secret(token, p, recs, "later agent")


def stage_lower_server(env):
    W.vm_file("k8s-e2e-cp00", "127.0.0.6")
    W.commit("feat(proxmox): one more server [ansible k8s-ha]")
    n = len(installs())
    p = W.run(BIN, env, "run", "--push")
    if not t.eq(p.returncode, 0, "lower server: run --push exits 0"):
        print("#", p.stdout[-4000:], p.stderr[-4000:])
        return
    recs = installs()[n:]
    t.eq([(r["host"], r["exec"]) for r in recs],
         [("k8s-e2e-cp00", "server --server https://127.0.0.2:6443 "
           "--tls-san 127.0.0.2")],
         "lower server: cp00 joins the installed cp01, no second "
         "--cluster-init")
    token = token_of("k8s-e2e-cp01")
    t.eq([r["token_sha"] for r in recs],
         [hashlib.sha256((token or "").encode()).hexdigest()],
         "lower server: with the cluster's token")
    no_secret(token, p, recs, "lower server")


def stage_api_address(env):
    with open(GROUP_VARS, "a") as f:
        f.write("k8s_api_address: %s\n" % API)
    W.commit("chore: the cluster's API behind a VIP")
    n = len(installs())
    p = W.run(BIN, env, "provision", "--playbook", "k8s-ha")
    if not t.eq(p.returncode, 0, "api address: provision exits 0"):
        print("#", p.stdout[-4000:], p.stderr[-4000:])
        return
    t.ok("running k8s-ha.yml on the whole inventory" in p.stdout,
         "api address: no new host, the whole inventory", p.stdout[-2000:])
    t.eq(len(installs()), n, "api address: nothing is reinstalled")
    ctx = vault_contexts(env, "kc2.yaml")
    t.eq(ctx, {"k8s-e2e": "https://%s:6443" % API},
         "api address: the one context's server is k8s_api_address")
    t.ok(VTOKEN not in p.stdout + p.stderr and
         (token_of("k8s-e2e-cp01") or "x") not in p.stdout + p.stderr,
         "api address: no token in the output")


def stage_local(env):
    """k8s-ha.yml run by hand (ansible_connection=local, no repository
    inventory): a given k3s_token is the one every host gets; an agent
    whose cluster has no server fails with a message naming it."""
    book = os.path.join(SRC, "examples", "infra", "proxmox", "playbooks",
                        "k8s-ha.yml")
    inv = os.path.join(D, "local.ini")
    token = "given-token-5f0c2a9e7b"
    env = dict(env, ANSIBLE_CONFIG=os.path.join(D, "empty.cfg"))
    open(env["ANSIBLE_CONFIG"], "w").close()

    def play(hosts, *extra):
        with open(inv, "w") as f:
            f.write("[all]\n" + "".join(
                "%s ansible_connection=local ansible_python_interpreter="
                "/usr/bin/python3\n" % h for h in hosts))
        return subprocess.run(
            ["ansible-playbook", book, "-i", inv, "-e", "target_hosts=all",
             "-e", "@" + GROUP_VARS, "-e", "k3s_inventory=",
             "-e", "k3s_publish_kubeconfig=false"] + list(extra),
            capture_output=True, text=True, env=env, timeout=300)

    n = len(installs())
    p = play(["k8s-loc-cp01", "k8s-loc-w01", "other-vm"],
             "-e", "k3s_token=" + token)
    t.eq(p.returncode, 0, "by hand: a given k3s_token, exit 0")
    recs = installs()[n:]
    t.eq(sorted((r["host"], r["token_sha"]) for r in recs),
         [(h, hashlib.sha256(token.encode()).hexdigest())
          for h in ("k8s-loc-cp01", "k8s-loc-w01")],
         "by hand: both hosts got k3s_token; other-vm is left alone")
    t.ok("other-vm is not named k8s-NAME-cpNN" in p.stdout,
         "by hand: it says which host it leaves alone", p.stdout[-1500:])
    t.ok(token not in p.stdout + p.stderr,
         "by hand: the token is not in Ansible's output")
    p = play(["k8s-lone-w01"])
    t.ok(p.returncode != 0 and "k8s-lone: no server k8s-lone-cpNN in this "
         "run" in p.stdout, "by hand: an agent without a server fails, "
         "naming its cluster", p.stdout[-1500:])
    t.eq(len(installs()), n + 2, "by hand: nothing installed for it")


def main():
    for tool in ("ansible-playbook", "kubectl", "ps"):
        if not shutil.which(tool):
            t.ok(False, "%s is installed (scripts/install-deps.sh)" % tool)
            t.done()
    with Sshds(["127.0.0.%d" % i for i in range(2, 7)]) as sshd, \
            VaultSim(VSIM, token=VTOKEN) as vsim, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10",
                       "--boot-ms", "0") as psim:
        setup(psim, vsim, sshd)
        env = env_for(vsim, sshd)
        stage_cluster(env)
        stage_join_later(env)
        stage_lower_server(env)
        stage_api_address(env)
        stage_local(env)
    W.cleanup()
    t.done()


main()
