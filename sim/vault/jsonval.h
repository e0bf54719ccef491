/*
 * jsonval.h - JSON value helpers for vault-sim: RFC 7386 merge patch, the
 * key order Go's encoder writes (sorted), and the lenient conversions
 * Vault's request field parsing applies (mapstructure's WeakDecode, Go's
 * strconv.ParseBool, parseutil.ParseDurationSecond).
 *
 * Every function returning json_t * returns a new reference; none of them
 * steals or changes its arguments.
 */
#ifndef VAULT_SIM_JSONVAL_H
#define VAULT_SIM_JSONVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

/* A deep copy of v with every object's keys in byte order. */
json_t *jsonval_sorted(const json_t *v);

/*
 * RFC 7386: patch applied to target (NULL: no target). Objects merge
 * recursively, a null member removes the key, anything else replaces.
 */
json_t *jsonval_merge_patch(const json_t *target, const json_t *patch);

/*
 * An integer the way Vault weakly decodes one: a JSON integer, a boolean
 * (1 or 0), a string holding an integer ("" is 0, "0x10" is 16), null (0).
 * -1 for anything else (reals, objects, malformed strings).
 */
int jsonval_int(int64_t *out, const json_t *v);
/* A boolean: true/false, a number (non-zero is true), a string Go's
 * strconv.ParseBool accepts ("1", "t", "TRUE", "false", ...). */
int jsonval_bool(bool *out, const json_t *v);
/* The longest duration accepted: 100 years, so that a time plus it fits
 * in nanoseconds. */
#define JSONVAL_MAX_DURATION ((int64_t)100 * 365 * 86400)

/*
 * A duration in whole seconds: an integer (seconds), "" (0), a string of
 * digits (seconds) or a Go duration ("1h30m", "90s", "1.5h", "2d"). -1 when
 * malformed, negative or above JSONVAL_MAX_DURATION.
 */
int jsonval_duration(int64_t *out, const json_t *v);
/* A string: strings as they are, numbers and booleans as text ("1"/"0"),
 * null as "". -1 for objects and arrays. */
int jsonval_string(struct strbuf *out, const json_t *v);
/*
 * A list of integers: a JSON array of weak integers, a single one, or a
 * string of comma-separated ones ("1,2"). *out is malloc'd (free it).
 */
int jsonval_int_list(int64_t **out, size_t *nr, const json_t *v);

/* secs as Go's time.Duration.String() prints it: "0s", "1m30s", "1h0m0s". */
void jsonval_go_duration(char *buf, size_t size, int64_t secs);

#endif
