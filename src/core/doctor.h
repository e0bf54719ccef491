/*
 * doctor.h - what `pve-gitops doctor` finds, as data: the chain of links
 * one VM goes through from its definition to a running, provisioned host
 * (and, for a K3s VM, its context in Vault), each link ok, failed or not
 * reached, with what was seen and what to do; the verdicts; and the two
 * renderings, a text table and the JSON a status page reads. Pure: the
 * checks themselves are ops/doctor.c's.
 *
 * The JSON shape (DOCTOR_JSON_VERSION 1; fields are only ever added):
 *   { "version": 1, "ok": BOOL,
 *     "config": LINK,
 *     "vms": [ { "name": S, "k3s": BOOL, "ok": BOOL,
 *                "links": [ LINK, ... ] }, ... ] }
 *   LINK = { "name": S, "status": "ok" | "failed" | "not_reached",
 *            "detail": S, "fix": S | null }
 * A VM's links are in chain order (enum doctor_link_id); a VM that is not
 * a K3s VM has no kube-context, kube-server or workloads link.
 */
#ifndef PVE_GITOPS_CORE_DOCTOR_H
#define PVE_GITOPS_CORE_DOCTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

#define DOCTOR_JSON_VERSION 1

enum doctor_status { DOCTOR_NOT_REACHED, DOCTOR_OK, DOCTOR_FAILED };

/* The links of a VM's chain, in the order they are walked. */
enum doctor_link_id {
	DL_DEFINITION,	 /* valid, and not excluded */
	DL_CREDENTIALS,	 /* Proxmox's (and Vault's for K3s), and from where */
	DL_PROXMOX_VM,	 /* a VM of the name exists */
	DL_MANAGED,	 /* it carries the pve-gitops tag */
	DL_RUNNING,	 /* its power state is the definition's */
	DL_DIGEST,	 /* its digest tag is the definition's */
	DL_PENDING,	 /* nothing waits in Proxmox for the next boot */
	DL_INVENTORY,	 /* a host line in the inventory */
	DL_GROUPS,	 /* a member of the groups the rules give it */
	DL_NEW_HOSTS,	 /* in new_hosts.txt of an automated commit */
	DL_TAG,		 /* that commit carries [ansible NAME] */
	DL_PLAYBOOK,	 /* the playbook the tag names exists */
	DL_SSH_PORT,	 /* the SSH port answers with a banner */
	DL_KNOWN_HOST,	 /* its host key is in ssh.known_hosts */
	DL_KUBE_CONTEXT, /* K3s: the context is in the kubeconfig in Vault */
	DL_KUBE_SERVER,	 /* K3s: its server completes a TLS handshake */
	DL_WORKLOADS,	 /* K3s: workloads check of its workspaces */
	DL_COUNT
};

struct doctor_link {
	enum doctor_link_id id;
	enum doctor_status status;
	struct strbuf detail; /* what was seen (may hold outside text) */
	struct strbuf fix;    /* what to do; empty: nothing */
};

struct doctor_vm {
	char *name; /* owned; outside text */
	bool k3s;
	struct doctor_link links[DL_COUNT]; /* used: nr */
	size_t nr;
};

struct doctor_report {
	struct doctor_link config; /* the config file */
	struct doctor_vm *vms;
	size_t nr, alloc;
};

/* "definition", "kube-context", ...: the link's stable name. */
const char *doctor_link_name(enum doctor_link_id id);
/* "ok", "failed", "not_reached" (JSON); text uses "not reached". */
const char *doctor_status_name(enum doctor_status s);

void doctor_report_init(struct doctor_report *r);
void doctor_report_release(struct doctor_report *r);
/*
 * A new VM at the end of r, every link not reached; k3s adds the three
 * K3s links. The pointer is valid until the next doctor_report_add.
 */
struct doctor_vm *doctor_report_add(struct doctor_report *r, const char *name,
				    bool k3s);

/* The link id of vm, or NULL when vm has no such link. */
struct doctor_link *doctor_vm_link(struct doctor_vm *vm,
				   enum doctor_link_id id);

/* Set a link's verdict and detail (printf-style); returns 0 for ok, -1
 * otherwise, so a walk can stop at the first link that is not ok. */
int doctor_set(struct doctor_link *l, enum doctor_status s, const char *fmt,
	       ...) __attribute__((format(printf, 3, 4)));
/* Append to a link's fix (printf-style). */
void doctor_fix(struct doctor_link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * After a walk: every link still not reached without a detail says
 * which link stopped the walk ("after LINK failed").
 */
void doctor_vm_close(struct doctor_vm *vm);

/* A VM is ok when no link failed (not reached is not a failure). */
bool doctor_vm_ok(const struct doctor_vm *vm);
/* The report is ok when the config and every VM are. */
bool doctor_report_ok(const struct doctor_report *r);

/*
 * The text rendering into out: with detailed, every link of every VM one
 * line each with its fix below; else the config line and one row per VM
 * (its verdict, links ok of the links it has, the first failed link with
 * its detail and fix). Outside text is copied raw: print it through
 * report_print.
 */
void doctor_render_text(struct strbuf *out, const struct doctor_report *r,
			bool detailed);
/* The JSON object above (new reference). */
json_t *doctor_render_json(const struct doctor_report *r);

#endif
