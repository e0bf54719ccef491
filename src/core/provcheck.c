/*
 * provcheck.c - the verdict on new hosts before the playbook; see
 * provcheck.h.
 */
#include "core/provcheck.h"

#include <string.h>

#include "util/exitcode.h"

static void set(struct provcheck *out, enum provcheck_verdict v,
		const char *cloud_init, const char *why)
{
	out->verdict = v;
	out->cloud_init = cloud_init;
	out->why = why;
}

void provcheck_judge(struct provcheck *out, int status, bool continue_on_error)
{
	switch (status) {
	case 0:
		set(out, PROVCHECK_READY, "done", NULL);
		break;
	case 127: /* the remote shell found no cloud-init */
		set(out, PROVCHECK_READY, "absent", NULL);
		break;
	case 2:
		set(out, PROVCHECK_WARN, "degraded",
		    "cloud-init finished with recoverable errors (degraded)");
		break;
	case 255: /* ssh's own failure: the login, or the connection */
		set(out, PROVCHECK_FAILED, "not checked", "SSH login failed");
		break;
	case -1:
		set(out, PROVCHECK_FAILED, "not checked",
		    "ssh could not be started");
		break;
	case PROVCHECK_TIMED_OUT:
		set(out, PROVCHECK_FAILED, "running",
		    "cloud-init had not finished");
		break;
	default:
		if (continue_on_error)
			set(out, PROVCHECK_WARN, "error",
			    "cloud-init reported an error; provisioned anyway "
			    "(provision.on_cloud_init_error: continue)");
		else
			set(out, PROVCHECK_FAILED, "error",
			    "cloud-init reported an error (cloud-init status: "
			    "error; provision.on_cloud_init_error: continue "
			    "provisions it anyway)");
		break;
	}
}

void provcheck_unreachable(struct provcheck *out)
{
	set(out, PROVCHECK_FAILED, "not checked", "unreachable");
}

bool provcheck_runs(size_t nr, size_t failed)
{
	return !nr || failed < nr;
}

int provcheck_exit(size_t failed, bool ran, int playbook_status)
{
	if (failed || (ran && playbook_status))
		return EXIT_FAIL;
	return EXIT_OK;
}

static const struct provision_wait_rule *wait_rule(const struct config *cfg,
						   const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < cfg->provision.nr_wait_for; i++) {
		const char *pb = cfg->provision.wait_for[i].playbook;

		if (strlen(pb) == len && !strncmp(pb, name, len))
			return &cfg->provision.wait_for[i];
	}
	return NULL;
}

enum provision_wait provcheck_wait_for(const struct config *cfg,
				       const char *name, const char *file)
{
	const struct provision_wait_rule *r = NULL;
	size_t len;

	if (name)
		r = wait_rule(cfg, name, strlen(name));
	if (!r && file) {
		len = strlen(file);
		if (len > 4 && !strcmp(file + len - 4, ".yml"))
			len -= 4;
		else if (len > 5 && !strcmp(file + len - 5, ".yaml"))
			len -= 5;
		r = wait_rule(cfg, file, len);
	}
	return r ? r->wait : PROVISION_WAIT_SSH;
}

const char *provcheck_wait_name(enum provision_wait w)
{
	switch (w) {
	case PROVISION_WAIT_TALOS:
		return "talos";
	case PROVISION_WAIT_NONE:
		return "none";
	case PROVISION_WAIT_SSH:
		break;
	}
	return "ssh";
}

void provcheck_reached(struct provcheck *out)
{
	set(out, PROVCHECK_READY, "not checked", NULL);
}
