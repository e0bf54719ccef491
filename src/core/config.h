/*
 * config.h - struct config: the repository's pve-gitops.yaml with its
 * defaults, plus the global command-line flags.
 *
 * Read once at start-up (main.c) and passed down as const. config_decode()
 * is pure: it decodes a parsed document; finding and reading the file is
 * io/ work. Secrets never live here: tokens and passwords come from the
 * environment when a client needs them.
 */
#ifndef PVE_GITOPS_CONFIG_H
#define PVE_GITOPS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/env.h"
#include "core/ippool.h"
#include "core/release.h"
#include "core/vmdef.h"
#include "core/ytree.h"
#include "util/counters.h"
#include "util/strvec.h"

#define CONFIG_FILE_NAME "pve-gitops.yaml"

enum ansible_check {
	ANSIBLE_CHECK_AUTO,
	ANSIBLE_CHECK_ALWAYS,
	ANSIBLE_CHECK_NEVER
};

/* One Proxmox cluster's API settings (proxmox: or an entry of clusters:).
 */
struct proxmox_cfg {
	char *endpoint, *tls_ca_file, *tls_fingerprint, *token_id;
	char *user;
	bool tls_insecure;
	uint64_t parallel, per_node_limit, timeout_seconds;
};

/* The name of the cluster of the proxmox: block. */
#define CONFIG_DEFAULT_CLUSTER "default"
/* clusters: holds at most this many (the default one included). */
#define CONFIG_MAX_CLUSTERS 32

struct pve_cluster_cfg {
	char *name; /* [a-z0-9][a-z0-9_-]* */
	int line, col;
	struct proxmox_cfg p;
};

/* ssh.connect: SSH to the VM whose address or name is key goes to
 * host:port instead (a NAT or port forward; ssh_config's Hostname and
 * Port, Ansible's ansible_host and ansible_port) */
struct ssh_connect {
	char *key;  /* an IPv4 address or a VM name */
	char *host; /* an IPv4 address */
	unsigned port;
};

struct group_rule {
	char *pattern; /* POSIX extended regular expression */
	char *group;
};

struct config {
	const struct env *env; /* the environment, read once by main */
	/* watch --listen: Proxmox and Vault requests are counted here
	 * (util/counters.h, thread-safe); NULL: not counted */
	struct counters *requests;

	/* global flags */
	char *root; /* repository root, "." unless -C */
	bool json, color;
	int verbosity; /* -1 quiet, 0 normal, 1 verbose */

	/* repository layout, relative to root */
	char *vms_dir, *inventory, *new_hosts, *playbooks_dir, *outputs;
	char *host_vars_dir, *clusters_dir;
	struct strvec exclude;

	char *ansible_user;
	bool strict_secrets, prune, release;
	enum ansible_check validate_with_ansible;
	struct group_rule *groups;
	size_t nr_groups, alloc_groups;
	char *release_tag_format;	    /* NULL: "v${version}" */
	struct release_rule *release_rules; /* extra release types */
	size_t nr_release_rules, alloc_release_rules;

	/* the proxmox: block: the cluster named "default"; in a per-cluster
	 * copy (config_for_cluster), that cluster's settings */
	struct proxmox_cfg proxmox;
	/* clusters: NAME -> settings (in file order); nr 0: the proxmox:
	 * block alone, as before */
	struct {
		struct pve_cluster_cfg *v;
		size_t nr, alloc;
		bool has_default; /* a proxmox: block beside clusters: */
	} clusters;
	/* --cluster NAME: plan, apply, inventory, doctor and validate only
	 * for it; NULL: every cluster */
	char *only_cluster;
	/* set in a per-cluster copy: the cluster cfg->proxmox describes;
	 * NULL in the config main reads */
	const char *cluster;
	struct {
		char *addr, *mount, *path, *key, *namespace;
	} vault;
	/* every HTTP request to Proxmox and Vault (a call's retries count
	 * against timeout_seconds too) */
	struct {
		uint64_t connect_timeout_seconds; /* TCP and TLS; 10 */
		uint64_t low_speed_seconds; /* below 1 byte/s this long; 30 */
		uint64_t timeout_seconds;   /* the whole request; 300 */
	} http;
	struct {
		uint64_t port, wait_seconds;
		char *user, *known_hosts;
		struct ssh_connect *connect;
		size_t nr_connect, alloc_connect;
	} ssh;
	struct {
		char *author_name, *author_email, *remote, *branch;
	} git;
	/* what a definition's unset keys mean (defaults:) */
	struct vmdef_defaults defaults;
	/* how apply reboots a VM whose changes wait for a boot (reboot:) */
	struct {
		uint64_t timeout_seconds; /* for the guest to shut down; 300 */
		bool force; /* then stop it (true) or report it (false) */
	} reboot;
	struct {
		uint64_t timeout_seconds; /* ansible-playbook's deadline; 0 none
					   */
		uint64_t memory_limit;	  /* RLIMIT_AS per process; 0 none */
	} ansible;
	/* DHCP VMs with agent: 1 (dhcp:): how long stage one's inventory asks
	 * the guest agent for the address of a new one; 0: once */
	struct {
		uint64_t wait_seconds; /* 120 */
	} dhcp;
	/* runners sharing one repository (runner:): the lease in the git
	 * server (ops/lease.h) */
	struct {
		uint64_t lease_ttl_seconds;  /* a lease lives this long; 120 */
		uint64_t lease_wait_seconds; /* for another's; 900, 0: none */
	} runner;
	/* stage two (provision:): a new host whose cloud-init reports an
	 * error fails (false, "fail") or is provisioned with a warning (true,
	 * "continue"); a failed SSH login fails it either way; cloud-init that
	 * has not finished within cloud_init_wait_seconds fails it too */
	struct {
		bool cloud_init_error_continue;
		uint64_t cloud_init_wait_seconds; /* 1200; 0: no limit */
		/* provision.wait_for: what stage two waits for on a
		 * playbook's new hosts, by playbook name ({talos: talos}
		 * unless the file says otherwise); core/provcheck.h decides */
		struct provision_wait_rule *wait_for;
		size_t nr_wait_for, alloc_wait_for;
		uint64_t talos_api_port; /* 50000 */
		bool talos_api_tls;	 /* a TLS handshake too; true */
	} provision;
	/* the workloads of clusters_dir/NAME.yaml (core/workspace.h) */
	struct {
		bool chain; /* workloads: true: run and watch apply them */
		struct strvec
			more;	 /* workload_modules: names beside the seed's */
		char *terraform; /* terraform: or tofu; NULL: the one on PATH */
	} workloads;
	/* ip_pools: the address pools definitions name with ip_pool:
	 * (core/ippool.h); ip_pools_owner: this repository's name in the
	 * pools' allocations, required with a pool */
	struct {
		struct ip_pool *v;
		size_t nr, alloc;
		char *owner;
		int line, col; /* of the ip_pools key */
	} ip_pools;
};

/* Every definition's ip_pool: names a pool of ip_pools: (errors at the
 * definition's FILE:LINE). */
void config_check_ip_pools(const struct config *cfg, const struct vmdef *defs,
			   size_t n, struct diag_list *dl);

/* Every definition's cluster: names a configured cluster (errors at the
 * definition's FILE:LINE, with a did-you-mean). */
void config_check_clusters(const struct config *cfg, const struct vmdef *defs,
			   size_t n, struct diag_list *dl);

/* Whether clusters: is used (more than the proxmox: block). */
bool config_multi_cluster(const struct config *cfg);

/* The clusters a run works on, in order (the default first when there is
 * one), --cluster applied: names[i] borrowed from cfg. Returns how many. */
size_t config_cluster_names(const struct config *cfg, const char **names,
			    size_t max);

/* The settings of the cluster named name, or NULL. */
const struct proxmox_cfg *config_cluster(const struct config *cfg,
					 const char *name);

/* *out: a shallow copy of cfg for one cluster (cfg->proxmox that
 * cluster's, out->cluster its name); never released, it borrows. */
void config_for_cluster(struct config *out, const struct config *cfg,
			const char *name);

/* 0 when s is a cluster name ([a-z0-9][a-z0-9_-]*, up to 32). */
int config_check_cluster_name(const char *s, struct strbuf *why);

/* The pool named name, or NULL. */
const struct ip_pool *config_ip_pool(const struct config *cfg,
				     const char *name);

/*
 * Where SSH to the VM name at address ip connects: ssh.connect's entry for
 * ip, else the one for name (either may be NULL), else ip itself and
 * ssh.port. The host key is known under ip either way: with an entry it is
 * recorded for the bare address and ssh is given HostKeyAlias=ip, so
 * checking stays strict. Returns the entry, or NULL when none applied.
 */
const struct ssh_connect *config_ssh_target(const struct config *cfg,
					    const char *name, const char *ip,
					    const char **host, unsigned *port);

/* What stage two waits for on a new host before the playbook. */
enum provision_wait {
	PROVISION_WAIT_SSH,   /* SSH, host keys, cloud-init (the default) */
	PROVISION_WAIT_TALOS, /* the Talos API (apid) accepts connections */
	PROVISION_WAIT_NONE,  /* nothing: the playbook's first task waits */
};

struct provision_wait_rule {
	char *playbook; /* a playbook name, as a tag names it */
	enum provision_wait wait;
};

/* Fill *cfg with the defaults of SPEC section 2. */
void config_init(struct config *cfg);
void config_release(struct config *cfg);

/*
 * Decode the document root of the config file named file over the defaults
 * already in *cfg. Returns 0, or -1 after adding errors to dl.
 */
/* The keys of pve-gitops.yaml and their documentation (ydecode.h). */
struct yd_field;
const struct yd_field *config_fields_doc(void);

int config_decode(struct config *cfg, struct diag_list *dl, const char *file,
		  const struct ynode *root);

/* 1 when the VM file base name is excluded by the config. */
/* 0 when s is a branch name git takes and no refspec syntax; else -1 and a
 * reason in why. For git.branch and watch --branch. */
int config_check_branch(const char *s, struct strbuf *why);

int config_is_excluded(const struct config *cfg, const char *base);

#endif
