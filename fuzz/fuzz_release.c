/*
 * fuzz_release.c - libFuzzer target for core/release/: the input's first
 * line is a repository URL, its second a tag name; the rest is commit
 * messages separated by NUL bytes. Everything is parsed, analysed and
 * rendered as `release` would, and the pieces are fed to the version,
 * tag and collation functions too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/release.h"
#include "util/xalloc.h"

#define MAX_COMMITS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of data[*pos..size) as a string. */
static char *next_line(const uint8_t *data, size_t size, size_t *pos)
{
	const uint8_t *nl = memchr(data + *pos, '\n', size - *pos);
	size_t end = nl ? (size_t)(nl - data) : size;
	char *s = xstrndup((const char *)data + *pos, end - *pos);

	*pos = nl ? end + 1 : size;
	return s;
}

static const struct release_rule rules[] = { { "chore", RELEASE_PATCH },
					     { "docs", RELEASE_MINOR } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct release_raw raw[MAX_COMMITS];
	struct release_opts o = { RELEASE_TAG_FORMAT, rules, 2 };
	struct release_result r;
	struct release_repo repo;
	struct semver last;
	struct err e = ERR_INIT;
	size_t pos = 0, n = 0, start;
	char *url = next_line(data, size, &pos);
	char *tag = next_line(data, size, &pos);
	bool have_last = release_tag_match(&last, o.tag_format, tag);

	while (pos < size && n < MAX_COMMITS) {
		const uint8_t *nul = memchr(data + pos, '\0', size - pos);

		start = pos;
		pos = nul ? (size_t)(nul - data) + 1 : size;
		raw[n].hash =
			n % 2 ? "0123456789abcdef0123456789abcdef01234567"
			      : "89abcdef0123456789abcdef0123456789abcdef";
		raw[n].subject = NULL;
		raw[n].msg = (const char *)data + start;
		raw[n++].len = (nul ? (size_t)(nul - data) : size) - start;
	}
	if (release_compute(&r, &o, have_last ? tag : NULL,
			    have_last ? &last : NULL, raw, n, url, "2026-01-01",
			    &e) == 0) {
		if (r.notes) {
			struct strbuf sb = STRBUF_INIT;

			release_changelog_prepend(&sb, r.notes, url,
						  strlen(url));
			strbuf_release(&sb);
		}
		release_result_release(&r);
	}
	release_repo_parse(&repo, url);
	release_repo_release(&repo);
	semver_parse(&last, url, strlen(url));
	release_collate(url, tag);
	err_release(&e);
	free(url);
	free(tag);
	return 0;
}
