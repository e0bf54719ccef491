/*
 * fileio.h - reading whole files and writing them atomically.
 *
 * file_write_atomic() is the only way the project replaces a file: a temp
 * file in the same directory, a full write loop, fsync, rename over the
 * target, fsync of the directory. On any failure the temp file is removed
 * and the old file is left as it was.
 */
#ifndef PVE_GITOPS_FILEIO_H
#define PVE_GITOPS_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/*
 * Append the contents of path to out. Fails (EXIT_INVALID) when the file is
 * larger than max bytes, so hostile input cannot exhaust memory.
 */
int file_read_all(struct strbuf *out, const char *path, size_t max,
		  struct err *e);
/* The same for an open descriptor (name for messages); fd stays open. */
int file_read_fd(struct strbuf *out, int fd, const char *name, size_t max,
		 struct err *e);

/*
 * Write a scratch file (mode 0600) in a private directory: no temp file, no
 * fsync, for copies that only live as long as the run.
 */
int file_write_scratch(const char *path, const void *data, size_t len,
		       struct err *e);

/* Replace path with data[0..len), created with permissions mode. */
int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, struct err *e);

/*
 * mkdir -p for the directory part of path (mode 0755); the directories it
 * made are pushed to created when it is not NULL.
 */
int file_make_parents(const char *path, struct strvec *created, struct err *e);

/*
 * A set of file replacements and removals that take effect together or not
 * at all. file_txn_put() writes the new content to a temp file next to its
 * target at once (failures there change nothing); file_txn_commit() keeps a
 * hard link to every old file, renames the temp files over their targets
 * and unlinks the removed ones, and on a failure puts every old file back
 * before it returns -1 (kind ERR_ROLLBACK when one could not be put back:
 * the error names where its old content is). Before the renames it makes
 * the new files durable (an fsync each, or with more than
 * FILE_TXN_FSYNC_MAX one syncfs() of their file system), after them their
 * directories (an fsync each). file_txn_release() removes
 * what an uncommitted transaction left: temp files and the directories it
 * created.
 */
#define FILE_TXN_FSYNC_MAX 32

struct file_txn_op {
	char *path;
	char *tmp;    /* the new content; NULL for a removal */
	char *backup; /* a link to the old file while committing */
};

struct file_txn {
	struct file_txn_op *ops;
	size_t nr, alloc;
	struct strvec dirs;	/* created by file_txn_put() */
	struct strbuf last_dir; /* the last directory made sure of */
	bool committed;
};

void file_txn_init(struct file_txn *t);
int file_txn_put(struct file_txn *t, const char *path, const void *data,
		 size_t len, mode_t mode, struct err *e);
void file_txn_remove(struct file_txn *t, const char *path);
int file_txn_commit(struct file_txn *t, struct err *e);
void file_txn_release(struct file_txn *t);

#endif
