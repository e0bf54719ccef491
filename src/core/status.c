/*
 * status.c - the watch's state and its status page; see status.h.
 */
#include "core/status.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/doctor.h"
#include "util/utf8.h"
#include "util/xalloc.h"

const double status_buckets[STATUS_BUCKETS] = { 1,   5,	  15,  30,   60,
						120, 300, 600, 1800, 3600 };

void status_init(struct status *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	strbuf_init(&st->repo, 0);
	strbuf_init(&st->branch, 0);
	strbuf_init(&st->seen, 0);
	strbuf_init(&st->processed, 0);
	strbuf_init(&st->holder, 0);
	for (i = 0; i < STATUS_MAX_RUNS; i++)
		strbuf_init(&st->runs[i].error, 0);
	st->behind = -1;
}

void status_set_vms(struct status *st, struct status_vm *rows, size_t n)
{
	size_t i;

	for (i = 0; i < st->nr_vms; i++) {
		free(st->vms[i].name);
		free(st->vms[i].detail);
		free(st->vms[i].fix);
	}
	free(st->vms);
	st->vms = rows;
	st->nr_vms = rows ? n : 0;
}

/* The status cell a doctor link belongs to. */
static enum status_link cell_of(enum doctor_link_id id)
{
	switch (id) {
	case DL_DEFINITION:
	case DL_CREDENTIALS:
		return STATUS_LINK_DEFINED;
	case DL_PROXMOX_VM:
	case DL_MANAGED:
	case DL_RUNNING:
	case DL_DIGEST:
	case DL_PENDING:
		return STATUS_LINK_CREATED;
	case DL_INVENTORY:
	case DL_GROUPS:
		return STATUS_LINK_INVENTORY;
	case DL_KUBE_CONTEXT:
	case DL_KUBE_SERVER:
		return STATUS_LINK_KUBECONFIG;
	case DL_WORKLOADS:
		return STATUS_LINK_WORKLOADS;
	default:
		return STATUS_LINK_PROVISIONED;
	}
}

void status_rows_from_doctor(const struct doctor_report *r,
			     struct status_vm **rows, size_t *n)
{
	size_t i, j;

	*n = r->nr;
	*rows = r->nr ? xcalloc(r->nr, sizeof(**rows)) : NULL;
	for (i = 0; i < r->nr; i++) {
		const struct doctor_vm *vm = &r->vms[i];
		struct status_vm *row = &(*rows)[i];
		bool seen[STATUS_LINKS] = { false }, all_ok[STATUS_LINKS];
		bool failed[STATUS_LINKS] = { false };
		enum status_link c;

		row->name = xstrdup(vm->name);
		for (c = 0; c < STATUS_LINKS; c++)
			all_ok[c] = true;
		for (j = 0; j < vm->nr; j++) {
			const struct doctor_link *l = &vm->links[j];
			struct strbuf sb = STRBUF_INIT;

			c = cell_of(l->id);
			seen[c] = true;
			all_ok[c] = all_ok[c] && l->status == DOCTOR_OK;
			if (l->status != DOCTOR_FAILED || row->detail) {
				failed[c] |= l->status == DOCTOR_FAILED;
				continue;
			}
			failed[c] = true;
			strbuf_addf(&sb, "%s: %s", doctor_link_name(l->id),
				    l->detail.buf);
			row->detail = strbuf_detach(&sb, NULL);
			if (l->fix.len)
				row->fix = xstrdup(l->fix.buf);
		}
		for (c = 0; c < STATUS_LINKS; c++)
			row->cells[c] = failed[c] ? STATUS_FAILED
					: seen[c] && all_ok[c]
						? STATUS_OK
						: STATUS_NOT_REACHED;
	}
}

void status_release(struct status *st)
{
	size_t i;

	strbuf_release(&st->repo);
	strbuf_release(&st->branch);
	strbuf_release(&st->seen);
	strbuf_release(&st->processed);
	strbuf_release(&st->holder);
	for (i = 0; i < STATUS_MAX_RUNS; i++)
		strbuf_release(&st->runs[i].error);
	status_set_vms(st, NULL, 0);
}

void status_add_run(struct status *st, const char *commit,
		    const bool stages[STATUS_STAGES], enum status_result result,
		    double started, double seconds, const char *error)
{
	struct strbuf oldest = st->runs[STATUS_MAX_RUNS - 1].error;
	struct status_run *r;
	size_t i, len;

	memmove(&st->runs[1], &st->runs[0],
		(STATUS_MAX_RUNS - 1) * sizeof(st->runs[0]));
	r = &st->runs[0];
	r->error = oldest; /* the buffer of the run dropped, reused */
	strbuf_reset(&r->error);
	if (error)
		strbuf_addstr(&r->error, error);
	len = strnlen(commit, sizeof(r->commit) - 1);
	memcpy(r->commit, commit, len);
	r->commit[len] = '\0';
	memcpy(r->stages, stages, sizeof(r->stages));
	r->result = result;
	r->started = started;
	r->seconds = seconds < 0 ? 0 : seconds;
	if (st->nr_runs < STATUS_MAX_RUNS)
		st->nr_runs++;
	for (i = 0; i < STATUS_STAGES; i++)
		if (stages[i])
			st->runs_total[i][result]++;
	for (i = 0; i < STATUS_BUCKETS && r->seconds > status_buckets[i]; i++)
		;
	if (i < STATUS_BUCKETS)
		st->buckets[i]++;
	st->duration_count++;
	st->duration_sum += r->seconds;
	if (result == STATUS_SUCCESS)
		st->last_success = started + r->seconds;
}

const char *status_stage_name(enum status_stage s)
{
	return s == STATUS_STAGE_ONE ? "one" : "two";
}

const char *status_result_name(enum status_result r)
{
	static const char *const names[] = { "success", "failure", "refused" };

	return r < STATUS_RESULTS ? names[r] : "failure";
}

const char *status_link_name(enum status_link l)
{
	static const char *const names[] = { "defined",
					     "created",
					     "in inventory",
					     "provisioned",
					     "kubeconfig published",
					     "workloads" };

	return l < STATUS_LINKS ? names[l] : "?";
}

void status_html_escape(struct strbuf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), k;
	uint32_t cp;

	while (n) {
		k = utf8_next(&cp, p, n);
		if (cp == '&')
			strbuf_addstr(out, "&amp;");
		else if (cp == '<')
			strbuf_addstr(out, "&lt;");
		else if (cp == '>')
			strbuf_addstr(out, "&gt;");
		else if (cp == '"')
			strbuf_addstr(out, "&quot;");
		else if (cp == '\'')
			strbuf_addstr(out, "&#39;");
		else if (cp == '\n' || cp == '\t')
			strbuf_addch(out, (int)cp);
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
			 cp == UTF8_REPLACEMENT)
			strbuf_addstr(out, "\xef\xbf\xbd"); /* U+FFFD */
		else
			strbuf_add(out, p, k);
		p += k;
		n -= k;
	}
}

/* "2026-12-02 13:40:10 UTC", or "never" for 0. */
static void add_time(struct strbuf *out, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t <= 0 || !gmtime_r(&s, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm)) {
		strbuf_addstr(out, "never");
		return;
	}
	strbuf_addstr(out, buf);
}

static void add_duration(struct strbuf *out, double s)
{
	if (s < 60)
		strbuf_addf(out, "%.1f s", s);
	else
		strbuf_addf(out, "%u min %02u s", (unsigned)(s / 60),
			    (unsigned)s % 60);
}

/* A commit id shortened to 12 characters, escaped. */
static void add_short(struct strbuf *out, const char *commit)
{
	char buf[13];
	size_t n = strnlen(commit, 12);

	memcpy(buf, commit, n);
	buf[n] = '\0';
	status_html_escape(out, buf);
}

/* A <dt>/<dd> pair for a commit: short, the whole id in its title. */
static void add_commit(struct strbuf *out, const char *id, const char *term,
		       const char *commit)
{
	strbuf_addf(out, "<dt>%s</dt><dd id=\"%s\"><code title=\"", term, id);
	status_html_escape(out, commit);
	strbuf_addstr(out, "\">");
	add_short(out, *commit ? commit : "-");
	strbuf_addstr(out, "</code></dd>\n");
}

/* A <dt>/<dd> pair; the value escaped. */
static void add_item(struct strbuf *out, const char *id, const char *term,
		     const char *value)
{
	strbuf_addf(out, "<dt>%s</dt><dd id=\"%s\">", term, id);
	status_html_escape(out, value && *value ? value : "-");
	strbuf_addstr(out, "</dd>\n");
}

static const char style[] =
	"body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72em;"
	"padding:0 .8em;line-height:1.4;color:#1b1b1b;background:#fafafa}"
	"h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}"
	"dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}"
	".scroll{overflow-x:auto}"
	"table{border-collapse:collapse;width:100%;font-size:.95em}"
	"th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;"
	"vertical-align:top}"
	"td.error{white-space:pre-wrap;overflow-wrap:anywhere;max-width:30em}"
	".success,.ok{background:#d9f2d9}.failure,.failed{background:#f8d0d0}"
	".refused{background:#f8ecc8}.not-reached{background:#e6e6e6;"
	"color:#555}code{font-size:.95em}.none{color:#555}"
	"footer{margin:2em 0 1em;color:#666;font-size:.85em}"
	/* a phone: each row a card, each cell labelled */
	"@media (max-width:40em){table.cards thead{display:none}"
	"table.cards,table.cards tbody,table.cards tr,table.cards td"
	"{display:block;width:auto}table.cards tr{margin-bottom:.6em;"
	"border:1px solid #bbb}table.cards td{border:0;border-bottom:1px "
	"solid #ddd}table.cards td::before{content:attr(data-label) \": \";"
	"font-weight:600}td.error{max-width:none}}";

static void page_head(struct strbuf *out, const struct status *st,
		      unsigned refresh_s)
{
	strbuf_addstr(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			   "<meta charset=\"utf-8\">\n"
			   "<meta name=\"viewport\" content=\"width=device-"
			   "width, initial-scale=1\">\n");
	strbuf_addf(out, "<meta http-equiv=\"refresh\" content=\"%u\">\n",
		    refresh_s);
	strbuf_addstr(out, "<title>pve-gitops watch: ");
	status_html_escape(out, st->branch.buf);
	strbuf_addf(out,
		    "</title>\n<style>%s</style>\n</head>\n<body>\n"
		    "<h1>pve-gitops watch</h1>\n",
		    style);
}

static void add_lease(struct strbuf *out, const struct status *st)
{
	struct strbuf v = STRBUF_INIT;

	if (st->lease_held)
		strbuf_addf(&v, "held by this runner (%s)", st->holder.buf);
	else if (st->busy && st->holder.len)
		strbuf_addf(&v, "held by %s; this runner waits",
			    st->holder.buf);
	else if (st->busy)
		strbuf_addstr(&v, "this runner is taking it");
	else
		strbuf_addstr(&v, "not held by this runner");
	add_item(out, "lease", "Lease", v.buf);
	strbuf_release(&v);
}

static void page_summary(struct strbuf *out, const struct status *st)
{
	struct strbuf v = STRBUF_INIT;

	strbuf_addstr(out, "<dl id=\"summary\">\n");
	add_item(out, "repo", "Repository", st->repo.buf);
	add_item(out, "branch", "Branch", st->branch.buf);
	add_commit(out, "seen", "Last commit seen", st->seen.buf);
	add_commit(out, "processed", "Last commit processed",
		   st->processed.buf);
	add_lease(out, st);
	if (st->behind >= 0)
		strbuf_addf(&v, "%ld", st->behind);
	add_item(out, "behind", "Commits pending", v.buf);
	strbuf_reset(&v);
	add_time(&v, st->last_fetch);
	add_item(out, "fetched", "Last fetch", v.buf);
	strbuf_reset(&v);
	add_time(&v, st->last_success);
	add_item(out, "succeeded", "Last success", v.buf);
	strbuf_reset(&v);
	strbuf_addf(&v, "every %u s%s", st->interval,
		    st->hooks_enabled ? ", and on push webhooks" : "");
	add_item(out, "polling", "Fetches", v.buf);
	strbuf_addstr(out, "</dl>\n");
	strbuf_release(&v);
}

static void add_stages(struct strbuf *out, const struct status_run *r)
{
	if (r->stages[STATUS_STAGE_ONE] && r->stages[STATUS_STAGE_TWO])
		strbuf_addstr(out, "one, two");
	else if (r->stages[STATUS_STAGE_ONE])
		strbuf_addstr(out, "one");
	else if (r->stages[STATUS_STAGE_TWO])
		strbuf_addstr(out, "two");
	else
		strbuf_addstr(out, "none");
}

static void page_runs(struct strbuf *out, const struct status *st)
{
	size_t i;

	strbuf_addstr(out, "<h2>Last runs</h2>\n");
	if (!st->nr_runs) {
		strbuf_addstr(out, "<p class=\"none\" id=\"runs-none\">No "
				   "commit processed yet.</p>\n");
		return;
	}
	strbuf_addstr(out, "<div class=\"scroll\"><table id=\"runs\" "
			   "class=\"cards\">\n"
			   "<thead><tr><th>Commit</th><th>Stages</th>"
			   "<th>Result</th><th>Started</th><th>Duration</th>"
			   "<th>Error</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < st->nr_runs; i++) {
		const struct status_run *r = &st->runs[i];
		const char *res = status_result_name(r->result);

		strbuf_addf(out,
			    "<tr class=\"run %s\"><td data-label=\""
			    "Commit\"><code title=\"",
			    res);
		status_html_escape(out, r->commit);
		strbuf_addstr(out, "\">");
		add_short(out, r->commit);
		strbuf_addstr(out, "</code></td><td class=\"stages\" "
				   "data-label=\"Stages\">");
		add_stages(out, r);
		strbuf_addf(out,
			    "</td><td class=\"result\" data-label=\""
			    "Result\">%s</td><td data-label=\"Started\">",
			    res);
		add_time(out, r->started);
		strbuf_addstr(out, "</td><td data-label=\"Duration\">");
		add_duration(out, r->seconds);
		strbuf_addstr(out, "</td><td class=\"error\" data-label=\""
				   "Error\">");
		status_html_escape(out, r->error.buf);
		strbuf_addstr(out, "</td></tr>\n");
	}
	strbuf_addstr(out, "</tbody>\n</table></div>\n");
}

static const char *cell_class(enum status_cell c)
{
	return c == STATUS_OK	    ? "ok"
	       : c == STATUS_FAILED ? "failed"
				    : "not-reached";
}

static const char *cell_text(enum status_cell c)
{
	return c == STATUS_OK	    ? "ok"
	       : c == STATUS_FAILED ? "failed"
				    : "not reached";
}

static void vm_row(struct strbuf *out, const struct status_vm *vm)
{
	size_t j;

	strbuf_addstr(out, "<tr class=\"vm\"><td data-label=\"VM\"><details>"
			   "<summary>");
	status_html_escape(out, vm->name ? vm->name : "");
	strbuf_addstr(out, "</summary>");
	if (vm->detail) {
		strbuf_addstr(out, "<p class=\"detail\">");
		status_html_escape(out, vm->detail);
		strbuf_addstr(out, "</p>");
	}
	if (vm->fix) {
		strbuf_addstr(out, "<p class=\"fix\">Fix: ");
		status_html_escape(out, vm->fix);
		strbuf_addstr(out, "</p>");
	}
	strbuf_addstr(out, "</details></td>");
	for (j = 0; j < STATUS_LINKS; j++)
		strbuf_addf(out, "<td class=\"%s\" data-label=\"%s\">%s</td>",
			    cell_class(vm->cells[j]), status_link_name(j),
			    cell_text(vm->cells[j]));
	strbuf_addstr(out, "</tr>\n");
}

static void page_vms(struct strbuf *out, const struct status *st)
{
	size_t i;

	strbuf_addstr(out, "<h2>VMs</h2>\n");
	if (!st->nr_vms) {
		strbuf_addstr(out, "<p class=\"none\" id=\"vms-none\">No VM "
				   "chain data yet: the VMs are walked after "
				   "the first fetch.</p>\n");
		return;
	}
	strbuf_addstr(out, "<div class=\"scroll\"><table id=\"vms\" "
			   "class=\"cards\">\n"
			   "<thead><tr><th>VM</th>");
	for (i = 0; i < STATUS_LINKS; i++)
		strbuf_addf(out, "<th>%s</th>", status_link_name(i));
	strbuf_addstr(out, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < st->nr_vms; i++)
		vm_row(out, &st->vms[i]);
	strbuf_addstr(out, "</tbody>\n</table></div>\n");
}

void status_html(struct strbuf *out, const struct status *st, double now,
		 unsigned refresh_s)
{
	if (refresh_s < STATUS_REFRESH_MIN)
		refresh_s = STATUS_REFRESH_MIN;
	if (refresh_s > STATUS_REFRESH_MAX)
		refresh_s = STATUS_REFRESH_MAX;
	page_head(out, st, refresh_s);
	page_summary(out, st);
	page_runs(out, st);
	page_vms(out, st);
	strbuf_addstr(out, "<footer>As of ");
	add_time(out, now);
	strbuf_addf(out,
		    "; this page reloads every %u s. "
		    "<a href=\"/metrics\">metrics</a></footer>\n"
		    "</body>\n</html>\n",
		    refresh_s);
}
