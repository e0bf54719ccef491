/*
 * catchup.c - the shared catch-up loop of run and watch; see catchup.h.
 *
 * A pass: the target (the fetched branch head; for run, HEAD when HEAD has
 * commits the remote lacks; for the local repository, HEAD), the marker,
 * the pending commits between them, each processed and the marker moved.
 * Without --push (remote "."), stage one commits in the local branch, so
 * the commits before HEAD are not checked out (a reset would drop the
 * automated commit just made): they get stage two when they need it, and
 * stage one runs once, at HEAD, which applies what they defined.
 */
#include "ops/catchup.h"

#include <stdio.h>
#include <string.h>

#include "io/git.h"
#include "ops/chain.h"
#include "ops/provision.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/strvec.h"
#include "util/url.h"

#define MAX_PASSES 64

/* What one call carries from commit to commit. */
struct catchup {
	const struct config *cfg;
	const struct catchup_req *req;
	struct lease *lease;
	struct strbuf target, marker;
	bool ahead;	  /* HEAD has commits the remote's branch lacks */
	bool defs_behind; /* local: a commit before HEAD changed definitions */
	struct strbuf tag_behind; /* local: the newest such commit's tag */
};

void catchup_result_init(struct catchup_result *r)
{
	memset(r, 0, sizeof(*r));
	r->refusal = (struct err)ERR_INIT;
}

void catchup_result_release(struct catchup_result *r)
{
	err_release(&r->refusal);
}

static bool local(const struct catchup *cu)
{
	return !strcmp(cu->req->remote, ".");
}

/* The commit the pass goes up to (see the file's comment). */
static int find_target(struct catchup *cu, struct err *e)
{
	struct strbuf head = STRBUF_INIT;
	int rc, ret = -1;

	strbuf_reset(&cu->target);
	cu->ahead = false;
	if (local(cu)) {
		ret = git_rev_parse("HEAD", &cu->target, e);
		goto out;
	}
	if (git_fetch_refspec(cu->req->remote, cu->cfg->git.branch, e) < 0 ||
	    git_rev_parse("FETCH_HEAD", &cu->target, e) < 0)
		goto out;
	if (cu->req->watch) {
		ret = 0;
		goto out;
	}
	if (git_rev_parse("HEAD", &head, e) < 0 ||
	    (rc = git_is_ancestor(head.buf, cu->target.buf, e)) < 0)
		goto out;
	if (!rc) { /* local commits: HEAD is what is to be done */
		cu->ahead = true;
		strbuf_reset(&cu->target);
		strbuf_addstr(&cu->target, head.buf);
	}
	ret = 0;
out:
	strbuf_release(&head);
	return ret;
}

/* The marker's commit (empty: none), fetched when it is not here. */
static int read_marker(struct catchup *cu, struct err *e)
{
	struct err ignore = ERR_INIT;

	if (git_remote_ref(cu->req->remote, CATCHUP_DONE_REF, &cu->marker, e) <
	    0)
		return -1;
	if (cu->marker.len && !git_has_commit(cu->marker.buf))
		git_fetch_refspec(cu->req->remote,
				  "+" CATCHUP_DONE_REF
				  ":" CATCHUP_SEEN_DONE_REF,
				  &ignore);
	err_release(&ignore);
	return 0;
}

/* from..target, or only the target when from is not an ancestor. */
static int pending_from(struct catchup *cu, const char *from, bool marker,
			struct strvec *out, struct err *e)
{
	struct strbuf red = STRBUF_INIT;
	int rc = git_has_commit(from) ? git_is_ancestor(from, cu->target.buf, e)
				      : 0;

	if (rc < 0)
		return -1;
	if (rc)
		return git_first_parents(from, cu->target.buf, out, e);
	if (marker)
		report_warning("the progress marker %.12s on %s is not an "
			       "ancestor of %.12s (history rewritten?): "
			       "processing %.12s only",
			       from, url_redacted(&red, cu->req->remote),
			       cu->target.buf, cu->target.buf);
	strbuf_release(&red);
	strvec_push(out, cu->target.buf);
	return 0;
}

static int find_pending(struct catchup *cu, struct strvec *out, struct err *e)
{
	if (find_target(cu, e) < 0 || read_marker(cu, e) < 0)
		return -1;
	if (cu->marker.len)
		return pending_from(cu, cu->marker.buf, true, out, e);
	if (cu->req->start && *cu->req->start)
		return pending_from(cu, cu->req->start, false, out, e);
	strvec_push(out, cu->target.buf);
	return 0;
}

static void catchup_init(struct catchup *cu, const struct config *cfg,
			 const struct catchup_req *req, struct lease *lease)
{
	memset(cu, 0, sizeof(*cu));
	cu->cfg = cfg;
	cu->req = req;
	cu->lease = lease;
	strbuf_init(&cu->target, 0);
	strbuf_init(&cu->marker, 0);
	strbuf_init(&cu->tag_behind, 0);
}

static void catchup_release(struct catchup *cu)
{
	strbuf_release(&cu->target);
	strbuf_release(&cu->marker);
	strbuf_release(&cu->tag_behind);
}

int catchup_pending(const struct config *cfg, const struct catchup_req *req,
		    size_t *n, struct err *e)
{
	struct catchup cu;
	struct strvec v = STRVEC_INIT;
	int ret;

	catchup_init(&cu, cfg, req, NULL);
	ret = find_pending(&cu, &v, e);
	*n = v.nr;
	strvec_clear(&v);
	catchup_release(&cu);
	return ret;
}

/* 1 when the error is one no retry can change (invalid input). */
static int refused(const struct err *e)
{
	return e->exit_code == EXIT_INVALID ? 1 : -1;
}

/* Check out rev unless it is HEAD (watch: always); never over changes. */
static int check_out(struct catchup *cu, const char *rev, bool at_head,
		     struct err *e)
{
	const char *reset[] = { "reset", "-q", "--hard", rev, NULL };
	int dirty;

	if (!cu->req->watch && at_head)
		return 0;
	if (!cu->req->watch) {
		dirty = git_worktree_dirty(e);
		if (dirty < 0)
			return -1;
		if (dirty)
			return err_setk(e, ERR_BADSTATE, EXIT_FAIL,
					"the work tree has uncommitted changes "
					"and %.12s, not HEAD, is pending: "
					"commit or stash them, then run again",
					rev);
	}
	return git_checked(NULL, "cannot check out the commit", reset, NULL, e);
}

/*
 * Where the marker goes after a stage one that pushed: rev when it is on
 * the branch as pushed; else rev was a local commit that the push rebased,
 * and its place is HEAD's first parent (below the automated commit) or
 * HEAD itself.
 */
static int pushed_position(const char *rev, bool automated,
			   struct strbuf *done_at, struct err *e)
{
	struct strbuf head = STRBUF_INIT;
	int rc = git_rev_parse("HEAD", &head, e);

	if (!rc)
		rc = git_is_ancestor(rev, head.buf, e);
	if (rc > 0)
		rc = 0;
	else if (!rc) {
		strbuf_reset(done_at);
		rc = git_rev_parse(automated ? "HEAD^" : "HEAD", done_at, e);
	}
	strbuf_release(&head);
	return rc;
}

static int stage_one(struct catchup *cu, const struct chain_commit *c,
		     struct strbuf *done_at, struct err *e)
{
	struct stage_one_req req = { c, cu->req->push, cu->req->remote,
				     cu->lease };
	struct stage_one_result one;
	int rc;

	stage_one_result_init(&one);
	rc = chain_stage_one(cu->cfg, &req, &one, e);
	if (!rc && one.pushed)
		rc = pushed_position(c->rev.buf, one.automated.len > 0, done_at,
				     e);
	stage_one_result_release(&one);
	return rc;
}

static int stage_two(struct catchup *cu, const struct chain_commit *c,
		     struct err *e)
{
	struct provision_req two;
	struct provision_result res;
	int rc;

	if (lease_check(cu->lease, e) < 0)
		return -1;
	memset(&two, 0, sizeof(two));
	two.commit = c->rev.buf;
	two.tag = c->tag.buf;
	two.lease = cu->lease;
	provision_result_init(&res);
	rc = provision_run(cu->cfg, &two, &res, e);
	provision_print(cu->cfg, &res);
	if (rc >= 0)
		rc = chain_workloads(cu->cfg, c->rev.buf, rc == 0 ? &res : NULL,
				     e);
	provision_result_release(&res);
	return rc < 0 ? -1 : 0;
}

/* Does c get stage one here? (the local rule of the file's comment) */
static bool wants_stage_one(struct catchup *cu, struct chain_commit *c,
			    bool at_head)
{
	if (!local(cu))
		return c->touches_defs;
	if (!at_head) {
		if (c->touches_defs) {
			cu->defs_behind = true;
			if (c->tag.len) {
				strbuf_reset(&cu->tag_behind);
				strbuf_addstr(&cu->tag_behind, c->tag.buf);
			}
		}
		return false;
	}
	if (!c->touches_defs && !cu->defs_behind)
		return false;
	if (!c->tag.len)
		strbuf_addstr(&c->tag, cu->tag_behind.buf);
	cu->defs_behind = false;
	return true;
}

/*
 * One commit: 0 done, 1 refused for good (invalid input: reported and
 * passed over, since no retry can change it), -1 failed. done_at: where
 * the marker goes.
 */
static int process(struct catchup *cu, const char *rev, struct strbuf *done_at,
		   struct err *e)
{
	struct strbuf head = STRBUF_INIT;
	struct chain_commit c;
	bool at_head;
	int ret = -1;

	chain_commit_init(&c);
	strbuf_reset(done_at);
	strbuf_addstr(done_at, rev);
	if (git_rev_parse("HEAD", &head, e) < 0)
		goto out;
	at_head = !strcmp(head.buf, rev);
	if (check_out(cu, rev, at_head, e) < 0)
		goto out;
	if (chain_commit_read(&c, cu->cfg, rev, true, e) < 0 ||
	    (wants_stage_one(cu, &c, at_head) &&
	     stage_one(cu, &c, done_at, e) < 0) ||
	    (c.tag.len && c.touches_new_hosts
		     ? stage_two(cu, &c, e) < 0
		     : chain_workloads(cu->cfg, c.rev.buf, NULL, e) < 0)) {
		ret = refused(e);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&head);
	chain_commit_release(&c);
	return ret;
}

/* Move the marker to rev (compare-and-swap from where it was read). */
static int move_marker(struct catchup *cu, const char *rev, struct err *e)
{
	if (!strcmp(cu->marker.buf, rev))
		return 0;
	if (lease_check(cu->lease, e) < 0 ||
	    git_cas_push(cu->cfg, cu->req->remote, CATCHUP_DONE_REF,
			 cu->marker.buf, rev, e) < 0)
		return -1;
	strbuf_reset(&cu->marker);
	strbuf_addstr(&cu->marker, rev);
	return 0;
}

/* Before anything is done: what run cannot do in this clone. */
static int first_checks(struct catchup *cu, const struct strvec *pending,
			struct err *e)
{
	struct strbuf head = STRBUF_INIT, red = STRBUF_INIT;
	int dirty = 0, ret = 0;

	if (cu->req->watch || local(cu) || !pending->nr)
		return 0;
	if (cu->ahead && pending->nr > 1)
		ret = err_setk(e, ERR_BADSTATE, EXIT_FAIL,
			       "HEAD has commits %s's %s lacks, and %zu "
			       "commits before it are pending: push HEAD "
			       "first (git push), then run again",
			       url_redacted(&red, cu->req->remote),
			       cu->cfg->git.branch, pending->nr - 1);
	else if (git_rev_parse("HEAD", &head, e) < 0)
		ret = -1;
	else if ((pending->nr > 1 || strcmp(pending->v[0], head.buf)) &&
		 (dirty = git_worktree_dirty(e)) != 0)
		ret = dirty < 0 ? -1
				: err_setk(e, ERR_BADSTATE, EXIT_FAIL,
					   "the work tree has uncommitted "
					   "changes and commits other than "
					   "HEAD are pending: commit or stash "
					   "them, then run again");
	strbuf_release(&head);
	strbuf_release(&red);
	return ret;
}

static void note_refusal(struct catchup *cu, const char *rev,
			 struct catchup_result *out, struct err *ce)
{
	report_error("%s: %.12s refused, passed over: %s", cu->req->who, rev,
		     ce->msg.buf);
	if (!out->refused++) {
		out->refusal = *ce;
		*ce = (struct err)ERR_INIT;
	}
}

/* One pass: the number of commits processed, or -1. */
static int pass(struct catchup *cu, bool first, struct catchup_result *out,
		struct err *e)
{
	struct strvec pending = STRVEC_INIT;
	struct strbuf done_at = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (find_pending(cu, &pending, e) < 0 ||
	    (first && first_checks(cu, &pending, e) < 0))
		goto out;
	for (i = 0; i < pending.nr && !(cu->req->stop && *cu->req->stop); i++) {
		struct err ce = ERR_INIT;
		int rc;

		report_info(stdout, "%s: %.12s\n", cu->req->who, pending.v[i]);
		fflush(stdout);
		rc = process(cu, pending.v[i], &done_at, &ce);
		if (rc < 0) {
			*e = ce;
			err_prefix(e, "%.12s", pending.v[i]);
			goto out;
		}
		if (rc > 0)
			note_refusal(cu, pending.v[i], out, &ce);
		err_release(&ce);
		if (move_marker(cu, done_at.buf, e) < 0)
			goto out;
		out->done++;
	}
	ret = (int)i;
out:
	strvec_clear(&pending);
	strbuf_release(&done_at);
	return ret;
}

int catchup_run(const struct config *cfg, const struct catchup_req *req,
		struct lease *lease, struct catchup_result *out, struct err *e)
{
	struct catchup cu;
	int n, ret = -1, i;

	catchup_init(&cu, cfg, req, lease);
	for (i = 0; i < MAX_PASSES; i++) {
		if (req->stop && *req->stop)
			break;
		n = pass(&cu, i == 0, out, e);
		if (n < 0)
			goto out;
		if (!n)
			break;
	}
	ret = 0;
out:
	catchup_release(&cu);
	return ret;
}
