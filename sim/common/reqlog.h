/*
 * reqlog.h - the simulators' request log: one JSON object per line
 * (ASCII, compact), appended and flushed under a mutex, so that tests can
 * read what a client sent while the simulator runs.
 *
 * The one redaction rule of both simulators: no request body is logged
 * (httpd wipes bodies with explicit_bzero once answered), parameters are
 * logged by name with the value of every secret (passwords, tokens,
 * tickets, secrets: see reqlog_is_secret()) replaced by "********", and
 * no header (where tokens and tickets travel) is logged at all.
 */
#ifndef SIM_COMMON_REQLOG_H
#define SIM_COMMON_REQLOG_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct reqlog {
	FILE *f; /* NULL: no log */
	pthread_mutex_t mu;
};

/* Open path for appending (close-on-exec); path NULL: a log that drops
 * every line. Fails with e set when the file cannot be opened. */
int reqlog_open(struct reqlog *log, const char *path, struct err *e);
void reqlog_close(struct reqlog *log);
/* Whether lines are written at all (to skip building them). */
bool reqlog_enabled(const struct reqlog *log);

/* {"method": method, "path": path}, both made valid text; caller owns. */
json_t *reqlog_line(const char *method, const char *path);
/* Append line (borrowed) as one line. */
void reqlog_write(struct reqlog *log, const json_t *line);

/* Whether a parameter of this name holds a secret (compared exactly). */
bool reqlog_is_secret(const char *name);
/* names[i] = values[i] as a JSON object, secrets redacted; caller owns. */
json_t *reqlog_params(const struct strvec *names, const struct strvec *values);
/* s as valid UTF-8 for the log (other bytes become \xNN), kept in buf. */
const char *reqlog_text(struct strbuf *buf, const char *s);

#endif
