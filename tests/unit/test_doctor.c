/*
 * test_doctor.c - doctor's link model: the links a VM gets, verdicts,
 * "after X failed", and the text and JSON renderings (shape, version,
 * escaping of bytes that are not UTF-8).
 */
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/doctor.h"

static void doctor__links_in_chain_order(void **state)
{
	struct doctor_report r;
	struct doctor_vm *vm;
	size_t i;

	(void)state;
	doctor_report_init(&r);
	vm = doctor_report_add(&r, "web", false);
	assert_int_equal(vm->nr, DL_KUBE_CONTEXT);
	vm = doctor_report_add(&r, "k8s-a", true);
	assert_int_equal(vm->nr, DL_COUNT);
	for (i = 0; i < vm->nr; i++) {
		assert_int_equal(vm->links[i].id, i);
		assert_int_equal(vm->links[i].status, DOCTOR_NOT_REACHED);
	}
	assert_null(doctor_vm_link(&r.vms[0], DL_KUBE_SERVER));
	assert_non_null(doctor_vm_link(&r.vms[1], DL_WORKLOADS));
	assert_string_equal(doctor_link_name(DL_KNOWN_HOST), "known-host");
	assert_string_equal(doctor_link_name(DL_COUNT), "config");
	assert_string_equal(doctor_status_name(DOCTOR_NOT_REACHED),
			    "not_reached");
	doctor_report_release(&r);
}

static void doctor__verdicts(void **state)
{
	struct doctor_report r;
	struct doctor_vm *vm;

	(void)state;
	doctor_report_init(&r);
	doctor_set(&r.config, DOCTOR_OK, "loaded");
	vm = doctor_report_add(&r, "web", false);
	/* nothing reached is no failure */
	assert_true(doctor_vm_ok(vm));
	assert_true(doctor_report_ok(&r));
	assert_int_equal(doctor_set(doctor_vm_link(vm, DL_DEFINITION),
				    DOCTOR_OK, "%s", "a.yaml"),
			 0);
	assert_int_equal(doctor_set(doctor_vm_link(vm, DL_CREDENTIALS),
				    DOCTOR_FAILED, "no %s", "token"),
			 -1);
	doctor_vm_close(vm);
	assert_false(doctor_vm_ok(vm));
	assert_false(doctor_report_ok(&r));
	assert_string_equal(doctor_vm_link(vm, DL_PROXMOX_VM)->detail.buf,
			    "after credentials failed");
	assert_string_equal(doctor_vm_link(vm, DL_DEFINITION)->detail.buf,
			    "a.yaml");
	doctor_report_release(&r);

	doctor_report_init(&r);
	doctor_set(&r.config, DOCTOR_FAILED, "bad");
	assert_false(doctor_report_ok(&r));
	doctor_report_release(&r);
}

/* A report: web ok up to the digest, failed there with a fix. */
static void sample(struct doctor_report *r)
{
	struct doctor_vm *vm;
	int id;

	doctor_report_init(r);
	doctor_set(&r->config, DOCTOR_OK, "loaded with 0 warnings");
	vm = doctor_report_add(r, "web", false);
	for (id = DL_DEFINITION; id < DL_DIGEST; id++)
		doctor_set(doctor_vm_link(vm, (enum doctor_link_id)id),
			   DOCTOR_OK, "fine");
	doctor_set(doctor_vm_link(vm, DL_DIGEST), DOCTOR_FAILED,
		   "cores (1 -> 2)");
	doctor_fix(doctor_vm_link(vm, DL_DIGEST), "pve-gitops %s", "apply");
	doctor_vm_close(vm);
	vm = doctor_report_add(r, "k8s-a", true);
	for (id = DL_DEFINITION; id < DL_WORKLOADS; id++)
		doctor_set(doctor_vm_link(vm, (enum doctor_link_id)id),
			   DOCTOR_OK, "fine");
	doctor_set(doctor_vm_link(vm, DL_WORKLOADS), DOCTOR_NOT_REACHED,
		   "workloads are not configured");
	doctor_vm_close(vm);
}

static void doctor__text_table(void **state)
{
	struct doctor_report r;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	sample(&r);
	doctor_render_text(&sb, &r, false);
	assert_string_equal(sb.buf,
			    "config       ok          loaded with 0 warnings\n"
			    "VM     RESULT  OK     FIRST FAILED LINK\n"
			    "web    failed  5/14   digest: cores (1 -> 2)\n"
			    "       fix: pve-gitops apply\n"
			    "k8s-a  ok      16/17  -\n");
	strbuf_release(&sb);
	doctor_report_release(&r);
}

static void doctor__text_detailed(void **state)
{
	struct doctor_report r;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	sample(&r);
	doctor_render_text(&sb, &r, true);
	assert_non_null(strstr(sb.buf, "\nweb: failed\n"
				       "  definition   ok          fine\n"));
	assert_non_null(strstr(sb.buf,
			       "  digest       failed      cores (1 -> "
			       "2)\n"
			       "                           fix: "
			       "pve-gitops apply\n"
			       "  pending      not reached after digest "
			       "failed\n"));
	assert_non_null(strstr(sb.buf, "\nk8s-a: ok\n"));
	assert_non_null(strstr(sb.buf, "  workloads    not reached "
				       "workloads are not configured\n"));
	strbuf_release(&sb);
	doctor_report_release(&r);
}

static void doctor__json_shape(void **state)
{
	struct doctor_report r;
	json_t *j, *vm, *link;

	(void)state;
	sample(&r);
	j = doctor_render_json(&r);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "version")),
			 DOCTOR_JSON_VERSION);
	assert_true(json_is_false(json_object_get(j, "ok")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "config"), "status")),
			    "ok");
	vm = json_array_get(json_object_get(j, "vms"), 0);
	assert_string_equal(json_string_value(json_object_get(vm, "name")),
			    "web");
	assert_true(json_is_false(json_object_get(vm, "k3s")));
	assert_int_equal(json_array_size(json_object_get(vm, "links")), 14);
	link = json_array_get(json_object_get(vm, "links"), DL_DIGEST);
	assert_string_equal(json_string_value(json_object_get(link, "name")),
			    "digest");
	assert_string_equal(json_string_value(json_object_get(link, "status")),
			    "failed");
	assert_string_equal(json_string_value(json_object_get(link, "fix")),
			    "pve-gitops apply");
	link = json_array_get(json_object_get(vm, "links"), DL_PENDING);
	assert_string_equal(json_string_value(json_object_get(link, "status")),
			    "not_reached");
	assert_true(json_is_null(json_object_get(link, "fix")));
	vm = json_array_get(json_object_get(j, "vms"), 1);
	assert_true(json_is_true(json_object_get(vm, "k3s")));
	assert_true(json_is_true(json_object_get(vm, "ok")));
	json_decref(j);
	doctor_report_release(&r);
}

/* Outside text that is not UTF-8 (an API's message) still makes JSON. */
static void doctor__json_not_utf8(void **state)
{
	struct doctor_report r;
	struct doctor_vm *vm;
	json_t *j, *link;

	(void)state;
	doctor_report_init(&r);
	vm = doctor_report_add(&r, "web", false);
	doctor_set(doctor_vm_link(vm, DL_PROXMOX_VM), DOCTOR_FAILED,
		   "bad \xff byte");
	j = doctor_render_json(&r);
	assert_non_null(j);
	link = json_array_get(
		json_object_get(json_array_get(json_object_get(j, "vms"), 0),
				"links"),
		DL_PROXMOX_VM);
	assert_string_equal(json_string_value(json_object_get(link, "detail")),
			    "bad \xef\xbf\xbd byte");
	json_decref(j);
	doctor_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doctor__links_in_chain_order),
		cmocka_unit_test(doctor__verdicts),
		cmocka_unit_test(doctor__text_table),
		cmocka_unit_test(doctor__text_detailed),
		cmocka_unit_test(doctor__json_shape),
		cmocka_unit_test(doctor__json_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
