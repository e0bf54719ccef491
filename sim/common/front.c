/*
 * front.c - a simulator's server, log and faults from the common options,
 * and its main thread's signals (see front.h).
 */
#include "front.h"

#include <pthread.h>

int sim_front_start(struct sim_front *f, const struct sim_common_opts *o,
		    const struct sim_tls *tls, size_t max_body,
		    httpd_handler_fn *handler, void *ctx, struct err *e)
{
	struct httpd_opts ho = {
		.host = o->host,
		.port = o->port,
		.max_body = max_body,
		.pass_too_large = true,
		.handler = handler,
		.ctx = ctx,
	};

	f->httpd = NULL;
	sim_faults_init(&f->faults, o->fault_names);
	f->faults.rate = o->fault_rate;
	f->faults.mask = o->faults;
	f->faults.seed = o->seed;
	if (reqlog_open(&f->log, o->request_log, e) < 0)
		return -1;
	if (tls) {
		ho.cert_pem = tls->cert_pem.buf;
		ho.key_pem = tls->key_pem.buf;
	}
	if (httpd_start(&f->httpd, &ho, e) < 0)
		return -1;
	f->port = httpd_port(f->httpd);
	return 0;
}

void sim_front_stop(struct sim_front *f)
{
	httpd_stop(f->httpd);
	f->httpd = NULL;
	reqlog_close(&f->log);
	sim_faults_release(&f->faults);
}

void sim_signals_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, set, NULL);
}

void sim_signals_wait(sigset_t *set)
{
	int sig;

	sigdelset(set, SIGPIPE);
	do {
		if (sigwait(set, &sig) != 0)
			break;
	} while (sig != SIGINT && sig != SIGTERM);
}
