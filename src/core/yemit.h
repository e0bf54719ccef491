/*
 * yemit.h - a JSON value (jansson) written as a YAML 1.2 block document.
 *
 * The files pve-gitops writes for people and for Ansible or kubectl to read
 * (host_vars, kubeconfigs) come out in the block style kubectl itself uses:
 * mappings in their insertion order, sequence items as "- " with a mapping's
 * first key on the same line, strings plain when YAML would read them back
 * as the same string and double-quoted (JSON escapes) otherwise. Pure.
 */
#ifndef PVE_GITOPS_YEMIT_H
#define PVE_GITOPS_YEMIT_H

#include <jansson.h>

#include "util/strbuf.h"

/* Append v (an object, array or scalar) to out as a YAML document body. */
void yemit(struct strbuf *out, const json_t *v);

/* 1 when s may be written as a plain scalar and read back as this string. */
int yemit_plain_ok(const char *s);

#endif
