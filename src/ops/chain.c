/*
 * chain.c - the stages of the chain; see chain.h.
 *
 * Stage one reads nothing from the commit itself: the caller read it once
 * (chain_commit_read) and a refused tag stopped everything before Proxmox
 * was touched.
 */
#include "ops/chain.h"

#include <stdio.h>
#include <string.h>

#include "io/git.h"
#include "io/repo.h"
#include "ops/diags.h"
#include "ops/provision.h"
#include "ops/publish.h"
#include "ops/reconcile.h"
#include "ops/release.h"
#include "ops/workloads.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/url.h"

void chain_commit_init(struct chain_commit *c)
{
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->name, 0);
	strbuf_init(&c->rev, 0);
	strbuf_init(&c->tag, 0);
}

void chain_commit_release(struct chain_commit *c)
{
	strbuf_release(&c->name);
	strbuf_release(&c->rev);
	strbuf_release(&c->tag);
}

int chain_commit_read(struct chain_commit *c, const struct config *cfg,
		      const char *rev, bool paths, struct err *e)
{
	int rc;

	strbuf_reset(&c->tag);
	strbuf_reset(&c->name);
	strbuf_addstr(&c->name, rev);
	strbuf_reset(&c->rev);
	if (git_rev_parse(rev, &c->rev, e) < 0 ||
	    git_commit_tag(c->rev.buf, &c->tag, e) < 0)
		return -1;
	if (!paths)
		return 0;
	rc = git_commit_touches(c->rev.buf, cfg->vms_dir, e);
	if (!rc)
		rc = git_commit_touches(c->rev.buf, CONFIG_FILE_NAME, e);
	if (rc < 0)
		return -1;
	c->touches_defs = rc;
	rc = git_commit_touches(c->rev.buf, cfg->new_hosts, e);
	if (rc < 0)
		return -1;
	c->touches_new_hosts = rc;
	return 0;
}

void stage_one_result_init(struct stage_one_result *r)
{
	memset(r, 0, sizeof(*r));
	strbuf_init(&r->automated, 0);
	strbuf_init(&r->release_tag, 0);
}

void stage_one_result_release(struct stage_one_result *r)
{
	strbuf_release(&r->automated);
	strbuf_release(&r->release_tag);
}

/* The release first, in process, instead of polling for it. */
static int release_first(const struct config *cfg, struct stage_one_result *out,
			 struct err *e)
{
	struct release_request req = { false };
	struct release_outcome o;
	int ret;

	memset(&o, 0, sizeof(o));
	ret = release_make(&o, cfg, &req, e);
	if (ret < 0)
		err_prefix(e, "release");
	else if (o.made && o.r.tag)
		strbuf_addstr(&out->release_tag, o.r.tag);
	release_outcome_release(&o);
	return ret;
}

/* apply --auto-approve, then inventory, as the commands would. */
static int apply_and_inventory(const struct config *cfg, struct err *e)
{
	struct reconcile_req req;
	struct reconcile_result res;
	int rc;

	memset(&req, 0, sizeof(req));
	req.apply = true;
	req.auto_approve = true;
	reconcile_result_init(&res);
	rc = reconcile_run(cfg, &req, &res, e);
	reconcile_result_release(&res);
	fflush(stdout);
	if (rc < 0)
		return err_prefix(e, "apply");
	return publish_inventory(cfg, e) < 0 ? err_prefix(e, "inventory") : 0;
}

/*
 * Nothing was committed: 1 when the remote's branch has HEAD already (at
 * it or past it), so a push has nothing to send; 0 when HEAD holds commits
 * the remote lacks (an earlier run's push that failed); -1 on failure.
 */
static int remote_has_head(const struct config *cfg, const char *remote,
			   struct err *e)
{
	struct strbuf ref = STRBUF_INIT, there = STRBUF_INIT;
	struct strbuf head = STRBUF_INIT;
	int rc = -1;

	strbuf_addf(&ref, "refs/heads/%s", cfg->git.branch);
	if (git_remote_ref(remote, ref.buf, &there, e) < 0 ||
	    git_rev_parse("HEAD", &head, e) < 0)
		goto out;
	if (!there.len)
		rc = 0;
	else if (!strcmp(there.buf, head.buf))
		rc = 1;
	else if (!git_has_commit(there.buf) && /* someone pushed since */
		 git_fetch_refspec(remote, ref.buf, e) < 0)
		rc = -1;
	else if (!git_has_commit(there.buf)) /* moved again: let push tell */
		rc = 0;
	else
		rc = git_is_ancestor(head.buf, there.buf, e);
out:
	strbuf_release(&ref);
	strbuf_release(&there);
	strbuf_release(&head);
	return rc;
}

/* --push: the automated commit (and what came before it) to remote. */
static int push(const struct config *cfg, const char *remote,
		const struct stage_one_req *req, struct stage_one_result *out,
		struct err *e)
{
	struct strbuf red = STRBUF_INIT;
	int rc = 0;

	if (lease_check(req->lease, e) < 0)
		return -1;
	if (!out->automated.len && !out->release_tag.len)
		rc = remote_has_head(cfg, remote, e);
	if (rc > 0 && cfg->verbosity >= 0)
		report_print(stdout,
			     "pipeline: nothing to push: %s %s has HEAD "
			     "already\n",
			     url_redacted(&red, remote), cfg->git.branch);
	strbuf_release(&red);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (publish_push(cfg, remote, e) < 0)
		return -1;
	out->pushed = true;
	/* a rebase made the automated commit again: stage two reads the
	 * one that was pushed */
	if (out->automated.len) {
		strbuf_reset(&out->automated);
		if (git_rev_parse("HEAD", &out->automated, e) < 0)
			return -1;
	}
	if (out->release_tag.len &&
	    release_push_tag(cfg, remote, out->release_tag.buf, e) < 0)
		return -1;
	return 0;
}

int chain_stage_one(const struct config *cfg, const struct stage_one_req *req,
		    struct stage_one_result *out, struct err *e)
{
	const struct chain_commit *c = req->commit;
	const char *remote = req->remote ? req->remote : cfg->git.remote;

	report_info(stdout, "pipeline: %s: %s\n", c->name.buf,
		    c->tag.len ? c->tag.buf : "no [ansible NAME] tag");
	fflush(stdout);
	if (lease_check(req->lease, e) < 0 || publish_check_paths(cfg, e) < 0)
		return -1;
	if (cfg->release && release_first(cfg, out, e) < 0)
		return -1;
	if (apply_and_inventory(cfg, e) < 0 ||
	    publish_commit(cfg, c->tag.buf, &out->automated, e) < 0)
		return -1;
	return req->push ? push(cfg, remote, req, out, e) : 0;
}

int chain_workloads(const struct config *cfg, const char *rev,
		    const struct provision_result *two, struct err *e)
{
	struct strvec published = STRVEC_INIT;
	struct workloads_result r;
	size_t i;
	int ret;

	if (!cfg->workloads.chain)
		return 0;
	for (i = 0; two && i < two->nr; i++)
		strvec_push(&published, two->hosts[i].name);
	workloads_result_init(&r);
	ret = workloads_chain_apply(&r, cfg, rev, &published, e);
	report_diags(cfg, &r.diags, false);
	for (i = 0; i < r.lines.nr; i++)
		report_info(stdout, "workloads: %s\n", r.lines.v[i]);
	fflush(stdout);
	workloads_result_release(&r);
	strvec_clear(&published);
	return ret < 0 ? err_prefix(e, "workloads") : 0;
}

int chain_run(const struct config *cfg, const struct stage_one_req *req,
	      struct err *e)
{
	struct stage_one_result one;
	struct provision_req two;
	struct provision_result res;
	int ret = -1;

	stage_one_result_init(&one);
	provision_result_init(&res);
	if (chain_stage_one(cfg, req, &one, e) < 0)
		goto out;
	if (!one.automated.len) {
		report_info(stdout, "run: no automated commit, so no new "
				    "hosts: stage two has nothing to do\n");
		ret = chain_workloads(cfg, req->commit->rev.buf, NULL, e);
		goto out;
	}
	if (lease_check(req->lease, e) < 0)
		goto out;
	memset(&two, 0, sizeof(two));
	two.commit = one.automated.buf;
	two.tag = req->commit->tag.buf; /* "" for none: read once */
	two.lease = req->lease;
	ret = provision_run(cfg, &two, &res, e);
	provision_print(cfg, &res);
	if (ret >= 0)
		ret = chain_workloads(cfg, req->commit->rev.buf,
				      ret == 0 ? &res : NULL, e);
out:
	provision_result_release(&res);
	stage_one_result_release(&one);
	return ret;
}
