/*
 * kubeconfig.h - a K3s cluster's kubeconfig merged into a shared one, as
 * operations: into a file (merge), into a Vault KV secret (publish, with
 * check-and-set on KV v2: re-read and re-merged on conflict), and read back
 * from Vault (get).
 *
 * Nothing is written before the input has been read, checked and merged; a
 * Vault read that fails for any reason but "not found" stops a publish
 * without a write, and a stored value that is not a kubeconfig is refused
 * unless force. The merge itself is core/kubeconfig.c's; the Vault client
 * io/vault.c's. Each operation takes a request and fills a result the
 * caller releases (also after a failure); the result's diags hold the
 * problems found in a kubeconfig, each at its FILE:LINE (a stored value is
 * named vault:MOUNT/PATH#KEY), and the warnings of --force, for the caller
 * to print.
 */
#ifndef PVE_GITOPS_OPS_KUBECONFIG_H
#define PVE_GITOPS_OPS_KUBECONFIG_H

#include <stdbool.h>

#include "core/config.h"
#include "core/diag.h"
#include "util/err.h"
#include "util/strbuf.h"

/* The names a cluster's kubeconfig is merged under. */
struct kubeconfig_names {
	const char *context; /* the context's name: the inventory name */
	const char
		*cluster_name;	 /* NULL: the context's old one, or generated */
	const char *server_host; /* replaces a loopback server, or NULL */
};

/* Where the shared kubeconfig is in Vault; NULL fields take the config's. */
struct kubeconfig_vault {
	const char *path;  /* MOUNT/PATH; NULL: vault.mount/vault.path */
	const char *key;   /* the key in the secret; NULL: vault.key */
	const char *addr;  /* NULL: vault.addr, else VAULT_ADDR */
	const char *token; /* from the command line (warned about), or NULL */
};

struct kubeconfig_merge_request {
	const char *into; /* the shared kubeconfig, created when missing */
	const char *from; /* the cluster's kubeconfig (K3s's k3s.yaml) */
	struct kubeconfig_names names;
	bool force; /* merge fields that are code or files, with a warning */
};

struct kubeconfig_publish_request {
	const char *kubeconfig; /* the cluster's kubeconfig file */
	struct kubeconfig_names names;
	struct kubeconfig_vault vault;
	bool force; /* replace a stored value that is not a kubeconfig */
};

struct kubeconfig_get_request {
	const char *context; /* only this context; NULL: the whole file */
	struct kubeconfig_vault vault;
	const char *out; /* write it here (mode 0600); NULL: into text */
};

struct kubeconfig_result {
	struct strbuf summary;	/* merge, publish: what the merge did */
	struct strbuf path;	/* publish, get: the secret's MOUNT/PATH */
	struct strbuf key;	/* publish, get: the key in the secret */
	int version;		/* publish: the version stored now */
	int conflicts;		/* publish: check-and-set conflicts met */
	struct strbuf text;	/* get without out: the kubeconfig (YAML) */
	struct diag_list diags; /* problems in a kubeconfig read */
};

void kubeconfig_result_init(struct kubeconfig_result *r);
/* Free r; the kubeconfig text is wiped. */
void kubeconfig_result_release(struct kubeconfig_result *r);

/*
 * Merge req->from into the file req->into (written atomically, mode
 * 0600). Returns 0, or -1 with e set (EXIT_INVALID for bad input; out's
 * diags say where) and the file unchanged.
 */
int kubeconfig_merge_file(struct kubeconfig_result *out,
			  const struct config *cfg,
			  const struct kubeconfig_merge_request *req,
			  struct err *e);

/*
 * A context or cluster name given as flag: 1-253 printable characters, no
 * spaces (NULL passes). 0 or -1 (EXIT_INVALID).
 */
int kubeconfig_name_check(const char *flag, const char *n, struct err *e);

/*
 * Merge req->kubeconfig into the shared kubeconfig in Vault, retrying on
 * lost check-and-set races. out has the secret, the version and the
 * number of conflicts. Returns 0, or -1 with e set and nothing written.
 */
int kubeconfig_publish(struct kubeconfig_result *out, const struct config *cfg,
		       const struct kubeconfig_publish_request *req,
		       struct err *e);

/*
 * Read the shared kubeconfig (or one context of it) from Vault into
 * out->text, or into the file req->out. Returns 0, or -1 with e set.
 */
int kubeconfig_get(struct kubeconfig_result *out, const struct config *cfg,
		   const struct kubeconfig_get_request *req, struct err *e);

#endif
