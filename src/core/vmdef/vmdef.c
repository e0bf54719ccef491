/*
 * vmdef.c - decoding and checking one VM definition (SPEC section 3); see
 * vmdef.h. The scalar keys and the table of all top-level keys are here,
 * then the checks across keys once the whole definition is read.
 */
#include "core/vmdef/vmdef_int.h"
#include "core/config.h"
#include "core/ippool.h"

static int check_not_empty(const char *s, struct strbuf *why)
{
	if (*s)
		return 0;
	strbuf_addstr(why, "empty");
	return -1;
}

static int check_env_name(const char *s, struct strbuf *why)
{
	if (is_identifier(s))
		return 0;
	strbuf_addstr(why, "not an environment variable name");
	return -1;
}

static int check_description(const char *s, struct strbuf *why)
{
	if (strlen(s) <= 8192)
		return 0;
	strbuf_addstr(why, "longer than Proxmox's limit of 8192 bytes");
	return -1;
}

static int required_null(struct ydecoder *d, const struct ynode *v,
			 const char *path)
{
	if (v->kind != YNODE_SCALAR || v->stype != YS_NULL)
		return 0;
	yd_error(d, v, path, "required, but set to null");
	return -1;
}

static int f_name(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	VM(t)->name_line = v->line;
	VM(t)->name_col = v->col;
	if (required_null(d, v, path) < 0)
		return -1;
	/* Proxmox's dns-name: a label or a dotted name (k01.example.org) */
	return yd_checked_string(d, v, path, &VM(t)->name, pve_check_dns_name);
}

static int f_target_node(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	(void)k;
	((struct vmctx *)t)->has_target_node = true;
	if (required_null(d, v, path) < 0)
		return -1;
	return yd_checked_string(d, v, path, &VM(t)->target_node,
				 pve_check_node_name);
}

static int f_cores(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 1, VMDEF_MAX_CORES, &VM(t)->cores);
}

static int f_sockets(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 1, VMDEF_MAX_SOCKETS, &VM(t)->sockets);
}

static int f_memory(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, PVE_MEMORY_MIN, PVE_MEMORY_MAX,
		       &VM(t)->memory);
}

static int f_vmid(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	VM(t)->vmid_line = v->line;
	VM(t)->vmid_col = v->col;
	return yd_uint(d, v, path, PVE_VMID_MIN, PVE_VMID_MAX, &VM(t)->vmid);
}

static int f_clone(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->clone, pve_check_dns_name);
}

static int f_cpu_type(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	const char *near;

	(void)k;
	if (yd_string(d, v, path, &s) < 0)
		return -1;
	if (pve_check_cpu_type(s, &why) < 0) {
		near = suggest_nearest(s, strlen(s), pve_cpu_types);
		if (near)
			yd_error(d, v, path, "'%s': %s; did you mean '%s'?", s,
				 why.buf, near);
		else
			yd_error(d, v, path, "'%s': %s", s, why.buf);
		free(s);
		strbuf_release(&why);
		return -1;
	}
	free(VM(t)->cpu_type);
	VM(t)->cpu_type = s;
	return 0;
}

static int f_ipconfig0(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	int ret = 0;

	(void)k;
	if (yd_string(d, v, path, &s) < 0)
		return -1;
	if (pve_parse_ipconfig(&VM(t)->ip, s, &why) < 0) {
		struct strbuf shown = STRBUF_INIT;

		yd_shown(&shown, s, strlen(s), 80);
		yd_error(d, v, path, "'%s': %s", shown.buf, why.buf);
		strbuf_release(&shown);
		free(s);
		ret = -1;
	} else {
		free(VM(t)->ipconfig0);
		VM(t)->ipconfig0 = s;
		VM(t)->ip_line = v->line;
		VM(t)->ip_col = v->col;
	}
	strbuf_release(&why);
	return ret;
}

/* ip_pool: NAME (a pool of the config's ip_pools:, checked with it) */
static int f_ip_pool(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	if (yd_checked_string(d, v, path, &VM(t)->ip_pool, ip_pool_check_name) <
	    0)
		return -1;
	VM(t)->ip_pool_line = v->line;
	VM(t)->ip_pool_col = v->col;
	return 0;
}

/* cluster: NAME (a cluster of the config, checked with it) */
static int f_cluster(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	if (yd_checked_string(d, v, path, &VM(t)->cluster,
			      config_check_cluster_name) < 0)
		return -1;
	VM(t)->cluster_line = v->line;
	VM(t)->cluster_col = v->col;
	return 0;
}

static int f_ciuser(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->ciuser, pve_check_user);
}

static int f_onboot(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_tfbool(d, v, path, &VM(t)->onboot);
}

static int f_agent(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_tfbool(d, v, path, &VM(t)->agent);
}

static int f_full_clone(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path)
{
	(void)k;
	return yd_tfbool(d, v, path, &VM(t)->full_clone);
}

static int f_automatic_reboot(struct ydecoder *d, void *t,
			      const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	(void)k;
	return yd_tfbool(d, v, path, &VM(t)->automatic_reboot);
}

static int f_migrate(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_tfbool(d, v, path, &VM(t)->migrate);
}

static const char *const vm_states[] = { "running", "stopped", "started",
					 NULL };

static int f_vm_state(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	char *s = NULL;

	(void)k;
	if (yd_enum(d, v, path, vm_states, &s) < 0)
		return -1;
	VM(t)->vm_state = !strcmp(s, "running")	  ? VM_STATE_RUNNING
			  : !strcmp(s, "stopped") ? VM_STATE_STOPPED
						  : VM_STATE_STARTED;
	free(s);
	return 0;
}

static int f_boot(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->boot, pve_check_boot);
}

static int f_scsihw(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_scsihw_models, &VM(t)->scsihw);
}

static int f_nameserver(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->nameserver,
				 pve_check_address_list);
}

static int f_searchdomain(struct ydecoder *d, void *t, const struct ynode *k,
			  const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->searchdomain,
				 check_not_empty);
}

static int f_sshkeys(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	struct strbuf keys = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;
	int ret = -1;

	(void)k;
	if (v->kind == YNODE_SEQ) { /* a list of keys, one per item */
		for (i = 0; i < v->nr; i++) {
			if (v->kids[i]->kind != YNODE_SCALAR) {
				yd_error(d, v->kids[i], path,
					 "expected a key string, got %s",
					 ynode_describe(v->kids[i]));
				goto out;
			}
			strbuf_add(&keys, v->kids[i]->str, v->kids[i]->len);
			strbuf_addch(&keys, '\n');
		}
	} else if (v->kind == YNODE_SCALAR) {
		strbuf_add(&keys, v->str, v->len);
	} else {
		yd_error(d, v, path,
			 "expected a string or a list of keys, got %s",
			 ynode_describe(v));
		goto out;
	}
	if (pve_check_sshkeys(keys.buf, &why) < 0) {
		yd_error(d, v, path, "%s", why.buf);
		goto out;
	}
	free(VM(t)->sshkeys);
	VM(t)->sshkeys = strbuf_detach(&keys, NULL);
	ret = 0;
out:
	strbuf_release(&keys);
	strbuf_release(&why);
	return ret;
}

static int f_cipassword(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path)
{
	(void)k;
	((struct vmctx *)t)->cipassword_node = v;
	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path, "expected a string, got %s",
			 ynode_describe(v));
		return -1;
	}
	free(VM(t)->cipassword);
	VM(t)->cipassword = xstrndup(v->str, v->len);
	return 0;
}

static int f_cipassword_env(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->cipassword_env,
				 check_env_name);
}

static int f_description(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->description,
				 check_description);
}

static int add_tag(struct ydecoder *d, struct vmdef *vm, const struct ynode *v,
		   const char *path, const char *s, size_t len)
{
	struct strbuf why = STRBUF_INIT, tag = STRBUF_INIT;
	size_t i;

	if (pve_check_tag(s, len, &why) < 0) {
		yd_error(d, v, path, "%s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	for (i = 0; i < len; i++)
		strbuf_addch(&tag, tolower((unsigned char)s[i]));
	/* ours: pve-gitops, the digest pg-XXXXXXXX, pg-pending */
	if (!strncmp(tag.buf, VMDEF_MANAGED_TAG, strlen(VMDEF_MANAGED_TAG)) ||
	    !strncmp(tag.buf, "pg-", 3)) {
		yd_error(d, v, path,
			 "tag '%s' is reserved for pve-gitops' own "
			 "bookkeeping",
			 tag.buf);
		strbuf_release(&tag);
		return -1;
	}
	for (i = 0; i < vm->tags.nr; i++)
		if (!strcmp(vm->tags.v[i], tag.buf))
			break;
	if (i == vm->tags.nr)
		strvec_push(&vm->tags, tag.buf);
	strbuf_release(&tag);
	return 0;
}

static int f_tags(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	struct vmdef *vm = VM(t);
	int ret = 0;
	size_t i;

	(void)k;
	if (v->kind == YNODE_SEQ) {
		for (i = 0; i < v->nr; i++) {
			const struct ynode *it = v->kids[i];

			if (it->kind != YNODE_SCALAR) {
				yd_error(d, it, path,
					 "expected a tag string, "
					 "got %s",
					 ynode_describe(it));
				ret = -1;
				continue;
			}
			ret |= add_tag(d, vm, it, path, it->str, it->len);
		}
		return ret;
	}
	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path, "expected a string or a list, got %s",
			 ynode_describe(v));
		return -1;
	}
	/* One string, split like Proxmox does: on ';', ',' and spaces. */
	for (i = 0; i < v->len;) {
		size_t n = strcspn(v->str + i, ";, ");

		if (n)
			ret |= add_tag(d, vm, v, path, v->str + i, n);
		i += n ? n : 1;
	}
	return ret;
}

/* ansible_groups: [a, b]: inventory groups beyond those the rules give. */
static int f_ansible_groups(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	struct vmdef *vm = VM(t);
	int ret = 0;
	size_t i, j;

	(void)k;
	if (v->kind != YNODE_SEQ) {
		yd_error(d, v, path, "expected a list of group names, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		const struct ynode *it = v->kids[i];

		if (it->kind != YNODE_SCALAR || strlen(it->str) != it->len ||
		    !is_identifier(it->str) || !strcmp(it->str, "all") ||
		    !strcmp(it->str, "ungrouped")) {
			yd_error(d, it, path,
				 "expected an Ansible group name (letters, "
				 "digits and '_', not starting with a digit, "
				 "not 'all' or 'ungrouped')");
			ret = -1;
			continue;
		}
		for (j = 0; j < vm->ansible_groups.nr; j++)
			if (!strcmp(vm->ansible_groups.v[j], it->str))
				break;
		if (j == vm->ansible_groups.nr)
			strvec_push(&vm->ansible_groups, it->str);
	}
	return ret;
}

static int f_terraform_only(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	(void)t;
	(void)v;
	yd_advice(d, k, path,
		  "a Terraform provider setting with no meaning "
		  "for pve-gitops; ignored");
	return 0;
}

/* Proxmox's args: one line of QEMU arguments, at most 4096 bytes. */
static int check_args(const char *s, struct strbuf *why)
{
	if (!*s || strlen(s) > 4096 || strpbrk(s, "\n\r")) {
		strbuf_addstr(why, "not one line of QEMU arguments (1 to 4096 "
				   "bytes)");
		return -1;
	}
	return 0;
}

static int f_args(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	if (yd_checked_string(d, v, path, &VM(t)->args, check_args) < 0)
		return -1;
	yd_advice(d, v, path,
		  "raw QEMU arguments run as root on the Proxmox node; apply "
		  "sets them only when the operator allows it "
		  "(PVE_GITOPS_ALLOW_QEMU_ARGS=1), and Proxmox only for "
		  "root@pam");
	return 0;
}

/* The keys of a VM definition, each with its documentation (yd_doc). */
static const struct yd_field vm_fields[] = {
	{ "name", f_name, 1,
	  YD_REQUIRED("VM name, a DNS name (k01 or k01.example.org); unique "
		      "across the definitions",
		      PVE_DNS_NAME_RE) },
	{ "target_node", f_target_node, 1,
	  YD_REQUIRED("Proxmox node to create the VM on", PVE_NODE_NAME_RE) },
	{ "cores", f_cores, 0,
	  YD_INT("CPU cores per socket", "1", 1, VMDEF_MAX_CORES) },
	{ "sockets", f_sockets, 0,
	  YD_INT("CPU sockets", "1", 1, VMDEF_MAX_SOCKETS) },
	{ "memory", f_memory, 0,
	  YD_INT("memory in MiB", "1024", PVE_MEMORY_MIN, PVE_MEMORY_MAX) },
	{ "clone", f_clone, 0,
	  YD_STR("template to clone; without it an empty VM is created (PXE "
		 "or ISO install)",
		 NULL, PVE_DNS_NAME_RE) },
	{ "cpu_type", f_cpu_type, 0,
	  YD_ONE_OF("Proxmox CPU type: a built-in model (host, kvm64, "
		    "x86-64-v2-AES, ...) or custom-NAME",
		    "\"" VMDEF_DEFAULT_CPU "\"", pve_cpu_types,
		    "^custom-[A-Za-z0-9._-]+$") },
	{ "ipconfig0", f_ipconfig0, 0,
	  YD_DOC(YT_STRING,
		 "cloud-init address of net0: ip=CIDR,gw=ADDR or ip=dhcp "
		 "(ip6= likewise); without it, DHCP",
		 NULL) },
	{ "ip_pool", f_ip_pool, 0,
	  YD_STR("an address from this pool of the config's ip_pools: "
		 "instead of a static ipconfig0",
		 NULL, NULL) },
	{ "cluster", f_cluster, 0,
	  YD_STR("the Proxmox cluster of the config's clusters: the VM is on "
		 "(a VM never moves between clusters)",
		 "\"default\"", "^[a-z0-9][a-z0-9_-]*$") },
	{ "ciuser", f_ciuser, 0, YD_STR("cloud-init user", NULL, PVE_USER_RE) },
	{ "network", vmdef_field_network, 0,
	  YD_FIELDS(YT_MAPS,
		    "network device net0 (a mapping) or net0, net1, ... (a "
		    "list)",
		    vmdef_net_fields) },
	{ "disks", vmdef_field_disks, 0,
	  YD_SLOTS("disks: a mapping of slots (scsi0: {size: 32G, ...}) "
		   "or a list of disks each with slot and type",
		   vmdef_disk_fields, PVE_DISK_SLOT_RE) },
	{ "nested_disks", vmdef_field_nested_disks, 0,
	  YD_DOC(YT_DICT,
		 "disks in Telmate 3.x's nested form (scsi: {scsi0: {disk: "
		 "{...}}})",
		 NULL) },
	{ "onboot", f_onboot, 0,
	  YD_DOC(YT_TFBOOL,
		 "start the VM when its node boots (default: "
		 "defaults.onboot)",
		 "true") },
	{ "boot", f_boot, 0,
	  YD_DOC(YT_STRING, "boot order, such as order=scsi0;net0", NULL) },
	{ "agent", f_agent, 0,
	  YD_DOC(YT_TFBOOL,
		 "QEMU guest agent enabled (default: "
		 "defaults.agent)",
		 "false") },
	{ "full_clone", f_full_clone, 0,
	  YD_DOC(YT_TFBOOL,
		 "full clone rather than linked (default: "
		 "defaults.full_clone)",
		 "false") },
	{ "vm_state", f_vm_state, 0,
	  YD_ENUM("power state to keep the VM in", "\"running\"", vm_states) },
	{ "serial", vmdef_field_serial, 0,
	  YD_DOC(YT_ANY,
		 "serial ports: socket, /dev/ttySN, or a mapping {id, type} "
		 "(or a list of them)",
		 NULL) },
	{ "scsihw", f_scsihw, 0,
	  YD_ENUM("SCSI controller (default: defaults.scsihw)",
		  "\"" VMDEF_DEFAULT_SCSIHW "\"", pve_scsihw_models) },
	{ "nameserver", f_nameserver, 0,
	  YD_DOC(YT_STRING, "cloud-init DNS servers, space-separated", NULL) },
	{ "searchdomain", f_searchdomain, 0,
	  YD_DOC(YT_STRING, "cloud-init DNS search domain", NULL) },
	{ "sshkeys", f_sshkeys, 0,
	  YD_DOC(YT_STRINGS,
		 "cloud-init SSH public keys, one per line or a list", NULL) },
	{ "cipassword", f_cipassword, 0,
	  YD_DOC(YT_STRING,
		 "cloud-init password in clear text (refused with "
		 "strict_secrets); prefer cipassword_env",
		 NULL) },
	{ "cipassword_env", f_cipassword_env, 0,
	  YD_STR("environment variable holding the cloud-init password", NULL,
		 PVE_IDENTIFIER_RE) },
	{ "tags", f_tags, 0,
	  YD_DOC(YT_STRINGS,
		 "Proxmox tags, a list or one string split on ';', ',' and "
		 "spaces (pve-gitops and pg-* are reserved)",
		 NULL) },
	{ "ansible_groups", f_ansible_groups, 0,
	  YD_DOC(YT_LIST,
		 "Ansible groups of the VM, beyond those of inventory_groups",
		 NULL) },
	{ "description", f_description, 0,
	  YD_STRMAX("Proxmox notes of the VM (at most 8192 bytes)", 8192) },
	{ "args", f_args, 0,
	  YD_DOC(YT_STRING,
		 "raw QEMU arguments (applied only with "
		 "PVE_GITOPS_ALLOW_QEMU_ARGS=1)",
		 NULL) },
	{ "vmid", f_vmid, 0,
	  YD_INT("VM id; without it Proxmox picks the next free one", NULL,
		 PVE_VMID_MIN, PVE_VMID_MAX) },
	{ "define_connection_info", f_terraform_only, 1,
	  YD_DOC(YT_ANY, "Terraform provider setting; ignored", NULL) },
	{ "skip_ipv6", f_terraform_only, 1,
	  YD_DOC(YT_ANY, "Terraform provider setting; ignored", NULL) },
	{ "automatic_reboot", f_automatic_reboot, 0,
	  YD_DOC(YT_TFBOOL,
		 "reboot the VM when a change needs it (default: "
		 "defaults.automatic_reboot)",
		 "true") },
	{ "migrate", f_migrate, 0,
	  YD_DOC(YT_TFBOOL,
		 "a changed target_node migrates the VM (live when it runs); "
		 "false: plan blocks the change",
		 "true") },
	{ "template", f_terraform_only, 1,
	  YD_DOC(YT_ANY, "Terraform provider setting; ignored", NULL) },
	{ NULL, NULL, 0, { 0 } },
};

const struct yd_field *vmdef_fields(void)
{
	return vm_fields;
}

/* ---- whole-definition checks ------------------------------------------ */

static void check_required(struct ydecoder *d, const struct ynode *root,
			   const struct vmctx *ctx)
{
	/* a key that is present but invalid has had its error already */
	if (!ctx->vm->name && !ctx->vm->name_line)
		yd_error(d, root, NULL, "missing required key 'name'");
	if (!ctx->has_target_node)
		yd_error(d, root, NULL,
			 "missing required key 'target_node' "
			 "(the Proxmox node to create the VM "
			 "on)");
}

/* Whether the mapping has the key at all (whatever its value). */
static int has_key(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < ymap_size(map); i++)
		if (!strcmp(ymap_key(map, i)->str, key))
			return 1;
	return 0;
}

static void check_consistency(struct ydecoder *d, const struct ynode *root,
			      struct vmctx *ctx)
{
	struct vmdef *vm = ctx->vm;
	size_t i;

	if (vm->cipassword && vm->cipassword_env)
		yd_error(d, ctx->cipassword_node, "cipassword",
			 "set either cipassword or cipassword_env, not both");
	else if (vm->cipassword && ctx->opts->strict_secrets)
		yd_error(d, ctx->cipassword_node, "cipassword",
			 "clear-text password refused (strict_secrets); use "
			 "cipassword_env: VARIABLE");
	else if (vm->cipassword)
		yd_warning(d, ctx->cipassword_node, "cipassword",
			   "clear-text password in the repository; prefer "
			   "cipassword_env: VARIABLE");
	for (i = 0; i < vm->nr_disks; i++) {
		const struct vm_disk *disk = &vm->disks[i];

		if (disk->mount && disk->kind != DISK_DISK &&
		    disk->kind != DISK_PASSTHROUGH)
			yd_error(d, root, NULL,
				 "%s: a %s drive cannot be "
				 "mounted",
				 disk->slot, vmdef_disk_kind(disk->kind));
	}
	if (!has_key(root, "clone") && vm->name)
		yd_warning(d, root, NULL,
			   "no 'clone': an empty VM will be created (for a "
			   "PXE or ISO install)");
	if (vm->ip_pool && vm->ipconfig0)
		yd_error(d, root, NULL,
			 "ip_pool: and ipconfig0: both give the address; keep "
			 "one (the pool writes ipconfig0 itself)");
	if (vm->clone && !has_key(root, "ipconfig0") && !vm->ip_pool &&
	    vm->name)
		yd_warning(d, root, NULL,
			   "no 'ipconfig0': the VM will use DHCP and its "
			   "address is known only once its guest agent "
			   "reports it");
}

const struct vmdef_defaults *vmdef_defaults_of(const struct vmctx *ctx)
{
	static const struct vmdef_defaults seed = VMDEF_DEFAULTS_INIT;

	return ctx->opts && ctx->opts->defaults ? ctx->opts->defaults : &seed;
}

void vmdef_apply_defaults(struct vmdef *vm, const struct vmdef_defaults *def)
{
	vm->onboot = def->onboot;
	vm->agent = def->agent;
	vm->full_clone = def->full_clone;
	vm->automatic_reboot = def->automatic_reboot;
	vm->migrate = def->migrate;
}

void vmdef_init(struct vmdef *vm)
{
	static const struct vmdef_defaults seed = VMDEF_DEFAULTS_INIT;

	memset(vm, 0, sizeof(*vm));
	vm->cores = VMDEF_DEFAULT_CORES;
	vm->sockets = VMDEF_DEFAULT_SOCKETS;
	vm->memory = VMDEF_DEFAULT_MEMORY;
	vm->onboot = seed.onboot;
	vm->agent = seed.agent;
	vm->full_clone = seed.full_clone;
	vm->automatic_reboot = seed.automatic_reboot;
	vm->migrate = seed.migrate;
	vm->vm_state = VM_STATE_RUNNING;
	strvec_init(&vm->tags);
	strvec_init(&vm->ansible_groups);
}

int vmdef_decode(struct vmdef *out, struct diag_list *dl, const char *file,
		 const struct ynode *root, const struct vmdef_opts *opts)
{
	struct ydecoder d = { dl, file, 0 };
	struct vmctx ctx = { out, opts, NULL, NULL, NULL, NULL, false, root };
	size_t i;
	static const struct ynode empty = {
		.kind = YNODE_SCALAR, .line = 1, .col = 1, .stype = YS_NULL
	};

	vmdef_init(out);
	if (opts && opts->defaults)
		vmdef_apply_defaults(out, opts->defaults);
	out->file = xstrdup(file);
	if (!root || (root->kind == YNODE_SCALAR && root->stype == YS_NULL)) {
		yd_error(&d, root ? root : &empty, NULL,
			 "empty definition; expected a mapping with at least "
			 "name and target_node");
		return -1;
	}
	if (root->kind != YNODE_MAP) {
		yd_error(&d, root, NULL,
			 "expected a mapping of VM settings, got %s",
			 ynode_describe(root));
		return -1;
	}
	yd_map(&d, root, "", vm_fields, &ctx);
	check_required(&d, root, &ctx);
	check_consistency(&d, root, &ctx);
	if (!out->cpu_type)
		out->cpu_type = xstrdup(VMDEF_DEFAULT_CPU);
	if (!out->scsihw)
		out->scsihw =
			xstrdup(opts && opts->defaults ? opts->defaults->scsihw
						       : VMDEF_DEFAULT_SCSIHW);
	/* no network key: no NIC block (a clone keeps the template's) */
	for (i = 0; i < out->nr_nets; i++)
		if (out->nets[i].firewall < 0)
			out->nets[i].firewall =
				opts && opts->defaults
					? opts->defaults->network_firewall
					: 1;
	return d.errors ? -1 : 0;
}

int vmdef_parse(struct vmdef *out, struct diag_list *dl, const char *file,
		const char *buf, size_t len, const struct vmdef_opts *opts)
{
	struct ytree tree = YTREE_INIT;
	int ret;

	if (ytree_parse(&tree, dl, file, buf, len) < 0) {
		vmdef_init(out);
		out->file = xstrdup(file);
		ytree_release(&tree);
		return -1;
	}
	ret = vmdef_decode(out, dl, file, tree.root, opts);
	ytree_release(&tree);
	return ret;
}

void vmdef_release(struct vmdef *vm)
{
	size_t i;

	free(vm->file);
	free(vm->name);
	free(vm->target_node);
	free(vm->clone);
	free(vm->cpu_type);
	free(vm->ipconfig0);
	free(vm->ip_pool);
	free(vm->cluster);
	free(vm->ip_pool_problem);
	free(vm->ciuser);
	for (i = 0; i < vm->nr_nets; i++) {
		free(vm->nets[i].bridge);
		free(vm->nets[i].model);
		free(vm->nets[i].macaddr);
	}
	free(vm->nets);
	for (i = 0; i < vm->nr_disks; i++)
		vmdef_disk_release(&vm->disks[i]);
	free(vm->disks);
	for (i = 0; i < vm->nr_serials; i++)
		free(vm->serials[i].type);
	free(vm->boot);
	free(vm->scsihw);
	free(vm->nameserver);
	free(vm->searchdomain);
	if (vm->sshkeys)
		free(vm->sshkeys);
	if (vm->cipassword) {
		explicit_bzero(vm->cipassword, strlen(vm->cipassword));
		free(vm->cipassword);
	}
	free(vm->cipassword_env);
	free(vm->description);
	free(vm->args);
	strvec_clear(&vm->tags);
	strvec_clear(&vm->ansible_groups);
	vmdef_init(vm);
}

const char *vmdef_ipv4(const struct vmdef *vm, struct strbuf *buf)
{
	if (!vm->ipconfig0 || !vm->ip.has_ip4 || vm->ip.dhcp4)
		return NULL;
	strbuf_reset(buf);
	pve_format_ipv4(buf, vm->ip.ip4);
	return buf->buf;
}
