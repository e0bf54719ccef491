/*
 * jsonval.c - merge patch, sorted copies and Vault's lenient field
 * conversions (see jsonval.h).
 */
#include "jsonval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strvec.h"
#include "util/xalloc.h"

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *jsonval_sorted(const json_t *v)
{
	json_t *out, *val;
	struct strvec keys = STRVEC_INIT;
	const char *k;
	size_t i;

	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, val)
		{
			json_array_append_new(out, jsonval_sorted(val));
		}
		return out;
	}
	if (!json_is_object(v))
		return json_deep_copy(v);
	json_object_foreach((json_t *)v, k, val)
	{
		strvec_push(&keys, k);
	}
	if (keys.nr)
		qsort(keys.v, keys.nr, sizeof(*keys.v), cmp_key);
	out = json_object();
	for (i = 0; i < keys.nr; i++)
		json_object_set_new(
			out, keys.v[i],
			jsonval_sorted(json_object_get(v, keys.v[i])));
	strvec_clear(&keys);
	return out;
}

json_t *jsonval_merge_patch(const json_t *target, const json_t *patch)
{
	json_t *out, *val;
	const char *k;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach((json_t *)patch, k, val)
	{
		if (json_is_null(val))
			json_object_del(out, k);
		else
			json_object_set_new(
				out, k,
				jsonval_merge_patch(json_object_get(out, k),
						    val));
	}
	return out;
}

/* strconv.ParseInt(s, 0, 64) for the plain forms: sign, 0x, 0 (octal). */
static int parse_int_text(int64_t *out, const char *s)
{
	char *end;
	long long n;

	if (!*s) {
		*out = 0;
		return 0;
	}
	if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 0);
	if (errno || *end || end == s)
		return -1;
	*out = n;
	return 0;
}

int jsonval_int(int64_t *out, const json_t *v)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_boolean(v) || json_is_null(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v))
		return parse_int_text(out, json_string_value(v));
	return -1;
}

int jsonval_bool(bool *out, const json_t *v)
{
	static const char *const yes[] = { "1",	   "t",	   "T", "TRUE",
					   "true", "True", NULL };
	static const char *const no[] = { "0",	   "f",	    "F", "FALSE",
					  "false", "False", NULL };
	const char *s;
	size_t i;

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_integer(v)) {
		*out = json_integer_value(v) != 0;
		return 0;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v) != 0;
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	for (i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
	for (i = 0; no[i]; i++)
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	return -1;
}

/* Go's time.ParseDuration (plus "d" for days), in seconds, truncated. */
static int parse_go_duration(int64_t *out, const char *s)
{
	static const struct {
		const char *unit;
		double secs;
	} units[] = { { "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 },
		      { "s", 1 },     { "m", 60 },    { "h", 3600 },
		      { "d", 86400 }, { NULL, 0 } };
	double total = 0;

	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double n;
		size_t i, len;

		if (!(*s >= '0' && *s <= '9') && *s != '.')
			return -1;
		errno = 0;
		n = strtod(s, &end);
		if (errno || end == s)
			return -1;
		s = end;
		for (len = 0; s[len] && !(s[len] >= '0' && s[len] <= '9') &&
			      s[len] != '.';
		     len++)
			;
		for (i = 0; units[i].unit; i++)
			if (strlen(units[i].unit) == len &&
			    !strncmp(s, units[i].unit, len))
				break;
		if (!units[i].unit)
			return -1;
		total += n * units[i].secs;
		s += len;
	}
	if (!isfinite(total) || total > 9.2e9)
		return -1;
	*out = (int64_t)total;
	return 0;
}

static int parse_duration(int64_t *out, const json_t *v)
{
	const char *s;
	size_t len;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = strlen(s);
	if (!len) {
		*out = 0;
		return 0;
	}
	if (s[len - 1] >= '0' && s[len - 1] <= '9')
		return parse_int_text(out, s);
	return parse_go_duration(out, s);
}

int jsonval_duration(int64_t *out, const json_t *v)
{
	if (parse_duration(out, v) < 0 || *out < 0 ||
	    *out > JSONVAL_MAX_DURATION)
		return -1;
	return 0;
}

int jsonval_string(struct strbuf *out, const json_t *v)
{
	strbuf_reset(out);
	if (json_is_string(v))
		strbuf_add(out, json_string_value(v), json_string_length(v));
	else if (json_is_integer(v))
		strbuf_addf(out, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
	else if (json_is_real(v))
		strbuf_addf(out, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		strbuf_addstr(out, json_is_true(v) ? "1" : "0");
	else if (!json_is_null(v))
		return -1;
	return 0;
}

static void push_int(int64_t **out, size_t *nr, size_t *alloc, int64_t n)
{
	ALLOC_GROW(*out, st_add(*nr, 1), *alloc);
	(*out)[(*nr)++] = n;
}

int jsonval_int_list(int64_t **out, size_t *nr, const json_t *v)
{
	size_t alloc = 0, i;
	int64_t n;
	json_t *item;

	*out = NULL;
	*nr = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			if (jsonval_int(&n, item) < 0)
				goto fail;
			push_int(out, nr, &alloc, n);
		}
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		while (*s) {
			size_t len = strcspn(s, ",");
			char *part = xstrndup(s, len);
			int bad = parse_int_text(&n, part);

			free(part);
			if (bad || !len)
				goto fail;
			push_int(out, nr, &alloc, n);
			s += len + (s[len] == ',');
		}
		return 0;
	}
	if (jsonval_int(&n, v) < 0)
		goto fail;
	push_int(out, nr, &alloc, n);
	return 0;
fail:
	free(*out);
	*out = NULL;
	*nr = 0;
	return -1;
}

void jsonval_go_duration(char *buf, size_t size, int64_t secs)
{
	int64_t h = secs / 3600, m = secs % 3600 / 60, s = secs % 60;

	if (h)
		snprintf(buf, size, "%lldh%lldm%llds", (long long)h,
			 (long long)m, (long long)s);
	else if (m)
		snprintf(buf, size, "%lldm%llds", (long long)m, (long long)s);
	else
		snprintf(buf, size, "%llds", (long long)s);
}
