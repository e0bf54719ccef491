/*
 * vault.h - the simulated Vault: its KV mounts (version 1 or 2), the
 * secrets in them with their version history and metadata, the root token
 * and the identity the sys/ endpoints report.
 *
 * One mutex (mu) guards everything a request can change; the server holds
 * it for the whole of a request's handling, so a check-and-set is atomic.
 * Names, tokens and identity are fixed before the server starts and are
 * read without it. Times are nanoseconds since the epoch (CLOCK_REALTIME);
 * 0 means "not set".
 */
#ifndef VAULT_SIM_VAULT_H
#define VAULT_SIM_VAULT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strmap.h"
#include "util/strvec.h"

/* What Vault keeps when neither the mount nor the key says otherwise. */
#define KV_DEFAULT_MAX_VERSIONS 10
/* The system default lease TTL (768h) that KV v1 reads report. */
#define KV1_DEFAULT_LEASE_SECONDS 2764800

struct kv_version {
	uint64_t num;
	int64_t created;
	int64_t deletion; /* soft-deleted at (may lie in the future) */
	bool destroyed;
	json_t *data; /* the secret; NULL once destroyed */
};

struct kv_config {
	uint32_t max_versions; /* 0: KV_DEFAULT_MAX_VERSIONS */
	bool cas_required;
	int64_t delete_after; /* seconds; 0: never */
};

/*
 * One key of a mount. A key whose metadata was deleted keeps its slot (the
 * index points at it) with live false and everything else released; a new
 * write brings it back.
 */
struct kv_secret {
	char *ns;   /* namespace: "" or "team-a/" */
	char *path; /* without the mount */
	bool live;
	/* KV v2 key metadata */
	uint64_t current, oldest;
	struct kv_config cfg; /* the key's own max_versions, cas_required... */
	json_t *custom;	      /* custom_metadata: object of strings, or NULL */
	int64_t created, updated;
	struct kv_version *v; /* ascending by num */
	size_t nr_v, alloc_v;
	/* KV v1 */
	json_t *value;
};

struct kv_mount {
	char *name;  /* "kv" or "team/kv": no slash at either end */
	int version; /* 1 or 2 */
	char uuid[37], accessor[16];
	struct kv_config cfg; /* POST <mount>/config */
	struct kv_secret **s;
	size_t nr, alloc;
	struct strmap index; /* ns "\n" path -> position in s */
};

struct vault {
	pthread_mutex_t mu;
	struct kv_mount *m;
	size_t nr_m, alloc_m;
	char *root_token;
	char token_accessor[25];
	char cluster_id[37], cluster_name[32];
	int64_t started;
};

void vault_init(struct vault *v);
/* Free everything; wipes the root token. */
void vault_release(struct vault *v);

/*
 * Add a mount. Fails (EXIT_INVALID) for an empty or malformed name, a
 * reserved one (sys, auth, ...) or one nested in or around another mount.
 */
int vault_add_mount(struct vault *v, const char *name, int version,
		    bool cas_required, struct err *e);
/*
 * The mount that path ("kv/data/a" or "kv") lies under, longest name first,
 * or NULL; *rest points after the mount name and its slash ("data/a", "").
 */
struct kv_mount *vault_find_mount(struct vault *v, const char *path,
				  const char **rest);
/* true when token is the root token (compared in constant time). */
bool vault_token_valid(const struct vault *v, const char *token);

/* The live key at ns/path, or NULL. */
struct kv_secret *mount_get(struct kv_mount *m, const char *ns,
			    const char *path);
/* The key at ns/path, created empty (created = updated = now) if absent. */
struct kv_secret *mount_create(struct kv_mount *m, const char *ns,
			       const char *path, int64_t now);
/* Delete a key with all its versions and metadata. */
void mount_remove(struct kv_mount *m, struct kv_secret *s);
/*
 * The names directly under prefix ("" or ending in '/') in namespace ns,
 * sorted, a trailing '/' on folders: what a LIST returns.
 */
void mount_list(const struct kv_mount *m, const char *ns, const char *prefix,
		struct strvec *out);

/* Version num of s, or NULL (never written, or trimmed). */
struct kv_version *secret_version(struct kv_secret *s, uint64_t num);
/*
 * Add the next version holding data (reference stolen), then trim the
 * oldest versions beyond max(key's, mount's max_versions) or 10, the way
 * Vault's KeyMetadata.AddVersion does. Returns the new version.
 */
struct kv_version *secret_add_version(struct kv_secret *s,
				      const struct kv_config *mount_cfg,
				      json_t *data, int64_t now);
/*
 * When a version written (or undeleted) at now is deleted by
 * delete_version_after: the key's setting, capped by the mount's; 0 none.
 */
int64_t secret_deletion_time(const struct kv_secret *s,
			     const struct kv_config *mount_cfg, int64_t now);
/* Soft-deleted as of now. */
bool version_deleted(const struct kv_version *ver, int64_t now);

int64_t time_now(void);
/* RFC 3339 in UTC with trailing zeros of the fraction cut, as Go prints
 * it ("2018-03-22T02:24:06.945319214Z"); "" for 0. */
void time_format(char *buf, size_t size, int64_t ns);

/* Random bytes from the kernel (abort on failure). */
void rand_bytes(void *buf, size_t n);
/* A random version 4 UUID, NUL-terminated. */
void rand_uuid(char out[37]);
/* n random characters from [0-9A-Za-z], NUL-terminated (out has n + 1). */
void rand_alnum(char *out, size_t n);

#endif
