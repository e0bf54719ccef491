/*
 * utf8.h - the one strict UTF-8 decoder: code points, lengths, validity.
 *
 * Strict as RFC 3629 and Unicode's table 3-7 ("well-formed UTF-8 byte
 * sequences"): overlong forms, surrogates (U+D800..U+DFFF), code points
 * above U+10FFFF, stray continuation bytes and sequences cut short are all
 * malformed. Every reader of text in core/ and util/ (YAML, INI, commit
 * messages, the escaping of messages) decides with these functions, so
 * they all agree on what text is. No allocation, no state.
 */
#ifndef PVE_GITOPS_UTF8_H
#define PVE_GITOPS_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT 0xfffdu /* U+FFFD, what decoders put for bad bytes */

/*
 * Decode the code point at s[0..n) (n > 0). Returns its length (1..4) with
 * *out set to the code point (out may be NULL), or 0 when the bytes at s do
 * not start a well-formed sequence (*out untouched).
 */
size_t utf8_decode(uint32_t *out, const unsigned char *s, size_t n);

/*
 * Like utf8_decode(), for a scan that goes on past bad bytes: a malformed
 * sequence reads as one byte standing for U+FFFD. Returns 1..4.
 */
size_t utf8_next(uint32_t *out, const unsigned char *s, size_t n);

/* Length of the well-formed sequence at s[0..n) (n > 0), or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t n);

/*
 * Offset of the first byte of s[0..len) that does not start a well-formed
 * sequence, or len when all of s is valid UTF-8.
 */
size_t utf8_invalid_at(const char *s, size_t len);

/* true when s[0..len) is valid UTF-8 (a NUL byte is U+0000, valid). */
bool utf8_valid(const char *s, size_t len);

/*
 * How many bytes of the malformed sequence at s[0..n) (n > 0) one U+FFFD
 * stands for in the WHATWG Encoding Standard's decoder (Node's, browsers'):
 * the maximal subpart of a well-formed sequence, at least 1.
 */
size_t utf8_bad_len(const unsigned char *s, size_t n);

/*
 * Number of characters in s[0..len): the bytes that are not continuation
 * bytes (10xxxxxx). For valid text that is the code point count (Python's
 * len(), a column number).
 */
size_t utf8_count(const char *s, size_t len);

#endif
