/*
 * new_hosts.c - the new_hosts.txt format; see new_hosts.h.
 */
#include "core/new_hosts.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/xalloc.h"

void new_hosts_init(struct new_hosts *nh)
{
	memset(nh, 0, sizeof(*nh));
}

void new_hosts_release(struct new_hosts *nh)
{
	size_t i;

	for (i = 0; i < nh->nr; i++) {
		free(nh->v[i].ip);
		free(nh->v[i].name);
	}
	free(nh->v);
	new_hosts_init(nh);
}

static void add_n(struct new_hosts *nh, const char *ip, size_t ip_len,
		  const char *name, size_t name_len)
{
	ALLOC_GROW(nh->v, nh->nr + 1, nh->alloc);
	nh->v[nh->nr].ip = xstrndup(ip, ip_len);
	nh->v[nh->nr].name = xstrndup(name, name_len);
	nh->nr++;
}

void new_hosts_add(struct new_hosts *nh, const char *ip, const char *name)
{
	add_n(nh, ip, strlen(ip), name, strlen(name));
}

void new_hosts_encode(struct strbuf *out, const struct new_hosts *nh)
{
	size_t i;

	for (i = 0; i < nh->nr; i++)
		strbuf_addf(out, "%s,%s\n", nh->v[i].ip, nh->v[i].name);
}

/* One non-blank line s[0..n) (no newline): "IP,NAME". */
static int decode_line(struct new_hosts *out, const char *s, size_t n,
		       struct strbuf *why)
{
	const char *comma = memchr(s, ',', n);
	struct strbuf name = STRBUF_INIT, ignore = STRBUF_INIT;
	uint32_t ip;
	int ret = -1;

	if (!comma || memchr(s, '\0', n) ||
	    pve_parse_ipv4(&ip, s, (size_t)(comma - s)) < 0)
		goto out;
	strbuf_add(&name, comma + 1, n - (size_t)(comma + 1 - s));
	if (pve_check_dns_name(name.buf, &ignore) < 0)
		goto out;
	add_n(out, s, (size_t)(comma - s), name.buf, name.len);
	ret = 0;
out:
	if (ret < 0)
		strbuf_addstr(why, "expected IP,hostname");
	strbuf_release(&name);
	strbuf_release(&ignore);
	return ret;
}

int new_hosts_decode(struct new_hosts *out, const char *text, size_t len,
		     size_t *line, struct strbuf *why)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n && decode_line(out, p, n, why) < 0) {
			*line = lineno;
			return -1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}
