/*
 * kubeconfig.c - kubeconfig merge, publish and get; see kubeconfig.h.
 */
#include "ops/kubeconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <jansson.h>

#include "core/kubeconfig.h"
#include "core/kubeinert.h"
#include "core/pve_format.h"
#include "core/yemit.h"
#include "io/vault.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"

#define PUBLISH_MAX_ATTEMPTS 30

void kubeconfig_result_init(struct kubeconfig_result *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->summary, 0);
	strbuf_init(&r->path, 0);
	strbuf_init(&r->key, 0);
	strbuf_init(&r->text, 0);
	r->diags = (struct diag_list)DIAG_LIST_INIT;
}

void kubeconfig_result_release(struct kubeconfig_result *r)
{
	strbuf_release(&r->summary);
	strbuf_release(&r->path);
	strbuf_release(&r->key);
	strbuf_wipe(&r->text);
	diag_list_release(&r->diags);
	kubeconfig_result_init(r);
}

/*
 * Read and check a kubeconfig file; missing_ok: a missing one is new. The
 * problems go to dl when it is refused.
 */
static int read_kubeconfig(struct kubeconfig_doc *out, struct diag_list *dl,
			   const char *path, bool missing_ok, struct err *e)
{
	struct strbuf buf = STRBUF_INIT;
	struct err e2 = ERR_INIT;
	int ret = -1;

	if (file_read_all(&buf, path, KUBECONFIG_MAX_SIZE, &e2) < 0) {
		if (missing_ok && errno == ENOENT) {
			kubeconfig_doc_new(out, path);
			ret = 0;
		} else if (err_is(&e2, ERR_TOOLARGE)) {
			diag_add(dl, DIAG_ERROR, path, 1, 1,
				 "the file is larger than the limit of %d "
				 "bytes",
				 KUBECONFIG_MAX_SIZE);
			err_setk(
				e, ERR_INVALID, EXIT_INVALID,
				"'%s' is not a kubeconfig; nothing was written",
				path);
		} else {
			err_setk(e, e2.kind,
				 e2.exit_code == EXIT_INVALID ? EXIT_INVALID
							      : EXIT_FAIL,
				 "%s", e2.msg.buf);
		}
		goto out;
	}
	if (kubeconfig_load(out, dl, path, buf.buf, buf.len) < 0) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "'%s' is not a kubeconfig; nothing was written", path);
		goto out;
	}
	ret = 0;
out:
	err_release(&e2);
	strbuf_wipe(&buf);
	return ret;
}

/*
 * The incoming kubeconfig carries data, not code (core/kubeinert.h): every
 * consumer of the shared one would run an exec command or read a local
 * file without asking. With force each field is a warning instead.
 */
static int check_inert(const struct kubeconfig_doc *d, bool force,
		       struct diag_list *dl, struct err *e)
{
	struct strvec paths = STRVEC_INIT, whys = STRVEC_INIT;
	struct kubeconfig_problem p = KUBECONFIG_PROBLEM_INIT;
	size_t i, n = kubeconfig_find_active_at(d->kc, &paths, &whys);

	for (i = 0; i < n; i++) {
		strbuf_reset(&p.path);
		strbuf_reset(&p.msg);
		strbuf_addstr(&p.path, paths.v[i]);
		strbuf_addf(&p.msg, "%s%s", whys.v[i],
			    force ? " (merged: --force)" : "");
		kubeconfig_doc_diag(dl, d, force ? DIAG_WARNING : DIAG_ERROR,
				    &p);
	}
	strvec_clear(&paths);
	strvec_clear(&whys);
	kubeconfig_problem_release(&p);
	if (n && !force)
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"'%s' holds %zu field%s that a shared "
				"kubeconfig must not carry; nothing was "
				"written (--force merges them)",
				d->file, n, n == 1 ? "" : "s");
	return 0;
}

/* A context or cluster name: 1-253 printable characters, no spaces. */
int kubeconfig_name_check(const char *flag, const char *n, struct err *e)
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
	return err_setk(e, ERR_INVALID, EXIT_INVALID,
			"--server-host: '%s' is not an address or a host name",
			h);
}

static bool cluster_named(const json_t *kc, const char *name)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(kc, "clusters"), i, it)
	{
		const char *n = json_string_value(json_object_get(it, "name"));

		if (n && !strcmp(n, name))
			return true;
	}
	return false;
}

/* A generated cluster name that kc does not use yet. */
static void fresh_name(struct strbuf *out, const json_t *kc)
{
	uint64_t r = 0;
	int tries;

	for (tries = 0; tries < 64; tries++) {
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (uint64_t)time(NULL) * 2654435761u +
			    (uint64_t)tries;
		strbuf_reset(out);
		kubeconfig_generate_name(out, r);
		if (!cluster_named(kc, out->buf))
			return;
	}
	strbuf_addf(out, "-%u", (unsigned)(r % 100000));
}

static void summarize(struct strbuf *out, const char *context,
		      const struct kubeconfig_merge_report *rep)
{
	size_t i;

	strbuf_reset(out);
	strbuf_addf(out, "context %s -> cluster %s (%s)%s", context,
		    rep->cluster_name, rep->server,
		    rep->replaced_context ? ", replacing the old context" : "");
	for (i = 0; i < rep->removed_clusters.nr; i++)
		strbuf_addf(out, "; removed unused cluster %s",
			    rep->removed_clusters.v[i]);
	for (i = 0; i < rep->removed_users.nr; i++)
		strbuf_addf(out, "; removed unused user %s",
			    rep->removed_users.v[i]);
}

/* Merge from into into (a copy, so a refusal changes nothing); a problem
 * goes to dl at its place in the kubeconfig it is in. */
static int merge_into(json_t **result, const struct kubeconfig_doc *into,
		      const struct kubeconfig_doc *from,
		      const struct kubeconfig_names *n, struct strbuf *summary,
		      struct diag_list *dl, struct err *e)
{
	struct kubeconfig_merge_report rep;
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
	struct strbuf gen = STRBUF_INIT;
	struct kubeconfig_merge_opts mo;
	json_t *copy = json_deep_copy(into->kc);
	int ret = -1;

	fresh_name(&gen, into->kc);
	mo.context = n->context;
	mo.cluster_name = n->cluster_name;
	mo.server_host = n->server_host;
	mo.generated = gen.buf;
	kubeconfig_merge_report_init(&rep);
	if (kubeconfig_merge(copy, from->kc, &mo, &rep, &why) < 0) {
		kubeconfig_doc_diag(dl,
				    why.side == KUBECONFIG_INTO ? into : from,
				    DIAG_ERROR, &why);
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "cannot merge '%s' into '%s'%s", from->file,
			 into->file,
			 why.fact == KUBECONFIG_FACT_LOOPBACK
				 ? " (--server-host ADDR gives the host's "
				   "address)"
				 : "");
		goto out;
	}
	summarize(summary, n->context, &rep);
	*result = copy;
	copy = NULL;
	ret = 0;
out:
	json_decref(copy);
	kubeconfig_merge_report_release(&rep);
	kubeconfig_problem_release(&why);
	strbuf_release(&gen);
	return ret;
}

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

int kubeconfig_merge_file(struct kubeconfig_result *out,
			  const struct config *cfg,
			  const struct kubeconfig_merge_request *req,
			  struct err *e)
{
	struct kubeconfig_doc into = KUBECONFIG_DOC_INIT;
	struct kubeconfig_doc from = KUBECONFIG_DOC_INIT;
	json_t *result = NULL;
	int ret = -1;

	(void)cfg;
	if (check_host(req->names.server_host, e) < 0 ||
	    read_kubeconfig(&from, &out->diags, req->from, false, e) < 0 ||
	    check_inert(&from, req->force, &out->diags, e) < 0 ||
	    read_kubeconfig(&into, &out->diags, req->into, true, e) < 0 ||
	    merge_into(&result, &into, &from, &req->names, &out->summary,
		       &out->diags, e) < 0 ||
	    write_kubeconfig(req->into, result, e) < 0)
		goto out;
	ret = 0;
out:
	kubeconfig_doc_release(&into);
	kubeconfig_doc_release(&from);
	json_decref(result);
	return ret;
}

/* ---- Vault ---------------------------------------------------------------
 */

struct secret {
	struct vault_client vc;
	struct vault_kv kv;
	const char *path, *key; /* in the result */
};

static int secret_open(struct secret *s, struct kubeconfig_result *out,
		       const struct config *cfg,
		       const struct kubeconfig_vault *v, struct err *e)
{
	struct vault_flags vf = { v->addr, v->token };

	memset(s, 0, sizeof(*s));
	if (v->path)
		strbuf_addstr(&out->path, v->path);
	else
		strbuf_addf(&out->path, "%s/%s", cfg->vault.mount,
			    cfg->vault.path);
	strbuf_addstr(&out->key, v->key ? v->key : cfg->vault.key);
	s->path = out->path.buf;
	s->key = out->key.buf;
	if (vault_client_init(&s->vc, cfg, &vf, e) < 0)
		return -1;
	return vault_kv_locate(&s->vc, s->path, &s->kv, e);
}

static void secret_close(struct secret *s)
{
	vault_kv_release(&s->kv);
	vault_client_release(&s->vc);
}

/*
 * The kubeconfig under the key of data, named vault:MOUNT/PATH#KEY: a new
 * one when the key is absent; -1 when the value is not a kubeconfig (a new
 * one with force).
 */
static int stored_kubeconfig(struct kubeconfig_doc *out, struct diag_list *dl,
			     const struct secret *s, const json_t *data,
			     bool force, struct err *e)
{
	const json_t *v = json_object_get(data, s->key);
	struct diag_list mine = DIAG_LIST_INIT;
	struct strbuf name = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&name, "vault:%s#%s", s->path, s->key);
	if (!v) {
		kubeconfig_doc_new(out, name.buf);
		goto out;
	}
	if (!json_is_string(v))
		diag_add(&mine, DIAG_ERROR, name.buf, 0, 0,
			 "the value is JSON, not a string holding a "
			 "kubeconfig");
	if (!json_is_string(v) ||
	    kubeconfig_load(out, &mine, name.buf, json_string_value(v),
			    json_string_length(v)) < 0) {
		kubeconfig_doc_release(out);
		if (force) {
			report_warning("the stored value is not a kubeconfig; "
				       "--force replaces it");
			kubeconfig_doc_new(out, name.buf);
		} else {
			diag_list_move(dl, &mine);
			ret = err_setk(e, ERR_INVALID, EXIT_INVALID,
				       "the value of %s in %s is not a "
				       "kubeconfig; nothing was written "
				       "(--force replaces it)",
				       s->key, s->path);
		}
	}
out:
	diag_list_release(&mine);
	strbuf_release(&name);
	return ret;
}

/* One read-merge-write round: 0 written or nothing to do, 1 lost the
 * check-and-set race, -1 failed. */
static int publish_once(struct kubeconfig_result *out, struct secret *s,
			const struct kubeconfig_doc *from,
			const struct kubeconfig_publish_request *req,
			struct err *e)
{
	json_t *data = NULL, *merged = NULL, *next = NULL;
	struct kubeconfig_doc stored = KUBECONFIG_DOC_INIT;
	struct strbuf text = STRBUF_INIT;
	const char *old;
	int current, rc, ret = -1;

	rc = vault_kv_read(&s->vc, &s->kv, &data, &current, e);
	if (rc < 0) {
		err_prefix(e, "cannot read %s; nothing was written", s->path);
		goto out;
	}
	if (rc == 1)
		data = json_object(); /* created with cas=0 */
	if (stored_kubeconfig(&stored, &out->diags, s, data, req->force, e) <
		    0 ||
	    merge_into(&merged, &stored, from, &req->names, &out->summary,
		       &out->diags, e) < 0)
		goto out;
	yemit(&text, merged);
	old = json_string_value(json_object_get(data, s->key));
	if (old && !strcmp(old, text.buf)) {
		out->version = current;
		strbuf_addstr(&out->summary,
			      "; already stored, nothing written");
		ret = 0;
		goto out;
	}
	next = json_deep_copy(data);
	json_object_set_new(next, s->key, json_string(text.buf));
	ret = vault_kv_write(&s->vc, &s->kv, next,
			     s->kv.version == 2 ? current : -1, &out->version,
			     e);
	if (ret < 0)
		err_prefix(e, "cannot write %s", s->path);
out:
	json_decref(data);
	kubeconfig_doc_release(&stored);
	json_decref(merged);
	json_decref(next);
	strbuf_wipe(&text);
	return ret;
}

/* Rounds until one is not lost to someone who wrote first. */
static int publish_rounds(struct kubeconfig_result *out, struct secret *s,
			  const struct kubeconfig_doc *from,
			  const struct kubeconfig_publish_request *req,
			  struct err *e)
{
	int attempt, rc = -1;

	for (attempt = 0; attempt < PUBLISH_MAX_ATTEMPTS; attempt++) {
		rc = publish_once(out, s, from, req, e);
		if (rc != 1)
			break;
		out->conflicts++;
		/* someone else wrote first: read again, merge again */
		sleep_ms(5 + attempt * 10);
	}
	if (rc == 1)
		return err_setk(e, ERR_CONFLICT, EXIT_FAIL,
				"%s kept changing: %d check-and-set "
				"conflicts; nothing was written",
				s->path, out->conflicts);
	return rc;
}

int kubeconfig_publish(struct kubeconfig_result *out, const struct config *cfg,
		       const struct kubeconfig_publish_request *req,
		       struct err *e)
{
	struct secret s;
	struct kubeconfig_doc from = KUBECONFIG_DOC_INIT;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (read_kubeconfig(&from, &out->diags, req->kubeconfig, false, e) <
		    0 ||
	    check_inert(&from, req->force, &out->diags, e) < 0)
		goto out;
	if (secret_open(&s, out, cfg, &req->vault, e) < 0) {
		err_prefix(e, "cannot use %s; nothing was written", s.path);
		goto out;
	}
	if (s.kv.version == 1)
		report_warning("a KV version 1 mount has no check-and-set: "
			       "concurrent publishes can lose an update");
	ret = publish_rounds(out, &s, &from, req, e);
out:
	kubeconfig_doc_release(&from);
	secret_close(&s);
	return ret;
}

/* The error for a context that is not there, with the ones there are. */
static int no_context(const json_t *kc, const char *context, const char *path,
		      struct err *e)
{
	struct strvec names = STRVEC_INIT;
	size_t i;

	kubeconfig_context_names(kc, &names);
	err_setk(e, ERR_NOTFOUND, EXIT_FAIL,
		 "no context '%s' in %s; there are:", context, path);
	for (i = 0; i < names.nr; i++)
		strbuf_addf(&e->msg, " %s", names.v[i]);
	if (!names.nr)
		strbuf_addstr(&e->msg, " none");
	strvec_clear(&names);
	return -1;
}

/* The stored kubeconfig, or the part of it for one context. */
static int get_stored(json_t **out, struct kubeconfig_result *r,
		      struct secret *s, const char *context, struct err *e)
{
	json_t *data = NULL;
	struct kubeconfig_doc kc = KUBECONFIG_DOC_INIT;
	int version, rc, ret = -1;

	rc = vault_kv_read(&s->vc, &s->kv, &data, &version, e);
	if (rc) {
		if (rc == 1)
			err_setk(e, ERR_NOTFOUND, EXIT_FAIL, "no secret at %s",
				 s->path);
		goto out;
	}
	if (!json_object_get(data, s->key)) {
		err_setk(e, ERR_NOTFOUND, EXIT_FAIL, "%s has no key %s",
			 s->path, s->key);
		goto out;
	}
	if (stored_kubeconfig(&kc, &r->diags, s, data, false, e) < 0)
		goto out;
	if (context) {
		*out = kubeconfig_select(kc.kc, context);
		if (!*out) {
			no_context(kc.kc, context, s->path, e);
			goto out;
		}
	} else {
		*out = json_incref(kc.kc);
	}
	ret = 0;
out:
	json_decref(data);
	kubeconfig_doc_release(&kc);
	return ret;
}

int kubeconfig_get(struct kubeconfig_result *out, const struct config *cfg,
		   const struct kubeconfig_get_request *req, struct err *e)
{
	struct secret s;
	json_t *kc = NULL;
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (secret_open(&s, out, cfg, &req->vault, e) < 0 ||
	    get_stored(&kc, out, &s, req->context, e) < 0)
		goto out;
	if (req->out)
		ret = write_kubeconfig(req->out, kc, e);
	else {
		yemit(&out->text, kc);
		ret = 0;
	}
out:
	json_decref(kc);
	secret_close(&s);
	return ret;
}
