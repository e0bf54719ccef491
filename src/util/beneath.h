/*
 * beneath.h - open paths below a root directory without ever leaving it.
 *
 * The repository is untrusted input: a committed symlink must not make us
 * read ~/.vault-token as an inventory, nor write host_vars into /etc. Every
 * path below the repository is opened relative to a descriptor of its
 * root: with openat2(RESOLVE_BENEATH) where the kernel has it, else by a
 * walk of the components with O_NOFOLLOW that resolves each link itself
 * under the same rule. A link is followed only while it stays below the
 * root (as git checks out a relative link inside the work tree); an
 * absolute path, a ".." above the root, or a link that leaves it is
 * refused. What is opened as a file must be a regular file: a FIFO, device
 * or socket is refused without blocking on it.
 */
#ifndef PVE_GITOPS_BENEATH_H
#define PVE_GITOPS_BENEATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/strbuf.h"

struct beneath {
	int fd;		 /* the root, O_PATH | O_DIRECTORY; -1 when closed */
	char *path;	 /* as given, for messages */
	bool no_openat2; /* walk by hand even where openat2 exists (tests) */
};

#define BENEATH_INIT            \
	{                       \
		-1, NULL, false \
	}

/* Open the root directory path; 0 or -1. */
int beneath_root(struct beneath *b, const char *path, struct err *e);
void beneath_release(struct beneath *b);

/*
 * Open rel below the root with open(2)'s flags and mode (O_CLOEXEC and
 * O_NOCTTY are added). Without O_DIRECTORY the result must be a regular
 * file, with it a directory. Returns the descriptor, or -1 with e set:
 * ERR_INVALID (EXIT_INVALID) for a path that leaves the root or names
 * the wrong kind of file, ERR_NOTFOUND when it does not exist.
 */
int beneath_open(const struct beneath *b, const char *rel, int flags,
		 mode_t mode, struct err *e);

/*
 * For a path rel that does not exist yet: check that the deepest directory
 * of it that exists is below the root (a file created there stays in the
 * repository). 0, or -1 with e set as beneath_open sets it.
 */
int beneath_check_parent(const struct beneath *b, const char *rel,
			 struct err *e);

/*
 * rel may be written (replaced or created): an existing regular file below
 * the root, or a missing one whose deepest existing directory is below it.
 * 0, or -1 with e set.
 */
int beneath_check_target(const struct beneath *b, const char *rel,
			 struct err *e);

/*
 * rel may be used as a directory to write in: an existing directory below
 * the root, or a missing one whose deepest existing directory is below it.
 * 0, or -1 with e set.
 */
int beneath_check_dir(const struct beneath *b, const char *rel, struct err *e);

/* Append the regular file rel (at most max bytes) to out; 0 or -1. */
int beneath_read(const struct beneath *b, const char *rel, struct strbuf *out,
		 size_t max, struct err *e);

#endif
