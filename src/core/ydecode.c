/*
 * ydecode.c - typed YAML reads with diagnostics; see ydecode.h.
 */
#include "core/ydecode.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/suggest.h"
#include "util/parse.h"
#include "util/xalloc.h"

static void report(struct ydecoder *d, enum diag_severity sev,
		   const struct ynode *at, const char *path, const char *fmt,
		   va_list ap) __attribute__((format(printf, 5, 0)));

static void report(struct ydecoder *d, enum diag_severity sev,
		   const struct ynode *at, const char *path, const char *fmt,
		   va_list ap)
{
	struct strbuf msg = STRBUF_INIT;

	if (sev == DIAG_ERROR && d->errors++ >= YD_MAX_ERRORS) {
		if (d->errors == YD_MAX_ERRORS + 1)
			diag_add(d->dl, DIAG_ERROR, d->file, at->line, at->col,
				 "too many errors; stopping here");
		return;
	}
	if (path && *path)
		strbuf_addf(&msg, "%s: ", path);
	strbuf_vaddf(&msg, fmt, ap);
	diag_add(d->dl, sev, d->file, at ? at->line : 0, at ? at->col : 0, "%s",
		 msg.buf);
	strbuf_release(&msg);
}

void yd_error(struct ydecoder *d, const struct ynode *at, const char *path,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(d, DIAG_ERROR, at, path, fmt, ap);
	va_end(ap);
}

void yd_warning(struct ydecoder *d, const struct ynode *at, const char *path,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(d, DIAG_WARNING, at, path, fmt, ap);
	va_end(ap);
}

void yd_advice(struct ydecoder *d, const struct ynode *at, const char *path,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(d, DIAG_WARNING, at, path, fmt, ap);
	va_end(ap);
	d->dl->items[d->dl->nr - 1].validate_only = true;
}

void yd_path(struct strbuf *out, const char *prefix, const char *key)
{
	if (prefix && *prefix)
		strbuf_addf(out, "%s.", prefix);
	strbuf_addstr(out, key);
}

int yd_each(struct ydecoder *d, const struct ynode *v, const char *path,
	    yd_handler fn, void *target)
{
	struct strbuf at = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; i + 1 < v->nr; i += 2) {
		strbuf_reset(&at);
		yd_path(&at, path,
			v->kids[i]->kind == YNODE_SCALAR ? v->kids[i]->str
							 : "?");
		if (fn(d, target, v->kids[i], v->kids[i + 1], at.buf) < 0)
			ret = -1;
	}
	strbuf_release(&at);
	return ret;
}

void yd_shown(struct strbuf *out, const char *s, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && i < max; i++) {
		if (s[i])
			strbuf_addch(out, s[i]);
		else
			strbuf_addstr(out, "\xef\xbf\xbd");
	}
}

int yd_expect_map(struct ydecoder *d, const struct ynode *n, const char *path)
{
	if (n->kind == YNODE_MAP)
		return 0;
	yd_error(d, n, path, "expected a mapping, got %s", ynode_describe(n));
	return -1;
}

static const char *const *field_names(const struct yd_field *fields)
{
	size_t n = 0, i;
	const char **names;

	while (fields[n].key)
		n++;
	names = xcalloc(n + 1, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = fields[i].key;
	return names;
}

static void unknown_key(struct ydecoder *d, const struct ynode *k,
			const char *path, const struct yd_field *fields)
{
	const char *const *names = field_names(fields);
	const char *near = suggest_nearest(k->str, k->len, names);
	struct strbuf p = STRBUF_INIT;

	yd_path(&p, path, k->str);
	if (near)
		yd_error(d, k, NULL, "unknown key '%s'; did you mean '%s'?",
			 p.buf, near);
	else
		yd_error(d, k, NULL, "unknown key '%s'", p.buf);
	strbuf_release(&p);
	free((void *)names);
}

int yd_map(struct ydecoder *d, const struct ynode *n, const char *path,
	   const struct yd_field *fields, void *target)
{
	size_t before = d->errors, i;
	struct strbuf p = STRBUF_INIT;

	if (yd_expect_map(d, n, path) < 0)
		return -1;
	for (i = 0; i < ymap_size(n); i++) {
		const struct ynode *k = ymap_key(n, i), *v = ymap_value(n, i);
		const struct yd_field *f;

		if (k->len == 2 && !memcmp(k->str, "<<", 2)) {
			yd_error(d, k, path,
				 "merge keys ('<<') are not "
				 "supported; write the keys out");
			continue;
		}
		for (f = fields; f->key; f++)
			if (strlen(f->key) == k->len &&
			    !memcmp(f->key, k->str, k->len))
				break;
		if (!f->key) {
			unknown_key(d, k, path, fields);
			continue;
		}
		if (v->kind == YNODE_SCALAR && v->stype == YS_NULL &&
		    !f->with_null)
			continue;
		strbuf_reset(&p);
		yd_path(&p, path, f->key);
		f->fn(d, target, k, v, p.buf);
	}
	strbuf_release(&p);
	return d->errors > before ? -1 : 0;
}

int yd_string(struct ydecoder *d, const struct ynode *n, const char *path,
	      char **out)
{
	if (n->kind != YNODE_SCALAR) {
		yd_error(d, n, path, "expected a string, got %s",
			 ynode_describe(n));
		return -1;
	}
	free(*out);
	*out = xstrndup(n->str, n->len);
	return 0;
}

int yd_uint(struct ydecoder *d, const struct ynode *n, const char *path,
	    uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (n->kind != YNODE_SCALAR ||
	    (n->stype != YS_INT && n->stype != YS_STR)) {
		yd_error(d, n, path, "expected an integer, got %s",
			 ynode_describe(n));
		return -1;
	}
	if (parse_u64(&v, n->str, n->len, 0, UINT64_MAX) < 0) {
		struct strbuf s = STRBUF_INIT;

		yd_shown(&s, n->str, n->len, 40);
		yd_error(d, n, path, "expected an integer, got '%s'", s.buf);
		strbuf_release(&s);
		return -1;
	}
	if (v < min || v > max) {
		yd_error(d, n, path, "%llu is out of range (%llu to %llu)",
			 (unsigned long long)v, (unsigned long long)min,
			 (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

int yd_bool(struct ydecoder *d, const struct ynode *n, const char *path,
	    int *out)
{
	if (n->kind == YNODE_SCALAR && n->stype == YS_BOOL) {
		*out = n->bval;
		return 0;
	}
	if (n->kind == YNODE_SCALAR && n->stype == YS_INT && n->len == 1 &&
	    (n->str[0] == '0' || n->str[0] == '1')) {
		*out = n->str[0] == '1';
		return 0;
	}
	if (n->kind == YNODE_SCALAR && n->stype == YS_STR) {
		static const char *const yaml11[] = {
			"yes", "no",  "on",  "off", "y",  "n",	 "Yes", "No",
			"On",  "Off", "YES", "NO",  "ON", "OFF", NULL
		};
		const char *const *w;

		for (w = yaml11; *w; w++) {
			if (strlen(*w) == n->len &&
			    !memcmp(*w, n->str, n->len)) {
				yd_error(d, n, path,
					 "expected true or false; '%s' is a "
					 "string in YAML 1.2",
					 *w);
				return -1;
			}
		}
	}
	yd_error(d, n, path, "expected true or false, got %s",
		 ynode_describe(n));
	return -1;
}

int yd_tfbool(struct ydecoder *d, const struct ynode *n, const char *path,
	      int *out)
{
	/* YAML 1.1's boolean words, in the three cases it allows */
	static const char *const on[] = { "y",	"Y",  "yes", "Yes", "YES",
					  "on", "On", "ON",  NULL };
	static const char *const off[] = { "n",	  "N",	 "no",	"No", "NO",
					   "off", "Off", "OFF", NULL };
	size_t i;

	/* a quoted "true" or "1": Terraform converts strings to booleans */
	if (n->kind == YNODE_SCALAR && n->stype == YS_STR &&
	    (!strcmp(n->str, "true") || !strcmp(n->str, "1") ||
	     !strcmp(n->str, "false") || !strcmp(n->str, "0")) &&
	    strlen(n->str) == n->len) {
		*out = n->str[0] == 't' || n->str[0] == '1';
		return 0;
	}
	for (i = 0; n->kind == YNODE_SCALAR && n->stype == YS_STR &&
		    strlen(n->str) == n->len && (on[i] || off[i]);
	     i++) {
		if (strcmp(n->str, on[i] ? on[i] : "") &&
		    strcmp(n->str, off[i] ? off[i] : ""))
			continue;
		*out = !strcmp(n->str, on[i] ? on[i] : "");
		yd_advice(d, n, path,
			  "'%s' is a string in YAML 1.2; read as %s, as "
			  "Terraform's yamldecode (YAML 1.1) reads it "
			  "unquoted",
			  n->str, *out ? "true" : "false");
		return 0;
	}
	return yd_bool(d, n, path, out);
}

int yd_enum(struct ydecoder *d, const struct ynode *n, const char *path,
	    const char *const *list, char **out)
{
	const char *const *w;
	struct strbuf allowed = STRBUF_INIT, val = STRBUF_INIT;
	const char *near;

	if (n->kind != YNODE_SCALAR) {
		yd_error(d, n, path, "expected a string, got %s",
			 ynode_describe(n));
		return -1;
	}
	for (w = list; *w; w++) {
		if (strlen(*w) == n->len && !memcmp(*w, n->str, n->len)) {
			free(*out);
			*out = xstrdup(*w);
			return 0;
		}
	}
	for (w = list; *w; w++)
		strbuf_addf(&allowed, "%s%s", w == list ? "" : ", ", *w);
	yd_shown(&val, n->str, n->len, 64);
	near = suggest_nearest(n->str, n->len, list);
	if (near)
		yd_error(d, n, path, "'%s' is not allowed; did you mean '%s'?",
			 val.buf, near);
	else
		yd_error(d, n, path, "'%s' is not allowed (allowed: %s)",
			 val.buf, allowed.buf);
	strbuf_release(&allowed);
	strbuf_release(&val);
	return -1;
}

int yd_checked_string(struct ydecoder *d, const struct ynode *n,
		      const char *path, char **out, yd_check check)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	int ret = -1;

	if (yd_string(d, n, path, &s) < 0)
		return -1;
	if (check && check(s, &why) < 0) {
		struct strbuf shown = STRBUF_INIT;

		yd_shown(&shown, s, strlen(s), 64);
		yd_error(d, n, path, "'%s': %s", shown.buf, why.buf);
		strbuf_release(&shown);
		goto out;
	}
	free(*out);
	*out = s;
	s = NULL;
	ret = 0;
out:
	free(s);
	strbuf_release(&why);
	return ret;
}
