/*
 * schema.c - Proxmox VE's parameter checks over the tables of schema_data.c;
 * see schema.h.
 *
 * The checks follow PVE::JSONSchema (pve-common): check_object() walks the
 * schema's properties and then the given values (requires, additional
 * properties); check_prop() checks one value - type, format, pattern,
 * maxLength, maximum, minimum, enum - and stops at the first failure;
 * property strings are split as parse_property_string() splits them, quirks
 * included, because the messages depend on them. The named formats are the
 * verifiers of pve-common, qemu-server, pve-storage, pve-access-control and
 * pve-ha-manager, written again from their behaviour. A named format the
 * simulator does not know (pve-priv) is accepted.
 *
 * Perl's '$' also matches before a final newline, and Perl prints numbers
 * and die() messages in its own way; where that shows in a result or a
 * message, this file does the same.
 */
#include "schema.h"

#include <arpa/inet.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define IPV4_ERE                                        \
	"((25[0-5]|(2[0-4]|1[0-9]|[1-9])?[0-9])\\.){3}" \
	"(25[0-5]|(2[0-4]|1[0-9]|[1-9])?[0-9])"
#define DNS_LABEL_ERE "([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)"

/* A property string as parsed so far: keys in order of appearance. */
struct pskv {
	char *key;
	char *val;
};

struct psres {
	struct pskv *items;
	size_t nr, alloc;
};

#define PSRES_INIT         \
	{                  \
		NULL, 0, 0 \
	}

static int check_value(const struct schema_prop *sp, const char *value,
		       const char *path, struct strbuf *msg);

static int is_perl_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Perl's truth of a string: defined, not "" and not "0". */
static int perl_true(const char *s)
{
	return s && *s && strcmp(s, "0");
}

static int is_blank(const char *s)
{
	while (is_perl_space((unsigned char)*s))
		s++;
	return !*s;
}

/*
 * Whether s matches the anchored extended regular expression re. Perl's '$'
 * also matches before a final newline, so a value ending in one is tried
 * without it, too.
 */
static int re_match(const char *re, int icase, const char *s)
{
	regex_t rx;
	size_t len = strlen(s);
	int ok;

	if (regcomp(&rx, re,
		    REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0)))
		return 0;
	ok = !regexec(&rx, s, 0, NULL, 0);
	if (!ok && len && s[len - 1] == '\n') {
		char *t = xstrndup(s, len - 1);

		ok = !regexec(&rx, t, 0, NULL, 0);
		free(t);
	}
	regfree(&rx);
	return ok;
}

/* Append tmpl with its one "%s" (if any) replaced by value. */
static void add_msg(struct strbuf *sb, const char *tmpl, const char *value)
{
	const char *at = strstr(tmpl, "%s");

	if (!at) {
		strbuf_addstr(sb, tmpl);
		return;
	}
	strbuf_add(sb, tmpl, (size_t)(at - tmpl));
	strbuf_addstr(sb, value);
	strbuf_addstr(sb, at + 2);
}

/* A JSON string of s, with bytes that are not UTF-8 turned into '?'. */
static char *json_safe(const char *s)
{
	json_t *j = json_string(s);
	char *t = xstrdup(s), *q;

	if (j) {
		json_decref(j);
		return t;
	}
	for (q = t; *q; q++)
		if ((unsigned char)*q >= 0x80)
			*q = '?';
	return t;
}

/*
 * Record msg for path as PVE's add_error() does: a second message for the
 * same path is joined with the two characters backslash and 'n'.
 */
static void add_error(json_t *errors, const char *path, const char *msg)
{
	char *key = json_safe(path);
	json_t *old = json_object_get(errors, key);
	struct strbuf sb = STRBUF_INIT;
	char *text;

	if (json_is_string(old)) {
		strbuf_addstr(&sb, json_string_value(old));
		strbuf_addstr(&sb, "\\n");
	}
	strbuf_addstr(&sb, msg);
	text = json_safe(sb.buf);
	json_object_set_new(errors, key, json_string(text));
	free(text);
	free(key);
	strbuf_release(&sb);
}

/* PVE::Tools::split_list(): items separated by ',', ';' or white space. */
static void split_list(struct strvec *out, const char *s)
{
	while (*s) {
		size_t n = 0;

		while (*s && (*s == ',' || *s == ';' ||
			      is_perl_space((unsigned char)*s)))
			s++;
		while (s[n] && s[n] != ',' && s[n] != ';' &&
		       !is_perl_space((unsigned char)s[n]))
			n++;
		if (n)
			strvec_pushf(out, "%.*s", (int)n, s);
		s += n;
	}
}

/* Perl's split(/,/, s): empty fields kept, trailing empty ones dropped. */
static void split_commas(struct strvec *out, const char *s)
{
	size_t len = strlen(s);

	while (len && s[len - 1] == ',')
		len--;
	while (len) {
		const char *comma = memchr(s, ',', len);
		size_t n = comma ? (size_t)(comma - s) : len;

		strvec_pushf(out, "%.*s", (int)n, s);
		if (!comma)
			break;
		s += n + 1;
		len -= n + 1;
	}
}

int schema_parse_boolean(const char *s)
{
	if (re_match("^(1|on|yes|true)$", 1, s))
		return 1;
	if (re_match("^(0|off|no|false)$", 1, s))
		return 0;
	return -1;
}

static int is_integer(const char *s)
{
	return re_match("^[+-]?[0-9]+$", 0, s);
}

static int is_number(const char *s)
{
	return re_match("^[+-]?([0-9]+\\.[0-9]+|[0-9]+\\.|\\.[0-9]+|[0-9]+)"
			"([eE][+-]?[0-9]+)?$",
			0, s);
}

/* Characters, not bytes, as Perl counts a decoded string. */
static long utf8_length(const char *s)
{
	long n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* s without the final newline Perl's '$' would skip; free() the result. */
static char *chomped(const char *s)
{
	size_t len = strlen(s);

	if (len && s[len - 1] == '\n')
		len--;
	return xstrndup(s, len);
}

static int is_ipv4(const char *s)
{
	return re_match("^" IPV4_ERE "$", 0, s);
}

static int is_ipv6(const char *s)
{
	unsigned char addr[16];
	char *t = chomped(s);
	int ok = inet_pton(AF_INET6, t, addr) == 1;

	free(t);
	return ok;
}

/* IP/prefix with the prefix in (7, max], as pve_verify_cidrv4/v6 check. */
static int is_cidr(const char *s, int v6)
{
	char *t = chomped(s);
	char *slash = strrchr(t, '/');
	int ok = 0;

	if (slash && slash[1] &&
	    strspn(slash + 1, "0123456789") == strlen(slash + 1)) {
		double bits = strtod(slash + 1, NULL);

		*slash = '\0';
		ok = bits > 7 && bits <= (v6 ? 128 : 32) &&
		     (v6 ? is_ipv6(t) : is_ipv4(t));
	}
	free(t);
	return ok;
}

/* A format that is one regular expression and one message. */
struct re_format {
	const char *name;
	const char *re;
	int icase;
	const char *msg; /* "%s" stands for the value */
};

static const struct re_format re_formats[] = {
	{ "disk-size", "^[0-9]+(\\.[0-9]+)?[KMGT]?$", 0,
	  "value does not look like a valid disk size: %s\n" },
	{ "dns-name", "^(" DNS_LABEL_ERE "\\.)*" DNS_LABEL_ERE "$", 0,
	  "value does not look like a valid DNS name\n" },
	{ "mac-addr", "^[a-f0-9][02468ace](:[a-f0-9]{2}){5}$", 1,
	  "value does not look like a valid unicast MAC address\n" },
	{ "pve-bridge-id", "^[-_.A-Za-z0-9]+$", 0, "invalid bridge ID '%s'\n" },
	{ "pve-configid", "^[a-z][a-z0-9_-]+$", 1,
	  "invalid configuration ID '%s'\n" },
	{ "pve-ha-resource-or-vm-id", "^([a-z]+:[^[:space:]]+|[0-9]+)$", 0,
	  "value does not look like a valid ha resource id\n" },
	{ "pve-node", "^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$", 0,
	  "value does not look like a valid node name\n" },
	/* Nested pools (PVE 8.1+) have up to three '/'-separated levels. */
	{ "pve-poolid", "^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+){0,2}$", 0,
	  "pool name '%s' contains invalid characters\n" },
	{ "pve-realm", "^[A-Za-z][A-Za-z0-9._-]+$", 0,
	  "value does not look like a valid realm\n" },
	{ "pve-storage-id", "^[a-z][a-z0-9._-]*[a-z0-9]$", 1,
	  "storage ID '%s' contains illegal characters\n" },
	{ "pve-tag", "^[a-z0-9_][a-z0-9_+.-]*$", 1,
	  "invalid characters in tag\n" },
	{ "pve-task-status-type", "^(ok|error|warning|unknown)$", 1,
	  "invalid status '%s'\n" },
	{ "pve-vmid", "^[1-9][0-9]{2,8}$", 0,
	  "value does not look like a valid VM ID\n" },
	{ "pve-volume-id", "^[a-z][a-z0-9._-]*[a-z0-9]:[^\n]+$", 1,
	  "unable to parse volume ID '%s'\n" },
	{ "urlencoded", "^[-%a-zA-Z0-9_.!~*'()]*$", 0,
	  "invalid urlencoded string: %s\n" },
};

static const struct re_format *find_re_format(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(re_formats) / sizeof(re_formats[0]); i++)
		if (strlen(re_formats[i].name) == len &&
		    !strncmp(re_formats[i].name, name, len))
			return &re_formats[i];
	return NULL;
}

static int run_re_format(const struct re_format *f, const char *v,
			 struct strbuf *why)
{
	if (re_match(f->re, f->icase, v))
		return 0;
	add_msg(why, f->msg, v);
	return -1;
}

static int re_format_check(const char *name, const char *v, struct strbuf *why)
{
	return run_re_format(find_re_format(name, strlen(name)), v, why);
}

static int fmt_ipv4(const char *v, struct strbuf *why)
{
	if (is_ipv4(v))
		return 0;
	strbuf_addstr(why, "value does not look like a valid IPv4 address\n");
	return -1;
}

static int fmt_ipv6(const char *v, struct strbuf *why)
{
	if (is_ipv6(v))
		return 0;
	strbuf_addstr(why, "value does not look like a valid IPv6 address\n");
	return -1;
}

static int fmt_cidr(const char *v, struct strbuf *why)
{
	if (is_cidr(v, 0) || is_cidr(v, 1))
		return 0;
	strbuf_addstr(why, "value does not look like a valid CIDR network\n");
	return -1;
}

static int fmt_ipv4_config(const char *v, struct strbuf *why)
{
	if (re_match("^(dhcp|manual)$", 0, v) || is_cidr(v, 0))
		return 0;
	strbuf_addstr(why, "value does not look like a valid ipv4 network "
			   "configuration\n");
	return -1;
}

static int fmt_ipv6_config(const char *v, struct strbuf *why)
{
	if (re_match("^(auto|dhcp|manual)$", 0, v) || is_cidr(v, 1))
		return 0;
	strbuf_addstr(why, "value does not look like a valid ipv6 network "
			   "configuration\n");
	return -1;
}

static int fmt_address(const char *v, struct strbuf *why)
{
	struct strbuf ignored = STRBUF_INIT;
	int ok = is_ipv4(v) || is_ipv6(v) ||
		 !re_format_check("dns-name", v, &ignored);

	strbuf_release(&ignored);
	if (ok)
		return 0;
	add_msg(why, "value does not look like a valid address: %s\n", v);
	return -1;
}

/* pve_parse_startup_order(): [order=]N, up=N, down=N; "" and "0" fail. */
static int fmt_startup_order(const char *v, struct strbuf *why)
{
	struct strvec parts = STRVEC_INIT;
	int ok = perl_true(v);
	size_t i;

	split_commas(&parts, v);
	for (i = 0; ok && i < parts.nr; i++)
		ok = is_blank(parts.v[i]) ||
		     re_match("^((order=)?[0-9]+|up=[0-9]+|down=[0-9]+)$", 0,
			      parts.v[i]);
	strvec_clear(&parts);
	if (ok)
		return 0;
	strbuf_addstr(why, "unable to parse startup options\n");
	return -1;
}

/* parse_hotplug_features(): "0", "1" or a list of known features. */
static int fmt_hotplug(const char *v, struct strbuf *why)
{
	struct strvec list = STRVEC_INIT;
	int ret = 0;
	size_t i;

	if (!strcmp(v, "0") || !strcmp(v, "1"))
		return 0;
	split_list(&list, v);
	for (i = 0; i < list.nr && !ret; i++) {
		if (re_match("^(network|disk|cpu|memory|usb|cloudinit)$", 0,
			     list.v[i]))
			continue;
		add_msg(why, "invalid hotplug feature '%s'\n", list.v[i]);
		ret = -1;
	}
	strvec_clear(&list);
	return ret;
}

/* PVE::CpuSet::parse_cpuset(): N or N-M, ',' separated, M >= N. */
static int fmt_cpuset(const char *v, struct strbuf *why)
{
	struct strvec parts = STRVEC_INIT;
	int ok = 1;
	size_t i;

	split_commas(&parts, v);
	for (i = 0; ok && i < parts.nr; i++) {
		const char *s = parts.v[i];
		char *end;
		double from, to;

		ok = re_match("^[[:space:]]*[0-9]+(-[0-9]+)?[[:space:]]*$", 0,
			      s);
		if (!ok)
			break;
		from = strtod(s, &end);
		to = *end == '-' ? strtod(end + 1, NULL) : from;
		ok = to >= from;
	}
	strvec_clear(&parts);
	if (ok)
		return 0;
	strbuf_addstr(why, "unable to parse cpuset option\n");
	return -1;
}

static unsigned qm_config_count(const char *name)
{
	size_t i;

	for (i = 0; i < schema_nqm_config_keys; i++)
		if (schema_qm_config_keys[i].count &&
		    !strcmp(schema_qm_config_keys[i].name, name))
			return schema_qm_config_keys[i].count;
	return 0;
}

/* The index of "net12" after base "net", or -1 when it is not canonical. */
static long name_index(const char *name, const char *base)
{
	size_t len = strlen(base);
	const char *digits = name + len;

	if (strncmp(name, base, len) || !*digits ||
	    strspn(digits, "0123456789") != strlen(digits) ||
	    (digits[0] == '0' && digits[1]) || strlen(digits) > 6)
		return -1;
	return strtol(digits, NULL, 10);
}

/* is_valid_drivename(): ideN, sataN, scsiN, virtioN, efidisk0, tpmstate0. */
static int fmt_bootdisk(const char *v, struct strbuf *why)
{
	static const char *const bases[] = { "ide", "sata", "scsi", "virtio" };
	size_t i;

	if (!strcmp(v, "efidisk0") || !strcmp(v, "tpmstate0"))
		return 0;
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		long idx = name_index(v, bases[i]);

		if (idx >= 0 && idx < (long)qm_config_count(bases[i]))
			return 0;
	}
	add_msg(why, "invalid boot disk '%s'\n", v);
	return -1;
}

static int fmt_volume_id_or_path(const char *v, struct strbuf *why)
{
	if (v[0] == '/')
		return 0;
	return re_format_check("pve-volume-id", v, why);
}

static int fmt_volume_id_or_qm_path(const char *v, struct strbuf *why)
{
	if (!strcmp(v, "none") || !strcmp(v, "cdrom"))
		return 0;
	return fmt_volume_id_or_path(v, why);
}

/* verify_storagepair() on one list entry: "1", ID or ID:ID. */
static int fmt_storage_pair(const char *v, struct strbuf *why)
{
	struct strbuf inner = STRBUF_INIT;
	const char *colon = strchr(v, ':');
	int ret = 0;

	if (!strcmp(v, "1"))
		return 0;
	if (colon && colon != v && colon[1] && !strchr(colon + 1, ':')) {
		char *src = xstrndup(v, (size_t)(colon - v));

		ret = re_format_check("pve-storage-id", src, &inner);
		if (!ret)
			ret = re_format_check("pve-storage-id", colon + 1,
					      &inner);
		free(src);
	} else {
		ret = re_format_check("pve-storage-id", v, &inner);
	}
	if (ret)
		strbuf_addf(why, "entry '%s' contains invalid ID - %s\n\n", v,
			    inner.buf);
	strbuf_release(&inner);
	return ret;
}

/* verify_content() of pve-storage: the content types of a dir storage. */
static int fmt_storage_content(const char *v, struct strbuf *why)
{
	static const char *const types[] = { "backup",	 "images", "import",
					     "iso",	 "none",   "rootdir",
					     "snippets", "vztmpl" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i], v))
			return 0;
	add_msg(why, "invalid content type '%s'\n", v);
	return -1;
}

struct fn_format {
	const char *name;
	int (*check)(const char *v, struct strbuf *why);
};

static const struct fn_format fn_formats[] = {
	{ "CIDR", fmt_cidr },
	{ "address", fmt_address },
	{ "ipv4", fmt_ipv4 },
	{ "ipv6", fmt_ipv6 },
	{ "pve-cpuset", fmt_cpuset },
	{ "pve-hotplug-features", fmt_hotplug },
	{ "pve-ipv4-config", fmt_ipv4_config },
	{ "pve-ipv6-config", fmt_ipv6_config },
	{ "pve-qm-bootdisk", fmt_bootdisk },
	{ "pve-startup-order", fmt_startup_order },
	{ "pve-storage-content", fmt_storage_content },
	{ "pve-volume-id-or-absolute-path", fmt_volume_id_or_path },
	{ "pve-volume-id-or-qm-path", fmt_volume_id_or_qm_path },
	{ "storage-pair", fmt_storage_pair },
};

/* Check v against the named format name[0..len); unknown names pass. */
static int check_one_format(const char *name, size_t len, const char *v,
			    struct strbuf *why)
{
	const struct re_format *rf = find_re_format(name, len);
	size_t i;

	if (rf)
		return run_re_format(rf, v, why);
	for (i = 0; i < sizeof(fn_formats) / sizeof(fn_formats[0]); i++)
		if (strlen(fn_formats[i].name) == len &&
		    !strncmp(fn_formats[i].name, name, len))
			return fn_formats[i].check(v, why);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* check_format(): NAME, NAME-list (each item of split_list) or NAME-opt. */
static int check_format(const char *format, const char *v, struct strbuf *why)
{
	size_t len = strlen(format);
	struct strvec list = STRVEC_INIT;
	int ret = 0;
	size_t i;

	if (ends_with(format, "-opt"))
		return perl_true(v) ? check_one_format(format, len - 4, v, why)
				    : 0;
	if (!ends_with(format, "-list"))
		return check_one_format(format, len, v, why);
	split_list(&list, v);
	for (i = 0; i < list.nr && !ret; i++)
		ret = check_one_format(format, len - 5, list.v[i], why);
	strvec_clear(&list);
	return ret;
}

static struct pskv *psres_get(const struct psres *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (!strcmp(r->items[i].key, key))
			return &r->items[i];
	return NULL;
}

static void psres_set(struct psres *r, const char *key, const char *val)
{
	struct pskv *kv = psres_get(r, key);

	if (kv) {
		free(kv->val);
		kv->val = xstrdup(val);
		return;
	}
	ALLOC_GROW(r->items, st_add(r->nr, 1), r->alloc);
	r->items[r->nr].key = xstrdup(key);
	r->items[r->nr].val = xstrdup(val);
	r->nr++;
}

static void psres_release(struct psres *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		free(r->items[i].key);
		free(r->items[i].val);
	}
	free(r->items);
	r->items = NULL;
	r->nr = r->alloc = 0;
}

static const struct schema_prop *find_key(const struct schema_prop *fmt,
					  const char *key)
{
	size_t i;

	for (i = 0; i < fmt->nkeys; i++)
		if (!strcmp(fmt->keys[i].name, key))
			return &fmt->keys[i];
	return NULL;
}

/* One "key=value" part of a property string. */
static int ps_pair(const struct schema_prop *fmt, const char *k, const char *v,
		   struct psres *res, struct strbuf *why)
{
	const struct schema_prop *sk = find_key(fmt, k);
	int b;

	if (psres_get(res, k)) {
		strbuf_addf(why,
			    "duplicate key in comma-separated list "
			    "property: %s\n",
			    k);
		return -1;
	}
	if (sk && sk->alias) {
		if (sk->key_alias) {
			if (psres_get(res, sk->key_alias)) {
				strbuf_addf(why,
					    "key alias '%s' is already "
					    "defined\n",
					    sk->key_alias);
				return -1;
			}
			psres_set(res, sk->key_alias, k);
		}
		k = sk->alias;
		sk = find_key(fmt, k);
	}
	if (!sk) {
		strbuf_addf(why,
			    "invalid key in comma-separated list "
			    "property: %s\n",
			    k);
		return -1;
	}
	b = sk->type == SCHEMA_T_BOOLEAN ? schema_parse_boolean(v) : -1;
	psres_set(res, k, b < 0 ? v : b ? "1" : "0");
	return 0;
}

/* One part without '=': the value of the format's default key. */
static int ps_default(const struct schema_prop *fmt, const char *part,
		      const char **default_key, struct psres *res,
		      struct strbuf *why)
{
	struct pskv *cur;
	size_t i;

	if (*default_key) {
		strbuf_addf(why,
			    "duplicate key in comma-separated list "
			    "property: %s\n",
			    *default_key);
		return -1;
	}
	for (i = 0; i < fmt->nkeys; i++)
		if (fmt->keys[i].flags & SCHEMA_DEFAULT_KEY)
			break;
	if (i == fmt->nkeys) {
		strbuf_addstr(why, "value without key, but schema does not "
				   "define a default key\n");
		return -1;
	}
	*default_key = fmt->keys[i].name;
	cur = psres_get(res, *default_key);
	if (cur && perl_true(cur->val)) {
		strbuf_addf(why,
			    "duplicate key in comma-separated list "
			    "property: %s\n",
			    *default_key);
		return -1;
	}
	psres_set(res, *default_key, part);
	return 0;
}

/*
 * The value of a part matched by /^([^=]+)=(.+)$/ (Perl's '.' stops at a
 * newline, its '$' may skip a final one), or NULL; free() it.
 */
static char *ps_pair_value(const char *eq)
{
	const char *v = eq + 1;
	size_t len = strlen(v);

	if (len && v[len - 1] == '\n')
		len--;
	if (!len || memchr(v, '\n', len))
		return NULL;
	return xstrndup(v, len);
}

static int ps_part(const struct schema_prop *fmt, const char *part,
		   const char **default_key, struct psres *res,
		   struct strbuf *why)
{
	const char *eq = strchr(part, '=');
	char *key, *val;
	int ret;

	if (!eq)
		return ps_default(fmt, part, default_key, res, why);
	val = eq != part ? ps_pair_value(eq) : NULL;
	if (!val) {
		strbuf_addstr(why, "missing key in comma-separated list "
				   "property\n");
		return -1;
	}
	key = xstrndup(part, (size_t)(eq - part));
	ret = ps_pair(fmt, key, val, res, why);
	free(key);
	free(val);
	return ret;
}

/* Split data into res as parse_property_string() does. */
static int ps_split(const struct schema_prop *fmt, const char *data,
		    struct psres *res, struct strbuf *why)
{
	struct strvec parts = STRVEC_INIT;
	const char *default_key = NULL;
	int ret = 0;
	size_t i;

	split_commas(&parts, data);
	for (i = 0; i < parts.nr && !ret; i++)
		if (!is_blank(parts.v[i]))
			ret = ps_part(fmt, parts.v[i], &default_key, res, why);
	strvec_clear(&parts);
	return ret;
}

static void check_prop(const struct schema_prop *sp, const char *value,
		       const char *path, json_t *errors)
{
	struct strbuf msg = STRBUF_INIT;

	if (!value) {
		if (!(sp->flags & SCHEMA_OPTIONAL) && !sp->alias)
			add_error(errors, path,
				  "property is missing and it "
				  "is not optional");
		return;
	}
	if (check_value(sp, value, path, &msg) < 0)
		add_error(errors, path, msg.buf);
	strbuf_release(&msg);
}

/* check_object() over a parsed property string; errors by "path.key". */
static void ps_check_object(const struct schema_prop *fmt,
			    const struct psres *res, const char *path,
			    json_t *errors)
{
	struct strbuf sub = STRBUF_INIT, req = STRBUF_INIT, msg = STRBUF_INIT;
	size_t i;

	for (i = 0; i < fmt->nkeys; i++) {
		const struct pskv *kv = psres_get(res, fmt->keys[i].name);

		strbuf_reset(&sub);
		strbuf_addf(&sub, "%s.%s", path, fmt->keys[i].name);
		check_prop(&fmt->keys[i], kv ? kv->val : NULL, sub.buf, errors);
	}
	for (i = 0; i < res->nr; i++) {
		const struct schema_prop *sk = find_key(fmt, res->items[i].key);

		strbuf_reset(&sub);
		strbuf_addf(&sub, "%s.%s", path, res->items[i].key);
		if (!sk) {
			add_error(errors, sub.buf,
				  "property is not defined in "
				  "schema and the schema does not allow "
				  "additional properties");
		} else if (sk->requires && !psres_get(res, sk->requires)) {
			strbuf_reset(&req);
			strbuf_addf(&req, "%s.%s", path, sk->requires);
			strbuf_reset(&msg);
			strbuf_addf(&msg,
				    "missing property - '%s' requires "
				    "this property",
				    sub.buf);
			add_error(errors, req.buf, msg.buf);
		}
	}
	strbuf_release(&sub);
	strbuf_release(&req);
	strbuf_release(&msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The text of raise("format error\n", errors => ...) as Perl prints it. */
static void format_error_text(struct strbuf *why, json_t *errors)
{
	const char **keys =
		xcalloc(json_object_size(errors) + 1, sizeof(*keys));
	void *it;
	size_t n = 0, i;

	for (it = json_object_iter(errors); it;
	     it = json_object_iter_next(errors, it))
		keys[n++] = json_object_iter_key(it);
	qsort(keys, n, sizeof(*keys), cmp_str);
	strbuf_addstr(why, "format error\n");
	for (i = 0; i < n; i++)
		strbuf_addf(
			why, "%s: %s\n", keys[i],
			json_string_value(json_object_get(errors, keys[i])));
	free(keys);
}

/*
 * The simulator's own ipconfigN rules (parse_ipconfig() of qemu-server
 * drops such a value when it writes the cloud-init drive; the API takes it).
 */
static int ipconfig_rules(const struct psres *res, struct strbuf *why)
{
	const struct pskv *gw = psres_get(res, "gw"),
			  *ip = psres_get(res, "ip");
	const struct pskv *gw6 = psres_get(res, "gw6");
	const struct pskv *ip6 = psres_get(res, "ip6");

	if (gw && perl_true(gw->val) && ip && !strcmp(ip->val, "dhcp")) {
		strbuf_addstr(why, "gateway specified together with DHCP\n");
		return -1;
	}
	if (gw6 && perl_true(gw6->val) && ip6 &&
	    re_match("^(auto|dhcp|manual)$", 0, ip6->val)) {
		strbuf_addf(why,
			    "IPv6 gateway specified together with %s "
			    "address\n",
			    ip6->val);
		return -1;
	}
	return 0;
}

/* Parse and check a property string; res gets the keys and values. */
static int ps_parse_checked(const struct schema_prop *sp, const char *value,
			    const char *path, struct psres *res,
			    struct strbuf *why)
{
	json_t *errors;
	int ret;

	if (ps_split(sp, value, res, why) < 0)
		return -1;
	errors = json_object();
	ps_check_object(sp, res, path, errors);
	ret = json_object_size(errors) ? -1 : 0;
	if (ret)
		format_error_text(why, errors);
	json_decref(errors);
	if (!ret && sp->format && !strcmp(sp->format, "pve-qm-ipconfig"))
		ret = ipconfig_rules(res, why);
	return ret;
}

static int check_type(enum schema_type type, const char *v, struct strbuf *msg)
{
	const char *name;
	int ok;

	switch (type) {
	case SCHEMA_T_BOOLEAN:
		name = "boolean";
		ok = !strcmp(v, "1") || !strcmp(v, "0");
		break;
	case SCHEMA_T_INTEGER:
		name = "integer";
		ok = is_integer(v);
		break;
	case SCHEMA_T_NUMBER:
		name = "number";
		ok = is_number(v);
		break;
	default:
		return 0;
	}
	if (ok)
		return 0;
	strbuf_addf(msg, "type check ('%s') failed - got '%s'", name, v);
	return -1;
}

static int check_enum(const struct schema_prop *sp, const char *v,
		      struct strbuf *msg)
{
	size_t i;

	for (i = 0; sp->enums[i]; i++)
		if (!strcmp(sp->enums[i], v))
			return 0;
	strbuf_addf(msg,
		    "value '%s' does not have a value in the enumeration '", v);
	for (i = 0; sp->enums[i]; i++)
		strbuf_addf(msg, "%s%s", i ? ", " : "", sp->enums[i]);
	strbuf_addch(msg, '\'');
	return -1;
}

static int check_range(const struct schema_prop *sp, const char *v,
		       struct strbuf *msg)
{
	double d;

	if (!is_number(v))
		return 0;
	d = strtod(v, NULL);
	if (sp->maximum && d > strtod(sp->maximum, NULL)) {
		strbuf_addf(msg, "value must have a maximum value of %s",
			    sp->maximum);
		return -1;
	}
	if (sp->minimum && d < strtod(sp->minimum, NULL)) {
		strbuf_addf(msg, "value must have a minimum value of %s",
			    sp->minimum);
		return -1;
	}
	return 0;
}

/* check_prop() on a present value: the first failure goes to msg. */
static int check_value(const struct schema_prop *sp, const char *value,
		       const char *path, struct strbuf *msg)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	if (check_type(sp->type, value, msg) < 0)
		return -1;
	if (sp->keys) {
		struct psres res = PSRES_INIT;

		ret = ps_parse_checked(sp, value, path, &res, &why);
		psres_release(&res);
	} else if (sp->format) {
		ret = check_format(sp->format, value, &why);
	}
	if (ret < 0)
		strbuf_addf(msg, "invalid format - %s", why.buf);
	strbuf_release(&why);
	if (ret < 0)
		return -1;
	if (sp->pattern && !re_match(sp->pattern, 0, value)) {
		strbuf_addstr(msg, "value does not match the regex pattern");
		return -1;
	}
	if (sp->max_length && utf8_length(value) > sp->max_length) {
		strbuf_addf(msg, "value may only be %ld characters long",
			    sp->max_length);
		return -1;
	}
	if (check_range(sp, value, msg) < 0)
		return -1;
	return sp->enums ? check_enum(sp, value, msg) : 0;
}

/* The property of props named name: exact, or net[n] for "net12". */
static const struct schema_prop *find_prop(const struct schema_prop *props,
					   size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!props[i].count && !strcmp(props[i].name, name))
			return &props[i];
	for (i = 0; i < n; i++) {
		long idx =
			props[i].count ? name_index(name, props[i].name) : -1;

		if (idx >= 0 && idx < (long)props[i].count)
			return &props[i];
	}
	return NULL;
}

/* The last value given for name, or NULL. */
static const char *given(const struct sim_param *p, size_t n, const char *name)
{
	while (n--)
		if (!strcmp(p[n].name, name))
			return p[n].value;
	return NULL;
}

static int is_last(const struct sim_param *p, size_t n, size_t i)
{
	size_t j;

	for (j = i + 1; j < n; j++)
		if (!strcmp(p[j].name, p[i].name))
			return 0;
	return 1;
}

/* check_object()'s first loop, for one property of the schema. */
static void check_param(const struct schema_prop *sp, const struct sim_param *p,
			size_t n, json_t *errors)
{
	struct strbuf name = STRBUF_INIT;
	unsigned idx;

	if (!sp->count) {
		const char *v = given(p, n, sp->name);

		if (sp->type != SCHEMA_T_ARRAY || !v)
			check_prop(sp, v, sp->name, errors);
		return;
	}
	for (idx = 0; idx < sp->count; idx++) {
		strbuf_reset(&name);
		strbuf_addf(&name, "%s%u", sp->name, idx);
		check_prop(sp, given(p, n, name.buf), name.buf, errors);
	}
	strbuf_release(&name);
}

/* check_object()'s second loop, for one given parameter. */
static void check_given(const struct schema_endpoint *ep,
			const struct sim_param *p, size_t n, size_t i,
			json_t *errors)
{
	const struct schema_prop *sp =
		find_prop(ep->params, ep->nparams, p[i].name);
	struct strbuf msg = STRBUF_INIT;

	if (!sp && (ep->flags & SCHEMA_EP_ADDITIONAL))
		return;
	if (!sp) {
		add_error(errors, p[i].name,
			  "property is not defined in schema "
			  "and the schema does not allow additional "
			  "properties");
	} else if (sp->requires && !given(p, n, sp->requires)) {
		strbuf_addf(&msg,
			    "missing property - '%s' requires this "
			    "property",
			    p[i].name);
		add_error(errors, sp->requires, msg.buf);
	}
	strbuf_release(&msg);
}

static int qm_config_key(const char *name)
{
	size_t i;

	for (i = 0; i < schema_nqm_config_keys; i++) {
		const struct schema_name *k = &schema_qm_config_keys[i];
		long idx = k->count ? name_index(name, k->name) : -1;

		if ((!k->count && !strcmp(k->name, name)) ||
		    (idx >= 0 && idx < (long)k->count))
			return 1;
	}
	return 0;
}

/* Whether the request sets configuration key opt (cdrom counts as ide2). */
static int sets_key(const struct sim_param *p, size_t n, const char *opt)
{
	return qm_config_key(opt) &&
	       (given(p, n, opt) ||
		(!strcmp(opt, "ide2") && given(p, n, "cdrom")));
}

static int in_list(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

/* update_vm_api()'s checks of "revert"; the first failure only. */
static int qm_revert_checks(const struct sim_param *p, size_t n,
			    const struct strvec *revert, struct strbuf *msg)
{
	size_t i;

	for (i = 0; i < revert->nr; i++) {
		const char *opt = revert->v[i];

		if (!qm_config_key(opt)) {
			strbuf_addf(msg, "unknown option '%s'", opt);
			return -1; /* errors.revert */
		}
		if (sets_key(p, n, opt)) {
			strbuf_addf(msg,
				    "you can't use '-%s' and -revert %s' "
				    "at the same time",
				    opt, opt);
			return -2; /* errors.delete, as Proxmox has it */
		}
	}
	return 0;
}

/* ...and of "delete": -2 for errors.delete, -1 for errors.revert. */
static int qm_delete_checks(const struct sim_param *p, size_t n,
			    const struct strvec *del,
			    const struct strvec *revert, struct strbuf *msg)
{
	size_t i;

	for (i = 0; i < del->nr; i++) {
		const char *opt =
			strcmp(del->v[i], "cdrom") ? del->v[i] : "ide2";

		if (sets_key(p, n, opt)) {
			strbuf_addf(msg,
				    "you can't use '-%s' and -delete %s' "
				    "at the same time",
				    opt, opt);
			return -2;
		}
		if (in_list(revert, opt)) {
			strbuf_addf(msg,
				    "you can't use '-delete %s' and "
				    "-revert %s' at the same time",
				    opt, opt);
			return -1;
		}
		if (!qm_config_key(opt)) {
			strbuf_addf(msg, "unknown option '%s'", opt);
			return -2;
		}
	}
	return 0;
}

/* The handler's checks of POST/PUT .../config, after the schema's. */
static void qm_config_checks(const struct sim_param *p, size_t n,
			     json_t *errors)
{
	struct strvec revert = STRVEC_INIT, del = STRVEC_INIT;
	struct strbuf msg = STRBUF_INIT;
	const char *rv = given(p, n, "revert"), *dv = given(p, n, "delete");
	int rc;

	split_list(&revert, rv ? rv : "");
	split_list(&del, dv ? dv : "");
	rc = qm_revert_checks(p, n, &revert, &msg);
	if (!rc)
		rc = qm_delete_checks(p, n, &del, &revert, &msg);
	if (rc)
		add_error(errors, rc == -1 ? "revert" : "delete", msg.buf);
	strvec_clear(&revert);
	strvec_clear(&del);
	strbuf_release(&msg);
}

const struct schema_endpoint *schema_find(const char *path_tmpl,
					  const char *method)
{
	size_t i;

	for (i = 0; i < schema_nendpoints; i++)
		if (!strcmp(schema_endpoints[i].path, path_tmpl) &&
		    !strcmp(schema_endpoints[i].method, method))
			return &schema_endpoints[i];
	return NULL;
}

int schema_endpoint_protected(const struct schema_endpoint *ep)
{
	return !!(ep->flags & SCHEMA_EP_PROTECTED);
}

int schema_endpoint_allowtoken(const struct schema_endpoint *ep)
{
	return !!(ep->flags & SCHEMA_EP_ALLOWTOKEN);
}

int schema_check(const struct schema_endpoint *ep, const struct sim_param *p,
		 size_t n, json_t *errors)
{
	json_t *errs = json_object();
	size_t i, bad;

	for (i = 0; i < ep->nparams; i++)
		check_param(&ep->params[i], p, n, errs);
	for (i = 0; i < n; i++)
		if (is_last(p, n, i))
			check_given(ep, p, n, i, errs);
	if (!json_object_size(errs) && (ep->flags & SCHEMA_EP_QM_CONFIG))
		qm_config_checks(p, n, errs);
	bad = json_object_size(errs);
	json_object_update(errors, errs);
	json_decref(errs);
	return (int)bad;
}

int schema_parse_propstring(const char *name, const char *value,
			    struct strvec *keys, struct strvec *vals,
			    struct strbuf *err)
{
	const struct schema_prop *sp =
		find_prop(schema_propstrings, schema_npropstrings, name);
	struct psres res = PSRES_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (!sp) {
		strbuf_addf(err, "'%s' is not a property-string parameter",
			    name);
		goto out;
	}
	if (ps_parse_checked(sp, value, name, &res, &why) < 0) {
		if (why.len && why.buf[why.len - 1] == '\n')
			strbuf_setlen(&why, why.len - 1);
		strbuf_addstr(err, why.buf);
		goto out;
	}
	for (i = 0; i < res.nr; i++) {
		strvec_push(keys, res.items[i].key);
		strvec_push(vals, res.items[i].val);
	}
	ret = 0;
out:
	psres_release(&res);
	strbuf_release(&why);
	return ret;
}
