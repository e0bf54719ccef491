/*
 * doctor.c - the links of doctor's chain, their verdicts and their text
 * and JSON renderings; see doctor.h.
 */
#include "core/doctor.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

static const char *const link_names[DL_COUNT] = {
	[DL_DEFINITION] = "definition",
	[DL_CREDENTIALS] = "credentials",
	[DL_PROXMOX_VM] = "proxmox-vm",
	[DL_MANAGED] = "managed",
	[DL_RUNNING] = "running",
	[DL_DIGEST] = "digest",
	[DL_PENDING] = "pending",
	[DL_INVENTORY] = "inventory",
	[DL_GROUPS] = "groups",
	[DL_NEW_HOSTS] = "new-hosts",
	[DL_TAG] = "tag",
	[DL_PLAYBOOK] = "playbook",
	[DL_SSH_PORT] = "ssh-port",
	[DL_KNOWN_HOST] = "known-host",
	[DL_KUBE_CONTEXT] = "kube-context",
	[DL_KUBE_SERVER] = "kube-server",
	[DL_WORKLOADS] = "workloads",
};

/* The links only a K3s VM has: the last ones of the enum. */
#define DL_FIRST_K3S DL_KUBE_CONTEXT

const char *doctor_link_name(enum doctor_link_id id)
{
	return id < DL_COUNT ? link_names[id] : "config";
}

const char *doctor_status_name(enum doctor_status s)
{
	switch (s) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_FAILED:
		return "failed";
	case DOCTOR_NOT_REACHED:
		break;
	}
	return "not_reached";
}

static const char *status_text(enum doctor_status s)
{
	return s == DOCTOR_NOT_REACHED ? "not reached" : doctor_status_name(s);
}

static void link_init(struct doctor_link *l, enum doctor_link_id id)
{
	l->id = id;
	l->status = DOCTOR_NOT_REACHED;
	strbuf_init(&l->detail, 0);
	strbuf_init(&l->fix, 0);
}

static void link_release(struct doctor_link *l)
{
	strbuf_release(&l->detail);
	strbuf_release(&l->fix);
}

void doctor_report_init(struct doctor_report *r)
{
	memset(r, 0, sizeof(*r));
	link_init(&r->config, DL_COUNT);
}

void doctor_report_release(struct doctor_report *r)
{
	size_t i, j;

	for (i = 0; i < r->nr; i++) {
		for (j = 0; j < r->vms[i].nr; j++)
			link_release(&r->vms[i].links[j]);
		free(r->vms[i].name);
	}
	free(r->vms);
	link_release(&r->config);
	memset(r, 0, sizeof(*r));
}

struct doctor_vm *doctor_report_add(struct doctor_report *r, const char *name,
				    bool k3s)
{
	struct doctor_vm *vm;
	int id;

	ALLOC_GROW(r->vms, r->nr + 1, r->alloc);
	vm = &r->vms[r->nr++];
	memset(vm, 0, sizeof(*vm));
	vm->name = xstrdup(name);
	vm->k3s = k3s;
	for (id = 0; id < DL_COUNT; id++)
		if (k3s || id < DL_FIRST_K3S)
			link_init(&vm->links[vm->nr++],
				  (enum doctor_link_id)id);
	return vm;
}

struct doctor_link *doctor_vm_link(struct doctor_vm *vm, enum doctor_link_id id)
{
	size_t i;

	for (i = 0; i < vm->nr; i++)
		if (vm->links[i].id == id)
			return &vm->links[i];
	return NULL;
}

int doctor_set(struct doctor_link *l, enum doctor_status s, const char *fmt,
	       ...)
{
	va_list ap;

	l->status = s;
	strbuf_setlen(&l->detail, 0);
	va_start(ap, fmt);
	strbuf_vaddf(&l->detail, fmt, ap);
	va_end(ap);
	return s == DOCTOR_OK ? 0 : -1;
}

void doctor_fix(struct doctor_link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&l->fix, fmt, ap);
	va_end(ap);
}

void doctor_vm_close(struct doctor_vm *vm)
{
	const struct doctor_link *stop = NULL;
	size_t i;

	for (i = 0; i < vm->nr; i++) {
		struct doctor_link *l = &vm->links[i];

		if (l->status == DOCTOR_FAILED && !stop)
			stop = l;
		else if (l->status == DOCTOR_NOT_REACHED && !l->detail.len &&
			 stop)
			strbuf_addf(&l->detail, "after %s failed",
				    doctor_link_name(stop->id));
	}
}

bool doctor_vm_ok(const struct doctor_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->nr; i++)
		if (vm->links[i].status == DOCTOR_FAILED)
			return false;
	return true;
}

bool doctor_report_ok(const struct doctor_report *r)
{
	size_t i;

	if (r->config.status == DOCTOR_FAILED)
		return false;
	for (i = 0; i < r->nr; i++)
		if (!doctor_vm_ok(&r->vms[i]))
			return false;
	return true;
}

/* ---- text --------------------------------------------------------------- */

#define NAME_W	 13 /* "kube-context" and a space */
#define STATUS_W 12 /* "not reached" and a space */

static void text_link(struct strbuf *out, const char *indent,
		      const struct doctor_link *l)
{
	strbuf_addf(out, "%s%-*s%-*s%s\n", indent, NAME_W,
		    doctor_link_name(l->id), STATUS_W, status_text(l->status),
		    l->detail.buf);
	if (l->fix.len)
		strbuf_addf(out, "%s%*sfix: %s\n", indent, NAME_W + STATUS_W,
			    "", l->fix.buf);
}

static void text_detailed(struct strbuf *out, const struct doctor_report *r)
{
	size_t i, j;

	text_link(out, "", &r->config);
	for (i = 0; i < r->nr; i++) {
		const struct doctor_vm *vm = &r->vms[i];

		strbuf_addf(out, "\n%s: %s\n", vm->name,
			    doctor_vm_ok(vm) ? "ok" : "failed");
		for (j = 0; j < vm->nr; j++)
			text_link(out, "  ", &vm->links[j]);
	}
}

static const struct doctor_link *first_failed(const struct doctor_vm *vm,
					      size_t *ok)
{
	const struct doctor_link *f = NULL;
	size_t i;

	*ok = 0;
	for (i = 0; i < vm->nr; i++) {
		if (vm->links[i].status == DOCTOR_OK)
			(*ok)++;
		else if (vm->links[i].status == DOCTOR_FAILED && !f)
			f = &vm->links[i];
	}
	return f;
}

static void text_table(struct strbuf *out, const struct doctor_report *r)
{
	const struct doctor_link *f;
	size_t i, ok, w = strlen("VM");
	char count[48];

	text_link(out, "", &r->config);
	for (i = 0; i < r->nr; i++)
		if (strlen(r->vms[i].name) > w)
			w = strlen(r->vms[i].name);
	strbuf_addf(out, "%-*s  %-7s %-6s %s\n", (int)w, "VM", "RESULT", "OK",
		    "FIRST FAILED LINK");
	for (i = 0; i < r->nr; i++) {
		f = first_failed(&r->vms[i], &ok);
		snprintf(count, sizeof(count), "%zu/%zu", ok, r->vms[i].nr);
		strbuf_addf(out, "%-*s  %-7s %-6s ", (int)w, r->vms[i].name,
			    f ? "failed" : "ok", count);
		if (f)
			strbuf_addf(out, "%s: %s\n", doctor_link_name(f->id),
				    f->detail.buf);
		else
			strbuf_addstr(out, "-\n");
		if (f && f->fix.len)
			strbuf_addf(out, "%-*s  fix: %s\n", (int)w, "",
				    f->fix.buf);
	}
}

void doctor_render_text(struct strbuf *out, const struct doctor_report *r,
			bool detailed)
{
	if (detailed)
		text_detailed(out, r);
	else
		text_table(out, r);
}

/* ---- JSON --------------------------------------------------------------- */

/* Outside text as a JSON string: bytes that are not UTF-8 become U+FFFD
 * (jansson refuses them). */
static json_t *json_text(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(s), i = 0, bad;
	json_t *j;

	if (utf8_valid(s, n))
		return json_stringn(s, n);
	while (i < n) {
		bad = utf8_invalid_at(s + i, n - i);
		strbuf_add(&sb, s + i, bad);
		i += bad;
		if (i < n) {
			strbuf_addstr(&sb, "\xef\xbf\xbd");
			i += utf8_bad_len((const unsigned char *)s + i, n - i);
		}
	}
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j;
}

static json_t *json_link(const struct doctor_link *l)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "name",
			 doctor_link_name(l->id), "status",
			 doctor_status_name(l->status), "detail",
			 json_text(l->detail.buf), "fix",
			 l->fix.len ? json_text(l->fix.buf) : json_null());
}

json_t *doctor_render_json(const struct doctor_report *r)
{
	json_t *root, *vms = json_array(), *links;
	size_t i, j;

	for (i = 0; i < r->nr; i++) {
		const struct doctor_vm *vm = &r->vms[i];

		links = json_array();
		for (j = 0; j < vm->nr; j++)
			json_array_append_new(links, json_link(&vm->links[j]));
		json_array_append_new(
			vms, json_pack("{s:o, s:b, s:b, s:o}", "name",
				       json_text(vm->name), "k3s", vm->k3s,
				       "ok", doctor_vm_ok(vm), "links", links));
	}
	root = json_pack("{s:i, s:b, s:o, s:o}", "version", DOCTOR_JSON_VERSION,
			 "ok", doctor_report_ok(r), "config",
			 json_link(&r->config), "vms", vms);
	return root;
}
