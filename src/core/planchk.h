/*
 * planchk.h - what the cluster can tell about a definition before anything
 * is sent: its target node is a cluster node and online, its disks'
 * storages exist on that node, are enabled and active and hold VM images,
 * its bridges exist there, and its IPv4 address is not in another VM's
 * ipconfig. The facts are read by io/cluster.c (one request per node and
 * kind, and the configurations of the VMs no definition holds); the checks
 * are pure, each problem said with the way out.
 */
#ifndef PVE_GITOPS_PLANCHK_H
#define PVE_GITOPS_PLANCHK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vmdef.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* A storage as GET /nodes/{node}/storage shows it. */
struct facts_storage {
	char *name, *content; /* content: "images,rootdir" */
	bool enabled, active;
	bool shared; /* the same storage on every node (its "shared" flag) */
};

/* A node as GET /nodes shows it, with what was read of it. */
struct facts_node {
	char *name, *status;  /* status: online, offline, unknown */
	bool mem_read;	      /* maxmem and mem below were in the answer */
	uint64_t maxmem, mem; /* bytes: the node's memory and what is used */
	bool storage_read, bridges_read;
	struct facts_storage *st;
	size_t nr_st, alloc_st;
	struct strvec bridges; /* GET .../network?type=any_bridge */
};

/* An IPv4 address in another VM's ipconfigN. */
struct facts_ip {
	uint32_t ip4;
	int vmid;
	char *name, *key; /* the VM's name, "ipconfig0" */
};

struct cluster_facts {
	bool nodes_read, ips_read;
	struct facts_node *nodes;
	size_t nr_nodes, alloc_nodes;
	struct facts_ip *ips;
	size_t nr_ips, alloc_ips;
	int *ip_vmids; /* the VMs whose configuration was read for ips */
	size_t nr_ip_vmids, alloc_ip_vmids;
};

void cluster_facts_init(struct cluster_facts *f);
void cluster_facts_release(struct cluster_facts *f);

struct facts_node *facts_add_node(struct cluster_facts *f, const char *name,
				  const char *status);
struct facts_node *facts_node(const struct cluster_facts *f, const char *name);
struct facts_storage *facts_add_storage(struct facts_node *n, const char *name,
					const char *content, bool enabled,
					bool active);
/* The storage of node n of that name, or NULL. */
const struct facts_storage *facts_storage(const struct facts_node *n,
					  const char *name);
/* The IPv4 addresses of a VM's configuration (keys and values as read),
 * each ipconfigN's ip=; vmid is remembered as read either way. */
void facts_add_config_ips(struct cluster_facts *f, int vmid, const char *name,
			  const struct strvec *keys, const struct strvec *vals);
bool facts_ips_of(const struct cluster_facts *f, int vmid);
/* One address VM vmid has (key: where it was found, "agent"). */
void facts_add_ip(struct cluster_facts *f, int vmid, const char *name,
		  const char *key, uint32_t ip4);

/* Whether the content list ("images,rootdir") holds c. */
bool facts_has_content(const char *list, const char *c);

/*
 * The problems of def on the cluster f describes (what was not read is not
 * checked), each with the way out, appended to why and separated by "; ".
 * self_vmid is the definition's own VM (0: none yet): its addresses are
 * its own. Returns how many were found.
 */
size_t planchk_def(struct strbuf *why, const struct vmdef *def,
		   const struct cluster_facts *f, int self_vmid);

/*
 * The problems of moving def's VM to def->target_node (a migration): the
 * target is a cluster node and online, its disks' storages and bridges
 * are there, and the node reports at least def->memory MiB free (maxmem
 * less mem). Appended to why as planchk_def does; returns how many.
 */
size_t planchk_migration(struct strbuf *why, const struct vmdef *def,
			 const struct cluster_facts *f);

#endif
