#!/usr/bin/python3
"""The JSON Schemas `pve-gitops schema vmdef|config|workspace` prints
(generated from the decoders' tables) against what `validate` decides,
checked with Debian's python3-jsonschema (draft 2020-12):

- each schema is a valid draft 2020-12 schema, and schema/KIND.schema.json
  in the repository is byte for byte what the command prints;
- every example file validate accepts, the schema accepts, and it carries
  the yaml-language-server modeline naming its schema;
- every corpus file (all of them refused by validate: tests/corpus/run.sh
  checks that) is refused by the schema too, except the cases a schema
  cannot express, listed below by name with the reason; a listed case the
  schema refuses after all fails the test, so the list stays exact.

YAML is read as YAML 1.2 (core schema: only true/false are booleans, no
timestamps), as pve-gitops and yaml-language-server read it. A file that
does not parse as YAML counts as refused (the editor shows that error).

Usage: schema.py PVE_GITOPS SOURCE_DIR
"""

import glob
import json
import os
import re
import subprocess
import sys

import jsonschema
import yaml

BIN, SRC = sys.argv[1], os.path.abspath(sys.argv[2])
KINDS = ("vmdef", "config", "workspace")

# What only validate's handlers (or the repository around a file) know.
NOT_EXPRESSIBLE = {
    "vmdef": {
        "boot-bad.yaml": "boot devices must name slots of this VM's disks "
                         "and networks",
        "cipassword-both.yaml": "cipassword and cipassword_env exclude each "
                                "other (kept as a validate error, with its "
                                "message)",
        "disk-list-dup-slot.yaml": "a slot given twice in the list form "
                                   "(unique by one key of the items)",
        "disk-list-no-slot.yaml": "slot is required only in the list form, "
                                  "which shares the disk keys",
        "disk-missing-size.yaml": "size is required by the drive's kind "
                                  "(not cdrom, cloudinit, passthrough)",
        "disk-missing-storage.yaml": "storage is required by the drive's "
                                     "kind",
        "disk-mount-dup.yaml": "a mount point used by two disks",
        "disk-size-huge.yaml": "the size's bound (1024T) across units",
        "ip-bad-ip6.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-empty.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-gw-dhcp.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-gw-only.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-gw-outside.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-leading-zero.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-network-address.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-no-prefix.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-octet.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-prefix-range.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "ip-unknown-key.yaml": "ipconfig0's grammar and address arithmetic (Proxmox's own parser in core/pve_format.c)",
        "nameserver-bad.yaml": "a space-separated list of IP addresses",
        "nested-bad-bus.yaml": "nested_disks is documented as one mapping "
                               "(bus, slot, kind); its structure is checked "
                               "by validate",
        "nested-cloudinit-mount.yaml": "nested_disks' structure (as above)",
        "nested-passthrough-no-file.yaml": "nested_disks' structure (as "
                                           "above)",
        "nested-two-cloudinit.yaml": "at most one cloud-init drive across "
                                     "the forms",
        "nested-two-kinds.yaml": "nested_disks' structure (as above)",
        "nested-wrong-bus.yaml": "nested_disks' structure (as above)",
        "net-list-dup-id.yaml": "a device number given twice (explicit id "
                                "or list position)",
        "serial-bad.yaml": "serial takes several shapes; the port number's "
                           "range is checked by validate",
        "sshkeys-bad.yaml": "OpenSSH public key syntax, line by line",
        "tags-bad.yaml": "tags may be one string that Proxmox splits; each "
                         "tag's syntax is checked after the split",
        "tags-reserved-pg.yaml": "reserved tags, compared without case after "
                                 "the split",
        "tags-reserved.yaml": "reserved tags (as above)",
        "dup-ip.dir": "cross-file: an address used by two definitions",
        "dup-name.dir": "cross-file: a name used by two definitions",
        "dup-vmid.dir": "cross-file: a vmid used by two definitions",
    },
    "config": {
        "exclude-path.yaml": "file names only (no '/'): kept with validate's "
                             "message",
        "group-regex-bad.yaml": "a POSIX extended regular expression that "
                                "regcomp refuses",
        "group-regex-bomb.yaml": "the regular expression's size once counted "
                                 "repetitions are expanded",
        "group-regex-plus-bomb.yaml": "as group-regex-bomb",
        "path-absolute.yaml": "paths relative to the repository root",
        "path-escapes.yaml": "a path that leaves the repository (normalised "
                             "with '..')",
        "path-into-git.yaml": "a path inside .git",
        "tls-pin-plain-http.yaml": "a TLS setting beside a plain http:// "
                                   "endpoint (two keys together)",
        "vault-path-escape.yaml": "Vault secret path syntax ('..' segments)",
        "ip-pool-gateway-outside.yaml": "address arithmetic: the gateway "
                                        "inside the pool's cidr",
        "ip-pool-range-outside.yaml": "address arithmetic: the range "
                                      "inside the pool's cidr",
        "ip-pool-no-owner.yaml": "two keys together: ip_pools_owner "
                                 "wanted once ip_pools is set",
    },
    "workspace": {
        "config-context.yaml": "config's values are the workload modules' "
                               "variables, free-form",
        "config-numbers.yaml": "integers beyond Terraform's range in "
                               "free-form config",
        "context-control.yaml": "control characters in the context name",
        "context-not-k3s.yaml": "cross-file: the context must be a K3s VM "
                                "of the repository",
        "duplicate-workload.yaml": "a workload listed twice (kept with "
                                   "validate's message naming it)",
        "unknown-workload.yaml": "known workloads depend on the config's "
                                 "workload_modules",
    },
}


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2's booleans and without timestamps."""


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v
        if tag not in ("tag:yaml.org,2002:bool",
                       "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))



def no_duplicates(loader, node, deep=False):
    """YAML 1.2: the keys of a mapping are unique (validate says so too)."""
    keys = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=True)
        if isinstance(key, (str, int, float, bool)) and key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), k.start_mark)
        keys.add(key if isinstance(key, (str, int, float, bool)) else id(k))
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


Yaml12Loader.construct_mapping = no_duplicates

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def schema_text(kind):
    r = subprocess.run([BIN, "schema", kind], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0 or r.stderr:
        fail("schema %s: exit %d, stderr %r" % (kind, r.returncode,
                                                r.stderr))
    return r.stdout


def load(path):
    """The document, or an exception when it is no YAML."""
    with open(path, "rb") as f:
        data = f.read()
    return yaml.load(data, Loader=Yaml12Loader)


def verdict(validator, path):
    """None when the schema accepts the file, else the first reason."""
    try:
        doc = load(path)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError,
            ValueError, TypeError) as e:
        return "not YAML: %s" % str(e).splitlines()[0]
    errors = sorted(validator.iter_errors(doc), key=lambda e: e.path)
    if not errors:
        return None
    return "%s: %s" % ("/".join(map(str, errors[0].absolute_path)),
                       errors[0].message[:120])


def validate_accepts(kind, path):
    if kind == "vmdef":
        args = [BIN, "-q", "validate", path]
    elif kind == "config":
        args = [BIN, "-q", "-C", os.path.join(SRC, "examples/infra"),
                "--config", path, "validate"]
    else:
        name = os.path.splitext(os.path.basename(path))[0]
        args = [BIN, "-q", "-C", os.path.join(SRC, "examples/infra"),
                "workloads", "render", "--dry-run", name]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    return r.returncode == 0, r.stderr


EXAMPLES = {
    "vmdef": sorted(glob.glob(os.path.join(
        SRC, "examples/infra/proxmox/vms/*.yaml"))),
    "config": [os.path.join(SRC, "examples/infra/pve-gitops.yaml")],
    "workspace": sorted(glob.glob(os.path.join(
        SRC, "examples/infra/clusters/*.yaml"))),
}


def corpus_files(kind):
    d = os.path.join(SRC, "tests/corpus", kind)
    files = [(os.path.basename(p), [p])
             for p in sorted(glob.glob(os.path.join(d, "*.yaml")))]
    for p in sorted(glob.glob(os.path.join(d, "*.dir"))):
        files.append((os.path.basename(p), sorted(glob.glob(
            os.path.join(p, "proxmox/vms/*.yaml")))))
    return files


for kind in KINDS:
    text = schema_text(kind)
    try:
        schema = json.loads(text)
        jsonschema.Draft202012Validator.check_schema(schema)
    except (ValueError, jsonschema.SchemaError) as e:
        fail("schema %s is no draft 2020-12 schema: %s" % (kind, e))
        continue
    shipped = os.path.join(SRC, "schema", kind + ".schema.json")
    try:
        with open(shipped) as f:
            if f.read() != text:
                fail("%s differs from `pve-gitops schema %s` (regenerate: "
                     "pve-gitops schema %s > schema/%s.schema.json)"
                     % (shipped, kind, kind, kind))
    except OSError as e:
        fail("%s: %s" % (shipped, e))
    v = jsonschema.Draft202012Validator(schema)
    # an empty pve-gitops.yaml means every default; an empty definition
    # or workspace is refused
    if v.is_valid(None) != (kind == "config"):
        fail("schema %s: an empty file is %s" % (
            kind, "refused" if kind == "config" else "accepted"))

    if not EXAMPLES[kind]:
        fail("no example files of kind %s" % kind)
    for path in EXAMPLES[kind]:
        name = os.path.relpath(path, SRC)
        ok, err = validate_accepts(kind, path)
        if not ok:
            fail("%s: validate refuses an example: %s" % (name, err))
            continue
        why = verdict(v, path)
        if why:
            fail("%s: validate accepts it, the schema does not: %s"
                 % (name, why))
        with open(path) as f:
            first = f.readline().rstrip("\n")
        m = re.match(r"# yaml-language-server: \$schema=(\S+)$", first)
        if not m:
            fail("%s: first line is not the yaml-language-server modeline"
                 % name)
        elif os.path.normpath(os.path.join(os.path.dirname(path),
                                           m.group(1))) != shipped:
            fail("%s: the modeline names %s, not %s"
                 % (name, m.group(1), os.path.relpath(shipped, SRC)))

    listed = NOT_EXPRESSIBLE[kind]
    seen = set()
    refused = 0
    for name, paths in corpus_files(kind):
        seen.add(name)
        whys = [verdict(v, p) for p in paths]
        accepted = all(w is None for w in whys)
        if name in listed:
            if not accepted:
                fail("corpus %s/%s is listed as beyond a schema (%s) but "
                     "the schema refuses it: %s; drop it from the list"
                     % (kind, name, listed[name],
                        [w for w in whys if w][0]))
        elif accepted:
            fail("corpus %s/%s: validate refuses it, the schema accepts "
                 "it" % (kind, name))
        else:
            refused += 1
    for name in sorted(set(listed) - seen):
        fail("corpus %s/%s is listed but is no corpus file" % (kind, name))
    print("schema %s: %d examples accepted, %d corpus files refused, %d "
          "beyond a schema (listed)" % (kind, len(EXAMPLES[kind]), refused,
                                        len(listed)))

if failures:
    print("%d failures" % len(failures))
    sys.exit(1)
print("ok")
