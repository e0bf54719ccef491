/*
 * tls.c - reading vault-sim's certificate and key (see tls.h).
 */
#include "tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "util/fileio.h"

int sim_tls_load(struct sim_tls *out, const char *cert_file,
		 const char *key_file, struct err *e)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
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
	d.data = (unsigned char *)out->key_pem.buf;
	d.size = (unsigned)out->key_pem.len;
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_import(key, &d, GNUTLS_X509_FMT_PEM) < 0) {
		err_set(e, EXIT_INVALID,
			"cannot read '%s': not a PEM private key", key_file);
		goto out;
	}
	ret = 0;
out:
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	return ret;
}

void sim_tls_release(struct sim_tls *t)
{
	strbuf_release(&t->cert_pem);
	strbuf_wipe(&t->key_pem);
}
