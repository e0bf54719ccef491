/*
 * ini.h - an Ansible INI inventory as a list of lines that can be edited
 * and written back byte for byte.
 *
 * ini_parse() follows the rules of Ansible's ini inventory plugin
 * (ansible-core 2.14, plugins/inventory/ini.py): lines are stripped, blank
 * lines and lines starting with '#' or ';' are comments, "[name]",
 * "[name:vars]" and "[name:children]" open sections, host lines are split
 * like shlex with comments, host ranges are checked and counted the way
 * Ansible expands them (at most INI_MAX_HOSTS names per file). A file Ansible
 * would refuse is refused with the line Ansible names. Every line keeps its
 * original bytes (line ending included), so a file that is not edited is
 * written back unchanged. Pure: no I/O.
 */
#ifndef PVE_GITOPS_INI_H
#define PVE_GITOPS_INI_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"
#include "util/strvec.h"

/*
 * The most host names the host lines of one file may yield once their
 * ranges are expanded (vm[0:9] yields 10, a[0:9]-[a:z] 260); a file past
 * it is refused by ini_parse().
 */
#define INI_MAX_HOSTS 100000

enum ini_kind {
	INI_BLANK,
	INI_COMMENT,
	INI_SECTION,
	INI_HOST,  /* a host line in a hosts section */
	INI_VAR,   /* key=value in a :vars section */
	INI_CHILD, /* a group name in a :children section */
};

enum ini_section_type { INI_SEC_HOSTS, INI_SEC_VARS, INI_SEC_CHILDREN };

struct ini_line {
	char *raw;  /* the line's bytes, line ending included */
	size_t len; /* of raw */
	enum ini_kind kind;
	/*
	 * The section the line is in: an index into ini.sections, or -1 before
	 * the first header (Ansible's "ungrouped" hosts). For INI_SECTION, the
	 * section it opens.
	 */
	int section;
	/*
	 * INI_HOST: the host name (port removed) when the pattern names one
	 * host, NULL for ranges; INI_VAR: the key; INI_CHILD: the group.
	 */
	char *name;
	bool deleted; /* set by editors; skipped by ini_render() */
};

struct ini_section {
	char *group;
	enum ini_section_type type;
	size_t line; /* index of the header in ini.lines */
};

struct ini {
	struct ini_line *lines;
	size_t nr_lines, alloc_lines;
	struct ini_section *sections;
	size_t nr_sections, alloc_sections;
	const char
		*eol; /* "\r\n" when the first line ending is CRLF, else "\n" */
};

#define INI_INIT                             \
	{                                    \
		NULL, 0, 0, NULL, 0, 0, "\n" \
	}

/*
 * Parse buf[0..len). Returns 0, or -1 with *err_line set to the 1-based line
 * Ansible would name (the line being read when Ansible names none) and why
 * holding its message.
 * *out must be released with ini_release() either way.
 */
int ini_parse(struct ini *out, const char *buf, size_t len, int *err_line,
	      struct strbuf *why);
void ini_release(struct ini *ini);

/*
 * Insert a line (text without line ending; the file's ending is added) before
 * index at, in section. Returns the new line's index. When the line before at
 * has no line ending (the end of the file), it gets one.
 */
size_t ini_insert(struct ini *ini, size_t at, enum ini_kind kind, int section,
		  const char *text, const char *name);
/*
 * Insert texts (names: the matching names, "" for none; may be NULL) before
 * index at in one move. Returns the index of the last line inserted.
 */
size_t ini_insert_lines(struct ini *ini, size_t at, enum ini_kind kind,
			int section, const struct strvec *texts,
			const struct strvec *names);
/* Replace the text of line i, keeping its line ending. */
void ini_replace(struct ini *ini, size_t i, const char *text);
/* Append a section header at the end; returns the section's index. */
int ini_add_section(struct ini *ini, const char *group,
		    enum ini_section_type type);

/*
 * The offset in l->raw of the '#' that starts an INI_HOST line's inline
 * comment ("web ansible_host=10.0.0.5  # rack 4"), as Ansible's shlex
 * split reads it (not inside quotes, not escaped, even inside a word), or
 * 0 when the line has none.
 */
size_t ini_host_comment(const struct ini_line *l);

/* The lines that are not deleted, in order. */
void ini_render(const struct ini *ini, struct strbuf *out);

#endif
