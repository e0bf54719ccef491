/*
 * lease.h - the lease record: the message of the commit that
 * refs/pve-gitops/lease points at (ops/lease.h takes, renews and releases
 * it), and what a lease read from the server means to a runner. Pure: the
 * clock is an argument.
 *
 * The message:
 *
 *	pve-gitops lease
 *
 *	holder: HOST PID RANDOM
 *	expires: UNIX-SECONDS
 *
 * The holder is 1 to LEASE_HOLDER_MAX printable ASCII bytes; the expiry is
 * decimal digits only (no sign, no spaces), at most INT64_MAX. Anything
 * else is no lease message: a runner may take such a lease over.
 */
#ifndef PVE_GITOPS_CORE_LEASE_H
#define PVE_GITOPS_CORE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define LEASE_HOLDER_MAX 200
/* The longest lease a runner takes (runner.lease_ttl_seconds' bound), and
 * the clock skew between runners beyond which nothing holds anyway. */
#define LEASE_TTL_MAX  86400
#define LEASE_SKEW_MAX 3600

/* A lease as read from its commit. */
struct lease_info {
	bool valid; /* the message parsed */
	char holder[LEASE_HOLDER_MAX + 1];
	int64_t expires; /* Unix seconds */
};

/* The lease commit's message for holder until expires, appended to out. */
void lease_format(struct strbuf *out, const char *holder, int64_t expires);

/*
 * Read a lease from a raw commit object (git cat-file commit: headers, a
 * blank line, the message). Sets out->valid; 0, or -1 when it is no lease
 * message (a holder that is not printable ASCII, no expiry, ...), with out
 * zeroed.
 */
int lease_parse(struct lease_info *out, const char *commit, size_t len);

enum lease_state {
	LEASE_FREE,    /* no lease ref */
	LEASE_OURS,    /* held by me */
	LEASE_HELD,    /* held by another, not expired */
	LEASE_EXPIRED, /* expired (or unreadable): may be taken over */
};

/*
 * What the lease cur (NULL: no ref) means to holder me at time now: held
 * while now < expires, expired from the second it names on.
 */
enum lease_state lease_decide(const struct lease_info *cur, const char *me,
			      int64_t now);

/*
 * Whether cur expires further from now than any runner sets a lease
 * (LEASE_TTL_MAX, with LEASE_SKEW_MAX for clocks): pushed by hand, or by
 * someone locking the runners out. It is held all the same (a runner whose
 * clock is far behind must not take live leases over); the message says
 * so, with the way out.
 */
bool lease_implausible(const struct lease_info *cur, int64_t now);

/* t as "2026-12-02T08:00:00Z" into buf (at least 32 bytes); the number
 * itself when the year does not fit. */
void lease_time(char *buf, size_t size, int64_t t);

#endif
