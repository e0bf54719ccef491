/*
 * repo.c - loading the config and the VM definitions; see repo.h.
 */
#include "io/repo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ytree.h"
#include "util/beneath.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/*
 * The config file: one named on the command line as it is (the operator's
 * choice); the repository's own below its root only, like every file of it.
 * 1 when read, 0 when the repository has none, -1 on error.
 */
static int read_config(struct strbuf *buf, const char *file, struct err *e)
{
	struct beneath root = BENEATH_INIT;
	int ret;

	if (file)
		return file_read_all(buf, file, REPO_MAX_DEF_SIZE, e) < 0 ? -1
									  : 1;
	if (beneath_root(&root, ".", e) < 0)
		return -1;
	ret = beneath_read(&root, CONFIG_FILE_NAME, buf, REPO_MAX_DEF_SIZE, e);
	beneath_release(&root);
	if (ret < 0 && err_is(e, ERR_NOTFOUND)) {
		err_clear(e);
		return 0; /* no config file: defaults */
	}
	return ret < 0 ? -1 : 1;
}

int repo_load_config(struct config *cfg, struct diag_list *dl, const char *file,
		     struct err *e)
{
	struct strbuf buf = STRBUF_INIT;
	struct ytree tree = YTREE_INIT;
	const char *path = file ? file : CONFIG_FILE_NAME;
	int ret = -1, rc;

	rc = read_config(&buf, file, e);
	if (rc < 0 && err_is(e, ERR_TOOLARGE))
		/* a refusal of the file, at its first line */
		diag_add(dl, DIAG_ERROR, path, 1, 1,
			 "the file is larger than the limit of %d bytes",
			 REPO_MAX_DEF_SIZE);
	if (rc <= 0) {
		if (rc < 0)
			e->exit_code = EXIT_INVALID;
		strbuf_release(&buf);
		return rc;
	}
	if (ytree_parse(&tree, dl, path, buf.buf, buf.len) == 0 &&
	    config_decode(cfg, dl, path, tree.root) == 0)
		ret = 0;
	ytree_release(&tree);
	strbuf_release(&buf);
	return ret;
}

void repo_load_release(struct repo_load *rl)
{
	strvec_clear(&rl->read);
	strvec_clear(&rl->excluded);
	strvec_clear(&rl->ignored);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Sorted names of the entries of dir, a directory below root (a link to
 * one outside the repository is refused, not listed).
 */
static int list_dir(struct strvec *out, const struct beneath *root,
		    const char *dir, struct err *e)
{
	int fd = beneath_open(root, dir, O_RDONLY | O_DIRECTORY, 0, e);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return err_errno(e, errno, "cannot read directory '%s'", dir);
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		strvec_push(out, de->d_name);
	}
	closedir(d);
	qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
	return 0;
}

/*
 * Read a definition: one of the repository's (root given) below its root
 * only, never through a link that leaves it and never a FIFO or device
 * (util/beneath); a file named on the command line (root NULL) as it is.
 */
static int read_def(struct strbuf *buf, const char *path,
		    const struct beneath *root, struct err *e)
{
	if (!root)
		return file_read_all(buf, path, REPO_MAX_DEF_SIZE, e);
	return beneath_read(root, path, buf, REPO_MAX_DEF_SIZE, e);
}

static void load_one(struct vmset *set, struct diag_list *dl,
		     const struct config *cfg, const char *path, bool focus,
		     const struct beneath *root)
{
	struct vmdef_opts opts = { .strict_secrets = cfg->strict_secrets,
				   .defaults = &cfg->defaults };
	struct strbuf buf = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct vmdef vm;

	if (read_def(&buf, path, root, &e) < 0) {
		if (err_is(&e, ERR_TOOLARGE))
			diag_add(dl, DIAG_ERROR, path, 1, 1,
				 "the file is larger than the limit of %d "
				 "bytes",
				 REPO_MAX_DEF_SIZE);
		else
			diag_add(dl, DIAG_ERROR, path, 0, 0, "%s", e.msg.buf);
		err_release(&e);
		strbuf_release(&buf);
		return;
	}
	vmdef_parse(&vm, dl, path, buf.buf, buf.len, &opts);
	vmset_add(set, &vm, focus);
	strbuf_release(&buf);
}

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int is_named(const char *path, const char *const *files, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (same_file(path, files[i]))
			return 1;
	return 0;
}

int repo_load_vms(struct vmset *set, struct diag_list *dl, struct repo_load *rl,
		  const struct config *cfg, const char *const *files,
		  size_t nr_files, struct err *e)
{
	struct beneath root = BENEATH_INIT;
	struct strvec names = STRVEC_INIT;
	struct diag_list quiet = DIAG_LIST_INIT;
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int have_dir = 1;

	if (beneath_root(&root, ".", e) < 0)
		return -1;
	if (list_dir(&names, &root, cfg->vms_dir, e) < 0) {
		/* a vms_dir that leaves the repository is refused outright */
		if (!nr_files || err_is(e, ERR_INVALID)) {
			beneath_release(&root);
			e->exit_code = EXIT_INVALID;
			if (!err_is(e, ERR_INVALID))
				err_prefix(e,
					   "no VM definitions (set vms_dir in "
					   "%s or use -C DIR)",
					   CONFIG_FILE_NAME);
			return -1;
		}
		have_dir = 0; /* named files can be checked on their own */
		err_release(e);
	}
	for (i = 0; i < nr_files; i++) {
		load_one(set, dl, cfg, files[i], true, NULL);
		strvec_push(&rl->read, files[i]);
	}
	for (i = 0; have_dir && i < names.nr; i++) {
		const char *name = names.v[i];

		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", cfg->vms_dir, name);
		if (!ends_with(name, ".yaml")) {
			if (!nr_files)
				strvec_push(&rl->ignored, path.buf);
			continue;
		}
		if (config_is_excluded(cfg, name)) {
			if (!nr_files)
				strvec_push(&rl->excluded, path.buf);
			continue;
		}
		if (nr_files && is_named(path.buf, files, nr_files))
			continue;
		load_one(set, nr_files ? &quiet : dl, cfg, path.buf, !nr_files,
			 &root);
		if (!nr_files)
			strvec_push(&rl->read, path.buf);
	}
	beneath_release(&root);
	diag_list_release(&quiet);
	strvec_clear(&names);
	strbuf_release(&path);
	return 0;
}

/* dir below the repository, as a descriptor (O_RDONLY | O_DIRECTORY). */
static int open_repo_dir(const char *dir, struct err *e)
{
	struct beneath root = BENEATH_INIT;
	int fd = -1;

	if (beneath_root(&root, ".", e) == 0)
		fd = beneath_open(&root, dir, O_RDONLY | O_DIRECTORY, 0, e);
	beneath_release(&root);
	return fd;
}

int repo_opendir(const char *dir, DIR **out, struct err *e)
{
	int fd = open_repo_dir(dir, e);

	*out = NULL;
	if (fd < 0) {
		if (!err_is(e, ERR_NOTFOUND))
			return -1;
		err_clear(e);
		return 0;
	}
	*out = fdopendir(fd);
	if (!*out) {
		close(fd);
		return err_errno(e, errno, "cannot read the directory '%s'",
				 dir);
	}
	return 0;
}

int repo_list_playbooks(const char *dir, struct strvec *out, struct err *e)
{
	struct dirent *de;
	DIR *d;

	if (repo_opendir(dir, &d, e) < 0)
		return err_prefix(e, "cannot list the playbooks");
	if (!d) {
		err_errno(e, ENOENT,
			  "cannot list the playbooks: cannot open "
			  "'%s'",
			  dir);
		e->kind = ERR_NOTFOUND;
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' && ends_with(de->d_name, ".yml"))
			strvec_push(out, de->d_name);
	}
	closedir(d);
	return 0;
}

int repo_check_playbook(const char *dir, const char *file, struct err *e)
{
	struct beneath books = BENEATH_INIT;
	int fd;

	books.fd = open_repo_dir(dir, e);
	if (books.fd < 0)
		return -1;
	books.path = xstrdup(dir);
	fd = beneath_open(&books, file, O_RDONLY, 0, e);
	beneath_release(&books);
	if (fd < 0)
		return err_prefix(e, "cannot run the playbook '%s/%s'", dir,
				  file);
	close(fd);
	return 0;
}
