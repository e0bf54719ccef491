#!/usr/bin/python3
"""vault-sim over raw HTTP (python3-requests): exact JSON shapes, status
codes and error texts of Vault's KV v1/v2 and sys endpoints, the request
log, fault injection with a seed, latency, TLS with a certificate made by
the openssl CLI, the start-up lines, option errors and clean shutdown.

Usage: vault_sim_http.py VAULT_SIM
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

from simlib import Tap
from vault_simlib import VaultSim

CAS_MISMATCH = "check-and-set parameter did not match the current version"
ENVELOPE = ["auth", "data", "lease_duration", "lease_id", "mount_type",
            "renewable", "request_id", "warnings", "wrap_info"]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")
SECRET_VALUE = "s3cr3t-Value-7f1c"


class Api:
    """requests with the sim's token; every answer as (status, body)."""

    def __init__(self, sim, token=None, **headers):
        self.sim = sim
        self.s = requests.Session()
        self.h = {"X-Vault-Token": sim.token if token is None else token}
        self.h.update(headers)

    def __call__(self, method, path, body=None, raw=None, headers=None,
                 params=None):
        h = dict(self.h)
        h.update(headers or {})
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        r = self.s.request(method, self.sim.api(path), data=data,
                           headers=h, params=params, timeout=30)
        try:
            parsed = r.json() if r.content else None
        except ValueError:
            parsed = r.text
        self.last = r
        return r.status_code, parsed


def is_time(s):
    return isinstance(s, str) and bool(TIME_RE.match(s))


def test_startup(t, binary):
    with VaultSim(binary) as sim:
        t.ok(re.match(r"^listening on http://127\.0\.0\.1:\d+\n$",
                      sim.lines[0]), "start-up: 'listening on URL' first",
             sim.lines)
        t.ok(re.match(r"^root-token hvs\.[0-9A-Za-z]{24}\n$", sim.lines[1]),
             "then 'root-token TOKEN' for a generated token", sim.lines)
        rc = sim.stop(signal.SIGINT)
        t.eq((rc, sim.rest_of_stdout()), (0, ""),
             "SIGINT: exit 0, nothing more on stdout")
    with VaultSim(binary, token="given-token") as sim:
        rc = sim.stop()
        t.eq((len(sim.lines), rc, sim.rest_of_stdout()), (1, 0, ""),
             "--root-token: only the listening line")
    d = tempfile.mkdtemp(prefix="vault-sim-tok.")
    try:
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write("  from-a-file\n")
        with VaultSim(binary, "--root-token-file", path,
                      token="from-a-file", token_in_args=True) as sim:
            st, _ = Api(sim)("GET", "auth/token/lookup-self")
            t.eq((len(sim.lines), st), (1, 200),
                 "--root-token-file: the trimmed file content is the token")
    finally:
        shutil.rmtree(d)

    def run(*args):
        return subprocess.run([binary] + list(args), capture_output=True,
                              text=True, timeout=30)

    p = run("--listen", "10.1.2.3:0")
    t.eq((p.returncode, p.stdout, p.stderr),
         (2, "", "vault-sim: error: --listen: '10.1.2.3' is not a loopback "
          "address (--allow-remote serves other hosts)\n"),
         "a non-loopback --listen is refused (exit 2)")
    for args, msg in [
            (["--kv2", "sys"], "--kv2: 'sys' is not a mount path"),
            (["--kv2", "kv", "--kv1", "kv/sub"],
             "--kv1: 'kv/sub' overlaps the mount 'kv'"),
            (["--kv2", "kv", "--kv1", "kv"], "--kv1: 'kv' is mounted twice"),
            (["--fault-rate", "2"], "--fault-rate: '2' is not a number"),
            (["--faults", "boom"], "--faults: 'boom' is not one of"),
            (["--tls-cert", "x"], "--tls-cert and --tls-key go together"),
            (["--root-token", "a b"], "the root token must be")]:
        p = run("--listen", "127.0.0.1:0", *args)
        t.ok(p.returncode == 2 and p.stderr.startswith(
            "vault-sim: error: " + msg), "refused: %s" % " ".join(args),
            p.stderr)
    # --allow-remote allows other addresses; a loopback one still serves
    try:
        with VaultSim(binary, "--allow-remote") as sim:
            st, _ = Api(sim)("GET", "auth/token/lookup-self")
            got = (sim.lines[0].startswith("listening on http://127.0.0.1:"),
                   requests.get(sim.api("sys/health"),
                                timeout=10).status_code, st, sim.stop())
    except (RuntimeError, requests.RequestException) as e:
        got = ("no answer", str(e))
    t.eq(got, (True, 200, 200, 0),
         "--allow-remote with a loopback --listen serves as usual")
    p = subprocess.Popen([binary, "--listen", "0.0.0.0:0", "--allow-remote",
                          "--root-token", "x"], stdout=subprocess.PIPE,
                         text=True)
    line = p.stdout.readline()
    p.send_signal(signal.SIGTERM)
    t.eq((line.startswith("listening on http://0.0.0.0:"), p.wait(30)),
         (True, 0), "--allow-remote accepts 0.0.0.0")
    p.stdout.close()


def test_auth_and_sys(t, sim):
    api = Api(sim)
    r = requests.get(sim.api("sys/health"), timeout=10)
    h = r.json()
    t.eq((r.status_code, r.headers["Content-Type"]), (200, "application/json"),
         "sys/health without a token: 200 application/json")
    t.ok(h["initialized"] is True and h["sealed"] is False and
         h["standby"] is False and isinstance(h["version"], str) and
         isinstance(h["server_time_utc"], int) and "cluster_id" in h,
         "sys/health fields", h)
    r = requests.head(sim.api("sys/health"), timeout=10)
    t.eq((r.status_code, r.content), (200, b""), "HEAD sys/health")
    r = requests.get(sim.api("sys/health"), params={"activecode": "299"},
                     timeout=10)
    t.eq(r.status_code, 299, "sys/health?activecode=299")
    r = requests.get(sim.api("sys/seal-status"), timeout=10)
    t.eq((r.status_code, r.json()["sealed"]), (200, False),
         "sys/seal-status without a token")

    r = requests.get(sim.api("kv/data/x"), timeout=10)
    t.eq((r.status_code, r.json()), (403, {"errors": ["permission denied"]}),
         "no token: 403 permission denied")
    st, body = Api(sim, token="hvs.wrong")("GET", "kv/data/x")
    t.eq((st, body), (403, {"errors": ["permission denied",
                                       "invalid token"]}),
         "a wrong token: 403 permission denied, invalid token")
    r = requests.get(sim.api("auth/token/lookup-self"), timeout=10,
                     headers={"Authorization": "Bearer " + sim.token})
    d = r.json()["data"]
    t.eq((r.status_code, d["policies"], d["id"] == sim.token),
         (200, ["root"], True), "Authorization: Bearer works too")

    st, body = api("GET", "sys/internal/ui/mounts/kv")
    d = body["data"]
    t.eq((st, d["path"], d["type"], d["options"]),
         (200, "kv/", "kv", {"version": "2"}),
         "ui/mounts/kv: path kv/, type kv, options.version \"2\"")
    t.eq((body["path"], body["options"]), ("kv/", {"version": "2"}),
         "ui/mounts: sys fields also at the top level")
    st, body = api("GET", "sys/internal/ui/mounts/kv/some/secret")
    t.eq((st, body["data"]["path"]), (200, "kv/"),
         "ui/mounts on a secret path answers for its mount")
    st, body = api("GET", "sys/internal/ui/mounts/secret")
    t.eq((st, body["data"]["path"], body["data"]["options"]),
         (200, "secret/", None), "ui/mounts on the v1 mount: options null")
    st, body = api("GET", "sys/internal/ui/mounts/team/kv")
    t.eq((st, body["data"]["path"]), (200, "team/kv/"),
         "ui/mounts finds a nested mount path")
    st, body = api("GET", "sys/internal/ui/mounts/nosuch/x")
    t.eq((st, body), (403, {"errors": [
        "preflight capability check returned 403, please ensure client's "
        "policies grant access to path \"nosuch/x/\""]}),
        "ui/mounts for no mount: 403 with Vault's pre-flight text")
    st, body = api("GET", "sys/mounts")
    t.eq((st, sorted(body["data"]), body["data"]["kv/"]["options"]),
         (200, ["kv/", "secret/", "team/kv/"], {"version": "2"}),
         "sys/mounts lists the KV mounts")
    st, body = api("GET", "nosuch/path")
    t.eq((st, body), (404, {"errors": [
        "no handler for route \"nosuch/path\". route entry not found."]}),
        "a path under no mount: 404 no handler for route")
    st, body = api("FOO", "kv/data/x")
    t.eq((st, body), (405, {"errors": []}), "an unknown method: 405")
    st, body = api("GET", "kv/destroy/x")
    t.eq((st, body), (405, {"errors": [
        "1 error occurred:\n\t* unsupported operation\n\n"]}),
        "GET on destroy/: 405 unsupported operation")
    st, body = api("GET", "sys/nonsense")
    t.eq(st, 404, "an unknown sys path: 404")


def test_kv2_write_read(t, sim):
    api = Api(sim)
    st, body = api("POST", "kv/data/app/db",
                   {"data": {"pw": SECRET_VALUE, "n": 1},
                    "options": {}})
    t.eq((st, sorted(body)), (200, ENVELOPE), "write: 200, the envelope")
    t.eq((body["lease_id"], body["renewable"], body["lease_duration"],
          body["wrap_info"], body["warnings"], body["auth"]),
         ("", False, 0, None, None, None), "write: envelope values")
    t.ok(re.match(r"^[0-9a-f-]{36}$", body["request_id"]),
         "write: a request_id", body)
    d = body["data"]
    t.eq(sorted(d), ["created_time", "custom_metadata", "deletion_time",
                     "destroyed", "version"],
         "write: data holds the version metadata")
    t.ok(is_time(d["created_time"]) and d["deletion_time"] == "" and
         d["destroyed"] is False and d["version"] == 1 and
         d["custom_metadata"] is None, "write: metadata values", d)
    t.eq(api.last.headers["Content-Type"], "application/json",
         "Content-Type: application/json")

    st, body = api("PUT", "kv/data/app/db",
                   {"data": {"pw": "second"}, "options": {"cas": 1}})
    t.eq((st, body["data"]["version"]), (200, 2), "PUT with cas 1: version 2")
    st, body = api("GET", "kv/data/app/db")
    t.eq((st, sorted(body), sorted(body["data"])),
         (200, ENVELOPE, ["data", "metadata"]), "read: data and metadata")
    t.eq((body["data"]["data"], body["data"]["metadata"]["version"]),
         ({"pw": "second"}, 2), "read: the latest version, whole")
    t.eq(sorted(body["data"]["metadata"]),
         ["created_time", "custom_metadata", "deletion_time", "destroyed",
          "version"], "read: metadata fields")
    st, body = api("GET", "kv/data/app/db", params={"version": "1"})
    t.eq((st, body["data"]["data"]), (200, {"n": 1, "pw": SECRET_VALUE}),
         "read ?version=1")
    st, body = api("GET", "kv/data/app/db", params={"version": "0"})
    t.eq(body["data"]["metadata"]["version"], 2, "?version=0 is the latest")
    st, body = api("GET", "kv/data/app/db", params={"version": "9"})
    t.eq((st, body), (404, {"errors": []}), "a version never written: 404")
    st, body = api("GET", "kv/data/app/db", params={"version": "x"})
    t.eq(st, 400, "?version=x: 400")
    st, body = api("GET", "kv/data/app/none")
    t.eq((st, body), (404, {"errors": []}),
         "a missing secret: 404 {\"errors\": []}")

    for cas, want in [(1, CAS_MISMATCH), (0, CAS_MISMATCH),
                      (3, CAS_MISMATCH), (-1, CAS_MISMATCH),
                      ("abc", "error parsing check-and-set parameter"),
                      (1.5, "error parsing check-and-set parameter")]:
        st, body = api("POST", "kv/data/app/db",
                       {"data": {"a": "b"}, "options": {"cas": cas}})
        t.eq((st, body), (400, {"errors": [want]}),
             "cas %r against version 2: 400 %s" % (cas, want))
    st, body = api("POST", "kv/data/app/db",
                   {"data": {"a": "b"}, "options": {"cas": "2"}})
    t.eq((st, body["data"]["version"]), (200, 3),
         "cas as a numeric string is accepted (weak decoding)")
    st, body = api("POST", "kv/data/app/new",
                   {"data": {"a": "b"}, "options": {"cas": 0}})
    t.eq((st, body["data"]["version"]), (200, 1),
         "cas 0 creates a new secret")
    st, body = api("POST", "kv/data/app/db", {"options": {"cas": 3}})
    t.eq((st, body), (400, {"errors": ["no data provided"]}),
         "a write without data: 400 no data provided")
    st, body = api("POST", "kv/data/app/db", raw="{not json")
    t.ok(st == 400 and body["errors"][0].startswith(
        "failed to parse JSON input"), "a body that is not JSON: 400", body)
    st, body = api("POST", "kv/data/app/db", raw="[1]")
    t.ok(st == 400 and "cannot unmarshal array" in body["errors"][0],
         "a JSON array body: 400", body)
    st, body = api("POST", "kv/data/app/db",
                   {"data": {"x": {"nested": [1, 2, None]}, "b": True}})
    t.eq(st, 200, "a write of nested JSON values: 200")
    st, body = api("GET", "kv/data/app/db")
    t.eq(body["data"]["data"], {"x": {"nested": [1, 2, None]}, "b": True},
         "nested JSON values come back as written")


def test_kv2_cas_required(t, sim, binary):
    api = Api(sim)
    st, body = api("GET", "kv/config")
    t.eq((st, body["data"]),
         (200, {"cas_required": False, "delete_version_after": "0s",
                "max_versions": 0}), "GET config: the defaults")
    st, body = api("POST", "kv/config", {"cas_required": True})
    t.eq((st, body), (204, None), "POST config cas_required: 204")
    st, body = api("POST", "kv/data/c/one", {"data": {"a": "b"}})
    t.eq((st, body), (400, {"errors": [
        "check-and-set parameter required for this call"]}),
        "mount cas_required: a write without cas is refused")
    st, body = api("POST", "kv/data/c/one",
                   {"data": {"a": "b"}, "options": {"cas": 0}})
    t.eq(st, 200, "mount cas_required: with cas it is accepted")
    st, body = api("POST", "kv/metadata/c/one", {"cas_required": False})
    t.eq((st, body["warnings"]), (200, [
        "\"cas_required\" set to false, but is mandated by backend config. "
        "This value will be ignored."]),
        "a key cannot turn off the mount's cas_required (warning)")
    api("POST", "kv/config", {"cas_required": False})
    st, body = api("POST", "kv/metadata/c/two", {"cas_required": True})
    t.eq(st, 204, "metadata cas_required on a new key: 204")
    st, body = api("POST", "kv/data/c/two", {"data": {"a": "b"}})
    t.eq(body, {"errors": ["check-and-set parameter required for this "
                           "call"]},
         "key cas_required: a write without cas is refused")
    st, body = api("POST", "kv/data/c/two",
                   {"data": {"a": "b"}, "options": {"cas": 0}})
    t.eq((st, body["data"]["version"]), (200, 1),
         "key created by metadata: cas 0 writes version 1")
    with VaultSim(binary, "--cas-required") as other:
        o = Api(other)
        st, body = o("POST", "kv/data/x", {"data": {"a": "b"}})
        st2, cfg = o("GET", "kv/config")
        t.eq((st, cfg["data"]["cas_required"]), (400, True),
             "--cas-required: the mount requires cas from the start")


def test_kv2_patch(t, sim):
    api = Api(sim)
    mp = {"Content-Type": "application/merge-patch+json"}
    api("POST", "kv/data/p", {"data": {"a": "1", "b": {"c": "2", "d": "3"},
                                       "e": "4"}})
    st, body = api("PATCH", "kv/data/p", {"data": {"a": None, "b": {"c": "9"},
                                                   "f": "5"}}, headers=mp)
    t.eq((st, body["data"]["version"]), (200, 2), "PATCH: 200, version 2")
    st, body = api("GET", "kv/data/p")
    t.eq(body["data"]["data"], {"b": {"c": "9", "d": "3"}, "e": "4",
                                "f": "5"},
         "PATCH is an RFC 7386 merge: null removes, objects merge")
    st, body = api("PATCH", "kv/data/p", {"data": {"a": "1"},
                                          "options": {"cas": 1}}, headers=mp)
    t.eq((st, body), (400, {"errors": [CAS_MISMATCH]}),
         "PATCH with a stale cas: 400")
    st, body = api("PATCH", "kv/data/p", {"data": {"a": "1"},
                                          "options": {"cas": 2}}, headers=mp)
    t.eq((st, body["data"]["version"]), (200, 3), "PATCH with cas 2: 200")
    st, body = api("PATCH", "kv/data/absent", {"data": {"a": "1"}},
                   headers=mp)
    t.eq((st, body), (404, {"errors": []}), "PATCH of a missing secret: 404")
    st, body = api("PATCH", "kv/data/p", {"data": {"a": "1"}},
                   headers={"Content-Type": "application/json"})
    t.eq((st, body), (415, {"errors": [
        "PATCH requires Content-Type of application/merge-patch+json, "
        "provided application/json"]}), "PATCH with application/json: 415")
    api("DELETE", "kv/data/p")
    st, body = api("PATCH", "kv/data/p", {"data": {"a": "1"}}, headers=mp)
    t.ok(st == 404 and body["data"]["deletion_time"] != "",
         "PATCH of a deleted version: 404 with its metadata", body)
    st, body = api("PATCH", "kv/metadata/p",
                   {"custom_metadata": {"owner": "ops", "x": "y"},
                    "max_versions": 4}, headers=mp)
    st2, meta = api("GET", "kv/metadata/p")
    t.eq((st, meta["data"]["custom_metadata"], meta["data"]["max_versions"]),
         (204, {"owner": "ops", "x": "y"}, 4), "PATCH metadata")
    st, body = api("PATCH", "kv/metadata/p",
                   {"custom_metadata": {"x": None}}, headers=mp)
    st2, meta = api("GET", "kv/metadata/p")
    t.eq(meta["data"]["custom_metadata"], {"owner": "ops"},
         "PATCH metadata: a null custom_metadata key is removed")


def test_kv2_metadata(t, sim):
    api = Api(sim)
    for i in range(5):
        api("POST", "kv/data/m/five", {"data": {"i": i}})
    st, body = api("GET", "kv/metadata/m/five")
    d = body["data"]
    t.eq(sorted(d), ["cas_required", "created_time", "current_version",
                     "custom_metadata", "delete_version_after",
                     "max_versions", "oldest_version", "updated_time",
                     "versions"], "metadata: the fields")
    t.eq((d["current_version"], d["oldest_version"], d["max_versions"],
          sorted(d["versions"], key=int)),
         (5, 0, 0, ["1", "2", "3", "4", "5"]),
         "metadata: versions keyed by strings")
    t.ok(all(sorted(v) == ["created_time", "deletion_time", "destroyed"]
             for v in d["versions"].values()) and
         is_time(d["created_time"]) and is_time(d["updated_time"]) and
         d["created_time"] == d["versions"]["1"]["created_time"] and
         d["updated_time"] == d["versions"]["5"]["created_time"],
         "metadata: created_time, updated_time, version entries", d)
    st, body = api("POST", "kv/metadata/m/five",
                   {"max_versions": 3, "delete_version_after": "1h30m",
                    "custom_metadata": {"owner": "team-a"}})
    t.eq((st, body), (204, None), "POST metadata: 204")
    api("POST", "kv/data/m/five", {"data": {"i": 5}})
    st, body = api("GET", "kv/metadata/m/five")
    d = body["data"]
    t.eq((d["max_versions"], d["delete_version_after"], d["custom_metadata"],
          d["oldest_version"], sorted(d["versions"], key=int)),
         (3, "1h30m0s", {"owner": "team-a"}, 4, ["4", "5", "6"]),
         "max_versions 3 trims to the 3 newest on the next write")
    t.ok(d["versions"]["6"]["deletion_time"] != "",
         "delete_version_after gives new versions a deletion_time")
    st, body = api("GET", "kv/data/m/five")
    t.eq((st, body["data"]["metadata"]["custom_metadata"]),
         (200, {"owner": "team-a"}),
         "a version not yet past its deletion_time reads; custom_metadata "
         "shows in the read")
    st, body = api("GET", "kv/data/m/five", params={"version": "1"})
    t.eq((st, body), (404, {"errors": []}), "a trimmed version: 404")
    for i in range(12):
        api("POST", "kv/data/m/twelve", {"data": {"i": i}})
    st, body = api("GET", "kv/metadata/m/twelve")
    t.eq((body["data"]["oldest_version"],
          sorted(body["data"]["versions"], key=int)),
         (3, [str(i) for i in range(3, 13)]),
         "by default 10 versions are kept")
    st, body = api("POST", "kv/metadata/m/five",
                   {"custom_metadata": {"k": ""}})
    t.eq((st, body), (400, {"errors": [
        "1 error occurred:\n\t* custom_metadata validation failed: length "
        "of value for key \"k\" is 0 but must be 0 < len(value) <= 512\n\n"]}),
        "custom_metadata validation: Vault's multierror text")
    for dva in [-5, "-1h", "1x", 10 ** 15, "9999999999h"]:
        st, body = api("POST", "kv/metadata/m/five",
                       {"delete_version_after": dva})
        t.eq(st, 400, "delete_version_after %r: 400" % (dva,))
    st, body = api("POST", "kv/config", {"max_versions": -1})
    t.eq(st, 400, "config max_versions -1: 400")
    st, body = api("POST", "kv/metadata/m/none", {})
    st2, body2 = api("GET", "kv/metadata/m/none")
    t.eq((st, st2), (204, 404), "an empty metadata write creates nothing")

    st, body = api("LIST", "kv/metadata/m")
    t.eq((st, body["data"]), (200, {"keys": ["five", "twelve"]}),
         "LIST metadata/m")
    st, body = api("GET", "kv/metadata/", params={"list": "true"})
    t.ok(st == 200 and "m/" in body["data"]["keys"] and
         body["data"]["keys"] == sorted(body["data"]["keys"]),
         "GET ?list=true at the root: sorted, folders with /", body)
    st, body = api("LIST", "kv/metadata/nothing/here")
    t.eq((st, body), (404, {"errors": []}), "an empty LIST: 404")
    st, body = api("DELETE", "kv/metadata/m/five")
    t.eq((st, body), (204, None), "DELETE metadata: 204")
    st, body = api("GET", "kv/metadata/m/five")
    t.eq((st, body), (404, {"errors": []}), "metadata gone: 404")
    st, body = api("GET", "kv/data/m/five")
    t.eq((st, body), (404, {"errors": []}), "all versions gone: 404")
    st, body = api("LIST", "kv/metadata/m")
    t.eq(body["data"]["keys"], ["twelve"], "the key left the listing")


def test_kv2_delete_destroy(t, sim):
    api = Api(sim)
    for i in range(3):
        api("POST", "kv/data/d", {"data": {"i": i}})
    st, body = api("DELETE", "kv/data/d")
    t.eq((st, body), (204, None), "DELETE data: 204")
    st, body = api("GET", "kv/data/d")
    t.eq((st, sorted(body), body["data"]["data"]), (404, ENVELOPE, None),
         "a soft-deleted latest version: 404 with the envelope, data null")
    m = body["data"]["metadata"]
    t.ok(is_time(m["deletion_time"]) and m["version"] == 3 and
         m["destroyed"] is False, "... and its metadata", m)
    st, body = api("POST", "kv/undelete/d", {"versions": [3]})
    st2, body2 = api("GET", "kv/data/d")
    t.eq((st, st2, body2["data"]["data"]), (204, 200, {"i": 2}),
         "undelete: 204, readable again")
    st, body = api("POST", "kv/delete/d", {"versions": [1, 2]})
    st2, meta = api("GET", "kv/metadata/d")
    v = meta["data"]["versions"]
    t.ok(st == 204 and v["1"]["deletion_time"] and v["2"]["deletion_time"]
         and v["3"]["deletion_time"] == "",
         "POST delete/ versions [1,2]: soft-deletes those", v)
    st, body = api("PUT", "kv/destroy/d", {"versions": "2,3"})
    st2, meta = api("GET", "kv/metadata/d")
    v = meta["data"]["versions"]
    t.ok(st == 204 and v["2"]["destroyed"] and v["3"]["destroyed"] and
         not v["1"]["destroyed"], "PUT destroy/ with \"2,3\": destroyed", v)
    st, body = api("GET", "kv/data/d")
    t.eq((st, body["data"]["metadata"]["destroyed"], body["data"]["data"]),
         (404, True, None), "a destroyed version reads 404, destroyed")
    st, body = api("POST", "kv/undelete/d", {"versions": [3]})
    st2, body2 = api("GET", "kv/data/d")
    t.eq(st2, 404, "undelete cannot bring back a destroyed version")
    st, body = api("POST", "kv/data/d",
                   {"data": {"i": 9}, "options": {"cas": 3}})
    t.eq((st, body["data"]["version"]), (200, 4),
         "deleted and destroyed versions still count for cas")
    for ep, msg in [("delete", "No version number provided"),
                    ("undelete", "No version number provided"),
                    ("destroy", "no version number provided")]:
        st, body = api("POST", "kv/%s/d" % ep, {})
        t.eq((st, body), (400, {"errors": [msg]}),
             "%s/ without versions: 400 %s" % (ep, msg))
    st, body = api("POST", "kv/delete/never-written", {"versions": [1]})
    t.eq(st, 204, "delete/ of a missing key: 204")
    st, body = api("GET", "kv/app/db")
    t.eq((st, body["data"], body["warnings"]), (404, None, [
        "Invalid path for a versioned K/V secrets engine. See the API docs "
        "for the appropriate API endpoints to use. If using the Vault CLI, "
        "use 'vault kv get' for this operation."]),
        "a v1-style read on a v2 mount: 404 with Vault's warning")
    st, body = api("POST", "kv/app/db", {"a": "b"})
    t.ok(st == 404 and "'vault kv put'" in body["warnings"][0],
         "... a write names 'vault kv put'", body)
    st, body = api("GET", "kv/data")
    t.eq((st, body["warnings"]), (404, [
        "Non-listing operations on the root of a K/V v2 mount are not "
        "supported."]), "GET on the bare data root")


def test_kv1(t, sim):
    api = Api(sim)
    st, body = api("POST", "secret/app/one", {"user": "u", "pw": SECRET_VALUE})
    t.eq((st, body, api.last.content), (204, None, b""),
         "KV v1 write: 204, no body")
    st, body = api("GET", "secret/app/one")
    t.eq((st, sorted(body), body["data"], body["lease_duration"]),
         (200, ENVELOPE, {"pw": SECRET_VALUE, "user": "u"}, 2764800),
         "KV v1 read: the keys directly under data, lease 768h")
    api("PUT", "secret/app/one", {"user": "v"})
    st, body = api("GET", "secret/app/one")
    t.eq(body["data"], {"user": "v"}, "KV v1 write replaces the whole value")
    api("PUT", "secret/app/sub/two", {"a": "b"})
    st, body = api("LIST", "secret/app")
    t.eq((st, body["data"]["keys"]), (200, ["one", "sub/"]), "KV v1 LIST")
    st, body = api("GET", "secret/", params={"list": "true"})
    t.eq(body["data"]["keys"], ["app/"], "KV v1 list at the root")
    st, body = api("POST", "secret/app/empty", {})
    t.eq((st, body), (400, {"errors": ["missing data fields"]}),
         "KV v1 write of nothing: 400 missing data fields")
    st, body = api("DELETE", "secret/app/one")
    st2, body2 = api("GET", "secret/app/one")
    t.eq((st, st2, body2), (204, 404, {"errors": []}),
         "KV v1 delete: 204, then 404")
    st, body = api("PATCH", "secret/app/sub/two", {"a": "c"},
                   headers={"Content-Type": "application/merge-patch+json"})
    t.eq(st, 405, "KV v1 has no PATCH: 405")
    st, body = api("GET", "team/kv/data/none")
    t.eq((st, body), (404, {"errors": []}), "a nested mount path routes")


def test_namespaces(t, sim):
    api = Api(sim)
    ns = Api(sim, **{"X-Vault-Namespace": "team-a/"})
    st, body = ns("POST", "kv/data/nsonly", {"data": {"a": "b"}})
    t.eq((st, body["data"]["version"]), (200, 1), "a write in namespace "
         "team-a")
    st, body = api("GET", "kv/data/nsonly")
    t.eq(st, 404, "the root namespace does not see it")
    st, body = Api(sim, **{"X-Vault-Namespace": "/team-a"})(
        "GET", "kv/data/nsonly")
    t.eq((st, body["data"]["data"]), (200, {"a": "b"}),
         "the namespace sees it ('/team-a' is 'team-a/')")
    st, body = ns("LIST", "kv/metadata")
    t.eq(body["data"]["keys"], ["nsonly"], "a namespace lists its own keys")
    st, body = api("LIST", "kv/metadata")
    t.ok("nsonly" not in body["data"]["keys"],
         "the root namespace does not list them", body)
    entry = [e for e in sim.log_entries()
             if e["path"] == "/v1/kv/data/nsonly"][0]
    t.eq(entry.get("namespace"), "team-a/", "the log names the namespace")


def test_concurrent_cas(t, sim, what=""):
    """20 writers with the same cas at once: exactly one wins, each round."""
    api = Api(sim)
    api("POST", "kv/data/cc", {"data": {"round": 0}, "options": {"cas": 0}})
    ok_rounds = 0
    for rnd in range(1, 6):
        barrier = threading.Barrier(20)
        results = []
        lock = threading.Lock()

        def writer(i):
            s = requests.Session()
            barrier.wait()
            r = s.post(sim.api("kv/data/cc"), headers=sim.headers(),
                       json={"data": {"w": i}, "options": {"cas": rnd}},
                       timeout=30)
            with lock:
                results.append((r.status_code, r.json()))

        threads = [threading.Thread(target=writer, args=(i,))
                   for i in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wins = [b for s, b in results if s == 200]
        losses = [b for s, b in results if s == 400]
        if (len(wins) == 1 and wins[0]["data"]["version"] == rnd + 1 and
                len(losses) == 19 and
                all(b == {"errors": [CAS_MISMATCH]} for b in losses)):
            ok_rounds += 1
    t.eq(ok_rounds, 5, "20 concurrent writers with one cas: exactly one "
         "winner per version, 5 rounds of 5" + what)


def test_log(t, sim):
    text = sim.log_text()
    log = sim.log_entries()
    t.ok(len(log) > 100 and all({"method", "path", "status"} <= set(e)
                                for e in log),
         "every request is logged with method, path, status")
    writes = [e for e in log if e["method"] in ("POST", "PUT", "PATCH") and
              e["path"].startswith("/v1/kv/data/")]
    # those refused before the KV engine saw them (bad JSON, content type)
    # have no cas to show
    done = [e for e in writes if e["status"] in (200, 404)]
    t.ok(done and all("cas" in e and "cas_conflict" in e for e in done),
         "data writes carry cas and cas_conflict",
         [e for e in done if "cas" not in e])
    t.ok(any(e["cas"] == 1 and e["cas_conflict"] and e["status"] == 400
             for e in writes), "a conflict is logged with the cas sent")
    t.ok(sim.token not in text and "hvs.wrong" not in text,
         "no token in the log")
    t.ok(SECRET_VALUE not in text, "no secret data in the log")


def fault_run(binary, seed, rate="0.3"):
    """A fixed sequence of 60 requests; [(method, path, status, fault)] as
    the log has them, what the client saw, and the final version."""
    with VaultSim(binary, "--seed", seed, "--fault-rate", rate,
                  token="t") as sim:
        seen = []
        s = requests.Session()
        for i in range(60):
            try:
                if i % 3 == 2:
                    r = s.post(sim.api("kv/data/f%d" % (i % 4)),
                               headers=sim.headers(),
                               json={"data": {"i": i}}, timeout=10)
                else:
                    r = s.get(sim.api("kv/data/f%d" % (i % 4)),
                              headers=sim.headers(), timeout=10)
                seen.append((r.status_code, r.json()))
            except requests.ConnectionError:
                seen.append(("dropped", None))
                s = requests.Session()
        h = requests.get(sim.api("sys/health"), timeout=10).status_code
        versions = {}
        for k in range(4):
            for _ in range(50):  # past the faults
                try:
                    r = s.get(sim.api("kv/metadata/f%d" % k),
                              headers=sim.headers(), timeout=10)
                except requests.ConnectionError:
                    s = requests.Session()
                    continue
                if r.status_code in (200, 404):
                    versions["f%d" % k] = (r.json().get("data") or
                                           {}).get("current_version", 0)
                    break
        log = sim.log_entries()
        rc = sim.stop()
    seq = [(e["method"], e["path"], e["status"], e.get("fault"))
           for e in log[:60]]
    return seq, seen, (h, rc, versions)


def test_faults(t, binary):
    a, seen, (health, rc, versions) = fault_run(binary, "42")
    b, _, _ = fault_run(binary, "42")
    c, _, _ = fault_run(binary, "7")
    faults = [f for (_, _, _, f) in a if f]
    t.ok(8 <= len(faults) <= 32, "--fault-rate 0.3: %d of 60 faulted" %
         len(faults), a)
    t.eq(a, b, "the same seed gives the same faults on the same requests")
    t.ok(a != c, "another seed gives other faults")
    t.eq(sorted(set(faults)), ["drop", "http500"], "both kinds happen")
    t.ok(all(s == 500 and body == {"errors": ["internal error"]}
             for (s, body), (_, _, _, f) in zip(seen, a) if f == "http500"),
         "an http500 fault answers 500 {\"errors\": [\"internal error\"]}")
    t.ok(all(s == "dropped" and st == 0
             for (s, _), (_, _, st, f) in zip(seen, a) if f == "drop"),
         "a drop fault closes the connection (logged with status 0)")
    landed = {}
    for m, path, st, f in a:
        if m == "POST" and (st == 200 or f == "drop"):
            key = path.rsplit("/", 1)[1]
            landed[key] = landed.get(key, 0) + 1
    t.ok(any(m == "POST" and f == "drop" for m, _, _, f in a),
         "the seeded run drops a write")
    t.eq(versions, {k: landed.get(k, 0) for k in versions},
         "every answered and every dropped write took effect; no 500 did")
    t.eq((health, rc), (200, 0), "sys/health is never faulted; exit 0")
    with VaultSim(binary, "--fault-rate", "1", "--faults", "drop",
                  token="t") as sim:
        try:
            requests.post(sim.api("kv/data/lost"), headers=sim.headers(),
                          json={"data": {"a": "b"}}, timeout=10)
            got = "answered"
        except requests.ConnectionError:
            got = "dropped"
        sim.stop()
    t.eq(got, "dropped", "--faults drop at rate 1: the answer is lost")
    with VaultSim(binary, "--fault-rate", "1", "--faults", "drop",
                  token="t") as sim:
        try:
            requests.post(sim.api("kv/data/lost"), headers=sim.headers(),
                          json={"data": {"a": "b"}}, timeout=10)
        except requests.ConnectionError:
            pass
        log = sim.log_entries()
        t.eq([(e["status"], e["fault"]) for e in log], [(0, "drop")],
             "the dropped write is logged as such")


def test_latency(t, binary):
    with VaultSim(binary, "--latency-ms", "300", token="t") as sim:
        start = time.monotonic()
        r = requests.get(sim.api("kv/data/x"), headers=sim.headers(),
                         timeout=10)
        took = time.monotonic() - start
    t.ok(r.status_code == 404 and took >= 0.3,
         "--latency-ms 300: a request takes %.3f s" % took)


def test_tls(t, binary):
    d = tempfile.mkdtemp(prefix="vault-sim-tls.")
    try:
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        p = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"],
            capture_output=True, text=True, timeout=60)
        t.ok(p.returncode == 0, "openssl made a certificate", p.stderr)
        with VaultSim(binary, "--tls-cert", cert, "--tls-key", key) as sim:
            t.ok(sim.url.startswith("https://127.0.0.1:"),
                 "with --tls-cert: listening on https://", sim.lines)
            r = requests.get(sim.api("sys/health"), verify=cert, timeout=10)
            t.eq(r.status_code, 200, "HTTPS verified against the cert")
            r = requests.post(sim.api("kv/data/tls"), verify=cert,
                              headers=sim.headers(),
                              json={"data": {"a": "b"}}, timeout=10)
            t.eq((r.status_code, r.json()["data"]["version"]), (200, 1),
                 "a write over HTTPS")
            try:
                requests.get(sim.url.replace("https", "http") +
                             "/v1/sys/health", timeout=10)
                plain = "answered"
            except requests.RequestException:
                plain = "refused"
            t.eq(plain, "refused", "plain HTTP gets no answer")
            t.eq(sim.stop(), 0, "HTTPS server exits 0")
        p = subprocess.run([binary, "--listen", "127.0.0.1:0", "--tls-cert",
                            key, "--tls-key", key], capture_output=True,
                           text=True, timeout=30)
        t.ok(p.returncode == 2 and "not a PEM certificate" in p.stderr,
             "a key given as the certificate is refused", p.stderr)
    finally:
        shutil.rmtree(d)


def main():
    binary = sys.argv[1]
    t = Tap()
    test_startup(t, binary)
    with VaultSim(binary, "--kv2", "kv", "--kv1", "secret", "--kv2",
                  "team/kv") as sim:
        test_auth_and_sys(t, sim)
        test_kv2_write_read(t, sim)
        test_kv2_cas_required(t, sim, binary)
        test_kv2_patch(t, sim)
        test_kv2_metadata(t, sim)
        test_kv2_delete_destroy(t, sim)
        test_kv1(t, sim)
        test_namespaces(t, sim)
        test_concurrent_cas(t, sim)
        test_log(t, sim)
        t.eq(sim.stop(), 0, "SIGTERM: exit 0")
        t.eq(sim.stderr_text(), "", "nothing on stderr")
    # a write that takes 5 ms between its check and its commit: without
    # the store's lock, every writer of a round would win
    with VaultSim(binary, "--storage-latency-ms", "5", token="t") as sim:
        test_concurrent_cas(t, sim, " (--storage-latency-ms 5)")
    test_faults(t, binary)
    test_latency(t, binary)
    test_tls(t, binary)
    t.done()


if __name__ == "__main__":
    main()
