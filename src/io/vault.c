/*
 * vault.c - the Vault KV client; see vault.h.
 */
#include "io/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "core/metrics.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/url.h"
#include "util/xalloc.h"

#define VAULT_CAS_MISMATCH \
	"check-and-set parameter did not match the current version"
#define TOKEN_FILE_MAX 4096

/* The token: the flag, else VAULT_TOKEN, else ~/.vault-token. */
static int load_token(struct vault_client *vc, const struct env *env,
		      const struct vault_flags *f, struct err *e)
{
	const char *home = env ? env->home : NULL;
	struct strbuf path = STRBUF_INIT;
	struct err ignore = ERR_INIT;

	if (f && f->token) {
		report_warning("--vault-token puts the token in the process "
			       "list; VAULT_TOKEN or ~/.vault-token is safer");
		strbuf_addstr(&vc->token, f->token);
		vc->token_from = "--vault-token";
	} else if (env && env->vault_token) {
		strbuf_addstr(&vc->token, env->vault_token);
		vc->token_from = "VAULT_TOKEN (environment)";
	} else if (home) {
		vc->token_from = "~/.vault-token (file)";
		strbuf_addf(&path, "%s/.vault-token", home);
		file_read_all(&vc->token, path.buf, TOKEN_FILE_MAX, &ignore);
		strbuf_trim(&vc->token);
	}
	strbuf_release(&path);
	err_release(&ignore);
	if (!vc->token.len)
		return err_set(e, EXIT_INVALID,
			       "no Vault token: set VAULT_TOKEN (or write "
			       "~/.vault-token)");
	if (strpbrk(vc->token.buf, "\r\n"))
		return err_set(e, EXIT_INVALID,
			       "the Vault token holds a line break");
	return 0;
}

/* The warnings about the address, printed without its userinfo. */
static void warn_tls(const struct vault_client *vc, bool insecure)
{
	struct strbuf shown = STRBUF_INIT;

	url_redacted(&shown, vc->addr);
	if (insecure)
		report_warning("VAULT_SKIP_VERIFY: TLS verification of %s is "
			       "off",
			       shown.buf);
	if (!strncmp(vc->addr, "http://", 7))
		report_warning("%s is plain HTTP: the Vault token travels in "
			       "clear text",
			       shown.buf);
	strbuf_release(&shown);
}

int vault_client_init(struct vault_client *vc, const struct config *cfg,
		      const struct vault_flags *f, struct err *e)
{
	const struct env *env = cfg->env;
	struct http_opts ho = { 0 };
	const char *env_addr = env ? env->vault_addr : NULL;
	const char *addr = f && f->addr ? f->addr : env_addr;

	memset(vc, 0, sizeof(*vc));
	strbuf_init(&vc->token, 0);
	/* the operator's VAULT_ADDR wins over the repository's vault.addr:
	 * a merged change must not send the token elsewhere */
	if (addr && cfg->vault.addr && strcmp(addr, cfg->vault.addr))
		http_endpoint_ignored(
			"vault.addr", cfg->vault.addr,
			f && f->addr ? "--vault-addr" : "VAULT_ADDR", addr);
	if (!addr)
		addr = cfg->vault.addr;
	if (!addr)
		return err_set(
			e, EXIT_INVALID,
			"no Vault address: set VAULT_ADDR, or vault.addr "
			"in pve-gitops.yaml");
	if (strncmp(addr, "https://", 8) && strncmp(addr, "http://", 7)) {
		struct strbuf shown = STRBUF_INIT;

		err_set(e, EXIT_INVALID,
			"the Vault address '%s' is not an http(s) URL",
			url_redacted(&shown, addr));
		strbuf_release(&shown);
		return -1;
	}
	vc->addr = xstrdup(addr);
	while (strlen(vc->addr) > 8 && vc->addr[strlen(vc->addr) - 1] == '/')
		vc->addr[strlen(vc->addr) - 1] = '\0';
	if (cfg->vault.namespace)
		vc->namespace = xstrdup(cfg->vault.namespace);
	else if (env && env->vault_namespace)
		vc->namespace = xstrdup(env->vault_namespace);
	vc->max_attempts = 6;
	backoff_init(&vc->backoff, 100, 3000, 0);
	if (load_token(vc, env, f, e) < 0)
		return -1;
	ho.ca_file = env ? env->vault_cacert : NULL;
	ho.ca_path = env ? env->vault_capath : NULL;
	ho.insecure = env && env->vault_skip_verify;
	http_opts_from_config(&ho, cfg);
	if (http_check_scheme(vc->addr, &ho, e) < 0)
		return err_prefix(e, "VAULT_CACERT or VAULT_CAPATH");
	warn_tls(vc, ho.insecure);
	vc->stats = cfg->requests;
	return http_client_init(&vc->http, &ho, e);
}

void vault_client_release(struct vault_client *vc)
{
	http_client_release(&vc->http);
	strbuf_wipe(&vc->token);
	free(vc->addr);
	free(vc->namespace);
	memset(vc, 0, sizeof(*vc));
}

/*
 * Vault's {"errors": [...]} joined with "; ", or the body's start, as it
 * is (report.h escapes it when it is printed). Returns true when one of
 * the errors is KV v2's check-and-set refusal.
 */
static bool describe_errors(struct strbuf *out, const struct strbuf *body)
{
	json_t *j = json_loadb(body->buf, body->len, 0, NULL);
	json_t *errs = json_object_get(j, "errors"), *m;
	bool cas = false;
	size_t i;

	if (json_is_array(errs)) {
		json_array_foreach(errs, i, m)
		{
			if (!json_is_string(m))
				continue;
			if (i)
				strbuf_addstr(out, "; ");
			strbuf_addstr(out, json_string_value(m));
			if (strstr(json_string_value(m), VAULT_CAS_MISMATCH))
				cas = true;
		}
		if (!json_array_size(errs))
			strbuf_addstr(out, "(no message)");
	} else {
		strbuf_add(out, body->buf, body->len > 200 ? 200 : body->len);
	}
	json_decref(j);
	return cas;
}

/* Sleep before a retry; false when it would pass the call's deadline. */
static bool wait_retry(struct vault_client *vc, int attempt)
{
	long delay = backoff_delay(&vc->backoff, (unsigned)attempt);

	if (mono_ms() + (uint64_t)delay + 100 >= vc->http.deadline)
		return false;
	sleep_ms(delay);
	return true;
}

static bool retryable(long status, enum http_error kind)
{
	if (!status) /* a timeout would only multiply the deadline */
		return kind == HTTP_ERR_CONNECT || kind == HTTP_ERR_OTHER;
	return status == 500 || status == 502 || status == 503 ||
	       status == 504 || status == 429 || status == 412;
}

/* One request in the metrics (core/metrics.h's endpoint classes). */
static void count(struct vault_client *vc, const char *path, bool failed)
{
	char key[COUNTERS_KEY_MAX + 1];

	if (!vc->stats)
		return;
	snprintf(key, sizeof(key), "vault/%s", metrics_vault_class(path));
	counters_add(vc->stats, key, failed);
}

int vault_call(struct vault_client *vc, const char *method, const char *path,
	       const json_t *body, json_t **out, long *status, struct err *e)
{
	struct strbuf url = STRBUF_INIT, msg = STRBUF_INIT;
	struct strvec headers;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct http_response r = HTTP_RESPONSE_INIT;
	enum http_error kind = HTTP_ERR_NONE;
	bool cas;
	int attempt, ret = -1;

	*out = NULL;
	*status = 0;
	strvec_init(&headers);
	strbuf_addf(&url, "%s/v1/%s", vc->addr, path);
	strvec_pushf(&headers, "X-Vault-Token: %s", vc->token.buf);
	strvec_push(&headers, "X-Vault-Request: true");
	if (vc->namespace)
		strvec_pushf(&headers, "X-Vault-Namespace: %s", vc->namespace);
	if (!strcmp(method, "PATCH"))
		strvec_push(&headers,
			    "Content-Type: application/merge-patch+json");
	else if (text)
		strvec_push(&headers, "Content-Type: application/json");
	/* all attempts end by one deadline (see http.h) */
	vc->http.deadline =
		mono_ms() + (uint64_t)(vc->http.opts.timeout_ms
					       ? vc->http.opts.timeout_ms
					       : 300000L);
	for (attempt = 0; attempt < vc->max_attempts; attempt++) {
		if (attempt && !wait_retry(vc, attempt - 1))
			break;
		http_response_release(&r);
		r = (struct http_response)HTTP_RESPONSE_INIT;
		err_release(e);
		if (http_request(&vc->http, method, url.buf, &headers, text, 0,
				 &r, &kind, e) < 0) {
			count(vc, path, true);
			report_debug("vault: %s /v1/%s -> %s", method, path,
				     e->msg.buf);
			if (retryable(0, kind))
				continue;
			goto out;
		}
		report_debug("vault: %s /v1/%s -> %ld", method, path, r.status);
		count(vc, path, r.status >= 400);
		if (!retryable(r.status, kind))
			break;
	}
	*status = r.status;
	if (!r.status)
		goto out; /* e holds the last transport error */
	if (r.status >= 200 && r.status < 300) {
		if (r.status != 204 && r.body.len) {
			*out = json_loadb(r.body.buf, r.body.len, 0, NULL);
			if (!*out) {
				err_set(e, EXIT_FAIL,
					"%s /v1/%s: the answer is not JSON",
					method, path);
				goto out;
			}
		}
		ret = 0;
		goto out;
	}
	cas = describe_errors(&msg, &r.body) && r.status == 400;
	err_setk(e, cas ? ERR_CONFLICT : ERR_GENERIC, EXIT_FAIL,
		 "%s /v1/%s: HTTP %ld: %s", method, path, r.status, msg.buf);
out:
	vc->http.deadline = 0;
	http_response_release(&r);
	strvec_clear(&headers); /* the token line goes with it */
	strbuf_release(&url);
	strbuf_release(&msg);
	free(text);
	return ret;
}

/* ---- KV --------------------------------------------------------------------
 */

void vault_kv_release(struct vault_kv *kv)
{
	free(kv->mount);
	free(kv->key);
	memset(kv, 0, sizeof(*kv));
}

/* A secret path: relative, no empty segment, "..", '?' or '#'. */
static bool valid_path(const char *p)
{
	return *p && *p != '/' && !strstr(p, "//") && !strstr(p, "..") &&
	       !strpbrk(p, "?#% \t\r\n") && p[strlen(p) - 1] != '/';
}

int vault_kv_locate(struct vault_client *vc, const char *path,
		    struct vault_kv *out, struct err *e)
{
	struct strbuf p = STRBUF_INIT;
	json_t *data = NULL;
	const char *mount, *version;
	long status;
	size_t n;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!valid_path(path))
		return err_set(e, EXIT_INVALID,
			       "'%s' is not a Vault secret path (MOUNT/PATH)",
			       path);
	strbuf_addf(&p, "sys/internal/ui/mounts/%s", path);
	if (vault_call(vc, "GET", p.buf, NULL, &data, &status, e) < 0) {
		if (status != 404)
			goto out;
		/* a Vault too old to answer: KV v1 at the first segment */
		err_release(e);
		n = strcspn(path, "/");
		out->mount = xstrndup(path, n);
		out->version = 1;
	} else {
		json_t *d = json_object_get(data, "data");

		mount = json_string_value(json_object_get(d, "path"));
		version = json_string_value(json_object_get(
			json_object_get(d, "options"), "version"));
		if (!mount || !*mount ||
		    strncmp(path, mount, strlen(mount) - 1)) {
			err_set(e, EXIT_FAIL,
				"GET /v1/%s: no mount path in the answer",
				p.buf);
			goto out;
		}
		out->mount = xstrndup(mount, strlen(mount) - 1);
		out->version = version && !strcmp(version, "2") ? 2 : 1;
		if (strcmp(json_string_value(json_object_get(d, "type"))
				   ? json_string_value(
					     json_object_get(d, "type"))
				   : "",
			   "kv")) {
			err_set(e, EXIT_INVALID, "%s is not a KV mount",
				out->mount);
			goto out;
		}
	}
	n = strlen(out->mount);
	if (path[n] != '/' || !path[n + 1]) {
		err_set(e, EXIT_INVALID,
			"'%s' names the mount %s itself, not a secret in it",
			path, out->mount);
		goto out;
	}
	out->key = xstrdup(path + n + 1);
	ret = 0;
out:
	if (ret)
		vault_kv_release(out);
	json_decref(data);
	strbuf_release(&p);
	return ret;
}

/*
 * The secret in a KV read's answer: for version 1 "data" is the object;
 * for version 2 "data" holds "metadata" with the version and "data", the
 * object, or null when the latest version is deleted (*d NULL: empty, but
 * not new). Anything else (a broken proxy, a string for an object) is -1,
 * never taken for an empty secret that may be written over.
 */
static int kv_answer_data(const json_t *body, int kv_version, json_t **d,
			  int *version)
{
	const json_t *outer = json_object_get(body, "data"), *meta, *v;

	*d = NULL;
	if (!json_is_object(outer))
		return -1;
	if (kv_version == 1) {
		*d = (json_t *)outer;
		return 0;
	}
	meta = json_object_get(outer, "metadata");
	v = json_object_get(meta, "version");
	if (!json_is_object(meta) || !json_is_integer(v) ||
	    json_integer_value(v) < 1 || json_integer_value(v) > INT32_MAX)
		return -1;
	*version = (int)json_integer_value(v);
	*d = json_object_get(outer, "data");
	if (json_is_null(*d)) {
		*d = NULL;
		return 0;
	}
	return json_is_object(*d) ? 0 : -1;
}

int vault_kv_read(struct vault_client *vc, const struct vault_kv *kv,
		  json_t **data, int *version, struct err *e)
{
	struct strbuf p = STRBUF_INIT;
	json_t *body = NULL, *d;
	long status;
	int ret = -1;

	*data = NULL;
	*version = 0;
	if (kv->version == 2)
		strbuf_addf(&p, "%s/data/%s", kv->mount, kv->key);
	else
		strbuf_addf(&p, "%s/%s", kv->mount, kv->key);
	if (vault_call(vc, "GET", p.buf, NULL, &body, &status, e) < 0) {
		if (status == 404) {
			err_release(e);
			ret = 1;
		}
		goto out;
	}
	if (kv_answer_data(body, kv->version, &d, version) < 0) {
		err_set(e, EXIT_FAIL,
			"GET /v1/%s: the answer is not a KV version %d "
			"secret",
			p.buf, kv->version);
		goto out;
	}
	*data = d ? json_incref(d) : json_object();
	ret = 0;
out:
	json_decref(body);
	strbuf_release(&p);
	return ret;
}

int vault_kv_write(struct vault_client *vc, const struct vault_kv *kv,
		   const json_t *data, int cas, int *version, struct err *e)
{
	struct strbuf p = STRBUF_INIT;
	json_t *body, *answer = NULL;
	long status;
	int ret = -1;

	*version = 0;
	if (kv->version == 2) {
		strbuf_addf(&p, "%s/data/%s", kv->mount, kv->key);
		body = json_pack("{s:O}", "data", data);
		if (cas >= 0)
			json_object_set_new(body, "options",
					    json_pack("{s:i}", "cas", cas));
	} else {
		strbuf_addf(&p, "%s/%s", kv->mount, kv->key);
		body = json_deep_copy(data);
	}
	if (vault_call(vc, "POST", p.buf, body, &answer, &status, e) < 0) {
		if (err_is(e, ERR_CONFLICT)) {
			err_release(e);
			ret = 1;
		}
		goto out;
	}
	*version = (int)json_integer_value(
		json_object_get(json_object_get(answer, "data"), "version"));
	ret = 0;
out:
	json_decref(body);
	json_decref(answer);
	strbuf_release(&p);
	return ret;
}
