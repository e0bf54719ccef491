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

struct sim_guests {
	char *dir;
	bool kvm_mute; /* a KVM guest's kernel printed nothing: use TCG */
	struct sim_guest **g;
	size_t nr, alloc;
};

/* --guests qemu: the guests' directory (dir, or a new one under $TMPDIR). */
int guests_init(struct sim *s, const char *dir, struct err *e);
/* Kill every guest (QMP quit, then SIGKILL) and free s->guests. */
void guests_release(struct sim *s);

/* Does vm run as a real guest (--guests qemu and an image)? */
bool guest_managed(const struct sim *s, const struct sim_vm *vm);
/* The guest of vmid while its process lives, else NULL. */
struct sim_guest *guest_running(struct sim *s, int vmid);

/*
 * Start vm's guest: overlay, disks, cloud-init ISO, then QEMU; the log
 * gets the accelerator and the PID. -1 with the reason in why.
 */
int guest_start(struct sim *s, struct sim_vm *vm, struct strvec *log,
		struct strbuf *why);
/* QMP quit, then SIGKILL after a few seconds; nothing when not running. */
void guest_stop(struct sim *s, int vmid);
/* QMP system_powerdown (the ACPI button); 0, or -1 when not running. */
int guest_powerdown(struct sim *s, int vmid);
/* Stop the guest and remove GUEST_DIR/<vmid>. */
void guest_destroy(struct sim *s, int vmid);
/* Note the guests whose process ended: their VM is stopped. */
void guests_reap(struct sim *s);

/* GET /api2/json/sim/guests (outside the Proxmox API). */
handler_fn h_sim_guests;

#endif
