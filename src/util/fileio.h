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

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/strbuf.h"

/*
 * Append the contents of path to out. Fails (EXIT_INVALID) when the file is
 * larger than max bytes, so hostile input cannot exhaust memory.
 */
int file_read_all(struct strbuf *out, const char *path, size_t max,
		  struct err *e);

/* Replace path with data[0..len), created with permissions mode. */
int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, struct err *e);

#endif
