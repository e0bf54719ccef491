/*
 * pattern.c - host patterns as the ini plugin reads them: the
 * "host:port" forms of parse_address() and the ranges of
 * expand_hostname_range(), checked without being expanded.
 */
#include "core/ini/ini_int.h"

/* \[([a-z]:[a-z]|[0-9]+:[0-9]+)(:[0-9]+)?\] at s; its length or 0. */
static size_t alnum_range(const char *s)
{
	size_t i = 1;

	if (s[0] != '[')
		return 0;
	if (isalpha((unsigned char)s[1]) && s[2] == ':' &&
	    isalpha((unsigned char)s[3])) {
		i = 4;
	} else {
		size_t a = strspn(s + 1, "0123456789"), b;

		if (!a || s[1 + a] != ':')
			return 0;
		b = strspn(s + 2 + a, "0123456789");
		if (!b)
			return 0;
		i = 2 + a + b;
	}
	if (s[i] == ':') {
		size_t c = strspn(s + i + 1, "0123456789");

		if (!c)
			return 0;
		i += 1 + c;
	}
	return s[i] == ']' ? i + 1 : 0;
}

/* Ansible's hostname pattern (labels of \w, '-', '_' and ranges). */
static bool is_hostname(const char *s, size_t len)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		char last = 0;

		while (i < len && s[i] != '.') {
			size_t r = s[i] == '[' ? alnum_range(s + i) : 0;

			if (r && i + r <= len) {
				i += r;
				last = ']';
			} else if (py_is_word((unsigned char)s[i]) ||
				   (s[i] == '-' && i > start)) {
				last = s[i++];
			} else {
				return false;
			}
		}
		if (i == start || last == '_' || last == '-')
			return false;
		if (i == len)
			return true;
		i++; /* '.' */
	}
}

static const char hexdigits[] = "0123456789abcdefABCDEF";

/*
 * One component of Ansible's IPv6 pattern at s: [0-9a-f]{1,4} or a range
 * \[[0-9a-f]+:[0-9a-f]+(:[0-9]+)?\] (any case), followed by sep; with sep
 * 0, a component that a match may end inside. Its length or 0.
 */
static size_t v6_part(const char *s, char sep)
{
	size_t n, a, b, c;

	if (*s == '[') {
		a = strspn(s + 1, hexdigits);
		if (!a || s[1 + a] != ':')
			return 0;
		b = strspn(s + 2 + a, hexdigits);
		if (!b)
			return 0;
		n = 2 + a + b;
		if (s[n] == ':') {
			c = strspn(s + n + 1, "0123456789");
			if (!c)
				return 0;
			n += 1 + c;
		}
		if (s[n++] != ']')
			return 0;
	} else {
		n = strspn(s, hexdigits);
		if (!n || (n > 4 && sep))
			return 0;
		if (n > 4)
			n = 4;
	}
	return !sep || s[n] == sep ? n : 0;
}

/* (C\.){3}C at s: to the end of s when full, else as a prefix. */
static bool v6_v4_tail(const char *s, bool full)
{
	size_t i = 0, k, c;

	for (c = 0; c < 3; c++) {
		k = v6_part(s + i, '.');
		if (!k)
			return false;
		i += k + 1;
	}
	k = v6_part(s + i, 0);
	return k && (!full || !s[i + k]);
}

/*
 * Ansible's IPv6 pattern (parsing/utils/addresses.py) the way re.match()
 * applies it: only its first alternative is anchored at the start and only
 * its last one at the end, so the others match any text they begin. That
 * leaves: "::" at the start, (C:){1,6}: or (C:){7}C at the start,
 * (0:){6}(C.){3}C at the start, or exactly (0:){5}ffff:(C.){3}C.
 */
static bool py_ipv6(const char *s)
{
	size_t i = 0, k, c;

	if (s[0] == ':' && s[1] == ':')
		return true;
	for (c = 0; c < 7; c++) {
		k = v6_part(s + i, ':');
		if (!k)
			break;
		i += k + 1;
		if (c < 6 && s[i] == ':')
			return true;
	}
	if (c == 7 && v6_part(s + i, 0))
		return true;
	if (strncmp(s, "0:0:0:0:0:", 10))
		return false;
	if (!strncmp(s + 10, "0:", 2) && v6_v4_tail(s + 12, false))
		return true;
	return !strncasecmp(s + 10, "ffff:", 5) && v6_v4_tail(s + 15, true);
}

static bool is_host_identifier(const char *s, size_t len)
{
	char *tmp;
	bool v6;

	if (is_hostname(s, len))
		return true;
	tmp = xstrndup(s, len);
	v6 = py_ipv6(tmp);
	free(tmp);
	return v6;
}

/* ((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$ on s[0..len): the colon or len. */
static size_t hostport_colon(const char *s, size_t len)
{
	size_t i = 0, d;

	while (i < len && s[i] != ':') {
		if (s[i] == ']')
			return len;
		if (s[i] == '[') {
			const char *c = memchr(s + i, ']', len - i);

			if (!c)
				return len;
			i = (size_t)(c - s);
		}
		i++;
	}
	if (i == len)
		return len;
	d = len - i - 1;
	return d && strspn(s + i + 1, "0123456789") >= d ? i : len;
}

/*
 * The host part of a pattern with an optional port, the way parse_address()
 * splits "[host]:port" and "host:port": *start and the length of the host
 * part, or 0 and len when the pattern has no port Ansible would take.
 */
size_t ini_split_port(const char *s, size_t len, size_t *start)
{
	size_t off = 0, n = len, d, colon;
	bool port = false;

	*start = 0;
	for (d = 0; d < len && s[len - 1 - d] >= '0' && s[len - 1 - d] <= '9';)
		d++;
	if (s[0] == '[' && d && len >= d + 4 && s[len - d - 1] == ':' &&
	    s[len - d - 2] == ']') {
		off = 1;
		n = len - d - 3;
		port = true;
	}
	colon = hostport_colon(s + off, n);
	if (colon < n) {
		n = colon;
		port = true;
	}
	if (!port || !is_host_identifier(s + off, n))
		return len;
	*start = off;
	return n;
}

static const char letters[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/*
 * The delimiters expand_hostname_range() cuts pattern at: it turns the
 * first '[' and the first ']' into '|' and wants exactly three parts, so a
 * '|' can stand in for a missing ']'. Sets *a < *b, or returns -1.
 */
static int range_cut(struct parser *p, const char *pattern, const char *open,
		     const char **a, const char **b)
{
	const char *close = strchr(pattern, ']'), *bar = strchr(pattern, '|');

	if (close ? bar != NULL : !bar || strchr(bar + 1, '|'))
		return ini_fail(p, 0, "%s values to unpack (expected 3)",
				close || bar ? "too many" : "not enough");
	if (!close)
		close = bar;
	*a = open < close ? open : close;
	*b = open < close ? close : open;
	return 0;
}

/* The parts of a range "begin:end[:step]", cut in place. */
struct range_parts {
	const char *beg;  /* "0" when empty */
	char *end, *step; /* step NULL when absent */
};

static int range_split(struct parser *p, char *range, struct range_parts *r)
{
	r->beg = range;
	r->step = NULL;
	r->end = strchr(range, ':');
	if (r->end) {
		*r->end++ = '\0';
		r->step = strchr(r->end, ':');
		if (r->step) {
			*r->step++ = '\0';
			if (strchr(r->step, ':'))
				r->end = NULL;
		}
	}
	if (!r->end)
		return ini_fail(
			p, 0, "host range must be begin:end or begin:end:step");
	if (!*r->beg)
		r->beg = "0";
	if (!*r->end)
		return ini_fail(p, 0, "host range must specify end value");
	if (r->beg[0] == '0' && py_len(r->beg) > 1 &&
	    py_len(r->beg) != py_len(r->end))
		return ini_fail(
			p, 0,
			"host range must specify equal-length begin and end formats");
	return 0;
}

/* a * b, or UINT64_MAX when it does not fit. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return a && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

/* len(range(b, e + 1, s)) for s != 0, saturated; the difference is taken
 * in unsigned arithmetic, where it always fits. */
static uint64_t range_len(long long b, long long e, long long s)
{
	uint64_t span;

	if (s > 0) {
		if (b > e)
			return 0;
		span = (uint64_t)e - (uint64_t)b; /* e - b >= 0 */
		span /= (uint64_t)s;
		return span == UINT64_MAX ? span : span + 1;
	}
	if (e == LLONG_MAX || b <= e + 1)
		return 0;
	span = (uint64_t)b - (uint64_t)(e + 1) - 1; /* b - (e + 1) >= 1 */
	return span / (0 - (uint64_t)s) + 1;
}

/*
 * How many names the range yields, as expand_hostname_range() computes
 * them: letters found in string.ascii_letters (sliced with the step),
 * else integers through int() and range(). -1 where Python raises; *big
 * set for a number beyond 64 bits.
 */
static int range_count(struct parser *p, const struct range_parts *r,
		       uint64_t *count, bool *big)
{
	const char *lb, *le;
	long long ib, ie, is = 1;

	if (r->step && !py_int(r->step, &is, big))
		return ini_fail(p, 0,
				"invalid literal for int() with base 10: '%s'",
				r->step);
	lb = strstr(letters, r->beg);
	le = strstr(letters, r->end);
	if (lb && le && is != 0) {
		if (lb > le)
			return ini_fail(p, 0,
					"host range must have begin <= end");
		/* letters[lb:le + 1:is]: empty for a negative step */
		*count = is > 0 ? range_len(lb - letters, le - letters, is) : 0;
		return 0;
	}
	if (!py_int(r->beg, &ib, big) || !py_int(r->end, &ie, big))
		return ini_fail(p, 0,
				"invalid literal for int() with base 10: '%s'",
				py_int(r->beg, &ib, big) ? r->end : r->beg);
	if (is == 0)
		return ini_fail(p, 0, "range() arg 3 must not be zero");
	*count = range_len(ib, ie, is);
	return 0;
}

/*
 * Check pattern the way expand_hostname_range() expands it: the first '['
 * and the first ']' split it into head, range and tail; the range is
 * letters (found as a substring of string.ascii_letters) or integers, with
 * an optional step; every name of the range is followed by the tail,
 * expanded the same way, so the pattern yields the range's count times the
 * tail's. Nothing is expanded here, so a huge range costs nothing: it is
 * counted (*count, saturated at UINT64_MAX); numbers beyond 64 bits are
 * refused rather than compared.
 */
int ini_check_range(struct parser *p, const char *pattern, int depth,
		    uint64_t *count)
{
	const char *open = strchr(pattern, '['), *a = NULL, *b = NULL;
	struct range_parts r;
	char *range = NULL, *tail;
	uint64_t n = 0, rest = 1;
	bool big = false;
	int ret = -1;

	*count = 1;
	if (!open)
		return 0;
	if (depth > 64)
		return ini_fail(p, 0, "host pattern '%s' holds too many ranges",
				pattern);
	if (range_cut(p, pattern, open, &a, &b) < 0)
		return -1;
	range = xstrndup(a + 1, (size_t)(b - a) - 1);
	if (range_split(p, range, &r) < 0 || range_count(p, &r, &n, &big) < 0)
		goto out;
	if (big) {
		ini_fail(p, 0, "host range '%s' holds a number beyond 64 bits",
			 pattern);
		goto out;
	}
	tail = xstrdup(b + 1);
	ret = n ? ini_check_range(p, tail, depth + 1, &rest) : 0;
	free(tail);
	*count = mul_sat(n, rest);
out:
	free(range);
	return ret;
}
