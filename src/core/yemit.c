/*
 * yemit.c - JSON to block YAML; see yemit.h.
 */
#include "core/yemit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words YAML 1.1 or 1.2 readers take for something other than a string. */
static int special_word(const char *s)
{
	static const char *const words[] = { "null",  "~",    "true", "false",
					     "yes",   "no",   "on",   "off",
					     "y",     "n",    ".inf", "-.inf",
					     "+.inf", ".nan", NULL };
	size_t i;

	for (i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return 1;
	return 0;
}

/* Something a YAML reader could take for a number (ints, floats, octal,
 * hex, sexagesimal): any string of digits and the characters of numbers
 * that starts like one. */
static int number_like(const char *s)
{
	const char *p = s;

	if (*p == '+' || *p == '-')
		p++;
	if (*p == '.')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	return strspn(s, "0123456789+-.eExXoObB_:abcdefABCDEF") == strlen(s);
}

int yemit_plain_ok(const char *s)
{
	static const char first_bad[] = "-?:,[]{}#&*!|>'\"%@` \t";
	size_t n = strlen(s), i;

	if (!n || strchr(first_bad, s[0]) || s[n - 1] == ' ' ||
	    special_word(s) || number_like(s))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c >= 0x80)
			return 0;
		if (c == ':' && (i + 1 == n || s[i + 1] == ' '))
			return 0;
		if (c == '#' && s[i - 1] == ' ')
			return 0;
		if (strchr(",[]{}", c))
			return 0; /* fine in block context, but not worth it */
	}
	return 1;
}

/* A scalar; a string value gets "TAG " in front when tag is set. */
static void scalar(struct strbuf *out, const json_t *v, const char *tag)
{
	char *s;

	if (tag && json_is_string(v))
		strbuf_addf(out, "%s ", tag);
	if (json_is_string(v) && yemit_plain_ok(json_string_value(v))) {
		strbuf_addstr(out, json_string_value(v));
		return;
	}
	/* JSON scalars are YAML 1.2 flow scalars with the same meaning */
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	strbuf_addstr(out, s ? s : "null");
	free(s);
}

static int is_block(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v)) ||
	       (json_is_array(v) && json_array_size(v));
}

static void node(struct strbuf *out, const json_t *v, int indent,
		 int inline_first, const char *tag);

/* "key:" and its value, the value on the next lines when it is a block. */
static void pair(struct strbuf *out, const char *key, const json_t *val,
		 int indent, const char *tag)
{
	json_t *k = json_string(key);

	if (yemit_plain_ok(key))
		strbuf_addstr(out, key);
	else
		scalar(out, k, NULL);
	json_decref(k);
	strbuf_addch(out, ':');
	if (is_block(val)) {
		strbuf_addch(out, '\n');
		/* kubectl's style: a sequence under a key is not indented */
		node(out, val, json_is_array(val) ? indent : indent + 2, 0,
		     tag);
		return;
	}
	strbuf_addch(out, ' ');
	if (json_is_object(val))
		strbuf_addstr(out, "{}");
	else if (json_is_array(val))
		strbuf_addstr(out, "[]");
	else
		scalar(out, val, tag);
	strbuf_addch(out, '\n');
}

static void node(struct strbuf *out, const json_t *v, int indent,
		 int inline_first, const char *tag)
{
	const char *key;
	json_t *val;
	size_t i;
	int first = 1;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, val)
		{
			if (!(first && inline_first))
				strbuf_addf(out, "%*s", indent, "");
			first = 0;
			pair(out, key, val, indent, tag);
		}
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, val)
		{
			strbuf_addf(out, "%*s- ", indent, "");
			if (json_is_object(val) && json_object_size(val)) {
				node(out, val, indent + 2, 1, tag);
			} else if (json_is_array(val) && json_array_size(val)) {
				strbuf_addch(out, '\n');
				node(out, val, indent + 2, 0, tag);
			} else {
				if (json_is_object(val))
					strbuf_addstr(out, "{}");
				else if (json_is_array(val))
					strbuf_addstr(out, "[]");
				else
					scalar(out, val, tag);
				strbuf_addch(out, '\n');
			}
		}
		return;
	}
	strbuf_addf(out, "%*s", indent, "");
	scalar(out, v, tag);
	strbuf_addch(out, '\n');
}

void yemit_tagged(struct strbuf *out, const json_t *v, const char *tag)
{
	if (json_is_object(v) && !json_object_size(v))
		strbuf_addstr(out, "{}\n");
	else if (json_is_array(v) && !json_array_size(v))
		strbuf_addstr(out, "[]\n");
	else
		node(out, v, 0, 0, tag);
}

void yemit(struct strbuf *out, const json_t *v)
{
	yemit_tagged(out, v, NULL);
}
