#!/usr/bin/python3
"""proxmox-sim --guests qemu (issue 22), the simulator's side, with a real
qemu-system-x86_64 but no guest image: the "kernel" is a multiboot stub
made here (a header and `hlt; jmp .`), so QEMU runs a guest that never
boots an OS, never answers ACPI and has no agent. Checked:

- without --guests nothing changes (GET /sim/guests and agent/exec 501), and
  with it a template's `image:` that lacks a file stops the start-up with
  file:line;
- qmstart spawns QEMU (TCG, --guest-accel tcg) and the task log says so
  with the PID; /sim/guests reports vmid, node, the SSH forward on
  127.0.0.1, accel, pid and console; status/current gives the real pid;
- QEMU's argv: memory and cores of the config, the root overlay (backed
  by the image's root.qcow2) as the first virtio disk, scsi1 a real qcow2
  of its size, the NoCloud ISO (volume id cidata, the files of nocloud.c)
  at ide index 2, the QMP and agent sockets, user networking on
  ipconfig0's subnet with its gateway, restrict=on, hostfwd to the guest's
  address, net0's MAC;
- the agent of a guest whose qemu-ga never answers: "QEMU guest agent is
  not running";
- qmshutdown of a guest that ignores ACPI fails after its timeout, with
  forceStop=1 the process is gone; a process that dies makes the VM
  stopped; qmstop ends it; destroy removes GUEST_DIR/<vmid>; SIGTERM of
  the simulator kills its guests, and so does SIGKILL; --state keeps a
  clone's image.

Usage: sim_guests.py PROXMOX_SIM   (skipped, 77, without qemu-system-x86_64)
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

from simlib import Sim, Tap

SECRET = "9a7c3e11-5b2d-4f60-8e1a-0c2b4d6f8a10"
AUTH = {"Authorization": "PVEAPIToken=root@pam!t=" + SECRET}
MAC = "BC:24:11:12:34:56"


def multiboot_stub(path):
    """A multiboot (a.out kludge) image loaded at 1 MiB whose entry halts
    forever: QEMU's -kernel loads it without any boot loader."""
    magic, flags = 0x1BADB002, 0x00010000
    base = 0x100000
    hdr = struct.pack("<IIIIIIII", magic, flags, (-(magic + flags)) & 0xFFFFFFFF,
                      base, base, 0, 0, base + 32)
    with open(path, "wb") as f:
        f.write(hdr + b"\xf4\xeb\xfd" + b"\0" * 29)


def image_dir(work):
    d = os.path.join(work, "image")
    os.makedirs(d)
    multiboot_stub(os.path.join(d, "vmlinuz"))
    with open(os.path.join(d, "initrd.img"), "wb") as f:
        f.write(b"\0" * 512)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2",
                    os.path.join(d, "root.qcow2"), "64M"], check=True,
                   timeout=60)
    return d


TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir", capacity: 100G}
templates:
  - {vmid: 9000, name: deb12, node: node01, image: image, cloudinit: local-lvm,
     disks: {scsi0: {storage: local-lvm, size: 1G}}}
"""


class Api:
    def __init__(self, sim):
        self.sim = sim

    def call(self, method, path, data=None, timeout=60):
        r = requests.request(method, self.sim.api(path), headers=AUTH,
                             data=data, timeout=timeout)
        try:
            body = r.json()
        except ValueError:
            body = {}
        return r.status_code, r.reason, body.get("data")

    def task(self, method, path, data=None, timeout=60):
        code, reason, upid = self.call(method, path, data)
        if code != 200:
            return ("HTTP %d %s" % (code, reason), [])
        q = urllib.parse.quote(upid, safe="")
        deadline = time.time() + timeout
        while time.time() < deadline:
            _, _, st = self.call("GET", "/nodes/node01/tasks/%s/status" % q)
            if st["status"] == "stopped":
                _, _, log = self.call("GET",
                                      "/nodes/node01/tasks/%s/log" % q)
                return st["exitstatus"], [x["t"] for x in log]
            time.sleep(0.05)
        return "timeout", []


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def wait_gone(pid, secs=15):
    deadline = time.time() + secs
    while time.time() < deadline and alive(pid):
        time.sleep(0.1)
    return not alive(pid)


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def iso_file(iso, name):
    p = subprocess.run(["isoinfo", "-R", "-i", iso, "-x", "/" + name],
                       capture_output=True, timeout=60)
    return p.stdout.decode()


def without_guests(t, sim_bin, work):
    topo = os.path.join(work, "topology.yaml")
    with Sim(sim_bin, "--token", "root@pam!t=" + SECRET,
             "--topology", topo, http=True) as sim:
        api = Api(sim)
        code, _, _ = api.call("GET", "/sim/guests")
        t.eq(code, 501, "without --guests: GET /sim/guests is not there")
        code, reason, _ = api.call("POST", "/nodes/node01/qemu/9000/agent/exec",
                                   {"command": "true"})
        t.eq((code, reason), (501, "Method 'POST /nodes/{node}/qemu/{vmid}"
                                   "/agent/exec' not implemented by "
                                   "proxmox-sim"),
             "without --guests: agent/exec as before")
    bad = os.path.join(work, "bad.yaml")
    with open(bad, "w") as f:
        f.write(TOPOLOGY.replace("image: image", "image: nowhere"))
    p = subprocess.run([sim_bin, "--http", "--listen", "127.0.0.1:0",
                        "--guests", "qemu", "--topology", bad],
                       capture_output=True, text=True, timeout=60)
    t.ok(p.returncode != 0 and "bad.yaml:6: image: " in p.stderr and
         "no such directory" in p.stderr,
         "a missing image directory: file:line, no start", p.stderr)


def main():
    sim_bin = sys.argv[1]
    if not shutil.which("qemu-system-x86_64"):
        print("1..0 # SKIP qemu-system-x86_64 is not installed "
              "(scripts/install-deps.sh installs qemu-system-x86)")
        sys.exit(77)
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-guests.")
    img = image_dir(work)
    with open(os.path.join(work, "topology.yaml"), "w") as f:
        f.write(TOPOLOGY)
    without_guests(t, sim_bin, work)
    gdir = os.path.join(work, "guests")
    sim = Sim(sim_bin, "--token", "root@pam!t=" + SECRET,
              "--task-ms", "50", "--topology",
              os.path.join(work, "topology.yaml"), "--guests", "qemu",
              "--guest-accel", "tcg", "--guest-dir", gdir, http=True)
    pids = []
    try:
        api = Api(sim)
        st, _ = api.task("POST", "/nodes/node01/qemu/9000/clone",
                         {"newid": 101, "name": "web1"})
        t.eq(st, "OK", "clone of the imaged template")
        code, _, _ = api.call("POST", "/nodes/node01/qemu/101/config", {
            "ciuser": "deploy", "memory": "384", "cores": "2",
            "sshkeys": urllib.parse.quote("ssh-ed25519 AAAAC3key t@h\n",
                                          safe=""),
            "ipconfig0": "ip=10.9.8.7/24,gw=10.9.8.1",
            "nameserver": "10.9.8.1", "net0": "virtio=%s,bridge=vmbr0" % MAC,
            "scsi1": "local-lvm:2"})
        t.eq(code, 200, "cloud-init keys, a MAC and a 2G scsi1 set")
        st, log = api.task("POST", "/nodes/node01/qemu/101/status/start")
        t.ok(st == "OK" and any(
            "qemu-system-x86_64 runs with TCG (--guest-accel tcg) (pid " in x
            for x in log), "qmstart starts QEMU and says how", (st, log))
        _, _, guests = api.call("GET", "/sim/guests")
        g = guests[0] if guests else {}
        pid = g.get("pid", 0)
        pids.append(pid)
        t.ok(len(guests) == 1 and g["vmid"] == 101 and
             g["node"] == "node01" and g["accel"] == "tcg" and
             g["ssh"].startswith("127.0.0.1:") and alive(pid) and
             g["console"] == os.path.join(gdir, "101", "console.log"),
             "/sim/guests reports the running guest", guests)
        _, _, cur = api.call("GET", "/nodes/node01/qemu/101/status/current")
        t.eq((cur["status"], cur.get("pid")), ("running", pid),
             "status/current: running, with QEMU's pid")
        argv = cmdline(pid) if alive(pid) else []
        joined = " ".join(argv)
        vdir = os.path.join(gdir, "101")
        port = g.get("ssh", ":0").split(":")[1]
        want = [
            "-accel tcg", "-m 384", "-smp 2",
            "-kernel %s/vmlinuz" % img,
            "-append root=/dev/vda rw console=ttyS0",
            "-drive file=%s/root.qcow2,format=qcow2,if=virtio" % vdir,
            "file=%s/scsi1.qcow2,format=qcow2,if=none,id=d0" % vdir,
            "scsi-hd,bus=scsihw0.0,drive=d0,serial=scsi1",
            "file=%s/cloudinit.iso,format=raw,if=ide,index=2,media=cdrom"
            % vdir,
            "-qmp unix:%s/qmp.sock,server=on,wait=off" % vdir,
            "socket,path=%s/qga.sock,server=on,wait=off,id=qga0" % vdir,
            "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
            "user,id=net0,restrict=on,net=10.9.8.0/24,host=10.9.8.1,"
            "hostfwd=tcp:127.0.0.1:%s-10.9.8.7:22" % port,
            "virtio-net-pci,netdev=net0,mac=%s" % MAC,
            "-serial file:%s/console.log" % vdir,
        ]
        t.ok(all(w in joined for w in want),
             "QEMU's argv", "missing: %r\nargv: %s" %
             ([w for w in want if w not in joined], joined))
        env = open("/proc/%d/environ" % pid, "rb").read().split(b"\0") \
            if alive(pid) else []
        t.ok(not any(e.startswith(b"PVE") or b"TOKEN" in e for e in env)
             and b"HOME=" + vdir.encode() in env,
             "QEMU's environment is built for it", env)
        info = json.loads(subprocess.run(
            ["qemu-img", "info", "-U", "--output=json",
             os.path.join(vdir, "root.qcow2")], capture_output=True,
            text=True, timeout=60).stdout or "{}")
        t.eq((info.get("backing-filename"), info.get("virtual-size")),
             (os.path.join(img, "root.qcow2"), 1 << 30),
             "the root disk: an overlay of the image, grown to scsi0's 1G")
        info = json.loads(subprocess.run(
            ["qemu-img", "info", "-U", "--output=json",
             os.path.join(vdir, "scsi1.qcow2")], capture_output=True,
            text=True, timeout=60).stdout or "{}")
        t.eq(info.get("virtual-size"), 2 << 30, "scsi1: a real 2G qcow2")
        iso = os.path.join(vdir, "cloudinit.iso")
        pvd = subprocess.run(["isoinfo", "-d", "-i", iso],
                             capture_output=True, text=True, timeout=60)
        user = iso_file(iso, "user-data")
        net = iso_file(iso, "network-config")
        meta = iso_file(iso, "meta-data")
        t.ok("Volume id: cidata" in pvd.stdout and
             user.startswith("#cloud-config\nhostname: web1\n") and
             "user: deploy\n" in user and
             "ssh_authorized_keys:\n  - ssh-ed25519 AAAAC3key t@h\n" in user
             and "mac_address: '%s'" % MAC.lower() in net and
             "address: '10.9.8.7'\n        netmask: '255.255.255.0'\n"
             "        gateway: '10.9.8.1'\n" in net and
             meta.startswith("instance-id: ") and
             iso_file(iso, "vendor-data") == "",
             "the NoCloud ISO: cidata with user-data, network-config, "
             "meta-data, vendor-data", (pvd.stdout, user, net, meta))
        code, reason, _ = api.call("POST",
                                   "/nodes/node01/qemu/101/agent/ping")
        t.eq((code, reason), (500, "QEMU guest agent is not running"),
             "a guest without a running qemu-ga: agent not running")
        t0 = time.time()
        st, _ = api.task("POST", "/nodes/node01/qemu/101/status/shutdown",
                         {"timeout": "2"})
        t.ok(st == "VM quit/powerdown failed - got timeout" and
             time.time() - t0 >= 2 and alive(pid),
             "qmshutdown of a guest deaf to ACPI: fails at its timeout",
             (st, time.time() - t0))
        st, log = api.task("POST", "/nodes/node01/qemu/101/status/shutdown",
                           {"timeout": "1", "forceStop": "1"})
        t.ok(st == "OK" and wait_gone(pid) and
             "VM still running - terminating now with SIGTERM" in log,
             "forceStop=1: the guest is killed", (st, log))
        _, _, cur = api.call("GET", "/nodes/node01/qemu/101/status/current")
        t.eq(cur["status"], "stopped", "and the VM is stopped")

        st, _ = api.task("POST", "/nodes/node01/qemu/101/status/start")
        _, _, guests = api.call("GET", "/sim/guests")
        pid = guests[0]["pid"] if guests else 0
        pids.append(pid)
        os.kill(pid, signal.SIGKILL)
        wait_gone(pid)
        time.sleep(0.2)
        _, _, cur = api.call("GET", "/nodes/node01/qemu/101/status/current")
        _, _, guests = api.call("GET", "/sim/guests")
        t.eq((st, cur["status"], guests), ("OK", "stopped", []),
             "a guest whose process ends: the VM is stopped")

        st, _ = api.task("POST", "/nodes/node01/qemu/101/status/start")
        _, _, guests = api.call("GET", "/sim/guests")
        pid = guests[0]["pid"] if guests else 0
        pids.append(pid)
        st2, _ = api.task("POST", "/nodes/node01/qemu/101/status/stop")
        t.ok(st == st2 == "OK" and wait_gone(pid),
             "qmstop ends the process", (st, st2))
        st, _ = api.task("DELETE", "/nodes/node01/qemu/101")
        t.ok(st == "OK" and not os.path.exists(vdir),
             "destroy removes GUEST_DIR/<vmid>", (st, os.listdir(gdir)))

        st, _ = api.task("POST", "/nodes/node01/qemu/9000/clone",
                         {"newid": 102, "name": "db1"})
        st2, _ = api.task("POST", "/nodes/node01/qemu/102/status/start")
        _, _, guests = api.call("GET", "/sim/guests")
        pid = guests[0]["pid"] if guests else 0
        pids.append(pid)
        rc = sim.stop()
        t.ok(st == st2 == "OK" and alive(pid) is False and rc == 0,
             "SIGTERM of the simulator kills its guests", (st, st2, rc))
        sim.__exit__(None, None, None)
        sim = Sim(sim_bin, "--token", "root@pam!t=" + SECRET,
                  "--task-ms", "50", "--topology",
                  os.path.join(work, "topology.yaml"), "--guests", "qemu",
                  "--guest-accel", "tcg", "--guest-dir", gdir, http=True)
        api = Api(sim)
        st, _ = api.task("POST", "/nodes/node01/qemu/9000/clone",
                         {"newid": 103, "name": "kv1"})
        st2, _ = api.task("POST", "/nodes/node01/qemu/103/status/start")
        _, _, guests = api.call("GET", "/sim/guests")
        pid = guests[0]["pid"] if guests else 0
        pids.append(pid)
        sim.proc.kill()
        sim.proc.wait()
        t.ok(st == st2 == "OK" and pid and wait_gone(pid, 10),
             "SIGKILL of the simulator: its guests die too (PDEATHSIG)",
             (st, st2, pid))
        state = os.path.join(work, "state.json")
        args = ["--token", "root@pam!t=" + SECRET, "--task-ms", "50",
                "--topology", os.path.join(work, "topology.yaml"),
                "--guests", "qemu", "--guest-accel", "tcg", "--guest-dir",
                gdir, "--state", state]
        sim = Sim(sim_bin, *args, http=True)
        st, _ = Api(sim).task("POST", "/nodes/node01/qemu/9000/clone",
                              {"newid": 104, "name": "st1"})
        sim.__exit__(None, None, None)
        sim = Sim(sim_bin, *args, http=True)
        api = Api(sim)
        st2, _ = api.task("POST", "/nodes/node01/qemu/104/status/start")
        _, _, guests = api.call("GET", "/sim/guests")
        pids += [x["pid"] for x in guests or []]
        t.ok(st == st2 == "OK" and [x["vmid"] for x in guests] == [104],
             "--state keeps a clone's image: it boots after a restart",
             (st, st2, guests))
    finally:
        sim.stop()
        sim.__exit__(None, None, None)
        for p in pids:
            if p and alive(p):
                os.kill(p, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
