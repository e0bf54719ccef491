#!/usr/bin/python3
"""watch --listen, on loopback: real git (a bare repository as the remote,
one clone per runner), proxmox-sim, real ansible-playbook and real sshd
for the new VMs, with what a team would put next to it:

- a real Prometheus (Debian's prometheus) scrapes /metrics every second;
  its HTTP API says the run counter rose and the last success is set, and
  `promtool check metrics` accepts the exposition;
- headless Chromium (Debian's chromium) loads the status page: the
  repository, the branch, the last runs and a failed run's error are in
  the rendered DOM; a phone-sized screenshot is kept under ARTEFACTS;
- GitHub, Gitea and GitLab push webhooks: a wrongly signed one gets 401
  and changes nothing, a correctly signed one starts a run at once
  (--interval 300: polling would not have come yet);
- a signed ping is ignored, a body over 1 MiB gets 413, an unsigned hook
  401: all counted, nothing run;
- without PVE_GITOPS_WEBHOOK_SECRET the hook answers 403 and the start-up
  note says why; /healthz, /readyz, 404 and 405;
- two `watch --listen` replicas on one remote, both woken by one push:
  sampled every 50 ms, never both report pve_gitops_lease_held 1, one does
  while the commit is processed (the clone takes 2.5 s), and the commit is
  processed once (one VM, one playbook run, one stage one between them).

Usage: watch_serve.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR ARTEFACTS
"""

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)

import e2elib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402

BIN, PSIM, SRC, ART = sys.argv[1:5]
SECRET = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
HOOK_SECRET = "hook-s3cret-0f9e8d7c"
t = Tap()
W = e2elib.Workdir("pve-gitops-watch-serve.", "dev")
D, REMOTE = W.dir, W.remote
RUNS = os.path.join(D, "runs.log")
CHILD_ENV = os.path.join(D, "playbook.env")  # what ansible-playbook got
sh, git, vm_file = W.sh, W.git, W.vm_file
WAIT = 240  # for a run, far below the polling interval


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(url, data=None, headers=None, method=None):
    """(status, body text) of a request; errors are answers too."""
    req = urllib.request.Request(url, data=data, headers=headers or {},
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()
    except (urllib.error.URLError, OSError) as err:
        return 0, str(err)


def commit(msg):
    W.commit(msg, push=False)
    sh("git", "pull", "-q", "--rebase", "origin", "main", check=False)
    git("push", "-q", "origin", "HEAD:main")
    return git("rev-parse", "HEAD")


def head():
    return git("rev-parse", "main", cwd=REMOTE)


def marker():
    return sh("git", "for-each-ref", "--format=%(objectname)",
              "refs/pve-gitops/done", cwd=REMOTE)


def runs():
    return open(RUNS).read().split() if os.path.exists(RUNS) else []


class Watch:
    """pve-gitops -C DIR watch --remote REMOTE --interval 300 --listen."""

    def __init__(self, env, d, name):
        self.log = os.path.join(D, name + ".out")
        self.out = open(self.log, "w+")
        self.p = subprocess.Popen(
            [BIN, "-C", d, "--no-color", "watch", "--remote", REMOTE,
             "--interval", "300", "--listen", "127.0.0.1:0"],
            stdout=self.out, stderr=subprocess.STDOUT, env=env,
            stdin=subprocess.DEVNULL)
        self.url = None
        e2elib.wait_for(self._listening, 30)
        if not self.url:
            raise RuntimeError("%s: no 'listening on' line:\n%s" %
                               (name, self.text()))

    def text(self):
        with open(self.log) as f:
            return f.read()

    def _listening(self):
        m = re.search(r"^listening on (http://127\.0\.0\.1:\d+)$",
                      self.text(), re.M)
        if m:
            self.url = m.group(1)
        return self.url is not None

    def get(self, path):
        return http(self.url + path)

    def metrics(self):
        """{sample name with labels: value}."""
        status, body = self.get("/metrics")
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        return rc, self.text()


def stage_one_runs(m):
    return sum(v for k, v in m.items()
               if k.startswith('pve_gitops_runs_total{stage="one"'))


def success_runs(m):
    return sum(v for k, v in m.items()
               if k.startswith("pve_gitops_runs_total{") and
               'result="success"' in k)


def github(body, secret=HOOK_SECRET):
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + sig,
            "Content-Type": "application/json"}


def gitea(body, secret=HOOK_SECRET):
    sig = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Gitea-Event": "push", "X-Gitea-Signature": sig,
            "Content-Type": "application/json"}


def gitlab(body, secret=HOOK_SECRET):
    return {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret,
            "Content-Type": "application/json"}


def settled(w):
    """The marker at the head and the runner idle again."""
    m = w.metrics()
    return marker() == head() and m.get("pve_gitops_lease_held") == 0 and \
        m.get("pve_gitops_busy") == 0 and \
        m.get("pve_gitops_commits_behind") == 0


def stage_hook(w, name, sign, vm, ip):
    """A push announced by a wrongly signed hook (nothing), then by a
    correctly signed one (a run at once)."""
    vm_file(vm, ip)
    commit("feat: %s [ansible haproxy]" % vm)
    body = json.dumps({"ref": "refs/heads/main", "after": head()}).encode()
    before, done = w.metrics(), marker()
    status, text = http(w.url + "/hooks/push", body,
                        sign(body, secret=HOOK_SECRET + "x"), "POST")
    t.eq(status, 401, "%s: a wrongly signed hook gets 401" % name)
    t.ok(HOOK_SECRET not in text, "%s: the 401 shows no secret" % name)
    time.sleep(3)
    after = w.metrics()
    key = 'pve_gitops_webhooks_total{provider="%s",verdict="rejected"}' % name
    t.eq(after.get(key, 0) - before.get(key, 0), 1,
         "%s: the refused hook is counted" % name)
    t.ok(marker() == done and stage_one_runs(after) ==
         stage_one_runs(before), "%s: the refused hook changed nothing" %
         name)
    t0 = time.monotonic()
    status, text = http(w.url + "/hooks/push", body, sign(body), "POST")
    t.eq(status, 202, "%s: a correctly signed hook is accepted" % name)
    ok = e2elib.wait_for(lambda: settled(w), WAIT, 0.5)
    t.ok(ok and time.monotonic() - t0 < 300, "%s: the push was processed "
         "in %.0f s, before the 300 s poll" % (name, time.monotonic() - t0),
         w.text()[-3000:])
    t.ok(stage_one_runs(w.metrics()) > stage_one_runs(before),
         "%s: pve_gitops_runs_total{stage=\"one\"} rose" % name)
    t.ok(vm in runs(), "%s: %s provisioned" % (name, vm), runs())


def stage_hook_edges(w):
    """A signed ping (ignored), an oversized body (413), a hook without a
    signature (401), a GET (405): counted, and no run."""
    before, done = w.metrics(), marker()
    body = b'{"zen": "ping"}'
    h = github(body)
    h["X-GitHub-Event"] = "ping"
    status, text = http(w.url + "/hooks/push", body, h, "POST")
    t.eq(status, 202, "ping: a signed ping is answered")
    t.ok("ignored" in text, "ping: and ignored", text)
    big = b"x" * (1024 * 1024 + 1)
    status, _ = http(w.url + "/hooks/push", big, github(big), "POST")
    t.eq(status, 413, "a body over 1 MiB gets 413")
    status, _ = http(w.url + "/hooks/push", body,
                     {"X-GitHub-Event": "push"}, "POST")
    t.eq(status, 401, "a hook without a signature gets 401")
    t.eq(w.get("/hooks/push")[0], 405, "GET /hooks/push: 405")
    time.sleep(2)
    after = w.metrics()

    def delta(k):
        return after.get(k, 0) - before.get(k, 0)

    t.eq(delta('pve_gitops_webhooks_total{provider="github",'
               'verdict="ignored"}'), 1, "ping: counted as ignored")
    t.eq(delta('pve_gitops_webhooks_total{provider="unknown",'
               'verdict="rejected"}'), 1, "413: counted as rejected")
    t.eq(delta('pve_gitops_webhooks_total{provider="github",'
               'verdict="rejected"}'), 1, "no signature: counted")
    t.ok(marker() == done and stage_one_runs(after) ==
         stage_one_runs(before), "edges: nothing ran")


def start_prometheus(target):
    d = tempfile.mkdtemp(prefix="prometheus.", dir=D)
    port = free_port()
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: watch\n    static_configs:\n"
                "      - targets: ['%s']\n" % target)
    log = open(os.path.join(d, "log"), "w")
    p = subprocess.Popen(
        ["prometheus", "--config.file=" + cfg,
         "--storage.tsdb.path=" + os.path.join(d, "data"),
         "--web.listen-address=127.0.0.1:%d" % port,
         "--web.console.templates=" + d, "--web.console.libraries=" + d],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    p.url = "http://127.0.0.1:%d" % port
    p.log = log.name
    return p


def prom_query(prom, q):
    """The query's one value (float), or None."""
    status, body = http(prom.url + "/api/v1/query?" +
                        urllib.parse.urlencode({"query": q}))
    if status != 200:
        return None
    res = json.loads(body)["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def check_prometheus(w, prom, first):
    """first: the success-run count Prometheus read before the pushes."""
    q = 'sum(pve_gitops_runs_total{job="watch",result="success"})'
    last = [None]

    def risen():
        last[0] = prom_query(prom, q)
        return last[0] is not None and last[0] > first

    t.ok(e2elib.wait_for(risen, 30, 0.5), "prometheus: the run counter "
         "rose (%s -> %s)" % (first, last[0]))
    ts = prom_query(prom, "pve_gitops_last_success_timestamp_seconds")
    t.ok(ts is not None and abs(ts - time.time()) < 3600,
         "prometheus: the last-success timestamp is set (%s)" % ts)
    # the runner is idle: Prometheus' next scrapes say so
    t.ok(e2elib.wait_for(lambda: prom_query(
        prom, "pve_gitops_lease_held") == 0.0, 10, 0.5),
        "prometheus: the lease is not held at rest")
    status, body = w.get("/metrics")
    p = subprocess.run(["promtool", "check", "metrics"], input=body,
                       capture_output=True, text=True)
    t.ok(p.returncode == 0 and not p.stdout.strip() and
         not p.stderr.strip(), "promtool check metrics accepts the "
         "exposition", p.stdout + p.stderr)
    t.ok(not re.search(r"[0-9a-f]{40}", body), "metrics: no commit id")


def chromium(url, *args):
    home = os.path.join(D, "chromium-home")
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home)
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-extensions",
         "--no-first-run", "--user-data-dir=" + os.path.join(home, "p"),
         "--window-size=412,1400"] + list(args) + [url],
        capture_output=True, text=True, env=env, timeout=120)


def check_page(w, failed_commit):
    # the walk after the failed pass fills the VM table
    e2elib.wait_for(lambda: "<summary>haproxy-x</summary>" in w.get("/")[1],
                    WAIT, 0.5)
    p = chromium(w.url + "/", "--dump-dom")
    dom = p.stdout
    t.ok("<dd id=\"repo\">%s</dd>" % REMOTE in dom, "page: the repository",
         dom[:3000] or p.stderr[-2000:])
    t.ok("<dd id=\"branch\">main</dd>" in dom, "page: the branch")
    t.ok(re.search(r'<dd id="processed"><code title="[0-9a-f]{40}">'
                   r'[0-9a-f]{12}</code></dd>', dom),
         "page: the last commit processed")
    t.ok(re.search(r'<dd id="seen"><code title="%s">%s</code></dd>' %
                   (head(), head()[:12]), dom),
         "page: the last commit seen is the remote's head")
    rows = re.findall(r'<tr class="run (\w+)">', dom)
    t.ok(len(rows) >= 6 and "success" in rows, "page: the last runs (%s)" %
         rows)
    m = re.search(r'<tr class="run failure"><td data-label="Commit"><code '
                  r'title="%s">.*?<td class="error" data-label="Error">'
                  r'([^<]+)</td>' % failed_commit, dom, re.S)
    t.ok(m and "haproxy-x" in m.group(1), "page: the failed run's error "
         "text", m.group(1) if m else dom[-3000:])
    vms = dict(re.findall(r'<tr class="vm"><td data-label="VM"><details>'
                          r'<summary>([^<]+)</summary>(.*?)</tr>', dom,
                          re.S))
    t.ok(set(vms) >= {"haproxy-a", "haproxy-b", "haproxy-c", "haproxy-x"},
         "page: a row for every VM (doctor's walk): %s" % sorted(vms),
         dom[-3000:])
    x = vms.get("haproxy-x", "")
    t.ok('<td class="failed" data-label="provisioned">failed</td>' in x and
         "ssh-port: " in x and "Fix: " in x,
         "page: the broken VM's provisioned cell failed, with doctor's "
         "detail and fix", x)
    a = vms.get("haproxy-a", "")
    t.ok('<td class="ok" data-label="created">ok</td>' in a and
         '<td class="ok" data-label="provisioned">ok</td>' in a,
         "page: a provisioned VM's cells ok", a)
    shot = os.path.join(ART, "watch_serve.png")
    os.makedirs(ART, exist_ok=True)
    if os.path.exists(shot):
        os.unlink(shot)
    # tall enough for the VM table below the runs, at a phone's width
    p = chromium(w.url + "/", "--screenshot=" + shot, "--window-size=412,4200")
    t.ok(os.path.exists(shot) and os.path.getsize(shot) > 1000,
         "page: a screenshot in %s" % shot, p.stderr[-2000:])


def stage_failure(w):
    """A VM no sshd answers for: stage two fails, with its error."""
    vm_file("haproxy-x", "127.0.0.30")
    commit("feat: haproxy-x [ansible haproxy]")
    body = b'{"ref": "refs/heads/main"}'
    http(w.url + "/hooks/push", body, github(body), "POST")

    def failed():
        return w.metrics().get('pve_gitops_runs_total{stage="two",'
                               'result="failure"}', 0) >= 1

    t.ok(e2elib.wait_for(failed, WAIT, 0.5), "failure: counted as "
         "stage two's failure", w.text()[-3000:])
    time.sleep(3)
    m = w.metrics()
    t.ok(m.get("pve_gitops_lease_held") == 0 and
         m.get('pve_gitops_runs_total{stage="two",result="failure"}') == 1,
         "failure: retried after the backoff, not at once", w.text()[-3000:])
    t.eq(m.get("pve_gitops_commits_behind"), 1, "failure: the failed "
         "commit counts as pending")
    return git("rev-parse", "main", cwd=REMOTE)


def stage_no_secret(env, d):
    p = subprocess.run([BIN, "-C", d, "--no-color", "watch", "--remote",
                        REMOTE, "--listen", "localhost"], env=env,
                       capture_output=True, text=True, timeout=60)
    t.ok(p.returncode == 2 and "--listen: 'localhost' is not ADDR:PORT" in
         p.stderr and "listening" not in p.stdout, "--listen without a "
         "port: exit 2, the reason", p.stdout + p.stderr)
    e = dict(env)
    e.pop("PVE_GITOPS_WEBHOOK_SECRET", None)
    w = Watch(e, d, "nosecret")
    body = b"{}"
    status, text = http(w.url + "/hooks/push", body, github(body), "POST")
    t.eq(status, 403, "no secret: the hook answers 403")
    t.ok("PVE_GITOPS_WEBHOOK_SECRET is not set" in text, "no secret: the "
         "answer says why", text)
    t.eq(w.get("/healthz")[0], 200, "healthz: 200")
    t.ok(e2elib.wait_for(lambda: w.get("/readyz")[0] == 200, 30),
         "readyz: 200 after the first fetch")
    t.eq(w.get("/nothing")[0], 404, "an unknown path: 404")
    t.eq(http(w.url + "/metrics", b"", {}, "POST")[0], 405,
         "POST /metrics: 405")
    rc, out = w.stop()
    t.ok("PVE_GITOPS_WEBHOOK_SECRET is not set" in out, "no secret: the "
         "start-up note says why", out)
    t.ok(rc == 0 and "watch: stopped" in out, "no secret: stops on SIGTERM")


def stage_replicas(env, wa, d2):
    """Two replicas behind the lease; one push, both woken."""
    wb = Watch(env, d2, "replica-b")
    t.ok(e2elib.wait_for(lambda: wb.get("/readyz")[0] == 200, 60),
         "replicas: the second is ready")
    before = stage_one_runs(wa.metrics()) + stage_one_runs(wb.metrics())
    n_runs = len(runs())
    vm_file("haproxy-r", "127.0.0.6")
    commit("feat: haproxy-r [ansible haproxy]")
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    for w in (wa, wb):
        http(w.url + "/hooks/push", body, gitea(body), "POST")
    samples, deadline = [], time.monotonic() + WAIT
    while time.monotonic() < deadline:
        ma, mb = wa.metrics(), wb.metrics()
        samples.append((ma.get("pve_gitops_lease_held"),
                        mb.get("pve_gitops_lease_held")))
        # done: the commit processed, and neither is busy (the loser of
        # the race takes the lease after the winner, to find nothing)
        if marker() == head() and samples[-1] == (0, 0) and \
                len(runs()) > n_runs and ma.get("pve_gitops_busy") == 0 \
                and mb.get("pve_gitops_busy") == 0:
            break
        time.sleep(0.05)
    both = [s for s in samples if s == (1, 1)]
    one = [s for s in samples if sorted(s) == [0, 1]]
    t.ok(not both, "replicas: never both hold the lease (%d samples)" %
         len(samples))
    t.ok(len(one) >= 3, "replicas: exactly one holds it while the commit "
         "is processed (%d of %d samples)" % (len(one), len(samples)))
    after = stage_one_runs(wa.metrics()) + stage_one_runs(wb.metrics())
    t.eq(after - before, 1, "replicas: stage one ran once between them")
    t.eq(runs()[n_runs:], ["haproxy-r"], "replicas: one playbook run")
    rc, out = wb.stop()
    t.ok(rc == 0, "replicas: the second stops on SIGTERM", out[-2000:])


def setup(psim, sshd):
    W.infra_repo(SRC)
    W.configure(psim, sshd, os.path.join(D, "known_hosts"),
                extra=e2elib.asan_ansible(BIN))
    W.record_playbook("haproxy", RUNS, extra_tasks="""\
    - name: record the environment
      ansible.builtin.shell: env >> %s
      delegate_to: localhost
      run_once: true
""" % CHILD_ENV)
    commit("chore: the infrastructure repository")
    git("update-ref", "refs/pve-gitops/done", "main", cwd=REMOTE)
    return W.env(sshd, SECRET, PVE_GITOPS_WEBHOOK_SECRET=HOOK_SECRET)


def main():
    for prog in ("prometheus", "promtool", "chromium"):
        if not shutil.which(prog):
            t.ok(False, "%s is installed (scripts/install-deps.sh)" % prog)
            t.done()
    with Sshds(["127.0.0.%d" % i for i in range(2, 10)]) as sshd, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10,qmclone=2500",
                       "--boot-ms", "0") as psim:
        env = setup(psim, sshd)
        d1, d2, d3 = W.clone("w1"), W.clone("w2"), W.clone("w3")
        stage_no_secret(env, d3)
        wa = Watch(env, d1, "replica-a")
        prom = start_prometheus(wa.url[len("http://"):])
        try:
            ready = e2elib.wait_for(
                lambda: prom_query(prom, 'up{job="watch"}') == 1, 60, 0.5)
            t.ok(ready, "prometheus scrapes /metrics",
                 open(prom.log).read()[-2000:])
            first = prom_query(prom, 'sum(pve_gitops_runs_total{job="watch",'
                                     'result="success"})')
            t.eq(first, 0.0, "prometheus: no run yet")
            stage_hook_edges(wa)
            stage_hook(wa, "github", github, "haproxy-a", "127.0.0.2")
            stage_hook(wa, "gitea", gitea, "haproxy-b", "127.0.0.3")
            stage_hook(wa, "gitlab", gitlab, "haproxy-c", "127.0.0.4")
            check_prometheus(wa, prom, first)
            stage_replicas(env, wa, d2)
            failed = stage_failure(wa)
            check_page(wa, failed)
            status, page = wa.get("/")
            t.ok(HOOK_SECRET not in page and SECRET not in page and
                 HOOK_SECRET not in wa.get("/metrics")[1],
                 "no secret on the page or in the metrics")
        finally:
            prom.terminate()
            prom.wait(timeout=30)
        rc, out = wa.stop()
        t.ok(rc == 0 and "watch: stopped" in out, "the runner stops on "
             "SIGTERM")
        t.ok(HOOK_SECRET not in out, "the webhook secret is in no output")
        env_text = open(CHILD_ENV).read() if os.path.exists(CHILD_ENV) \
            else ""
        t.ok("ANSIBLE_" in env_text and HOOK_SECRET not in env_text and
             "PVE_GITOPS_WEBHOOK_SECRET" not in env_text,
             "ansible-playbook's environment has no webhook secret")
    W.cleanup()
    t.done()


main()
