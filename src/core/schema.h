/*
 * schema.h - JSON Schema (draft 2020-12) of the files pve-gitops reads,
 * generated from the yd_field tables their decoders walk (ydecode.h), so
 * the schema and the validator cannot drift apart.
 */
#ifndef PVE_GITOPS_SCHEMA_H
#define PVE_GITOPS_SCHEMA_H

#include <jansson.h>

struct yd_field;

/* The kinds of file with a schema: "vmdef", "config", "workspace". */
extern const char *const schema_kinds[];

/* The table of kind, or NULL for an unknown kind. */
const struct yd_field *schema_fields(const char *kind);

/*
 * The schema of kind as a new JSON object (the caller decrefs it), or NULL
 * for an unknown kind.
 */
json_t *schema_build(const char *kind);

#endif
