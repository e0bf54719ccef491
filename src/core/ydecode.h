/*
 * ydecode.h - typed reads from a ytree with diagnostics.
 *
 * The schema walkers for VM definitions and the config file are tables of
 * yd_field: a key and a handler. yd_map() dispatches every pair of a mapping
 * to its handler, reports unknown keys with a "did you mean" suggestion and
 * skips null values (a null means "not set", as in Terraform). Errors name
 * the dotted path of the field ("disks.scsi1.size: ...") and its position.
 */
#ifndef PVE_GITOPS_YDECODE_H
#define PVE_GITOPS_YDECODE_H

#include <stdint.h>

#include "core/diag.h"
#include "core/ytree.h"

#define YD_MAX_ERRORS 50

struct ydecoder {
	struct diag_list *dl;
	const char *file;
	size_t errors; /* errors reported by this decoder */
};

void yd_error(struct ydecoder *d, const struct ynode *at, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void yd_warning(struct ydecoder *d, const struct ynode *at, const char *path,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * A warning only `validate` shows (a key kept for the original's files that
 * is ignored or has no meaning here): other commands would repeat it on
 * every run.
 */
void yd_advice(struct ydecoder *d, const struct ynode *at, const char *path,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A field handler: decode v (never null) for key at path into target. */
typedef int (*yd_handler)(struct ydecoder *d, void *target,
			  const struct ynode *key, const struct ynode *v,
			  const char *path);

struct yd_field {
	const char *key;
	yd_handler fn;
	int with_null; /* call fn for a null value too (default: skip it) */
};

/*
 * Decode mapping n with fields (terminated by a NULL key). Returns -1 when
 * any error was reported (the walk still visits every key).
 */
int yd_map(struct ydecoder *d, const struct ynode *n, const char *path,
	   const struct yd_field *fields, void *target);
/* -1 with an error unless n is a mapping. */
int yd_expect_map(struct ydecoder *d, const struct ynode *n, const char *path);

/* Scalar as a new string (any scalar type, its text as written). */
int yd_string(struct ydecoder *d, const struct ynode *n, const char *path,
	      char **out);
/* Integer in [min, max]: a YAML int, or a quoted string of digits. */
int yd_uint(struct ydecoder *d, const struct ynode *n, const char *path,
	    uint64_t min, uint64_t max, uint64_t *out);
/* Boolean: true/false, or the integers 0 and 1 (Telmate style). */
int yd_bool(struct ydecoder *d, const struct ynode *n, const char *path,
	    int *out);
/*
 * A boolean as Terraform reads one: what yd_bool takes, the strings "true",
 * "false", "1" and "0" (Terraform converts them), and YAML 1.1's yes/no,
 * on/off, y/n (in its three cases), with advice.
 * For VM definitions, written for Terraform; the config file is YAML 1.2.
 */
int yd_tfbool(struct ydecoder *d, const struct ynode *n, const char *path,
	      int *out);
/* String that must be one of list; suggests the nearest on error. */
int yd_enum(struct ydecoder *d, const struct ynode *n, const char *path,
	    const char *const *list, char **out);

/* A check of a string value: 0, or -1 with a reason appended to why. */
typedef int (*yd_check)(const char *s, struct strbuf *why);

/* A string that must pass check (NULL: any); the error shows the value. */
int yd_checked_string(struct ydecoder *d, const struct ynode *n,
		      const char *path, char **out, yd_check check);

/* Join prefix and key into "prefix.key" (or "key" when prefix is empty). */
void yd_path(struct strbuf *out, const char *prefix, const char *key);

/*
 * Append at most max bytes of s[0..len) to out for a message, raw (the
 * printer escapes once), a NUL byte shown as U+FFFD so the message stays
 * one C string.
 */
void yd_shown(struct strbuf *out, const char *s, size_t len, size_t max);

#endif
