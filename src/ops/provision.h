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
 *
 * A host that fails before the playbook (no SSH within ssh.wait_seconds,
 * no host key, a refused SSH login, a cloud-init error unless
 * provision.on_cloud_init_error is continue: core/provcheck.h) is named in
 * an error and left out of the run, which goes on with the other new
 * hosts; the stage then fails (exit 1). With no host left the playbook
 * does not run.
 *
 * A playbook whose hosts have no SSH (provision.wait_for, talos by
 * default for talos.yml) has them waited for on the Talos API's port
 * (provision.talos_api_port, a TLS handshake unless talos_api_tls is
 * false), or not at all (none): no host-key step, no cloud-init check.
 */
#ifndef PVE_GITOPS_OPS_PROVISION_H
#define PVE_GITOPS_OPS_PROVISION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/provcheck.h"
#include "util/err.h"

struct lease;

struct provision_req {
	const char *commit;   /* the commit to provision; NULL: HEAD */
	const char *playbook; /* --playbook NAME (checked as a tag would
			       * be); NULL: the commit's tag */
	const char *tag;      /* the commit's tag when the caller has read it
			       * already (used when playbook is NULL); NULL:
			       * read it here */
	struct lease *lease;  /* the runner's lease, checked again before
			       * the playbook (the hosts may take minutes);
			       * NULL: none */
};

/* One new host and what happened to it. */
struct provision_host {
	char *ip, *name;	/* from new_hosts.txt, owned */
	long ssh_ms;		/* how long until SSH (or the Talos API)
				 * answered */
	const char *key_source; /* "the guest agent", "ssh-keyscan"; NULL:
				 * not prepared */
	bool checked;		/* check holds its verdict */
	struct provcheck check; /* ready, warned about or failed, and why */
	char *why;		/* check.why with its details, owned; NULL */
};

struct provision_result {
	bool no_tag;		      /* the commit has no tag: nothing done */
	char *playbook;		      /* the playbook file run, owned */
	struct provision_host *hosts; /* the commit's new hosts */
	size_t nr, alloc;
	size_t failed;		  /* hosts left out of the playbook (check) */
	enum provision_wait wait; /* what the new hosts were waited for */
	bool ran;		  /* ansible-playbook ran */
	int playbook_status;	  /* its exit status */
};

void provision_result_init(struct provision_result *r);
void provision_result_release(struct provision_result *r);

/*
 * Run stage two (out initialised by the caller). Returns 0 when the
 * playbook succeeded on every new host, 1 when there is nothing to do (no
 * tag: out->no_tag), -1 on a failure; a playbook that ran and failed is a
 * failure with out->ran set (ERR_CHILD), new hosts that failed are one
 * with out->failed set (ERR_BADSTATE, after the playbook ran on the
 * others).
 */
int provision_run(const struct config *cfg, const struct provision_req *req,
		  struct provision_result *out, struct err *e);

/* The summary `pve-gitops provision` prints once the playbook ran or
 * new hosts failed (nothing when quiet): a line per new host, with why it
 * failed or was warned about. */
void provision_print(const struct config *cfg,
		     const struct provision_result *r);

#endif
