/*
 * lease.c - the lease record and what it means; see lease.h.
 */
#include "core/lease.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/parse.h"

#define LEASE_HEAD "pve-gitops lease"

void lease_format(struct strbuf *out, const char *holder, int64_t expires)
{
	strbuf_addf(out, "%s\n\nholder: %s\nexpires: %lld\n", LEASE_HEAD,
		    holder, (long long)expires);
}

/* The value of "KEY: " on one line of msg (len bytes) into *v, *vlen. */
static bool field(const char *msg, size_t len, const char *key, const char **v,
		  size_t *vlen)
{
	size_t k = strlen(key), i = 0;

	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (msg + i)) : len - i;

		if (n > k + 1 && !memcmp(msg + i, key, k) &&
		    msg[i + k] == ':' && msg[i + k + 1] == ' ') {
			*v = msg + i + k + 2;
			*vlen = n - k - 2;
			return true;
		}
		i += n + 1;
	}
	return false;
}

int lease_parse(struct lease_info *out, const char *commit, size_t len)
{
	const char *body = NULL, *v;
	size_t i, blen, vlen;
	uint64_t t;

	memset(out, 0, sizeof(*out));
	for (i = 0; i + 1 < len; i++)
		if (commit[i] == '\n' && commit[i + 1] == '\n') {
			body = commit + i + 2;
			break;
		}
	if (!body)
		return -1;
	blen = len - (size_t)(body - commit);
	if (blen < strlen(LEASE_HEAD) ||
	    memcmp(body, LEASE_HEAD, strlen(LEASE_HEAD)) ||
	    (blen > strlen(LEASE_HEAD) && body[strlen(LEASE_HEAD)] != '\n'))
		return -1;
	if (!field(body, blen, "expires", &v, &vlen) ||
	    parse_u64(&t, v, vlen, 0, (uint64_t)INT64_MAX) < 0)
		return -1;
	if (!field(body, blen, "holder", &v, &vlen) || !vlen ||
	    vlen > LEASE_HOLDER_MAX)
		return -1;
	for (i = 0; i < vlen; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return -1;
	/* nothing is filled in before the whole message passed */
	memcpy(out->holder, v, vlen);
	out->holder[vlen] = '\0';
	out->expires = (int64_t)t;
	out->valid = true;
	return 0;
}

enum lease_state lease_decide(const struct lease_info *cur, const char *me,
			      int64_t now)
{
	if (!cur)
		return LEASE_FREE;
	if (!cur->valid)
		return LEASE_EXPIRED;
	if (!strcmp(cur->holder, me))
		return LEASE_OURS;
	return now < cur->expires ? LEASE_HELD : LEASE_EXPIRED;
}

bool lease_implausible(const struct lease_info *cur, int64_t now)
{
	/* unsigned: the distance from any clock to any expiry fits */
	return cur->valid && cur->expires > now &&
	       (uint64_t)cur->expires - (uint64_t)now >
		       (uint64_t)LEASE_TTL_MAX + LEASE_SKEW_MAX;
}

void lease_time(char *buf, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "%lld", (long long)t);
}
