/*
 * test_pve_errors.c - Proxmox failures classified by status and message:
 * the kind callers decide on, what is worth retrying, and what proves a
 * request was not carried out.
 */
#include "test.h"
#include "core/pve_errors.h"

static void pve_errors__kinds(void **state)
{
	static const struct {
		long status;
		const char *text;
		enum err_kind kind;
	} rows[] = {
		{ 500, "VM 101 is locked (clone)", ERR_LOCKED },
		{ 500,
		  "can't lock file '/var/lock/qemu-server/lock-101.conf' - "
		  "got timeout",
		  ERR_LOCKED },
		{ 500, "unable to create VM 101: config file already exists",
		  ERR_EXISTS },
		/* pve-network's PVE IPAM (PVEPlugin.pm add_ip) */
		{ 500, "IP '10.0.0.5' already exist", ERR_EXISTS },
		{ 500, "IP '10.0.0.5' does not exist in IPAM DB",
		  ERR_NOTFOUND },
		{ 500,
		  "Configuration file 'nodes/n/qemu-server/1.conf' does not "
		  "exist",
		  ERR_NOTFOUND },
		{ 500, "no such VM ('77')", ERR_NOTFOUND },
		{ 404, "Not Found", ERR_NOTFOUND },
		/* the guest agent's file-read of a file that is not there:
		 * qemu-ga's text inside Agent.pm's "Agent error: " */
		{ 500,
		  "Agent error: failed to open file "
		  "'/etc/ssh/ssh_host_rsa_key.pub' (mode: 'r'): No such file "
		  "or directory",
		  ERR_NOTFOUND },
		{ 500,
		  "Failed to open file '/etc/ssh/ssh_host_ecdsa_key.pub': No "
		  "such file or directory",
		  ERR_NOTFOUND },
		{ 500, "VM 101 already running", ERR_BADSTATE },
		{ 500, "VM 101 not running", ERR_BADSTATE },
		{ 500, "can't remove VM 101 - protection mode enabled",
		  ERR_PERMANENT },
		{ 400, "Parameter verification failed.", ERR_PERMANENT },
		{ 400, "storage: storage 'nosuch' does not exist",
		  ERR_PERMANENT },
		{ 500, "no such cluster node 'node09'", ERR_PERMANENT },
		{ 500, "storage 'nosuch' does not exist", ERR_PERMANENT },
		{ 500, "no such VM ('77') on node", ERR_NOTFOUND },
		{ 401, "No ticket", ERR_PERMANENT },
		{ 403, "Permission check failed", ERR_PERMANENT },
		{ 0, "", ERR_LOST },
		{ 502, "Bad Gateway", ERR_LOST },
		{ 504, "Gateway Timeout", ERR_LOST },
		{ 596, "Connection timed out", ERR_LOST },
		{ 500, "Internal Server Error", ERR_GENERIC },
		{ 503, "Service Unavailable", ERR_GENERIC },
		{ 500, NULL, ERR_GENERIC },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		if (pve_error_kind(rows[i].status, rows[i].text) !=
		    rows[i].kind)
			fail_msg("%ld %s: kind %d, expected %d", rows[i].status,
				 rows[i].text ? rows[i].text : "(null)",
				 pve_error_kind(rows[i].status, rows[i].text),
				 rows[i].kind);
}

static void pve_errors__not_carried_out(void **state)
{
	(void)state;
	assert_true(pve_error_not_carried_out(500, "VM 1 is locked (clone)"));
	assert_true(pve_error_not_carried_out(
		500, "got no worker upid - start worker failed"));
	assert_false(pve_error_not_carried_out(500, "Internal Server Error"));
	assert_false(pve_error_not_carried_out(400, "VM 1 is locked"));
	assert_false(pve_error_not_carried_out(502, NULL));
}

/* What a GET may repeat: only what is locked or overloaded now. */
static void pve_errors__transient(void **state)
{
	(void)state;
	assert_true(pve_error_transient(500, "VM 1 is locked (clone)"));
	assert_true(pve_error_transient(500, "Internal Server Error"));
	assert_true(pve_error_transient(503, NULL));
	assert_false(pve_error_transient(
		500, "Agent error: failed to open file '/etc/x' (mode: 'r'): "
		     "No such file or directory"));
	assert_false(pve_error_transient(500, "no such VM ('77')"));
	assert_false(pve_error_transient(404, "Not Found"));
	assert_false(
		pve_error_transient(400, "Parameter verification failed."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pve_errors__kinds),
		cmocka_unit_test(pve_errors__not_carried_out),
		cmocka_unit_test(pve_errors__transient),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
