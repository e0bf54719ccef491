/*
 * repo.h - reading an infrastructure repository from disk: the config file
 * and the VM definitions.
 *
 * The I/O half of validate, plan and inventory: list the *.yaml files of
 * proxmox/vms in a stable order, skip excluded files, read each one with a size
 * cap and hand the bytes to the pure decoders in core/.
 */
#ifndef PVE_GITOPS_REPO_H
#define PVE_GITOPS_REPO_H

#include <dirent.h>

#include "core/config.h"
#include "core/diag.h"
#include "core/vmset.h"
#include "util/err.h"
#include "util/strvec.h"

/* A VM definition larger than this is refused unread. */
#define REPO_MAX_DEF_SIZE (1024 * 1024)

/*
 * Read the config over the defaults in *cfg: file when given (it must
 * exist), else pve-gitops.yaml in the current directory when present.
 * Problems in the file go to dl (returns -1); I/O failures to e.
 */
int repo_load_config(struct config *cfg, struct diag_list *dl, const char *file,
		     struct err *e);

struct repo_load {
	struct strvec read;	/* files read, in order */
	struct strvec excluded; /* definition files skipped by exclude: */
	struct strvec ignored;	/* files in vms_dir that are not *.yaml */
};

#define REPO_LOAD_INIT                                \
	{                                             \
		STRVEC_INIT, STRVEC_INIT, STRVEC_INIT \
	}

void repo_load_release(struct repo_load *rl);

/*
 * Load definitions into set. With no files, every *.yaml file of vms_dir
 * that is not excluded. With files, those files (all with focus), plus the
 * rest of vms_dir without focus, so cross-file checks see the whole
 * repository while diagnostics speak only of the named files.
 * Returns -1 with e set only when the directory cannot be read.
 */
int repo_load_vms(struct vmset *set, struct diag_list *dl, struct repo_load *rl,
		  const struct config *cfg, const char *const *files,
		  size_t nr_files, struct err *e);

/*
 * Open dir, a directory below the repository (a link out of it is
 * refused), into *out: NULL when it does not exist. 0, or -1.
 */
int repo_opendir(const char *dir, DIR **out, struct err *e);

/*
 * The playbooks (NAME.yml, not hidden) of dir, a directory below the
 * repository (a link out of it is refused), appended to out unsorted.
 */
int repo_list_playbooks(const char *dir, struct strvec *out, struct err *e);

/*
 * file may be given to ansible-playbook: a regular file below dir, which
 * is below the repository. A link is followed only while it stays inside
 * dir (a playbook linked to another directory of the repository, or out
 * of it, is refused). 0, or -1 naming it.
 */
int repo_check_playbook(const char *dir, const char *file, struct err *e);

#endif
