/*
 * nocloud.c - the NoCloud files of Cloudinit.pm (cloudinit_userdata,
 * nocloud_network, nocloud_gen_metadata), fact for fact.
 *
 * Deviation: get_dns_conf falls back to the node's /etc/resolv.conf when
 * the VM has no nameserver or searchdomain; a simulated node has none, so
 * those lists are then empty.
 */
#include "nocloud.h"

#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void nocloud_init(struct nocloud *nc)
{
	strbuf_init(&nc->user, 0);
	strbuf_init(&nc->network, 0);
	strbuf_init(&nc->meta, 0);
}

void nocloud_release(struct nocloud *nc)
{
	strbuf_wipe(&nc->user);
	strbuf_wipe(&nc->network);
	strbuf_wipe(&nc->meta);
}

static const char *get(const struct kv *conf, size_t nr, const char *key)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (conf[i].val && !strcmp(conf[i].key, key))
			return conf[i].val;
	return NULL;
}

/*
 * One option of a property string ("virtio=MAC,bridge=vmbr0"): the value
 * of key, copied into out; a bare "MODEL=MAC" first pair counts as macaddr
 * when key is "macaddr" and model is not a key of its own. 1 when found.
 */
static int prop(const char *s, const char *key, bool model_mac,
		struct strbuf *out)
{
	static const char *const net_keys[] = {
		"bridge", "firewall", "link_down", "macaddr", "model", "mtu",
		"queues", "rate",     "tag",	   "trunks",  NULL
	};
	size_t klen = strlen(key);
	bool first = true;

	strbuf_reset(out);
	while (s && *s) {
		size_t n = strcspn(s, ","), k = strcspn(s, "=");
		size_t i;
		bool known = false;

		if (k < n && k == klen && !strncmp(s, key, klen)) {
			strbuf_add(out, s + k + 1, n - k - 1);
			return 1;
		}
		for (i = 0; net_keys[i]; i++)
			known |= k == strlen(net_keys[i]) &&
				 !strncmp(s, net_keys[i], k);
		if (model_mac && first && k < n && !known) {
			strbuf_add(out, s + k + 1, n - k - 1);
			return 1;
		}
		first = false;
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* get_hostname_fqdn */
static void hostname_fqdn(const struct kv *conf, size_t nr, int vmid,
			  struct strbuf *host, struct strbuf *fqdn)
{
	const char *name = get(conf, nr, "name");
	const char *search = get(conf, nr, "searchdomain");

	if (name)
		strbuf_addstr(host, name);
	else
		strbuf_addf(host, "VM%d", vmid);
	if (strchr(host->buf, '.')) {
		strbuf_addstr(fqdn, host->buf);
		strbuf_setlen(host,
			      (size_t)(strchr(host->buf, '.') - host->buf));
	} else if (search && *search) {
		strbuf_addf(fqdn, "%s.%s", host->buf, search);
	} else {
		strbuf_addstr(fqdn, host->buf);
	}
}

/* cloudinit_userdata (unmasked: the drive holds the password as stored) */
static void userdata(const struct kv *conf, size_t nr, int vmid,
		     struct strbuf *out)
{
	struct strbuf host = STRBUF_INIT, fqdn = STRBUF_INIT;
	const char *user = get(conf, nr, "ciuser");
	const char *pw = get(conf, nr, "cipassword");
	const char *keys = get(conf, nr, "sshkeys");
	const char *upgrade = get(conf, nr, "ciupgrade");

	hostname_fqdn(conf, nr, vmid, &host, &fqdn);
	strbuf_addf(out,
		    "#cloud-config\nhostname: %s\nmanage_etc_hosts: true\n"
		    "fqdn: %s\n",
		    host.buf, fqdn.buf);
	if (user)
		strbuf_addf(out, "user: %s\n", user);
	if (user && !strcmp(user, "root"))
		strbuf_addstr(out, "disable_root: False\n");
	if (pw)
		strbuf_addf(out, "password: %s\n", pw);
	if (keys) {
		struct strbuf dec = STRBUF_INIT;
		const char *p;

		/* URI::Escape::uri_unescape: %XX only, '+' stays */
		strbuf_add_percent_decoded(&dec, keys, strlen(keys), 0);
		strbuf_addstr(out, "ssh_authorized_keys:\n");
		for (p = dec.buf; *p;) {
			size_t n = strcspn(p, "\n"), i;

			for (i = 0; i < n && strchr(" \t\r\f\v", p[i]); i++)
				;
			if (i < n)
				strbuf_addf(out, "  - %.*s\n", (int)n, p);
			p += n;
			if (*p)
				p++;
		}
		strbuf_release(&dec);
	}
	strbuf_addstr(out, "chpasswd:\n  expire: False\n");
	if (!user || strcmp(user, "root"))
		strbuf_addstr(out, "users:\n  - default\n");
	if (!upgrade || strcmp(upgrade, "0"))
		strbuf_addstr(out, "package_upgrade: true\n");
	strbuf_release(&host);
	strbuf_release(&fqdn);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* split_ip4: address and dotted netmask of "A.B.C.D/N" */
static int split_ip4(const char *ip, struct strbuf *addr, char mask[16],
		     struct strbuf *why)
{
	const char *slash = strchr(ip, '/');
	char *end;
	long n;
	uint32_t m;

	if (!slash) {
		strbuf_addf(why, "not a CIDR: %s", ip);
		return -1;
	}
	n = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || n < 0 || n > 32) {
		strbuf_addf(why, "not a CIDR: %s", ip);
		return -1;
	}
	m = n ? 0xffffffffu << (32 - n) : 0;
	strbuf_reset(addr);
	strbuf_add(addr, ip, (size_t)(slash - ip));
	snprintf(mask, 16, "%u.%u.%u.%u", m >> 24, (m >> 16) & 255,
		 (m >> 8) & 255, m & 255);
	return 0;
}

/* One physical interface of nocloud_network. */
static int physical(const char *id, const char *net, const char *ipc,
		    struct strbuf *out, struct strbuf *why)
{
	struct strbuf mac = STRBUF_INIT, v = STRBUF_INIT, addr = STRBUF_INIT;
	char mask[16];
	size_t i;
	int ret = -1;

	if (!prop(net, "macaddr", true, &mac) || !mac.len) {
		strbuf_addf(why, "network interface 'net%s' has no mac address",
			    id);
		goto out;
	}
	for (i = 0; i < mac.len; i++)
		if (mac.buf[i] >= 'A' && mac.buf[i] <= 'Z')
			mac.buf[i] = (char)(mac.buf[i] - 'A' + 'a');
	strbuf_addf(out,
		    "    - type: physical\n      name: eth%s\n"
		    "      mac_address: '%s'\n      subnets:\n",
		    id, mac.buf);
	if (prop(ipc, "ip", false, &v)) {
		if (!strcmp(v.buf, "dhcp")) {
			strbuf_addstr(out, "      - type: dhcp4\n");
		} else {
			if (split_ip4(v.buf, &addr, mask, why) < 0)
				goto out;
			strbuf_addf(out,
				    "      - type: static\n        address: "
				    "'%s'\n        netmask: '%s'\n",
				    addr.buf, mask);
			if (prop(ipc, "gw", false, &v))
				strbuf_addf(out, "        gateway: '%s'\n",
					    v.buf);
		}
	}
	if (prop(ipc, "ip6", false, &v)) {
		if (!strcmp(v.buf, "dhcp")) {
			strbuf_addstr(out, "      - type: dhcp6\n");
		} else if (!strcmp(v.buf, "auto")) {
			strbuf_addstr(out, "      - type: ipv6_slaac\n");
		} else {
			strbuf_addf(out,
				    "      - type: static6\n        address: "
				    "'%s'\n",
				    v.buf);
			if (prop(ipc, "gw6", false, &v))
				strbuf_addf(out, "        gateway: '%s'\n",
					    v.buf);
		}
	}
	ret = 0;
out:
	strbuf_release(&mac);
	strbuf_release(&v);
	strbuf_release(&addr);
	return ret;
}

/* The whitespace-separated words of s, each as "  - 'WORD'". */
static void word_list(struct strbuf *out, const char *s)
{
	while (s && *s) {
		size_t sp = strspn(s, " \t\n\r\f\v"), n;

		s += sp;
		n = strcspn(s, " \t\n\r\f\v");
		if (n)
			strbuf_addf(out, "      - '%.*s'\n", (int)n, s);
		s += n;
	}
}

static bool has_words(const char *s)
{
	return s && s[strspn(s, " \t\n\r\f\v")];
}

/* nocloud_network: version 1, the interfaces by sorted netN key */
static int network(const struct kv *conf, size_t nr, struct strbuf *out,
		   struct strbuf *why)
{
	const char **nets = xcalloc(nr + 1, sizeof(*nets));
	const char *ns = get(conf, nr, "nameserver");
	const char *sd = get(conf, nr, "searchdomain");
	size_t n = 0, i;
	int ret = -1;

	strbuf_addstr(out, "version: 1\nconfig:\n");
	for (i = 0; i < nr; i++) {
		const char *k = conf[i].key;

		if (conf[i].val && !strncmp(k, "net", 3) && k[3] &&
		    strspn(k + 3, "0123456789") == strlen(k + 3))
			nets[n++] = k;
	}
	qsort(nets, n, sizeof(*nets), cmp_str); /* Perl's sort: as strings */
	for (i = 0; i < n; i++) {
		struct strbuf key = STRBUF_INIT;
		const char *ipc;

		strbuf_addf(&key, "ipconfig%s", nets[i] + 3);
		ipc = get(conf, nr, key.buf);
		strbuf_release(&key);
		if (!ipc || !*ipc)
			continue;
		if (physical(nets[i] + 3, get(conf, nr, nets[i]), ipc, out,
			     why) < 0)
			goto out;
	}
	/* get_dns_conf returns two array refs: the entry is always there */
	strbuf_addstr(out, "    - type: nameserver\n");
	if (has_words(ns)) {
		strbuf_addstr(out, "      address:\n");
		word_list(out, ns);
	}
	if (has_words(sd)) {
		strbuf_addstr(out, "      search:\n");
		word_list(out, sd);
	}
	ret = 0;
out:
	free(nets);
	return ret;
}

int nocloud_generate(const struct kv *conf, size_t nr, int vmid,
		     struct nocloud *nc, struct strbuf *why)
{
	struct strbuf both = STRBUF_INIT;
	unsigned char md[20];
	size_t i;

	strbuf_reset(&nc->user);
	strbuf_reset(&nc->network);
	strbuf_reset(&nc->meta);
	userdata(conf, nr, vmid, &nc->user);
	if (network(conf, nr, &nc->network, why) < 0)
		return -1;
	/* nocloud_gen_metadata: sha1_hex($user . $network) */
	strbuf_add(&both, nc->user.buf, nc->user.len);
	strbuf_add(&both, nc->network.buf, nc->network.len);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, both.buf, both.len, md) < 0)
		memset(md, 0, sizeof(md));
	strbuf_wipe(&both);
	strbuf_addstr(&nc->meta, "instance-id: ");
	for (i = 0; i < 20; i++)
		strbuf_addf(&nc->meta, "%02x", md[i]);
	strbuf_addch(&nc->meta, '\n');
	return 0;
}
