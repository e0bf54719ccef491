/*
 * options.c - the option-table parser and help generator; see cmd.h.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/parse.h"

static const struct opt *find_long(const struct opt *opts, const char *name,
				   size_t len)
{
	for (; opts->long_name || opts->short_name; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts->long_name || opts->short_name; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

static void opt_name(struct strbuf *sb, const struct opt *o)
{
	if (o->long_name)
		strbuf_addf(sb, "--%s", o->long_name);
	else
		strbuf_addf(sb, "-%c", o->short_name);
}

/* Store a value; value is NULL for flags. */
static int store(const struct opt *o, void *out, const char *value,
		 struct err *e)
{
	char *field = (char *)out + o->offset;
	struct strbuf name = STRBUF_INIT;
	uint64_t n;
	int ret = 0;

	switch (o->type) {
	case OPT_BOOL:
		*(int *)field = 1;
		break;
	case OPT_COUNT_DOWN:
		*(int *)field -= 1;
		break;
	case OPT_STRING:
		*(const char **)field = value;
		break;
	case OPT_UINT:
		if (parse_u64z(&n, value, 0, UINT32_MAX) < 0) {
			opt_name(&name, o);
			ret = err_set(e, EXIT_INVALID,
				      "option %s expects a number, got '%s'",
				      name.buf, value);
			break;
		}
		*(unsigned *)field = (unsigned)n;
		break;
	}
	strbuf_release(&name);
	return ret;
}

static int takes_value(const struct opt *o)
{
	return o->type == OPT_STRING || o->type == OPT_UINT;
}

static int parse_long(const struct opt *opts, void *out, int argc, char **argv,
		      int *i, struct err *e)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct opt *o = find_long(opts, arg, len);

	if (!o)
		return err_set(e, EXIT_INVALID, "unknown option '--%.*s'",
			       (int)len, arg);
	if (!takes_value(o)) {
		if (eq)
			return err_set(e, EXIT_INVALID,
				       "option '--%s' takes no value",
				       o->long_name);
		return store(o, out, NULL, e);
	}
	if (eq)
		return store(o, out, eq + 1, e);
	if (*i + 1 >= argc)
		return err_set(e, EXIT_INVALID, "option '--%s' needs a value",
			       o->long_name);
	return store(o, out, argv[++*i], e);
}

static int parse_short(const struct opt *opts, void *out, int argc, char **argv,
		       int *i, struct err *e)
{
	const char *p = argv[*i] + 1;

	for (; *p; p++) {
		const struct opt *o = find_short(opts, *p);

		if (!o)
			return err_set(e, EXIT_INVALID, "unknown option '-%c'",
				       *p);
		if (!takes_value(o)) {
			if (store(o, out, NULL, e) < 0)
				return -1;
			continue;
		}
		if (p[1])
			return store(o, out, p + 1, e);
		if (*i + 1 >= argc)
			return err_set(e, EXIT_INVALID,
				       "option '-%c' needs a value", *p);
		return store(o, out, argv[++*i], e);
	}
	return 0;
}

int opts_parse(const struct opt *opts, void *out, int argc, char **argv,
	       int stop_at_positional, int *consumed, struct err *e)
{
	int i, npos = 0, only_pos = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!only_pos && !strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		if (only_pos || a[0] != '-' || !a[1]) {
			if (stop_at_positional)
				break;
			argv[npos++] = argv[i];
			continue;
		}
		if ((a[1] == '-'
			     ? parse_long(opts, out, argc, argv, &i, e)
			     : parse_short(opts, out, argc, argv, &i, e)) < 0)
			return -1;
	}
	if (consumed)
		*consumed = i;
	return npos;
}

void opts_help(FILE *fp, const struct opt *opts)
{
	struct strbuf sb = STRBUF_INIT;

	for (; opts->long_name || opts->short_name; opts++) {
		strbuf_reset(&sb);
		if (opts->short_name)
			strbuf_addf(&sb, "-%c%s", opts->short_name,
				    opts->long_name ? ", " : "");
		else
			strbuf_addstr(&sb, "    ");
		if (opts->long_name)
			strbuf_addf(&sb, "--%s", opts->long_name);
		if (takes_value(opts))
			strbuf_addf(&sb, " %s",
				    opts->arg ? opts->arg : "VALUE");
		fprintf(fp, "  %-26s %s\n", sb.buf, opts->help);
	}
	strbuf_release(&sb);
}
