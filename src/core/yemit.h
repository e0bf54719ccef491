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

/*
 * The same with every string value (never a key) written as "TAG VALUE":
 * Ansible's "!unsafe" marks a value that is never templated. tag is the
 * caller's constant, a YAML tag ("!" and letters); NULL: yemit().
 */
void yemit_tagged(struct strbuf *out, const json_t *v, const char *tag);

/* 1 when s may be written as a plain scalar and read back as this string. */
int yemit_plain_ok(const char *s);

#endif
