#!/usr/bin/python3
"""The chain's workloads step (issue 17): with `workloads: true`, `run`
runs `workloads apply` after stage two for the workspaces whose file the
commit changed; a commit that changes no workspace file runs none, and
without `workloads: true` nothing runs. A copy of examples/infra (with its
clusters/observability.yaml for the K3s VM k8s-observability) against
proxmox-sim, the shared kubeconfig in vault-sim, real git.

Terraform cannot be installed on these machines as a test dependency, so a
RECORDING stand-in `terraform` is put first on PATH (its argv, one line a
call); PATH has no /usr/local/bin, where a terraform binary may exist. The
other trigger, a workspace whose context stage two just published, needs
a playbook that reaches a host over SSH: tests/e2e/workloads_published.py.

Usage: workloads_chain.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import hvac

from simlib import Sim, Tap, example_repo
from vault_simlib import VaultSim

BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
TOKEN = "s.workloadschain0123456789ab"
KPATH = "cluster-secret-store/secrets/KUBECONFIG"
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-wlc.")
STUB_DIR = os.path.join(D, "stub")
RECORD = os.path.join(D, "record.jsonl")

STUB = """#!/usr/bin/python3
import json, os, sys
with open(os.environ["STUB_RECORD"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
"""

KUBECONFIG = json.dumps({
    "apiVersion": "v1", "kind": "Config",
    "clusters": [{"name": "cozy-haven", "cluster": {
        "server": "https://192.168.1.20:6443",
        "certificate-authority-data": "QUJD"}}],
    "users": [{"name": "cozy-haven", "user": {"token": "abc"}}],
    "contexts": [{"name": "k8s-observability", "context": {
        "cluster": "cozy-haven", "user": "cozy-haven"}}]}) + "\n"


def records():
    if not os.path.exists(RECORD):
        return []
    with open(RECORD) as f:
        out = [json.loads(line) for line in f]
    os.unlink(RECORD)
    return out


def git(d, env, *args):
    subprocess.run(["git", "-C", d] + list(args), env=env, check=True,
                   capture_output=True, timeout=60)


def run(d, env, *args):
    p = subprocess.run([BIN, "-C", d, "--no-color", "run"] +
                       (list(args) or ["--commit", "HEAD"]),
                       capture_output=True, text=True, env=env,
                       timeout=300, stdin=subprocess.DEVNULL)
    return p


def main():
    os.makedirs(STUB_DIR)
    with open(os.path.join(STUB_DIR, "terraform"), "w") as f:
        f.write(STUB)
    os.chmod(os.path.join(STUB_DIR, "terraform"), 0o755)
    with Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0") as sim, VaultSim(VSIM, token=TOKEN) as vsim:
        hvac.Client(url=vsim.url, token=TOKEN).secrets.kv.v2.\
            create_or_update_secret(path=KPATH, mount_point="kv",
                                    secret={"KUBECONFIG": KUBECONFIG})
        d = example_repo(sim, SRC)
        cfg = os.path.join(d, "pve-gitops.yaml")
        with open(cfg, "a") as f:
            f.write("workloads: true\n")
        env = {"PATH": STUB_DIR + ":/usr/bin:/bin", "HOME": D,
               "PM_API_TOKEN_ID": "root@pam!ci",
               "PM_API_TOKEN_SECRET": SECRET, "VAULT_ADDR": vsim.url,
               "VAULT_TOKEN": TOKEN, "STUB_RECORD": RECORD,
               "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
               "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@example.org"}
        git(d, env, "init", "-q", "-b", "main")
        git(d, env, "add", "-A")
        git(d, env, "commit", "-qm", "feat: the example repository")
        p = run(d, env)
        recs = records()
        t.ok(p.returncode == 0, "run: exit 0", p.stdout[-1500:] + p.stderr)
        t.eq(recs, [["init", "-input=false"],
                    ["workspace", "select", "-or-create", "observability"],
                    ["apply", "-input=false", "-auto-approve",
                     "-var-file=observability.auto.tfvars.json"]],
             "run: the workspace the commit added is applied")
        out = p.stdout
        done = ("workloads: observability: terraform apply done (context "
                "k8s-observability)")
        t.ok(done in out and "nothing to provision" in out and
             out.index(done) > out.index("nothing to provision"),
             "run: the workloads step comes after stage two, said on "
             "stdout", out[-1500:])
        st = subprocess.run(["git", "-C", d, "status", "--porcelain"],
                            capture_output=True, text=True, timeout=60)
        t.eq(st.stdout, "", "run: the rendered file is ignored "
             "(examples/infra/.gitignore): the work tree stays clean")
        with open(os.path.join(d, "README.md"), "w") as f:
            f.write("no workspace here\n")
        git(d, env, "add", "-A")
        git(d, env, "commit", "-qm", "docs: a readme")
        p = run(d, env)
        t.ok(p.returncode == 0 and records() == [],
             "run: a commit that changes no workspace file applies none",
             p.stdout[-800:] + p.stderr)
        ws = os.path.join(d, "clusters", "observability.yaml")
        with open(ws, "a") as f:
            f.write("  extra: 1\n")
        git(d, env, "add", "-A")
        git(d, env, "commit", "-qm", "feat(clusters): observability config")
        p = run(d, env)
        recs = records()
        t.ok(p.returncode == 0 and len(recs) == 3 and
             recs[2][0] == "apply", "run: a changed workspace file is "
             "applied again", p.stdout[-800:] + p.stderr)
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("workloads: true\n", ""))
        with open(ws, "a") as f:
            f.write("  more: 2\n")
        git(d, env, "add", "-A")
        git(d, env, "commit", "-qm", "feat(clusters): again, chain off")
        p = run(d, env)
        t.ok(p.returncode == 0 and records() == [],
             "run: without workloads: true, no workloads step",
             p.stdout[-800:] + p.stderr)
        with open(cfg, "a") as f:
            f.write("workloads: true\n")
        with open(ws, "a") as f:
            f.write("  bad key: [\n")
        git(d, env, "add", "-A")
        git(d, env, "commit", "-qm", "feat(clusters): broken")
        p = run(d, env)
        t.ok(p.returncode != 0 and "clusters/observability.yaml:" in
             p.stderr and records() == [],
             "run: a broken workspace file fails the step at its line, "
             "terraform not run", p.stderr)
        with open(ws, "w") as f:
            f.write("kubernetes_context: k8s-observability\n"
                    "workloads: [argocd]\n")
        git(d, env, "add", "-A")
        git(d, env, "commit", "-qm", "feat(clusters): fixed")
        remote = os.path.join(D, "remote.git")
        git(D, env, "init", "-q", "--bare", "-b", "main", remote)
        git(d, env, "remote", "add", "origin", remote)
        git(d, env, "push", "-q", "origin", "HEAD~1:refs/heads/main")
        git(d, env, "push", "-q", "origin", "HEAD~1:refs/pve-gitops/done")
        git(d, env, "push", "-q", "origin", "HEAD:refs/heads/main")
        git(d, env, "fetch", "-q", "origin")
        p = run(d, env)
        recs = records()
        t.ok(p.returncode == 0 and len(recs) == 3 and recs[2][0] == "apply",
             "run (the pending commits): the changed workspace is applied",
             p.stdout[-800:] + p.stderr)
        shutil.rmtree(d)
    shutil.rmtree(D, ignore_errors=True)
    t.done()


main()
