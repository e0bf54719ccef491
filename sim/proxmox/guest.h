/*
 * guest.h - real guests (proxmox-sim --guests qemu, issue 22): a VM whose
 * template names an image (topology "image: DIR") runs as a
 * qemu-system-x86_64 process of its own, with a copy-on-write overlay of
 * the image, real qcow2 files for its other disks, a NoCloud cloud-init
 * drive, and its SSH port forwarded to 127.0.0.1. Everything it needs lives
 * in GUEST_DIR/<vmid>/ (--guest-dir). Without --guests qemu, s->guests is
 * NULL and nothing here runs.
 *
 * Every function is called with the model's mutex held, except the agent's
 * calls over a guest's qga socket (agent.c), which hold only the guest's
 * qga_mu.
 */
#ifndef PVE_SIM_GUEST_H
#define PVE_SIM_GUEST_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "endpoint.h"
#include "sim.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* A VM's QEMU process. Never freed before the simulator stops, so that an
 * agent call that dropped the model's mutex may still hold it. */
struct sim_guest {
	int vmid;
	pid_t pid; /* 0: not running */
	int ssh_port;
	bool kvm;
	char node[64];
	char *dir; /* GUEST_DIR/<vmid> */
	char *console, *qmp, *qga;
	pthread_mutex_t qga_mu; /* one agent request at a time */
};

/* --guest-accel: auto (KVM when it boots a guest, else TCG), kvm, tcg */
enum guest_accel { GUEST_ACCEL_AUTO, GUEST_ACCEL_KVM, GUEST_ACCEL_TCG };

struct sim_guests {
	char *dir;
	enum guest_accel accel;
	bool kvm_mute; /* a KVM guest's kernel printed nothing: use TCG */
	struct sim_guest **g;
	size_t nr, alloc;
};

/* --guests qemu: the guests' directory (dir, or a new one under $TMPDIR)
 * and --guest-accel. */
int guests_init(struct sim *s, const char *dir, enum guest_accel accel,
		struct err *e);
/* (what the model, sim.c, calls is declared in sim.h) */
/* QMP system_powerdown (the ACPI button); 0, or -1 when not running. */
int guest_powerdown(struct sim *s, int vmid);

/* GET /api2/json/sim/guests (outside the Proxmox API). */
handler_fn h_sim_guests;

#endif
