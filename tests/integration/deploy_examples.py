#!/usr/bin/python3
"""The deployment examples, checked offline:

- examples/systemd/pve-gitops-watch.service: `systemd-analyze verify`
  says nothing about it (ExecStart pointed at the built binary, since
  verify checks that it exists), `systemd-analyze security --offline=yes`
  rates it at most 2.0, and the hardening the README promises is there; a
  copy with a misspelt key makes verify speak (the check can fail);
- examples/kubernetes/*.yaml: real kubectl reads them with
  `kubectl create --dry-run=client --validate=false -o yaml`, offline: its
  discovery cache is filled here for a server that does not exist, so
  kubectl maps kinds without a cluster (and fails on a kind it does not
  know: checked); the objects it prints have two replicas, probes on
  /healthz and /readyz, the tokens and the webhook secret from a Secret
  (never a literal value), the Prometheus scrape annotation and a Service.

A missing systemd-analyze or kubectl fails the test: it never passes
without checking.

Usage: deploy_examples.py PVE_GITOPS SOURCE_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from simlib import Tap  # noqa: E402

BIN, SRC = sys.argv[1:3]
UNIT = os.path.join(SRC, "examples", "systemd", "pve-gitops-watch.service")
K8S = os.path.join(SRC, "examples", "kubernetes")
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-deploy.")


def verify(path):
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, (p.stdout + p.stderr).strip()


def check_systemd():
    if not shutil.which("systemd-analyze"):
        t.ok(False, "systemd-analyze is installed (the unit cannot be "
             "checked without it)")
        return
    text = open(UNIT).read()
    unit = os.path.join(D, "pve-gitops-watch.service")
    with open(unit, "w") as f:
        f.write(text.replace("/usr/bin/pve-gitops", os.path.abspath(BIN)))
    rc, out = verify(unit)
    t.ok(rc == 0 and not out, "systemd: verify accepts the unit, without "
         "a warning", out)
    bad = os.path.join(D, "bad.service")
    with open(bad, "w") as f:
        f.write(open(unit).read().replace("ProtectSystem=", "ProtectSystm="))
    rc, out = verify(bad)
    t.ok("Unknown key" in out and "ProtectSystm" in out,
         "systemd: verify reports a misspelt key (the check can fail)", out)
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        "--no-pager", unit], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)",
                  p.stdout + p.stderr)
    t.ok(m and float(m.group(1)) <= 2.0, "systemd: exposure level %s "
         "(at most 2.0)" % (m.group(1) if m else "?"),
         (p.stdout + p.stderr)[-2000:])
    keys = dict(re.findall(r"(?m)^(\w+)=(.*)$", text))
    t.ok(keys.get("DynamicUser") == "yes" or keys.get("User"),
         "systemd: a dedicated or dynamic user")
    for k, v in (("ProtectSystem", "strict"), ("NoNewPrivileges", "yes"),
                 ("ReadWritePaths", "/var/lib/pve-gitops"),
                 ("PrivateTmp", "yes"), ("CapabilityBoundingSet", ""),
                 ("SystemCallFilter", "@system-service")):
        t.eq(keys.get(k), v, "systemd: %s=%s" % (k, v))
    t.ok("--listen 127.0.0.1:" in text, "systemd: serves on loopback")
    t.ok("SECRET=" not in re.sub(r"(?m)^#.*$", "", text),
         "systemd: no secret in the unit (EnvironmentFile)")


def discovery_cache(cache):
    """kubectl's discovery cache for http://127.0.0.1:9 (nothing listens
    there): the groups and kinds the examples use."""
    base = os.path.join(cache, "discovery", "127.0.0.1_9")
    res = {"v1": [("namespaces", "Namespace", False),
                  ("services", "Service", True),
                  ("secrets", "Secret", True)],
           "apps/v1": [("deployments", "Deployment", True)],
           "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget",
                          True)]}
    groups = []
    for gv in res:
        name, _, version = gv.rpartition("/")
        ver = {"groupVersion": gv, "version": version}
        groups.append({"name": name, "versions": [ver],
                       "preferredVersion": ver})
    os.makedirs(base)
    with open(os.path.join(base, "servergroups.json"), "w") as f:
        json.dump({"kind": "APIGroupList", "apiVersion": "v1",
                   "groups": groups}, f)
    for gv, rs in res.items():
        os.makedirs(os.path.join(base, gv))
        with open(os.path.join(base, gv, "serverresources.json"), "w") as f:
            json.dump({"kind": "APIResourceList", "apiVersion": "v1",
                       "groupVersion": gv, "resources": [
                           {"name": n, "singularName": "", "kind": k,
                            "namespaced": ns, "verbs": ["create", "get"]}
                           for n, k, ns in rs]}, f)
    kubeconfig = os.path.join(D, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n"
                "    server: http://127.0.0.1:9\n  name: offline\n"
                "contexts:\n- context:\n    cluster: offline\n"
                "    user: nobody\n  name: offline\n"
                "current-context: offline\nusers:\n- name: nobody\n"
                "  user: {}\n")
    return kubeconfig


def kubectl(kubeconfig, cache, path):
    env = dict(os.environ, HOME=D)
    env.pop("KUBECONFIG", None)
    return subprocess.run(["kubectl", "--kubeconfig", kubeconfig,
                           "--cache-dir", cache, "create", "--dry-run=client",
                           "--validate=false", "-o", "yaml", "-f", path],
                          capture_output=True, text=True, env=env,
                          timeout=120)


def check_deployment(dep):
    spec = dep["spec"]
    t.eq(spec["replicas"], 2, "kubernetes: two replicas")
    pod = spec["template"]
    ann = pod["metadata"].get("annotations", {})
    t.eq(ann.get("prometheus.io/scrape"), "true",
         "kubernetes: the pods carry the Prometheus scrape annotation")
    c = pod["spec"]["containers"][0]
    t.eq(c["livenessProbe"]["httpGet"]["path"], "/healthz",
         "kubernetes: liveness on /healthz")
    t.eq(c["readinessProbe"]["httpGet"]["path"], "/readyz",
         "kubernetes: readiness on /readyz")
    t.ok("--listen" in c["args"], "kubernetes: watch --listen")
    env = {e["name"]: e for e in c["env"]}
    for name in ("PM_API_TOKEN_ID", "PM_API_TOKEN_SECRET", "VAULT_TOKEN",
                 "PVE_GITOPS_WEBHOOK_SECRET"):
        e = env.get(name, {})
        t.ok("value" not in e and
             e.get("valueFrom", {}).get("secretKeyRef", {}).get("name"),
             "kubernetes: %s from a Secret" % name, e)
    sc = c["securityContext"]
    t.ok(sc.get("allowPrivilegeEscalation") is False and
         sc.get("readOnlyRootFilesystem") is True and
         sc.get("capabilities", {}).get("drop") == ["ALL"] and
         pod["spec"]["securityContext"].get("runAsNonRoot") is True,
         "kubernetes: non-root, no privilege escalation, read-only root",
         sc)


def check_kubernetes():
    if not shutil.which("kubectl"):
        t.ok(False, "kubectl is installed (scripts/install-deps.sh)")
        return
    cache = os.path.join(D, "cache")
    kubeconfig = discovery_cache(cache)
    p = kubectl(kubeconfig, cache, K8S)
    t.ok(p.returncode == 0, "kubernetes: kubectl reads the manifests",
         p.stderr[-2000:])
    objs = [o for o in yaml.safe_load_all(p.stdout) if o]
    kinds = {o["kind"]: o for o in objs}
    t.ok({"Deployment", "Service"} <= set(kinds), "kubernetes: a "
         "Deployment and a Service (%s)" % sorted(kinds))
    if "Deployment" in kinds:
        check_deployment(kinds["Deployment"])
    if "Service" in kinds:
        svc = kinds["Service"]
        t.ok(svc["spec"]["selector"] == kinds["Deployment"]["spec"][
            "selector"]["matchLabels"], "kubernetes: the Service selects "
             "the Deployment's pods")
    t.ok("Secret" not in kinds, "kubernetes: no Secret object in git")
    bad = os.path.join(D, "bad.yaml")
    with open(bad, "w") as f:
        f.write("apiVersion: apps/v1\nkind: Deploymnt\nmetadata:\n"
                "  name: x\n")
    p = kubectl(kubeconfig, cache, bad)
    t.ok(p.returncode != 0 and "unable to recognize" in p.stderr,
         "kubernetes: "
         "kubectl refuses an unknown kind (the check can fail)", p.stderr)


check_systemd()
check_kubernetes()
shutil.rmtree(D, ignore_errors=True)
t.done()
