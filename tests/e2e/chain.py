#!/usr/bin/python3
"""The seed's bootstrap procedure end to end, on loopback only: real git
(a bare repository as the remote), proxmox-sim, vault-sim, real
ansible-playbook and real sshd servers on 127.0.0.x standing in for the
new VMs, and kubectl to check the published kubeconfig.

- `run --push` on a commit tagged [ansible k8s-e2e]: the automated commit
  (exact message and files) reaches the remote, the host key comes from
  the guest agent into a non-default known_hosts file, the example k8s.yml
  runs (K3s itself replaced by a stand-in script: it cannot be downloaded
  here) and publishes a kubeconfig whose context is the VM's name and whose
  server is its address;
- a direct playbook (haproxy) runs once, on the two new hosts only, with
  their host keys from ssh-keyscan;
- a rejected push is rebased and retried, a conflict on the inventory is
  resolved by regenerating it;
- hostile tags never reach Proxmox, git or a process; a missing playbook
  fails with the list of playbooks; a host that never opens SSH fails
  after the bounded wait.

Usage: chain.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "7c9e1f3a-5b7d-4e9f-a1c3-e5f7091b3d5f"
VTOKEN = "s.chaine2etesttoken000000"
t = Tap()
W = e2elib.Workdir("pve-gitops-chain.")
D, REPO, REMOTE = W.dir, W.repo, W.remote
KNOWN = os.path.join(D, "ssh", "known_hosts")
sh, git, vm_file, commit, remote_log = (W.sh, W.git, W.vm_file, W.commit,
                                        W.remote_log)


def setup(psim, vsim, sshd):
    W.infra_repo(SRC)
    # the playbook runs this binary (kubeconfig publish)
    W.configure(psim, sshd, KNOWN, vault=vsim,
                extra=e2elib.asan_ansible(BIN))
    # K3s stands in: an install script that writes a K3s-shaped kubeconfig
    fake = os.path.join(D, "fake-k3s-install.sh")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nset -e\nmkdir -p %s\ncat > %s/k3s.yaml <<EOF\n"
                "apiVersion: v1\nclusters:\n- cluster:\n"
                "    certificate-authority-data: QUJD\n"
                "    server: https://127.0.0.1:6443\n  name: default\n"
                "contexts:\n- context:\n    cluster: default\n"
                "    user: default\n  name: default\n"
                "current-context: default\nkind: Config\npreferences: {}\n"
                "users:\n- name: default\n  user:\n"
                "    client-certificate-data: REVG\n"
                "    client-key-data: R0hJ\nEOF\n" % (D, D))
    os.chmod(fake, 0o755)
    os.makedirs(os.path.join(REPO, "proxmox", "group_vars"))
    with open(os.path.join(REPO, "proxmox", "group_vars", "k3s.yml"),
              "w") as f:
        f.write("k3s_install_command: %s\nk3s_kubeconfig_path: "
                "%s/k3s.yaml\nk3s_wait_seconds: 10\n" % (fake, D))
    # a direct playbook that records each run and its hosts, instead of
    # installing HAProxy on this machine
    W.record_playbook("haproxy", os.path.join(D, "haproxy-runs.log"), """\
    - name: record what a playbook can read of the credentials
      ansible.builtin.shell: >-
        echo "secret=[{{ lookup('env', 'PM_API_TOKEN_SECRET') }}]
        id=[{{ lookup('env', 'PM_API_TOKEN_ID') }}]
        vault=[{{ lookup('env', 'VAULT_TOKEN') | length > 0 }}]"
        >> %s/haproxy-env.log
      delegate_to: localhost
      run_once: true
""" % D)
    commit("chore: the infrastructure repository")


def env_for(psim, vsim, sshd):
    return W.env(sshd, SECRET, path=[os.path.dirname(os.path.abspath(BIN))],
                 VAULT_ADDR=vsim.url, VAULT_TOKEN=VTOKEN)


def pg(env, *args):
    return W.run(BIN, env, *args)


def commit_files(rev, cwd=REMOTE):
    return sorted(git("show", "--name-only", "--format=", rev,
                      cwd=cwd).split())


def stage_k3s(env, psim, vsim, sshd):
    vm_file("k8s-e2e", "127.0.0.2", agent=True)
    commit("feat: add the k8s-e2e cluster [ansible k8s-e2e]")
    p = pg(env, "run", "--push")
    if not t.eq(p.returncode, 0, "k3s: run --push exits 0"):
        print("#", p.stdout[-3000:], p.stderr[-3000:])
        return
    t.eq(remote_log()[0], "Auto-update Ansible inventory [ansible k8s-e2e]",
         "k3s: the automated commit's message, on the remote")
    t.eq(commit_files("main"), ["proxmox/host_vars/k8s-e2e.yml",
                                "proxmox/k8s.ini", "proxmox/new_hosts.txt"],
         "k3s: the automated commit's files")
    t.eq(git("show", "main:proxmox/new_hosts.txt", cwd=REMOTE),
         "127.0.0.2,k8s-e2e", "k3s: new_hosts.txt")
    t.ok("host key from the guest agent" in p.stdout or
         "from the guest agent recorded" in p.stdout,
         "k3s: the host key came through the guest agent", p.stdout)
    kh = open(KNOWN).read() if os.path.exists(KNOWN) else ""
    t.ok("[127.0.0.2]:%d %s" % (sshd.port,
                                " ".join(sshd.host_pub["127.0.0.2"].split()[:2]))
         in kh, "k3s: the host key is in the configured known_hosts", kh)
    q = pg(env, "kubeconfig", "get", "--out", os.path.join(D, "kc.yaml"))
    t.eq(q.returncode, 0, "k3s: the kubeconfig is in Vault")
    v = subprocess.run(["kubectl", "config", "view", "--kubeconfig",
                        os.path.join(D, "kc.yaml"), "--raw", "-o", "json"],
                       capture_output=True, text=True)
    kc = json.loads(v.stdout) if v.returncode == 0 else {}
    ctx = {c["name"]: c["context"] for c in kc.get("contexts") or []}
    t.ok("k8s-e2e" in ctx, "k3s: kubectl sees the context k8s-e2e", v.stderr)
    servers = {c["name"]: c["cluster"]["server"]
               for c in kc.get("clusters") or []}
    t.eq(servers.get(ctx.get("k8s-e2e", {}).get("cluster")),
         "https://127.0.0.2:6443", "k3s: its server is the VM's address")
    t.ok(VTOKEN not in p.stdout + p.stderr, "k3s: the Vault token never "
         "shows")


def stage_direct(env):
    vm_file("haproxy-e2e1", "127.0.0.3")
    vm_file("haproxy-e2e2", "127.0.0.4")
    commit("feat: two load balancers [ansible haproxy]")
    p = pg(env, "run", "--push")
    if not t.eq(p.returncode, 0, "direct: run --push exits 0"):
        print("#", p.stdout[-3000:], p.stderr[-3000:])
        return
    runs = open(os.path.join(D, "haproxy-runs.log")).read().split()
    t.eq(runs, ["haproxy-e2e1,haproxy-e2e2"],
         "direct: one ansible-playbook run, on the two new hosts only")
    t.ok("ssh-keyscan" in p.stderr, "direct: ssh-keyscan is warned about",
         p.stderr)
    seen = open(os.path.join(D, "haproxy-env.log")).read()
    t.eq(seen.split(), ["secret=[]", "id=[]", "vault=[True]"],
         "direct: the playbook sees no Proxmox credential, but Vault's")
    t.eq(remote_log()[0], "Auto-update Ansible inventory [ansible haproxy]",
         "direct: the automated commit")


def stage_refusals(env, psim):
    n0 = len(open(psim.log).read().splitlines())
    head = git("rev-parse", "HEAD")
    for tag in ("../../etc/x", "$(id)", "-e@/etc/passwd", "x;rm -rf /"):
        git("commit", "-q", "--allow-empty", "-m", "hostile [ansible %s]"
            % tag)
        p = pg(env, "run")
        t.ok(p.returncode == 2 and "refused" in p.stderr,
             "hostile tag refused: %s" % tag, p.stderr)
    t.eq(len(open(psim.log).read().splitlines()), n0,
         "hostile tags: not one request reached Proxmox")
    git("reset", "-q", "--hard", head)
    p = pg(env, "provision", "--playbook", "nosuch")
    t.ok(p.returncode == 2 and "no playbook 'nosuch.yml'" in p.stderr and
         "haproxy" in p.stderr and "k8s" in p.stderr,
         "a missing playbook: the list of playbooks", p.stderr)
    cfg = os.path.join(REPO, "pve-gitops.yaml")
    text = open(cfg).read()
    open(cfg, "w").write(text.replace("wait_seconds: 20", "wait_seconds: 3"))
    vm_file("silent-e2e", "127.0.0.9")
    commit("feat: a VM that never answers [ansible haproxy]")
    p = pg(env, "run", "--push")
    t.ok(p.returncode == 1 and "127.0.0.9 port" in p.stderr and
         "did not answer as an SSH server within 3 s" in p.stderr,
         "a host that never opens SSH fails after the bounded wait",
         p.stderr)
    open(cfg, "w").write(text)
    os.unlink(os.path.join(REPO, "proxmox", "vms", "silent-e2e.yaml"))
    commit("chore: drop the silent VM")


def stage_rejected_push(env):
    other = W.clone("other", "Other", "other@example.test")
    ini = os.path.join(other, "proxmox", "k8s.ini")
    text = open(ini).read()
    # the same spot the automated commit writes to: a real conflict
    text = text.replace("[k3s]\nk8s-e2e\n", "[k3s]\nk8s-e2e\nhand-node\n")
    text += "\n[monitoring]\nmon1.example.test\n"
    open(ini, "w").write(text)
    git("commit", "-q", "-am", "chore: a hand-made group", cwd=other)
    vm_file("k8s-late", "127.0.0.5")  # joins [k3s] after k8s-e2e
    commit("feat: one more VM", push=False)
    git("push", "-q", "origin", "HEAD:main", cwd=other)
    p = pg(env, "pipeline", "--push")
    t.ok(p.returncode == 0 and "rejected" in p.stdout,
         "a rejected push is rebased and retried", p.stdout + p.stderr)
    t.ok("rebased on top of it, regenerated proxmox/k8s.ini" in p.stdout,
         "the conflict on the inventory was seen", p.stdout)
    t.ok("CONFLICT" not in p.stdout + p.stderr and
         "hint:" not in p.stdout + p.stderr,
         "git's conflict text stays out", p.stdout + p.stderr)
    final = git("show", "main:proxmox/k8s.ini", cwd=REMOTE)
    t.ok("[monitoring]\nmon1.example.test" in final and
         "k8s-late ansible_host=127.0.0.5" in final and
         "[k3s]\nk8s-e2e\nhand-node\nk8s-late\n" in final,
         "the inventory conflict was resolved by regenerating: both "
         "changes are there", final)
    log = remote_log()
    t.ok(log[0] == "Auto-update Ansible inventory" and
         "chore: a hand-made group" in log, "both commits are on the remote",
         log)


def runs_log():
    p = os.path.join(D, "haproxy-runs.log")
    return open(p).read().split() if os.path.exists(p) else []


def stage_watch(env):
    wc = W.clone("watcher", "Watcher", "watch@example.test")
    # the watcher starts where the team is: everything so far is done (the
    # commits before were run by hand, some failing on purpose)
    git("update-ref", "refs/pve-gitops/done", "main", cwd=REMOTE)
    out = open(os.path.join(D, "watch.out"), "w")
    w = subprocess.Popen([BIN, "-C", wc, "--no-color", "watch", "--remote",
                          REMOTE, "--interval", "1"], stdout=out,
                         stderr=subprocess.STDOUT, env=env)
    git("pull", "-q", "--rebase", "origin", "main")
    vm_file("haproxy-w1", "127.0.0.6")
    commit("feat: first balancer [ansible haproxy]", push=False)
    vm_file("haproxy-w2", "127.0.0.7")
    commit("feat: second balancer [ansible haproxy]", push=False)
    git("push", "-q", "origin", "HEAD:main")
    done = e2elib.wait_for(lambda: runs_log()[-2:] == ["haproxy-w1",
                                                       "haproxy-w2"], 180, 0.3)
    t.ok(done, "watch: two pushed commits provisioned, in order",
         open(os.path.join(D, "watch.out")).read()[-3000:])
    log = remote_log()
    # both arrived in one push: each got its automated commit, the first
    # one rebased onto the second feature commit
    t.eq(log[:4], ["Auto-update Ansible inventory [ansible haproxy]",
                   "Auto-update Ansible inventory [ansible haproxy]",
                   "feat: second balancer [ansible haproxy]",
                   "feat: first balancer [ansible haproxy]"],
         "watch: an automated commit for each, in order")
    # SIGTERM while a commit is being processed
    git("pull", "-q", "--rebase", "origin", "main")
    vm_file("haproxy-w3", "127.0.0.8")
    commit("feat: third balancer [ansible haproxy]")
    head = git("rev-parse", "HEAD")
    e2elib.wait_for(lambda: ("watch: " + head[:12]) in
                    open(os.path.join(D, "watch.out")).read(), 60, 0.3)
    w.send_signal(signal.SIGTERM)
    rc = w.wait(timeout=300)
    out.close()
    text = open(os.path.join(D, "watch.out")).read()
    t.ok(rc == 0 and "watch: stopped" in text, "watch: SIGTERM stops it "
         "cleanly", text[-2000:])
    p = subprocess.run([BIN, "-C", wc, "--no-color", "watch", "--remote",
                        REMOTE, "--once"], capture_output=True, text=True,
                       env=env, timeout=600)
    p2 = subprocess.run([BIN, "-C", wc, "--no-color", "watch", "--remote",
                         REMOTE, "--once"], capture_output=True, text=True,
                        env=env, timeout=600)
    t.ok(p.returncode == 0 and p2.returncode == 0 and
         runs_log()[-1] == "haproxy-w3",
         "watch: the next start finishes what was left",
         p.stdout + p.stderr + p2.stdout + p2.stderr)
    t.eq(remote_log()[0], "Auto-update Ansible inventory [ansible haproxy]",
         "watch: the third commit's automated commit is on the remote")
    t.eq(git("rev-parse", "refs/pve-gitops/done", cwd=REMOTE),
         git("rev-parse", "main", cwd=REMOTE),
         "watch: the progress marker on the remote is the last commit done")
    t.eq(sh("git", "for-each-ref", "refs/pve-gitops/lease", cwd=REMOTE), "",
         "watch: the lease was released")


def main():
    with Sshds(["127.0.0.%d" % i for i in range(2, 9)]) as sshd, \
            VaultSim(VSIM, token=VTOKEN) as vsim, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10", "--boot-ms", "0",
                       "--guest-host-key",
                       "127.0.0.2=" + sshd.host_pub_file("127.0.0.2")) as psim:
        setup(psim, vsim, sshd)
        env = env_for(psim, vsim, sshd)
        stage_k3s(env, psim, vsim, sshd)
        stage_direct(env)
        stage_refusals(env, psim)
        stage_rejected_push(env)
        stage_watch(env)
    W.cleanup()
    t.done()


main()
