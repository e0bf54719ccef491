/*
 * vault.c - the model of the simulated Vault: mounts, keys, versions and
 * their bookkeeping (trimming to max_versions, delete_version_after), the
 * root token, times and random identifiers.
 */
#include "vault.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

int64_t time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void time_format(char *buf, size_t size, int64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	size_t n;
	char digits[16];
	int len;

	if (!ns || !gmtime_r(&secs, &tm)) {
		snprintf(buf, size, "%s", "");
		return;
	}
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		len = snprintf(digits, sizeof(digits), ".%09ld", frac);
		while (len > 1 && digits[len - 1] == '0')
			digits[--len] = '\0';
		snprintf(buf + n, size - n, "%sZ", digits);
	} else {
		snprintf(buf + n, size - n, "Z");
	}
}

void rand_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n) {
		ssize_t got = getrandom(p, n, 0);

		if (got <= 0) {
			fputs("vault-sim: error: getrandom failed\n", stderr);
			abort();
		}
		p += got;
		n -= (size_t)got;
	}
}

void rand_uuid(char out[37])
{
	unsigned char b[16];

	rand_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

void rand_alnum(char *out, size_t n)
{
	static const char set[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz";
	size_t i = 0;

	while (i < n) {
		unsigned char b[32];
		size_t j;

		rand_bytes(b, sizeof(b));
		for (j = 0; j < sizeof(b) && i < n; j++)
			if (b[j] < 248) /* 248 = 4 * 62: no modulo bias */
				out[i++] = set[b[j] % 62];
	}
	out[n] = '\0';
}

/* ---- the vault and its mounts ----------------------------------------- */

void vault_init(struct vault *v)
{
	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->mu, NULL);
	rand_alnum(v->token_accessor, 24);
	rand_uuid(v->cluster_id);
	snprintf(v->cluster_name, sizeof(v->cluster_name), "vault-cluster-%.8s",
		 v->cluster_id);
	v->started = time_now();
}

static void version_release(struct kv_version *ver)
{
	json_decref(ver->data);
	ver->data = NULL;
}

/* Release what a key holds, leaving an empty, non-live slot. */
static void secret_clear(struct kv_secret *s)
{
	size_t i;

	for (i = 0; i < s->nr_v; i++)
		version_release(&s->v[i]);
	free(s->v);
	json_decref(s->custom);
	json_decref(s->value);
	s->v = NULL;
	s->nr_v = s->alloc_v = 0;
	s->custom = s->value = NULL;
	s->current = s->oldest = 0;
	memset(&s->cfg, 0, sizeof(s->cfg));
	s->created = s->updated = 0;
	s->live = false;
}

static void mount_release(struct kv_mount *m)
{
	size_t i;

	for (i = 0; i < m->nr; i++) {
		secret_clear(m->s[i]);
		free(m->s[i]->ns);
		free(m->s[i]->path);
		free(m->s[i]);
	}
	free(m->s);
	strmap_release(&m->index);
	free(m->name);
}

void vault_release(struct vault *v)
{
	size_t i;

	for (i = 0; i < v->nr_m; i++)
		mount_release(&v->m[i]);
	free(v->m);
	if (v->root_token) {
		explicit_bzero(v->root_token, strlen(v->root_token));
		free(v->root_token);
	}
	pthread_mutex_destroy(&v->mu);
	memset(v, 0, sizeof(*v));
}

static bool mount_name_ok(const char *name)
{
	static const char *const reserved[] = { "sys",	     "auth", "identity",
						"cubbyhole", "v1",   NULL };
	size_t i, first = strcspn(name, "/");

	if (!*name || name[0] == '/' || name[strlen(name) - 1] == '/' ||
	    strstr(name, "//"))
		return false;
	for (i = 0; name[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-/",
			    name[i]))
			return false;
	for (i = 0; reserved[i]; i++)
		if (strlen(reserved[i]) == first &&
		    !strncmp(name, reserved[i], first))
			return false;
	return true;
}

/* a is b, or a mount under b ("kv/x" under "kv"). */
static bool name_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

int vault_add_mount(struct vault *v, const char *name, int version,
		    bool cas_required, struct err *e)
{
	struct kv_mount *m;
	size_t i;

	if (!mount_name_ok(name))
		return err_set(e, EXIT_INVALID,
			       "--kv%d: '%s' is not a mount path (letters, "
			       "digits, '_', '.', '-' and inner '/'; not sys, "
			       "auth, identity, cubbyhole)",
			       version, name);
	for (i = 0; i < v->nr_m; i++) {
		if (!strcmp(name, v->m[i].name))
			return err_set(e, EXIT_INVALID,
				       "--kv%d: '%s' is mounted twice", version,
				       name);
		if (name_within(name, v->m[i].name) ||
		    name_within(v->m[i].name, name))
			return err_set(e, EXIT_INVALID,
				       "--kv%d: '%s' overlaps the mount '%s'",
				       version, name, v->m[i].name);
	}
	ALLOC_GROW(v->m, st_add(v->nr_m, 1), v->alloc_m);
	m = &v->m[v->nr_m++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->version = version;
	m->cfg.cas_required = cas_required;
	rand_uuid(m->uuid);
	snprintf(m->accessor, sizeof(m->accessor), "kv_%.8s", m->uuid);
	return 0;
}

struct kv_mount *vault_find_mount(struct vault *v, const char *path,
				  const char **rest)
{
	struct kv_mount *best = NULL;
	size_t i, len = 0;

	for (i = 0; i < v->nr_m; i++) {
		size_t n = strlen(v->m[i].name);

		if (name_within(path, v->m[i].name) && n > len) {
			best = &v->m[i];
			len = n;
		}
	}
	if (best)
		*rest = path + len + (path[len] == '/');
	return best;
}

bool vault_token_valid(const struct vault *v, const char *token)
{
	size_t n = v->root_token ? strlen(v->root_token) : 0;
	size_t m = strlen(token), i;
	unsigned char diff = n != m;

	if (!n)
		return false;
	for (i = 0; i < m; i++)
		diff |= (unsigned char)(token[i] ^ v->root_token[i % n]);
	return !diff;
}

/* ---- keys ------------------------------------------------------------- */

static void index_key(struct strbuf *sb, const char *ns, const char *path)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, ns);
	strbuf_addch(sb, '\n');
	strbuf_addstr(sb, path);
}

static struct kv_secret *mount_slot(struct kv_mount *m, const char *ns,
				    const char *path)
{
	struct strbuf key = STRBUF_INIT;
	size_t pos;
	bool found;

	index_key(&key, ns, path);
	found = strmap_get(&m->index, key.buf, &pos);
	strbuf_release(&key);
	return found ? m->s[pos] : NULL;
}

struct kv_secret *mount_get(struct kv_mount *m, const char *ns,
			    const char *path)
{
	struct kv_secret *s = mount_slot(m, ns, path);

	return s && s->live ? s : NULL;
}

struct kv_secret *mount_create(struct kv_mount *m, const char *ns,
			       const char *path, int64_t now)
{
	struct kv_secret *s = mount_slot(m, ns, path);
	struct strbuf key = STRBUF_INIT;

	if (s && s->live)
		return s;
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->ns = xstrdup(ns);
		s->path = xstrdup(path);
		ALLOC_GROW(m->s, st_add(m->nr, 1), m->alloc);
		index_key(&key, ns, path);
		strmap_put(&m->index, key.buf, m->nr);
		strbuf_release(&key);
		m->s[m->nr++] = s;
	}
	s->live = true;
	s->created = s->updated = now;
	return s;
}

void mount_remove(struct kv_mount *m, struct kv_secret *s)
{
	(void)m;
	secret_clear(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void mount_list(const struct kv_mount *m, const char *ns, const char *prefix,
		struct strvec *out)
{
	struct strvec all = STRVEC_INIT;
	size_t i, plen = strlen(prefix);

	for (i = 0; i < m->nr; i++) {
		const struct kv_secret *s = m->s[i];
		const char *rest, *slash;

		if (!s->live || strcmp(s->ns, ns) ||
		    strncmp(s->path, prefix, plen))
			continue;
		rest = s->path + plen;
		if (!*rest)
			continue;
		slash = strchr(rest, '/');
		if (slash) {
			char *dir = xstrndup(rest, (size_t)(slash - rest) + 1);

			strvec_push(&all, dir);
			free(dir);
		} else {
			strvec_push(&all, rest);
		}
	}
	if (all.nr)
		qsort(all.v, all.nr, sizeof(*all.v), cmp_str);
	for (i = 0; i < all.nr; i++)
		if (!i || strcmp(all.v[i], all.v[i - 1]))
			strvec_push(out, all.v[i]);
	strvec_clear(&all);
}

/* ---- versions --------------------------------------------------------- */

struct kv_version *secret_version(struct kv_secret *s, uint64_t num)
{
	size_t lo = 0, hi = s->nr_v;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].num == num)
			return &s->v[mid];
		if (s->v[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool version_deleted(const struct kv_version *ver, int64_t now)
{
	return ver->deletion && ver->deletion < now;
}

int64_t secret_deletion_time(const struct kv_secret *s,
			     const struct kv_config *mount_cfg, int64_t now)
{
	int64_t key = s->cfg.delete_after, mount = mount_cfg->delete_after;
	int64_t after = key;

	/* the smaller non-zero one, as deletionTime() in the KV plugin */
	if ((mount && mount < after) || !after)
		after = mount;
	return after > 0 ? now + after * 1000000000 : 0;
}

struct kv_version *secret_add_version(struct kv_secret *s,
				      const struct kv_config *mount_cfg,
				      json_t *data, int64_t now)
{
	struct kv_version *ver;
	uint32_t max = s->cfg.max_versions > mount_cfg->max_versions
			       ? s->cfg.max_versions
			       : mount_cfg->max_versions;
	size_t drop = 0, i;

	if (!max)
		max = KV_DEFAULT_MAX_VERSIONS;
	ALLOC_GROW(s->v, st_add(s->nr_v, 1), s->alloc_v);
	ver = &s->v[s->nr_v++];
	memset(ver, 0, sizeof(*ver));
	ver->num = ++s->current;
	ver->created = now;
	ver->deletion = secret_deletion_time(s, mount_cfg, now);
	ver->data = data;
	s->updated = now;
	if (!s->created)
		s->created = now;
	if (s->current - s->oldest >= max) {
		uint64_t last = s->current - max; /* the newest one to go */

		while (drop < s->nr_v && s->v[drop].num <= last)
			version_release(&s->v[drop++]);
		for (i = drop; i < s->nr_v; i++)
			s->v[i - drop] = s->v[i];
		s->nr_v -= drop;
		s->oldest = last + 1;
	}
	return &s->v[s->nr_v - 1];
}
