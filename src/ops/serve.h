/*
 * serve.h - watch --listen: the board the watch loop writes its state on
 * and the HTTP server (util/httpd.h) that shows it: the status page at /,
 * the Prometheus exposition at /metrics, /healthz and /readyz, and the
 * push webhooks at POST /hooks/push, which wake the loop's sleep at once.
 *
 * The board's status (core/status.h) is written by the watch loop and read
 * by the server's connection threads, both under the board's mutex; the
 * rendering is core/status.c and core/metrics.c. The webhook secret comes
 * from PVE_GITOPS_WEBHOOK_SECRET only (struct env); without it the hook
 * answers 403 and says why. Nothing served shows a secret.
 *
 * /healthz: 200 while the process serves. /readyz: 200 once a fetch has
 * worked and either the loop is busy (processing, or waiting for another
 * runner's lease: the lease's state is known) or the last fetch is at most
 * three intervals and 30 s old; else 503 with the reason.
 */
#ifndef PVE_GITOPS_OPS_SERVE_H
#define PVE_GITOPS_OPS_SERVE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "core/status.h"
#include "util/counters.h"
#include "util/err.h"

#define SERVE_MAX_BODY (1024 * 1024) /* a push event's payload, capped */

struct serve_board {
	pthread_mutex_t mu;
	pthread_cond_t cv;	  /* signalled by a push (CLOCK_MONOTONIC) */
	bool woken;		  /* under mu */
	struct status st;	  /* under mu */
	struct counters requests; /* Proxmox and Vault (its own lock) */
	const char *secret;	  /* the webhook secret, NULL: hooks off;
				   * borrowed from struct env */
};

void serve_board_init(struct serve_board *b, const char *secret);
void serve_board_release(struct serve_board *b);

/*
 * Sleep up to s seconds: until a push wakes the board, or *stop is set
 * (checked every 200 ms). A push that came while the loop was busy ends
 * the next sleep at once. true when a push woke it.
 */
bool serve_board_sleep(struct serve_board *b, unsigned s,
		       volatile sig_atomic_t *stop);
/* Wake the sleeper (a valid push). */
void serve_board_wake(struct serve_board *b);

/* Wall-clock seconds, as the page and the metrics show time. */
double serve_now(void);

struct serve;

/*
 * Serve board on listen ("ADDR:PORT", an IPv4 address; port 0: a free
 * one). *out is the server (serve_stop()); the URL it serves is
 * serve_url(). -1 with e set (EXIT_INVALID for a bad ADDR:PORT, EXIT_FAIL
 * when it cannot be bound).
 */
int serve_start(struct serve **out, const char *listen,
		struct serve_board *board, struct err *e);
const char *serve_url(const struct serve *s);
/* Stop serving, free s. NULL: nothing. */
void serve_stop(struct serve *s);

#endif
