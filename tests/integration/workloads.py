#!/usr/bin/python3
"""pve-gitops workloads check, render and apply (issue 17, the seed's
Step 4) against vault-sim holding the shared kubeconfig and a loopback TLS
server standing for a cluster's API server.

check: a context missing from Vault, an unknown workload, a context no K3s
VM publishes and a server that does not answer are errors at the workspace
file's line; render: the output matches the golden files, --dry-run shows
the diff and writes nothing; apply: the argv sequence, the environment and
the temporary kubeconfig (0600, only that context, gone afterwards, also
when Terraform fails and when a signal ends us), Terraform's exit status,
and the message when neither terraform nor tofu is on PATH.

Terraform cannot be installed on these machines as a dependency of the
tests (and it could not download the kubernetes and helm providers here
anyway), so apply runs a RECORDING stand-in `terraform` put first on PATH:
it records its argv, working directory, environment and the KUBECONFIG
file's mode and content, and exits with what the test asks. PATH is built
for each run without /usr/local/bin, where a terraform binary may exist.
Where CMake finds a real terraform or tofu, workloads_terraform.py runs it.

Usage: workloads.py PVE_GITOPS VAULT_SIM GOLDEN_DIR
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import workloads_lib
from simlib import Tap, make_cert
from vault_simlib import VaultSim
from workloads_lib import KPATH, TOKEN, TlsServer, free_port

BIN, VSIM, GOLDEN = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "PM-SECRET-0123456789"
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-wl.")
STUB_DIR = os.path.join(D, "stub")
RECORD = os.path.join(D, "record.jsonl")
SYS_PATH = "/usr/bin:/bin"

STUB = r"""#!/usr/bin/python3
import json, os, stat, sys, time
rec = {"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ),
       "pid": os.getpid()}
kc = os.environ.get("KUBECONFIG")
if kc:
    st = os.stat(kc)
    rec["mode"] = stat.S_IMODE(st.st_mode)
    rec["dir_mode"] = stat.S_IMODE(os.stat(os.path.dirname(kc)).st_mode)
    with open(kc) as f:
        rec["kubeconfig"] = f.read()
with open(os.environ["STUB_RECORD"], "a") as f:
    f.write(json.dumps(rec) + "\n")
verb = sys.argv[1] if len(sys.argv) > 1 else ""
if os.environ.get("STUB_SLEEP_AT") == verb:
    time.sleep(60)
sys.exit(int(os.environ.get("STUB_FAIL_" + verb, "0")))
"""


def store(sim, contexts):
    workloads_lib.store(sim, contexts, CERT)


def repo(config="workload_modules: [lab_tools]\n"):
    return workloads_lib.repo(D, GOLDEN, config)


def run(r, *args, sim=None, path=None, extra=None):
    env = {"PATH": path or (STUB_DIR + ":" + SYS_PATH), "HOME": D,
           "TMPDIR": os.path.join(D, "tmp"), "STUB_RECORD": RECORD,
           "VAULT_TOKEN": TOKEN, "PM_API_TOKEN_ID": "root@pam!ci",
           "PM_API_TOKEN_SECRET": SECRET, "PM_PASS": SECRET,
           "PROXMOX_VE_API_TOKEN": "root@pam!ci=" + SECRET,
           "TF_WORKSPACE": "wrong", "TF_CLI_ARGS": "-destroy",
           "KUBE_CONFIG_PATH": "/etc/elsewhere"}
    if sim:
        env["VAULT_ADDR"] = sim.url
    env.update(extra or {})
    return subprocess.run([BIN, "-C", r, "--no-color"] + list(args),
                          capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)


def records():
    if not os.path.exists(RECORD):
        return []
    with open(RECORD) as f:
        out = [json.loads(line) for line in f]
    os.unlink(RECORD)
    return out


def tmp_left():
    return sorted(os.listdir(os.path.join(D, "tmp")))


def golden(name):
    with open(os.path.join(GOLDEN, name + ".auto.tfvars.json")) as f:
        return f.read()


def tfvars(r, name):
    p = os.path.join(r, "clusters", name + ".auto.tfvars.json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return f.read()


def render():
    r = repo()
    p = run(r, "workloads", "render", "--dry-run")
    t.ok(p.returncode == 0 and "+++ b/clusters/lab.auto.tfvars.json"
         in p.stdout and '+    "k8s-observability"' not in p.stdout and
         '+      "kubernetes_context": "k8s-observability",' in p.stdout,
         "render --dry-run: the diff of both new files", p.stdout + p.stderr)
    t.ok(tfvars(r, "lab") is None and tfvars(r, "observability") is None,
         "render --dry-run: nothing written")
    p = run(r, "workloads", "render")
    t.ok(p.returncode == 0, "render: exit 0", p.stderr)
    t.eq(tfvars(r, "observability"), golden("observability"),
         "render: observability matches the golden file")
    t.eq(tfvars(r, "lab"), golden("lab"),
         "render: lab (every YAML type, an alias) matches the golden file")
    mode = os.stat(os.path.join(r, "clusters",
                                "lab.auto.tfvars.json")).st_mode & 0o777
    t.eq(mode, 0o644, "render: the file is 0644")
    p = run(r, "workloads", "render", "lab")
    t.ok(p.returncode == 0 and "lab.auto.tfvars.json: unchanged"
         in p.stdout and "observability" not in p.stdout,
         "render NAME: only that one, unchanged", p.stdout)
    with open(os.path.join(r, "clusters", "lab.yaml"), "a") as f:
        f.write("  added: 1\n")
    before = tfvars(r, "lab")
    p = run(r, "workloads", "render", "--dry-run", "lab")
    t.ok(p.returncode == 0 and '+      "added": 1' in p.stdout,
         "render --dry-run on a change: the added line", p.stdout)
    t.eq(tfvars(r, "lab"), before, "render --dry-run: the file unchanged")
    with open(os.path.join(r, "clusters", "lab.yaml"), "a") as f:
        f.write("  quiet: 1\n")
    p = run(r, "-q", "workloads", "render", "--dry-run", "lab")
    t.ok(p.returncode == 0 and '+      "quiet": 1' in p.stdout and
         "would be written" not in p.stdout and not p.stderr,
         "-q render --dry-run: the diff only", p.stdout + p.stderr)
    p = run(r, "-q", "workloads", "render", "lab")
    t.ok(p.returncode == 0 and not p.stdout and not p.stderr and
         '"quiet": 1' in tfvars(r, "lab"), "-q render: written, silent",
         p.stdout + p.stderr)
    p = run(r, "workloads", "render", "nosuch")
    t.ok(p.returncode == 2 and "no workspace 'nosuch': clusters/nosuch.yaml"
         " does not exist" in p.stderr, "render NAME: a missing one",
         p.stderr)


def bad_files():
    r = repo()
    with open(os.path.join(r, "clusters", "lab.yaml"), "w") as f:
        f.write("kubernetes_context: k8s-lab\nworkloads:\n  - argocd\n"
                "  - certmanager\n")
    p = run(r, "workloads", "render")
    t.ok(p.returncode == 2 and "clusters/lab.yaml:4:5: error: workloads[1]:"
         " unknown workload 'certmanager'; did you mean 'cert_manager'?"
         in p.stderr, "an unknown workload: file:line, did you mean",
         p.stderr)
    t.ok(tfvars(r, "observability") is None,
         "a bad workspace: nothing written for the others either")
    p = run(r, "validate")
    t.ok(p.returncode == 2 and "clusters/lab.yaml:4:5: error: workloads[1]:"
         " unknown workload 'certmanager'" in p.stderr,
         "validate (the pre-commit hook's check) reads the workspaces too",
         p.stderr)
    with open(os.path.join(r, "clusters", "lab.yaml"), "w") as f:
        f.write("# lab\nkubernetes_context: k8s-labs\nworkloads: [argocd]\n")
    p = run(r, "workloads", "check", "lab")
    t.ok(p.returncode == 2 and "clusters/lab.yaml:2:21: error: "
         "kubernetes_context: no K3s VM of the repository publishes context"
         " 'k8s-labs'; did you mean 'k8s-lab'?" in p.stderr,
         "a context no K3s VM publishes: file:line", p.stderr)
    r = repo(config="")
    p = run(r, "workloads", "render", "lab")
    t.ok(p.returncode == 2 and "clusters/lab.yaml:3:28: error: "
         "workloads[2]: unknown workload 'lab_tools'" in p.stderr,
         "a module only the config's workload_modules adds", p.stderr)


def validate_ok():
    r = repo()
    p = run(r, "validate")
    t.ok(p.returncode == 0 and "workspaces valid (clusters)" in p.stdout,
         "validate: the good workspaces counted", p.stdout + p.stderr)
    p = run(r, "validate", "proxmox/vms/k8s-lab.yaml")
    t.ok(p.returncode == 0 and "workspace" not in p.stdout,
         "validate FILE: only that file", p.stdout + p.stderr)


def check(sim, api):
    r = repo()
    dead = "https://127.0.0.1:%d" % free_port()
    live = "https://127.0.0.1:%d" % api.port
    store(sim, {"k8s-observability": live, "k8s-other": live})
    p = run(r, "workloads", "check", sim=sim)
    t.ok(p.returncode == 2 and "clusters/lab.yaml:2:21: error: "
         "kubernetes_context: context 'k8s-lab' is not in the kubeconfig in "
         "vault:kv/%s#KUBECONFIG (there: k8s-observability, k8s-other)"
         % KPATH in p.stderr, "check: a context missing from Vault: "
         "file:line and the contexts there", p.stderr)
    store(sim, {"k8s-observability": live, "k8s-lab": dead})
    p = run(r, "workloads", "check", sim=sim)
    t.ok(p.returncode == 2 and "clusters/lab.yaml:2:21: error: "
         "kubernetes_context: the server of context 'k8s-lab': %s does not "
         "answer" % dead in p.stderr and "observability: context "
         "k8s-observability, server %s answers TLS; 4 workloads" % live
         in p.stdout, "check: a server that does not answer", p.stdout +
         p.stderr)
    n = api.handshakes
    store(sim, {"k8s-observability": live, "k8s-lab": live})
    p = run(r, "workloads", "check", sim=sim)
    t.ok(p.returncode == 0 and "lab: context k8s-lab, server %s answers "
         "TLS; 3 workloads" % live in p.stdout, "check: all well", p.stdout +
         p.stderr)
    t.ok(api.handshakes >= n + 2, "check: a handshake per context")
    p = run(r, "workloads", "check", sim=sim, extra={"VAULT_TOKEN": "bad"})
    t.ok(p.returncode != 0 and TOKEN not in p.stderr and "bad" not in
         p.stderr.replace("bad request", ""), "check: a bad token fails",
         p.stderr)


def kubeconfig_only(rec, context):
    kc = json.loads(json.dumps(__import__("yaml").safe_load(
        rec.get("kubeconfig", "{}"))))
    return ([c["name"] for c in kc.get("contexts", [])] == [context] and
            len(kc.get("clusters", [])) == 1 and
            len(kc.get("users", [])) == 1 and
            kc.get("current-context") == context)


def no_secrets(recs):
    for rec in recs:
        env = rec["env"]
        for name in ("VAULT_TOKEN", "PM_API_TOKEN_SECRET", "PM_PASS",
                     "PROXMOX_VE_API_TOKEN", "PM_API_TOKEN_ID",
                     "TF_WORKSPACE", "TF_CLI_ARGS"):
            if name in env:
                return False
        if any(TOKEN in v or SECRET in v for v in env.values()):
            return False
    return True


def apply(sim, api):
    live = "https://127.0.0.1:%d" % api.port
    store(sim, {"k8s-observability": live, "k8s-lab": live,
                "k8s-other": live})
    r = repo()
    records()
    p = run(r, "workloads", "apply", sim=sim)
    recs = records()
    t.ok(p.returncode == 0, "apply: exit 0", p.stdout + p.stderr)
    t.eq([x["argv"] for x in recs], [
        ["init", "-input=false"],
        ["workspace", "select", "-or-create", "lab"],
        ["apply", "-input=false", "-auto-approve",
         "-var-file=lab.auto.tfvars.json"],
        ["workspace", "select", "-or-create", "observability"],
        ["apply", "-input=false", "-auto-approve",
         "-var-file=observability.auto.tfvars.json"]],
        "apply: init once, then select and apply per workspace")
    t.ok(all(x["cwd"] == os.path.realpath(os.path.join(r, "clusters"))
             for x in recs), "apply: terraform runs in clusters/")
    t.eq(tfvars(r, "lab"), golden("lab"), "apply: rendered first")
    t.ok(no_secrets(recs), "apply: no Vault token, Proxmox secret, "
         "TF_WORKSPACE or TF_CLI_ARGS in terraform's environment")
    t.ok("KUBECONFIG" not in recs[0]["env"], "apply: init gets no "
         "kubeconfig")
    t.ok(all(x.get("mode") == 0o600 and x.get("dir_mode") == 0o700
             for x in recs[1:]), "apply: the kubeconfig is 0600 in a 0700 "
         "directory", [(x.get("mode"), x.get("dir_mode")) for x in recs])
    t.ok(all(x["env"].get("KUBE_CONFIG_PATH") == x["env"]["KUBECONFIG"]
             for x in recs[1:]), "apply: KUBE_CONFIG_PATH is the same file")
    t.ok(kubeconfig_only(recs[2], "k8s-lab") and
         kubeconfig_only(recs[4], "k8s-observability"),
         "apply: each kubeconfig holds only its workspace's context")
    t.ok(not any(os.path.exists(x["env"]["KUBECONFIG"]) for x in recs[1:])
         and tmp_left() == [], "apply: the kubeconfigs are gone afterwards",
         tmp_left())
    p = run(r, "workloads", "apply", "--plan", "observability", sim=sim)
    recs = records()
    t.eq([x["argv"] for x in recs], [
        ["init", "-input=false"],
        ["workspace", "select", "-or-create", "observability"],
        ["plan", "-input=false", "-var-file=observability.auto.tfvars.json"]],
        "apply --plan NAME: plan for that workspace only")
    p = run(r, "workloads", "apply", sim=sim, extra={"STUB_FAIL_apply": "3"})
    recs = records()
    t.ok(p.returncode == 3 and "terraform apply (workspace lab) exited with "
         "status 3" in p.stderr, "apply: terraform's exit status is ours",
         p.stderr)
    t.eq(len(recs), 3, "apply: a failure stops the run")
    t.ok(tmp_left() == [], "apply: the kubeconfig is gone after a failure",
         tmp_left())
    signalled(r, sim)


def signalled(r, sim):
    """SIGTERM while terraform runs: the kubeconfig goes with us."""
    env_extra = {"STUB_SLEEP_AT": "apply"}
    env = {"PATH": STUB_DIR + ":" + SYS_PATH, "HOME": D,
           "TMPDIR": os.path.join(D, "tmp"), "STUB_RECORD": RECORD,
           "VAULT_TOKEN": TOKEN, "VAULT_ADDR": sim.url}
    env.update(env_extra)
    # no pipes: the stand-in, left sleeping, would hold them open
    proc = subprocess.Popen([BIN, "-C", r, "workloads", "apply", "lab"],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    recs = []
    while time.monotonic() < deadline:
        if os.path.exists(RECORD):
            with open(RECORD) as f:
                recs = [json.loads(x) for x in f if x.strip()]
            if any(x["argv"][:1] == ["apply"] for x in recs):
                break
        time.sleep(0.05)
    t.ok(len(recs) == 3 and tmp_left() != [], "signal: terraform apply is "
         "running with its kubeconfig", recs)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    t.eq(proc.returncode, -signal.SIGTERM, "signal: pve-gitops ends by it")
    t.ok(tmp_left() == [], "signal: the kubeconfig is gone", tmp_left())
    for x in recs:
        try:
            os.kill(x["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    records()


def no_terraform(sim):
    r = repo()
    empty = os.path.join(D, "empty")
    os.makedirs(empty, exist_ok=True)
    p = run(r, "workloads", "apply", sim=sim, path=empty)
    t.ok(p.returncode == 1 and "neither terraform nor tofu is on PATH"
         in p.stderr, "apply without terraform or tofu: a clear message",
         p.stderr)
    t.ok(tfvars(r, "lab") is None and records() == [],
         "apply without terraform: nothing written or run")
    r = repo(config="workload_modules: [lab_tools]\nterraform: tofu\n")
    p = run(r, "workloads", "apply", sim=sim)
    t.ok(p.returncode == 1 and "'tofu' (terraform: in pve-gitops.yaml) is "
         "not on PATH" in p.stderr, "terraform: tofu and no tofu: said so",
         p.stderr)
    tofu_dir = os.path.join(D, "tofu")
    os.makedirs(tofu_dir, exist_ok=True)
    shutil.copy(os.path.join(STUB_DIR, "terraform"),
                os.path.join(tofu_dir, "tofu"))
    p = run(r, "workloads", "apply", "lab", sim=sim,
            path=tofu_dir + ":" + SYS_PATH)
    recs = records()
    t.ok(p.returncode == 0 and len(recs) == 3, "terraform: tofu runs tofu",
         p.stderr)
    r = repo(config="workload_modules: [lab_tools]\nterraform: terrafrom\n")
    p = run(r, "workloads", "render")
    t.ok(p.returncode == 2 and "pve-gitops.yaml:2:12: error: terraform: "
         "'terrafrom' is not allowed; did you mean 'terraform'?" in p.stderr,
         "terraform: a misspelt program is a config error", p.stderr)


def main():
    global CERT
    os.makedirs(STUB_DIR)
    os.makedirs(os.path.join(D, "tmp"))
    with open(os.path.join(STUB_DIR, "terraform"), "w") as f:
        f.write(STUB)
    os.chmod(os.path.join(STUB_DIR, "terraform"), 0o755)
    CERT, key = make_cert(D)
    api = TlsServer(CERT, key)
    render()
    bad_files()
    validate_ok()
    with VaultSim(VSIM, token=TOKEN) as sim:
        check(sim, api)
        apply(sim, api)
        no_terraform(sim)
    workloads_lib.finish(t, D)


CERT = None
main()
