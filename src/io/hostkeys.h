/*
 * hostkeys.h - the SSH side of provisioning: waiting until a new host's
 * SSH server answers, learning its host keys (through Proxmox's guest
 * agent, a channel already authenticated, else ssh-keyscan), and recording
 * them in a known_hosts file so that host key checking can stay on; and,
 * for hosts reached another way, waiting until their port answers.
 */
#ifndef PVE_GITOPS_HOSTKEYS_H
#define PVE_GITOPS_HOSTKEYS_H

#include <stdbool.h>

#include "io/pve.h"
#include "util/err.h"
#include "util/strvec.h"

/*
 * Wait until ip:port accepts a connection and sends an SSH banner, for at
 * most wait_s seconds. Returns 0 (with *waited_ms), or -1 with e saying
 * how long it tried.
 */
int hostkeys_wait_ssh(const char *ip, unsigned port, unsigned wait_s,
		      long *waited_ms, struct err *e);

/*
 * The same for a host without SSH (Talos: its API on port 50000): wait
 * until ip:port accepts a TCP connection and, with tls, completes a TLS
 * handshake whose certificate is not verified (apid's is self-signed
 * before the node is configured; nothing is sent). 0 (with *waited_ms),
 * or -1 (ERR_TIMEOUT) with e saying how long it tried.
 */
int hostkeys_wait_port(const char *ip, unsigned port, bool tls, unsigned wait_s,
		       long *waited_ms, struct err *e);

/*
 * The host keys ("TYPE BASE64") the guest agent reads from the VM's
 * /etc/ssh/ssh_host_*_key.pub files. An agent that is not running yet
 * (its service starts beside sshd, not before it) is asked again every
 * 500 ms for at most wait_ms.
 */
int hostkeys_from_agent(struct pve_client *pc, const char *node, int vmid,
			unsigned wait_ms, struct strvec *keys, struct err *e);

/* The host keys ssh-keyscan sees at ip:port. */
int hostkeys_scan(const char *ip, unsigned port, struct strvec *keys,
		  struct err *e);

/*
 * Replace what file (created 0600, its directory 0700; an existing one
 * keeps its mode) says about ip:port (plain or hashed entries) with keys.
 * Written atomically. The path comes from the repository's config, so a
 * symbolic link, a FIFO or other non-regular file, a file with a line that
 * is not a known_hosts line, and a relative path leaving the repository
 * are refused (ERR_INVALID) and nothing is written.
 */
int hostkeys_record(const char *file, const char *ip, unsigned port,
		    const struct strvec *keys, struct err *e);

/* One host's keys, for hostkeys_record_all. */
struct hostkeys_host {
	const char *ip;
	unsigned port;
	const struct strvec *keys;
};

/*
 * hostkeys_record for n hosts at once: one read, one atomic write (a host
 * named twice gets the keys of its last entry).
 */
int hostkeys_record_all(const char *file, const struct hostkeys_host *v,
			size_t n, struct err *e);

/*
 * How many lines of the known_hosts file name ip:port (plain or hashed)
 * into *count, 0 when the file does not exist. The file is read as
 * hostkeys_record reads it (the same refusals). 0 or -1.
 */
int hostkeys_known(const char *file, const char *ip, unsigned port,
		   size_t *count, struct err *e);

/* "ip" for port 22, else "[ip]:port": how known_hosts names a host. */
void hostkeys_hostspec(struct strbuf *out, const char *ip, unsigned port);

#endif
