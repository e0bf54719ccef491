/*
 * agent.c - the QEMU guest agent of a VM, answered as qemu-server's
 * PVE/API2/Qemu/Agent.pm does: the command index, the commands that only
 * read (ping, info, get-osinfo, get-host-name, network-get-interfaces),
 * each answer wrapped in {"result": ...}, and file-read of the guest's
 * SSH host key and of the files the topology gives the guest.
 *
 * With --guests qemu, a VM whose guest runs is answered by its real
 * qemu-guest-agent instead (qga.c over GUEST_DIR/<vmid>/qga.sock), for
 * ping, info, get-osinfo, get-host-name, network-get-interfaces,
 * file-read, exec and exec-status; the model's mutex is dropped while the
 * agent is asked, the guest's own one held (one request at a time).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "handlers.h"
#include "qga.h"
#include "vmconfig.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* Agent.pm's $MAX_READ_SIZE and the chunk it asks guest-file-read for. */
#define MAX_READ_SIZE (16u * 1024 * 1024)
#define READ_CHUNK    (1024u * 1024)

/* qga_check_running's guest-ping timeout, and the one of every command
 * here (qemu-server's default for agent commands is longer; this keeps a
 * hung guest from holding a test for minutes). */
#define PING_MS	   3000
#define COMMAND_MS 10000

/* PVE::QemuServer::Agent: parse_guest_agent's "enabled" (default key). */
static bool agent_enabled(const struct sim_vm *vm)
{
	const char *a = kv_get(&vm->conf, "agent");

	return a && (!strncmp(a, "1", 1) || strstr(a, "enabled=1"));
}

/*
 * assert_agent_available (QemuServer/Agent.pm): no "agent" key at all,
 * then a stopped VM, then an agent that does not answer guest-ping (one
 * disabled with agent: 0 has no channel; a booting guest's is silent).
 */
static struct sim_vm *agent_vm(struct sim *s, struct sim_req *rq,
			       struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);

	if (!vm)
		return NULL;
	if (!kv_get(&vm->conf, "agent")) {
		resp_fail(rs, 500, "No QEMU guest agent configured");
		return NULL;
	}
	if (!vm->running) {
		resp_fail(rs, 500, "VM %d is not running", vm->vmid);
		return NULL;
	}
	/* a real guest's agent answers a ping or not (guest.c) */
	if (!agent_enabled(vm) ||
	    (!guest_running(s, vm->vmid) &&
	     sim_now_ms() - vm->started_ms < s->opts.boot_ms)) {
		resp_fail(rs, 500, "QEMU guest agent is not running");
		return NULL;
	}
	return vm;
}

/* The commands Agent.pm registers, plus those it registers by hand. */
static const char *const agent_cmds[] = {
	"exec",
	"exec-status",
	"file-read",
	"file-write",
	"fsfreeze-freeze",
	"fsfreeze-status",
	"fsfreeze-thaw",
	"fstrim",
	"get-fsinfo",
	"get-host-name",
	"get-memory-block-info",
	"get-memory-blocks",
	"get-osinfo",
	"get-time",
	"get-timezone",
	"get-users",
	"get-vcpus",
	"info",
	"network-get-interfaces",
	"ping",
	"set-user-password",
	"shutdown",
	"suspend-disk",
	"suspend-hybrid",
	"suspend-ram",
	NULL,
};

/* GET agent: the index, sorted, without any check of the VM's state */
void h_agent_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	size_t i;

	if (!need_vm(s, rq, rs))
		return;
	rs->data = json_array();
	for (i = 0; agent_cmds[i]; i++)
		json_array_append_new(
			rs->data, json_pack("{s:s}", "name", agent_cmds[i]));
}

static json_t *result(json_t *v)
{
	return json_pack("{s:o}", "result", v);
}

static json_t *ping_result(struct sim *s, struct sim_vm *vm)
{
	(void)s;
	(void)vm;
	return json_object();
}

/* guest-info of qemu-guest-agent 7.2 (Debian 12): what it supports */
static json_t *info_result(struct sim *s, struct sim_vm *vm)
{
	static const char *const qga[] = {
		"guest-ping",
		"guest-info",
		"guest-get-osinfo",
		"guest-get-host-name",
		"guest-network-get-interfaces",
		"guest-file-open",
		"guest-file-read",
		"guest-file-seek",
		"guest-file-close",
		"guest-file-write",
		"guest-exec",
		"guest-exec-status",
		"guest-shutdown",
		"guest-get-time",
		"guest-get-timezone",
		"guest-get-users",
		"guest-get-vcpus",
		"guest-get-fsinfo",
		"guest-fsfreeze-status",
		"guest-fsfreeze-freeze",
		"guest-fsfreeze-thaw",
		"guest-fstrim",
		"guest-set-user-password",
		NULL,
	};
	json_t *a = json_array();
	size_t i;

	(void)s;
	(void)vm;
	for (i = 0; qga[i]; i++)
		json_array_append_new(a, json_pack("{s:b, s:s, s:b}", "enabled",
						   1, "name", qga[i],
						   "success-response", 1));
	return json_pack("{s:s, s:o}", "version", "7.2.19",
			 "supported_commands", a);
}

/* guest-get-osinfo of a Debian 12 guest */
static json_t *osinfo_result(struct sim *s, struct sim_vm *vm)
{
	(void)s;
	(void)vm;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
			 "debian", "kernel-release", "6.1.0-41-amd64",
			 "kernel-version",
			 "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1", "machine",
			 "x86_64", "name", "Debian GNU/Linux", "pretty-name",
			 "Debian GNU/Linux 12 (bookworm)", "version",
			 "12 (bookworm)", "version-id", "12");
}

/* guest-get-host-name: the guest's /etc/hostname when the topology gives
 * one, else the name cloud-init gave it (the VM's name) */
static json_t *hostname_result(struct sim *s, struct sim_vm *vm)
{
	const struct sim_guest_file *f =
		sim_guest_file(s, vm->vmid, "/etc/hostname");
	const char *name = kv_get(&vm->conf, "name");
	size_t n;

	if (f) {
		n = strcspn(f->data, "\n");
		return json_pack("{s:s%}", "host-name", f->data, n);
	}
	if (name)
		return json_pack("{s:s}", "host-name", name);
	return json_pack("{s:o}", "host-name", json_sprintf("VM%d", vm->vmid));
}

/* lo, and eth0 with net0's MAC and ipconfig0's address (for DHCP the
 * topology's lease, else one made of the vmid) */
static json_t *ifaces_result(struct sim *s, struct sim_vm *vm)
{
	const char *net0 = kv_get(&vm->conf, "net0");
	char addr[16], mac[18] = "bc:24:11:00:00:00";
	int prefix = 24;
	json_t *eth;
	size_t i;

	if (net0 && strchr(net0, '=') && strlen(strchr(net0, '=') + 1) >= 17) {
		memcpy(mac, strchr(net0, '=') + 1, 17);
		for (i = 0; i < 17; i++)
			mac[i] = (char)(mac[i] >= 'A' && mac[i] <= 'F'
						? mac[i] - 'A' + 'a'
						: mac[i]);
	}
	if (!sim_vm_addr(s, vm, addr, &prefix))
		snprintf(addr, sizeof(addr), "127.0.100.%d",
			 2 + vm->vmid % 250);
	eth = json_pack("{s:s, s:s, s:[{s:s, s:s, s:i}]}", "name", "eth0",
			"hardware-address", mac, "ip-addresses", "ip-address",
			addr, "ip-address-type", "ipv4", "prefix", prefix);
	return json_pack(
		"[{s:s, s:s, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}, o]", "name",
		"lo", "hardware-address", "00:00:00:00:00:00", "ip-addresses",
		"ip-address", "127.0.0.1", "ip-address-type", "ipv4", "prefix",
		8, "ip-address", "::1", "ip-address-type", "ipv6", "prefix",
		128, eth);
}

/* ---- a real guest's agent (--guests qemu) ------------------------------ */

/*
 * One API request's exchange with the agent: s->mu dropped, the guest's
 * qga_mu held, and guest-ping answered first (assert_agent_available's
 * qga_check_running). On a failure rs has Proxmox's error and failed is
 * set; later commands are then not sent.
 */
struct session {
	struct sim *s;
	struct sim_guest *g;
	struct sim_resp *rs;
	char *path;
	int vmid;
	bool failed;
};

static void fail_status(struct session *a, const char *cmd, enum qga_status st,
			const struct strbuf *why)
{
	a->failed = true;
	if (st == QGA_ERROR)
		resp_fail(a->rs, 500, "Agent error: %s", why->buf);
	else if (st == QGA_TIMEOUT) /* QMPClient's words */
		resp_fail(a->rs, 500,
			  "VM %d qmp command '%s' failed - got "
			  "timeout",
			  a->vmid, cmd);
	else
		resp_fail(a->rs, 500, "VM %d qmp command '%s' failed - %s",
			  a->vmid, cmd, why->buf);
}

/* The command's "return" (the caller's), or NULL after a failure. args
 * (may be NULL) is consumed. */
static json_t *session_cmd(struct session *a, const char *cmd, json_t *args,
			   bool noerr)
{
	struct strbuf why = STRBUF_INIT;
	json_t *r = NULL;
	enum qga_status st = QGA_OK;

	if (!a->failed) {
		st = qga_call(a->path, cmd, args, COMMAND_MS, &r, &why);
		if (st != QGA_OK && !noerr)
			fail_status(a, cmd, st, &why);
	}
	json_decref(args);
	strbuf_release(&why);
	return r;
}

static bool session_open(struct session *a, struct sim *s, struct sim_guest *g,
			 int vmid, struct sim_resp *rs)
{
	struct strbuf why = STRBUF_INIT;
	json_t *r = NULL;

	a->s = s;
	a->g = g;
	a->rs = rs;
	a->vmid = vmid;
	a->failed = false;
	a->path = xstrdup(g->qga);
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&g->qga_mu);
	if (qga_call(a->path, "guest-ping", NULL, PING_MS, &r, &why) !=
	    QGA_OK) {
		resp_fail(rs, 500, "QEMU guest agent is not running");
		a->failed = true;
	}
	json_decref(r);
	strbuf_release(&why);
	return !a->failed;
}

static void session_close(struct session *a)
{
	pthread_mutex_unlock(&a->g->qga_mu);
	pthread_mutex_lock(&a->s->mu);
	free(a->path);
	a->path = NULL;
}

/* The running guest of an agent VM, or NULL: the model answers. */
static struct sim_guest *real_guest(struct sim *s, struct sim_vm *vm)
{
	return guest_managed(s, vm) ? guest_running(s, vm->vmid) : NULL;
}

/* A command without arguments, its answer as {"result": ...}. */
static void real_simple(struct sim *s, struct sim_guest *g, int vmid,
			const char *cmd, struct sim_resp *rs)
{
	struct session a;
	char qcmd[64];
	json_t *r;

	snprintf(qcmd, sizeof(qcmd), "guest-%s", cmd);
	if (session_open(&a, s, g, vmid, rs) &&
	    (r = session_cmd(&a, qcmd, NULL, false)))
		rs->data = json_pack("{s:o}", "result", r);
	session_close(&a);
}

struct agent_cmd {
	const char *name;
	json_t *(*fn)(struct sim *s, struct sim_vm *vm);
};

static const struct agent_cmd simple_cmds[] = {
	{ "ping", ping_result },
	{ "info", info_result },
	{ "get-osinfo", osinfo_result },
	{ "get-host-name", hostname_result },
	{ "network-get-interfaces", ifaces_result },
	{ NULL, NULL },
};

/* register_command's handler: assert_agent_available, then the command */
static void run_cmd(struct sim *s, struct sim_req *rq, struct sim_resp *rs,
		    const char *cmd)
{
	struct sim_vm *vm = agent_vm(s, rq, rs);
	struct sim_guest *g;
	size_t i;

	if (!vm)
		return;
	for (i = 0; simple_cmds[i].name; i++)
		if (!strcmp(simple_cmds[i].name, cmd) &&
		    (g = real_guest(s, vm))) {
			real_simple(s, g, vm->vmid, cmd, rs);
			return;
		} else if (!strcmp(simple_cmds[i].name, cmd)) {
			rs->data = result(simple_cmds[i].fn(s, vm));
			return;
		}
	resp_fail(rs, 501, "agent command '%s' not implemented by proxmox-sim",
		  cmd);
}

void h_agent_ping(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	run_cmd(s, rq, rs, "ping");
}

void h_agent_info(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	run_cmd(s, rq, rs, "info");
}

void h_agent_osinfo(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	run_cmd(s, rq, rs, "get-osinfo");
}

void h_agent_hostname(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	run_cmd(s, rq, rs, "get-host-name");
}

void h_agent_ifaces(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	run_cmd(s, rq, rs, "network-get-interfaces");
}

/* POST agent {command}: the old endpoint, any command of the enum */
void h_agent_cmd(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	run_cmd(s, rq, rs, req_param(rq, "command"));
}

/* ---- file-read ---------------------------------------------------------- */

/* The key type's file name part: "ssh-ed25519" -> "ed25519". */
static const char *key_file_type(const char *key)
{
	if (!strncmp(key, "ssh-ed25519 ", 12))
		return "ed25519";
	if (!strncmp(key, "ssh-rsa ", 8))
		return "rsa";
	if (!strncmp(key, "ecdsa-", 6))
		return "ecdsa";
	return "";
}

/* The guest's file: the topology's, or the SSH host key; 0 or -1. */
static int guest_file(struct sim *s, struct sim_vm *vm, const char *file,
		      struct strbuf *out)
{
	const struct sim_guest_file *f = sim_guest_file(s, vm->vmid, file);
	const char *key = vm->hostkey;
	char addr[16], want[128];
	int prefix;
	size_t i;

	if (f) {
		strbuf_add(out, f->data, f->len);
		return 0;
	}
	if (sim_vm_addr(s, vm, addr, &prefix))
		for (i = 0; i < s->nr_guest_keys; i++)
			if (!strcmp(s->guest_keys[i].addr, addr))
				key = s->guest_keys[i].key;
	snprintf(want, sizeof(want), "/etc/ssh/ssh_host_%s_key.pub",
		 key ? key_file_type(key) : "");
	if (!key || strcmp(file, want))
		return -1;
	strbuf_addf(out, "%s\n", key);
	return 0;
}

static void base64_add(struct strbuf *out, const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63],
			      tab[(v >> 6) & 63], tab[v & 63] };

		strbuf_add(out, q, 4);
	}
	if (n - i == 1) {
		char q[4] = { tab[p[i] >> 2], tab[(p[i] & 3) << 4], '=', '=' };

		strbuf_add(out, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];
		char q[4] = { tab[v >> 10], tab[(v >> 4) & 63],
			      tab[(v << 2) & 63], '=' };

		strbuf_add(out, q, 4);
	}
}

/*
 * Perl's JSON encoder sees decode_base64's bytes as characters U+0000 to
 * U+00FF, so each byte above 0x7f goes out as two bytes of UTF-8.
 */
static void latin1_add(struct strbuf *out, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			strbuf_addch(out, (char)p[i]);
			continue;
		}
		strbuf_addch(out, (char)(0xc0 | p[i] >> 6));
		strbuf_addch(out, (char)(0x80 | (p[i] & 0x3f)));
	}
}

struct read_args {
	uint64_t count, offset;
	bool decode;
};

/*
 * Agent.pm's loop: chunks of at most 1 MiB until count bytes or the end;
 * qemu-ga's eof is feof() after a short fread, so a read that ends
 * exactly at the end of the file still says truncated. Without decode,
 * each chunk's base64 is appended as it is (padding inside the string).
 */
static json_t *read_loop(const struct strbuf *f, const struct read_args *a)
{
	struct strbuf out = STRBUF_INIT;
	uint64_t done = 0, pos = a->offset;
	bool eof = false;
	json_t *o;

	while (done < a->count && !eof) {
		uint64_t want = a->count - done < READ_CHUNK ? a->count - done
							     : READ_CHUNK;
		uint64_t left = pos < f->len ? f->len - pos : 0;
		uint64_t got = left < want ? left : want;
		/* no pointer past the end: an offset may be up to 2^63-1 */
		const unsigned char *p =
			(const unsigned char *)f->buf + (got ? pos : 0);

		if (a->decode)
			latin1_add(&out, p, (size_t)got);
		else
			base64_add(&out, p, (size_t)got);
		eof = got < want;
		done += got;
		pos += got;
	}
	o = json_pack("{s:s%, s:I}", "content", out.buf, out.len, "bytes-read",
		      (json_int_t)done);
	if (!eof)
		json_object_set_new(o, "truncated", json_integer(1));
	strbuf_release(&out);
	return o;
}

static void real_file_read(struct sim *s, struct sim_guest *g, int vmid,
			   const char *file, const struct read_args *ra,
			   struct sim_resp *rs);

void h_agent_file(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = agent_vm(s, rq, rs);
	const char *file = req_param(rq, "file");
	const char *count = req_param(rq, "count");
	const char *offset = req_param(rq, "offset");
	struct read_args a = { MAX_READ_SIZE, 0, true };
	struct strbuf data = STRBUF_INIT;

	if (!vm)
		return;
	if (count && parse_u64z(&a.count, count, 1, MAX_READ_SIZE) < 0) {
		param_fail(rs, "count", "invalid integer value");
		return;
	}
	if (offset && parse_u64z(&a.offset, offset, 0, INT64_MAX) < 0) {
		param_fail(rs, "offset", "invalid integer value");
		return;
	}
	if (req_param(rq, "decode"))
		a.decode = param_true(rq, "decode");
	if (real_guest(s, vm)) {
		real_file_read(s, real_guest(s, vm), vm->vmid, file, &a, rs);
		return;
	}
	/* guest-file-open's error (qga/commands-posix.c), mode "r" */
	if (guest_file(s, vm, file, &data) < 0)
		resp_fail(rs, 500,
			  "Agent error: failed to open file '%s' (mode: 'r'): "
			  "No such file or directory",
			  file);
	else
		rs->data = read_loop(&data, &a);
	strbuf_release(&data);
}

/* ---- file-read, exec and exec-status of a real guest -------------------- */

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* MIME::Base64's decode_base64: what is not of the alphabet is skipped. */
static void base64_decode(struct strbuf *out, const char *s)
{
	uint32_t acc = 0;
	int bits = 0, v;

	for (; *s && *s != '='; s++) {
		if ((v = b64_val((unsigned char)*s)) < 0)
			continue;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
}

/* Agent.pm's file-read: open, seek, 1 MiB reads until count or eof, close. */
static void real_file_read(struct sim *s, struct sim_guest *g, int vmid,
			   const char *file, const struct read_args *ra,
			   struct sim_resp *rs)
{
	struct strbuf content = STRBUF_INIT, raw = STRBUF_INIT;
	uint64_t done = 0;
	bool eof = false;
	json_int_t handle;
	struct session a;
	json_t *h, *r;

	if (!session_open(&a, s, g, vmid, rs))
		goto out;
	h = session_cmd(&a, "guest-file-open", json_pack("{s:s}", "path", file),
			false);
	if (!h)
		goto out;
	handle = json_integer_value(h);
	json_decref(h);
	if (ra->offset > 0)
		json_decref(session_cmd(
			&a, "guest-file-seek",
			json_pack("{s:I, s:I, s:s}", "handle", handle, "offset",
				  (json_int_t)ra->offset, "whence", "set"),
			false));
	while (!a.failed && done < ra->count && !eof) {
		uint64_t left = ra->count - done;
		const char *b64;

		r = session_cmd(
			&a, "guest-file-read",
			json_pack("{s:I, s:I}", "handle", handle, "count",
				  (json_int_t)(left < READ_CHUNK ? left
								 : READ_CHUNK)),
			false);
		if (!r)
			break;
		b64 = json_string_value(json_object_get(r, "buf-b64"));
		if (ra->decode) {
			strbuf_reset(&raw);
			base64_decode(&raw, b64 ? b64 : "");
			latin1_add(&content, (const unsigned char *)raw.buf,
				   raw.len);
		} else if (b64) {
			strbuf_addstr(&content, b64);
		}
		done += (uint64_t)json_integer_value(
			json_object_get(r, "count"));
		eof = json_is_true(json_object_get(r, "eof"));
		json_decref(r);
	}
	/* closed even after a failed read; its own error only warns */
	json_decref(session_cmd(&a, "guest-file-close",
				json_pack("{s:I}", "handle", handle), true));
	if (!a.failed) {
		rs->data =
			json_pack("{s:s%, s:I}", "content", content.buf,
				  content.len, "bytes-read", (json_int_t)done);
		if (!eof)
			json_object_set_new(rs->data, "truncated",
					    json_integer(1));
	}
out:
	session_close(&a);
	strbuf_release(&content);
	strbuf_release(&raw);
}

/* VM vmid of the path when it runs a real guest, else NULL: the endpoint
 * is then what it is without guests (exec, exec-status: not implemented). */
static struct sim_vm *guest_vm(struct sim *s, struct sim_req *rq)
{
	const char *id = req_param(rq, "vmid");
	uint64_t vmid;
	struct sim_vm *vm;

	if (!s->guests || !id || parse_u64z(&vmid, id, 100, 999999999) < 0)
		return NULL;
	vm = sim_vm(s, (int)vmid);
	return vm && real_guest(s, vm) ? vm : NULL;
}

static void not_implemented(struct sim_resp *rs, const char *method,
			    const char *what)
{
	resp_fail(rs, 501,
		  "Method '%s /nodes/{node}/qemu/{vmid}/agent/%s' not "
		  "implemented by proxmox-sim",
		  method, what);
}

/* POST agent/exec: qemu_exec (path and arg from command, input-data as
 * base64, output captured); answers {"pid": N}. */
void h_agent_exec(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *input = req_param(rq, "input-data");
	struct sim_vm *vm = guest_vm(s, rq);
	struct sim_guest *g;
	json_t *args, *argl, *r;
	struct strbuf b64 = STRBUF_INIT;
	struct session a;
	size_t i;

	if (!vm) {
		not_implemented(rs, "POST", "exec");
		return;
	}
	if (!(vm = agent_vm(s, rq, rs)) || !(g = real_guest(s, vm)))
		return;
	args = json_pack("{s:b}", "capture-output", 1);
	argl = json_array();
	/* the list as server.c keeps it: every "command", in order */
	for (i = 0; i < rq->names.nr; i++) {
		if (strcmp(rq->names.v[i], "command"))
			continue;
		if (!json_object_get(args, "path"))
			json_object_set_new(args, "path",
					    json_string(rq->values.v[i]));
		else
			json_array_append_new(argl,
					      json_string(rq->values.v[i]));
	}
	if (json_object_get(args, "path"))
		json_object_set(args, "arg", argl);
	json_decref(argl);
	if (input) {
		base64_add(&b64, (const unsigned char *)input, strlen(input));
		json_object_set_new(args, "input-data", json_string(b64.buf));
		strbuf_wipe(&b64);
	}
	if (!json_object_get(args, "path") && !input) {
		resp_fail(rs, 500, "command or input-data (or both) required");
		json_decref(args);
		return;
	}
	if (session_open(&a, s, g, vm->vmid, rs)) {
		if ((r = session_cmd(&a, "guest-exec", args, false)))
			rs->data = r;
	} else {
		json_decref(args);
	}
	session_close(&a);
}

/* Perl's JSON sees decode_base64's bytes as characters: each byte above
 * 0x7f goes out as two bytes of UTF-8 (as file-read's content). */
static void decode_field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	struct strbuf raw = STRBUF_INIT, txt = STRBUF_INIT;

	if (!v || !*v)
		return;
	base64_decode(&raw, v);
	latin1_add(&txt, (const unsigned char *)raw.buf, raw.len);
	json_object_set_new(o, key, json_stringn(txt.buf, txt.len));
	strbuf_release(&raw);
	strbuf_release(&txt);
}

/* GET agent/exec-status: qemu_exec_status, out-data and err-data decoded,
 * booleans as 1 and 0. */
void h_agent_exec_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *pid = req_param(rq, "pid");
	struct sim_vm *vm = guest_vm(s, rq);
	struct sim_guest *g;
	struct session a;
	const char *k;
	json_t *r, *v;
	uint64_t n = 0;

	if (!vm) {
		not_implemented(rs, "GET", "exec-status");
		return;
	}
	if (!(vm = agent_vm(s, rq, rs)) || !(g = real_guest(s, vm)))
		return;
	if (!pid || parse_u64z(&n, pid, 0, INT64_MAX) < 0) {
		param_fail(rs, "pid", "invalid integer value");
		return;
	}
	if (session_open(&a, s, g, vm->vmid, rs) &&
	    (r = session_cmd(&a, "guest-exec-status",
			     json_pack("{s:I}", "pid", (json_int_t)n),
			     false))) {
		decode_field(r, "out-data");
		decode_field(r, "err-data");
		json_object_foreach(r, k, v)
		{
			if (json_is_boolean(v))
				json_object_set_new(
					r, k, json_integer(json_is_true(v)));
		}
		rs->data = r;
	}
	session_close(&a);
}
