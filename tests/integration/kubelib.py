"""What the kubeconfig tests share: K3s's kubeconfig as the server writes
it, issue 13's alias bomb, and a hard memory limit for the binary."""

import resource

# /etc/rancher/k3s/k3s.yaml as K3s writes it (the data fields shortened)
K3S = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: QUJD
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: REVG
    client-key-data: R0hJ
"""

MEM_MB = 512


def bomb_text():
    """Issue 13's alias bomb: 9 anchors, each 9 aliases of the one before
    (9^9 values expanded), inside a valid kubeconfig header."""
    lines = ["apiVersion: v1", "kind: Config",
             "a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    for i in range(1, 9):
        lines.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)]
                                                         * 9)))
    lines.append("clusters: []")
    return "\n".join(lines) + "\n"


def asan_build(path):
    """True when the binary carries AddressSanitizer (gcc links libasan,
    clang links its runtime in): then RLIMIT_AS cannot work (the shadow
    memory reserves terabytes) and ASan's own hard_rss_limit_mb is the
    limit."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def limited_env(binary, env):
    """(env, preexec_fn) that run binary under a hard memory limit of
    MEM_MB: address space for a plain build, resident size for ASan."""
    env = dict(env)
    if asan_build(binary):
        env["ASAN_OPTIONS"] = ":".join(
            x for x in (env.get("ASAN_OPTIONS", ""),
                        "hard_rss_limit_mb=%d" % MEM_MB) if x)
        return env, None

    def pre():
        lim = MEM_MB << 20
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    return env, pre


