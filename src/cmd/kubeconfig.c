/*
 * kubeconfig.c - `pve-gitops kubeconfig merge | publish | get`: merge a K3s
 * cluster's kubeconfig into a shared one, in a file or in Vault (KV v2
 * check-and-set, re-read and re-merged on conflict), and read it back.
 *
 * Nothing is written before the input has been read, checked and merged;
 * a Vault read that fails for any reason but "not found" stops the publish
 * without a write, and a value under the key that is not a kubeconfig is
 * refused unless --force.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/kubeconfig.h"
#include "core/pve_format.h"
#include "core/yemit.h"
#include "io/vault.h"
#include "util/exitcode.h"
#include "util/fileio.h"

#define KUBECONFIG_MAX	     (16 << 20)
#define PUBLISH_MAX_ATTEMPTS 30

struct kc_opts {
	char *into, *from, *context, *cluster_name, *server_host;
	char *kubeconfig, *inventory_name, *vault_path, *vault_key;
	char *vault_addr, *vault_token, *out;
	int force;
};

#define KO(f) offsetof(struct kc_opts, f)
static const struct opt kc_options[] = {
	{ "into", 0, OPT_STRING, KO(into), "FILE",
	  "merge: the shared kubeconfig (created when missing)" },
	{ "from", 0, OPT_STRING, KO(from), "FILE",
	  "merge: the cluster's kubeconfig (K3s's k3s.yaml)" },
	{ "kubeconfig", 0, OPT_STRING, KO(kubeconfig), "FILE",
	  "publish: the cluster's kubeconfig" },
	{ "kubeconfig-file", 0, OPT_STRING, KO(kubeconfig), "FILE",
	  "the same (the seed's name)" },
	{ "context", 0, OPT_STRING, KO(context), "NAME",
	  "the context's name: the inventory name; get: the one to get" },
	{ "inventory-name", 0, OPT_STRING, KO(inventory_name), "NAME",
	  "publish: the same as --context" },
	{ "cluster-name", 0, OPT_STRING, KO(cluster_name), "NAME",
	  "the cluster and user name (default: the context's, or generated)" },
	{ "server-host", 0, OPT_STRING, KO(server_host), "ADDR",
	  "the address that replaces a 127.0.0.1/localhost server" },
	{ "host-address", 0, OPT_STRING, KO(server_host), "ADDR", "the same" },
	{ "vault-path", 0, OPT_STRING, KO(vault_path), "MOUNT/PATH",
	  "the secret (default: vault.mount/vault.path of the config)" },
	{ "vault-key", 0, OPT_STRING, KO(vault_key), "KEY",
	  "the key in the secret (default: vault.key, KUBECONFIG)" },
	{ "vault-addr", 0, OPT_STRING, KO(vault_addr), "URL",
	  "Vault's address (default: vault.addr, VAULT_ADDR)" },
	{ "vault-token", 0, OPT_STRING, KO(vault_token), "TOKEN",
	  "accepted for the seed's playbooks; VAULT_TOKEN is safer" },
	{ "out", 'o', OPT_STRING, KO(out), "FILE",
	  "get: write here (mode 0600) instead of stdout" },
	{ "force", 0, OPT_BOOL, KO(force), NULL,
	  "publish: replace a value that is not a kubeconfig" },
	OPT_END,
};

/* ---- helpers ----------------------------------------------------------------
 */

static int read_kubeconfig(json_t **out, const struct config *cfg,
			   const char *path, bool missing_ok, struct err *e)
{
	struct strbuf buf = STRBUF_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct err e2 = ERR_INIT;
	int ret = -1;

	*out = NULL;
	if (file_read_all(&buf, path, KUBECONFIG_MAX, &e2) < 0) {
		if (missing_ok && errno == ENOENT) {
			*out = kubeconfig_new();
			ret = 0;
		} else {
			err_set(e,
				e2.exit_code == EXIT_INVALID ? EXIT_INVALID
							     : EXIT_FAIL,
				"%s", e2.msg.buf);
		}
		goto out;
	}
	if (kubeconfig_parse(out, &dl, path, buf.buf, buf.len) < 0) {
		report_diags(cfg, &dl);
		err_set(e, EXIT_INVALID, "'%s' is not a kubeconfig", path);
		goto out;
	}
	ret = 0;
out:
	err_release(&e2);
	diag_list_release(&dl);
	strbuf_wipe(&buf);
	return ret;
}

/* A generated cluster name that kc does not use yet. */
static void fresh_name(struct strbuf *out, const json_t *kc)
{
	const json_t *it;
	uint64_t r;
	size_t i;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		bool taken = false;

		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (uint64_t)time(NULL) * 2654435761u +
			    (uint64_t)tries;
		strbuf_reset(out);
		kubeconfig_generate_name(out, r);
		json_array_foreach(json_object_get(kc, "clusters"), i, it)
		{
			const char *n =
				json_string_value(json_object_get(it, "name"));

			if (n && !strcmp(n, out->buf))
				taken = true;
		}
		if (!taken)
			return;
	}
	strbuf_addf(out, "-%u", (unsigned)(r % 100000));
}

/* --server-host: an IPv4 or IPv6 address or a DNS name. */
static int check_host(const char *h, struct err *e)
{
	struct strbuf why = STRBUF_INIT;
	unsigned char v6[16];
	uint32_t v4;
	int ok;

	if (!h)
		return 0;
	ok = !pve_parse_ipv4(&v4, h, strlen(h)) ||
	     inet_pton(AF_INET6, h, v6) == 1 || !pve_check_dns_name(h, &why);
	strbuf_release(&why);
	if (ok)
		return 0;
	return err_set(e, EXIT_INVALID,
		       "--server-host: '%s' is not an address or a host name",
		       h);
}

/* A context or cluster name: 1-253 printable characters, no spaces. */
static int check_name(const char *flag, const char *n, struct err *e)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; n[i]; i++)
		if ((unsigned char)n[i] <= ' ' || n[i] == 0x7f)
			break;
	if (i && !n[i] && i <= 253)
		return 0;
	return err_set(e, EXIT_INVALID,
		       "%s: a name of 1 to 253 characters without spaces or "
		       "control characters",
		       flag);
}

static const char *context_name(const struct kc_opts *o)
{
	return o->context ? o->context : o->inventory_name;
}

/* Merge from into into (a copy, so a refusal changes nothing). */
static int merge_into(json_t **result, const json_t *into, const json_t *from,
		      const struct kc_opts *o, struct strbuf *summary,
		      struct err *e)
{
	struct kubeconfig_merge_report rep;
	struct strbuf why = STRBUF_INIT, gen = STRBUF_INIT;
	struct kubeconfig_merge_opts mo;
	json_t *copy = json_deep_copy(into);
	size_t i;
	int ret = -1;

	fresh_name(&gen, into);
	mo.context = context_name(o);
	mo.cluster_name = o->cluster_name;
	mo.server_host = o->server_host;
	mo.generated = gen.buf;
	kubeconfig_merge_report_init(&rep);
	if (kubeconfig_merge(copy, from, &mo, &rep, &why) < 0) {
		err_set(e, EXIT_INVALID, "cannot merge: %s%s", why.buf,
			strstr(why.buf, "loopback") ? " (--server-host ADDR)"
						    : "");
		goto out;
	}
	strbuf_reset(summary);
	strbuf_addf(summary, "context %s -> cluster %s (%s)%s", mo.context,
		    rep.cluster_name, rep.server,
		    rep.replaced_context ? ", replacing the old context" : "");
	for (i = 0; i < rep.removed_clusters.nr; i++)
		strbuf_addf(summary, "; removed unused cluster %s",
			    rep.removed_clusters.v[i]);
	for (i = 0; i < rep.removed_users.nr; i++)
		strbuf_addf(summary, "; removed unused user %s",
			    rep.removed_users.v[i]);
	*result = copy;
	copy = NULL;
	ret = 0;
out:
	json_decref(copy);
	kubeconfig_merge_report_release(&rep);
	strbuf_release(&why);
	strbuf_release(&gen);
	return ret;
}

static void say(const struct config *cfg, const char *what, const char *msg)
{
	if (cfg->verbosity >= 0)
		fprintf(stderr, "%s: %s\n", what, msg);
}

/* ---- merge
 * --------------------------------------------------------------------- */

static int write_kubeconfig(const char *path, const json_t *kc, struct err *e)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	yemit(&text, kc);
	ret = file_make_parents(path, NULL, e) < 0
		      ? -1
		      : file_write_atomic(path, text.buf, text.len, 0600, e);
	strbuf_wipe(&text);
	return ret;
}

static int kc_merge(const struct config *cfg, const struct kc_opts *o,
		    struct err *e)
{
	json_t *into = NULL, *from = NULL, *result = NULL;
	struct strbuf summary = STRBUF_INIT;
	int ret = -1;

	if (!o->into || !o->from || !context_name(o))
		return err_set(e, EXIT_INVALID,
			       "kubeconfig merge needs --into FILE, --from "
			       "FILE and --context NAME");
	if (check_host(o->server_host, e) < 0)
		return -1;
	if (read_kubeconfig(&from, cfg, o->from, false, e) < 0 ||
	    read_kubeconfig(&into, cfg, o->into, true, e) < 0 ||
	    merge_into(&result, into, from, o, &summary, e) < 0 ||
	    write_kubeconfig(o->into, result, e) < 0)
		goto out;
	say(cfg, o->into, summary.buf);
	ret = 0;
out:
	json_decref(into);
	json_decref(from);
	json_decref(result);
	strbuf_release(&summary);
	return ret;
}

/* ---- Vault
 * ----------------------------------------------------------------------- */

struct kc_secret {
	struct vault_client vc;
	struct vault_kv kv;
	struct strbuf path;
	const char *key;
};

static int secret_open(struct kc_secret *s, const struct config *cfg,
		       const struct kc_opts *o, struct err *e)
{
	struct vault_flags vf = { o->vault_addr, o->vault_token };

	strbuf_init(&s->path, 0);
	memset(&s->kv, 0, sizeof(s->kv));
	if (o->vault_path)
		strbuf_addstr(&s->path, o->vault_path);
	else
		strbuf_addf(&s->path, "%s/%s", cfg->vault.mount,
			    cfg->vault.path);
	s->key = o->vault_key ? o->vault_key : cfg->vault.key;
	if (vault_client_init(&s->vc, cfg, &vf, e) < 0)
		return -1;
	return vault_kv_locate(&s->vc, s->path.buf, &s->kv, e);
}

static void secret_close(struct kc_secret *s)
{
	vault_kv_release(&s->kv);
	vault_client_release(&s->vc);
	strbuf_release(&s->path);
}

/*
 * The kubeconfig under the key of data: a new one when the key is absent;
 * -1 when the value is not a kubeconfig (NULL and 0 with force).
 */
static int stored_kubeconfig(json_t **out, const struct config *cfg,
			     const struct kc_secret *s, const json_t *data,
			     bool force, struct err *e)
{
	const json_t *v = json_object_get(data, s->key);
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf name = STRBUF_INIT;
	int ret = 0;

	*out = NULL;
	if (!v) {
		*out = kubeconfig_new();
		return 0;
	}
	strbuf_addf(&name, "%s:%s", s->path.buf, s->key);
	if (!json_is_string(v) ||
	    kubeconfig_parse(out, &dl, name.buf, json_string_value(v),
			     json_string_length(v)) < 0) {
		if (force) {
			say(cfg, "warning",
			    "the stored value is not a kubeconfig; --force "
			    "replaces it");
			*out = kubeconfig_new();
		} else {
			report_diags(cfg, &dl);
			ret = err_set(e, EXIT_INVALID,
				      "the value of %s in %s is not a "
				      "kubeconfig; nothing was written "
				      "(--force replaces it)",
				      s->key, s->path.buf);
		}
	}
	diag_list_release(&dl);
	strbuf_release(&name);
	return ret;
}

/* One read-merge-write round: 0 written or nothing to do, 1 lost the
 * check-and-set race, -1 failed. */
static int publish_once(const struct config *cfg, struct kc_secret *s,
			const json_t *from, const struct kc_opts *o,
			struct strbuf *summary, int *version, struct err *e)
{
	json_t *data = NULL, *stored = NULL, *merged = NULL, *next = NULL;
	struct strbuf text = STRBUF_INIT;
	const char *old;
	int current, rc, ret = -1;

	rc = vault_kv_read(&s->vc, &s->kv, &data, &current, e);
	if (rc < 0) {
		err_prefix(e, "cannot read %s; nothing was written",
			   s->path.buf);
		goto out;
	}
	if (rc == 1)
		data = json_object(); /* created with cas=0 */
	if (stored_kubeconfig(&stored, cfg, s, data, o->force, e) < 0 ||
	    merge_into(&merged, stored, from, o, summary, e) < 0)
		goto out;
	yemit(&text, merged);
	old = json_string_value(json_object_get(data, s->key));
	if (old && !strcmp(old, text.buf)) {
		*version = current;
		strbuf_addstr(summary, "; already stored, nothing written");
		ret = 0;
		goto out;
	}
	next = json_deep_copy(data);
	json_object_set_new(next, s->key, json_string(text.buf));
	ret = vault_kv_write(&s->vc, &s->kv, next,
			     s->kv.version == 2 ? current : -1, version, e);
	if (ret < 0)
		err_prefix(e, "cannot write %s", s->path.buf);
out:
	json_decref(data);
	json_decref(stored);
	json_decref(merged);
	json_decref(next);
	strbuf_wipe(&text);
	return ret;
}

static int kc_publish(const struct config *cfg, const struct kc_opts *o,
		      struct err *e)
{
	struct kc_secret s;
	struct strbuf summary = STRBUF_INIT;
	json_t *from = NULL;
	int attempt, conflicts = 0, version = 0, rc = -1, ret = -1;

	memset(&s, 0, sizeof(s));
	if (!o->kubeconfig || !context_name(o))
		return err_set(e, EXIT_INVALID,
			       "kubeconfig publish needs --kubeconfig FILE and "
			       "--inventory-name NAME");
	if (check_host(o->server_host, e) < 0)
		return -1;
	if (read_kubeconfig(&from, cfg, o->kubeconfig, false, e) < 0)
		goto out;
	if (secret_open(&s, cfg, o, e) < 0) {
		if (s.path.len)
			err_prefix(e, "cannot use %s; nothing was written",
				   s.path.buf);
		goto out;
	}
	if (s.kv.version == 1)
		say(cfg, "warning",
		    "a KV version 1 mount has no check-and-set: concurrent "
		    "publishes can lose an update");
	for (attempt = 0; attempt < PUBLISH_MAX_ATTEMPTS; attempt++) {
		rc = publish_once(cfg, &s, from, o, &summary, &version, e);
		if (rc != 1)
			break;
		conflicts++;
		/* someone else wrote first: read again, merge again */
		nanosleep(&(struct timespec){ 0, (long)(5 + attempt * 10) *
							 1000000L },
			  NULL);
	}
	if (rc == 1) {
		err_set(e, EXIT_FAIL,
			"%s kept changing: %d check-and-set conflicts; "
			"nothing was written",
			s.path.buf, conflicts);
		goto out;
	}
	if (rc < 0)
		goto out;
	if (cfg->json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:s}", "path",
				      s.path.buf, "key", s.key, "version",
				      version, "conflicts", conflicts,
				      "summary", summary.buf);

		json_dumpf(j, stdout, JSON_INDENT(2));
		puts("");
		json_decref(j);
	} else if (cfg->verbosity >= 0) {
		printf("%s (%s): %s; version %d", s.path.buf, s.key,
		       summary.buf, version);
		if (conflicts)
			printf(" after %d check-and-set conflict%s", conflicts,
			       conflicts == 1 ? "" : "s");
		printf("\n");
	}
	ret = 0;
out:
	json_decref(from);
	secret_close(&s);
	strbuf_release(&summary);
	return ret;
}

/* ---- get
 * ------------------------------------------------------------------------- */

static int kc_get(const struct config *cfg, const struct kc_opts *o,
		  struct err *e)
{
	struct kc_secret s;
	json_t *data = NULL, *kc = NULL, *one = NULL;
	struct strbuf text = STRBUF_INIT;
	int version, rc, ret = -1;

	memset(&s, 0, sizeof(s));
	if (secret_open(&s, cfg, o, e) < 0)
		goto out;
	rc = vault_kv_read(&s.vc, &s.kv, &data, &version, e);
	if (rc) {
		if (rc == 1)
			err_set(e, EXIT_FAIL, "no secret at %s", s.path.buf);
		goto out;
	}
	if (!json_object_get(data, s.key)) {
		err_set(e, EXIT_FAIL, "%s has no key %s", s.path.buf, s.key);
		goto out;
	}
	if (stored_kubeconfig(&kc, cfg, &s, data, false, e) < 0)
		goto out;
	if (context_name(o)) {
		one = kubeconfig_select(kc, context_name(o));
		if (!one) {
			struct strvec names;
			size_t i;

			strvec_init(&names);
			kubeconfig_context_names(kc, &names);
			err_set(e, EXIT_FAIL,
				"no context '%s' in %s; there are:",
				context_name(o), s.path.buf);
			for (i = 0; i < names.nr; i++)
				strbuf_addf(&e->msg, " %s", names.v[i]);
			if (!names.nr)
				strbuf_addstr(&e->msg, " none");
			strvec_clear(&names);
			goto out;
		}
	}
	if (o->out) {
		if (write_kubeconfig(o->out, one ? one : kc, e) < 0)
			goto out;
	} else {
		yemit(&text, one ? one : kc);
		if (fwrite(text.buf, 1, text.len, stdout) != text.len) {
			err_errno(e, errno, "cannot write to stdout");
			goto out;
		}
	}
	ret = 0;
out:
	json_decref(data);
	json_decref(kc);
	json_decref(one);
	strbuf_wipe(&text);
	secret_close(&s);
	return ret;
}

static int run_kubeconfig(const struct config *cfg, void *opts, int argc,
			  char **argv, struct err *e)
{
	struct kc_opts *o = opts;

	if (argc != 1)
		return err_set(e, EXIT_INVALID,
			       "kubeconfig takes one of merge, publish, get");
	if (check_name("--context", o->context, e) < 0 ||
	    check_name("--inventory-name", o->inventory_name, e) < 0 ||
	    check_name("--cluster-name", o->cluster_name, e) < 0)
		return -1;
	if (o->context && o->inventory_name &&
	    strcmp(o->context, o->inventory_name))
		return err_set(e, EXIT_INVALID,
			       "--context and --inventory-name disagree");
	if (!strcmp(argv[0], "merge"))
		return kc_merge(cfg, o, e);
	if (!strcmp(argv[0], "publish"))
		return kc_publish(cfg, o, e);
	if (!strcmp(argv[0], "get"))
		return kc_get(cfg, o, e);
	return err_set(e, EXIT_INVALID,
		       "kubeconfig takes one of merge, publish, get, not '%s'",
		       argv[0]);
}

const struct cmd cmd_kubeconfig = {
	.name = "kubeconfig",
	.summary = "merge a cluster's kubeconfig into a file or into Vault",
	.args = "merge|publish|get",
	.opts = kc_options,
	.opts_size = sizeof(struct kc_opts),
	.run = run_kubeconfig,
};
