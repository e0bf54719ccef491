/*
 * config.c - pve-gitops.yaml: defaults and decoding; see config.h.
 */
#include "core/config.h"

#include "core/lease.h"
#include "core/pve_format.h"
#include "core/sshargs.h"
#include "core/recost.h"
#include "core/suggest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ydecode.h"
#include "util/parse.h"
#include "util/url.h"
#include "util/xalloc.h"

#define CFG(t) ((struct config *)(t))

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

static void config_init_provision_wait(struct config *cfg);

void config_init(struct config *cfg)
{
	static const struct {
		const char *pattern, *group;
	} rules[] = {
		{ "^haproxy(-.*)?$", "haproxy" },
		{ "^talos-[^-]+-cp[0-9]+$", "talos_control_plane" },
		{ "^talos-[^-]+-w[0-9]+$", "talos_workers" },
		{ "^k8s-[^-]+$", "k3s" },
		/* the seed's multi-node clusters (k8s-ha.yml): k8s-NAME-cpNN
		 * servers with embedded etcd, k8s-NAME-wNN agents */
		{ "^k8s-[^-]+-cp[0-9]+$", "k3s_servers" },
		{ "^k8s-[^-]+-w[0-9]+$", "k3s_agents" },
	};
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	set_str(&cfg->root, ".");
	cfg->color = true;
	set_str(&cfg->vms_dir, "proxmox/vms");
	set_str(&cfg->inventory, "proxmox/k8s.ini");
	set_str(&cfg->new_hosts, "proxmox/new_hosts.txt");
	set_str(&cfg->playbooks_dir, "proxmox/playbooks");
	set_str(&cfg->outputs, "proxmox/.pve-gitops/outputs.json");
	set_str(&cfg->host_vars_dir, "proxmox/host_vars");
	set_str(&cfg->clusters_dir, "clusters");
	strvec_init(&cfg->exclude);
	strvec_pushl(&cfg->exclude, "k8s-home.yaml", "boot-server.yaml", NULL);
	set_str(&cfg->ansible_user, "ubuntu");
	cfg->validate_with_ansible = ANSIBLE_CHECK_AUTO;
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		ALLOC_GROW(cfg->groups, cfg->nr_groups + 1, cfg->alloc_groups);
		cfg->groups[cfg->nr_groups].pattern = xstrdup(rules[i].pattern);
		cfg->groups[cfg->nr_groups].group = xstrdup(rules[i].group);
		cfg->nr_groups++;
	}
	cfg->proxmox.parallel = 4;
	cfg->proxmox.per_node_limit = 4;
	cfg->proxmox.timeout_seconds = 600;
	cfg->http.connect_timeout_seconds = 10;
	cfg->http.low_speed_seconds = 30;
	cfg->http.timeout_seconds = 300;
	set_str(&cfg->vault.mount, "kv");
	set_str(&cfg->vault.path, "cluster-secret-store/secrets/KUBECONFIG");
	set_str(&cfg->vault.key, "KUBECONFIG");
	cfg->ssh.port = 22;
	cfg->ssh.wait_seconds = 300;
	set_str(&cfg->ssh.known_hosts, "~/.ssh/known_hosts");
	set_str(&cfg->git.author_name, "pve-gitops");
	set_str(&cfg->git.author_email, "pve-gitops@localhost");
	set_str(&cfg->git.remote, "origin");
	set_str(&cfg->git.branch, "main");
	cfg->ansible.timeout_seconds = 3600;
	cfg->ansible.memory_limit = (uint64_t)4 << 30;
	cfg->defaults = (struct vmdef_defaults)VMDEF_DEFAULTS_INIT;
	cfg->reboot.timeout_seconds = 300;
	cfg->dhcp.wait_seconds = 120;
	cfg->runner.lease_ttl_seconds = 120;
	cfg->runner.lease_wait_seconds = 900;
	cfg->provision.cloud_init_wait_seconds = 1200;
	strvec_init(&cfg->workloads.more);
	config_init_provision_wait(cfg);
}

static void free_groups(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_groups; i++) {
		free(cfg->groups[i].pattern);
		free(cfg->groups[i].group);
	}
	free(cfg->groups);
	cfg->groups = NULL;
	cfg->nr_groups = cfg->alloc_groups = 0;
}

static void free_release_rules(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_release_rules; i++)
		free((char *)cfg->release_rules[i].type);
	free(cfg->release_rules);
	cfg->release_rules = NULL;
	cfg->nr_release_rules = cfg->alloc_release_rules = 0;
}

static void free_wait_rules(struct config *cfg);
static void free_ip_pools(struct config *cfg);
static void free_ssh_connect(struct config *cfg);

static void proxmox_cfg_release(struct proxmox_cfg *p)
{
	free(p->endpoint);
	free(p->tls_ca_file);
	free(p->tls_fingerprint);
	free(p->token_id);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

static void free_clusters(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->clusters.nr; i++) {
		free(cfg->clusters.v[i].name);
		proxmox_cfg_release(&cfg->clusters.v[i].p);
	}
	free(cfg->clusters.v);
	memset(&cfg->clusters, 0, sizeof(cfg->clusters));
	free(cfg->only_cluster);
	cfg->only_cluster = NULL;
}

void config_release(struct config *cfg)
{
	char **strs[] = {
		&cfg->root,
		&cfg->vms_dir,
		&cfg->inventory,
		&cfg->new_hosts,
		&cfg->playbooks_dir,
		&cfg->outputs,
		&cfg->host_vars_dir,
		&cfg->clusters_dir,
		&cfg->ansible_user,
		&cfg->proxmox.endpoint,
		&cfg->proxmox.tls_ca_file,
		&cfg->proxmox.tls_fingerprint,
		&cfg->proxmox.token_id,
		&cfg->proxmox.user,
		&cfg->vault.addr,
		&cfg->vault.mount,
		&cfg->vault.path,
		&cfg->vault.key,
		&cfg->vault.namespace,
		&cfg->ssh.user,
		&cfg->ssh.known_hosts,
		&cfg->git.author_name,
		&cfg->git.author_email,
		&cfg->git.remote,
		&cfg->git.branch,
		&cfg->release_tag_format,
		&cfg->workloads.terraform,
	};
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	strvec_clear(&cfg->exclude);
	strvec_clear(&cfg->workloads.more);
	free_clusters(cfg);
	free_groups(cfg);
	free_release_rules(cfg);
	free_wait_rules(cfg);
	free_ip_pools(cfg);
	free_ssh_connect(cfg);
}

/* ---- checks ----------------------------------------------------------- */

static int check_repo_path(const char *s, struct strbuf *why)
{
	const char *p = s;

	if (!*s || s[0] == '/') {
		strbuf_addstr(why,
			      "not a path relative to the repository root");
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2)) {
			strbuf_addstr(why, "a path that leaves the repository");
			return -1;
		}
		/* git's own directory is not the repository's content:
		 * nothing is read from or written into it (hooks, config) */
		if (n == 4 && !strncasecmp(p, ".git", 4)) {
			strbuf_addstr(why, "a path inside .git");
			return -1;
		}
		p += n;
		p += strspn(p, "/");
	}
	for (p = s; *p; p++) {
		if ((unsigned char)*p < 0x20) {
			strbuf_addstr(why, "a path with control characters");
			return -1;
		}
	}
	return 0;
}

static int check_file_base(const char *s, struct strbuf *why)
{
	if (*s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, ".."))
		return 0;
	strbuf_addstr(why, "not a file name (no '/')");
	return -1;
}

/* check_url, check_fingerprint and check_word as the schema's patterns */
#define URL_RE "^https?://"
#define FINGERPRINT_RE \
	"^(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})$"
#define WORD_RE "^[^\\s\\x00-\\x1f\\x7f-][^\\s\\x00-\\x1f\\x7f]*$"

static int check_url(const char *s, struct strbuf *why)
{
	const char *host;

	if (!strncmp(s, "https://", 8))
		host = s + 8;
	else if (!strncmp(s, "http://", 7))
		host = s + 7;
	else {
		strbuf_addstr(why, "not an http:// or https:// URL");
		return -1;
	}
	if (!*host || *host == '/' || strpbrk(s, " \t\r\n")) {
		strbuf_addstr(why, "a URL without a host");
		return -1;
	}
	return 0;
}

/* A SHA-256 pin in either form pve_parse_fingerprint reads, refused here, at
 * its line, rather than by the HTTP client at run time. */
static int check_fingerprint(const char *s, struct strbuf *why)
{
	unsigned char md[32];

	return pve_parse_fingerprint(md, s, why);
}

static int check_any_path(const char *s, struct strbuf *why)
{
	if (*s && !strpbrk(s, "\r\n"))
		return 0;
	strbuf_addstr(why, "not a path");
	return -1;
}

/* ssh.known_hosts goes into an ssh option value (core/sshargs.h). */
static int check_known_hosts(const char *s, struct strbuf *why)
{
	return sshargs_check_known_hosts(s, why);
}

static int check_word(const char *s, struct strbuf *why)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			break;
	if (i && !s[i] && s[0] != '-')
		return 0;
	strbuf_addstr(why, "empty, starts with '-' or contains spaces or "
			   "control characters");
	return -1;
}

/*
 * A branch name as `git check-ref-format --branch` takes it, and nothing a
 * refspec or a revision could read as more: no ':', '^', '~', '?', '*',
 * '[', '\\', space or control character, no leading '+' (a forced
 * refspec), no "..", "@{" or "//", no component starting with '.' or
 * ending with ".lock", not "@", not HEAD.
 */
int config_check_branch(const char *s, struct strbuf *why)
{
	size_t i, n = strlen(s);
	bool start = true;

	if (!n || n > 255 || s[0] == '-' || s[0] == '+' || s[0] == '/' ||
	    s[n - 1] == '/' || s[n - 1] == '.' || !strcmp(s, "@") ||
	    !strcmp(s, "HEAD") || strstr(s, "..") || strstr(s, "@{") ||
	    strstr(s, "//"))
		goto bad;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || strchr(":^~?*[\\", c) ||
		    (start && c == '.'))
			goto bad;
		if (c == '/' || i == n - 1) {
			size_t end = c == '/' ? i : n;

			if (end >= 5 && !strncmp(s + end - 5, ".lock", 5))
				goto bad;
		}
		start = c == '/';
	}
	return 0;
bad:
	strbuf_addstr(why, "not a branch name (as git check-ref-format "
			   "--branch takes it)");
	return -1;
}

static int check_kv_path(const char *s, struct strbuf *why)
{
	if (*s && s[0] != '/' && !strstr(s, "..") && !strpbrk(s, " \t\r\n?#"))
		return 0;
	strbuf_addstr(why, "not a Vault secret path (relative, no '..', "
			   "spaces, '?' or '#')");
	return -1;
}

static int check_group(const char *s, struct strbuf *why)
{
	/* Ansible group names: letters, digits and underscores */
	if (is_identifier(s))
		return 0;
	strbuf_addstr(why, "not an Ansible group name (letters, digits and "
			   "'_', not starting with a digit)");
	return -1;
}

/* ---- field handlers --------------------------------------------------- */

#define CFG_STRING(fn, member, check)                                         \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k,     \
		      const struct ynode *v, const char *path)                \
	{                                                                     \
		(void)k;                                                      \
		return yd_checked_string(d, v, path, &CFG(t)->member, check); \
	}
#define CFG_BOOL(fn, member)                                              \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k, \
		      const struct ynode *v, const char *path)            \
	{                                                                 \
		int b;                                                    \
		(void)k;                                                  \
		if (yd_bool(d, v, path, &b) < 0)                          \
			return -1;                                        \
		CFG(t)->member = b;                                       \
		return 0;                                                 \
	}
#define CFG_UINT(fn, member, min, max)                                    \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k, \
		      const struct ynode *v, const char *path)            \
	{                                                                 \
		(void)k;                                                  \
		return yd_uint(d, v, path, min, max, &CFG(t)->member);    \
	}

CFG_STRING(c_vms_dir, vms_dir, check_repo_path)
CFG_STRING(c_inventory, inventory, check_repo_path)
CFG_STRING(c_new_hosts, new_hosts, check_repo_path)
CFG_STRING(c_playbooks_dir, playbooks_dir, check_repo_path)
CFG_STRING(c_outputs, outputs, check_repo_path)
CFG_STRING(c_host_vars_dir, host_vars_dir, check_repo_path)
CFG_STRING(c_clusters_dir, clusters_dir, check_repo_path)
CFG_STRING(c_ansible_user, ansible_user, pve_check_user)

static int check_tag_format(const char *s, struct strbuf *why)
{
	const char *v = strstr(s, "${version}");

	if (v && !strstr(v + 1, "${version}") && strlen(s) <= 100 &&
	    !strpbrk(s, " ~^:?*[\\"))
		return 0;
	strbuf_addstr(why, "a tag name holding ${version} once (at most 100 "
			   "characters, no spaces or ~^:?*[\\)");
	return -1;
}

CFG_STRING(c_release_tag_format, release_tag_format, check_tag_format)

/* release_types: {chore: patch, docs: patch}: extra release rules. */
static int c_release_types(struct ydecoder *d, void *t, const struct ynode *k,
			   const struct ynode *v, const char *path)
{
	struct config *cfg = CFG(t);
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_MAP) {
		yd_error(d, v, path,
			 "expected a mapping of commit type to patch, minor "
			 "or major, got %s",
			 ynode_describe(v));
		return -1;
	}
	free_release_rules(cfg);
	for (i = 0; i < ymap_size(v); i++) {
		const struct ynode *key = ymap_key(v, i),
				   *val = ymap_value(v, i);
		enum release_type rt;
		size_t n = key->kind == YNODE_SCALAR ? strlen(key->str) : 0;

		if (!n || n > 32 || n != key->len ||
		    strspn(key->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				     "opqrstuvwxyz0123456789_") != n) {
			yd_error(d, key, path,
				 "a commit type is 1 to 32 letters, digits "
				 "or '_'");
			ret = -1;
			continue;
		}
		if (val->kind != YNODE_SCALAR ||
		    release_type_parse(&rt, val->str) < 0) {
			yd_error(d, val, path,
				 "%s: expected patch, minor or "
				 "major",
				 key->str);
			ret = -1;
			continue;
		}
		ALLOC_GROW(cfg->release_rules, cfg->nr_release_rules + 1,
			   cfg->alloc_release_rules);
		cfg->release_rules[cfg->nr_release_rules].type =
			xstrdup(key->str);
		cfg->release_rules[cfg->nr_release_rules].release = rt;
		cfg->nr_release_rules++;
	}
	return ret;
}
CFG_BOOL(c_strict_secrets, strict_secrets)
CFG_BOOL(c_prune, prune)
CFG_BOOL(c_release, release)

CFG_STRING(p_endpoint, proxmox.endpoint, check_url)
CFG_STRING(p_tls_ca_file, proxmox.tls_ca_file, check_any_path)
/* The pin, checked, kept in the form the HTTP client reads: "AB:CD:...". */
static int p_tls_fingerprint(struct ydecoder *d, void *t, const struct ynode *k,
			     const struct ynode *v, const char *path)
{
	char **fp = &CFG(t)->proxmox.tls_fingerprint;
	struct strbuf norm = STRBUF_INIT;
	unsigned char md[32];

	(void)k;
	if (yd_checked_string(d, v, path, fp, check_fingerprint) < 0)
		return -1;
	if (pve_parse_fingerprint(md, *fp, &norm) < 0)
		return -1; /* not reached: checked above */
	pve_format_fingerprint(&norm, md);
	free(*fp);
	*fp = strbuf_detach(&norm, NULL);
	return 0;
}
CFG_STRING(p_token_id, proxmox.token_id, check_word)
CFG_STRING(p_user, proxmox.user, check_word)
CFG_BOOL(p_tls_insecure, proxmox.tls_insecure)
CFG_UINT(p_parallel, proxmox.parallel, 1, 64)
CFG_UINT(p_per_node_limit, proxmox.per_node_limit, 1, 64)
CFG_UINT(p_timeout, proxmox.timeout_seconds, 1, 86400)

CFG_STRING(v_addr, vault.addr, check_url)
CFG_STRING(v_mount, vault.mount, check_kv_path)
CFG_STRING(v_path, vault.path, check_kv_path)
CFG_STRING(v_key, vault.key, check_word)
CFG_STRING(v_namespace, vault.namespace, check_kv_path)

CFG_UINT(h_connect, http.connect_timeout_seconds, 1, 3600)
CFG_UINT(h_low_speed, http.low_speed_seconds, 1, 3600)
CFG_UINT(h_timeout, http.timeout_seconds, 1, 86400)

CFG_UINT(s_port, ssh.port, 1, 65535)
CFG_UINT(s_wait, ssh.wait_seconds, 0, 86400)
CFG_STRING(s_user, ssh.user, check_word)
CFG_STRING(s_known_hosts, ssh.known_hosts, check_known_hosts)

CFG_STRING(g_author_name, git.author_name, check_any_path)
CFG_STRING(g_author_email, git.author_email, check_word)
CFG_STRING(g_remote, git.remote, check_word)
CFG_STRING(g_branch, git.branch, config_check_branch)

/* A secret written into the config file: refuse it and say where it goes. */
static int c_secret(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)t;
	(void)v;
	yd_error(d, k, path,
		 "secrets do not belong in the repository; set %s "
		 "in the environment",
		 !strcmp(path, "vault.token")	     ? "VAULT_TOKEN"
		 : !strcmp(path, "proxmox.password") ? "PM_PASS"
						     : "PM_API_TOKEN_SECRET");
	return -1;
}

/*
 * The keys of proxmox: and of a clusters: entry: the same handlers (a
 * clusters: entry decodes into the proxmox block of a scratch config);
 * what differs is where the endpoint and the secrets come from otherwise
 * (url_doc, the variables secret_env and pass_env) and the refusal of a
 * secret (secret_fn).
 */
#define PROXMOX_FIELDS(url_doc, secret_env, pass_env, secret_fn)                        \
	{ "endpoint", p_endpoint, 0, YD_STR(url_doc, NULL, URL_RE) },                   \
		{ "tls_insecure", p_tls_insecure, 0,                                    \
		  YD_DOC(YT_BOOL, "skip TLS certificate checks (lab use)",              \
			 "false") },                                                    \
		{ "tls_ca_file", p_tls_ca_file, 0,                                      \
		  YD_DOC(YT_STRING,                                                     \
			 "CA bundle to check the API's certificate with",               \
			 NULL) },                                                       \
		{ "tls_fingerprint", p_tls_fingerprint, 0,                              \
		  YD_STR("SHA-256 fingerprint the API's certificate must "              \
			 "have",                                                        \
			 NULL, FINGERPRINT_RE) },                                       \
		{ "token_id", p_token_id, 0,                                            \
		  YD_DOC(YT_STRING,                                                     \
			 "API token id (USER@REALM!NAME); the secret from " secret_env, \
			 NULL) },                                                       \
		{ "user", p_user, 0,                                                    \
		  YD_DOC(YT_STRING,                                                     \
			 "user for password login (USER@REALM); the "                   \
			 "password from " pass_env,                                     \
			 NULL) },                                                       \
		{ "parallel", p_parallel, 0,                                            \
		  YD_INT("VM operations at once", "4", 1, 64) },                        \
		{ "per_node_limit", p_per_node_limit, 0,                                \
		  YD_INT("VM operations at once on one node", "4", 1, 64) },            \
		{ "timeout_seconds", p_timeout, 0,                                      \
		  YD_INT("how long to wait for a Proxmox task", "600", 1,               \
			 86400) },                                                      \
		{ "token_secret", secret_fn, 1,                                         \
		  YD_DOC(YT_FORBIDDEN,                                                  \
			 "refused: a secret in the repository; set " secret_env,        \
			 NULL) },                                                       \
		{ "password", secret_fn, 1,                                             \
		  YD_DOC(YT_FORBIDDEN,                                                  \
			 "refused: a secret in the repository; set " pass_env,          \
			 NULL) },                                                       \
	{                                                                               \
		NULL, NULL, 0,                                                          \
		{                                                                       \
			0                                                               \
		}                                                                       \
	}

static const struct yd_field proxmox_fields[] = { PROXMOX_FIELDS(
	"Proxmox API URL (https://host:8006); PM_API_URL or "
	"PROXMOX_VE_ENDPOINT wins over it",
	"PM_API_TOKEN_SECRET", "PM_PASS", c_secret) };

static const struct yd_field vault_fields[] = {
	{ "addr", v_addr, 0,
	  YD_STR("Vault URL; also VAULT_ADDR", NULL, URL_RE) },
	{ "mount", v_mount, 0, YD_DOC(YT_STRING, "KV v2 mount", "\"kv\"") },
	{ "path", v_path, 0,
	  YD_DOC(YT_STRING, "secret path of the kubeconfigs",
		 "\"cluster-secret-store/secrets/KUBECONFIG\"") },
	{ "key", v_key, 0,
	  YD_DOC(YT_STRING, "key in the secret", "\"KUBECONFIG\"") },
	{ "namespace", v_namespace, 0,
	  YD_DOC(YT_STRING, "Vault Enterprise namespace", NULL) },
	{ "token", c_secret, 1,
	  YD_DOC(YT_FORBIDDEN,
		 "refused: a secret in the repository; set VAULT_TOKEN",
		 NULL) },
	{ NULL, NULL, 0, { 0 } },
};

static const struct yd_field http_fields[] = {
	{ "connect_timeout_seconds", h_connect, 0,
	  YD_INT("HTTP connect timeout", "10", 1, 3600) },
	{ "low_speed_seconds", h_low_speed, 0,
	  YD_INT("abort an HTTP transfer stalled this long", "30", 1, 3600) },
	{ "timeout_seconds", h_timeout, 0,
	  YD_INT("whole HTTP request timeout", "300", 1, 86400) },
	{ NULL, NULL, 0, { 0 } },
};

/*
 * ssh.connect: {ADDRESS or NAME: "HOST:PORT"}, where SSH to a VM goes
 * instead of its address and ssh.port. HOST is an IPv4 address (the SSH
 * wait connects with it as it is); a key given twice is an error.
 */
static void free_ssh_connect(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->ssh.nr_connect; i++) {
		free(cfg->ssh.connect[i].key);
		free(cfg->ssh.connect[i].host);
	}
	free(cfg->ssh.connect);
	cfg->ssh.connect = NULL;
	cfg->ssh.nr_connect = cfg->ssh.alloc_connect = 0;
}

static bool is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

/* A key: an IPv4 address, or a VM name (letters, digits, '.', '_', '-',
 * not starting with '-'). */
static int check_connect_key(const char *s, struct strbuf *why)
{
	size_t n = strlen(s);

	if (is_ipv4(s) ||
	    (n && n <= 63 && s[0] != '-' && s[0] != '.' &&
	     strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		       "0123456789._-") == n))
		return 0;
	strbuf_addstr(why, "not an IPv4 address or a VM name");
	return -1;
}

/* "HOST:PORT": an IPv4 address and a port 1 to 65535. */
static int parse_connect(const char *s, char **host, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	char addr[INET_ADDRSTRLEN];
	unsigned long v = 0;
	size_t n, i;

	if (!colon || (size_t)(colon - s) >= sizeof(addr))
		return -1;
	n = (size_t)(colon - s);
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (!is_ipv4(addr) || !colon[1] || strlen(colon + 1) > 5)
		return -1;
	for (i = 1; colon[i]; i++) {
		if (!isdigit((unsigned char)colon[i]))
			return -1;
		v = v * 10 + (unsigned long)(colon[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*host = xstrdup(addr);
	*port = (unsigned)v;
	return 0;
}

static int s_connect_entry(struct ydecoder *d, void *t, const struct ynode *k,
			   const struct ynode *v, const char *path)
{
	struct config *cfg = CFG(t);
	struct ssh_connect *c;
	char *key = NULL, *host = NULL;
	unsigned port = 0;
	size_t i;

	if (yd_checked_string(d, k, path, &key, check_connect_key) < 0)
		return -1;
	if (v->kind != YNODE_SCALAR || strlen(v->str) != v->len ||
	    parse_connect(v->str, &host, &port) < 0) {
		yd_error(d, v, path,
			 "expected \"HOST:PORT\" (an IPv4 address and a "
			 "port from 1 to 65535)");
		free(key);
		return -1;
	}
	for (i = 0; i < cfg->ssh.nr_connect; i++)
		if (!strcmp(cfg->ssh.connect[i].key, key)) {
			yd_error(d, k, path, "given twice");
			free(key);
			free(host);
			return -1;
		}
	ALLOC_GROW(cfg->ssh.connect, cfg->ssh.nr_connect + 1,
		   cfg->ssh.alloc_connect);
	c = &cfg->ssh.connect[cfg->ssh.nr_connect++];
	c->key = key;
	c->host = host;
	c->port = port;
	return 0;
}

static int s_connect(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	if (v->kind != YNODE_MAP) {
		yd_error(d, v, path,
			 "expected a mapping of VM addresses or names to "
			 "\"HOST:PORT\", got %s",
			 ynode_describe(v));
		return -1;
	}
	free_ssh_connect(CFG(t));
	return yd_each(d, v, path, s_connect_entry, t);
}

const struct ssh_connect *config_ssh_target(const struct config *cfg,
					    const char *name, const char *ip,
					    const char **host, unsigned *port)
{
	const struct ssh_connect *hit = NULL;
	size_t i;

	for (i = 0; ip && !hit && i < cfg->ssh.nr_connect; i++)
		if (!strcmp(cfg->ssh.connect[i].key, ip))
			hit = &cfg->ssh.connect[i];
	for (i = 0; name && !hit && i < cfg->ssh.nr_connect; i++)
		if (!strcmp(cfg->ssh.connect[i].key, name))
			hit = &cfg->ssh.connect[i];
	*host = hit ? hit->host : ip;
	*port = hit ? hit->port : (unsigned)cfg->ssh.port;
	return hit;
}

static const struct yd_field ssh_fields[] = {
	{ "port", s_port, 0, YD_INT("SSH port of the VMs", "22", 1, 65535) },
	{ "user", s_user, 0,
	  YD_DOC(YT_STRING, "SSH user (default: ansible_user)", NULL) },
	{ "known_hosts", s_known_hosts, 0,
	  YD_DOC(YT_STRING, "known_hosts file", "\"~/.ssh/known_hosts\"") },
	{ "wait_seconds", s_wait, 0,
	  YD_INT("how long to wait for SSH on a new VM", "300", 0, 86400) },
	{ "connect", s_connect, 0,
	  YD_DOC(YT_DICT,
		 "where SSH to a VM goes instead (a NAT or port forward): "
		 "ADDRESS or NAME: \"HOST:PORT\"; the host key stays known "
		 "under the VM's address (HostKeyAlias)",
		 "{}") },
	{ NULL, NULL, 0, { 0 } },
};

CFG_UINT(a_timeout, ansible.timeout_seconds, 0, 604800)

/* ansible.memory_limit: a size ("4G", "512M", at least 64M) or 0: none. */
static int a_memory_limit(struct ydecoder *d, void *t, const struct ynode *k,
			  const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	uint64_t bytes = 0;
	int ret = 0;

	(void)k;
	if (v->kind == YNODE_SCALAR && !strcmp(v->str, "0"))
		bytes = 0;
	else if (v->kind != YNODE_SCALAR ||
		 pve_parse_size(&bytes, v->str, &why) < 0 ||
		 bytes < ((uint64_t)64 << 20))
		ret = -1;
	if (ret < 0)
		yd_error(d, v, path,
			 "expected a size of at least 64M (such as 4G), or 0 "
			 "for no limit%s%s",
			 why.len ? ": " : "", why.buf);
	else
		CFG(t)->ansible.memory_limit = bytes;
	strbuf_release(&why);
	return ret;
}

static const struct yd_field ansible_fields[] = {
	{ "timeout", a_timeout, 0,
	  YD_INT("playbook timeout in seconds (0: none)", "3600", 0, 604800) },
	{ "memory_limit", a_memory_limit, 0,
	  YD_DOC(YT_STRING,
		 "memory limit of ansible-playbook (such as 4G; 0: none)",
		 "\"4G\"") },
	{ NULL, NULL, 0, { 0 } },
};

static const struct yd_field git_fields[] = {
	{ "author_name", g_author_name, 0,
	  YD_DOC(YT_STRING, "author of automated commits", "\"pve-gitops\"") },
	{ "author_email", g_author_email, 0,
	  YD_DOC(YT_STRING, "e-mail of automated commits",
		 "\"pve-gitops@localhost\"") },
	{ "remote", g_remote, 0,
	  YD_STR("remote to push to", "\"origin\"", WORD_RE) },
	{ "branch", g_branch, 0,
	  YD_DOC(YT_STRING, "branch to push to", "\"main\"") },
	{ NULL, NULL, 0, { 0 } },
};

#define CFG_SECTION(fn, fields)                                           \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k, \
		      const struct ynode *v, const char *path)            \
	{                                                                 \
		(void)k;                                                  \
		return yd_map(d, v, path, fields, t);                     \
	}
CFG_SECTION(c_vault, vault_fields)
CFG_SECTION(c_http, http_fields)
CFG_SECTION(c_ssh, ssh_fields)
CFG_SECTION(c_git, git_fields)
CFG_SECTION(c_ansible, ansible_fields)

#define CFG_DEFAULT_BOOL(fn, member)                                      \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k, \
		      const struct ynode *v, const char *path)            \
	{                                                                 \
		(void)k;                                                  \
		return yd_bool(d, v, path, &CFG(t)->defaults.member);     \
	}
CFG_DEFAULT_BOOL(d_onboot, onboot)
CFG_DEFAULT_BOOL(d_full_clone, full_clone)
CFG_DEFAULT_BOOL(d_agent, agent)
CFG_DEFAULT_BOOL(d_automatic_reboot, automatic_reboot)
CFG_DEFAULT_BOOL(d_network_firewall, network_firewall)
CFG_DEFAULT_BOOL(d_migrate, migrate)

static int d_scsihw(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	size_t i;

	(void)k;
	for (i = 0; pve_scsihw_models[i]; i++)
		if (v->kind == YNODE_SCALAR &&
		    !strcmp(v->str, pve_scsihw_models[i])) {
			CFG(t)->defaults.scsihw = pve_scsihw_models[i];
			return 0;
		}
	yd_error(d, v, path,
		 "expected one of the SCSI controllers Proxmox "
		 "knows (virtio-scsi-single, virtio-scsi-pci, lsi, "
		 "...)");
	return -1;
}

/* defaults.nested_disks: "original" (the slots main.tf reads) or "all" */
static const char *const nested_modes[] = { "original", "all", NULL };

static int d_nested_disks(struct ydecoder *d, void *t, const struct ynode *k,
			  const struct ynode *v, const char *path)
{
	char *s = NULL;

	(void)k;
	if (yd_enum(d, v, path, nested_modes, &s) < 0)
		return -1;
	CFG(t)->defaults.nested_disks_all = !strcmp(s, "all");
	free(s);
	return 0;
}

static const struct yd_field defaults_fields[] = {
	{ "onboot", d_onboot, 0,
	  YD_DOC(YT_BOOL, "onboot of a VM that does not set it", "true") },
	{ "full_clone", d_full_clone, 0,
	  YD_DOC(YT_BOOL, "full_clone of a VM that does not set it", "false") },
	{ "agent", d_agent, 0,
	  YD_DOC(YT_BOOL, "agent of a VM that does not set it", "false") },
	{ "automatic_reboot", d_automatic_reboot, 0,
	  YD_DOC(YT_BOOL, "automatic_reboot of a VM that does not set it",
		 "true") },
	{ "network_firewall", d_network_firewall, 0,
	  YD_DOC(YT_BOOL, "firewall of a network device that does not set it",
		 "true") },
	{ "scsihw", d_scsihw, 0,
	  YD_ENUM("scsihw of a VM that does not set it",
		  "\"" VMDEF_DEFAULT_SCSIHW "\"", pve_scsihw_models) },
	{ "nested_disks", d_nested_disks, 0,
	  YD_ENUM("nested_disks slots read: original (those main.tf reads) or all",
		  "\"original\"", nested_modes) },
	{ "migrate", d_migrate, 0,
	  YD_DOC(YT_BOOL, "migrate of a VM that does not set it", "true") },
	{ NULL, NULL, 0, { 0 } },
};

CFG_UINT(r_timeout, reboot.timeout_seconds, 1, 86400)
CFG_BOOL(r_force, reboot.force)

static const struct yd_field reboot_fields[] = {
	{ "timeout_seconds", r_timeout, 0,
	  YD_INT("how long a VM may take to reboot", "300", 1, 86400) },
	{ "force", r_force, 0,
	  YD_DOC(YT_BOOL, "stop a VM that does not shut down in time",
		 "false") },
	{ NULL, NULL, 0, { 0 } },
};

CFG_SECTION(c_defaults, defaults_fields)
CFG_SECTION(c_reboot, reboot_fields)

/* dhcp: the wait for a DHCP VM's address from its guest agent */
CFG_UINT(dh_wait, dhcp.wait_seconds, 0, 86400)

static const struct yd_field dhcp_fields[] = {
	{ "wait_seconds", dh_wait, 0,
	  YD_INT("how long to wait for a DHCP VM's address", "120", 0, 86400) },
	{ NULL, NULL, 0, { 0 } },
};

CFG_SECTION(c_dhcp, dhcp_fields)

/* The value of key in the mapping m, or m itself when it has none. */
static const struct ynode *map_value(const struct ynode *m, const char *key)
{
	size_t i;

	for (i = 0; i + 1 < m->nr; i += 2)
		if (m->kids[i]->kind == YNODE_SCALAR &&
		    !strcmp(m->kids[i]->str, key))
			return m->kids[i + 1];
	return m;
}

/*
 * The proxmox section; a pin or a CA file says TLS is expected, so an
 * http:// endpoint beside one is an error here, at the pin's line.
 */
/* A pin or a CA file beside an http:// endpoint: an error at the pin. */
static int check_proxmox_tls(struct ydecoder *d, const struct proxmox_cfg *p,
			     const struct ynode *v, const char *path)
{
	struct strbuf at = STRBUF_INIT, shown = STRBUF_INIT;
	const char *key;

	key = p->tls_fingerprint ? "tls_fingerprint"
	      : p->tls_ca_file	 ? "tls_ca_file"
				 : NULL;
	if (!key || !p->endpoint || strncmp(p->endpoint, "http://", 7))
		return 0;
	yd_path(&at, path, key);
	yd_error(d, map_value(v, key), at.buf,
		 "a TLS setting for the plain HTTP endpoint %s: use "
		 "https://, or drop %s",
		 url_redacted(&shown, p->endpoint), key);
	strbuf_release(&at);
	strbuf_release(&shown);
	return -1;
}

static int c_proxmox(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	struct config *cfg = t;

	(void)k;
	cfg->clusters.has_default = true;
	if (yd_map(d, v, path, proxmox_fields, t) < 0)
		return -1;
	return check_proxmox_tls(d, &cfg->proxmox, v, path);
}

/* A secret in a clusters: entry: the variable named after the cluster. */
static int c_cluster_secret(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	const char *dot = strrchr(path, '.');

	(void)t;
	(void)v;
	yd_error(d, k, path,
		 "secrets do not belong in the repository; set %s_<NAME> "
		 "in the environment (NAME: the cluster's, upper-cased, "
		 "'-' as '_')",
		 dot && !strcmp(dot, ".password") ? "PM_PASS"
						  : "PM_API_TOKEN_SECRET");
	return -1;
}

/* The keys of a clusters: entry: proxmox:'s (their handlers write the
 * proxmox block of the scratch config cluster_entry decodes into). */
static const struct yd_field cluster_fields[] = { PROXMOX_FIELDS(
	"the cluster's Proxmox API URL (https://host:8006); "
	"PM_API_URL_<NAME> wins over it",
	"PM_API_TOKEN_SECRET_<NAME>", "PM_PASS_<NAME>", c_cluster_secret) };

int config_check_cluster_name(const char *s, struct strbuf *why)
{
	size_t n = strlen(s);

	if (n && n <= 32 &&
	    strchr("abcdefghijklmnopqrstuvwxyz0123456789", *s) &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n)
		return 0;
	strbuf_addstr(why, "a cluster name is 1 to 32 lower-case letters, "
			   "digits, '_' or '-', starting with a letter or "
			   "digit");
	return -1;
}

const struct proxmox_cfg *config_cluster(const struct config *cfg,
					 const char *name)
{
	size_t i;

	if (!name || !strcmp(name, CONFIG_DEFAULT_CLUSTER))
		return !cfg->clusters.nr || cfg->clusters.has_default
			       ? &cfg->proxmox
			       : NULL;
	for (i = 0; i < cfg->clusters.nr; i++)
		if (!strcmp(cfg->clusters.v[i].name, name))
			return &cfg->clusters.v[i].p;
	return NULL;
}

/* Whether two cluster names make one variable suffix ('-' read as '_'; the
 * names are lower-case already). */
static bool same_env_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if ((*a == '-' ? '_' : *a) != (*b == '-' ? '_' : *b))
			return false;
	return !*a && !*b;
}

static int cluster_entry(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	struct config *cfg = CFG(t);
	struct pve_cluster_cfg c;
	struct config tmp;
	size_t i;

	memset(&c, 0, sizeof(c));
	if (yd_checked_string(d, k, path, &c.name, config_check_cluster_name) <
	    0)
		return -1;
	if (!strcmp(c.name, CONFIG_DEFAULT_CLUSTER)) {
		yd_error(d, k, path,
			 "the cluster 'default' is the proxmox: block; give "
			 "this one another name, or move it to proxmox:");
		free(c.name);
		return -1;
	}
	if (cfg->clusters.nr + 1 >= CONFIG_MAX_CLUSTERS ||
	    config_cluster(cfg, c.name) != NULL) {
		yd_error(d, k, path,
			 config_cluster(cfg, c.name)
				 ? "cluster '%s' is defined twice"
				 : "cluster '%s': more clusters than the %d "
				   "pve-gitops works on",
			 c.name, CONFIG_MAX_CLUSTERS - 1);
		free(c.name);
		return -1;
	}
	for (i = 0; i < cfg->clusters.nr; i++)
		if (same_env_name(cfg->clusters.v[i].name, c.name)) {
			yd_error(d, k, path,
				 "clusters '%s' and '%s' would read the same "
				 "variables (PM_API_TOKEN_SECRET_<NAME>: the "
				 "name upper-cased, '-' as '_'); rename one",
				 cfg->clusters.v[i].name, c.name);
			free(c.name);
			return -1;
		}
	c.line = k->line;
	c.col = k->col;
	memset(&tmp, 0, sizeof(tmp));
	tmp.proxmox.parallel = 4;
	tmp.proxmox.per_node_limit = 4;
	tmp.proxmox.timeout_seconds = 600;
	if (yd_expect_map(d, v, path) < 0 ||
	    yd_map(d, v, path, cluster_fields, &tmp) < 0 ||
	    check_proxmox_tls(d, &tmp.proxmox, v, path) < 0) {
		proxmox_cfg_release(&tmp.proxmox);
		free(c.name);
		return -1;
	}
	if (!tmp.proxmox.endpoint) {
		yd_error(d, k, path, "cluster '%s' needs endpoint:", c.name);
		proxmox_cfg_release(&tmp.proxmox);
		free(c.name);
		return -1;
	}
	c.p = tmp.proxmox;
	ALLOC_GROW(cfg->clusters.v, cfg->clusters.nr + 1, cfg->clusters.alloc);
	cfg->clusters.v[cfg->clusters.nr++] = c;
	return 0;
}

static int c_clusters(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	(void)k;
	if (v->kind != YNODE_MAP) {
		yd_error(d, v, path,
			 "expected a mapping of cluster names, got %s",
			 ynode_describe(v));
		return -1;
	}
	return yd_each(d, v, path, cluster_entry, t);
}

bool config_multi_cluster(const struct config *cfg)
{
	return cfg->clusters.nr > 0;
}

size_t config_cluster_names(const struct config *cfg, const char **names,
			    size_t max)
{
	size_t i, n = 0;
	const char *only = cfg->only_cluster;

	if ((!cfg->clusters.nr || cfg->clusters.has_default) && n < max &&
	    (!only || !strcmp(only, CONFIG_DEFAULT_CLUSTER)))
		names[n++] = CONFIG_DEFAULT_CLUSTER;
	for (i = 0; i < cfg->clusters.nr && n < max; i++)
		if (!only || !strcmp(only, cfg->clusters.v[i].name))
			names[n++] = cfg->clusters.v[i].name;
	return n;
}

void config_for_cluster(struct config *out, const struct config *cfg,
			const char *name)
{
	const struct proxmox_cfg *p = config_cluster(cfg, name);

	size_t i;

	*out = *cfg;
	if (p)
		out->proxmox = *p;
	out->cluster = CONFIG_DEFAULT_CLUSTER;
	for (i = 0; i < cfg->clusters.nr; i++)
		if (!strcmp(cfg->clusters.v[i].name, name))
			out->cluster = cfg->clusters.v[i].name;
}

void config_check_clusters(const struct config *cfg, const struct vmdef *defs,
			   size_t n, struct diag_list *dl)
{
	const char **names = xcalloc(cfg->clusters.nr + 2, sizeof(*names));
	size_t i, nr = 0;

	if (!cfg->clusters.nr || cfg->clusters.has_default)
		names[nr++] = CONFIG_DEFAULT_CLUSTER;
	for (i = 0; i < cfg->clusters.nr; i++)
		names[nr++] = cfg->clusters.v[i].name;
	for (i = 0; i < n; i++) {
		const char *c = defs[i].cluster ? defs[i].cluster
						: CONFIG_DEFAULT_CLUSTER;
		const char *near;

		if (config_cluster(cfg, c))
			continue;
		near = suggest_nearest(c, strlen(c), names);
		if (near)
			diag_add(dl, DIAG_ERROR, defs[i].file,
				 defs[i].cluster_line, defs[i].cluster_col,
				 "cluster: no cluster '%s' in the config; did "
				 "you mean '%s'?",
				 c, near);
		else if (!defs[i].cluster)
			diag_add(dl, DIAG_ERROR, defs[i].file,
				 defs[i].name_line, defs[i].name_col,
				 "no cluster: key, and the config has no "
				 "proxmox: block (the cluster 'default'); name "
				 "one of clusters: with cluster:");
		else
			diag_add(dl, DIAG_ERROR, defs[i].file,
				 defs[i].cluster_line, defs[i].cluster_col,
				 "cluster: no cluster '%s' in the config's "
				 "clusters:",
				 c);
	}
	free(names);
}

static int c_exclude(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	struct strvec list = STRVEC_INIT;
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_SEQ) {
		yd_error(d, v, path, "expected a list of file names, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		char *s = NULL;

		if (yd_checked_string(d, v->kids[i], path, &s,
				      check_file_base) < 0) {
			ret = -1;
			continue;
		}
		strvec_push(&list, s);
		free(s);
	}
	if (!ret) {
		strvec_clear(&CFG(t)->exclude);
		CFG(t)->exclude = list;
	} else {
		strvec_clear(&list);
	}
	return ret;
}

static const char *const ansible_modes[] = { "auto", "always", "never", NULL };

static int c_validate_with_ansible(struct ydecoder *d, void *t,
				   const struct ynode *k, const struct ynode *v,
				   const char *path)
{
	char *s = NULL;
	int i;

	(void)k;
	if (yd_enum(d, v, path, ansible_modes, &s) < 0)
		return -1;
	for (i = 0; ansible_modes[i]; i++)
		if (!strcmp(ansible_modes[i], s))
			CFG(t)->validate_with_ansible = (enum ansible_check)i;
	free(s);
	return 0;
}

struct rulectx {
	char *pattern, *group;
};

static int r_pattern(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	struct rulectx *r = t;
	regex_t re;
	int rc;

	(void)k;
	if (yd_string(d, v, path, &r->pattern) < 0)
		return -1;
	if (regex_expanded_size(r->pattern) > REGEX_MAX_EXPANDED) {
		yd_error(d, v, path,
			 "regular expression too large once its counted "
			 "repetitions are expanded (limit %d elements)",
			 REGEX_MAX_EXPANDED);
		free(r->pattern);
		r->pattern = NULL;
		return -1;
	}
	rc = regcomp(&re, r->pattern, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[128];

		regerror(rc, &re, msg, sizeof(msg));
		yd_error(d, v, path,
			 "not a POSIX extended regular expression: "
			 "%s",
			 msg);
		free(r->pattern);
		r->pattern = NULL;
		return -1;
	}
	regfree(&re);
	return 0;
}

static int r_group(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &((struct rulectx *)t)->group,
				 check_group);
}

static const struct yd_field rule_fields[] = {
	{ "pattern", r_pattern, 0,
	  YD_REQUIRED("extended regular expression matched against the VM "
		      "name",
		      NULL) },
	{ "group", r_group, 0,
	  YD_REQUIRED("Ansible group of the VMs that match",
		      PVE_IDENTIFIER_RE) },
	{ NULL, NULL, 0, { 0 } },
};

static int c_inventory_groups(struct ydecoder *d, void *t,
			      const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	struct config *cfg = CFG(t);
	struct strbuf p = STRBUF_INIT;
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_SEQ) {
		yd_error(d, v, path,
			 "expected a list of {pattern, group} "
			 "rules, got %s",
			 ynode_describe(v));
		return -1;
	}
	free_groups(cfg);
	for (i = 0; i < v->nr; i++) {
		struct rulectx r = { NULL, NULL };

		strbuf_reset(&p);
		strbuf_addf(&p, "%s[%zu]", path, i);
		if (yd_map(d, v->kids[i], p.buf, rule_fields, &r) == 0 &&
		    (!r.pattern || !r.group))
			yd_error(d, v->kids[i], p.buf,
				 "a rule needs both pattern and group");
		if (!r.pattern || !r.group) {
			free(r.pattern);
			free(r.group);
			ret = -1;
			continue;
		}
		ALLOC_GROW(cfg->groups, cfg->nr_groups + 1, cfg->alloc_groups);
		cfg->groups[cfg->nr_groups].pattern = r.pattern;
		cfg->groups[cfg->nr_groups].group = r.group;
		cfg->nr_groups++;
	}
	strbuf_release(&p);
	return ret;
}

/* runner: the lease of ops/lease.h */
CFG_UINT(r_lease_ttl, runner.lease_ttl_seconds, 2, LEASE_TTL_MAX)
CFG_UINT(r_lease_wait, runner.lease_wait_seconds, 0, 86400)

static const struct yd_field runner_fields[] = {
	{ "lease_ttl_seconds", r_lease_ttl, 0,
	  YD_INT("lifetime of the runner lease", "120", 2, LEASE_TTL_MAX) },
	{ "lease_wait_seconds", r_lease_wait, 0,
	  YD_INT("how long to wait for another runner's lease", "900", 0,
		 86400) },
	{ NULL, NULL, 0, { 0 } },
};
CFG_SECTION(c_runner, runner_fields)

/* provision.on_cloud_init_error: fail | continue (core/provcheck.h) */
static const char *const cloud_init_modes[] = { "fail", "continue", NULL };

static int pr_cloud_init(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	struct strbuf val = STRBUF_INIT;
	size_t i;

	(void)k;
	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path, "expected fail or continue, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; cloud_init_modes[i]; i++)
		if (strlen(cloud_init_modes[i]) == v->len &&
		    !memcmp(v->str, cloud_init_modes[i], v->len)) {
			CFG(t)->provision.cloud_init_error_continue = i == 1;
			return 0;
		}
	yd_shown(&val, v->str, v->len, 64);
	yd_error(d, v, path, "'%s' is not allowed (allowed: fail, continue)",
		 val.buf);
	strbuf_release(&val);
	return -1;
}

CFG_UINT(pr_cloud_init_wait, provision.cloud_init_wait_seconds, 0, 86400)

/*
 * provision.wait_for: {PLAYBOOK: ssh | talos | none}, what stage two waits
 * for on the new hosts of a commit tagged [ansible PLAYBOOK]. Keyed by
 * playbook, not by inventory group: the playbook is what decides how its
 * hosts are reached (talos.yml is connection: local), one run has one
 * playbook, and a host in several groups could be given two answers.
 * Entries are added over the default {talos: talos}; a name given twice
 * in the file is an error.
 */
static void config_init_provision_wait(struct config *cfg)
{
	struct provision_wait_rule *r;

	cfg->provision.talos_api_port = 50000;
	cfg->provision.talos_api_tls = true;
	ALLOC_GROW(cfg->provision.wait_for, cfg->provision.nr_wait_for + 1,
		   cfg->provision.alloc_wait_for);
	r = &cfg->provision.wait_for[cfg->provision.nr_wait_for++];
	r->playbook = xstrdup("talos");
	r->wait = PROVISION_WAIT_TALOS;
}

static void free_wait_rules(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->provision.nr_wait_for; i++)
		free(cfg->provision.wait_for[i].playbook);
	free(cfg->provision.wait_for);
	cfg->provision.wait_for = NULL;
	cfg->provision.nr_wait_for = cfg->provision.alloc_wait_for = 0;
}

/* A playbook name as [ansible NAME] takes it (core/tag.h). */
static int check_playbook_name(const char *s, struct strbuf *why)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    (!i || !strchr("._-", s[i])))
			break;
	if (i == n && n && n <= 64 && !strstr(s, ".."))
		return 0;
	strbuf_addstr(why, "not a playbook name (a letter or digit, then "
			   "letters, digits, '.', '_' or '-', at most 64, "
			   "no \"..\")");
	return -1;
}

/* One entry: its mode into *out, the rule for its name replaced or
 * added. */
static int pr_wait_entry(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	struct config *cfg = CFG(t);

	static const char *const modes[] = { "ssh", "talos", "none", NULL };
	struct provision_wait_rule *r = NULL;
	char *name = NULL, *mode = NULL;
	size_t i;
	int m;

	if (yd_checked_string(d, k, path, &name, check_playbook_name) < 0)
		return -1;
	if (yd_enum(d, v, path, modes, &mode) < 0) {
		free(name);
		return -1;
	}
	for (m = 0; strcmp(modes[m], mode); m++)
		;
	for (i = 0; i < cfg->provision.nr_wait_for; i++)
		if (!strcmp(cfg->provision.wait_for[i].playbook, name))
			r = &cfg->provision.wait_for[i];
	if (!r) {
		ALLOC_GROW(cfg->provision.wait_for,
			   cfg->provision.nr_wait_for + 1,
			   cfg->provision.alloc_wait_for);
		r = &cfg->provision.wait_for[cfg->provision.nr_wait_for++];
		r->playbook = name;
		name = NULL;
	}
	r->wait = (enum provision_wait)m;
	free(name);
	free(mode);
	return 0;
}

static int pr_wait_for(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	(void)k;
	if (v->kind != YNODE_MAP) {
		yd_error(d, v, path,
			 "expected a mapping of playbook names to ssh, talos "
			 "or none, got %s",
			 ynode_describe(v));
		return -1;
	}
	return yd_each(d, v, path, pr_wait_entry, t);
}

CFG_UINT(pr_talos_port, provision.talos_api_port, 1, 65535)
CFG_BOOL(pr_talos_tls, provision.talos_api_tls)

static const struct yd_field provision_fields[] = {
	{ "on_cloud_init_error", pr_cloud_init, 0,
	  YD_ENUM("a failed cloud-init: fail, or continue with the playbook",
		  "\"fail\"", cloud_init_modes) },
	{ "cloud_init_wait_seconds", pr_cloud_init_wait, 0,
	  YD_INT("how long to wait for cloud-init to finish", "1200", 0,
		 86400) },
	{ "wait_for", pr_wait_for, 0,
	  YD_DOC(YT_DICT,
		 "what stage two waits for on the new hosts of a playbook: "
		 "PLAYBOOK: ssh, talos or none",
		 "{\"talos\": \"talos\"}") },
	{ "talos_api_port", pr_talos_port, 0,
	  YD_INT("port of the Talos API a talos wait checks", "50000", 1,
		 65535) },
	{ "talos_api_tls", pr_talos_tls, 0,
	  YD_DOC(YT_BOOL, "the Talos API speaks TLS", "true") },
	{ NULL, NULL, 0, { 0 } },
};
CFG_SECTION(c_provision, provision_fields)

/* workloads: true, workload_modules: [NAME...], terraform: tofu */
CFG_BOOL(c_workloads, workloads.chain)

/* A module name as Terraform takes one: letters, digits, '_' and '-'. */
static int check_module(const char *s, struct strbuf *why)
{
	size_t n = strlen(s);

	if (n && n <= 64 && isalpha((unsigned char)s[0]) &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789_-") == n)
		return 0;
	strbuf_addstr(why, "a module name is 1 to 64 letters, digits, '_' and "
			   "'-', starting with a letter");
	return -1;
}

static int c_workload_modules(struct ydecoder *d, void *t,
			      const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	struct strvec list = STRVEC_INIT;
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_SEQ) {
		yd_error(d, v, path, "expected a list of module names, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		char *s = NULL;

		if (yd_checked_string(d, v->kids[i], path, &s, check_module) <
		    0) {
			ret = -1;
			continue;
		}
		strvec_push(&list, s);
		free(s);
	}
	strvec_clear(&CFG(t)->workloads.more);
	CFG(t)->workloads.more = list;
	return ret;
}

static const char *const tf_programs[] = { "terraform", "tofu", NULL };

static int c_terraform(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{

	(void)k;
	return yd_enum(d, v, path, tf_programs, &CFG(t)->workloads.terraform);
}

/*
 * ip_pools: {NAME: {cidr, gateway, range or exclude, nameserver,
 * vault_path}} and ip_pools_owner: the address pools of core/ippool.h.
 * A pool's addresses are its cidr's hosts, less its network and broadcast
 * address and its gateway, within range: (FIRST-LAST) when given, less
 * exclude: (addresses and FIRST-LAST spans).
 */
#define POOL(t) ((struct ip_pool *)(t))

static void free_ip_pools(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->ip_pools.nr; i++)
		ip_pool_release(&cfg->ip_pools.v[i]);
	free(cfg->ip_pools.v);
	free(cfg->ip_pools.owner);
	memset(&cfg->ip_pools, 0, sizeof(cfg->ip_pools));
}

const struct ip_pool *config_ip_pool(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; name && i < cfg->ip_pools.nr; i++)
		if (!strcmp(cfg->ip_pools.v[i].name, name))
			return &cfg->ip_pools.v[i];
	return NULL;
}

void config_check_ip_pools(const struct config *cfg, const struct vmdef *defs,
			   size_t n, struct diag_list *dl)
{
	size_t i;

	size_t j;

	for (i = 0; i < n; i++) {
		const struct ip_pool *pool =
			defs[i].ip_pool ? config_ip_pool(cfg, defs[i].ip_pool)
					: NULL;

		if (defs[i].ip_pool && !pool)
			diag_add(dl, DIAG_ERROR, defs[i].file,
				 defs[i].ip_pool_line, defs[i].ip_pool_col,
				 "ip_pool: no pool '%s' in the config's "
				 "ip_pools:%s",
				 defs[i].ip_pool,
				 cfg->ip_pools.nr ? "" : " (it has none)");
		/* the PVE IPAM knows an entry by its MAC alone: a MAC chosen
		 * in the repository could claim another VM's entry */
		for (j = 0; pool && pool->vnet && j < defs[i].nr_nets; j++)
			if (defs[i].nets[j].index == 0 &&
			    defs[i].nets[j].macaddr)
				diag_add(dl, DIAG_ERROR, defs[i].file,
					 defs[i].nets[j].line,
					 defs[i].nets[j].col,
					 "macaddr: a VM of pool '%s' (an SDN "
					 "vnet) gets its net0 MAC from "
					 "pve-gitops, which its IPAM entry is "
					 "known by; remove macaddr",
					 pool->name);
	}
}

/* A scalar IPv4 address, or -1 with an error. */
static int pool_ip(struct ydecoder *d, const struct ynode *v, const char *path,
		   const char *s, size_t len, uint32_t *out)
{
	struct strbuf shown = STRBUF_INIT;

	if (pve_parse_ipv4(out, s, len) == 0)
		return 0;
	yd_shown(&shown, s, len, 64);
	yd_error(d, v, path, "'%s' is not an IPv4 address", shown.buf);
	strbuf_release(&shown);
	return -1;
}

/* "A" or "A-B" (A <= B) */
static int pool_span(struct ydecoder *d, const struct ynode *v,
		     const char *path, struct ip_span *out)
{
	const char *dash;

	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path,
			 "expected an address or FIRST-LAST, got %s",
			 ynode_describe(v));
		return -1;
	}
	dash = memchr(v->str, '-', v->len);
	if (!dash)
		return pool_ip(d, v, path, v->str, v->len, &out->lo) < 0
			       ? -1
			       : (out->hi = out->lo, 0);
	if (pool_ip(d, v, path, v->str, (size_t)(dash - v->str), &out->lo) <
		    0 ||
	    pool_ip(d, v, path, dash + 1, v->len - (size_t)(dash + 1 - v->str),
		    &out->hi) < 0)
		return -1;
	if (out->lo > out->hi) {
		yd_error(d, v, path,
			 "the range's first address is above its "
			 "last");
		return -1;
	}
	return 0;
}

static int ip_cidr(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	struct ip_pool *p = POOL(t);
	const char *slash;
	uint64_t prefix;

	(void)k;
	slash = v->kind == YNODE_SCALAR ? memchr(v->str, '/', v->len) : NULL;
	if (!slash ||
	    parse_u64(&prefix, slash + 1, v->len - (size_t)(slash + 1 - v->str),
		      8, 30) < 0) {
		yd_error(d, v, path,
			 "expected NETWORK/PREFIX with a prefix of 8 to 30, "
			 "such as 10.0.0.0/26");
		return -1;
	}
	if (pool_ip(d, v, path, v->str, (size_t)(slash - v->str), &p->net) < 0)
		return -1;
	p->prefix = (unsigned)prefix;
	if (p->net & (0xffffffffu >> p->prefix)) {
		yd_error(d, v, path,
			 "host bits are set: the network of /%u is written "
			 "with them zero",
			 p->prefix);
		return -1;
	}
	return 0;
}

static int ip_gateway(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	(void)k;
	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path, "expected an IPv4 address, got %s",
			 ynode_describe(v));
		return -1;
	}
	return pool_ip(d, v, path, v->str, v->len, &POOL(t)->gateway);
}

static int ip_range(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return pool_span(d, v, path, &POOL(t)->range);
}

static int ip_exclude(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	struct ip_pool *p = POOL(t);
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_SEQ) {
		yd_error(d, v, path,
			 "expected a list of addresses and FIRST-LAST ranges, "
			 "got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		struct ip_span sp;

		if (pool_span(d, v->kids[i], path, &sp) < 0) {
			ret = -1;
			continue;
		}
		ALLOC_GROW(p->exclude, p->nr_exclude + 1, p->alloc_exclude);
		p->exclude[p->nr_exclude++] = sp;
	}
	return ret;
}

static int ip_nameserver(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &POOL(t)->nameserver,
				 pve_check_address_list);
}

static int ip_vault_path(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &POOL(t)->vault_path,
				 check_kv_path);
}

static int ip_vnet(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &POOL(t)->vnet,
				 ip_pool_check_sdn_id);
}

static int ip_zone(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &POOL(t)->zone,
				 ip_pool_check_sdn_id);
}

static const struct yd_field ip_pool_fields[] = {
	{ "cidr", ip_cidr, 0,
	  YD_REQUIRED("the pool's IPv4 network, ADDRESS/PREFIX", NULL) },
	{ "gateway", ip_gateway, 0,
	  YD_STR("gateway address, inside cidr; never handed out", NULL,
		 NULL) },
	{ "range", ip_range, 0,
	  YD_STR("the addresses handed out, FIRST-LAST inside cidr (default: "
		 "all of it)",
		 NULL, NULL) },
	{ "exclude", ip_exclude, 0,
	  YD_DOC(YT_LIST, "addresses (or FIRST-LAST ranges) never handed out",
		 NULL) },
	{ "nameserver", ip_nameserver, 0,
	  YD_STR("DNS server for the VMs of the pool", NULL, NULL) },
	{ "vault_path", ip_vault_path, 0,
	  YD_STR("the KV v2 secret holding the allocations (default: "
		 "pve-gitops/ip-pools/NAME)",
		 NULL, NULL) },
	{ "vnet", ip_vnet, 0,
	  YD_STR("an SDN vnet whose subnet is cidr: the allocations are "
		 "entries of Proxmox's PVE IPAM there instead of Vault",
		 NULL, NULL) },
	{ "zone", ip_zone, 0,
	  YD_STR("the SDN zone of vnet (required with it)", NULL, NULL) },
	{ NULL, NULL, 0, { 0 } },
};

static bool has(const struct ynode *m, const char *key)
{
	return map_value(m, key) != m;
}

static bool in_cidr(const struct ip_pool *p, uint32_t ip)
{
	return ip > p->net && ip < ip_pool_broadcast(p);
}

/* What a pool's keys must say together. */
static int ip_pool_check(struct ydecoder *d, struct ip_pool *p,
			 const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	if (!has(v, "cidr") || !has(v, "gateway")) {
		yd_error(d, k, path, "a pool needs cidr: and gateway:");
		return -1;
	}
	if (has(v, "vnet") != has(v, "zone")) {
		yd_error(d, k, path,
			 "vnet: and zone: go together (the SDN IPAM API "
			 "takes both)");
		return -1;
	}
	if (has(v, "vnet") && has(v, "vault_path")) {
		yd_error(d, map_value(v, "vault_path"), path,
			 "a pool with vnet: keeps its allocations in the "
			 "SDN IPAM, not in Vault: drop vault_path:");
		return -1;
	}
	if (!in_cidr(p, p->gateway)) {
		yd_error(d, map_value(v, "gateway"), path,
			 "the gateway is not a host address of the cidr");
		return -1;
	}
	if (!has(v, "range")) {
		p->range.lo = p->net + 1;
		p->range.hi = ip_pool_broadcast(p) - 1;
	} else if (!in_cidr(p, p->range.lo) || !in_cidr(p, p->range.hi)) {
		yd_error(d, map_value(v, "range"), path,
			 "the range is not inside the cidr's host addresses");
		return -1;
	}
	if (!ip_pool_size(p)) {
		yd_error(d, k, path, "the pool has no address to hand out");
		return -1;
	}
	return 0;
}

static int ip_pool_entry(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	struct config *cfg = CFG(t);

	struct ip_pool p;

	memset(&p, 0, sizeof(p));
	if (yd_checked_string(d, k, path, &p.name, ip_pool_check_name) < 0)
		return -1;
	if (config_ip_pool(cfg, p.name)) {
		yd_error(d, k, path, "pool '%s' is defined twice", p.name);
		ip_pool_release(&p);
		return -1;
	}
	p.line = k->line;
	p.col = k->col;
	if (yd_expect_map(d, v, path) < 0 ||
	    yd_map(d, v, path, ip_pool_fields, &p) < 0 ||
	    ip_pool_check(d, &p, k, v, path) < 0) {
		ip_pool_release(&p);
		return -1;
	}
	ALLOC_GROW(cfg->ip_pools.v, cfg->ip_pools.nr + 1, cfg->ip_pools.alloc);
	cfg->ip_pools.v[cfg->ip_pools.nr++] = p;
	return 0;
}

static int c_ip_pools(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	CFG(t)->ip_pools.line = k->line;
	CFG(t)->ip_pools.col = k->col;
	if (v->kind != YNODE_MAP) {
		yd_error(d, v, path, "expected a mapping of pool names, got %s",
			 ynode_describe(v));
		return -1;
	}
	return yd_each(d, v, path, ip_pool_entry, t);
}

CFG_STRING(c_ip_pools_owner, ip_pools.owner, ip_pool_check_name)

static const struct yd_field config_fields[] = {
	{ "vms_dir", c_vms_dir, 0,
	  YD_DOC(YT_STRING, "directory of the VM definitions",
		 "\"proxmox/vms\"") },
	{ "exclude", c_exclude, 0,
	  YD_DOC(YT_LIST, "definition file names left out (managed by hand)",
		 "[\"k8s-home.yaml\", \"boot-server.yaml\"]") },
	{ "inventory", c_inventory, 0,
	  YD_DOC(YT_STRING, "Ansible INI inventory kept up to date",
		 "\"proxmox/k8s.ini\"") },
	{ "new_hosts", c_new_hosts, 0,
	  YD_DOC(YT_STRING, "file of the hosts provision has yet to run on",
		 "\"proxmox/new_hosts.txt\"") },
	{ "playbooks_dir", c_playbooks_dir, 0,
	  YD_DOC(YT_STRING, "directory of the playbooks",
		 "\"proxmox/playbooks\"") },
	{ "outputs", c_outputs, 0,
	  YD_DOC(YT_STRING, "outputs file (what terraform output shows)",
		 "\"proxmox/.pve-gitops/outputs.json\"") },
	{ "host_vars_dir", c_host_vars_dir, 0,
	  YD_DOC(YT_STRING, "Ansible host_vars directory",
		 "\"proxmox/host_vars\"") },
	{ "clusters_dir", c_clusters_dir, 0,
	  YD_DOC(YT_STRING, "directory of the workload workspaces",
		 "\"clusters\"") },
	{ "ansible_user", c_ansible_user, 0,
	  YD_STR("ansible_user of the inventory", "\"ubuntu\"", PVE_USER_RE) },
	{ "strict_secrets", c_strict_secrets, 0,
	  YD_DOC(YT_BOOL, "refuse clear-text cipassword in definitions",
		 "false") },
	{ "prune", c_prune, 0,
	  YD_DOC(YT_BOOL, "destroy managed VMs whose definition is gone",
		 "false") },
	{ "release", c_release, 0,
	  YD_DOC(YT_BOOL, "tag a release after a successful pipeline",
		 "false") },
	{ "release_tag_format", c_release_tag_format, 0,
	  YD_DOC(YT_STRING, "release tag format, with {version}", NULL) },
	{ "release_types", c_release_types, 0,
	  YD_DOC(YT_DICT,
		 "commit type to its version bump: patch, minor or major",
		 NULL) },
	{ "validate_with_ansible", c_validate_with_ansible, 0,
	  YD_ENUM("check playbooks with ansible-playbook --syntax-check",
		  "\"auto\"", ansible_modes) },
	{ "inventory_groups", c_inventory_groups, 0,
	  YD_FIELDS(YT_MAPS,
		    "rules {pattern, group} putting VMs in Ansible groups by "
		    "name",
		    rule_fields) },
	{ "proxmox", c_proxmox, 0,
	  YD_SECTION("the Proxmox VE API", proxmox_fields) },
	{ "clusters", c_clusters, 0,
	  YD_DICT_OF("more Proxmox clusters by name (the proxmox: block is "
		     "the one named default); a definition's cluster: picks "
		     "one",
		     cluster_fields) },
	{ "vault", c_vault, 0,
	  YD_SECTION("Vault, where kubeconfigs are kept", vault_fields) },
	{ "http", c_http, 0, YD_SECTION("HTTP timeouts", http_fields) },
	{ "ssh", c_ssh, 0, YD_SECTION("SSH to the VMs", ssh_fields) },
	{ "git", c_git, 0,
	  YD_SECTION("automated commits and pushes", git_fields) },
	{ "ansible", c_ansible, 0,
	  YD_SECTION("ansible-playbook runs", ansible_fields) },
	{ "defaults", c_defaults, 0,
	  YD_SECTION("defaults of the VM definitions", defaults_fields) },
	{ "reboot", c_reboot, 0,
	  YD_SECTION("reboots that changes need", reboot_fields) },
	{ "dhcp", c_dhcp, 0,
	  YD_SECTION("VMs without a static address", dhcp_fields) },
	{ "runner", c_runner, 0,
	  YD_SECTION("runners (run, watch) and their lease", runner_fields) },
	{ "provision", c_provision, 0,
	  YD_SECTION("provision: cloud-init and the playbooks",
		     provision_fields) },
	{ "workloads", c_workloads, 0,
	  YD_DOC(YT_BOOL, "run workloads after provision in the pipeline",
		 "false") },
	{ "workload_modules", c_workload_modules, 0,
	  YD_DOC(YT_LIST, "workload modules known beyond the built-in ones",
		 NULL) },
	{ "terraform", c_terraform, 0,
	  YD_ENUM("program that applies workloads", "\"terraform\"",
		  tf_programs) },
	{ "ip_pools", c_ip_pools, 0,
	  YD_DICT_OF("named IPv4 address pools a definition's ip_pool: draws "
		     "from (allocations in Vault KV v2)",
		     ip_pool_fields) },
	{ "ip_pools_owner", c_ip_pools_owner, 0,
	  YD_STR("this repository's name in the pools' allocations (the same "
		 "in every clone, unique among repositories sharing a pool)",
		 NULL, NULL) },
	{ NULL, NULL, 0, { 0 } },
};

const struct yd_field *config_fields_doc(void)
{
	return config_fields;
}

int config_decode(struct config *cfg, struct diag_list *dl, const char *file,
		  const struct ynode *root)
{
	struct ydecoder d = { dl, file, 0 };
	int ret;

	if (!root || (root->kind == YNODE_SCALAR && root->stype == YS_NULL))
		return 0; /* an empty config file means all defaults */
	ret = yd_map(&d, root, "", config_fields, cfg);
	if (cfg->ip_pools.nr && !cfg->ip_pools.owner) {
		diag_add(dl, DIAG_ERROR, file, cfg->ip_pools.line,
			 cfg->ip_pools.col,
			 "ip_pools: needs ip_pools_owner: a name for this "
			 "repository, the same in every clone and different "
			 "from every other repository sharing the pools");
		ret = -1;
	}
	return ret;
}

int config_is_excluded(const struct config *cfg, const char *base)
{
	size_t i;

	for (i = 0; i < cfg->exclude.nr; i++)
		if (!strcmp(cfg->exclude.v[i], base))
			return 1;
	return 0;
}
