/*
 * jscan.h - a pull scanner over one JSON text, for answers too large to
 * be worth a tree: the caller walks objects and arrays, keeps the few
 * members it wants and skips the rest without allocating. Strict as
 * RFC 8259 and as jansson's json_loadb (what every other answer goes
 * through): valid UTF-8, no U+0000, integers that fit int64_t, nesting
 * at most JSCAN_MAX_DEPTH deep. An error sticks: every later call fails.
 */
#ifndef PVE_GITOPS_JSCAN_H
#define PVE_GITOPS_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

#define JSCAN_MAX_DEPTH 2048

enum jscan_type {
	JSCAN_ERROR,
	JSCAN_OBJECT,
	JSCAN_ARRAY,
	JSCAN_STRING,
	JSCAN_NUMBER,
	JSCAN_TRUE,
	JSCAN_FALSE,
	JSCAN_NULL,
};

struct jscan {
	const char *p, *end;
	bool failed;
};

/* Scan buf[0..len) (not copied: it must outlive the scan). */
void jscan_init(struct jscan *s, const char *buf, size_t len);

/* The type of the value that comes next (nothing is consumed). */
enum jscan_type jscan_peek(struct jscan *s);

/*
 * Inside an object: enter it with jscan_enter(s, '{'), then
 * jscan_next_key() until it returns 0 (the closing brace is consumed), a
 * value after each key. Inside an array: jscan_enter(s, '['), then
 * jscan_next_item() until 0. -1 (and the scan failed) on bad syntax.
 */
int jscan_enter(struct jscan *s, char open);
int jscan_next_key(struct jscan *s, struct strbuf *key);
int jscan_next_item(struct jscan *s);

/* The next value as a string (unescaped into out), an integer (a JSON
 * number without fraction or exponent), or skipped whatever it is. */
int jscan_string(struct jscan *s, struct strbuf *out);
int jscan_integer(struct jscan *s, int64_t *out);
int jscan_skip(struct jscan *s);

/* After the top-level value: 0 when only white space is left. */
int jscan_finish(struct jscan *s);

#endif
