/*
 * inventory.c - rewriting the managed parts of an INI inventory; see
 * inventory.h.
 *
 * The rewrite works in passes over the lines, each linear in the file with
 * hash lookups by name: find (or add) the "# Individual hosts" block, bring
 * its host lines up to date, drop removed hosts and wrong memberships
 * wherever they are, add missing members, then drop managed groups left
 * empty. Each pass finds its positions afresh, so inserting lines never
 * leaves a stale index behind.
 */
#include "core/inventory.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

/* ---- rules -------------------------------------------------------------- */

int inv_rules_compile(struct inv_rules *out, const struct config *cfg,
		      struct strbuf *why)
{
	size_t i;

	out->re =
		xcalloc(cfg->nr_groups ? cfg->nr_groups : 1, sizeof(*out->re));
	out->group = xcalloc(cfg->nr_groups ? cfg->nr_groups : 1,
			     sizeof(*out->group));
	out->nr = 0;
	for (i = 0; i < cfg->nr_groups; i++) {
		int rc = regcomp(&out->re[i], cfg->groups[i].pattern,
				 REG_EXTENDED | REG_NOSUB);

		if (rc) {
			char msg[128];

			regerror(rc, &out->re[i], msg, sizeof(msg));
			strbuf_addf(why, "inventory_groups: '%s': %s",
				    cfg->groups[i].pattern, msg);
			return -1;
		}
		out->group[i] = cfg->groups[i].group;
		out->nr++;
	}
	return 0;
}

const char *inv_rules_match(const struct inv_rules *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (!regexec(&r->re[i], name, 0, NULL, 0))
			return r->group[i];
	return NULL;
}

void inv_rules_release(struct inv_rules *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		regfree(&r->re[i]);
	free(r->re);
	free(r->group);
	r->re = NULL;
	r->group = NULL;
	r->nr = 0;
}

/* ---- the want list ------------------------------------------------------- */

static void add_group(struct inv_want *w, const char *g)
{
	if (strmap_has(&w->group_index, g))
		return;
	strmap_put(&w->group_index, g, w->groups.nr);
	strvec_push(&w->groups, g);
}

void inv_want_init(struct inv_want *w, const struct inv_rules *rules)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	strvec_init(&w->groups);
	for (i = 0; i < rules->nr; i++)
		add_group(w, rules->group[i]);
}

void inv_want_add(struct inv_want *w, const struct inv_rules *rules,
		  const char *name, const char *ip, const char *user,
		  unsigned port, const struct strvec *extra)
{
	struct inv_host *h;
	const char *g = inv_rules_match(rules, name);
	size_t i;

	ALLOC_GROW(w->hosts, w->nr + 1, w->alloc);
	h = &w->hosts[w->nr];
	h->name = xstrdup(name);
	h->ip = ip ? xstrdup(ip) : NULL;
	h->user = xstrdup(user);
	h->port = port;
	strvec_init(&h->groups);
	if (g)
		strvec_push(&h->groups, g);
	for (i = 0; extra && i < extra->nr; i++) {
		add_group(w, extra->v[i]);
		if (!g || strcmp(g, extra->v[i]))
			strvec_push(&h->groups, extra->v[i]);
	}
	strmap_put(&w->by_name, name, w->nr++);
}

void inv_want_keep(struct inv_want *w, const char *name)
{
	strmap_put(&w->keep, name, 0);
}

void inv_want_release(struct inv_want *w)
{
	size_t i;

	for (i = 0; i < w->nr; i++) {
		free(w->hosts[i].name);
		free(w->hosts[i].ip);
		free(w->hosts[i].user);
		strvec_clear(&w->hosts[i].groups);
	}
	free(w->hosts);
	strmap_release(&w->by_name);
	strvec_clear(&w->groups);
	strmap_release(&w->group_index);
	strmap_release(&w->keep);
	memset(w, 0, sizeof(*w));
}

void inv_change_init(struct inv_change *c)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->added);
	strvec_init(&c->updated);
	strvec_init(&c->removed);
	strvec_init(&c->unknown_ip);
	strvec_init(&c->unknown_kept);
	strvec_init(&c->groups_added);
	strvec_init(&c->groups_removed);
	strvec_init(&c->new_hosts);
}

void inv_change_release(struct inv_change *c)
{
	strvec_clear(&c->added);
	strvec_clear(&c->updated);
	strvec_clear(&c->removed);
	strvec_clear(&c->unknown_ip);
	strvec_clear(&c->unknown_kept);
	strvec_clear(&c->groups_added);
	strvec_clear(&c->groups_removed);
	strvec_clear(&c->new_hosts);
}

void inventory_host_line(struct strbuf *out, const struct inv_host *h)
{
	strbuf_addf(out, "%s ansible_host=%s ansible_user=%s", h->name,
		    h->ip ? h->ip : "", h->user);
	if (h->port != 22)
		strbuf_addf(out, " ansible_port=%u", h->port);
}

/* ---- the block under the marker ------------------------------------------ */

/* "# Individual hosts": '#', blanks, the words (any case), blanks. */
static bool is_marker(const struct ini_line *l)
{
	static const char words[] = "Individual hosts";
	const char *s = l->raw;

	if (l->kind != INI_COMMENT)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	if (*s++ != '#')
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, words, sizeof(words) - 1))
		return false;
	for (s += sizeof(words) - 1; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* The first line of the section after line i (or the end). */
static size_t next_header(const struct ini *ini, size_t i)
{
	for (i++; i < ini->nr_lines; i++)
		if (ini->lines[i].kind == INI_SECTION)
			return i;
	return ini->nr_lines;
}

static size_t find_marker(const struct ini *ini)
{
	size_t i;

	for (i = 0; i < ini->nr_lines; i++)
		if (is_marker(&ini->lines[i]))
			return i;
	return ini->nr_lines;
}

/* Insert the marker before the first section (and the comments right above
 * it), or at the end of a file without sections. Returns its index. */
static size_t add_marker(struct ini *ini)
{
	size_t at = next_header(ini, (size_t)-1), i;

	if (at < ini->nr_lines) {
		while (at && ini->lines[at - 1].kind == INI_COMMENT)
			at--;
		i = ini_insert(ini, at, INI_COMMENT, -1, INVENTORY_MARKER,
			       NULL);
		ini_insert(ini, at + 1, INI_BLANK, -1, "", NULL);
		return i;
	}
	if (ini->nr_lines && ini->lines[ini->nr_lines - 1].kind != INI_BLANK)
		ini_insert(ini, ini->nr_lines, INI_BLANK,
			   ini->lines[ini->nr_lines - 1].section, "", NULL);
	return ini_insert(ini, ini->nr_lines, INI_COMMENT,
			  ini->nr_lines ? ini->lines[ini->nr_lines - 1].section
					: -1,
			  INVENTORY_MARKER, NULL);
}

/* The raw text of a line without its line ending. */
static bool same_text(const struct ini_line *l, const char *text)
{
	size_t n = l->len, tl = strlen(text);

	while (n && (l->raw[n - 1] == '\n' || l->raw[n - 1] == '\r'))
		n--;
	return n == tl && !memcmp(l->raw, text, n);
}

/*
 * The inline comment of host line l ("  # rack 4") after the new text in
 * line: the blanks before it kept (one space when there were none, which
 * Ansible does not need but a reader does), its line ending left out.
 */
static void add_comment(struct strbuf *line, const struct ini_line *l)
{
	size_t at = ini_host_comment(l), from, n = l->len;

	if (!at)
		return;
	for (from = at;
	     from && (l->raw[from - 1] == ' ' || l->raw[from - 1] == '\t');)
		from--;
	while (n > at && (l->raw[n - 1] == '\n' || l->raw[n - 1] == '\r'))
		n--;
	if (from == at)
		strbuf_addch(line, ' ');
	strbuf_add(line, l->raw + from, n - from);
}

/*
 * Bring the block after the marker up to date: rewrite or drop its host
 * lines, append new ones. Fills old (names under the marker before) and
 * removed.
 */
static void rewrite_block(struct ini *ini, size_t marker,
			  const struct inv_want *w, struct inv_change *out,
			  struct strmap *old, struct strmap *removed)
{
	size_t end = next_header(ini, marker), i, last = marker, idx;
	struct strbuf line = STRBUF_INIT;
	struct strvec texts;
	int section = ini->lines[marker].section;

	strvec_init(&texts);

	for (i = marker + 1; i < end; i++) {
		struct ini_line *l = &ini->lines[i];

		if (l->kind != INI_HOST || !l->name)
			continue;
		last = i;
		if (strmap_has(old, l->name)) {
			l->deleted = true; /* a second line for one host */
			continue;
		}
		strmap_put(old, l->name, i);
		if (!strmap_get(&w->by_name, l->name, &idx)) {
			if (strmap_has(&w->keep, l->name))
				continue;
			l->deleted = true;
			strmap_put(removed, l->name, 0);
			strvec_push(&out->removed, l->name);
			continue;
		}
		if (!w->hosts[idx].ip)
			continue; /* address unknown: keep what was known */
		strbuf_setlen(&line, 0);
		inventory_host_line(&line, &w->hosts[idx]);
		add_comment(&line, l);
		if (!same_text(l, line.buf)) {
			ini_replace(ini, i, line.buf);
			strvec_push(&out->updated, l->name);
		}
	}
	for (i = 0; i < w->nr; i++) {
		const struct inv_host *h = &w->hosts[i];

		if (!h->ip) {
			strvec_push(strmap_has(old, h->name)
					    ? &out->unknown_kept
					    : &out->unknown_ip,
				    h->name);
			continue;
		}
		if (strmap_has(old, h->name))
			continue;
		strbuf_setlen(&line, 0);
		inventory_host_line(&line, h);
		strvec_push(&texts, line.buf);
		strvec_push(&out->added, h->name);
		strvec_pushf(&out->new_hosts, "%s,%s", h->ip, h->name);
	}
	ini_insert_lines(ini, last + 1, INI_HOST, section, &texts, &out->added);
	strvec_clear(&texts);
	strbuf_release(&line);
}

/* ---- groups ---------------------------------------------------------------
 */

/* The wanted host name if it is in the inventory after this run. */
static bool host_listed(const struct inv_want *w, const struct strmap *old,
			size_t idx)
{
	return w->hosts[idx].ip || strmap_has(old, w->hosts[idx].name);
}

static bool in_groups(const struct inv_host *h, const char *g)
{
	size_t i;

	for (i = 0; i < h->groups.nr; i++)
		if (!strcmp(h->groups.v[i], g))
			return true;
	return false;
}

/*
 * Drop removed hosts from every group and wanted hosts from managed groups
 * they no longer belong to; note who is where (present: "group\nname").
 */
static void prune_members(struct ini *ini, size_t b_start, size_t b_end,
			  const struct inv_want *w,
			  const struct strmap *removed, struct strmap *present)
{
	struct strbuf key = STRBUF_INIT;
	size_t i, idx;

	for (i = 0; i < ini->nr_lines; i++) {
		struct ini_line *l = &ini->lines[i];
		const char *g;

		if (l->deleted || l->kind != INI_HOST || !l->name ||
		    (i > b_start && i < b_end))
			continue;
		if (strmap_has(removed, l->name)) {
			l->deleted = true;
			continue;
		}
		if (l->section < 0)
			continue;
		g = ini->sections[l->section].group;
		if (!strmap_has(&w->group_index, g) ||
		    !strmap_get(&w->by_name, l->name, &idx))
			continue;
		if (!in_groups(&w->hosts[idx], g)) {
			l->deleted = true;
			continue;
		}
		strbuf_setlen(&key, 0);
		strbuf_addf(&key, "%s\n%s", g, l->name);
		strmap_put(present, key.buf, 0);
	}
	strbuf_release(&key);
}

/* The last hosts section of g, or -1. */
static int last_hosts_section(const struct ini *ini, const char *g)
{
	int s;

	for (s = (int)ini->nr_sections - 1; s >= 0; s--)
		if (ini->sections[s].type == INI_SEC_HOSTS &&
		    !ini->lines[ini->sections[s].line].deleted &&
		    !strcmp(ini->sections[s].group, g))
			return s;
	return -1;
}

/* The last member line of section s, or its header. */
static size_t last_member(const struct ini *ini, int s)
{
	size_t at = ini->sections[s].line, end = next_header(ini, at), j;

	for (j = at + 1; j < end; j++)
		if (ini->lines[j].kind == INI_HOST && !ini->lines[j].deleted)
			at = j;
	return at;
}

/* A new [g] at the end of the file, after a blank line. */
static int new_section(struct ini *ini, const char *g)
{
	size_t n = ini->nr_lines;

	while (n && ini->lines[n - 1].deleted)
		n--;
	if (n && ini->lines[n - 1].kind != INI_BLANK)
		ini_insert(ini, ini->nr_lines, INI_BLANK,
			   ini->lines[n - 1].section, "", NULL);
	return ini_add_section(ini, g, INI_SEC_HOSTS);
}

static void add_members(struct ini *ini, const struct inv_want *w,
			const struct strmap *old, const struct strmap *present,
			struct inv_change *out)
{
	struct strbuf key = STRBUF_INIT;
	struct strvec missing;
	size_t gi, i;
	int s;

	strvec_init(&missing);
	for (gi = 0; gi < w->groups.nr; gi++) {
		const char *g = w->groups.v[gi];

		strvec_clear(&missing);
		for (i = 0; i < w->nr; i++) {
			const struct inv_host *h = &w->hosts[i];

			if (!host_listed(w, old, i) || !in_groups(h, g))
				continue;
			strbuf_setlen(&key, 0);
			strbuf_addf(&key, "%s\n%s", g, h->name);
			if (!strmap_has(present, key.buf))
				strvec_push(&missing, h->name);
		}
		if (!missing.nr)
			continue;
		s = last_hosts_section(ini, g);
		if (s < 0) {
			s = new_section(ini, g);
			strvec_push(&out->groups_added, g);
		}
		ini_insert_lines(ini, last_member(ini, s) + 1, INI_HOST, s,
				 &missing, &missing);
	}
	strvec_clear(&missing);
	strbuf_release(&key);
}

/* 1 when a :vars or :children section, or a :children line, names g. */
static bool group_referenced(const struct ini *ini, const char *g)
{
	size_t i;

	for (i = 0; i < ini->nr_sections; i++)
		if (ini->sections[i].type != INI_SEC_HOSTS &&
		    !ini->lines[ini->sections[i].line].deleted &&
		    !strcmp(ini->sections[i].group, g))
			return true;
	for (i = 0; i < ini->nr_lines; i++)
		if (ini->lines[i].kind == INI_CHILD && !ini->lines[i].deleted &&
		    !strcmp(ini->lines[i].name, g))
			return true;
	return false;
}

/* Delete section s; at the end of the file, the blank lines above it too. */
static void delete_section(struct ini *ini, int s)
{
	size_t at = ini->sections[s].line, end = next_header(ini, at), j;

	for (j = at; j < end; j++)
		ini->lines[j].deleted = true;
	if (end < ini->nr_lines)
		return;
	while (at && (ini->lines[at - 1].deleted ||
		      ini->lines[at - 1].kind == INI_BLANK))
		ini->lines[--at].deleted = true;
}

/* Managed groups without members disappear, unless referred to. */
static void drop_empty_groups(struct ini *ini, const struct inv_want *w,
			      size_t marker, struct inv_change *out)
{
	size_t gi, i, members, end;
	int s;

	for (gi = 0; gi < w->groups.nr; gi++) {
		const char *g = w->groups.v[gi];
		bool seen = false;

		members = 0;
		for (s = 0; s < (int)ini->nr_sections; s++) {
			size_t h = ini->sections[s].line;

			if (ini->sections[s].type != INI_SEC_HOSTS ||
			    ini->lines[h].deleted ||
			    strcmp(ini->sections[s].group, g))
				continue;
			seen = true;
			end = next_header(ini, h);
			for (i = h + 1; i < end; i++)
				if ((ini->lines[i].kind == INI_HOST &&
				     !ini->lines[i].deleted) ||
				    i == marker)
					members++;
		}
		if (!seen || members || group_referenced(ini, g))
			continue;
		for (s = (int)ini->nr_sections - 1; s >= 0; s--)
			if (ini->sections[s].type == INI_SEC_HOSTS &&
			    !ini->lines[ini->sections[s].line].deleted &&
			    !strcmp(ini->sections[s].group, g))
				delete_section(ini, s);
		strvec_push(&out->groups_removed, g);
	}
}

int inventory_rewrite(struct ini *ini, const struct inv_want *w,
		      struct inv_change *out, size_t *err_line,
		      struct strbuf *why)
{
	struct strmap old = STRMAP_INIT, removed = STRMAP_INIT;
	struct strmap present = STRMAP_INIT;
	size_t marker = find_marker(ini);
	int s;

	if (marker < ini->nr_lines) {
		s = ini->lines[marker].section;
		if (s >= 0 && ini->sections[s].type != INI_SEC_HOSTS) {
			*err_line = marker + 1;
			strbuf_addf(why,
				    "'" INVENTORY_MARKER "' is in "
				    "[%s:%s], where host lines would be read "
				    "as %s; move it above the first section",
				    ini->sections[s].group,
				    ini->sections[s].type == INI_SEC_VARS
					    ? "vars"
					    : "children",
				    ini->sections[s].type == INI_SEC_VARS
					    ? "variables"
					    : "group names");
			return -1;
		}
	} else {
		marker = add_marker(ini);
	}
	rewrite_block(ini, marker, w, out, &old, &removed);
	prune_members(ini, marker, next_header(ini, marker), w, &removed,
		      &present);
	add_members(ini, w, &old, &present, out);
	drop_empty_groups(ini, w, find_marker(ini), out);
	strmap_release(&old);
	strmap_release(&removed);
	strmap_release(&present);
	return 0;
}

static bool contains(const char *text, size_t len, const char *word)
{
	size_t n = strlen(word), i;

	for (i = 0; i + n <= len; i++)
		if (text[i] == word[0] && !memcmp(text + i, word, n))
			return true;
	return false;
}

bool inventory_vars_may_set_address(const char *text, size_t len)
{
	static const char *const words[] = { "ansible_host", "ansible_ssh_host",
					     "\\", "$ANSIBLE_VAULT" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (contains(text, len, words[i]))
			return true;
	return false;
}
