/*
 * complete.h - what the completion scripts are generated from, shared by
 * completion.c (bash, zsh) and complete.c (fish, and `__complete`).
 */
#ifndef PVE_GITOPS_CMD_COMPLETE_H
#define PVE_GITOPS_CMD_COMPLETE_H

#include <stdbool.h>
#include <stdio.h>

#include "cmd/cmd.h"

bool complete_takes_value(const struct opt *o);
/* What `__complete` lists for o's value ("vms", "playbooks"), or NULL. */
const char *complete_value_kind(const struct opt *o);
/* What `__complete` lists for c's arguments, or NULL. */
const char *complete_args_kind(const struct cmd *parent, const struct cmd *c);

/* The fish script, from the same tables. */
void complete_write_fish(FILE *fp, const struct cmd_setup *st);

#endif
