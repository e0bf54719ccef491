#!/usr/bin/python3
"""The Proxmox client (src/io/pve.c, through tests/tools/pve_probe) against
proxmox-sim: token and ticket authentication from the Terraform providers'
environment variables, TLS verified by default, a pinned fingerprint, the
insecure switch, errors that name the endpoint and Proxmox's message, task
failures with the log tail, retries of transient failures, and no secret
in any output.

Usage: pve_client.py PROXMOX_SIM PVE_PROBE
"""

import os
import subprocess
import sys

from simlib import Sim, Tap

SECRET = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"
PASSWORD = "pa55-w0rd-never-printed"
SIM, PROBE = sys.argv[1], sys.argv[2]
OUTPUTS = []


def probe(sim, *args, env=None, fingerprint=None, **extra):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
         "PM_API_URL": sim.url + "/api2/json"}
    e.update(env if env is not None else
             {"PM_API_TOKEN_ID": "root@pam!ci",
              "PM_API_TOKEN_SECRET": SECRET})
    if fingerprint is not None:
        e["PROBE_FINGERPRINT"] = fingerprint
    for k, v in extra.items():
        e[k.upper()] = v
    p = subprocess.run([PROBE] + list(args), env=e, capture_output=True,
                       text=True, timeout=120)
    OUTPUTS.append(p.stdout + p.stderr)
    err = [l for l in p.stderr.splitlines() if not l.startswith("calls ")]
    calls = [int(l.split()[1]) for l in p.stderr.splitlines()
             if l.startswith("calls ")]
    return p.returncode, p.stdout.strip(), "\n".join(err), \
        calls[0] if calls else None


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--user",
             "ops@pve:" + PASSWORD, "--task-ms", "30") as sim:
        fp = sim.fingerprint
        rc, out, err, _ = probe(sim, "call", "GET", "/version")
        t.ok(rc == 1 and "certificate" in err.lower(),
             "TLS is verified by default (self-signed refused)", err)
        rc, out, err, calls = probe(sim, "call", "GET", "/version",
                                    fingerprint=fp)
        t.ok(rc == 0 and '"release":"9.1"' in out,
             "a pinned fingerprint is accepted", (rc, out, err))
        t.eq(calls, 1, "one request for one call")
        bad = "00" + fp[2:]
        rc, out, err, _ = probe(sim, "call", "GET", "/version",
                                fingerprint=bad)
        t.ok(rc == 1 and "certificate" in err.lower(),
             "a wrong fingerprint is refused", err)
        rc, out, err, _ = probe(sim, "call", "GET", "/version",
                                pm_tls_insecure="1")
        t.eq(rc, 0, "PM_TLS_INSECURE=1 turns verification off")

        rc, out, err, _ = probe(sim, "call", "GET", "/version",
                                env={"PROXMOX_VE_API_TOKEN":
                                     "root@pam!ci=" + SECRET},
                                fingerprint=fp)
        t.eq(rc, 0, "PROXMOX_VE_API_TOKEN (bpg form) works")
        rc, out, err, calls = probe(
            sim, "call", "PUT", "/nodes/node01/qemu/9000/config",
            "description=via ticket",
            env={"PM_USER": "ops@pve", "PM_PASS": PASSWORD},
            fingerprint=fp)
        t.eq((rc, out), (0, "null"),
             "PM_USER/PM_PASS: ticket login and a write with CSRF token")
        t.eq(calls, 2, "login plus the call")
        rc, out, err, _ = probe(sim, "call", "GET", "/nodes",
                                env={"PM_USER": "ops@pve",
                                     "PM_PASS": "wrong"}, fingerprint=fp)
        t.ok(rc == 1 and "cannot log in as 'ops@pve'" in err and
             "401 authentication failure" in err,
             "a wrong password says so", err)
        rc, out, err, _ = probe(sim, "call", "GET", "/nodes", env={})
        t.ok(rc == 2 and "no Proxmox credentials" in err,
             "no credentials is a usage error", err)

        rc, out, err, calls = probe(sim, "call", "PUT",
                                    "/nodes/node01/qemu/9000/config",
                                    "bogus=1", fingerprint=fp)
        t.eq((rc, err),
             (2, "pve_probe: error: PUT /nodes/node01/qemu/9000/config: "
              "400 Parameter verification failed.; bogus: property is not "
              "defined in schema and the schema does not allow additional "
              "properties"),
             "a 400 names the endpoint, Proxmox's message and parameter")
        t.eq(calls, 1, "a 400 is not retried")
        rc, out, err, calls = probe(sim, "call", "GET",
                                    "/nodes/node01/qemu/555/config",
                                    fingerprint=fp)
        t.ok(rc == 1 and "GET /nodes/node01/qemu/555/config: 500 "
             "Configuration file 'nodes/node01/qemu-server/555.conf' does "
             "not exist" in err and calls == 1,
             "a permanent 500 is reported at once", (err, calls))
        rc, out, err, _ = probe(sim, "task", "POST",
                                "/nodes/node01/qemu/9000/clone",
                                "newid=300", "name=t300", fingerprint=fp)
        t.eq(rc, 0, "clone and wait for the task")
        rc, out, err, _ = probe(sim, "task", "POST",
                                "/nodes/node01/qemu/300/status/start",
                                fingerprint=fp)
        t.eq(rc, 0, "start and wait")
        rc, out, err, _ = probe(sim, "task", "POST",
                                "/nodes/node01/qemu/300/status/start",
                                fingerprint=fp)
        t.ok(rc == 1 and "VM 300 already running" in err,
             "a refused task call names the message", err)

    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10",
             "--fault-rate", "0.6", "--faults", "http500,lock,drop,task",
             "--seed", "3", http=True) as sim:
        outcomes = [probe(sim, "call", "GET", "/cluster/resources",
                          probe_retry_ms="5", probe_retries="8")
                    for _ in range(15)]
        t.eq([o[0] for o in outcomes], [0] * 15,
             "reads are retried through 500s and dropped connections")
        t.ok(sum(o[3] for o in outcomes) > 15,
             "and some needed retries",
             sum(o[3] for o in outcomes))
        failed = None
        for i in range(30):
            rc, out, err, _ = probe(sim, "task", "POST",
                                    "/nodes/node01/qemu/9000/config",
                                    "description=d%d" % i,
                                    probe_retry_ms="5", probe_retries="8")
            if rc and "task qmconfig failed" in err:
                failed = err
                break
        t.ok(failed and ("injected fault" in failed or "can't lock file"
                         in failed) and "TASK ERROR" in failed,
             "a failed task shows its exit status and log", failed)

    leaks = [o for o in OUTPUTS if SECRET in o or PASSWORD in o]
    t.eq(leaks, [], "no output contains the token secret or the password")
    t.done()


main()
