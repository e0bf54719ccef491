/*
 * release.h - `pve-gitops release` as an operation: the git side of a
 * release the way semantic-release with the changelog and git plugins
 * makes it.
 *
 * It reads the tags HEAD contains and the commits since the last release
 * tag, has core/release.c decide the next version and its notes, and,
 * unless it is a dry run, refuses a dirty work tree, prepends the notes to
 * CHANGELOG.md, commits "chore(release): X.Y.Z [skip ci]" and puts a
 * lightweight tag on that commit. Pushing the tag is a step of its own
 * (release_push_tag), since the pipeline pushes it after its own commit.
 */
#ifndef PVE_GITOPS_OPS_RELEASE_H
#define PVE_GITOPS_OPS_RELEASE_H

#include <stdbool.h>

#include "core/config.h"
#include "core/release.h"
#include "util/err.h"

struct release_request {
	bool dry_run; /* decide and check; change nothing */
};

struct release_outcome {
	/*
	 * What was decided: type (RELEASE_NONE: nothing to release),
	 * last_tag and last_version (NULL without a last release), version,
	 * tag and notes of the next one, nr_commits read.
	 */
	struct release_result r;
	bool made; /* CHANGELOG.md, the release commit and the tag are made */
};

/*
 * Decide the next release and, unless req->dry_run, make it. Returns 0
 * (also when there is nothing to release), or -1 with e set: not a work
 * tree or a bad tag name EXIT_INVALID, a dirty work tree or a failed git
 * EXIT_FAIL; a failed commit puts CHANGELOG.md back. Free out with
 * release_outcome_release(), also after a failure.
 */
int release_make(struct release_outcome *out, const struct config *cfg,
		 const struct release_request *req, struct err *e);
void release_outcome_release(struct release_outcome *o);

/*
 * Push refs/tags/TAG to remote (NULL: git.remote of the config); a
 * lightweight tag is not pushed by --follow-tags. 0 or -1 with e set.
 */
int release_push_tag(const struct config *cfg, const char *remote,
		     const char *tag, struct err *e);

#endif
