/*
 * parse.c - ini_parse(): the lines of an inventory (the separators Python
 * and C would read differently refused first), section headers, and each
 * line handed to the host, variable or child reader of its section.
 */
#include "core/ini/ini_int.h"

/* Ansible's [^:\]\s]+ group name at s; its length. */
static size_t group_span(const char *s)
{
	size_t i = 0, n = strlen(s);

	while (i < n && s[i] != ':' && s[i] != ']' && !py_space(s + i, n - i))
		i++;
	return i;
}

/* \s*(#.*)?$ at s. */
static bool rest_is_comment(const char *s)
{
	size_t n = strlen(s), k;

	while ((k = py_space(s, n))) {
		s += k;
		n -= k;
	}
	return !*s || *s == '#';
}

/*
 * A section header; 1 when line is one (group and type set), 0 when it is
 * not, -1 on an error Ansible raises.
 */
static int parse_header(struct parser *p, const char *line, char **group,
			enum ini_section_type *type)
{
	size_t g, t = 0;
	const char *tag = NULL;

	if (line[0] != '[')
		return 0;
	g = group_span(line + 1);
	if (g && line[1 + g] == ':') {
		tag = line + 2 + g;
		while (py_is_word((unsigned char)tag[t]))
			t++;
	}
	if (g && (tag ? t && tag[t] == ']' && rest_is_comment(tag + t + 1)
		      : line[1 + g] == ']' && rest_is_comment(line + 2 + g))) {
		if (!tag || (t == 5 && !strncmp(tag, "hosts", 5)))
			*type = INI_SEC_HOSTS;
		else if (t == 4 && !strncmp(tag, "vars", 4))
			*type = INI_SEC_VARS;
		else if (t == 8 && !strncmp(tag, "children", 8))
			*type = INI_SEC_CHILDREN;
		else
			return ini_fail(
				p, p->lineno,
				"Section [%.*s:%.*s] has unknown type: %.*s",
				(int)g, line + 1, (int)t, tag, (int)t, tag);
		*group = xstrndup(line + 1, g);
		return 1;
	}
	if (line[strlen(line) - 1] == ']')
		return ini_fail(
			p, p->lineno,
			"Invalid section entry: '%s'. Please make sure that "
			"there are no spaces in the section entry, and that "
			"there are no other invalid characters",
			line);
	return 0;
}

static struct ini_line *line_push(struct ini *ini, const char *raw, size_t len)
{
	struct ini_line *l;

	ALLOC_GROW(ini->lines, ini->nr_lines + 1, ini->alloc_lines);
	l = &ini->lines[ini->nr_lines++];
	memset(l, 0, sizeof(*l));
	l->raw = xstrndup(raw, len);
	l->len = len;
	l->section = ini->nr_sections ? (int)ini->nr_sections - 1 : -1;
	return l;
}

/*
 * Bytes Python's str.splitlines() breaks a line on besides "\n" and "\r\n"
 * (or that C strings cannot hold): refused so that both read the same lines.
 */
static const char *bad_separator(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = 0;

		if (c == '\0')
			return "a NUL byte";
		if (c == '\r' &&
		    !(i + 1 == len || (i + 2 == len && s[i + 1] == '\n')))
			return "a carriage return inside a line";
		if (c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e))
			return "a control character Ansible reads as a line break";
		if (c < 0x80 ||
		    !utf8_decode(&cp, (const unsigned char *)s + i, len - i))
			continue;
		if (cp == 0x85)
			return "U+0085, which Ansible reads as a line break";
		if (cp == 0x2028 || cp == 0x2029)
			return "U+2028/U+2029, which Ansible reads as a line break";
	}
	return NULL;
}

/* A key=value line in a :vars section; the key stripped, like the value. */
static int parse_var(struct parser *p, struct ini_line *l, const char *text)
{
	const char *eq = strchr(text, '=');
	char *value;
	int ret;

	if (!eq)
		return ini_fail(p, p->lineno, "Expected key=value, got: %s",
				text);
	l->name = py_strip(text, (size_t)(eq - text));
	value = py_strip(eq + 1, strlen(eq + 1));
	ret = ini_check_value(p, l->name, value);
	if (!ret && !strcmp(l->name, "ansible_group_priority"))
		ret = ini_check_priority(p, value);
	free(value);
	return ret;
}

static int parse_line(struct parser *p, struct ini_line *l, const char *text)
{
	struct ini *ini = p->ini;
	enum ini_section_type type = INI_SEC_HOSTS;
	char *group = NULL;
	int h;

	if (!*text) {
		l->kind = INI_BLANK;
		return 0;
	}
	if (text[0] == '#' || text[0] == ';') {
		l->kind = INI_COMMENT;
		return 0;
	}
	h = parse_header(p, text, &group, &type);
	if (h < 0)
		return -1;
	if (h) {
		ALLOC_GROW(ini->sections, ini->nr_sections + 1,
			   ini->alloc_sections);
		ini->sections[ini->nr_sections].group = group;
		ini->sections[ini->nr_sections].type = type;
		ini->sections[ini->nr_sections].line = ini->nr_lines - 1;
		l->section = (int)ini->nr_sections++;
		l->kind = INI_SECTION;
		return ini_section_seen(p, group, type == INI_SEC_VARS);
	}
	type = l->section < 0 ? INI_SEC_HOSTS : ini->sections[l->section].type;
	switch (type) {
	case INI_SEC_HOSTS:
		l->kind = INI_HOST;
		return ini_parse_host(p, text, &l->name);
	case INI_SEC_VARS:
		l->kind = INI_VAR;
		return parse_var(p, l, text);
	case INI_SEC_CHILDREN: {
		size_t g = group_span(text);

		l->kind = INI_CHILD;
		if (!g || !rest_is_comment(text + g))
			return ini_fail(p, p->lineno,
					"Expected group name, got: %s", text);
		l->name = xstrndup(text, g);
		return ini_child_seen(p, ini->sections[l->section].group,
				      l->name);
	}
	}
	return 0;
}

static void parser_release(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++) {
		free(p->pend.v[i].group);
		strvec_clear(&p->pend.v[i].parents);
	}
	free(p->pend.v);
	for (i = 0; i < p->nr_groups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].parents);
	}
	free(p->groups);
	free(p->all_parent);
}

int ini_parse(struct ini *out, const char *buf, size_t len, int *err_line,
	      struct strbuf *why)
{
	struct parser p = { .ini = out, .why = why };
	size_t pos = 0;
	int ret = -1;

	*err_line = 0;
	ini_group_add(&p, "all");
	ini_group_add(&p, "ungrouped");
	ini_add_child(&p, "all", "ungrouped");
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - buf - pos) + 1 : len - pos;
		const char *bad = bad_separator(buf + pos, n);
		struct ini_line *l = line_push(out, buf + pos, n);
		char *text;

		p.lineno++;
		if (p.lineno == 1 && n >= 2 && nl && nl[-1] == '\r')
			out->eol = "\r\n";
		if (bad) {
			ini_fail(&p, p.lineno, "the line holds %s", bad);
			goto out;
		}
		text = py_strip(buf + pos, n);
		if (!utf8_valid(buf + pos, n) && text[0] != '#' &&
		    text[0] != ';') {
			free(text);
			ini_fail(&p, p.lineno, "the line is not valid UTF-8");
			goto out;
		}
		if (parse_line(&p, l, text) < 0) {
			free(text);
			goto out;
		}
		free(text);
		pos += n;
	}
	ret = ini_pending_check(&p);
out:
	if (ret)
		*err_line = p.lineno;
	parser_release(&p);
	return ret;
}

void ini_release(struct ini *ini)
{
	size_t i;

	for (i = 0; i < ini->nr_lines; i++) {
		free(ini->lines[i].raw);
		free(ini->lines[i].name);
	}
	free(ini->lines);
	for (i = 0; i < ini->nr_sections; i++)
		free(ini->sections[i].group);
	free(ini->sections);
	ini->lines = NULL;
	ini->sections = NULL;
	ini->nr_lines = ini->alloc_lines = 0;
	ini->nr_sections = ini->alloc_sections = 0;
}
