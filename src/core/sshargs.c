/*
 * sshargs.c - quoting ssh options for Ansible, and finding repository
 * settings that weaken host key checking; see sshargs.h.
 */
#include "core/sshargs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void sshargs_quote(struct strbuf *out, const char *s)
{
	/* shlex.quote's safe characters: \w@%+=:,./- (ASCII) */
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_@%+=:,./-";

	if (*s && strspn(s, safe) == strlen(s)) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_addstr(out, "'\"'\"'");
		else
			strbuf_addch(out, *s);
	}
	strbuf_addch(out, '\'');
}

int sshargs_check_known_hosts(const char *path, struct strbuf *why)
{
	const unsigned char *p;

	if (!*path) {
		strbuf_addstr(why, "an empty path");
		return -1;
	}
	for (p = (const unsigned char *)path; *p; p++) {
		/* ssh expands ${NAME} in the value and has no escape for it */
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' ||
		    (p[0] == '$' && p[1] == '{')) {
			strbuf_addstr(why, "ssh cannot be given a path holding "
					   "'\"', '\\', '${' or a control "
					   "character");
			return -1;
		}
	}
	return 0;
}

void sshargs_known_hosts_option(struct strbuf *out, const char *path)
{
	strbuf_addstr(out, "UserKnownHostsFile=\"");
	for (; *path; path++) {
		if (*path == '%')
			strbuf_addch(out, '%'); /* ssh's %h, %u... tokens */
		strbuf_addch(out, *path);
	}
	strbuf_addch(out, '"');
}

void sshargs_control_path_option(struct strbuf *out, const char *dir)
{
	strbuf_addstr(out, "ControlPath=\"");
	for (; *dir; dir++) {
		if (*dir == '%')
			strbuf_addch(out, '%');
		strbuf_addch(out, *dir);
	}
	strbuf_addstr(out, "/%C\"");
}

void sshargs_ansible(struct strbuf *out, const char *path,
		     const char *control_dir)
{
	struct strbuf opt = STRBUF_INIT;

	if (control_dir) {
		strbuf_addstr(out, "-C -o ControlMaster=auto "
				   "-o " SSHARGS_CONTROL_PERSIST " -o ");
		sshargs_control_path_option(&opt, control_dir);
		sshargs_quote(out, opt.buf);
		strbuf_reset(&opt);
		strbuf_addstr(out, " -o StrictHostKeyChecking=yes -o ");
	} else {
		/* no connection sharing (see sshargs.h) */
		strbuf_addstr(out, "-C -o ControlMaster=no -o ControlPath=none "
				   "-o StrictHostKeyChecking=yes -o ");
	}
	sshargs_known_hosts_option(&opt, path);
	sshargs_quote(out, opt.buf);
	strbuf_release(&opt);
}

/* Is word (case-insensitive) followed, after separators, by one of values
 * anywhere in the line (not NUL-terminated)? */
static int set_to(const char *line, size_t n, const char *word,
		  const char *const *values)
{
	size_t w = strlen(word), i, j, v;
	const char *p;

	for (i = 0; i + w <= n; i++) {
		if (strncasecmp(line + i, word, w))
			continue;
		for (p = line + i + w; p < line + n && strchr(" \t=:'\"", *p);
		     p++)
			;
		for (j = 0; values[j]; j++) {
			v = strlen(values[j]);
			if ((size_t)(line + n - p) >= v &&
			    !strncasecmp(p, values[j], v) &&
			    (p + v == line + n ||
			     !isalnum((unsigned char)p[v])))
				return 1;
		}
	}
	return 0;
}

static int line_weakens(const char *line, size_t n)
{
	static const char *const off[] = {
		"false", "no", "off", "0", "n", NULL
	};
	static const char *const strict_off[] = { "no",	   "off", "accept-new",
						  "false", "0",	  NULL };
	static const char *const any[] = { "", NULL };

	return set_to(line, n, "host_key_checking", off) ||
	       set_to(line, n, "StrictHostKeyChecking", strict_off) ||
	       set_to(line, n, "UserKnownHostsFile", any);
}

size_t sshargs_weakening_line(const char *text, size_t len)
{
	size_t line = 1, start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (line_weakens(text + start, i - start))
			return line;
		line++;
		start = i + 1;
	}
	return 0;
}
