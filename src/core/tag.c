/*
 * tag.c - the [ansible NAME] tag and playbook resolution; see tag.h.
 *
 * The match is written out rather than compiled as a regex so that it is
 * exactly POSIX's, whatever the locale: "[ansible", one or more of
 * [:space:] (space, \t, \n, \v, \f, \r), then one or more characters that
 * are not ']' (newlines included), then ']'.
 */
#include "core/tag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

static bool posix_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* The capture of the first match, or false. */
static bool first_match(const char *msg, size_t len, size_t *start, size_t *end)
{
	static const char open[] = "[ansible";
	size_t n = sizeof(open) - 1, i, j, k;

	for (i = 0; i + n <= len; i++) {
		if (memcmp(msg + i, open, n))
			continue;
		j = i + n;
		if (j >= len || !posix_space(msg[j]))
			continue;
		/* [[:space:]]+ then [^]]+: the capture starts after one
		 * space at least, and may itself begin with spaces */
		for (k = j + 1; k < len && msg[k] != ']'; k++)
			;
		if (k >= len)
			continue; /* no closing bracket */
		if (k == j + 1)
			continue; /* "[ansible ]": nothing to capture */
		*start = j + 1;
		/* greedy [[:space:]]+ leaves at least one char to the
		 * capture: skip further spaces only while one remains */
		while (*start + 1 < k && posix_space(msg[*start]))
			(*start)++;
		*end = k;
		return true;
	}
	return false;
}

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* The rules a playbook name keeps; -1 with why when name breaks one. */
static int check_name(const struct strbuf *name, struct strbuf *why)
{
	size_t i;

	if (!name->len) {
		strbuf_addstr(why, "the playbook name is empty");
		return -1;
	}
	if (name->len > 64) {
		strbuf_addf(why,
			    "the playbook name is %zu characters long "
			    "(at most 64)",
			    name->len);
		return -1;
	}
	if (!((name->buf[0] >= 'A' && name->buf[0] <= 'Z') ||
	      (name->buf[0] >= 'a' && name->buf[0] <= 'z') ||
	      (name->buf[0] >= '0' && name->buf[0] <= '9'))) {
		strbuf_addstr(why, "a playbook name starts with a letter or a "
				   "digit");
		return -1;
	}
	for (i = 0; i < name->len; i++)
		if (!name_char(name->buf[i])) {
			strbuf_addstr(why, "a playbook name holds only "
					   "letters, digits, '.', '_' and '-'");
			return -1;
		}
	if (strstr(name->buf, "..")) {
		strbuf_addstr(why, "a playbook name may not contain '..'");
		return -1;
	}
	return 0;
}

size_t tag_yml_suffix(const char *name)
{
	size_t n = strlen(name);

	if (n > 4 && !strcasecmp(name + n - 4, ".yml"))
		return 4;
	if (n > 5 && !strcasecmp(name + n - 5, ".yaml"))
		return 5;
	return 0;
}

enum tag_result tag_extract(const char *msg, size_t len, struct strbuf *name,
			    struct strbuf *why)
{
	size_t start, end, cut;

	strbuf_reset(name);
	strbuf_reset(why);
	if (!first_match(msg, len, &start, &end))
		return TAG_NONE;
	while (start < end && posix_space(msg[start]))
		start++;
	while (end > start && posix_space(msg[end - 1]))
		end--;
	strbuf_add(name, msg + start, end - start);
	if (check_name(name, why) < 0)
		return TAG_REFUSED;
	cut = tag_yml_suffix(name->buf);
	if (!cut)
		return TAG_FOUND;
	/* "[ansible k8s-ha.yml]" means the playbook k8s-ha: never a host
	 * pattern "k8s-ha.yml"; the rest is held to the same rules */
	strbuf_setlen(name, name->len - cut);
	if (check_name(name, why) < 0 || tag_yml_suffix(name->buf)) {
		if (!why->len)
			strbuf_addstr(why, "a playbook name is written "
					   "without its file suffix");
		strbuf_reset(name); /* a refused name comes back raw */
		strbuf_add(name, msg + start, end - start);
		return TAG_REFUSED;
	}
	strbuf_addf(why,
		    "'%.*s' is taken as '%s': a playbook name is written "
		    "without its file suffix",
		    (int)(end - start), msg + start, name->buf);
	return TAG_FOUND;
}

static bool has_file(const struct strvec *files, const char *name)
{
	size_t i;

	for (i = 0; i < files->nr; i++)
		if (!strcmp(files->v[i], name))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int playbook_resolve(struct playbook *out, const struct strvec *files,
		     const char *name, struct strbuf *why)
{
	struct strbuf file = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (tag_yml_suffix(name)) { /* never "k8s-ha.yml" as a host pattern */
		strbuf_addf(why,
			    "'%s': a playbook name is written without its "
			    "file suffix",
			    name);
		return -1;
	}
	strbuf_addf(&file, "%s.yml", name);
	if (has_file(files, file.buf)) {
		out->file = strbuf_detach(&file, NULL);
		return 0;
	}
	strbuf_release(&file);
	if (!strncmp(name, "k8s-", 4) && has_file(files, "k8s.yml")) {
		out->file = xstrdup("k8s.yml");
		out->target_hosts = xstrdup(name);
		return 0;
	}
	for (i = 0; i < files->nr; i++) {
		size_t n = strlen(files->v[i]);

		if (n > 4 && !strcmp(files->v[i] + n - 4, ".yml"))
			strvec_pushf(&names, "%.*s", (int)(n - 4), files->v[i]);
	}
	qsort(names.v, names.nr, sizeof(*names.v), cmp_str);
	strbuf_addf(why, "no playbook '%s.yml'%s; there are: ", name,
		    strncmp(name, "k8s-", 4) ? "" : " and no k8s.yml");
	for (i = 0; i < names.nr; i++)
		strbuf_addf(why, "%s%s", i ? ", " : "", names.v[i]);
	if (!names.nr)
		strbuf_addstr(why, "none");
	strvec_clear(&names);
	return -1;
}

void playbook_release(struct playbook *p)
{
	free(p->file);
	free(p->target_hosts);
	p->file = p->target_hosts = NULL;
}
