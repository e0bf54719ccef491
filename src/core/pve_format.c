/*
 * pve_format.c - Proxmox VE value formats; see pve_format.h.
 */
#include "core/pve_format.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "util/parse.h"

/* qemu-server CPUConfig.pm, the built-in models (x86 and aarch64). */
const char *const pve_cpu_types[] = { "486",
				      "athlon",
				      "core2duo",
				      "coreduo",
				      "kvm32",
				      "kvm64",
				      "pentium",
				      "pentium2",
				      "pentium3",
				      "phenom",
				      "qemu32",
				      "qemu64",
				      "Conroe",
				      "Penryn",
				      "Nehalem",
				      "Nehalem-IBRS",
				      "Westmere",
				      "Westmere-IBRS",
				      "SandyBridge",
				      "SandyBridge-IBRS",
				      "IvyBridge",
				      "IvyBridge-IBRS",
				      "Haswell",
				      "Haswell-IBRS",
				      "Haswell-noTSX",
				      "Haswell-noTSX-IBRS",
				      "Broadwell",
				      "Broadwell-IBRS",
				      "Broadwell-noTSX",
				      "Broadwell-noTSX-IBRS",
				      "Skylake-Client",
				      "Skylake-Client-IBRS",
				      "Skylake-Client-noTSX-IBRS",
				      "Skylake-Client-v4",
				      "Skylake-Server",
				      "Skylake-Server-IBRS",
				      "Skylake-Server-noTSX-IBRS",
				      "Skylake-Server-v4",
				      "Skylake-Server-v5",
				      "Cascadelake-Server",
				      "Cascadelake-Server-v2",
				      "Cascadelake-Server-noTSX",
				      "Cascadelake-Server-v4",
				      "Cascadelake-Server-v5",
				      "Cooperlake",
				      "Cooperlake-v2",
				      "KnightsMill",
				      "Icelake-Client",
				      "Icelake-Client-noTSX",
				      "Icelake-Server",
				      "Icelake-Server-noTSX",
				      "Icelake-Server-v3",
				      "Icelake-Server-v4",
				      "Icelake-Server-v5",
				      "Icelake-Server-v6",
				      "SapphireRapids",
				      "SapphireRapids-v2",
				      "GraniteRapids",
				      "Opteron_G1",
				      "Opteron_G2",
				      "Opteron_G3",
				      "Opteron_G4",
				      "Opteron_G5",
				      "EPYC",
				      "EPYC-IBPB",
				      "EPYC-v3",
				      "EPYC-v4",
				      "EPYC-Rome",
				      "EPYC-Rome-v2",
				      "EPYC-Rome-v3",
				      "EPYC-Rome-v4",
				      "EPYC-Milan",
				      "EPYC-Milan-v2",
				      "EPYC-Genoa",
				      "Dhyana",
				      "Dhyana-v2",
				      "x86-64-v2",
				      "x86-64-v2-AES",
				      "x86-64-v3",
				      "x86-64-v4",
				      "host",
				      "max",
				      "cortex-a57",
				      "cortex-a72",
				      "cortex-a76",
				      "neoverse-n1",
				      NULL };

/* net[n] model enum from the API schema. */
const char *const pve_net_models[] = {
	"e1000",  "e1000-82540em", "e1000-82544gc", "e1000-82545em", "e1000e",
	"i82551", "i82557b",	   "i82559er",	    "ne2k_isa",	     "ne2k_pci",
	"pcnet",  "rtl8139",	   "virtio",	    "vmxnet3",	     NULL
};

const char *const pve_scsihw_models[] = { "lsi",
					  "lsi53c810",
					  "virtio-scsi-pci",
					  "virtio-scsi-single",
					  "megasas",
					  "pvscsi",
					  NULL };

const char *const pve_disk_formats[] = { "raw",	 "qcow",  "qed", "qcow2",
					 "vmdk", "cloop", NULL };

const char *const pve_disk_caches[] = { "none",	  "writethrough", "writeback",
					"unsafe", "directsync",	  NULL };

int pve_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

int pve_check_cpu_type(const char *s, struct strbuf *why)
{
	if (pve_in_list(s, pve_cpu_types))
		return 0;
	if (!strncmp(s, "custom-", 7) && s[7]) {
		const char *p;

		for (p = s + 7; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
				break;
		if (!*p)
			return 0;
	}
	strbuf_addstr(why, "not a Proxmox CPU type (a built-in model such as "
			   "host, kvm64 or x86-64-v2-AES, or custom-NAME)");
	return -1;
}

int pve_parse_size(uint64_t *bytes, const char *s, struct strbuf *why)
{
	static const char units[] = "KMGT";
	uint64_t whole = 0, frac = 0, scale = 1, mult;
	size_t i = 0, n = strlen(s), intlen, fraclen = 0;
	const char *u;

	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	intlen = i;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && isdigit((unsigned char)s[i]))
			i++, fraclen++;
		if (!fraclen)
			goto bad;
	}
	if (!intlen || n - i != 1 || !(u = strchr(units, s[i])) || !*u) {
		if (intlen && i == n && !fraclen) {
			strbuf_addf(why,
				    "size '%s' has no unit; write %sG "
				    "(K, M, G or T)",
				    s, s);
			return -1;
		}
		if (intlen && n - i == 1 && strchr("kmgt", s[i]) && s[i]) {
			strbuf_addf(
				why, "unit '%c' must be upper case (%.*s%c)",
				s[i], (int)i, s, toupper((unsigned char)s[i]));
			return -1;
		}
		goto bad;
	}
	if (intlen > 15 || fraclen > 6)
		goto range;
	if (parse_u64(&whole, s, intlen, 0, UINT64_MAX) < 0)
		goto bad;
	if (fraclen &&
	    parse_u64(&frac, s + intlen + 1, fraclen, 0, UINT64_MAX) < 0)
		goto bad;
	for (i = 0; i < fraclen; i++)
		scale *= 10;
	mult = (uint64_t)1 << (10 * (1 + (u - units)));
	if (whole > (UINT64_MAX >> 1) / mult)
		goto range;
	*bytes = whole * mult + frac * mult / scale;
	if (*bytes == 0) {
		strbuf_addf(why, "size '%s' is zero", s);
		return -1;
	}
	if (*bytes > (uint64_t)1 << 50)
		goto range;
	return 0;
range:
	strbuf_addf(why, "size '%s' is larger than 1024T", s);
	return -1;
bad:
	strbuf_addf(why,
		    "'%s' is not a disk size; expected a number and a "
		    "unit, such as 50G, 512M or 1T",
		    s);
	return -1;
}

void pve_format_size(struct strbuf *out, uint64_t bytes)
{
	static const char units[] = "KMGT";
	int i;

	for (i = 3; i >= 0; i--) {
		uint64_t m = (uint64_t)1 << (10 * (i + 1));

		if (bytes >= m && bytes % m == 0) {
			strbuf_addf(out, "%llu%c",
				    (unsigned long long)(bytes / m), units[i]);
			return;
		}
	}
	strbuf_addf(out, "%llu", (unsigned long long)bytes);
}

int pve_check_storage_id(const char *s, struct strbuf *why)
{
	size_t n = strlen(s), i;

	/* pve-storage-id: ^[a-z][a-z0-9\-\_\.]*[a-z0-9]$, case-insensitive */
	if (n < 2 || !isalpha((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		goto bad;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			goto bad;
	return 0;
bad:
	strbuf_addstr(why, "not a Proxmox storage id (a letter, then letters, "
			   "digits, '-', '_' or '.', ending in a letter or "
			   "digit)");
	return -1;
}

int pve_check_bridge(const char *s, struct strbuf *why)
{
	size_t n = strlen(s), i;

	/* pve-bridge-id: ^[-_.\w\d]+$; Linux names are at most 15 bytes */
	if (!n || n > 15)
		goto bad;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			goto bad;
	return 0;
bad:
	strbuf_addstr(why, "not a bridge name (1-15 letters, digits, '-', "
			   "'_' or '.', such as vmbr0)");
	return -1;
}

static int is_label(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int pve_check_dns_label(const char *s, struct strbuf *why)
{
	if (is_label(s, strlen(s)))
		return 0;
	strbuf_addstr(why, "not a DNS label (1-63 letters, digits or '-', not "
			   "starting or ending with '-')");
	return -1;
}

int pve_check_dns_name(const char *s, struct strbuf *why)
{
	const char *p = s, *dot;

	if (strlen(s) > 253)
		goto bad;
	for (;;) {
		dot = strchr(p, '.');
		if (!is_label(p, dot ? (size_t)(dot - p) : strlen(p)))
			goto bad;
		if (!dot)
			return 0;
		p = dot + 1;
	}
bad:
	strbuf_addstr(why, "not a DNS name (labels of 1-63 letters, digits or "
			   "'-', not starting or ending with '-', joined by "
			   "'.'; 253 bytes at most)");
	return -1;
}

int pve_check_node_name(const char *s, struct strbuf *why)
{
	if (is_label(s, strlen(s)))
		return 0;
	strbuf_addstr(why, "not a Proxmox node name (letters, digits or '-', "
			   "not starting or ending with '-')");
	return -1;
}

int pve_check_tag(const char *s, size_t len, struct strbuf *why)
{
	size_t i;

	if (!len || (!isalnum((unsigned char)s[0]) && s[0] != '_'))
		goto bad;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-+.", s[i]))
			goto bad;
	return 0;
bad:
	strbuf_addf(why,
		    "'%.*s' is not a Proxmox tag (letters, digits, '_', "
		    "then also '-', '+' or '.')",
		    (int)(len > 64 ? 64 : len), s);
	return -1;
}

int pve_parse_ipv4(uint32_t *out, const char *s, size_t len)
{
	uint32_t ip = 0;
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		uint64_t v;

		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == start || i - start > 3 ||
		    (i - start > 1 && s[start] == '0') ||
		    parse_u64(&v, s + start, i - start, 0, 255) < 0)
			return -1;
		ip = (ip << 8) | (uint32_t)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
	}
	if (i != len)
		return -1;
	*out = ip;
	return 0;
}

void pve_format_ipv4(struct strbuf *out, uint32_t ip)
{
	strbuf_addf(out, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		    (ip >> 8) & 255, ip & 255);
}

static int parse_ipv6(const char *s, size_t len)
{
	char tmp[64];
	unsigned char addr[16];

	if (!len || len >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1 ? 0 : -1;
}

/* "A.B.C.D/N" with 8 <= N <= 32 (pve_verify_cidrv4). */
static int parse_cidr4(struct pve_ipconfig *c, const char *v, size_t len)
{
	const char *slash = memchr(v, '/', len);
	uint64_t prefix;

	if (!slash || pve_parse_ipv4(&c->ip4, v, (size_t)(slash - v)) < 0 ||
	    parse_u64(&prefix, slash + 1, len - (size_t)(slash + 1 - v), 8,
		      32) < 0)
		return -1;
	c->prefix4 = (unsigned)prefix;
	return 0;
}

static int parse_cidr6(const char *v, size_t len)
{
	const char *slash = memchr(v, '/', len);
	uint64_t prefix;

	return (!slash || parse_ipv6(v, (size_t)(slash - v)) < 0 ||
		parse_u64(&prefix, slash + 1, len - (size_t)(slash + 1 - v), 8,
			  128) < 0)
		       ? -1
		       : 0;
}

static int ipconfig_key(struct pve_ipconfig *c, const char *k, size_t klen,
			const char *v, size_t vlen, struct strbuf *why)
{
	if (klen == 2 && !memcmp(k, "ip", 2)) {
		c->has_ip4 = true;
		if (vlen == 4 && !memcmp(v, "dhcp", 4))
			c->dhcp4 = true;
		else if (parse_cidr4(c, v, vlen) < 0)
			goto bad_ip4;
	} else if (klen == 2 && !memcmp(k, "gw", 2)) {
		c->has_gw4 = true;
		if (pve_parse_ipv4(&c->gw4, v, vlen) < 0) {
			strbuf_addf(why, "gw '%.*s' is not an IPv4 address",
				    (int)vlen, v);
			return -1;
		}
	} else if (klen == 3 && !memcmp(k, "ip6", 3)) {
		c->has_ip6 = true;
		if (vlen == 4 && !memcmp(v, "dhcp", 4))
			c->dhcp6 = true;
		else if (vlen == 4 && !memcmp(v, "auto", 4))
			c->auto6 = true;
		else if (parse_cidr6(v, vlen) < 0) {
			strbuf_addf(why,
				    "ip6 '%.*s' is not dhcp, auto or an "
				    "IPv6 address with a prefix length "
				    "between 8 and 128",
				    (int)vlen, v);
			return -1;
		}
	} else if (klen == 3 && !memcmp(k, "gw6", 3)) {
		c->has_gw6 = true;
		if (parse_ipv6(v, vlen) < 0) {
			strbuf_addf(why, "gw6 '%.*s' is not an IPv6 address",
				    (int)vlen, v);
			return -1;
		}
	} else {
		strbuf_addf(why,
			    "unknown key '%.*s' (allowed: ip, gw, ip6, gw6)",
			    (int)klen, k);
		return -1;
	}
	return 0;
bad_ip4:
	strbuf_addf(why,
		    "ip '%.*s' is not dhcp or an IPv4 address with a "
		    "prefix length between 8 and 32 (such as "
		    "192.168.1.20/24)",
		    (int)vlen, v);
	return -1;
}

static int ipconfig_relations(const struct pve_ipconfig *c, struct strbuf *why)
{
	if (c->has_gw4 && !c->has_ip4) {
		strbuf_addstr(why, "gw given without ip");
		return -1;
	}
	if (c->has_gw4 && c->dhcp4) {
		strbuf_addstr(why, "gw given together with ip=dhcp");
		return -1;
	}
	if (c->has_gw6 && (!c->has_ip6 || c->dhcp6 || c->auto6)) {
		strbuf_addstr(why, "gw6 needs a static ip6");
		return -1;
	}
	if (c->has_ip4 && !c->dhcp4) {
		uint32_t mask =
			c->prefix4 ? ~(uint32_t)0 << (32 - c->prefix4) : 0;
		uint32_t net = c->ip4 & mask;

		if (c->prefix4 <= 30 &&
		    (c->ip4 == net || c->ip4 == (net | ~mask))) {
			strbuf_addstr(why,
				      c->ip4 == net
					      ? "ip is the network address "
						"of its subnet"
					      : "ip is the broadcast address "
						"of its subnet");
			return -1;
		}
		if (c->has_gw4 && c->gw4 == c->ip4) {
			strbuf_addstr(why, "gw is the VM's own address");
			return -1;
		}
		if (c->has_gw4 && (c->gw4 & mask) != net) {
			struct strbuf gw = STRBUF_INIT, n = STRBUF_INIT;

			pve_format_ipv4(&gw, c->gw4);
			pve_format_ipv4(&n, net);
			strbuf_addf(why, "gw %s is outside the subnet %s/%u",
				    gw.buf, n.buf, c->prefix4);
			strbuf_release(&gw);
			strbuf_release(&n);
			return -1;
		}
	}
	return 0;
}

int pve_parse_ipconfig(struct pve_ipconfig *out, const char *s,
		       struct strbuf *why)
{
	struct pve_ipconfig c;
	const char *p = s;
	unsigned seen = 0;

	memset(&c, 0, sizeof(c));
	if (!*s) {
		strbuf_addstr(why, "empty; expected ip=ADDRESS/PREFIX[,gw=...]"
				   " or ip=dhcp");
		return -1;
	}
	while (*p) {
		const char *end = strchr(p, ','), *eq;
		size_t n = end ? (size_t)(end - p) : strlen(p), klen;
		unsigned bit;

		eq = memchr(p, '=', n);
		if (!eq) {
			strbuf_addf(why, "'%.*s' is not key=value", (int)n, p);
			return -1;
		}
		klen = (size_t)(eq - p);
		bit = klen == 2 ? (p[0] == 'i' ? 1 : 2) : (p[0] == 'i' ? 4 : 8);
		if (ipconfig_key(&c, p, klen, eq + 1, n - klen - 1, why) < 0)
			return -1;
		if (seen & bit) {
			strbuf_addf(why, "key '%.*s' given twice", (int)klen,
				    p);
			return -1;
		}
		seen |= bit;
		p += n;
		if (*p == ',' && !*++p) {
			strbuf_addstr(why, "trailing ','");
			return -1;
		}
	}
	if (ipconfig_relations(&c, why) < 0)
		return -1;
	*out = c;
	return 0;
}

int pve_check_address_list(const char *s, struct strbuf *why)
{
	const char *p = s;
	int count = 0;

	while (*p) {
		size_t n = strcspn(p, " ,;");
		uint32_t ip4;

		if (n) {
			if (pve_parse_ipv4(&ip4, p, n) < 0 &&
			    parse_ipv6(p, n) < 0) {
				strbuf_addf(why, "'%.*s' is not an IP address",
					    (int)(n > 64 ? 64 : n), p);
				return -1;
			}
			count++;
		}
		p += n;
		p += strspn(p, " ,;");
	}
	if (!count) {
		strbuf_addstr(why, "no address given");
		return -1;
	}
	return 0;
}

int pve_check_mac(const char *s, struct strbuf *why)
{
	size_t i;

	if (strlen(s) != 17)
		goto bad;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			goto bad;
	}
	/* pve-common's mac-addr refuses multicast addresses */
	if ((isdigit((unsigned char)s[1])
		     ? s[1] - '0'
		     : (tolower((unsigned char)s[1]) - 'a' + 10)) &
	    1) {
		strbuf_addstr(why,
			      "a multicast MAC address cannot be used for a "
			      "network device");
		return -1;
	}
	return 0;
bad:
	strbuf_addstr(why,
		      "not a MAC address (six hex pairs separated by ':')");
	return -1;
}

int pve_check_serial(const char *s, struct strbuf *why)
{
	if (!strcmp(s, "socket") || (!strncmp(s, "/dev/", 5) && s[5]))
		return 0;
	strbuf_addstr(why, "expected 'socket' or a host device such as "
			   "/dev/ttyS0");
	return -1;
}

int pve_parse_disk_slot(const char *s, struct strbuf *why)
{
	static const struct {
		const char *bus;
		unsigned max;
	} buses[] = {
		{ "scsi", 30 }, { "virtio", 15 }, { "sata", 5 }, { "ide", 3 }
	};
	size_t i;

	for (i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		size_t n = strlen(buses[i].bus);
		uint64_t idx;

		if (strncmp(s, buses[i].bus, n))
			continue;
		if (parse_u64z(&idx, s + n, 0, buses[i].max) < 0 ||
		    (s[n] == '0' && s[n + 1])) {
			strbuf_addf(why,
				    "'%s' is not a disk slot; %s takes 0 "
				    "to %u",
				    s, buses[i].bus, buses[i].max);
			return -1;
		}
		return 0;
	}
	strbuf_addf(why,
		    "'%s' is not a disk slot (scsi0-30, virtio0-15, "
		    "sata0-5 or ide0-3)",
		    s);
	return -1;
}

static int boot_device_ok(const char *d, size_t n)
{
	char tmp[16];
	struct strbuf ignore = STRBUF_INIT;
	uint64_t idx;
	int ok;

	if (!n || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, d, n);
	tmp[n] = '\0';
	if (!strncmp(tmp, "net", 3))
		return parse_u64z(&idx, tmp + 3, 0, PVE_MAX_NETS - 1) == 0;
	if (!strncmp(tmp, "hostpci", 7))
		return parse_u64z(&idx, tmp + 7, 0, 15) == 0;
	if (!strncmp(tmp, "usb", 3))
		return parse_u64z(&idx, tmp + 3, 0, 13) == 0;
	ok = pve_parse_disk_slot(tmp, &ignore) == 0;
	strbuf_release(&ignore);
	return ok;
}

int pve_check_boot(const char *s, struct strbuf *why)
{
	const char *p;
	size_t n;

	if (!strncmp(s, "legacy=", 7))
		s += 7;
	n = strlen(s);
	if (n >= 1 && n <= 4 && strspn(s, "acdn") == n)
		return 0;
	if (strncmp(s, "order=", 6))
		goto bad;
	for (p = s + 6;;) {
		size_t len = strcspn(p, ";");

		if (!boot_device_ok(p, len)) {
			strbuf_addf(why,
				    "'%.*s' is not a boot device (a disk "
				    "slot such as scsi0, or net0)",
				    (int)(len > 32 ? 32 : len), p);
			return -1;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
bad:
	strbuf_addstr(why, "expected order=DEVICE[;DEVICE...] such as "
			   "order=scsi0;net0, or legacy letters from acdn");
	return -1;
}

static int ssh_key_line_ok(const char *line, size_t n)
{
	static const char *const types[] = {
		"ssh-ed25519",
		"ssh-rsa",
		"ssh-dss",
		"ecdsa-sha2-nistp256",
		"ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521",
		"sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com",
		NULL
	};
	size_t i = 0;

	/* Skip authorized_keys options ("from=...,no-pty ") if present:
	 * the key type may appear as any whitespace-separated word. */
	while (i < n) {
		size_t w = i, j;

		while (i < n && line[i] != ' ' && line[i] != '\t')
			i++;
		for (j = 0; types[j]; j++) {
			size_t tl = strlen(types[j]);
			size_t k = i;

			if (i - w != tl || memcmp(line + w, types[j], tl))
				continue;
			while (k < n && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (k < n && n - k >= 16 &&
			    strspn(line + k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
					     "ghijklmnopqrstuvwxyz0123456789+/="
					     "") >= 16)
				return 1;
		}
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
	}
	return 0;
}

int pve_check_sshkeys(const char *s, struct strbuf *why)
{
	const char *p = s;
	int lineno = 1, keys = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		size_t lead = strspn(p, " \t\r");
		size_t len = n;

		while (len > lead && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (len > lead && p[lead] != '#') {
			if (!ssh_key_line_ok(p + lead, len - lead)) {
				strbuf_addf(why,
					    "line %d is not an OpenSSH "
					    "public key (TYPE BASE64 "
					    "[COMMENT])",
					    lineno);
				return -1;
			}
			keys++;
		}
		p += n;
		if (*p)
			p++;
		lineno++;
	}
	if (!keys) {
		strbuf_addstr(why, "no public key given");
		return -1;
	}
	return 0;
}

int pve_check_user(const char *s, struct strbuf *why)
{
	/* what useradd and cloud-init accept: [a-z_][a-z0-9_-]*[$]? */
	size_t n = strlen(s), i;

	if (!n || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		goto bad;
	for (i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && !strchr("_-", s[i]) &&
		    !(s[i] == '$' && i == n - 1))
			goto bad;
	return 0;
bad:
	strbuf_addstr(why, "not a user name (lower-case letters, digits, '_' "
			   "or '-', starting with a letter or '_')");
	return -1;
}

static int hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0'
					 : tolower((unsigned char)c) - 'a' + 10;
}

int pve_parse_fingerprint(unsigned char out[32], const char *s,
			  struct strbuf *why)
{
	size_t n = strlen(s), i;
	bool pairs = n == 95;

	if (n != 64 && !pairs)
		goto bad;
	for (i = 0; i < 32; i++) {
		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]))
			goto bad;
		out[i] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
		if (pairs && i < 31 && *s++ != ':')
			goto bad;
	}
	return 0;
bad:
	strbuf_addstr(why, "not a SHA-256 fingerprint (64 hex digits, "
			   "optionally in ':'-separated pairs)");
	return -1;
}

void pve_format_fingerprint(struct strbuf *out, const unsigned char md[32])
{
	size_t i;

	for (i = 0; i < 32; i++)
		strbuf_addf(out, "%s%02X", i ? ":" : "", md[i]);
}

int pve_upid_field(struct strbuf *out, const char *upid, unsigned i)
{
	const char *p, *end;

	if (strncmp(upid, "UPID:", 5))
		return -1;
	for (p = upid + 5; i > 0; i--) {
		if (!(p = strchr(p, ':')))
			return -1;
		p++;
	}
	if (!(end = strchr(p, ':')))
		return -1;
	strbuf_add(out, p, (size_t)(end - p));
	return 0;
}
