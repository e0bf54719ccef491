/*
 * hostline.c - host lines as shlex.split(line, comments=True) splits
 * them: the host pattern, then key=value variables.
 */
#include "core/ini/ini_int.h"

struct tokens {
	char **v;
	size_t nr, alloc;
};

static void tokens_clear(struct tokens *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->nr = t->alloc = 0;
}

static void token_end(struct tokens *t, struct strbuf *tok)
{
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr++] = xstrndup(tok->buf, tok->len);
	strbuf_setlen(tok, 0);
}

/*
 * POSIX-mode shlex with whitespace_split and '#' comments, on one stripped
 * line: quotes ' and ", backslash escapes outside single quotes (inside
 * double quotes only before '"' and '\'), '#' ends the line even inside a
 * word. Returns NULL, or the error ValueError would carry.
 */
static const char *shlex_split(struct tokens *out, const char *s)
{
	struct strbuf tok = STRBUF_INIT;
	char quote = 0;
	bool in_tok = false;
	const char *err = NULL;

	for (; *s; s++) {
		char c = *s;

		if (quote) {
			if (c == quote) {
				quote = 0;
			} else if (quote == '"' && c == '\\') {
				if (!s[1]) {
					err = "No escaped character";
					break;
				}
				if (s[1] != '"' && s[1] != '\\')
					strbuf_addch(&tok, '\\');
				strbuf_addch(&tok, *++s);
			} else {
				strbuf_addch(&tok, c);
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (in_tok)
				token_end(out, &tok);
			in_tok = false;
		} else if (c == '#') {
			break;
		} else if (c == '\'' || c == '"') {
			quote = c;
			in_tok = true;
		} else if (c == '\\') {
			if (!s[1]) {
				err = "No escaped character";
				break;
			}
			strbuf_addch(&tok, *++s);
			in_tok = true;
		} else {
			strbuf_addch(&tok, c);
			in_tok = true;
		}
	}
	if (!err && quote)
		err = "No closing quotation";
	if (!err && in_tok)
		token_end(out, &tok);
	strbuf_release(&tok);
	return err;
}

static bool valid_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * The pattern's ranges checked and counted: Ansible expands every range
 * into a list of names before it reads a single one (2.9 GB for
 * vm[0:99999999]), so a file whose host lines yield more than
 * INI_MAX_HOSTS names is refused here, before Ansible sees it.
 */
static int count_hosts(struct parser *p, const char *pat, const char *host)
{
	uint64_t n;

	if (ini_check_range(p, host, 0, &n) < 0)
		return -1;
	p->hosts = n > UINT64_MAX - p->hosts ? UINT64_MAX : p->hosts + n;
	if (p->hosts > INI_MAX_HOSTS)
		return ini_fail(
			p, 0,
			"host pattern '%s' takes the file past %u hosts "
			"(pve-gitops' limit for one inventory file; "
			"Ansible would expand every range in memory)",
			pat, (unsigned)INI_MAX_HOSTS);
	return 0;
}

/*
 * The host pattern checks of _expand_hostpattern(): ranges, a trailing ':'
 * without a port, "---". Sets *host to the pattern without its port.
 */
static int check_pattern(struct parser *p, const char *pat, char **host)
{
	size_t start, len = strlen(pat), n = ini_split_port(pat, len, &start);
	char *stripped = py_strip(pat, len);
	int ret = -1;

	*host = xstrndup(pat + start, n);
	if (start && !valid_ascii(*host)) {
		ini_fail(
			p, 0,
			"host pattern '%s': a bracketed host with a port must be "
			"ASCII",
			pat);
		goto out;
	}
	if (count_hosts(p, pat, *host) < 0)
		goto out;
	if (n == len && *stripped && stripped[strlen(stripped) - 1] == ':') {
		ini_fail(
			p, 0,
			"Invalid host pattern '%s' supplied, ending in ':' is not "
			"allowed, this character is reserved to provide a port.",
			pat);
		goto out;
	}
	free(stripped);
	stripped = py_strip(*host, strlen(*host));
	if (!strchr(*host, '[') && !strcmp(stripped, "---")) {
		ini_fail(
			p, 0,
			"Invalid host pattern '%s' supplied, '---' is normally a "
			"sign this is a YAML file.",
			pat);
		goto out;
	}
	ret = 0;
out:
	free(stripped);
	return ret;
}

/*
 * The key=value tokens after the host, in order. A host named like a
 * declared group sets that group's variables (InventoryData.set_variable()
 * looks for a group first), ansible_group_priority included.
 */
static int check_host_vars(struct parser *p, const struct tokens *t,
			   const char *host)
{
	bool group = !strchr(host, '[') && ini_group_known(p, host);
	size_t i;

	for (i = 1; i < t->nr; i++) {
		const char *eq = strchr(t->v[i], '=');
		char *k;
		int r;

		if (!eq)
			return ini_fail(p, p->lineno,
					"Expected key=value host variable "
					"assignment, got: %s",
					t->v[i]);
		k = xstrndup(t->v[i], (size_t)(eq - t->v[i]));
		r = ini_check_value(p, k, eq + 1);
		free(k);
		if (r < 0)
			return -1;
	}
	if (!*host)
		return ini_fail(p, 0, "Invalid empty host name provided: ");
	for (i = 1; group && i < t->nr; i++)
		if (!strncmp(t->v[i], "ansible_group_priority=", 23) &&
		    ini_check_priority(p, t->v[i] + 23) < 0)
			return -1;
	return 0;
}

/* The host line (stripped) in line; sets *name (NULL for a range). */
int ini_parse_host(struct parser *p, const char *line, char **name)
{
	struct tokens t = { NULL, 0, 0 };
	const char *err = shlex_split(&t, line);
	char *host = NULL;
	int ret = -1;

	*name = NULL;
	if (err) {
		ini_fail(p, p->lineno, "Error parsing host definition '%s': %s",
			 line, err);
		goto out;
	}
	if (!t.nr) { /* cannot happen for a non-comment line; be safe */
		ini_fail(p, p->lineno, "Expected a host, got: %s", line);
		goto out;
	}
	if (check_pattern(p, t.v[0], &host) < 0 ||
	    check_host_vars(p, &t, host) < 0)
		goto out;
	if (!strchr(host, '[')) {
		*name = host;
		host = NULL;
	}
	ret = 0;
out:
	free(host);
	tokens_clear(&t);
	return ret;
}

/*
 * The '#' that ends a host line's tokens, found by the rules shlex_split()
 * reads them with: outside quotes and not escaped, even inside a word.
 */
size_t ini_host_comment(const struct ini_line *l)
{
	char quote = 0;
	size_t i;

	if (l->kind != INI_HOST)
		return 0;
	for (i = 0; i < l->len; i++) {
		char c = l->raw[i];

		if (quote) {
			if (c == quote)
				quote = 0;
			else if (quote == '"' && c == '\\' && i + 1 < l->len)
				i++;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '\\') {
			i++;
		} else if (c == '#') {
			return i;
		}
	}
	return 0;
}
