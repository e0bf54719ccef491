#!/usr/bin/python3
"""pve-gitops kubeconfig publish and get against vault-sim: hvac reads
what publish wrote and kubectl accepts it; other keys of the secret are
kept; 20 publishes started at the same moment all land (CAS conflicts
visible in the request log); bad input, a bad token, a missing mount, a
500 from Vault and a value that is not a kubeconfig change nothing (unless
--force); the seed's flags work; the token never shows.

Usage: kubeconfig_vault.py PVE_GITOPS VAULT_SIM
"""

import os
import shutil
import subprocess
import sys
import tempfile

import hvac

import kubelib
from kubelib import K3S, MEM_MB, bomb_text
from simlib import Tap
from vault_simlib import VaultSim

BIN, VSIM = sys.argv[1], sys.argv[2]
TOKEN = "s.kcvaulttest0123456789abcdef"
PATH = "cluster-secret-store/secrets/KUBECONFIG"
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-kcv.")
OUTPUTS = []



def write(name, text):
    p = os.path.join(D, name)
    with open(p, "w") as f:
        f.write(text)
    return p


K3S_FILE = write("k3s.yaml", K3S)


def run(sim, *args, token=TOKEN, env_extra=None, check_out=True):
    env = dict(os.environ, VAULT_ADDR=sim.url, VAULT_TOKEN=token,
               HOME=D)
    env.update(env_extra or {})
    p = subprocess.run([BIN, "-C", D] + list(args), capture_output=True,
                       text=True, env=env, timeout=120)
    OUTPUTS.append(p.stdout + p.stderr)
    return p


def limited_env(env):
    return kubelib.limited_env(BIN, env)


def limited_publish(sim, kubeconfig, *extra):
    """publish under the memory limit; (CompletedProcess, seconds)."""
    import time
    env, pre = limited_env(dict(os.environ, VAULT_ADDR=sim.url,
                                VAULT_TOKEN=TOKEN, HOME=D))
    start = time.monotonic()
    p = subprocess.run([BIN, "-C", D, "kubeconfig", "publish",
                        "--kubeconfig", kubeconfig, "--inventory-name",
                        "k8s-bomb", "--host-address", "10.5.0.1"]
                       + list(extra), capture_output=True, text=True,
                       env=env, preexec_fn=pre, timeout=60)
    OUTPUTS.append(p.stdout + p.stderr)
    return p, time.monotonic() - start


def bombs():
    """Bounded (issue 13): the alias bomb, as the file to publish or as the
    value stored in Vault, is refused at its line within seconds under a
    hard memory limit, and nothing is written."""
    bomb = write("bomb.yaml", bomb_text())
    with VaultSim(VSIM, token=TOKEN) as sim:
        publish(sim, "k8s-a", "10.5.0.2")
        v0 = stored(sim)
        n = len(sim.log_entries())
        p, secs = limited_publish(sim, bomb)
        t.ok(p.returncode == 2 and bomb + ":8:" in p.stderr
             and "aliases expand" in p.stderr,
             "a bomb to publish: refused at bomb.yaml:8 under %d MB"
             % MEM_MB, p.stderr[-2000:])
        t.ok(secs < 10, "a bomb to publish: refused in %.1f s" % secs)
        t.eq(len(sim.log_entries()), n, "a bomb to publish: not one "
             "request reached Vault")
        t.eq(stored(sim), v0, "a bomb to publish: the secret unchanged")
        client(sim).secrets.kv.v2.create_or_update_secret(
            path=PATH, mount_point="kv",
            secret={"KUBECONFIG": bomb_text(), "OTHER": "keep"})
        v1 = stored(sim)
        n = len(sim.log_entries())
        p, secs = limited_publish(sim, K3S_FILE)
        writes = [e for e in sim.log_entries()[n:]
                  if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]
        t.ok(p.returncode == 2 and "vault:kv/%s#KUBECONFIG:8:" % PATH
             in p.stderr and "aliases expand" in p.stderr,
             "a bomb stored in Vault: refused at vault:kv/...#KUBECONFIG:8 "
             "under %d MB" % MEM_MB, p.stderr[-2000:])
        t.ok(secs < 10, "a bomb stored in Vault: refused in %.1f s" % secs)
        t.eq(writes, [], "a bomb stored in Vault: no write was sent")
        t.eq(stored(sim), v1, "a bomb stored in Vault: the secret unchanged")
        # a stored value that is a mapping but not a kubeconfig
        client(sim).secrets.kv.v2.create_or_update_secret(
            path=PATH, mount_point="kv", secret={"KUBECONFIG": "\nfoo: bar\n"})
        v2 = stored(sim)
        p = publish(sim, "k8s-c", "10.5.0.3")
        t.ok(p.returncode == 2 and "vault:kv/%s#KUBECONFIG:2:1:" % PATH
             in p.stderr and "no 'kind: Config'" in p.stderr,
             "a stored 'foo: bar': refused at its line in the value",
             p.stderr)
        t.eq(stored(sim), v2, "a stored 'foo: bar': left as it was")


def publish(sim, ctx, host, *extra, **kw):
    return run(sim, "kubeconfig", "publish", "--kubeconfig", K3S_FILE,
               "--inventory-name", ctx, "--host-address", host, *extra, **kw)


def client(sim):
    return hvac.Client(url=sim.url, token=sim.token)


def stored(sim):
    """(version, data) of the secret, or (0, None)."""
    try:
        r = client(sim).secrets.kv.v2.read_secret_version(
            path=PATH, mount_point="kv")
    except hvac.exceptions.InvalidPath:
        return 0, None
    return r["data"]["metadata"]["version"], r["data"]["data"]


def kubectl_ok(text, name):
    path = write("check.yaml", text)
    p = subprocess.run(["kubectl", "config", "view", "--kubeconfig", path,
                        "--minify", "-o", "json"], capture_output=True,
                       text=True)
    t.ok(p.returncode == 0, name + ": kubectl accepts it", p.stderr)
    p = subprocess.run(["kubectl", "config", "get-contexts", "--kubeconfig",
                        path, "-o", "name"], capture_output=True, text=True)
    return sorted(p.stdout.split())


def basics():
    with VaultSim(VSIM, token=TOKEN) as sim:
        client(sim).secrets.kv.v2.create_or_update_secret(
            path=PATH, mount_point="kv", secret={"OTHER": "keep me"})
        p = publish(sim, "k8s-obs", "10.0.0.20")
        t.eq(p.returncode, 0, "publish: exit 0")
        t.ok("version 2" in p.stdout, "publish: says the version", p.stdout)
        version, data = stored(sim)
        t.eq(version, 2, "hvac reads version 2")
        t.eq(data.get("OTHER"), "keep me", "other keys of the secret kept")
        t.eq(kubectl_ok(data["KUBECONFIG"], "published"), ["k8s-obs"],
             "the published kubeconfig has the context")
        t.ok("https://10.0.0.20:6443" in data["KUBECONFIG"],
             "the server address replaced")
        # again: nothing to do, no new version
        p = publish(sim, "k8s-obs", "10.0.0.20")
        t.ok(p.returncode == 0 and stored(sim)[0] == 2,
             "publishing the same thing again writes nothing", p.stdout)
        # the seed's flags, the token on the command line (warned)
        p = run(sim, "kubeconfig", "publish", "--kubeconfig-file", K3S_FILE,
                "--inventory-name", "k8s-seed", "--cluster-name", "seedy",
                "--host-address", "10.0.0.21", "--vault-addr", sim.url,
                "--vault-token", TOKEN, token="")
        t.eq(p.returncode, 0, "the seed's flags work")
        t.ok("--vault-token puts the token in the process list" in p.stderr,
             "--vault-token is warned about", p.stderr)
        # get
        out = os.path.join(D, "got.yaml")
        p = run(sim, "kubeconfig", "get", "--out", out)
        t.eq(p.returncode, 0, "get: exit 0")
        t.eq(oct(os.stat(out).st_mode & 0o777), "0o600", "get: mode 0600")
        t.eq(kubectl_ok(open(out).read(), "get"), ["k8s-obs", "k8s-seed"],
             "get: both contexts")
        p = run(sim, "kubeconfig", "get", "--context", "k8s-seed")
        t.eq(kubectl_ok(p.stdout, "get --context"), ["k8s-seed"],
             "get --context: only that context")
        t.ok("seedy" in p.stdout and "10.0.0.20" not in p.stdout,
             "get --context: only its cluster")
        p = run(sim, "kubeconfig", "get", "--context", "nope")
        t.ok(p.returncode == 1 and "no context 'nope'" in p.stderr
             and "k8s-obs k8s-seed" in p.stderr,
             "get of an unknown context lists the ones there are", p.stderr)
        # ~/.vault-token
        with open(os.path.join(D, ".vault-token"), "w") as f:
            f.write(TOKEN + "\n")
        p = run(sim, "kubeconfig", "get", token="")
        t.eq(p.returncode, 0, "the token from ~/.vault-token")
        os.unlink(os.path.join(D, ".vault-token"))
        t.ok(TOKEN not in sim.log_text(), "the token is not in the request "
             "log")


def race():
    with VaultSim(VSIM, "--storage-latency-ms", "5", token=TOKEN) as sim:
        env = dict(os.environ, VAULT_ADDR=sim.url, VAULT_TOKEN=TOKEN)
        procs = [subprocess.Popen(
            [BIN, "-C", D, "kubeconfig", "publish", "--kubeconfig",
             K3S_FILE, "--inventory-name", "k8s-r%02d" % i,
             "--host-address", "10.1.0.%d" % (i + 1)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env) for i in range(20)]
        results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read())
                   for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        ok = sum(1 for rc, _, _ in results if rc == 0)
        t.eq(ok, 20, "20 concurrent publishes exit 0")
        version, data = stored(sim)
        ctxs = kubectl_ok(data["KUBECONFIG"], "after the race")
        t.eq(ctxs, ["k8s-r%02d" % i for i in range(20)],
             "all 20 contexts are in the stored kubeconfig (20/20)")
        conflicts = [e for e in sim.log_entries() if e.get("cas_conflict")]
        t.ok(len(conflicts) > 0, "check-and-set conflicts happened and are "
             "in the request log (%d)" % len(conflicts))
        t.eq(version, 20, "one version per publish, none lost")
        print("# race: 20 publishes, %d CAS conflicts, final version %d"
              % (len(conflicts), version))


def refusals():
    bad_yaml = write("bad.yaml", "clusters: [\n")
    no_clusters = write("empty.yaml", "apiVersion: v1\nkind: Config\n"
                        "contexts:\n- {name: a, context: {cluster: x, "
                        "user: y}}\n")
    with VaultSim(VSIM, token=TOKEN) as sim:
        publish(sim, "k8s-a", "10.2.0.1")
        v0 = stored(sim)

        def unchanged(name):
            t.eq(stored(sim), v0, name + ": nothing changed in Vault")
            writes = [e for e in sim.log_entries()
                      if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]
            return writes

        n_writes = len(unchanged("baseline"))
        for name, path, msg in [("invalid YAML", bad_yaml, "bad.yaml:2"),
                                ("no clusters", no_clusters,
                                 "names a cluster it does not define")]:
            p = run(sim, "kubeconfig", "publish", "--kubeconfig", path,
                    "--inventory-name", "k8s-b", "--host-address",
                    "10.2.0.2")
            t.ok(p.returncode == 2 and msg in p.stderr,
                 "refused: " + name, p.stderr)
            t.eq(len(unchanged(name)), n_writes, name + ": no write sent")
        # a kubeconfig that carries code is refused before Vault is asked
        n_all = len(sim.log_entries())
        active = write("exec.yaml", K3S + "    exec:\n      apiVersion: "
                       "client.authentication.k8s.io/v1beta1\n"
                       "      command: /bin/sh\n")
        p = run(sim, "kubeconfig", "publish", "--kubeconfig", active,
                "--inventory-name", "k8s-b", "--host-address", "10.2.0.2")
        t.ok(p.returncode == 2 and "users[0].user.exec" in p.stderr,
             "refused: a kubeconfig with an exec user", p.stderr)
        t.eq(len(sim.log_entries()), n_all,
             "an exec user: not one request reached Vault")
        unchanged("an exec user")
        p = publish(sim, "k8s-b", "10.2.0.2", token="wrong-token")
        t.ok(p.returncode == 1 and "HTTP 403" in p.stderr
             and "permission denied" in p.stderr
             and "wrong-token" not in p.stderr, "a bad token: 403, said, "
             "token not shown", p.stderr)
        unchanged("bad token")
        p = publish(sim, "k8s-b", "10.2.0.2", "--vault-path",
                    "nosuchmount/x/KUBECONFIG")
        t.ok(p.returncode == 1 and "HTTP 403" in p.stderr,
             "a KV path that does not exist: refused", p.stderr)
        unchanged("missing mount")
        # a value that is not a kubeconfig
        c = client(sim)
        c.secrets.kv.v2.create_or_update_secret(
            path="other/secret", mount_point="kv",
            secret={"KUBECONFIG": "just: [a, list]\n- broken"})
        p = publish(sim, "k8s-b", "10.2.0.2", "--vault-path",
                    "kv/other/secret")
        t.ok(p.returncode == 2 and "is not a kubeconfig" in p.stderr
             and "--force" in p.stderr, "a stored value that is not a "
             "kubeconfig is refused", p.stderr)
        r = c.secrets.kv.v2.read_secret_version(path="other/secret",
                                                mount_point="kv")
        t.eq(r["data"]["metadata"]["version"], 1, "and left as it was")
        p = publish(sim, "k8s-b", "10.2.0.2", "--vault-path",
                    "kv/other/secret", "--force")
        r = c.secrets.kv.v2.read_secret_version(path="other/secret",
                                                mount_point="kv")
        t.ok(p.returncode == 0 and "k8s-b" in r["data"]["data"]["KUBECONFIG"],
             "--force replaces it", p.stderr)
    # a read that answers 200 with "data" a string (issue 13): not taken
    # for an empty secret, so nothing is written over what is there
    for extra in ([], ["--kv1", "kv1"]):
        with VaultSim(VSIM, "--fault-rate", "1", "--faults", "garbled",
                      *extra, token=TOKEN) as sim:
            path = "kv1/ci/kubeconfig" if extra else "kv/ci/kubeconfig"
            if extra:
                client(sim).secrets.kv.v1.create_or_update_secret(
                    path="ci/kubeconfig", mount_point="kv1",
                    secret={"KUBECONFIG": "precious"})
            else:
                client(sim).secrets.kv.v2.create_or_update_secret(
                    path="ci/kubeconfig", mount_point="kv",
                    secret={"KUBECONFIG": "precious"})
            n = len(sim.log_entries())
            p = publish(sim, "k8s-g", "10.2.0.9", "--vault-path", path)
            writes = [e for e in sim.log_entries()[n:]
                      if e["method"] in ("POST", "PUT", "PATCH")]
            name = "KV v%d" % (1 if extra else 2)
            t.ok(p.returncode == 1 and "nothing was written" in p.stderr,
                 "a garbled read (%s): refused" % name, p.stderr)
            t.eq(writes, [], "a garbled read (%s): no write was sent" % name)
    # a 500 on every request: the read fails, nothing is written
    with VaultSim(VSIM, "--fault-rate", "1", "--faults", "http500",
                  token=TOKEN) as sim:
        p = publish(sim, "k8s-c", "10.2.0.3")
        t.ok(p.returncode == 1 and "HTTP 500" in p.stderr
             and "nothing was written" in p.stderr,
             "a 500 from Vault: retried, then refused", p.stderr)
        writes = [e for e in sim.log_entries() if e["method"] == "POST"]
        reads = [e for e in sim.log_entries() if e["method"] == "GET"]
        t.eq(writes, [], "a 500 from Vault: no write was sent")
        t.ok(len(reads) >= 2, "a 500 from Vault: the read was retried (%d)"
             % len(reads))


def kv1():
    with VaultSim(VSIM, "--kv1", "secret", "--kv2", "kv", token=TOKEN) as sim:
        p = publish(sim, "k8s-v1", "10.3.0.1", "--vault-path",
                    "secret/kube")
        t.ok(p.returncode == 0 and "no check-and-set" in p.stderr,
             "a KV v1 mount works, with a warning", p.stderr)
        r = client(sim).secrets.kv.v1.read_secret(path="kube",
                                                  mount_point="secret")
        t.ok("k8s-v1" in r["data"]["KUBECONFIG"], "hvac reads it (v1)")


def tls():
    """HTTPS as the Vault CLI verifies it: VAULT_CACERT (a file) and
    VAULT_CAPATH (a hashed directory); a CA setting with an http:// address
    is refused before anything is sent."""
    cert, key = os.path.join(D, "vault.pem"), os.path.join(D, "vault.key")
    p = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
         cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True,
        timeout=60)
    t.ok(p.returncode == 0, "openssl made a certificate", p.stderr)
    capath = os.path.join(D, "cadir")
    os.mkdir(capath)
    h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", cert],
                       capture_output=True, text=True, check=True)
    shutil.copy(cert, os.path.join(capath, h.stdout.strip() + ".0"))
    with VaultSim(VSIM, "--tls-cert", cert, "--tls-key", key,
                  token=TOKEN) as sim:
        p = publish(sim, "k8s-t", "10.4.0.1")
        t.ok(p.returncode == 1 and "certificate" in p.stderr.lower(),
             "HTTPS with an unknown CA is refused", p.stderr)
        p = publish(sim, "k8s-t", "10.4.0.1",
                    env_extra={"VAULT_CACERT": cert})
        t.ok(p.returncode == 0, "VAULT_CACERT: verified", p.stderr)
        p = publish(sim, "k8s-t2", "10.4.0.2",
                    env_extra={"VAULT_CAPATH": capath})
        t.ok(p.returncode == 0, "VAULT_CAPATH: verified", p.stderr)
    with VaultSim(VSIM, token=TOKEN) as sim:
        n = len(sim.log_entries())
        p = publish(sim, "k8s-t", "10.4.0.1",
                    env_extra={"VAULT_CACERT": cert})
        t.ok(p.returncode == 2 and "plain HTTP" in p.stderr,
             "VAULT_CACERT with an http:// VAULT_ADDR is refused", p.stderr)
        t.eq(len(sim.log_entries()), n, "and nothing is sent")


basics()
race()
refusals()
bombs()
kv1()
tls()
t.ok(not any(TOKEN in o for o in OUTPUTS), "the token never appears in "
     "any output")
shutil.rmtree(D)
t.done()
