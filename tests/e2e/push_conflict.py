#!/usr/bin/python3
"""A push that needs a rebase keeps this run's new hosts (issue 16), on
loopback only: real git (a bare repository as the remote, the runner's
clone, a teammate's clone), proxmox-sim, a real sshd on 127.0.0.3 and real
ansible-playbook with a direct playbook that records the hosts it ran on.

The race is arranged, not hoped for: a post-commit hook in the runner's
clone pushes the teammate's commit (it changes the inventory and
new_hosts.txt) right after the automated commit is made, so the runner's
first push is truly rejected by git (not a fast-forward).

- `run --push` on a commit tagged [ansible haproxy] that adds
  haproxy-beta: the pushed automated commit lists haproxy-beta in
  new_hosts.txt (and only it: the hosts this run added that the
  teammate's inventory did not have; the teammate's entries belong to
  their own commit, never provisioned twice) and in the inventory (git
  merged the inventory cleanly, which once made the regeneration find "0
  new hosts"), the teammate's change to the
  inventory is kept, the playbook runs once, on haproxy-beta only, and
  neither git's CONFLICT nor its hint text reaches the user: one line says
  what happened.
- A teammate's automated commit for a VM of their own changed the same
  lines: both files are regenerated, the teammate's host (whose
  definition this runner's last apply never saw) stays in the inventory,
  new_hosts.txt lists this run's host.
- A push the remote refuses while its ref moves (a race at the remote
  itself, `run --commit HEAD --push`) is rebased and retried, and stage
  two provisions the pushed commit's host; one it refuses for good (a hook) is not:
  the server's reason, exit 1; the same for the lease's ref, at once.
- A remote that moves on at every attempt: the push is given up after the
  bounded attempts with a clear error, exit 1, nothing of it on the
  remote, no rebase left half-done in the clone.

Usage: push_conflict.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import os
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402

BIN, PSIM, SRC = sys.argv[1:4]
SECRET = "5e1d7c3a-9b2f-4e6d-8a0c-1f3e5a7b9c2d"
t = Tap()
W = e2elib.Workdir("pve-gitops-pushc.")
D, REPO, REMOTE = W.dir, W.repo, W.remote
OTHER = W.path("other")
KNOWN = os.path.join(D, "ssh", "known_hosts")
AUTO = "Auto-update Ansible inventory [ansible haproxy]"
git, commit, vm_file, remote_log = W.git, W.commit, W.vm_file, W.remote_log


def setup(psim, sshd):
    W.infra_repo(SRC)
    W.configure(psim, sshd, KNOWN, extra=e2elib.asan_ansible(BIN))
    W.record_playbook("haproxy", os.path.join(D, "haproxy-runs.log"))
    commit("chore: the infrastructure repository")


def env_for(sshd):
    return W.env(sshd, SECRET, drop=("VAULT_TOKEN",))


def pg(env, *args, cwd=REPO):
    return W.run(BIN, env, *args, cwd=cwd)


def hook(body):
    """The runner clone's post-commit hook: body runs in the teammate's
    clone after each automated commit, its output kept from the runner."""
    path = os.path.join(REPO, ".git", "hooks", "post-commit")
    with open(path, "w") as f:
        f.write("""#!/bin/sh
case "$(git log -1 --format=%%s)" in "Auto-update"*) ;; *) exit 0;; esac
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_AUTHOR_NAME \
  GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
cd %s || exit 1
{
%s
} >> %s/hook.log 2>&1
""" % (OTHER, body, D))
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def runs_log():
    p = os.path.join(D, "haproxy-runs.log")
    return open(p).read().split() if os.path.exists(p) else []


def no_git_text(out, what):
    t.ok("CONFLICT" not in out and "hint:" not in out and
         "Merge conflict" not in out, what + ": none of git's CONFLICT or "
         "hint text reaches the user", out)


def stage_rival(env):
    # the first balancer, as a runner left it: inventory and new_hosts.txt
    vm_file("haproxy-alpha", "127.0.0.2")
    commit("feat: first balancer")
    p = pg(env, "pipeline", "--push")
    if not t.eq(p.returncode, 0, "set-up: haproxy-alpha's automated commit"):
        print("#", (p.stdout + p.stderr)[-3000:].replace("\n", "\n# "))
        return False
    # the teammate's commit, made now, pushed by the hook later: a host of
    # their own in new_hosts.txt, and a change to the inventory
    W.clone("other", "Other", "other@example.test")
    ini = os.path.join(OTHER, "proxmox", "k8s.ini")
    text = open(ini).read()
    assert "\n[all:vars]\n" in text, text
    text = text.replace("\n[all:vars]\n", "\n[all:vars]\nansible_ssh_"
                        "pipelining=true\n")
    open(ini, "w").write(text)
    with open(os.path.join(OTHER, "proxmox", "new_hosts.txt"), "w") as f:
        f.write("127.0.0.9,mon1\n")
    commit("chore: pipelining for every host; mon1 set up by hand",
           cwd=OTHER, push=False)
    rival = git("rev-parse", "HEAD", cwd=OTHER)
    git("pull", "-q", "--rebase", "origin", "main")
    hook("""[ -e %s/rival-pushed ] && exit 0
touch %s/rival-pushed
git pull -q --rebase origin main && git push -q origin HEAD:main""" % (D, D))
    return rival


def stage_keeps_new_hosts(env):
    vm_file("haproxy-beta", "127.0.0.3")
    commit("feat: second balancer [ansible haproxy]")
    p = pg(env, "run", "--push")
    out = p.stdout + p.stderr
    if not t.eq(p.returncode, 0, "run --push exits 0"):
        print("#", out[-3000:].replace("\n", "\n# "))
    t.ok(os.path.exists(os.path.join(D, "rival-pushed")),
         "the teammate's commit was pushed between the automated commit "
         "and its push", open(os.path.join(D, "hook.log")).read()
         if os.path.exists(os.path.join(D, "hook.log")) else "no hook log")
    lines = [ln for ln in p.stdout.splitlines() if "rejected" in ln]
    t.ok(len(lines) == 1 and
         "the push was rejected (origin moved on); rebased on top of it, "
         "regenerated " in lines[0] and "proxmox/new_hosts.txt" in lines[0]
         and "haproxy-beta" in lines[0],
         "one line says the push was rejected, rebased and what was "
         "regenerated", p.stdout)
    no_git_text(out, "rejected push")
    log = remote_log()
    t.eq(log[:3], [AUTO, "chore: pipelining for every host; mon1 set up "
                   "by hand", "feat: second balancer [ansible haproxy]"],
         "the automated commit on top of the teammate's, on the remote")
    nh = git("show", "main:proxmox/new_hosts.txt", cwd=REMOTE)
    t.eq(nh, "127.0.0.3,haproxy-beta",
         "the pushed new_hosts.txt lists this run's new host (and only it)")
    changed = git("show", "--name-only", "--format=", "main", cwd=REMOTE)
    t.ok("proxmox/new_hosts.txt" in changed.split(),
         "the automated commit changes new_hosts.txt", changed)
    ini = git("show", "main:proxmox/k8s.ini", cwd=REMOTE)
    t.ok("haproxy-beta ansible_host=127.0.0.3" in ini and
         "haproxy-alpha ansible_host=127.0.0.2" in ini and
         "[haproxy]\nhaproxy-alpha\nhaproxy-beta" in ini,
         "the pushed inventory holds this run's host and the earlier one",
         ini)
    t.ok("[all:vars]\nansible_ssh_pipelining=true\n" in ini,
         "the teammate's change to the inventory is kept", ini)
    t.eq(runs_log(), ["haproxy-beta"],
         "stage two: the playbook ran once, on the new host only")
    t.ok("haproxy-beta" in p.stdout and "run: " in p.stdout,
         "stage two provisioned haproxy-beta", p.stdout)
    if os.environ.get("PUSH_CONFLICT_SHOW"):
        print("#", out.replace("\n", "\n# "))


def stage_other_runner(env):
    # a teammate ran stage one on their own clone for haproxy-delta: their
    # automated commit changes the same lines of the inventory and
    # new_hosts.txt as this runner's, and brings a definition this runner's
    # last apply never saw
    git("pull", "-q", "--rebase", "origin", "main", cwd=OTHER)
    vm_file("haproxy-delta", "127.0.0.6", cwd=OTHER)
    commit("feat: a balancer of the teammate's", cwd=OTHER, push=False)
    p = pg(env, "pipeline", cwd=OTHER)
    if not t.eq(p.returncode, 0, "the teammate's own stage one"):
        print("#", (p.stdout + p.stderr)[-3000:].replace("\n", "\n# "))
        return
    os.unlink(os.path.join(D, "rival-pushed"))
    git("pull", "-q", "--rebase", "origin", "main")
    vm_file("haproxy-epsilon", "127.0.0.5")
    commit("feat: fifth balancer [ansible haproxy]")
    p = pg(env, "pipeline", "--push")
    out = p.stdout + p.stderr
    if not t.eq(p.returncode, 0, "both sides: pipeline --push exits 0"):
        print("#", out[-3000:].replace("\n", "\n# "))
    t.ok("pipeline: the push was rejected (origin moved on); rebased on "
         "top of it, regenerated proxmox/k8s.ini and proxmox/new_hosts.txt "
         "(this run's new hosts: haproxy-epsilon)\n" in p.stdout,
         "both sides: the one line names both files regenerated", p.stdout)
    no_git_text(out, "both sides")
    t.eq(remote_log()[:2], [AUTO, "Auto-update Ansible inventory"],
         "both sides: this runner's automated commit on the teammate's")
    t.eq(git("show", "main:proxmox/new_hosts.txt", cwd=REMOTE),
         "127.0.0.5,haproxy-epsilon",
         "both sides: new_hosts.txt lists this run's new host")
    ini = git("show", "main:proxmox/k8s.ini", cwd=REMOTE)
    t.ok("haproxy-delta ansible_host=127.0.0.6" in ini and
         "haproxy-epsilon ansible_host=127.0.0.5" in ini and
         "\nhaproxy-delta\n" in ini.split("[haproxy]")[-1] and
         "\nhaproxy-epsilon" in ini.split("[haproxy]")[-1],
         "both sides: the inventory holds the teammate's host and this "
         "run's", ini)
    t.ok("proxmox/host_vars/haproxy-delta.yml" in
         git("ls-tree", "-r", "--name-only", "main", cwd=REMOTE).split(),
         "both sides: the teammate's host_vars file is kept")


def stage_remote_refusals(env):
    # a push that races another at the remote: git's own check passed (the
    # rival lands from the pre-push hook, after the remote's refs were
    # read), so the remote refuses it as it cannot lock the ref
    git("pull", "-q", "--rebase", "origin", "main")
    vm_file("haproxy-zeta", "127.0.0.7")
    commit("feat: sixth balancer [ansible haproxy]")
    path = os.path.join(REPO, ".git", "hooks", "pre-push")
    with open(path, "w") as f:
        f.write("""#!/bin/sh
grep -q " refs/heads/main " || exit 0
[ -e %s/race-pushed ] && exit 0
touch %s/race-pushed
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_PREFIX GIT_AUTHOR_NAME \\
  GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
cd %s && {
git pull -q --rebase origin main && echo race >> notes.txt &&
git add notes.txt && git commit -q -m "docs: a push that raced" &&
git push -q origin HEAD:main
} >> %s/hook.log 2>&1
""" % (D, D, OTHER, D))
    os.chmod(path, 0o755)
    p = pg(env, "run", "--commit", "HEAD", "--push")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 0 and os.path.exists(os.path.join(D, "race-pushed"))
         and "the push was rejected (origin moved on); rebased on top of "
         "it\n" in p.stdout,
         "a push the remote refused while its ref moved is rebased and "
         "retried", out)
    no_git_text(out, "remote race")
    t.eq(remote_log()[:2], [AUTO, "docs: a push that raced"],
         "remote race: the automated commit on top of the rival")
    t.eq(git("show", "main:proxmox/new_hosts.txt", cwd=REMOTE),
         "127.0.0.7,haproxy-zeta", "remote race: new_hosts.txt")
    t.eq(runs_log()[-1:], ["haproxy-zeta"],
         "remote race: run --commit's stage two, on the pushed commit's "
         "new host")
    os.unlink(path)
    # a refusal that is no race (a protected branch): one attempt, the
    # server's word, exit 1
    hook_path = os.path.join(REMOTE, "hooks", "pre-receive")
    with open(hook_path, "w") as f:
        f.write("#!/bin/sh\ngrep -q ' refs/heads/main$' || exit 0\n"
                "echo 'main is protected' >&2\nexit 1\n")
    os.chmod(hook_path, 0o755)
    vm_file("haproxy-eta", "127.0.0.8")
    commit("feat: seventh balancer [ansible haproxy]", push=False)
    p = pg(env, "pipeline", "--push")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 1 and "was refused: [remote rejected] "
         "(pre-receive hook declined)" in p.stderr and
         "main is protected" in p.stderr and "rebased" not in p.stdout,
         "a push the remote refuses for good: its reason, no retry, exit 1",
         out)
    no_git_text(out, "refused push")
    # a server that refuses the lease's ref too: an error at once, not a
    # wait for a lease nobody holds
    with open(hook_path, "w") as f:
        f.write("#!/bin/sh\necho 'read-only mirror' >&2\nexit 1\n")
    p = pg(env, "pipeline", "--push")
    out = p.stdout + p.stderr
    os.unlink(hook_path)
    t.ok(p.returncode != 0 and "the remote refused it: [remote rejected] "
         "(pre-receive hook declined)" in p.stderr and
         "read-only mirror" in p.stderr and "waiting" not in out,
         "the lease's push refused by the server: its reason, at once", out)
    no_git_text(out, "refused lease")
    if os.environ.get("PUSH_CONFLICT_SHOW"):
        print("#", out.replace("\n", "\n# "))
    git("reset", "-q", "--hard", "origin/main")


def stage_bounded(env):
    # the teammate pushes again after every automated commit: each push
    # is rejected, and the rebase makes the commit again
    hook("""n=$(cat %s/rivals 2>/dev/null || echo 0); n=$((n + 1))
echo $n > %s/rivals
git pull -q --rebase origin main && echo "note $n" >> notes.txt &&
git add notes.txt && git commit -q -m "docs: note $n" &&
git push -q origin HEAD:main""" % (D, D))
    vm_file("haproxy-gamma", "127.0.0.4")
    commit("feat: third balancer [ansible haproxy]")
    before = git("rev-parse", "main", cwd=REMOTE)
    p = pg(env, "pipeline", "--push")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 1 and "was rejected 5 times" in p.stderr and
         "nothing was pushed" in p.stderr,
         "a remote that keeps moving: a clear error after 5 attempts, "
         "exit 1", out)
    no_git_text(out, "repeated rejection")
    rivals = open(os.path.join(D, "rivals")).read().strip() \
        if os.path.exists(os.path.join(D, "rivals")) else "0"
    t.eq(rivals, "5", "five attempts, each rejected by a new commit")
    new = git("log", "--format=%s", before + "..main",
              cwd=REMOTE).splitlines()
    t.eq(new, ["docs: note %d" % i for i in range(5, 0, -1)],
         "nothing of the automated commit reached the remote")
    t.ok(not os.path.exists(os.path.join(REPO, ".git", "rebase-merge")),
         "no rebase is left half-done in the clone")
    t.eq(git("log", "-1", "--format=%s"), AUTO,
         "the automated commit stays in the clone, on top of the remote")


def main():
    with Sshds(["127.0.0.2", "127.0.0.3", "127.0.0.7"]) as sshd, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10",
                       "--boot-ms", "0") as psim:
        setup(psim, sshd)
        env = env_for(sshd)
        if stage_rival(env):
            stage_keeps_new_hosts(env)
            stage_other_runner(env)
            stage_remote_refusals(env)
            stage_bounded(env)
    W.cleanup()
    t.done()


main()
