/*
 * diags.c - diagnostics on stderr; see diags.h.
 */
#include "ops/diags.h"

#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"

void report_diags(const struct config *cfg, const struct diag_list *dl,
		  bool all)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];

		if (d->severity == DIAG_WARNING &&
		    (cfg->verbosity < 0 || (d->validate_only && !all)))
			continue;
		strbuf_reset(&sb);
		diag_format(&sb, d);
		if (cfg->color) {
			const char *word = diag_severity_name(d->severity);
			const char *colour = d->severity == DIAG_ERROR
						     ? "\033[1;31m"
						     : "\033[1;35m";
			struct strbuf pat = STRBUF_INIT;
			char *at;

			/* colour the severity word, as compilers do */
			strbuf_addf(&pat, ": %s: ", word);
			at = strstr(sb.buf, pat.buf);
			strbuf_release(&pat);
			if (at) {
				at += 2;
				fprintf(stderr, "%.*s%s%s\033[0m%s\n",
					(int)(at - sb.buf), sb.buf, colour,
					word, at + strlen(word));
				continue;
			}
		}
		fprintf(stderr, "%s\n", sb.buf);
	}
	strbuf_release(&sb);
}
