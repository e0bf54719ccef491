/*
 * execute_int.h - private to ops/execute.c and ops/vmaction.c: one worker of
 * the pool, what the workers share, and the actions a worker carries out.
 */
#ifndef PVE_GITOPS_OPS_EXECUTE_INT_H
#define PVE_GITOPS_OPS_EXECUTE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "ops/execute.h"

struct worker;

struct shared {
	const struct plan *plan;
	const struct pve_conn *conn;
	const struct apply_opts *o;
	struct apply_result *res;
	const char **passwords; /* per item: its cipassword_env's value */
	pthread_mutex_t mu, vmid_mu;
	pthread_cond_t cv;
	bool *taken;
	size_t left;		  /* actionable items not taken yet */
	struct strvec busy_nodes; /* one entry per item running on a node */
	int *reserved;
	size_t nr_reserved, alloc_reserved;
	struct worker *workers;
	unsigned nr_workers;
	bool finished;
};

struct worker {
	struct shared *sh;
	char state[96]; /* what it is doing, for the ticker */
	struct pve_client pc;
	bool ready;
	const struct plan_item *it;
	const char *password; /* the item's cipassword, or NULL */
	struct timespec start;
};

/* A progress line for the worker's item ("NAME: TEXT [Ns elapsed]"). */
void worker_say(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The task timeout in seconds. */
int worker_timeout(const struct worker *w);
double worker_elapsed(const struct timespec *t0);

/* A free vmid, reserved for this run (see execute.c). */
int worker_reserve_vmid(struct worker *w, int *out, struct err *e);
/* Keep our own workers off vmid (a VM being destroyed). */
void worker_hold_vmid(struct worker *w, int vmid);

/* The actions (vmaction.c). */
/* 0 created, 1 another apply created it meanwhile, -1 failed. */
int vmaction_create(struct worker *w, struct err *e);
int vmaction_update(struct worker *w, struct err *e);
int vmaction_destroy(struct worker *w, struct err *e);

#endif
