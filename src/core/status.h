/*
 * status.h - what `watch --listen` shows: the runner's state as plain data
 * (filled by ops/watch.c under its mutex), rendered here as the status
 * page's HTML (status_html) and, in core/metrics.h, as Prometheus text.
 *
 * Every text in the model may come from outside (a repository URL, commit
 * subjects in error messages, VM names): status_html escapes it all, and
 * the URL is kept with its userinfo already redacted (util/url.h).
 *
 * The VM table is a seam: rows of cells, one per link of a VM's chain
 * (defined, created, in inventory, provisioned, kubeconfig published,
 * workloads), each ok, failed or not reached, with a detail and a fix. The
 * `doctor` model fills it (status_rows_from_doctor, after the watch's
 * first fetch and after each pass that did work); until then the page
 * says so.
 */
#ifndef PVE_GITOPS_STATUS_H
#define PVE_GITOPS_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/webhook.h"
#include "util/counters.h"
#include "util/strbuf.h"

#define STATUS_MAX_RUNS	    10 /* the last runs kept, newest first */
#define STATUS_MAX_REQUESTS COUNTERS_MAX
#define STATUS_REFRESH_MIN  5
#define STATUS_REFRESH_MAX  300

enum status_stage { STATUS_STAGE_ONE, STATUS_STAGE_TWO, STATUS_STAGES };
enum status_result {
	STATUS_SUCCESS,
	STATUS_FAILURE,
	STATUS_REFUSED, /* invalid input, passed over */
	STATUS_RESULTS
};

/* One processed commit. */
struct status_run {
	char commit[41];
	bool stages[STATUS_STAGES]; /* which stages ran */
	enum status_result result;
	double started;	     /* Unix seconds */
	double seconds;	     /* how long it took */
	struct strbuf error; /* "" unless it failed or was refused */
};

/* The links of a VM's chain, in order. */
enum status_link {
	STATUS_LINK_DEFINED,
	STATUS_LINK_CREATED,
	STATUS_LINK_INVENTORY,
	STATUS_LINK_PROVISIONED,
	STATUS_LINK_KUBECONFIG,
	STATUS_LINK_WORKLOADS,
	STATUS_LINKS
};
enum status_cell { STATUS_NOT_REACHED, STATUS_OK, STATUS_FAILED };

/* One VM's row (the doctor model's verdict; see the file comment). */
struct status_vm {
	char *name;
	enum status_cell cells[STATUS_LINKS];
	char *detail, *fix; /* NULL: none */
};

/*
 * Run duration histogram buckets (seconds, upper bounds; +Inf implied):
 * from a stage one with nothing to do to a long playbook run.
 */
#define STATUS_BUCKETS 10
extern const double status_buckets[STATUS_BUCKETS];

struct status {
	struct strbuf repo; /* the watched URL, userinfo redacted */
	struct strbuf branch;
	struct strbuf seen;	 /* the branch head at the last fetch */
	struct strbuf processed; /* the progress marker after the last run */
	struct strbuf holder;	 /* the lease holder: "" none known */
	bool lease_held;	 /* by this runner */
	bool busy;		 /* processing, or waiting for the lease */
	unsigned interval;	 /* seconds between fetches */
	double started;		 /* the runner's start, Unix seconds */
	double last_fetch;	 /* the last fetch that worked; 0 never */
	double last_success;	 /* the last run that succeeded; 0 never */
	long behind;		 /* commits pending at the last fetch; -1 */
	uint64_t fetch_errors;

	struct status_run runs[STATUS_MAX_RUNS];
	size_t nr_runs;
	uint64_t runs_total[STATUS_STAGES][STATUS_RESULTS];
	uint64_t buckets[STATUS_BUCKETS]; /* non-cumulative counts */
	uint64_t duration_count;
	double duration_sum;

	uint64_t hooks[WEBHOOK_PROVIDERS][WEBHOOK_VERDICTS];
	bool hooks_enabled;

	/* Proxmox and Vault requests, keyed "SERVICE/CLASS" (filled from
	 * the counters at rendering time) */
	struct counter requests[STATUS_MAX_REQUESTS];
	size_t nr_requests;

	struct status_vm *vms; /* the seam: see the file comment */
	size_t nr_vms;
};

void status_init(struct status *st);
void status_release(struct status *st);

/*
 * Record a processed commit: newest first in runs (the oldest dropped past
 * STATUS_MAX_RUNS), counted per stage that ran and its result, in the
 * histogram; a success sets last_success. error may be NULL.
 */
void status_add_run(struct status *st, const char *commit,
		    const bool stages[STATUS_STAGES], enum status_result result,
		    double started, double seconds, const char *error);

/*
 * Replace the VM rows with rows[0..n) (the seam: the doctor model's
 * verdicts), taking ownership of rows and of its strings (malloc'd; freed
 * by status_release or the next call). rows NULL, n 0: no rows.
 */
void status_set_vms(struct status *st, struct status_vm *rows, size_t n);

/*
 * The rows of doctor's report r (core/doctor.h), into *rows (malloc'd, n
 * of them, for status_set_vms). Each cell folds its doctor links:
 * defined (definition, credentials), created (the VM, managed, running,
 * digest, pending), in inventory (inventory, groups), provisioned
 * (new_hosts.txt, tag, playbook, SSH port, host key), kubeconfig
 * published (the context, its server), workloads. A cell is failed when
 * one of its links failed, ok when all of them are, else not reached (a
 * VM that is no K3s VM: its last two). detail and fix: the first failed
 * link's, as "LINK: DETAIL".
 */
struct doctor_report;
void status_rows_from_doctor(const struct doctor_report *r,
			     struct status_vm **rows, size_t *n);

/* "one", "two"; "success", "failure", "refused"; the links' names. */
const char *status_stage_name(enum status_stage s);
const char *status_result_name(enum status_result r);
const char *status_link_name(enum status_link l);

/* Text escaped for HTML element content and attribute values. */
void status_html_escape(struct strbuf *out, const char *s);

/*
 * The status page into out (appended): a whole HTML document, refreshing
 * itself every refresh_s seconds (clamped to STATUS_REFRESH_MIN..MAX),
 * now being the time shown and compared against (Unix seconds).
 */
void status_html(struct strbuf *out, const struct status *st, double now,
		 unsigned refresh_s);

#endif
