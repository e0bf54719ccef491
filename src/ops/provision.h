/*
 * provision.h - stage two of the chain as an operation: what the seed's
 * Ansible workflow does, without its defects.
 *
 * The playbook comes from the commit's tag (or the request) and is
 * resolved against the files that exist (a real NAME.yml wins over the
 * k8s-* shortcut). The new hosts are those the provisioned commit itself
 * added to new_hosts.txt; each is waited for on SSH, its host keys
 * recorded (through the guest agent when it runs one, else ssh-keyscan,
 * warned about), and cloud-init allowed to finish. Then one
 * ansible-playbook run with host key checking on, the configured
 * known_hosts file, structured variables in a 0600 file and the Vault
 * token only in the environment (io/ansible.h). Progress lines
 * ("provision: ...") go to stdout as it runs, unless quiet.
 */
#ifndef PVE_GITOPS_OPS_PROVISION_H
#define PVE_GITOPS_OPS_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "util/err.h"

struct provision_req {
	const char *commit;   /* the commit to provision; NULL: HEAD */
	const char *playbook; /* --playbook NAME (checked as a tag would
			       * be); NULL: the commit's tag */
	const char *tag;      /* the commit's tag when the caller has read it
			       * already (used when playbook is NULL); NULL:
			       * read it here */
};

/* One new host and what happened to it. */
struct provision_host {
	char *ip, *name;	/* from new_hosts.txt, owned */
	long ssh_ms;		/* how long until SSH answered */
	const char *key_source; /* "the guest agent", "ssh-keyscan"; NULL:
				 * not prepared */
	const char *cloud_init; /* "done", "absent", "error", ...; static */
};

struct provision_result {
	bool no_tag;		      /* the commit has no tag: nothing done */
	char *playbook;		      /* the playbook file run, owned */
	struct provision_host *hosts; /* the commit's new hosts */
	size_t nr, alloc;
	size_t prepared;     /* hosts ready (SSH, keys, cloud-init) */
	const char *failed;  /* the host whose preparation failed, or NULL */
	bool ran;	     /* ansible-playbook ran */
	int playbook_status; /* its exit status */
};

void provision_result_init(struct provision_result *r);
void provision_result_release(struct provision_result *r);

/*
 * Run stage two (out initialised by the caller). Returns 0 when the
 * playbook succeeded, 1 when there is nothing to do (no tag: out->no_tag),
 * -1 on a failure; a playbook that ran and failed is a failure with
 * out->ran set (ERR_CHILD).
 */
int provision_run(const struct config *cfg, const struct provision_req *req,
		  struct provision_result *out, struct err *e);

/* The summary `pve-gitops provision` prints once the playbook ran
 * (nothing when quiet or when it did not run). */
void provision_print(const struct config *cfg,
		     const struct provision_result *r);

#endif
