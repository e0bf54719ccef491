/*
 * semver.c - release types, the options check, semantic versions
 * (node-semver's strict parse, precedence, bump) and the tag names that
 * carry them (tagFormat, the last release among the tags).
 */
#include "core/release/release_int.h"

#define MAX_VERSION_LEN 256
#define MAX_SAFE_INT	9007199254740991ULL

const char *release_type_name(enum release_type t)
{
	switch (t) {
	case RELEASE_PATCH:
		return "patch";
	case RELEASE_MINOR:
		return "minor";
	case RELEASE_MAJOR:
		return "major";
	case RELEASE_NONE:
		break;
	}
	return NULL;
}

int release_type_parse(enum release_type *out, const char *s)
{
	enum release_type t;

	for (t = RELEASE_PATCH; t <= RELEASE_MAJOR; t++)
		if (!strcmp(s, release_type_name(t))) {
			*out = t;
			return 0;
		}
	return -1;
}

static int check_tag_format(const char *f, struct err *e)
{
	const char *v = strstr(f, "${version}");
	size_t i;

	if (!v || strstr(v + 1, "${version}"))
		return err_set(e, EXIT_INVALID,
			       "tag format '%s' must contain '${version}' "
			       "exactly once",
			       f);
	if (strlen(f) > 100)
		return err_set(e, EXIT_INVALID,
			       "tag format is longer than 100 characters");
	if (f[0] == '-' || f[0] == '/' || f[0] == '.')
		return err_set(e, EXIT_INVALID,
			       "tag format '%s' may not start with '%c'", f,
			       f[0]);
	for (i = 0; f[i]; i++) {
		unsigned char c = (unsigned char)f[i];

		if ((f + i < v || f + i >= v + 10) &&
		    (c <= ' ' || c == 0x7f || strchr("~^:?*[\\${}<>", c)))
			return err_set(e, EXIT_INVALID,
				       "tag format '%s': '%c' is not allowed "
				       "(a git tag name around '${version}')",
				       f, c >= ' ' && c < 0x7f ? c : '?');
	}
	if (strstr(f, "..") || strstr(f, "@{") || strstr(f, "//") ||
	    strstr(f, "/.") || strstr(f, ".lock/") ||
	    (i >= 5 && !strcmp(f + i - 5, ".lock")) || f[i - 1] == '/' ||
	    f[i - 1] == '.')
		return err_set(e, EXIT_INVALID,
			       "tag format '%s' does not give a valid git tag "
			       "name",
			       f);
	return 0;
}

int release_opts_check(const struct release_opts *o, struct err *e)
{
	size_t i, j;

	if (check_tag_format(o->tag_format, e) < 0)
		return -1;
	if (o->nr_rules > RELEASE_MAX_RULES)
		return err_set(e, EXIT_INVALID,
			       "%zu release types given (at most %d)",
			       o->nr_rules, RELEASE_MAX_RULES);
	for (i = 0; i < o->nr_rules; i++) {
		const char *t = o->rules[i].type;

		for (j = 0; t[j]; j++)
			if (!js_is_word((unsigned char)t[j]))
				break;
		if (!j || t[j] || j > 32)
			return err_set(e, EXIT_INVALID,
				       "release type '%s': a commit type is 1 "
				       "to 32 letters, digits or '_'",
				       t);
		if (!release_type_name(o->rules[i].release))
			return err_set(e, EXIT_INVALID,
				       "release type '%s': the release must be "
				       "patch, minor or major",
				       t);
	}
	return 0;
}

/* ---- versions and tags ---- */

/* 0|[1-9]\d* at s[*i..n), at most 2^53-1. */
static int semver_number(uint64_t *out, const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	uint64_t v = 0;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (v > (MAX_SAFE_INT - 9) / 10 + 1)
			return -1;
		v = v * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	if (*i == start || (s[start] == '0' && *i - start > 1) ||
	    v > MAX_SAFE_INT)
		return -1;
	*out = v;
	return 0;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when numeric_rule. */
static int semver_idents(const char *s, size_t n, size_t *i, int numeric_rule)
{
	for (;;) {
		size_t start = *i;
		int digits = 1;

		while (*i < n &&
		       (js_is_word((unsigned char)s[*i]) || s[*i] == '-') &&
		       s[*i] != '_') {
			if (s[*i] < '0' || s[*i] > '9')
				digits = 0;
			(*i)++;
		}
		if (*i == start || (numeric_rule && digits && s[start] == '0' &&
				    *i - start > 1))
			return -1;
		if (*i >= n || s[*i] != '.')
			return 0;
		(*i)++;
	}
}

int semver_parse(struct semver *out, const char *s, size_t len)
{
	struct semver v = { 0 };
	size_t i = 0;

	if (len > MAX_VERSION_LEN)
		return -1;
	if (i < len && s[i] == 'v')
		i++;
	if (semver_number(&v.major, s, len, &i) < 0 || i >= len ||
	    s[i++] != '.' || semver_number(&v.minor, s, len, &i) < 0 ||
	    i >= len || s[i++] != '.' ||
	    semver_number(&v.patch, s, len, &i) < 0)
		return -1;
	if (i < len && s[i] == '-') {
		i++;
		v.prerelease = true;
		if (semver_idents(s, len, &i, 1) < 0)
			return -1;
	}
	if (i < len && s[i] == '+') {
		i++;
		if (semver_idents(s, len, &i, 0) < 0)
			return -1;
	}
	if (i != len)
		return -1;
	*out = v;
	return 0;
}

int semver_cmp(const struct semver *a, const struct semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return (int)b->prerelease - (int)a->prerelease;
}

int semver_bump(struct strbuf *out, const struct semver *v, enum release_type t,
		struct err *e)
{
	struct semver n = *v;
	uint64_t *part = t == RELEASE_MAJOR   ? &n.major
			 : t == RELEASE_MINOR ? &n.minor
			 : t == RELEASE_PATCH ? &n.patch
					      : NULL;

	if (part) {
		if (*part >= MAX_SAFE_INT)
			return err_set(e, EXIT_INVALID,
				       "cannot bump version %llu.%llu.%llu: "
				       "the number would exceed 2^53-1",
				       (unsigned long long)v->major,
				       (unsigned long long)v->minor,
				       (unsigned long long)v->patch);
		(*part)++;
		if (t == RELEASE_MAJOR)
			n.minor = 0;
		if (t != RELEASE_PATCH)
			n.patch = 0;
	}
	strbuf_addf(out, "%llu.%llu.%llu", (unsigned long long)n.major,
		    (unsigned long long)n.minor, (unsigned long long)n.patch);
	return 0;
}

/*
 * get-tags.js: the tag must match ^PREFIX(.+)SUFFIX (no $: the greedy
 * (.+) ends at the last SUFFIX), and semver.clean() of the capture be
 * valid. A capture with more than one leading 'v' or an '=' passes clean()
 * but makes semantic-release throw later; those are not releases here.
 */
int release_tag_match(struct semver *out, const char *format, const char *tag)
{
	const char *v = strstr(format, "${version}");
	size_t plen, slen, tlen = strlen(tag), end;
	const char *suffix;

	if (!v)
		return 0;
	plen = (size_t)(v - format);
	suffix = v + 10;
	slen = strlen(suffix);
	if (tlen < plen + 1 + slen || strncmp(tag, format, plen))
		return 0;
	for (end = tlen - slen;; end--) {
		if (!strncmp(tag + end, suffix, slen))
			break;
		if (end == plen + 1)
			return 0;
	}
	return semver_parse(out, tag + plen, end - plen) == 0;
}

void release_tag_name(struct strbuf *out, const char *format,
		      const char *version)
{
	const char *v = strstr(format, "${version}");

	if (!v) {
		strbuf_addstr(out, format);
		return;
	}
	strbuf_add(out, format, (size_t)(v - format));
	strbuf_addstr(out, version);
	strbuf_addstr(out, v + 10);
}

long release_last_tag(const char *const *tags, size_t nr, const char *format,
		      struct semver *out)
{
	struct semver best = { 0 }, v;
	long found = -1;
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!release_tag_match(&v, format, tags[i]) || v.prerelease)
			continue;
		if (found < 0 || semver_cmp(&v, &best) > 0) {
			best = v;
			found = (long)i;
		}
	}
	if (found >= 0)
		*out = best;
	return found;
}
