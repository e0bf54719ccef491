#!/usr/bin/python3
"""gen_schema.py - turn the Proxmox VE API schema into C tables for proxmox-sim.

A developer tool, run by hand; the product never reads the schema itself:

    /usr/bin/python3 sim/proxmox/gen_schema.py PATH/TO/pve-api-subset.json \\
        sim/proxmox/pve-api-extra.json > sim/proxmox/schema_data.c

The first input is the subset of pve-docs' api-viewer/apidata.js that the
simulator serves (see its "source" member); any further files (gen_schema.py
SUBSET.json [EXTRA.json ...]) add endpoints of the same schema in the same
shape, each with its own "source" and indexed_parameters (counts per endpoint,
"METHOD /path": {"max_count": {...}}, over the subset's max_count, since a
container's net[n] is pve-container's and a VM's is qemu-server's). An
endpoint found in two files stops the generator. The output holds, for every endpoint and
method, what schema.c needs to check a request as PVE::JSONSchema does: the
parameters with type, optional, enum, pattern, minimum/maximum, maxLength,
named format, requires, and for property strings the sub-keys with the same
attributes plus default_key, alias and keyAlias. Descriptions are left out.

Perl patterns become anchored POSIX extended regular expressions here, so the
C side only calls regcomp(); a construct this translator does not know stops
the generator rather than producing a pattern that means something else.

The output depends only on the input: tables are ordered by the input's
endpoint order and by parameter name, and shared tables are emitted once.
"""

import json
import re
import sys
import textwrap

# Parameters that the config API adds to the VM configuration keys
# (qemu-server API2/Qemu.pm update_vm_api); the remaining properties of PUT
# .../config are the configuration keys ($confdesc) that 'delete' and
# 'revert' may name.
QM_CONFIG_API_ONLY = {"node", "vmid", "skiplock", "delete", "revert",
                      "force", "digest"}
# Configuration keys that json_config_properties() hides from the API
# (qemu-server QemuServer.pm $skip_json_config_opts); still valid for delete.
QM_CONFIG_HIDDEN = ["meta", "parent", "runningcpu", "runningmachine",
                    "snaptime", "vmstate"]

# Endpoints of the subset that proxmox-sim does not serve and whose
# parameters this translator cannot express: container creation needs
# pve-container's index counts (mp[n], dev[n]) that the subset does not
# carry, realm creation a pattern with \x escapes, and vnet creation a
# case-insensitive group. Left out, so the simulator answers 501 for them.
NOT_SERVED = {
    ("POST", "/nodes/{node}/lxc"),
    ("POST", "/access/domains"),
    ("POST", "/cluster/sdn/vnets"),
}

# Named property-string formats that apidata.js does not expand.
# pve-qm-ipconfig: qemu-server's $ipconfig_fmt (QemuServer/Network.pm).
IPCONFIG_KEYS = {
    "gw": {"type": "string", "format": "ipv4", "optional": 1,
           "requires": "ip"},
    "gw6": {"type": "string", "format": "ipv6", "optional": 1,
            "requires": "ip6"},
    "ip": {"type": "string", "format": "pve-ipv4-config", "optional": 1,
           "default": "dhcp"},
    "ip6": {"type": "string", "format": "pve-ipv6-config", "optional": 1,
            "default": "dhcp"},
}
# Formats whose keys are only known from the parameter's typetext: key names,
# which are optional, the default key, and <1|0>/<integer> value types.
TYPETEXT_FORMATS = {"pve-qemu-sev-fmt", "pve-qemu-tdx-fmt", "pve-qm-boot",
                    "pve-qm-cicustom", "pve-qm-hostpci", "pve-qm-rng",
                    "pve-qm-smbios1", "pve-qm-watchdog", "pve-vm-cpu-conf"}

TYPES = {None: "SCHEMA_T_NONE", "string": "SCHEMA_T_STRING",
         "integer": "SCHEMA_T_INTEGER", "number": "SCHEMA_T_NUMBER",
         "boolean": "SCHEMA_T_BOOLEAN", "array": "SCHEMA_T_ARRAY"}


def die(msg):
    sys.stderr.write("gen_schema.py: error: %s\n" % msg)
    sys.exit(1)


def perl_number(v):
    """The text Perl prints for a schema number (minimum => '0', 128, 0.1)."""
    if isinstance(v, str):
        try:
            v = float(v) if re.search(r"[.eE]", v) else int(v)
        except ValueError:
            die("not a number: %r" % v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, float):
        return "%.15g" % v
    return str(v)


# ---- Perl regex -> POSIX ERE -------------------------------------------------

ERE_SPECIAL = set(".[]()*+?{}|^$\\")
CLASS_ESC = {"d": ("0-9", False), "w": ("A-Za-z0-9_", False),
             "s": ("[:space:]", False), "D": ("0-9", True),
             "W": ("A-Za-z0-9_", True), "S": ("[:space:]", True)}


def bracket(items, negate):
    """An ERE bracket expression from literal chars and ranges/classes."""
    lits = [i for i in items if len(i) == 1]
    rest = [i for i in items if len(i) != 1]
    out = "[" + ("^" if negate else "")
    if "]" in lits:
        out += "]"
    out += "".join(rest)
    out += "".join(c for c in lits if c not in "]-^")
    if "^" in lits:
        out += "^"
    if "-" in lits:
        out += "-"
    if out in ("[", "[^"):
        die("empty bracket expression")
    return out + "]"


def translate_bracket(p, i):
    """Translate the Perl class starting after '[' at p[i:]; returns (ere, i)."""
    negate = p.startswith("^", i)
    if negate:
        i += 1
    items = []
    first = True
    while True:
        if i >= len(p):
            die("unterminated bracket in %r" % p)
        c = p[i]
        if c == "]" and not first:
            return bracket(items, negate), i + 1
        first = False
        if c == "\\":
            e = p[i + 1]
            i += 2
            if e in CLASS_ESC:
                cls, neg = CLASS_ESC[e]
                if neg:
                    die("negated class escape inside brackets in %r" % p)
                items.append(cls)
            elif e.isalnum():
                die("unknown escape \\%s in %r" % (e, p))
            else:
                items.append(e)
            continue
        if c == "[" and p.startswith("[:", i):
            j = p.index(":]", i) + 2
            items.append(p[i:j])
            i = j
            continue
        if i + 2 < len(p) and p[i + 1] == "-" and p[i + 2] != "]":
            hi = p[i + 2]
            if hi == "\\":
                die("escaped range end in %r" % p)
            items.append(c + "-" + hi)
            i += 3
            continue
        items.append(c)
        i += 1


def translate_pattern(p):
    """Perl regex (as JSONSchema interpolates it) to an anchored POSIX ERE.

    PVE checks m/^$pattern$/: '^' and '$' are added around the pattern text
    without a group, exactly as Perl sees it. '.' becomes [^\\n] because
    Perl's dot does not match a newline; Perl's '$' also matching before a
    final newline is handled by schema.c when it matches.
    """
    out = []
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            e = p[i + 1]
            i += 2
            if e in CLASS_ESC:
                cls, neg = CLASS_ESC[e]
                out.append(("[^" if neg else "[") + cls + "]")
            elif e.isalnum():
                die("unknown escape \\%s in %r" % (e, p))
            elif e in ERE_SPECIAL:
                out.append("\\" + e)
            else:
                out.append(e)
            continue
        if c == "(":
            if p.startswith("(?", i):
                m = re.match(r"\(\?(\^:|>|:)", p[i:])
                if not m:
                    die("unsupported group %r in %r" % (p[i:i + 4], p))
                i += len(m.group(0))
            else:
                i += 1
            out.append("(")
            continue
        if c == "[":
            ere, i = translate_bracket(p, i + 1)
            out.append(ere)
            continue
        if c == "{":
            m = re.match(r"\{(\d*),?(\d*)\}", p[i:])
            if not m:
                die("unsupported brace in %r" % p)
            q = m.group(0)
            if q.startswith("{,"):
                q = "{0" + q[1:]
            out.append(q)
            i += len(m.group(0))
        elif c == ".":
            out.append("[^\n]")
            i += 1
        else:
            out.append(c)
            i += 1
        if i < len(p) and p[i] in "?+" and p[i - 1] in "*+?}":
            die("lazy or possessive quantifier in %r" % p)
    return "^" + "".join(out) + "$"


# ---- typetext -> property-string keys ---------------------------------------

def typetext_value(tt, i):
    """Skip one <...> value (nesting allowed); returns (text, i)."""
    if not tt.startswith("<", i):
        die("expected '<' at %d in %r" % (i, tt))
    depth, j = 0, i
    while j < len(tt):
        if tt[j] == "<":
            depth += 1
        elif tt[j] == ">":
            depth -= 1
            if depth == 0:
                return tt[i + 1:j], j + 1
        j += 1
    die("unterminated <...> in %r" % tt)


def typetext_keys(tt):
    """Sub-keys from a typetext like '[[type=]<x>] [,flag=<1|0>] ,req=<y>'."""
    keys = {}
    i = 0
    while i < len(tt):
        if tt[i] == " ":
            i += 1
            continue
        optional = default_key = False
        if tt.startswith("[[", i):
            m = re.match(r"\[\[([\w-]+)=\]", tt[i:])
            optional = default_key = True
        elif re.match(r"\[[\w-]+=\]", tt[i:]):
            m = re.match(r"\[([\w-]+)=\]", tt[i:])
            default_key = True
        elif tt.startswith("[", i):
            m = re.match(r"\[,?([\w-]+)=", tt[i:])
            optional = True
        else:
            m = re.match(r",?([\w-]+)=", tt[i:])
        if not m:
            die("cannot read typetext %r at %d" % (tt, i))
        i += len(m.group(0))
        value, i = typetext_value(tt, i)
        if optional:
            if not tt.startswith("]", i):
                die("expected ']' at %d in %r" % (i, tt))
            i += 1
        kind = {"1|0": "boolean", "integer": "integer"}.get(value, "string")
        key = {"type": kind}
        if optional:
            key["optional"] = 1
        if default_key:
            key["default_key"] = 1
        keys[m.group(1)] = key
    return keys


# ---- emitting ----------------------------------------------------------------

def c_str(s):
    if s is None:
        return "NULL"
    s = str(s)
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) > 0x7e:
            die("unexpected character %r" % ch)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def c_ident(text):
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


class Emitter:
    def __init__(self, max_count):
        self.base_count = max_count
        self.max_count = max_count
        self.enums = {}      # tuple -> name
        self.keysets = {}    # canonical json -> name
        self.names = set()
        self.out = []
        self.ide_keys = {}   # ide[n]'s sub-keys, for pve-qm-ide (cdrom)

    def name(self, base):
        n, k = base, 2
        while n in self.names:
            n = "%s_%d" % (base, k)
            k += 1
        self.names.add(n)
        return n

    def enum(self, values):
        t = tuple(str(v) for v in values)
        if t not in self.enums:
            n = self.name("enum_%d" % (len(self.enums) + 1))
            self.enums[t] = n
            body = "".join("\t%s,\n" % c_str(v) for v in t)
            self.out.append("static const char *const %s[] = {\n%s\tNULL,\n};"
                            % (n, body))
        return self.enums[t]

    def keyset(self, base, keys):
        canon = json.dumps(keys, sort_keys=True)
        if canon not in self.keysets:
            rows = [self.prop(k, keys[k], sub=True) for k in sorted(keys)]
            n = self.name("keys_" + c_ident(base))
            self.keysets[canon] = n
            self.out.append("static const struct schema_prop %s[] = {\n%s};"
                            % (n, "".join(rows)))
        return self.keysets[canon], len(keys)

    def prop(self, name, p, sub=False, count=0):
        f = ['.name = %s' % c_str(name)]
        if count:
            f.append(".count = %d" % count)
        f.append(".type = %s" % TYPES[p.get("type")])
        flags = []
        if p.get("optional"):
            flags.append("SCHEMA_OPTIONAL")
        if p.get("default_key"):
            flags.append("SCHEMA_DEFAULT_KEY")
        if flags:
            f.append(".flags = " + " | ".join(flags))
        fmt = p.get("format")
        keys = None
        if isinstance(fmt, dict):
            keys = fmt
            fmt = None
        elif fmt == "pve-qm-ipconfig":
            keys = IPCONFIG_KEYS
        elif fmt in TYPETEXT_FORMATS:
            keys = typetext_keys(p["typetext"])
        elif fmt == "pve-qm-ide":
            keys = {k: v for k, v in self.ide_keys.items()
                    if k != "import-from"}
        if fmt:
            f.append(".format = %s" % c_str(fmt))
        if keys is not None:
            kn, nk = self.keyset(name, keys)
            f.append(".keys = %s, .nkeys = %d" % (kn, nk))
        if "enum" in p:
            f.append(".enums = %s" % self.enum(p["enum"]))
        if "pattern" in p:
            f.append(".pattern = %s" % c_str(translate_pattern(p["pattern"])))
        for attr in ("minimum", "maximum"):
            if attr in p:
                f.append(".%s = %s" % (attr, c_str(perl_number(p[attr]))))
        if "maxLength" in p:
            f.append(".max_length = %d" % int(p["maxLength"]))
        for attr, field in (("requires", "requires"), ("alias", "alias"),
                            ("keyAlias", "key_alias")):
            if attr in p:
                f.append(".%s = %s" % (field, c_str(p[attr])))
        d = p.get("default")
        if isinstance(d, bool):
            d = int(d)
        if isinstance(d, (int, float)):
            d = perl_number(d)
        if isinstance(d, str):
            f.append(".def = %s" % c_str(d))
        return "\t{ %s },\n" % ", ".join(f)

    def params(self, props):
        rows = []
        for name in sorted(props):
            p = props[name]
            m = re.fullmatch(r"(.+)\[n\]", name)
            if m:
                base = m.group(1)
                if base not in self.max_count:
                    die("no max_count for indexed parameter %s" % name)
                rows.append(self.prop(base, p, count=self.max_count[base]))
            else:
                rows.append(self.prop(name, p))
        return rows


def endpoint_flags(ep):
    flags = []
    if ep.get("protected"):
        flags.append("SCHEMA_EP_PROTECTED")
    if ep.get("allowtoken"):
        flags.append("SCHEMA_EP_ALLOWTOKEN")
    if ep["parameters"].get("additionalProperties", 0):
        flags.append("SCHEMA_EP_ADDITIONAL")
    if (ep["path"] == "/nodes/{node}/qemu/{vmid}/config"
            and ep["method"] in ("POST", "PUT")):
        flags.append("SCHEMA_EP_QM_CONFIG")
    return " | ".join(flags) if flags else "0"


def load(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def merge_extras(data, paths):
    """The subset's endpoints, then each extra file's; per-endpoint counts
    (key "METHOD /path") and each extra file's source, in input order."""
    eps = list(data["endpoints"])
    seen = {(e["method"], e["path"]): data["_file"] for e in eps}
    counts, sources = {}, []
    for path in paths:
        extra = load(path)
        for k in ("source", "indexed_parameters", "endpoints"):
            if k not in extra:
                die("%s: no '%s' member" % (path, k))
        if extra["source"]["commit"] != data["source"]["commit"]:
            die("%s: schema commit %s, the subset's is %s"
                % (path, extra["source"]["commit"],
                   data["source"]["commit"]))
        for e in extra["endpoints"]:
            key = (e["method"], e["path"])
            if key in seen:
                die("%s %s is in both %s and %s"
                    % (e["method"], e["path"], seen[key], path))
            seen[key] = path
            eps.append(e)
        per = extra["indexed_parameters"].get("per_endpoint", {})
        for name, c in per.items():
            m, _, p = name.partition(" ")
            if seen.get((m, p)) != path:
                die("%s: counts for %s, not an endpoint of the file"
                    % (path, name))
            counts[(m, p)] = dict(data["indexed_parameters"]["max_count"],
                                  **c["max_count"])
        sources.append(extra)
    return eps, counts, sources


def main(argv):
    if len(argv) < 2:
        die("usage: gen_schema.py SUBSET.json [EXTRA.json ...] "
            "> schema_data.c")
    data = load(argv[1])
    data["_file"] = argv[1]
    src = data["source"]
    idx = data["indexed_parameters"]
    em = Emitter(idx["max_count"])
    all_eps, counts, extras = merge_extras(data, argv[2:])

    eps = [e for e in all_eps if (e["method"], e["path"]) not in NOT_SERVED]
    put_cfg = next(e for e in eps if e["method"] == "PUT"
                   and e["path"] == "/nodes/{node}/qemu/{vmid}/config")
    cfg_props = put_cfg["parameters"]["properties"]
    em.ide_keys = cfg_props["ide[n]"]["format"]

    ep_rows = []
    for e in eps:
        props = e["parameters"].get("properties", {})
        tname = em.name("params_" + c_ident(e["method"] + " " + e["path"]))
        em.max_count = counts.get((e["method"], e["path"]), em.base_count)
        rows = em.params(props)
        em.max_count = em.base_count
        if rows:
            em.out.append("static const struct schema_prop %s[] = {\n%s};"
                          % (tname, "".join(rows)))
            ref = "%s, .nparams = %d" % (tname, len(rows))
        else:
            ref = "NULL, .nparams = 0"
        ep_rows.append("\t{ .path = %s, .method = %s, .flags = %s,\n"
                       "\t  .params = %s },\n"
                       % (c_str(e["path"]), c_str(e["method"]),
                          endpoint_flags(e), ref))

    # The property-string parameters by name, for schema_parse_propstring():
    # the VM configuration's (PUT .../config) first, then any other.
    ps = {}
    for e in [put_cfg] + eps:
        for name, p in e["parameters"].get("properties", {}).items():
            if name in ps:
                continue
            fmt = p.get("format")
            if isinstance(fmt, dict) or fmt in TYPETEXT_FORMATS or fmt in (
                    "pve-qm-ipconfig", "pve-qm-ide"):
                ps[name] = p
    ps_rows = em.params(ps)

    cfg_keys = []
    for name in sorted(set(cfg_props) - QM_CONFIG_API_ONLY) + QM_CONFIG_HIDDEN:
        m = re.fullmatch(r"(.+)\[n\]", name)
        if m:
            cfg_keys.append((m.group(1), idx["max_count"][m.group(1)]))
        else:
            cfg_keys.append((name, 0))
    cfg_keys.sort()

    w = sys.stdout.write
    w("/*\n"
      " * schema_data.c - GENERATED by sim/proxmox/gen_schema.py; do not edit.\n"
      " *\n"
      " * The request parameters of the Proxmox VE API endpoints proxmox-sim\n"
      " * serves, from the official schema\n"
      " *   %s %s (%s),\n"
      " *   commit %s of %s,\n"
      " * and the counts of indexed parameters (net0..net31, ...) from\n"
      " *   %s.\n"
      " * The keys of pve-qm-ipconfig (ipconfigN) are qemu-server's; those of\n"
      " * cpu, boot, hostpciN, ... come from their typetext (gen_schema.py).\n"
      % (src["repository"], src["file"],
         src["pve_version"].split(" (")[0], src["commit"],
         src["commit_date"][:10], idx["source"]))
    for x in extras:
        w(" * More endpoints (%d) from the same schema, commit %s,\n"
          " *   with the counts of their indexed parameters from\n"
          % (len(x["endpoints"]), x["source"]["commit"][:12]))
        for line in textwrap.wrap(x["indexed_parameters"]["source"] + ".",
                                  74):
            w(" *   %s\n" % line)
    w(" * Regenerate with:\n"
      " *   /usr/bin/python3 sim/proxmox/gen_schema.py \\\n"
      " *       PATH/TO/pve-api-subset.json sim/proxmox/pve-api-extra.json \\\n"
      " *       > sim/proxmox/schema_data.c\n"
      " */\n")
    w("#include \"schema.h\"\n\n")
    # Tables are laid out for reading and diffing, one entry a line.
    w("/* clang-format off */\n")
    w("const char schema_source_commit[] = %s;\n\n" % c_str(src["commit"]))
    for block in em.out:
        w(block + "\n\n")
    w("const struct schema_endpoint schema_endpoints[] = {\n%s};\n"
      "const size_t schema_nendpoints =\n"
      "\tsizeof(schema_endpoints) / sizeof(schema_endpoints[0]);\n\n"
      % "".join(ep_rows))
    w("const struct schema_prop schema_propstrings[] = {\n%s};\n"
      "const size_t schema_npropstrings =\n"
      "\tsizeof(schema_propstrings) / sizeof(schema_propstrings[0]);\n\n"
      % "".join(ps_rows))
    w("const struct schema_name schema_qm_config_keys[] = {\n%s};\n"
      "const size_t schema_nqm_config_keys =\n"
      "\tsizeof(schema_qm_config_keys) / sizeof(schema_qm_config_keys[0]);\n"
      % "".join("\t{ %s, %d },\n" % (c_str(n), c) for n, c in cfg_keys))
    w("/* clang-format on */\n")


if __name__ == "__main__":
    main(sys.argv)
