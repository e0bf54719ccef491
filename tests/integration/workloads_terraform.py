#!/usr/bin/python3
"""pve-gitops workloads apply against the REAL terraform (or tofu) that
CMake found (issue 17); registered only where one is installed, since
workloads.py covers the invocation with a recording stand-in everywhere.

The repository's clusters/ is a Terraform root module that needs no
provider: the variables in the shape of the seed's clusters/variables.tf
(`workload`, a list per workspace; `config`, per workspace an object with
`kubernetes_context` and the modules' settings) with type constraints, a
built-in `terraform_data` resource standing for the charts, and outputs
that echo the workload list and the context of `terraform.workspace`.
So `init` works offline: TF_CLI_CONFIG_FILE is an empty file, HOME has no
plugins, no plugin cache, and every HTTP(S) request goes to a dead
loopback proxy (a control module that needs a provider fails). What
Terraform proves here: the rendered tfvars pass its type checker, the
workspace is selected or created with the right name,
the outputs are the workspace file's, a value the types reject fails with
Terraform's status and its own error, and a second apply changes nothing.
The kubeconfig: the resource's local-exec provisioner (built in, no
provider) records what KUBECONFIG names while Terraform runs; the file's
full content and the environment are the stand-in test's.

Usage: workloads_terraform.py PVE_GITOPS VAULT_SIM GOLDEN_DIR TERRAFORM
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import workloads_lib
from simlib import Tap, make_cert
from vault_simlib import VaultSim
from workloads_lib import TOKEN, free_port

BIN, VSIM, GOLDEN, TF = sys.argv[1:5]
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-wltf.")
BIN_DIR = os.path.join(D, "bin")
SEEN = os.path.join(D, "seen")
TMP = os.path.join(D, "tmp")
CLI_CONFIG = os.path.join(D, "empty.tfrc")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

VARIABLES_TF = """\
# The shape of the seed's clusters/variables.tf: per workspace the list of
# workloads, and the context object with the modules' settings
variable "workload" {
  type = map(list(string))
}

variable "config" {
  type = map(object({
    kubernetes_context = string
    install_crd        = optional(bool, false)
    cert_manager_crd   = optional(bool, false)
    replicas           = optional(number)
    ratio              = optional(number)
    domains            = optional(list(string), [])
    nested = optional(object({
      grafana = object({ enabled = bool, admin_user = string })
    }))
  }))
}
"""

MAIN_TF = """\
terraform {
  required_version = ">= 1.4"
}

locals {
  workloads = var.workload[terraform.workspace]
  settings  = var.config[terraform.workspace]
}

# Stands for the charts: built in, so init needs no provider
resource "terraform_data" "workloads" {
  triggers_replace = [local.workloads, local.settings]

  # what KUBECONFIG names while Terraform runs (the charts' providers read
  # the same variable)
  provisioner "local-exec" {
    interpreter = ["/usr/bin/python3", "-c"]
    command     = <<-PY
      import json, os, stat, yaml
      kc = os.environ.get("KUBECONFIG", "")
      seen = {"path": kc, "exists": os.path.isfile(kc)}
      if seen["exists"]:
          seen["mode"] = stat.S_IMODE(os.stat(kc).st_mode)
          with open(kc) as f:
              doc = yaml.safe_load(f)
          seen["contexts"] = [c["name"] for c in doc.get("contexts", [])]
          seen["current"] = doc.get("current-context")
      with open(os.path.join(os.environ["SEEN_DIR"],
                             "${terraform.workspace}.json"), "w") as f:
          json.dump(seen, f)
    PY
  }
}

output "workspace" {
  value = terraform.workspace
}

output "workloads" {
  value = local.workloads
}

output "kubernetes_context" {
  value = local.settings.kubernetes_context
}

output "settings" {
  value = local.settings
}
"""


def env():
    dead = "http://127.0.0.1:%d" % free_port()
    return {"PATH": BIN_DIR + ":/usr/bin:/bin", "HOME": D, "TMPDIR": TMP,
            "TF_CLI_CONFIG_FILE": CLI_CONFIG, "CHECKPOINT_DISABLE": "1",
            "HTTPS_PROXY": dead, "HTTP_PROXY": dead,
            "NO_PROXY": "127.0.0.1,localhost", "SEEN_DIR": SEEN}


def module(d):
    for name, text in (("variables.tf", VARIABLES_TF), ("main.tf", MAIN_TF)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)


def terraform(cwd, *args):
    p = subprocess.run([os.path.join(BIN_DIR, os.path.basename(TF))] +
                       list(args), cwd=cwd, env=env(), capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode, ANSI.sub("", p.stdout), ANSI.sub("", p.stderr)


def run(r, sim, *args):
    e = env()
    e.update({"VAULT_ADDR": sim.url, "VAULT_TOKEN": TOKEN})
    p = subprocess.run([BIN, "-C", r, "--no-color"] + list(args),
                       capture_output=True, text=True, env=e, timeout=300,
                       stdin=subprocess.DEVNULL)
    return p.returncode, ANSI.sub("", p.stdout), ANSI.sub("", p.stderr)


def seen(ws):
    """What the provisioner recorded for ws, taken away (None: it did not
    run)."""
    p = os.path.join(SEEN, ws + ".json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        out = json.load(f)
    os.unlink(p)
    return out


def golden(ws):
    with open(os.path.join(GOLDEN, ws + ".auto.tfvars.json")) as f:
        return json.load(f)


def outputs(clusters):
    rc, out, err = terraform(clusters, "output", "-json")
    if rc:
        return {"error": err}
    return {k: v["value"] for k, v in json.loads(out).items()}


def offline_init():
    d = os.path.join(D, "init")
    os.makedirs(d)
    module(d)
    rc, out, err = terraform(d, "version")
    print("# " + out.splitlines()[0] if out else "# no version")
    rc, out, err = terraform(d, "init", "-input=false")
    t.ok(rc == 0 and "successfully initialized" in out, "the module inits "
         "offline: empty CLI config, no plugin cache, a dead proxy",
         out + err)
    t.ok(not os.path.exists(os.path.join(d, ".terraform", "providers")),
         "init installed no provider")
    # the control: a module that does need a provider cannot get one here
    d = os.path.join(D, "control")
    os.makedirs(d)
    with open(os.path.join(d, "main.tf"), "w") as f:
        f.write('terraform {\n  required_providers {\n'
                '    null = { source = "hashicorp/null" }\n  }\n}\n')
    rc, out, err = terraform(d, "init", "-input=false")
    t.ok(rc != 0 and "proxyconnect" in err, "the control: a module that "
         "needs a provider fails to init, its request at the dead proxy",
         out + err)


def apply_real(sim):
    r = workloads_lib.repo(D, GOLDEN)
    clusters = os.path.join(r, "clusters")
    module(clusters)
    server = "https://127.0.0.1:%d" % free_port()
    workloads_lib.store(sim, {"k8s-lab": server, "k8s-observability": server,
                              "k8s-other": server}, CERT)

    rc, out, err = run(r, sim, "workloads", "apply", "--plan", "lab")
    t.ok(rc == 0 and "Plan: 1 to add, 0 to change, 0 to destroy." in out,
         "apply --plan lab: exit 0, Terraform's plan", out + err)
    rc, ws, err = terraform(clusters, "workspace", "show")
    t.eq(ws.strip(), "lab", "apply --plan lab: terraform workspace show")
    t.eq(seen("lab"), None, "apply --plan: nothing provisioned")

    rc, out, err = run(r, sim, "workloads", "apply", "lab")
    t.ok(rc == 0 and "Apply complete! Resources: 1 added" in out and
         "lab: %s apply done (context k8s-lab)" % os.path.basename(TF) in out,
         "apply lab: exit 0, Terraform applied", out + err)
    rc, ws, err = terraform(clusters, "workspace", "show")
    t.eq(ws.strip(), "lab", "apply lab: terraform workspace show")
    want = golden("lab")
    got = outputs(clusters)
    t.eq((got.get("workspace"), got.get("workloads"),
          got.get("kubernetes_context")),
         ("lab", want["workload"]["lab"], "k8s-lab"),
         "apply lab: terraform output -json: the workspace file's workload "
         "list and context")
    cfg = want["config"]["lab"]
    s = got.get("settings") or {}
    t.eq((s.get("install_crd"), s.get("replicas"), s.get("ratio"),
          s.get("domains"), s.get("nested")),
         (cfg["install_crd"], cfg["replicas"], cfg["ratio"], cfg["domains"],
          {"grafana": cfg["nested"]["grafana"]}),
         "apply lab: the free-form config through Terraform's types")
    kc = seen("lab") or {}
    t.ok(kc.get("exists") and kc.get("mode") == 0o600 and
         kc.get("contexts") == ["k8s-lab"] and kc.get("current") == "k8s-lab"
         and kc["path"].startswith(TMP + "/"), "apply lab: while Terraform "
         "ran, KUBECONFIG named a 0600 file with only k8s-lab", kc)
    t.ok(kc.get("path") and not os.path.exists(kc["path"]) and
         os.listdir(TMP) == [], "apply lab: the kubeconfig is gone after",
         os.listdir(TMP))

    rc, out, err = run(r, sim, "workloads", "apply", "lab")
    t.ok(rc == 0 and "No changes." in out and
         "Resources: 0 added, 0 changed, 0 destroyed." in out,
         "a second apply lab: No changes", out + err)
    t.eq(seen("lab"), None, "a second apply: nothing provisioned again")

    rc, out, err = run(r, sim, "workloads", "apply")
    got = outputs(clusters)
    t.ok(rc == 0 and got.get("workspace") == "observability" and
         got.get("workloads") == golden("observability")["workload"]
         ["observability"] and got.get("kubernetes_context") ==
         "k8s-observability", "apply (all): lab unchanged, observability "
         "created and its outputs", (out + err, got))
    t.eq((seen("lab"), (seen("observability") or {}).get("contexts")),
         (None, ["k8s-observability"]), "apply (all): only observability "
         "provisioned, with its own context")
    wrong_type(r, sim, clusters)


def wrong_type(r, sim, clusters):
    path = os.path.join(clusters, "lab.yaml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("replicas: 3", "replicas: many"))
    rc, out, err = run(r, sim, "workloads", "apply", "lab")
    t.ok(rc == 1 and "Invalid value for input variable" in err and
         "a number is required" in err and "terraform apply (workspace lab) "
         "exited with status 1".replace("terraform", os.path.basename(TF))
         in err, "a value the variable's type rejects: Terraform's status "
         "and its own error", (rc, out, err))
    rc, ws, _ = terraform(clusters, "workspace", "show")
    got = outputs(clusters)
    t.ok(ws.strip() == "lab" and got.get("settings", {}).get("replicas") == 3
         and seen("lab") is None, "the rejected value changed nothing in "
         "lab's state", (ws, got))
    rc, out, err = run(r, sim, "workloads", "apply", "observability")
    t.ok(rc == 0 and "No changes." in out, "another workspace still "
         "applies: its -var-file wins over lab's auto-loaded file",
         out + err)


def main():
    global CERT
    for d in (BIN_DIR, SEEN, TMP):
        os.makedirs(d)
    # exactly the program CMake found, under its own name, first on PATH
    os.symlink(os.path.abspath(TF), os.path.join(BIN_DIR,
                                                 os.path.basename(TF)))
    open(CLI_CONFIG, "w").close()
    CERT, _ = make_cert(D)
    offline_init()
    with VaultSim(VSIM, token=TOKEN) as sim:
        apply_real(sim)
    workloads_lib.finish(t, D)


CERT = None
main()
