/*
 * publish.h - the automated commit of stage one and its push.
 *
 * The files pve-gitops owns (the inventory, new_hosts.txt, host_vars/) are
 * committed as "Auto-update Ansible inventory [ansible NAME]" and pushed. A
 * push rejected because someone pushed first (io/git.h: git_push) is
 * fetched and rebased, PUSH_ATTEMPTS pushes at most; a conflict on the
 * owned files is resolved by regenerating them on top of the other side
 * (inventory_run), never by taking a side: the inventory and new_hosts.txt
 * start from the other side's version even where git merged them, so
 * new_hosts.txt lists the hosts this run added that the other side's
 * inventory does not have. A conflict on any other file undoes the rebase
 * and fails. git's own output (CONFLICT, hints) is never shown: one line
 * says what happened.
 */
#ifndef PVE_GITOPS_OPS_PUBLISH_H
#define PVE_GITOPS_OPS_PUBLISH_H

#include "core/config.h"
#include "util/err.h"
#include "util/strbuf.h"

/* The subject of the automated commit, before its tag. */
#define PUBLISH_SUBJECT "Auto-update Ansible inventory"

/*
 * Before anything is sent or written: each owned path (the inventory,
 * new_hosts.txt, the host_vars directory) and the outputs file is below
 * the repository, so a committed link cannot make the chain read a file
 * from outside into a commit, or write outside; and the inventory parses.
 * 0, or -1 naming the path (FILE:LINE for the inventory).
 */
int publish_check_paths(const struct config *cfg, struct err *e);

/*
 * Rewrite the owned files from what exists, as `pve-gitops inventory`
 * does, printing its summary. 0 or -1.
 */
int publish_inventory(const struct config *cfg, struct err *e);

/*
 * Commit the owned files with the tag (empty: none) in the message; the
 * new commit's hash into out. 1 when there was nothing to commit (out
 * stays empty), 0 committed, -1 failed.
 */
int publish_commit(const struct config *cfg, const char *tag,
		   struct strbuf *out, struct err *e);

/*
 * Push HEAD to remote's git.branch, rebasing when rejected. After the last
 * attempt is rejected too: an error, nothing pushed, the rebased commits
 * in the clone only.
 */
int publish_push(const struct config *cfg, const char *remote, struct err *e);

#endif
