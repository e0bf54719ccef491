#!/usr/bin/python3
"""vault-sim against an independent client: Debian's python3-hvac, used
unmodified, drives the KV v2 and v1 engines, sys/health and token auth,
and 20 threads race read-modify-write with check-and-set on one secret.

Usage: vault_sim_hvac.py VAULT_SIM
"""

import sys
import threading
import time

import hvac
import hvac.exceptions

from simlib import Tap
from vault_simlib import VaultSim

CAS_MISMATCH = "check-and-set parameter did not match the current version"


def raises(exc, fn, *args, **kwargs):
    """The exception of type exc that fn raised, or None."""
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    except Exception as e:  # the wrong kind: report it
        return RuntimeError("raised %r instead" % e)
    return None


def kv2_basics(t, client):
    kv = client.secrets.kv.v2
    r = kv.create_or_update_secret(path="app/db", mount_point="kv",
                                   secret={"user": "admin", "pw": "one"})
    t.eq(r["data"]["version"], 1, "create_or_update_secret: version 1")
    r = kv.create_or_update_secret(path="app/db", mount_point="kv", cas=1,
                                   secret={"user": "admin", "pw": "two"})
    t.eq(r["data"]["version"], 2, "create_or_update_secret with cas=1: "
         "version 2")
    r = kv.read_secret_version(path="app/db", mount_point="kv")
    t.eq((r["data"]["data"], r["data"]["metadata"]["version"]),
         ({"user": "admin", "pw": "two"}, 2), "read_secret_version: latest")
    r = kv.read_secret_version(path="app/db", mount_point="kv", version=1)
    t.eq(r["data"]["data"]["pw"], "one", "read_secret_version(version=1)")

    e = raises(hvac.exceptions.InvalidRequest, kv.create_or_update_secret,
               path="app/db", mount_point="kv", cas=1, secret={"pw": "x"})
    t.ok(isinstance(e, hvac.exceptions.InvalidRequest),
         "a stale cas raises hvac's InvalidRequest", e)
    t.eq(getattr(e, "errors", None), [CAS_MISMATCH],
         "with Vault's check-and-set message")
    e = raises(hvac.exceptions.InvalidRequest, kv.create_or_update_secret,
               path="app/db", mount_point="kv", cas=0, secret={"pw": "x"})
    t.eq(getattr(e, "errors", None), [CAS_MISMATCH],
         "cas=0 on an existing secret is refused")

    r = kv.patch(path="app/db", mount_point="kv", secret={"host": "db1"})
    t.eq(r["data"]["version"], 3, "patch writes version 3")
    r = kv.read_secret_version(path="app/db", mount_point="kv")
    t.eq(r["data"]["data"], {"user": "admin", "pw": "two", "host": "db1"},
         "patch merged the new key into the old data")

    m = kv.read_secret_metadata(path="app/db", mount_point="kv")["data"]
    t.eq((m["current_version"], m["oldest_version"], m["max_versions"],
          m["cas_required"], m["delete_version_after"],
          m["custom_metadata"], sorted(m["versions"])),
         (3, 0, 0, False, "0s", None, ["1", "2", "3"]),
         "read_secret_metadata")

    kv.create_or_update_secret(path="app/cache", mount_point="kv",
                               secret={"k": "v"})
    kv.create_or_update_secret(path="other", mount_point="kv",
                               secret={"k": "v"})
    r = kv.list_secrets(path="app", mount_point="kv")
    t.eq(r["data"]["keys"], ["cache", "db"], "list_secrets(app)")
    r = kv.list_secrets(path="", mount_point="kv")
    t.eq(r["data"]["keys"], ["app/", "other"],
         "list_secrets at the root: folders end in /")
    e = raises(hvac.exceptions.InvalidPath, kv.list_secrets, path="nothing",
               mount_point="kv")
    t.ok(isinstance(e, hvac.exceptions.InvalidPath),
         "list_secrets of an empty folder raises InvalidPath", e)


def kv2_lifecycle(t, client):
    kv = client.secrets.kv.v2
    kv.delete_latest_version_of_secret(path="app/db", mount_point="kv")
    e = raises(hvac.exceptions.InvalidPath, kv.read_secret_version,
               path="app/db", mount_point="kv")
    t.ok(isinstance(e, hvac.exceptions.InvalidPath),
         "delete_latest_version_of_secret: the read is a 404", e)
    m = kv.read_secret_metadata(path="app/db", mount_point="kv")["data"]
    t.ok(m["versions"]["3"]["deletion_time"] != "" and
         m["versions"]["2"]["deletion_time"] == "",
         "only version 3 has a deletion_time", m["versions"])
    kv.undelete_secret_versions(path="app/db", mount_point="kv",
                                versions=[3])
    r = kv.read_secret_version(path="app/db", mount_point="kv")
    t.eq(r["data"]["data"]["host"], "db1", "undelete brings version 3 back")

    kv.destroy_secret_versions(path="app/db", mount_point="kv", versions=[1])
    e = raises(hvac.exceptions.InvalidPath, kv.read_secret_version,
               path="app/db", mount_point="kv", version=1)
    t.ok(isinstance(e, hvac.exceptions.InvalidPath),
         "destroy: version 1 reads as a 404", e)
    m = kv.read_secret_metadata(path="app/db", mount_point="kv")["data"]
    t.eq(m["versions"]["1"]["destroyed"], True,
         "destroy: metadata says destroyed")

    kv.delete_metadata_and_all_versions(path="app/db", mount_point="kv")
    e = raises(hvac.exceptions.InvalidPath, kv.read_secret_metadata,
               path="app/db", mount_point="kv")
    t.ok(isinstance(e, hvac.exceptions.InvalidPath),
         "delete_metadata_and_all_versions: the metadata is gone", e)
    r = kv.create_or_update_secret(path="app/db", mount_point="kv", cas=0,
                                   secret={"fresh": "yes"})
    t.eq(r["data"]["version"], 1, "after that, cas=0 creates version 1 anew")

    e = raises(hvac.exceptions.InvalidPath, kv.read_secret_version,
               path="no/such/secret", mount_point="kv")
    t.ok(isinstance(e, hvac.exceptions.InvalidPath),
         "a missing secret raises InvalidPath", e)
    t.eq(getattr(e, "errors", None), [], "with an empty errors list")


def kv1(t, client):
    kv = client.secrets.kv.v1
    r = kv.create_or_update_secret(path="legacy/a", mount_point="secret",
                                   secret={"user": "u", "ttl": "1h"})
    t.eq(r.status_code, 204, "kv v1 create_or_update_secret: 204")
    kv.create_or_update_secret(path="legacy/b/c", mount_point="secret",
                               secret={"x": "y"})
    r = kv.read_secret(path="legacy/a", mount_point="secret")
    t.eq((r["data"], r["lease_duration"]), ({"user": "u", "ttl": "1h"}, 3600),
         "kv v1 read_secret: keys directly under data, ttl as lease")
    r = kv.list_secrets(path="legacy", mount_point="secret")
    t.eq(r["data"]["keys"], ["a", "b/"], "kv v1 list_secrets")
    r = kv.delete_secret(path="legacy/a", mount_point="secret")
    t.eq(r.status_code, 204, "kv v1 delete_secret: 204")
    e = raises(hvac.exceptions.InvalidPath, kv.read_secret, path="legacy/a",
               mount_point="secret")
    t.ok(isinstance(e, hvac.exceptions.InvalidPath),
         "kv v1: the deleted secret is a 404", e)


def race(t, sim, url, token):
    """20 threads, each adding its own key with read + write(cas) until the
    write lands. Returns the run's request rate."""
    setup = hvac.Client(url=url, token=token)
    setup.secrets.kv.v2.create_or_update_secret(
        path="race/shared", mount_point="kv", secret={}, cas=0)
    barrier = threading.Barrier(20)
    wins, conflicts, errors = [], [], []
    lock = threading.Lock()

    def worker(i):
        client = hvac.Client(url=url, token=token)
        kv = client.secrets.kv.v2
        barrier.wait()
        for _ in range(200):
            try:
                r = kv.read_secret_version(path="race/shared",
                                           mount_point="kv")
                data = r["data"]["data"]
                data["t%02d" % i] = i
                w = kv.create_or_update_secret(
                    path="race/shared", mount_point="kv", secret=data,
                    cas=r["data"]["metadata"]["version"])
                with lock:
                    wins.append(w["data"]["version"])
                return
            except hvac.exceptions.InvalidRequest as e:
                with lock:
                    conflicts.append(e.errors)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(repr(e))
                return

    before = len(sim.log_entries())
    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - start
    t.eq(errors, [], "race: no worker failed otherwise")
    t.eq(sorted(wins), list(range(2, 22)),
         "race: 20 writes landed, exactly one per version 2..21")
    t.ok(conflicts and all(c == [CAS_MISMATCH] for c in conflicts),
         "race: the losers saw Vault's check-and-set error (%d times)" %
         len(conflicts))
    r = setup.secrets.kv.v2.read_secret_version(path="race/shared",
                                                mount_point="kv")
    t.eq((sorted(r["data"]["data"]), r["data"]["metadata"]["version"]),
         (["t%02d" % i for i in range(20)], 21),
         "race: the final secret has all 20 keys, version 21")
    log = sim.log_entries()[before:]
    writes = [e for e in log if e["method"] == "POST" and
              e["path"] == "/v1/kv/data/race/shared"]
    logged = [e for e in writes if e.get("cas_conflict")]
    t.eq(len(logged), len(conflicts),
         "race: the request log shows every conflict (cas_conflict)")
    t.ok(all(e["status"] == 400 for e in logged) and
         all(isinstance(e["cas"], int) for e in writes),
         "race: logged conflicts are 400s, each with the cas sent")
    rate = len(log) / elapsed if elapsed else 0
    print("# race: %d requests in %.3f s (%.0f/s), %d conflicts" %
          (len(log), elapsed, rate, len(conflicts)))
    return rate


def main():
    binary = sys.argv[1]
    t = Tap()
    with VaultSim(binary, "--kv2", "kv", "--kv1", "secret") as sim:
        client = hvac.Client(url=sim.url, token=sim.token)
        t.ok(client.is_authenticated(), "is_authenticated() with the root "
             "token")
        bad = hvac.Client(url=sim.url, token="hvs.not-the-token")
        t.ok(not bad.is_authenticated(), "is_authenticated() is False with "
             "another token")
        e = raises(hvac.exceptions.Forbidden,
                   bad.secrets.kv.v2.read_secret_version, path="app/db",
                   mount_point="kv")
        t.ok(isinstance(e, hvac.exceptions.Forbidden),
             "a bad token raises Forbidden", e)
        t.ok("permission denied" in (getattr(e, "errors", None) or []),
             "with 'permission denied'", e)

        kv2_basics(t, client)
        kv2_lifecycle(t, client)
        kv1(t, client)

        h = client.sys.read_health_status(method="GET")
        t.eq((h["initialized"], h["sealed"], h["standby"]),
             (True, False, False), "sys.read_health_status(method='GET')")

        race(t, sim, sim.url, sim.token)
        text = sim.log_text()
        t.ok(sim.token not in text, "the request log never holds the token")
        t.ok("admin" not in text and "db1" not in text,
             "nor secret data")
        rc = sim.stop()
        t.eq(rc, 0, "SIGTERM: vault-sim exits 0")
        t.eq(sim.stderr_text(), "", "nothing on stderr")
    # a slowed server makes the race overlap for certain, and a slow
    # commit would let two writers of one version both win without the
    # store's lock
    with VaultSim(binary, "--latency-ms", "20", "--storage-latency-ms",
                  "5") as sim:
        race(t, sim, sim.url, sim.token)
        t.eq(sim.stop(), 0, "with --latency-ms 20: exits 0")
        t.eq(sim.stderr_text(), "", "nothing on stderr")
    t.done()


if __name__ == "__main__":
    main()
