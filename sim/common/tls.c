/*
 * tls.c - the simulators' server certificate (see tls.h), with GnuTLS.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/exitcode.h"
#include "util/fileio.h"

static int set_fingerprint(struct sim_tls *t, gnutls_x509_crt_t crt,
			   struct err *e)
{
	unsigned char md[32];
	size_t len = sizeof(md), i;

	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md, &len) <
		    0 ||
	    len != sizeof(md))
		return err_set(e, EXIT_FAIL,
			       "cannot compute the certificate "
			       "fingerprint");
	for (i = 0; i < len; i++)
		snprintf(t->fingerprint + 3 * i, 4,
			 i + 1 < len ? "%02X:" : "%02X", md[i]);
	return 0;
}

static int add_san(gnutls_x509_crt_t crt, const char *host)
{
	unsigned char ip[16];

	if (inet_pton(AF_INET, host, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND);
	if (inet_pton(AF_INET6, host, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
						    host, strlen(host),
						    GNUTLS_FSAN_APPEND);
}

/* Fill crt's fields for host and sign it with key. */
static int make_cert(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key,
		     const char *host, const char *org)
{
	unsigned char serial[16];
	time_t now = time(NULL);

	if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
		return -1;
	serial[0] &= 0x7f; /* a positive serial number */
	if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 2 * 365 * 86400) <
		    0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  host, strlen(host)) < 0 ||
	    gnutls_x509_crt_set_dn_by_oid(crt,
					  GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
					  org, strlen(org)) < 0 ||
	    add_san(crt, host) < 0 ||
	    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
						 "localhost", 9,
						 GNUTLS_FSAN_APPEND) < 0 ||
	    gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) <
		    0 ||
	    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER,
						0) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
		return -1;
	return 0;
}

int sim_tls_generate(struct sim_tls *out, const char *host, const char *org,
		     struct err *e)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { NULL, 0 };
	int ret = -1;

	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(
		    key, GNUTLS_PK_ECDSA,
		    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0 ||
	    make_cert(crt, key, host, org) < 0)
		goto fail;
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		goto fail;
	strbuf_add(&out->cert_pem, pem.data, pem.size);
	gnutls_free(pem.data);
	pem.data = NULL;
	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem) < 0)
		goto fail;
	strbuf_add(&out->key_pem, pem.data, pem.size);
	gnutls_free(pem.data);
	ret = set_fingerprint(out, crt, e);
	goto out;
fail:
	err_set(e, EXIT_FAIL, "cannot generate a self-signed certificate");
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

static int check_key(const struct strbuf *pem, const char *key_file,
		     struct err *e)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d = { (unsigned char *)pem->buf, (unsigned)pem->len };
	int ret = 0;

	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM) < 0)
		ret = err_set(e, EXIT_INVALID,
			      "cannot read '%s': not a PEM private key",
			      key_file);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

int sim_tls_load(struct sim_tls *out, const char *cert_file,
		 const char *key_file, struct err *e)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	int ret = -1;

	if (file_read_all(&out->cert_pem, cert_file, 1 << 20, e) < 0 ||
	    file_read_all(&out->key_pem, key_file, 1 << 20, e) < 0)
		return -1;
	d.data = (unsigned char *)out->cert_pem.buf;
	d.size = (unsigned)out->cert_pem.len;
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) {
		err_set(e, EXIT_INVALID,
			"cannot read '%s': not a PEM certificate", cert_file);
		goto out;
	}
	if (check_key(&out->key_pem, key_file, e) < 0)
		goto out;
	ret = set_fingerprint(out, crt, e);
out:
	gnutls_x509_crt_deinit(crt);
	return ret;
}

void sim_tls_release(struct sim_tls *t)
{
	strbuf_release(&t->cert_pem);
	strbuf_wipe(&t->key_pem);
}
