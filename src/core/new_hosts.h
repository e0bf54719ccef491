/*
 * new_hosts.h - new_hosts.txt, the list of hosts an inventory run added:
 * one "IP,HOSTNAME" line per host, read back by `provision` from the
 * commit that changed it.
 *
 * The decoder reads untrusted input (any commit's file): it checks every
 * entry (an IPv4 address Proxmox accepts, a DNS label), skips blank lines
 * and names the physical line (1-based, counting blank lines) of the first
 * bad one. Pure: no I/O.
 */
#ifndef PVE_GITOPS_NEW_HOSTS_H
#define PVE_GITOPS_NEW_HOSTS_H

#include <stddef.h>

#include "util/strbuf.h"

struct new_host_entry {
	char *ip;   /* dotted quad, owned */
	char *name; /* a DNS label, owned */
};

struct new_hosts {
	struct new_host_entry *v;
	size_t nr, alloc;
};

#define NEW_HOSTS_INIT     \
	{                  \
		NULL, 0, 0 \
	}

void new_hosts_init(struct new_hosts *nh);
void new_hosts_release(struct new_hosts *nh);
/* Append an entry (copies of ip and name; not checked). */
void new_hosts_add(struct new_hosts *nh, const char *ip, const char *name);

/* The file's text: "IP,NAME\n" for every entry, in order. */
void new_hosts_encode(struct strbuf *out, const struct new_hosts *nh);

/*
 * Append the entries of text[0..len) to out. A line may end in "\r\n";
 * blank lines are skipped. Returns 0, or -1 with *line the 1-based number
 * of the first bad line and why saying what is wrong with it (out then
 * holds the entries before it).
 */
int new_hosts_decode(struct new_hosts *out, const char *text, size_t len,
		     size_t *line, struct strbuf *why);

#endif
