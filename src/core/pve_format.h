/*
 * pve_format.h - what Proxmox VE accepts, as pure checks.
 *
 * The facts come from the PVE API schema (qemu config parameters, PVE 9.x)
 * and the format verifiers in pve-common's JSONSchema.pm: disk-size,
 * pve-storage-id, pve-bridge-id, dns-name, pve-qm-ipconfig, address-list,
 * pve-tag, the enums of net[n].model, scsihw and the drive format. Where
 * pve-gitops is stricter than Proxmox (a gateway inside the subnet, a size
 * with an explicit unit, a DNS label for VM names), the function says so.
 *
 * Every check returns 0 when the value is acceptable, or -1 with a lower-case
 * reason (no subject, no full stop) appended to why.
 */
#ifndef PVE_GITOPS_PVE_FORMAT_H
#define PVE_GITOPS_PVE_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/strbuf.h"

/* Proxmox limits (qemu-server). */
#define PVE_VMID_MIN   100
#define PVE_VMID_MAX   999999999
#define PVE_MEMORY_MIN 16      /* MiB, schema minimum of memory.current */
#define PVE_MEMORY_MAX 4194304 /* MiB, qemu-server's MAX_MEM (4 TiB) */
#define PVE_MAX_NETS   32
#define PVE_MAX_SERIAL 4

/* Disk size "50G", "512M", "1.5T", "4096K": decimal with a K/M/G/T unit. */
/*
 * The same checks as regular expressions (ECMA-262, for the JSON Schema:
 * core/schema.c), each beside the function it mirrors; tests/integration/
 * schema.py holds them to the corpus.
 */
#define PVE_LABEL_RE "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#define PVE_SIZE_RE  "^(?![0.]+[KMGT]$)[0-9]+(?:\\.[0-9]+)?[KMGT]$"
#define PVE_DISK_SLOT_RE                                                   \
	"^(?:scsi(?:[0-9]|[12][0-9]|30)|virtio(?:[0-9]|1[0-5])|sata[0-5]|" \
	"ide[0-3])$"
#define PVE_STORAGE_ID_RE "^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$"
#define PVE_BRIDGE_RE	  "^[A-Za-z0-9._-]{1,15}$"
#define PVE_DNS_NAME_RE \
	"^(?=.{1,253}$)" PVE_LABEL_RE "(?:\\." PVE_LABEL_RE ")*$"
#define PVE_NODE_NAME_RE  "^" PVE_LABEL_RE "$"
#define PVE_MAC_RE	  "^[0-9A-Fa-f][02468AaCcEe](?::[0-9A-Fa-f]{2}){5}$"
#define PVE_USER_RE	  "^(?=.{1,32}$)[a-z_][a-z0-9_-]*\\$?$"
#define PVE_IDENTIFIER_RE "^[A-Za-z_][A-Za-z0-9_]*$"

int pve_parse_size(uint64_t *bytes, const char *s, struct strbuf *why);
/* Render bytes the way Proxmox does ("50G", "512M", "1536K"). */
void pve_format_size(struct strbuf *out, uint64_t bytes);

int pve_check_storage_id(const char *s, struct strbuf *why);
int pve_check_bridge(const char *s, struct strbuf *why);
/* One DNS label: what a VM name must be to be an inventory host name. */
int pve_check_dns_label(const char *s, struct strbuf *why);
/* Dotted DNS name (format dns-name), e.g. a template name. */
int pve_check_dns_name(const char *s, struct strbuf *why);
int pve_check_node_name(const char *s, struct strbuf *why);
/* pve-tag: [a-z0-9_][a-z0-9_-+.]*, case-insensitive. */
int pve_check_tag(const char *s, size_t len, struct strbuf *why);
/* address-list: IPv4/IPv6 addresses separated by spaces, ',' or ';'. */
int pve_check_address_list(const char *s, struct strbuf *why);
int pve_check_mac(const char *s, struct strbuf *why);
/* serial[n]: "socket" or a host device path /dev/... */
int pve_check_serial(const char *s, struct strbuf *why);
/* boot: "order=dev[;dev...]" or legacy "[acdn]{1,4}". */
int pve_check_boot(const char *s, struct strbuf *why);
/* One OpenSSH public key per non-empty line. */
int pve_check_sshkeys(const char *s, struct strbuf *why);
/* A user name cloud-init and useradd accept: [a-z_][a-z0-9_-]*[$]?, <= 32. */
int pve_check_user(const char *s, struct strbuf *why);

struct pve_ipconfig {
	bool has_ip4, dhcp4, has_gw4;
	uint32_t ip4, gw4; /* host byte order */
	unsigned prefix4;
	bool has_ip6, dhcp6, auto6, has_gw6;
};

/* Parse and check an ipconfig0 value such as "ip=10.0.0.5/24,gw=10.0.0.1". */
int pve_parse_ipconfig(struct pve_ipconfig *out, const char *s,
		       struct strbuf *why);
/* Strict dotted quad (no leading zeros), as Proxmox's IPV4RE. */
int pve_parse_ipv4(uint32_t *out, const char *s, size_t len);
void pve_format_ipv4(struct strbuf *out, uint32_t ip);

/* Disk slot "scsi0".."scsi30", "virtio0".."15", "sata0".."5", "ide0".."3". */
int pve_parse_disk_slot(const char *s, struct strbuf *why);

/* NULL-terminated value lists, for checks and "did you mean". */
extern const char *const pve_cpu_types[];
extern const char *const pve_net_models[];
extern const char *const pve_scsihw_models[];
extern const char *const pve_disk_formats[];
extern const char *const pve_disk_caches[];

/*
 * A certificate's SHA-256 fingerprint, as Proxmox's `fingerprint=` and
 * `openssl x509 -fingerprint -sha256` print it ("7A:05:...", 32 pairs) or
 * as 64 hex digits without separators; any case. out gets the 32 bytes.
 */
int pve_parse_fingerprint(unsigned char out[32], const char *s,
			  struct strbuf *why);
/* The 32 bytes as upper-case ':'-separated pairs, the form Proxmox shows. */
void pve_format_fingerprint(struct strbuf *out, const unsigned char md[32]);

/*
 * Field i of a task's UPID, "UPID:node:pid:pstart:starttime:type:id:user:"
 * (0 the node, 1 the pid, 2 pstart, 3 the start time, 4 the type, 5 the
 * id, 6 the user; pid, pstart and starttime are hex) appended to out; -1
 * when upid has no such field.
 */
int pve_upid_field(struct strbuf *out, const char *upid, unsigned i);

/* 1 when s is in list (exact match). */
int pve_in_list(const char *s, const char *const *list);
/* CPU type from the list, or "custom-NAME". */
int pve_check_cpu_type(const char *s, struct strbuf *why);

#endif
