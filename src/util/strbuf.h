/*
 * strbuf.h - the one growable string of the project.
 *
 * A strbuf is never NULL-buffered: buf always points at a NUL-terminated
 * string, the shared empty string until the first append. Initialise with
 * STRBUF_INIT (or strbuf_init), release with strbuf_release; a released
 * buffer is inert and may be released again.
 */
#ifndef PVE_GITOPS_STRBUF_H
#define PVE_GITOPS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

extern char strbuf_empty[];

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

#define STRBUF_INIT                \
	{                          \
		0, 0, strbuf_empty \
	}

void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the buffer and return sb to STRBUF_INIT. */
void strbuf_release(struct strbuf *sb);
/* Like strbuf_release, but overwrite the bytes first (secrets). */
void strbuf_wipe(struct strbuf *sb);
/* Hand the buffer to the caller (free() it); sb is left empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Insert data at position pos (0 <= pos <= len). */
void strbuf_insert(struct strbuf *sb, size_t pos, const void *data, size_t len);

/*
 * Append s (len bytes) with control characters, backslashes and non-UTF-8
 * bytes escaped (\n, \t, \xNN), so untrusted text can be printed safely.
 */
void strbuf_add_escaped(struct strbuf *sb, const char *s, size_t len);

/*
 * Append s percent-encoded for a URL or a form body: RFC 3986 unreserved
 * characters (letters, digits, "-._~") stay, every other byte is %XX.
 */
void strbuf_add_percent_encoded(struct strbuf *sb, const char *s);
/*
 * Append s[0..n) percent-decoded; with plus_space, '+' is a space (form
 * encoding). A '%' not followed by two hex digits stays as it is.
 */
void strbuf_add_percent_decoded(struct strbuf *sb, const char *s, size_t n,
				int plus_space);

/* Remove trailing and leading ASCII whitespace. */
void strbuf_trim(struct strbuf *sb);

#endif
