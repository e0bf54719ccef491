/*
 * filetxn.h - files replaced together, after they have been looked at: a
 * set of files with their old and new text, staged in a private directory
 * (where a checker such as ansible-inventory can read the new versions as
 * they will be), shown as `diff -u` against the current files, then
 * committed through util/fileio's file_txn, all or nothing.
 *
 * Used by `inventory` (the inventory, new_hosts.txt and host_vars) and
 * meant for every command that writes several files of the repository.
 */
#ifndef PVE_GITOPS_FILETXN_H
#define PVE_GITOPS_FILETXN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/beneath.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* One file the transaction may change. */
struct filetxn_file {
	char *path;	/* the file it replaces or removes */
	char *stage_as; /* name in the staging directory ("a/b.yml"), owned;
			 * NULL: a private name */
	char *staged;	/* where filetxn_stage() wrote the new text */
	struct strbuf old, new;
	bool existed; /* path existed when it was added (old is its text) */
	bool remove;  /* the transaction removes path */
	/* a checker need not read it: filetxn_stage() leaves it out unless
	 * it changes */
	bool unstaged;
};

struct filetxn {
	struct filetxn_file *files;
	size_t nr, alloc;
	char *dir;	     /* the staging directory, NULL until staged */
	struct strvec dirs;  /* directories made inside it */
	struct beneath root; /* the repository, opened by the first add */
};

void filetxn_init(struct filetxn *t);
/* Remove what was staged and free everything; the files stay as they
 * are unless committed. */
void filetxn_release(struct filetxn *t);

/*
 * Add path, reading its current text into old (a missing file is empty;
 * a file larger than max is an error). Returns the entry, valid until the
 * next filetxn_add(), with new empty for the caller to fill; NULL on a
 * read failure.
 */
struct filetxn_file *filetxn_add(struct filetxn *t, const char *path,
				 size_t max, struct err *e);

/* Whether committing would change f's file. */
bool filetxn_file_changes(const struct filetxn_file *f);
/* How many files committing would change. */
size_t filetxn_changes(const struct filetxn *t);

/*
 * Write the new text of every file that is not removed (nor unstaged and
 * unchanged) to a fresh private directory "TMPDIR/PREFIX.XXXXXX" (0700;
 * files 0600, not synced), under its stage_as name when it has one.
 */
int filetxn_stage(struct filetxn *t, const char *tmpdir, const char *prefix,
		  struct err *e);

/*
 * `diff -u` of every file that changes (labels a/PATH and b/PATH, removed
 * and new files against /dev/null) on stdout. Needs filetxn_stage().
 * Returns how many differ, -1 when diff could not run or failed.
 */
int filetxn_diff(const struct filetxn *t, struct err *e);

/*
 * Replace (mode for new files) and remove the files that change, all or
 * nothing. On failure the error says "nothing was changed", unless an old
 * file could not be put back (kind ERR_ROLLBACK: the error says where its
 * old content is).
 */
int filetxn_commit(struct filetxn *t, mode_t mode, struct err *e);

#endif
