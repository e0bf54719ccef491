/*
 * test_pve.c - the pure parts of the HTTP and Proxmox clients:
 * form escaping, which Proxmox failures are transient, and which
 * items of a node's task list are running tasks.
 */
#include "test.h"
#include "io/http.h"
#include "core/pve_errors.h"
#include "io/pve.h"
#include "io/pve_vm.h"

static void pve__form_escape(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add_percent_encoded(&sb, "ssh-ed25519 AAAA+/= a@b\n");
	assert_string_equal(sb.buf, "ssh-ed25519%20AAAA%2B%2F%3D%20a%40b%0A");
	strbuf_release(&sb);
}

static void pve__transient_failures(void **state)
{
	static const struct {
		long status;
		const char *msg;
		bool transient;
	} rows[] = {
		{ 500, "VM 101 is locked (clone)", true },
		{ 500,
		  "can't lock file '/var/lock/qemu-server/lock-101.conf' "
		  "- got timeout",
		  true },
		{ 500, "got no worker upid - start worker failed", true },
		{ 500, "Internal Server Error", true },
		{ 503, "Service Unavailable", true },
		{ 595, "Connection refused", true },
		{ 500,
		  "Configuration file 'nodes/n/qemu-server/1.conf' does not "
		  "exist",
		  false },
		{ 500, "unable to create VM 101: config file already exists",
		  false },
		{ 500, "VM 101 already running", false },
		{ 500, "can't remove VM 101 - protection mode enabled", false },
		{ 400, "Parameter verification failed.", false },
		{ 401, "No ticket", false },
		{ 403, "Permission check failed", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		assert_int_equal(
			pve_error_transient(rows[i].status, rows[i].msg),
			rows[i].transient);
}

/* pve-manager's API2/Tasks.pm: source=active lists status "RUNNING". */
static void pve__task_running(void **state)
{
	static const struct {
		const char *json;
		bool running;
	} rows[] = {
		{ "{\"upid\": \"U\", \"status\": \"RUNNING\"}", true },
		{ "{\"upid\": \"U\"}", true },
		{ "{\"upid\": \"U\", \"status\": \"OK\", \"endtime\": 5}",
		  false },
		{ "{\"upid\": \"U\", \"status\": \"OK\"}", false },
		{ "{\"upid\": \"U\", \"endtime\": 5}", false },
		{ "[]", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		json_t *t = json_loads(rows[i].json, 0, NULL);

		assert_non_null(t);
		assert_int_equal(pve_vm_task_running(t), rows[i].running);
		json_decref(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pve__form_escape),
		cmocka_unit_test(pve__transient_failures),
		cmocka_unit_test(pve__task_running),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
