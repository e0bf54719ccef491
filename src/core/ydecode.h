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

/*
 * What a field takes, for the JSON Schema (core/schema.c), the man pages and
 * the completion: the same table the decoder walks documents each key.
 */
enum yd_type {
	YT_ANY,	      /* any value (a key kept for Terraform's files) */
	YT_STRING,    /* a scalar, as a string */
	YT_INT,	      /* yd_uint: an integer in [min, max] */
	YT_NUMBER,    /* a whole or decimal number */
	YT_BOOL,      /* yd_bool */
	YT_TFBOOL,    /* yd_tfbool */
	YT_ENUM,      /* yd_enum: one of values */
	YT_MAP,	      /* a mapping of fields */
	YT_MAPS,      /* a mapping of fields, or a list of them */
	YT_SLOTS,     /* a mapping of slots to fields, or a list of fields */
	YT_DICT,      /* a mapping of any keys */
	YT_LIST,      /* a list of strings */
	YT_STRINGS,   /* a string or a list of strings */
	YT_FORBIDDEN, /* refused whatever its value (a secret in the repo) */
};

struct yd_field;

struct yd_doc {
	enum yd_type type;
	const char *help;
	const char *def;	       /* the default as JSON text, or NULL */
	const char *const *values;     /* YT_ENUM: NULL-terminated */
	uint64_t min, max;	       /* YT_INT */
	const struct yd_field *fields; /* YT_MAP, YT_MAPS, YT_SLOTS */
	const struct yd_field *(*fields_of)(void); /* when fields is NULL */
	const char *pattern; /* what the check takes as an RE (YT_STRING), or
			      * the names of YT_SLOTS' slots */
	int required;
};

/* clang-format off: one table entry's doc each */
#define YD_DOC(t, h, d)                              \
	{                                            \
		.type = (t), .help = (h), .def = (d) \
	}
#define YD_INT(h, d, lo, hi)                                          \
	{                                                             \
		.type = YT_INT, .help = (h), .def = (d), .min = (lo), \
		.max = (hi)                                           \
	}
#define YD_ENUM(h, d, list)                                                \
	{                                                                  \
		.type = YT_ENUM, .help = (h), .def = (d), .values = (list) \
	}
#define YD_STR(h, d, re)                                                    \
	{                                                                   \
		.type = YT_STRING, .help = (h), .def = (d), .pattern = (re) \
	}
/* a string in list, or one that re matches */
#define YD_ONE_OF(h, d, list, re)                                             \
	{                                                                     \
		.type = YT_STRING, .help = (h), .def = (d), .values = (list), \
		.pattern = (re)                                               \
	}
#define YD_STRMAX(h, n)                                    \
	{                                                  \
		.type = YT_STRING, .help = (h), .max = (n) \
	}
#define YD_REQUIRED(h, re)                                                     \
	{                                                                      \
		.type = YT_STRING, .help = (h), .pattern = (re), .required = 1 \
	}
#define YD_FIELDS(t, h, f)                              \
	{                                               \
		.type = (t), .help = (h), .fields = (f) \
	}
/* YT_SLOTS: the fields fn returns, the slot names re matches */
#define YD_SLOTS(h, fn, re)                                       \
	{                                                         \
		.type = YT_SLOTS, .help = (h), .fields_of = (fn), \
		.pattern = (re)                                   \
	}
/* a mapping of any names to mappings of fields f */
#define YD_DICT_OF(h, f)                                    \
	{                                                   \
		.type = YT_DICT, .help = (h), .fields = (f) \
	}
#define YD_SECTION(h, f)                                   \
	{                                                  \
		.type = YT_MAP, .help = (h), .fields = (f) \
	}
/* clang-format on */

struct yd_field {
	const char *key;
	yd_handler fn;
	int with_null; /* call fn for a null value too (default: skip it) */
	struct yd_doc doc;
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
 * fn(d, target, KEY, VALUE, "path.KEY") for every entry of the mapping v
 * (the caller has checked that it is one), all of them even after one
 * failed. 0, or -1 when any entry's fn did.
 */
int yd_each(struct ydecoder *d, const struct ynode *v, const char *path,
	    yd_handler fn, void *target);

/*
 * Append at most max bytes of s[0..len) to out for a message, raw (the
 * printer escapes once), a NUL byte shown as U+FFFD so the message stays
 * one C string.
 */
void yd_shown(struct strbuf *out, const char *s, size_t len, size_t max);

#endif
