/*
 * man.h - the man pages generated from the tables (man.c: one per
 * command; manfile.c: the file formats, from the decoders' tables).
 */
#ifndef PVE_GITOPS_CMD_MAN_H
#define PVE_GITOPS_CMD_MAN_H

#include <stdio.h>

/* s as roff text: backslashes, a leading '.' or '\'' and '-' escaped. */
void man_text(FILE *fp, const char *s);
/* The header lines of page NAME(section). */
void man_head(FILE *fp, const char *name, int section, const char *what);
/* pve-gitops.yaml(5) (kind "config") or pve-gitops-vm(5) ("vmdef"). */
void man_file_page(FILE *fp, const char *kind);

#endif
