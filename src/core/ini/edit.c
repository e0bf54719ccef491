/*
 * edit.c - editing an inventory line by line (insert, replace, new
 * sections) and rendering it back, every unedited line byte for byte.
 */
#include "core/ini/ini_int.h"

static bool has_eol(const struct ini_line *l)
{
	return l->len && l->raw[l->len - 1] == '\n';
}

/* Give the last line that is not deleted before at a line ending. */
static void end_previous(struct ini *ini, size_t at)
{
	while (at--) {
		struct ini_line *l = &ini->lines[at];
		const char *eol = ini->eol;
		size_t e;

		if (l->deleted)
			continue;
		if (!has_eol(l)) {
			/* "x\r" at the end of the file: a CR alone is no line
			 * ending, but CR + LF is one */
			if (l->len && l->raw[l->len - 1] == '\r')
				eol = "\n";
			e = strlen(eol);
			l->raw = xrealloc(l->raw, l->len + e + 1);
			memcpy(l->raw + l->len, eol, e + 1);
			l->len += e;
		}
		return;
	}
}

size_t ini_insert_lines(struct ini *ini, size_t at, enum ini_kind kind,
			int section, const struct strvec *texts,
			const struct strvec *names)
{
	size_t n = texts->nr, e = strlen(ini->eol), i;

	if (!n)
		return at;
	end_previous(ini, at);
	ALLOC_GROW(ini->lines, st_add(ini->nr_lines, n), ini->alloc_lines);
	memmove(ini->lines + at + n, ini->lines + at,
		(ini->nr_lines - at) * sizeof(*ini->lines));
	ini->nr_lines += n;
	for (i = 0; i < ini->nr_sections; i++)
		if (ini->sections[i].line >= at)
			ini->sections[i].line += n;
	for (i = 0; i < n; i++) {
		struct ini_line *l = &ini->lines[at + i];
		size_t tl = strlen(texts->v[i]);

		memset(l, 0, sizeof(*l));
		l->raw = xmalloc(st_add(st_add(tl, e), 1));
		memcpy(l->raw, texts->v[i], tl);
		memcpy(l->raw + tl, ini->eol, e + 1);
		l->len = tl + e;
		l->kind = kind;
		l->section = section;
		l->name = names && names->v[i][0] ? xstrdup(names->v[i]) : NULL;
	}
	return at + n - 1;
}

size_t ini_insert(struct ini *ini, size_t at, enum ini_kind kind, int section,
		  const char *text, const char *name)
{
	struct strvec t, nm;

	strvec_init(&t);
	strvec_init(&nm);
	strvec_push(&t, text);
	strvec_push(&nm, name ? name : "");
	ini_insert_lines(ini, at, kind, section, &t, &nm);
	strvec_clear(&t);
	strvec_clear(&nm);
	return at;
}

void ini_replace(struct ini *ini, size_t i, const char *text)
{
	struct ini_line *l = &ini->lines[i];
	size_t tl = strlen(text), keep = 0;
	char *raw;

	if (has_eol(l))
		keep = l->len >= 2 && l->raw[l->len - 2] == '\r' ? 2 : 1;
	raw = xmalloc(st_add(st_add(tl, keep), 1));
	memcpy(raw, text, tl);
	memcpy(raw + tl, l->raw + l->len - keep, keep);
	raw[tl + keep] = '\0';
	free(l->raw);
	l->raw = raw;
	l->len = tl + keep;
}

int ini_add_section(struct ini *ini, const char *group,
		    enum ini_section_type type)
{
	static const char *const suffix[] = { "", ":vars", ":children" };
	struct strbuf h = STRBUF_INIT;
	int s;

	ALLOC_GROW(ini->sections, ini->nr_sections + 1, ini->alloc_sections);
	s = (int)ini->nr_sections++;
	ini->sections[s].group = xstrdup(group);
	ini->sections[s].type = type;
	ini->sections[s].line = 0;
	strbuf_addf(&h, "[%s%s]", group, suffix[type]);
	ini->sections[s].line =
		ini_insert(ini, ini->nr_lines, INI_SECTION, s, h.buf, NULL);
	strbuf_release(&h);
	return s;
}

void ini_render(const struct ini *ini, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < ini->nr_lines; i++)
		if (!ini->lines[i].deleted)
			strbuf_add(out, ini->lines[i].raw, ini->lines[i].len);
}
