/*
 * git.h - the git operations the chain needs, through the `git` program
 * (argv only, never a shell), so the user's configuration, credential
 * helpers and CI checkout settings (http.extraheader) apply as they do for
 * git itself. Revisions given by users are passed after --end-of-options
 * and refused when they start with '-'.
 */
#ifndef PVE_GITOPS_GIT_H
#define PVE_GITOPS_GIT_H

#include <stdbool.h>

#include "core/config.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/*
 * Run git with args (NULL-terminated) in the current directory; stdout is
 * captured into out when out is not NULL, stderr into err_out when it is
 * not NULL (else inherited). *status is git's exit status. Returns -1 only
 * when git could not be started.
 */
int git_run(const char *const *args, struct strbuf *out, struct strbuf *err_out,
	    int *status, struct err *e);

/* The same with the config's author as author and committer. */
int git_run_as(const struct config *cfg, const char *const *args,
	       struct strbuf *out, struct strbuf *err_out, int *status,
	       struct err *e);

/*
 * git ARGS (as the config's author when as is not NULL); a non-zero exit
 * is an error "WHAT: git exit status N: git's stderr".
 */
int git_checked(const struct config *as, const char *what,
		const char *const *args, struct strbuf *out, struct err *e);

/* The full message of rev. */
int git_commit_message(const char *rev, struct strbuf *out, struct err *e);

/*
 * The playbook rev's message names ([ansible NAME], core/tag.h) into name:
 * 1 found, 0 no tag, -1 refused (ERR_INVALID, with the reason) or git
 * failed.
 */
int git_commit_tag(const char *rev, struct strbuf *name, struct err *e);

/* The full hash of rev. */
int git_rev_parse(const char *rev, struct strbuf *out, struct err *e);
/* The object ref names, whatever its type (a ref of the git server's that
 * anyone who may push can point at a blob), into out. */
int git_ref_object(const char *ref, struct strbuf *out, struct err *e);

/* 1 when the commit rev changed path (compared with its first parent, or
 * added it as a root commit), 0 when not. */
int git_commit_touches(const char *rev, const char *path, struct err *e);

/* The content of path at rev; 1 when it does not exist there. */
int git_show_file(const char *rev, const char *path, struct strbuf *out,
		  struct err *e);

/*
 * git push --porcelain --end-of-options REMOTE SRC:DST as the config's
 * author. The refusal is read from the porcelain status line, not from
 * git's advice: a push that does not fast-forward (someone pushed first),
 * or one the remote refused while its ref moved to a commit SRC does not
 * contain, is an ERR_CONFLICT error; any other refusal or failure names
 * the status line and git's stderr without its "hint:" lines. The remote
 * shows as url_redacted() shows it, in git's text too.
 */
int git_push(const struct config *cfg, const char *remote, const char *refspec,
	     struct err *e);

/*
 * git's stderr (errs, rewritten in place) as a message may carry it: the
 * "hint:" lines (advice for a person at a terminal) and blank ones
 * dropped, every occurrence of remote as url_redacted() shows it (a token
 * in the URL stays out), each line trimmed, one line: the lines joined with
 * "; ". Pure.
 */
void git_stderr_for_message(struct strbuf *errs, const char *remote);

/*
 * The first refused ref of push --porcelain's output out ("!\tFROM:TO\t
 * SUMMARY (REASON)", git-push(1) OUTPUT), its summary and reason appended
 * to why (when not NULL): 1 when git itself refused it as not a
 * fast-forward ("[rejected]": the remote has commits this one does not), 2
 * for any other refusal ("[remote rejected]": a hook, a protected branch,
 * a ref that moved while the push was under way), 0 when no ref was
 * refused. Pure.
 */
int git_porcelain_refusal(const char *out, struct strbuf *why);

/* --- the lease and the progress marker (ops/lease.h, ops/catchup.h) --- */

/*
 * The oid of the exact ref on remote (git ls-remote) into oid, empty when
 * the remote has no such ref. 0 or -1 (remote unreachable).
 */
int git_remote_ref(const char *remote, const char *ref, struct strbuf *oid,
		   struct err *e);

/* git fetch -q REMOTE REFSPEC. 0 or -1. */
int git_fetch_refspec(const char *remote, const char *refspec, struct err *e);

/*
 * Compare-and-swap of ref on remote: git push --porcelain
 * --force-with-lease=REF:OLD REMOTE NEW:REF (old "" : the ref must not
 * exist; new_oid NULL: delete the ref). A refusal because the ref is not
 * at old any more (git's own check, or the remote's refusal while the ref
 * moved) is ERR_CONFLICT; a refusal while the ref is still at old (a hook,
 * a protection rule) is ERR_PERMANENT with the server's reason; any other
 * failure names git's stderr.
 */
int git_cas_push(const struct config *cfg, const char *remote, const char *ref,
		 const char *old, const char *new_oid, struct err *e);

/*
 * A root commit on the empty tree with message (as the config's author),
 * its hash into out. 0 or -1.
 */
int git_commit_empty_root(const struct config *cfg, const char *message,
			  struct strbuf *out, struct err *e);

/* The raw commit object of oid (git cat-file commit) into out. */
int git_cat_commit(const char *oid, struct strbuf *out, struct err *e);

/* 1 when oid names a commit this repository has, 0 when not. */
int git_has_commit(const char *oid);

/* 1 when a is an ancestor of b (or a == b), 0 when not, -1 on failure. */
int git_is_ancestor(const char *a, const char *b, struct err *e);

/*
 * The first-parent commits of to after from (from..to), oldest first,
 * appended to out. 0 or -1.
 */
int git_first_parents(const char *from, const char *to, struct strvec *out,
		      struct err *e);

/*
 * The newest commits (at most max) of HEAD's first-parent history that
 * changed path and whose message matches grep (a basic regular
 * expression, "^" anchoring it at the start of a line), newest
 * first, appended to out as full hashes (doctor: the automated commits
 * that wrote new_hosts.txt). 0 or -1.
 */
int git_log_touching(const char *path, const char *grep, unsigned max,
		     struct strvec *out, struct err *e);

/* 1 when the work tree has uncommitted changes to tracked files, 0 not. */
int git_worktree_dirty(struct err *e);

/* 1 when name is a configured remote of the repository, 0 when not. */
int git_remote_exists(const char *name);

#endif
