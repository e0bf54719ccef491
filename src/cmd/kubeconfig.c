/*
 * kubeconfig.c - `pve-gitops kubeconfig merge | publish | get`: three
 * subcommands with their own option tables over one options struct, the
 * entries they have in common (the names of a merge, where the secret is in
 * Vault) written once; the merge into a file or into Vault and the read
 * back are ops/kubeconfig.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "ops/kubeconfig.h"
#include "util/exitcode.h"
#include "util/report.h"

struct kc_opts {
	char *into, *from, *context, *cluster_name, *server_host;
	char *kubeconfig, *inventory_name, *vault_path, *vault_key;
	char *vault_addr, *vault_token, *out;
	int force;
};

/* one string option: long name, field, placeholder, help */
#define S(name, field, arg, help)                                          \
	{                                                                  \
		name, 0, OPT_STRING, offsetof(struct kc_opts, field), arg, \
			help                                               \
	}

/* The names a merge takes, in merge and publish alike. */
#define NAME_OPTIONS                                                         \
	S("context", context, "NAME",                                        \
	  "the context's name: the inventory name"),                         \
		S("inventory-name", inventory_name, "NAME",                  \
		  "the same as --context"),                                  \
		S("cluster-name", cluster_name, "NAME",                      \
		  "the cluster and user name (default: the context's, or "   \
		  "generated)"),                                             \
		S("server-host", server_host, "ADDR",                        \
		  "the address that replaces a 127.0.0.1/localhost server"), \
		S("host-address", server_host, "ADDR", "the same")

/* Where the shared kubeconfig is in Vault, in publish and get alike. */
#define VAULT_OPTIONS                                                        \
	S("vault-path", vault_path, "MOUNT/PATH",                            \
	  "the secret (default: vault.mount/vault.path of the config)"),     \
		S("vault-key", vault_key, "KEY",                             \
		  "the key in the secret (default: vault.key, KUBECONFIG)"), \
		S("vault-addr", vault_addr, "URL",                           \
		  "Vault's address (default: vault.addr, VAULT_ADDR)"),      \
		S("vault-token", vault_token, "TOKEN",                       \
		  "accepted for the seed's playbooks; VAULT_TOKEN is safer")

static const struct opt merge_options[] = {
	S("into", into, "FILE", "the shared kubeconfig (created when missing)"),
	S("from", from, "FILE", "the cluster's kubeconfig (K3s's k3s.yaml)"),
	NAME_OPTIONS,
	{ "force", 0, OPT_BOOL, offsetof(struct kc_opts, force), NULL,
	  "merge exec, auth-provider, file and insecure fields, warned" },
	OPT_END,
};

static const struct opt publish_options[] = {
	S("kubeconfig", kubeconfig, "FILE", "the cluster's kubeconfig"),
	S("kubeconfig-file", kubeconfig, "FILE", "the same (the seed's name)"),
	NAME_OPTIONS,
	VAULT_OPTIONS,
	{ "force", 0, OPT_BOOL, offsetof(struct kc_opts, force), NULL,
	  "also replace a value that is not a kubeconfig" },
	OPT_END,
};

static const struct opt get_options[] = {
	S("context", context, "NAME",
	  "only this context (with its cluster and user)"),
	S("inventory-name", inventory_name, "NAME", "the same as --context"),
	VAULT_OPTIONS,
	{ "out", 'o', OPT_STRING, offsetof(struct kc_opts, out), "FILE",
	  "write here (mode 0600) instead of stdout" },
	OPT_END,
};

/* The checks every subcommand makes; the names of a merge. */
static int check_opts(struct kubeconfig_names *n, const struct kc_opts *o,
		      const char *sub, int argc, struct err *e)
{
	if (argc)
		return err_set(e, EXIT_INVALID,
			       "kubeconfig %s takes no arguments", sub);
	if (kubeconfig_name_check("--context", o->context, e) < 0 ||
	    kubeconfig_name_check("--inventory-name", o->inventory_name, e) <
		    0 ||
	    kubeconfig_name_check("--cluster-name", o->cluster_name, e) < 0)
		return -1;
	if (o->context && o->inventory_name &&
	    strcmp(o->context, o->inventory_name))
		return err_set(e, EXIT_INVALID,
			       "--context and --inventory-name disagree");
	n->context = o->context ? o->context : o->inventory_name;
	n->cluster_name = o->cluster_name;
	n->server_host = o->server_host;
	return 0;
}

/* Print a failed operation's diagnostics; pass its status on. */
static int finish(const struct config *cfg, struct kubeconfig_result *r,
		  int ret)
{
	report_diags(cfg, &r->diags, true);
	kubeconfig_result_release(r);
	return ret;
}

static int run_merge(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	const struct kc_opts *o = opts;
	struct kubeconfig_merge_request req = {
		o->into, o->from, { 0 }, o->force
	};
	struct kubeconfig_result r;

	(void)argv;
	if (check_opts(&req.names, o, "merge", argc, e) < 0)
		return -1;
	if (!o->into || !o->from || !req.names.context)
		return err_set(e, EXIT_INVALID,
			       "kubeconfig merge needs --into FILE, --from "
			       "FILE and --context NAME");
	kubeconfig_result_init(&r);
	if (kubeconfig_merge_file(&r, cfg, &req, e) < 0)
		return finish(cfg, &r, -1);
	report_note("%s: %s", o->into, r.summary.buf);
	return finish(cfg, &r, 0);
}

static void print_published(const struct config *cfg,
			    const struct kubeconfig_result *r)
{
	if (cfg->json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:s}", "path",
				      r->path.buf, "key", r->key.buf, "version",
				      r->version, "conflicts", r->conflicts,
				      "summary", r->summary.buf);

		json_dumpf(j, stdout, JSON_INDENT(2));
		puts("");
		json_decref(j);
	} else {
		report_info(stdout, "%s (%s): %s; version %d", r->path.buf,
			    r->key.buf, r->summary.buf, r->version);
		if (r->conflicts)
			report_info(stdout,
				    " after %d check-and-set conflict%s",
				    r->conflicts, r->conflicts == 1 ? "" : "s");
		report_info(stdout, "\n");
	}
}

static int run_publish(const struct config *cfg, void *opts, int argc,
		       char **argv, struct err *e)
{
	const struct kc_opts *o = opts;
	struct kubeconfig_publish_request req = {
		o->kubeconfig,
		{ 0 },
		{ o->vault_path, o->vault_key, o->vault_addr, o->vault_token },
		o->force,
	};
	struct kubeconfig_result r;

	(void)argv;
	if (check_opts(&req.names, o, "publish", argc, e) < 0)
		return -1;
	if (!o->kubeconfig || !req.names.context)
		return err_set(e, EXIT_INVALID,
			       "kubeconfig publish needs --kubeconfig FILE and "
			       "--inventory-name NAME");
	kubeconfig_result_init(&r);
	if (kubeconfig_publish(&r, cfg, &req, e) < 0)
		return finish(cfg, &r, -1);
	print_published(cfg, &r);
	return finish(cfg, &r, 0);
}

static int run_get(const struct config *cfg, void *opts, int argc, char **argv,
		   struct err *e)
{
	const struct kc_opts *o = opts;
	struct kubeconfig_get_request req = {
		NULL,
		{ o->vault_path, o->vault_key, o->vault_addr, o->vault_token },
		o->out,
	};
	struct kubeconfig_names names;
	struct kubeconfig_result r;

	(void)argv;
	if (check_opts(&names, o, "get", argc, e) < 0)
		return -1;
	req.context = names.context;
	kubeconfig_result_init(&r);
	if (kubeconfig_get(&r, cfg, &req, e) < 0)
		return finish(cfg, &r, -1);
	if (fwrite(r.text.buf, 1, r.text.len, stdout) != r.text.len) {
		err_errno(e, errno, "cannot write to stdout");
		return finish(cfg, &r, -1);
	}
	return finish(cfg, &r, 0);
}

#define SUB(verb, what, options, handler)                                   \
	{                                                                   \
		.name = verb, .summary = what, .args = "", .opts = options, \
		.opts_size = sizeof(struct kc_opts), .run = handler         \
	}

static const struct cmd kubeconfig_subs[] = {
	SUB("merge", "merge a cluster's kubeconfig into a shared file",
	    merge_options, run_merge),
	SUB("publish", "merge it into the shared kubeconfig in Vault",
	    publish_options, run_publish),
	SUB("get", "read the shared kubeconfig from Vault", get_options,
	    run_get),
	{ .name = NULL },
};

const struct cmd cmd_kubeconfig = {
	.name = "kubeconfig",
	.summary = "merge a cluster's kubeconfig into a file or into Vault",
	.flags = CMD_SETUP,
	.subs = kubeconfig_subs,
};
