/*
 * race.h - the decisions of the create protocol, pure.
 *
 * Two applies that plan the same create both clone. Each checks, after its
 * clone and again before it writes the digest tag, for another VM of that
 * name: one that is finished (has a digest tag) wins; among ones in
 * progress the lowest vmid wins. The loser removes its own clone. The
 * second check covers a rival whose clone came later but got a lower vmid
 * (vmids are reused), and one finished in between.
 *
 * A create whose answer was lost may have happened: the id is looked up
 * before anything is sent again, and a VM found there is ours only with
 * our name and the "being created" description.
 *
 * An apply killed after it lost but before it removed its clone leaves that
 * clone next to the winner's finished VM: a leftover, which the next plan
 * destroys (plan_is_leftover in core/plan.h).
 */
#ifndef PVE_GITOPS_RACE_H
#define PVE_GITOPS_RACE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/plan.h"

/* The vmid of the VM that beats ours (vmid, named name) among
 * vms[0..n), or 0 when ours wins. Templates do not count. */
int race_rival(const struct actual_vm *vms, size_t n, const char *name,
	       int vmid);

/* Whether a failed create's HTTP status (0: no answer) means it may have
 * been carried out. */
bool race_answer_lost(long status);

/*
 * Whether to look the id up before sending the create again: an answer on
 * this id went missing (lost), and now none came either, a proxy answered
 * (>= 502), or Proxmox says the id exists (exists).
 */
bool race_look_up(bool lost, long status, bool exists);

/* The lost-answer verdict: whether the VM on the id (its configured name
 * and description, either NULL) is the one this apply created as name. */
bool race_is_ours(const char *conf_name, const char *conf_descr,
		  const char *name);

#endif
