/*
 * bench/inventory.c - how long `pve-gitops inventory` takes to rewrite the
 * Ansible inventory, new_hosts.txt and host_vars for 1,000 and 10,000 VMs,
 * and how much memory it needs.
 *
 * For each size it generates a repository in a temporary directory:
 * definitions whose names hit every default group rule (and none), the
 * outputs of an apply, and a hand-made k8s.ini. Three scenarios are timed,
 * each the median of three runs of the real binary, the tree put back to
 * the scenario's starting point before every run: (a) the first run, every
 * host new; (b) a second run, nothing new (the inventory and host_vars stay
 * as they are; new_hosts.txt, which lists the hosts new in this run, becomes
 * empty); (c) 10% of the VMs gone from the outputs and 10% with a new
 * address. Every run is checked: its summary line, the files it leaves
 * (identical across runs) and an empty staging directory.
 *
 * The baseline, run in this same process on the same starting tree, is the
 * I/O any tool must do: read every file the command reads (configuration,
 * definitions, outputs, inventory, new_hosts, host_vars), write as many
 * files of the same sizes as the run changed, and sync() once. `pve-gitops
 * validate` on the same repository is timed too: it parses and checks the
 * definitions as inventory does, so the difference is the inventory's own
 * share. Each figure comes with the child's user and system CPU time: the
 * user time is the program's own work, which the state of a shared disk
 * does not blur as it does the wall time. Nothing
 * connects to the network; the addresses only go to files.
 *
 * Usage: bench_inventory PVE_GITOPS_BINARY [COUNT...]   (default 1000 10000)
 * BENCH_INVENTORY_CHECK=always (or auto) runs the repository with the
 * ansible-inventory check on; never (the default) without.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define RUNS 3

static const char inventory_ini[] =
	"# Ansible inventory for the Proxmox VMs (bench_inventory).\n"
	"#\n"
	"# Host lines under \"# Individual hosts\" and the managed groups are\n"
	"# written by `pve-gitops inventory`; the rest is kept as it is.\n"
	"\n"
	"# Individual hosts\n"
	"\n"
	"[all:vars]\n"
	"ansible_python_interpreter=/usr/bin/python3\n"
	"ansible_ssh_common_args='-o StrictHostKeyChecking=yes'\n"
	"\n"
	"[monitoring]\n"
	"grafana ansible_host=192.0.2.10 ansible_user=ops\n"
	"prometheus ansible_host=192.0.2.11 ansible_user=ops\n"
	"\n"
	"[backup]\n"
	"nas01 ansible_host=192.0.2.20 ansible_user=ops\n"
	"\n"
	"[infra:children]\n"
	"monitoring\n"
	"backup\n";

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_inventory: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "bench_inventory: %s: %s\n", what, detail);
	exit(1);
}

/* ---- files ---------------------------------------------------------------
 */

/* A plain write (no fsync): generating and restoring are not measured. */
static void put_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die(path);
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(path);
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0)
		die(path);
}

static void read_file(struct strbuf *out, const char *path)
{
	struct err e = ERR_INIT;

	if (file_read_all(out, path, 64 << 20, &e) < 0)
		fail("cannot read", e.msg.buf);
	err_release(&e);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
}

/* rm -r path; a missing path is fine. Failures are reported, not fatal:
 * this also runs from the exit handler. */
static void remove_tree(const char *path)
{
	struct strbuf sub = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			perror(path);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0)
			perror(path);
		return;
	}
	d = opendir(path);
	if (!d) {
		perror(path);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_setlen(&sub, 0);
		strbuf_addf(&sub, "%s/%s", path, de->d_name);
		remove_tree(sub.buf);
	}
	closedir(d);
	if (rmdir(path) < 0)
		perror(path);
	strbuf_release(&sub);
}

/*
 * The generated tree, removed at exit however the program stops (die() and
 * fail() exit from deep inside): the one piece of global state here.
 */
static char tree[64];

static void remove_tree_at_exit(void)
{
	if (tree[0])
		remove_tree(tree);
}

/* The names in dir (without "." and ".."); a missing dir has none. */
static void list_dir(struct strvec *out, const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno == ENOENT)
			return;
		die(dir);
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(out, de->d_name);
	closedir(d);
}

/* ---- the generated repository -------------------------------------------
 */

/* Names that hit each default inventory_groups rule, and none. */
static void vm_name(struct strbuf *out, unsigned i)
{
	switch (i % 5) {
	case 0:
		strbuf_addf(out, "haproxy-%u", i);
		break;
	case 1:
		strbuf_addf(out, "k8s-x%u", i);
		break;
	case 2:
		strbuf_addf(out, "talos-p%u-cp%u", i / 50, i);
		break;
	case 3:
		strbuf_addf(out, "talos-p%u-w%u", i / 50, i);
		break;
	default:
		strbuf_addf(out, "app%05u", i);
		break;
	}
}

/* 10.A.Y.Z, unique per i, never the gateway 10.A.0.1. */
static void vm_ip(struct strbuf *out, unsigned i)
{
	unsigned r = i % 60000;

	strbuf_addf(out, "10.%u.%u.%u", 10 + i / 60000, 1 + r / 250,
		    1 + r % 250);
}

/* Scenario (c): every tenth VM is gone, every tenth plus one moved. */
static bool vm_gone(unsigned i)
{
	return i % 10 == 0;
}

static bool vm_moved(unsigned i)
{
	return i % 10 == 1;
}

static void definition(struct strbuf *text, unsigned i)
{
	strbuf_addstr(text, "name: ");
	vm_name(text, i);
	strbuf_addf(text, "\ntarget_node: node01\n"
			  "clone: ubuntu24-template\n"
			  "ipconfig0: \"ip=");
	vm_ip(text, i);
	strbuf_addf(text,
		    "/16,gw=10.%u.0.1\"\n"
		    "disks:\n"
		    "  scsi0:\n    size: 20G\n    storage: local-lvm\n",
		    10 + i / 60000);
	if (i % 3 == 0)
		strbuf_addstr(text, "  scsi1:\n    size: 100G\n"
				    "    storage: data2\n"
				    "    mount: /srv/data\n");
}

static void generate_definitions(const char *dir, unsigned count)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	unsigned i;

	for (i = 0; i < count; i++) {
		strbuf_setlen(&text, 0);
		definition(&text, i);
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/proxmox/vms/", dir);
		vm_name(&path, i);
		strbuf_addstr(&path, ".yaml");
		put_file(path.buf, text.buf, text.len);
	}
	strbuf_release(&path);
	strbuf_release(&text);
}

/* The outputs of the last apply; changed: as scenario (c) wants them. */
static void generate_outputs(const char *dir, unsigned count, bool changed)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	const char *sep = "";
	unsigned i;

	strbuf_addstr(&text, "{\"ansible_inventory\": {\"sensitive\": false, "
			     "\"type\": [], \"value\": {");
	for (i = 0; i < count; i++) {
		if (changed && vm_gone(i))
			continue;
		strbuf_addf(&text, "%s\n  \"", sep);
		vm_name(&text, i);
		strbuf_addstr(&text, "\": {\"ansible_host\": \"");
		if (changed && vm_moved(i))
			strbuf_addf(&text, "172.%u.%u.%u", 16 + i / 65536,
				    i / 256 % 256, i % 256);
		else
			vm_ip(&text, i);
		strbuf_addf(&text,
			    "\", \"ansible_user\": \"ubuntu\", "
			    "\"node\": \"node01\", \"vmid\": %u}",
			    100 + i);
		sep = ",";
	}
	strbuf_addstr(&text, "\n}}}\n");
	strbuf_addf(&path, "%s/proxmox/.pve-gitops/outputs.json", dir);
	put_file(path.buf, text.buf, text.len);
	strbuf_release(&path);
	strbuf_release(&text);
}

/* validate_with_ansible in the generated repository: never, unless
 * BENCH_INVENTORY_CHECK says (auto, always: the default check). */
static const char *check_mode = "never";

static void generate(const char *dir, unsigned count)
{
	static const char *const dirs[] = { "proxmox", "proxmox/vms",
					    "proxmox/.pve-gitops", "stage" };
	struct strbuf path = STRBUF_INIT, config = STRBUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s", dir, dirs[i]);
		make_dir(path.buf);
	}
	strbuf_setlen(&path, 0);
	strbuf_addf(&path, "%s/pve-gitops.yaml", dir);
	strbuf_addf(&config, "validate_with_ansible: %s\n", check_mode);
	put_file(path.buf, config.buf, config.len);
	strbuf_release(&config);
	strbuf_setlen(&path, 0);
	strbuf_addf(&path, "%s/proxmox/k8s.ini", dir);
	put_file(path.buf, inventory_ini, strlen(inventory_ini));
	generate_definitions(dir, count);
	generate_outputs(dir, count, false);
	strbuf_release(&path);
}

/* ---- snapshots of the files the command writes ---------------------------
 */

struct snap_file {
	char *rel; /* relative to the repository */
	struct strbuf text;
};

struct snap {
	struct snap_file *v;
	size_t nr, alloc;
};

static const char *const top_files[] = { "proxmox/k8s.ini",
					 "proxmox/new_hosts.txt" };

static int cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct snap_file *)a)->rel,
		      ((const struct snap_file *)b)->rel);
}

static const struct snap_file *snap_find(const struct snap *s, const char *rel)
{
	struct snap_file key = { (char *)rel, STRBUF_INIT };

	return s->nr ? bsearch(&key, s->v, s->nr, sizeof(*s->v), cmp_rel)
		     : NULL;
}

static void snap_add(struct snap *s, const char *dir, const char *rel)
{
	struct strbuf path = STRBUF_INIT;
	struct snap_file *f;

	strbuf_addf(&path, "%s/%s", dir, rel);
	if (access(path.buf, F_OK) < 0) {
		strbuf_release(&path);
		return;
	}
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	f = &s->v[s->nr++];
	f->rel = xstrdup(rel);
	strbuf_init(&f->text, 0);
	read_file(&f->text, path.buf);
	strbuf_release(&path);
}

/* The inventory, new_hosts.txt and every entry of host_vars. */
static void snap_take(struct snap *out, const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	struct strvec names;
	size_t i;

	memset(out, 0, sizeof(*out));
	strvec_init(&names);
	for (i = 0; i < 2; i++)
		snap_add(out, dir, top_files[i]);
	strbuf_addf(&path, "%s/proxmox/host_vars", dir);
	list_dir(&names, path.buf);
	for (i = 0; i < names.nr; i++) {
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "proxmox/host_vars/%s", names.v[i]);
		snap_add(out, dir, path.buf);
	}
	qsort(out->v, out->nr, sizeof(*out->v), cmp_rel);
	strvec_clear(&names);
	strbuf_release(&path);
}

static void snap_release(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		free(s->v[i].rel);
		strbuf_release(&s->v[i].text);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool same_text(const struct strbuf *a, const struct strbuf *b)
{
	return a->len == b->len && !memcmp(a->buf, b->buf, a->len);
}

/* NULL when a and b hold the same files, else the first that differs. */
static const char *snap_differs(const struct snap *a, const struct snap *b)
{
	size_t i;

	for (i = 0; i < a->nr || i < b->nr; i++) {
		if (i >= a->nr)
			return b->v[i].rel;
		if (i >= b->nr || strcmp(a->v[i].rel, b->v[i].rel) ||
		    !same_text(&a->v[i].text, &b->v[i].text))
			return a->v[i].rel;
	}
	return NULL;
}

/* Remove what s does not hold from host_vars (the directory too when s
 * has no host_vars at all). */
static void restore_host_vars(const struct snap *s, const char *dir)
{
	struct strbuf path = STRBUF_INIT, rel = STRBUF_INIT;
	struct strvec names;
	size_t i, wanted = 0;

	strvec_init(&names);
	for (i = 0; i < s->nr; i++)
		wanted += !strncmp(s->v[i].rel, "proxmox/host_vars/", 18);
	strbuf_addf(&path, "%s/proxmox/host_vars", dir);
	list_dir(&names, path.buf);
	for (i = 0; i < names.nr; i++) {
		strbuf_setlen(&rel, 0);
		strbuf_addf(&rel, "proxmox/host_vars/%s", names.v[i]);
		if (snap_find(s, rel.buf))
			continue;
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s", dir, rel.buf);
		remove_tree(path.buf);
	}
	strbuf_setlen(&path, 0);
	strbuf_addf(&path, "%s/proxmox/host_vars", dir);
	if (!wanted)
		remove_tree(path.buf);
	else
		make_dir(path.buf);
	strvec_clear(&names);
	strbuf_release(&path);
	strbuf_release(&rel);
}

/* Put the tree back as s saw it, writing only what differs; then sync. */
static void snap_restore(const struct snap *s, const char *dir)
{
	struct strbuf path = STRBUF_INIT, cur = STRBUF_INIT;
	size_t i;

	restore_host_vars(s, dir);
	for (i = 0; i < 2; i++) {
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s", dir, top_files[i]);
		if (!snap_find(s, top_files[i]) && unlink(path.buf) < 0 &&
		    errno != ENOENT)
			die(path.buf);
	}
	for (i = 0; i < s->nr; i++) {
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s", dir, s->v[i].rel);
		strbuf_setlen(&cur, 0);
		if (access(path.buf, F_OK) == 0)
			read_file(&cur, path.buf);
		if (access(path.buf, F_OK) < 0 ||
		    !same_text(&cur, &s->v[i].text))
			put_file(path.buf, s->v[i].text.buf, s->v[i].text.len);
	}
	sync();
	strbuf_release(&path);
	strbuf_release(&cur);
}

/* ---- one scenario --------------------------------------------------------
 */

struct outcome {
	double t, t_min, t_max, user, sys, base;
	long rss_kb;
	size_t files_written, bytes_written, files_removed;
	size_t added, updated, removed;
};

/*
 * The children are started by a small process forked first thing: a child
 * forked from this process, which holds the snapshots, would begin at its
 * size, and wait4's peak RSS would be ours, not the command's.
 */
struct spawner {
	const char *bin;
	pid_t pid;
	int req, resp; /* pipes to and from it */
};

struct spawn_req {
	char dir[128];
	char verb[16];
};

struct spawn_resp {
	double seconds, user, sys;
	long maxrss_kb;
	int status;
};

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static double tv_seconds(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* In the spawner: run `BIN --no-color -C DIR VERB` once. */
static void spawn_one(const char *bin, const struct spawn_req *q,
		      struct spawn_resp *r)
{
	struct strbuf opath = STRBUF_INIT, epath = STRBUF_INIT;
	struct strbuf stage = STRBUF_INIT;
	struct rusage ru;
	double t0;
	pid_t pid;

	strbuf_addf(&opath, "%s/run.out", q->dir);
	strbuf_addf(&epath, "%s/run.err", q->dir);
	strbuf_addf(&stage, "%s/stage", q->dir);
	t0 = now();
	pid = fork();
	if (pid == 0) {
		int o = open(opath.buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(epath.buf, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
		    setenv("TMPDIR", stage.buf, 1) < 0)
			_exit(127);
		execl(bin, bin, "--no-color", "-C", q->dir, q->verb,
		      (char *)NULL);
		_exit(127);
	}
	r->status = -1;
	if (pid > 0 && wait4(pid, &r->status, 0, &ru) == pid) {
		r->seconds = now() - t0;
		r->user = tv_seconds(ru.ru_utime);
		r->sys = tv_seconds(ru.ru_stime);
		r->maxrss_kb = ru.ru_maxrss;
	}
	strbuf_release(&opath);
	strbuf_release(&epath);
	strbuf_release(&stage);
}

static void spawner_start(struct spawner *sp, const char *bin)
{
	int req[2], resp[2];
	struct spawn_req q;
	struct spawn_resp r;

	if (pipe(req) < 0 || pipe(resp) < 0)
		die("pipe");
	/* the commands it starts need none of them */
	fcntl(req[0], F_SETFD, FD_CLOEXEC);
	fcntl(req[1], F_SETFD, FD_CLOEXEC);
	fcntl(resp[0], F_SETFD, FD_CLOEXEC);
	fcntl(resp[1], F_SETFD, FD_CLOEXEC);
	sp->bin = bin;
	sp->pid = fork();
	if (sp->pid < 0)
		die("fork");
	if (sp->pid == 0) {
		close(req[1]);
		close(resp[0]);
		while (!read_full(req[0], &q, sizeof(q))) {
			memset(&r, 0, sizeof(r));
			spawn_one(bin, &q, &r);
			if (write(resp[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
		}
		_exit(0);
	}
	close(req[0]);
	close(resp[1]);
	sp->req = req[1];
	sp->resp = resp[0];
}

static void spawner_stop(struct spawner *sp)
{
	int status;

	close(sp->req);
	close(sp->resp);
	waitpid(sp->pid, &status, 0);
}

/* Run `BIN -C DIR verb` through the spawner; its figures and stdout. */
static void run_child(struct spawner *sp, const char *dir, const char *verb,
		      struct strbuf *out, struct spawn_resp *r)
{
	struct strbuf opath = STRBUF_INIT, epath = STRBUF_INIT;
	struct strbuf errs = STRBUF_INIT;
	struct spawn_req q;

	memset(&q, 0, sizeof(q));
	if (strlen(dir) >= sizeof(q.dir) || strlen(verb) >= sizeof(q.verb))
		fail("path too long", dir);
	memcpy(q.dir, dir, strlen(dir));
	memcpy(q.verb, verb, strlen(verb));
	if (write(sp->req, &q, sizeof(q)) != sizeof(q) ||
	    read_full(sp->resp, r, sizeof(*r)) < 0)
		die("the spawner");
	strbuf_addf(&opath, "%s/run.out", dir);
	strbuf_addf(&epath, "%s/run.err", dir);
	strbuf_setlen(out, 0);
	read_file(out, opath.buf);
	if (!WIFEXITED(r->status) || WEXITSTATUS(r->status) != 0) {
		read_file(&errs, epath.buf);
		fprintf(stderr, "bench_inventory: %s failed (status %d):\n%s",
			verb, r->status, errs.buf);
		exit(1);
	}
	unlink(opath.buf);
	unlink(epath.buf);
	strbuf_release(&opath);
	strbuf_release(&epath);
	strbuf_release(&errs);
}

/* The counts of the summary line ("no changes": all 0). */
static void parse_summary(struct outcome *o, const char *out)
{
	if (strstr(out, ": no changes\n")) {
		o->added = o->updated = o->removed = 0;
		return;
	}
	if (sscanf(out, "proxmox/k8s.ini: %zu added, %zu updated, %zu removed",
		   &o->added, &o->updated, &o->removed) != 3)
		fail("unexpected output of inventory", out);
}

static void check_stage_empty(const char *dir)
{
	struct strbuf path = STRBUF_INIT;
	struct strvec names;

	strvec_init(&names);
	strbuf_addf(&path, "%s/stage", dir);
	list_dir(&names, path.buf);
	if (names.nr)
		fail("inventory left its staging directory behind", names.v[0]);
	strvec_clear(&names);
	strbuf_release(&path);
}

/* What the run changed: files new or different in after, files gone. */
static void count_changes(struct outcome *o, const struct snap *before,
			  const struct snap *after)
{
	const struct snap_file *f;
	size_t i;

	o->files_written = o->bytes_written = o->files_removed = 0;
	for (i = 0; i < after->nr; i++) {
		f = snap_find(before, after->v[i].rel);
		if (f && same_text(&f->text, &after->v[i].text))
			continue;
		o->files_written++;
		o->bytes_written += after->v[i].text.len;
	}
	for (i = 0; i < before->nr; i++)
		o->files_removed += !snap_find(after, before->v[i].rel);
}

static void read_dir_files(const char *dir, const char *sub)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	struct strvec names;
	size_t i;

	strvec_init(&names);
	strbuf_addf(&path, "%s/%s", dir, sub);
	list_dir(&names, path.buf);
	for (i = 0; i < names.nr; i++) {
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s/%s", dir, sub, names.v[i]);
		strbuf_setlen(&buf, 0);
		read_file(&buf, path.buf);
	}
	strvec_clear(&names);
	strbuf_release(&path);
	strbuf_release(&buf);
}

/*
 * The baseline on the starting tree: read what the command reads, write
 * the files the run changed (same sizes) to a scratch directory, sync().
 */
static double baseline(const char *dir, const struct snap *before,
		       const struct snap *after)
{
	static const char *const inputs[] = {
		"pve-gitops.yaml", "proxmox/.pve-gitops/outputs.json",
		"proxmox/k8s.ini", "proxmox/new_hosts.txt"
	};
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	double t0 = now(), t;
	const struct snap_file *f;
	size_t i;

	read_dir_files(dir, "proxmox/vms");
	read_dir_files(dir, "proxmox/host_vars");
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s", dir, inputs[i]);
		strbuf_setlen(&buf, 0);
		if (access(path.buf, F_OK) == 0)
			read_file(&buf, path.buf);
	}
	strbuf_setlen(&path, 0);
	strbuf_addf(&path, "%s/scratch", dir);
	make_dir(path.buf);
	for (i = 0; i < after->nr; i++) {
		f = snap_find(before, after->v[i].rel);
		if (f && same_text(&f->text, &after->v[i].text))
			continue;
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/scratch/%zu", dir, i);
		put_file(path.buf, after->v[i].text.buf, after->v[i].text.len);
	}
	sync();
	t = now() - t0;
	strbuf_setlen(&path, 0);
	strbuf_addf(&path, "%s/scratch", dir);
	remove_tree(path.buf);
	sync();
	strbuf_release(&path);
	strbuf_release(&buf);
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The medians of RUNS runs (wall, user, system), and the wall's range. */
static void median_of(struct outcome *o, double *t, double *user, double *sys)
{
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	qsort(user, RUNS, sizeof(user[0]), cmp_double);
	qsort(sys, RUNS, sizeof(sys[0]), cmp_double);
	o->t = t[RUNS / 2];
	o->t_min = t[0];
	o->t_max = t[RUNS - 1];
	o->user = user[RUNS / 2];
	o->sys = sys[RUNS / 2];
}

/* One inventory run from before; the first run's result fills after, the
 * others must match it. */
static void one_run(struct spawner *sp, const char *dir,
		    const struct snap *before, struct snap *after,
		    struct outcome *o, struct spawn_resp *r)
{
	struct strbuf out = STRBUF_INIT;
	struct outcome seen = *o;
	struct snap now_;
	const char *differs;

	snap_restore(before, dir);
	run_child(sp, dir, "inventory", &out, r);
	if (r->maxrss_kb > o->rss_kb)
		o->rss_kb = r->maxrss_kb;
	parse_summary(&seen, out.buf);
	if (seen.added != o->added || seen.updated != o->updated ||
	    seen.removed != o->removed)
		fail("inventory did not do what was expected", out.buf);
	check_stage_empty(dir);
	snap_take(&now_, dir);
	if (!after->v) {
		*after = now_;
	} else {
		differs = snap_differs(after, &now_);
		if (differs)
			fail("runs left different files", differs);
		snap_release(&now_);
	}
	strbuf_release(&out);
}

/* Three runs from before, each followed by the baseline on before. */
static void scenario(struct spawner *sp, const char *dir,
		     const struct snap *before, struct snap *after,
		     struct outcome *o)
{
	double t[RUNS], user[RUNS], sys[RUNS], base[RUNS];
	struct spawn_resp r;
	int i;

	memset(after, 0, sizeof(*after));
	o->rss_kb = 0;
	for (i = 0; i < RUNS; i++) {
		one_run(sp, dir, before, after, o, &r);
		t[i] = r.seconds;
		user[i] = r.user;
		sys[i] = r.sys;
		if (i == 0)
			count_changes(o, before, after);
		snap_restore(before, dir);
		base[i] = baseline(dir, before, after);
	}
	median_of(o, t, user, sys);
	qsort(base, RUNS, sizeof(base[0]), cmp_double);
	o->base = base[RUNS / 2];
}

/* ---- one size ------------------------------------------------------------
 */

struct result {
	unsigned count;
	struct outcome validate;
	struct outcome sc[3];
};

static void time_validate(struct outcome *o, struct spawner *sp,
			  const char *dir)
{
	struct strbuf out = STRBUF_INIT;
	double t[RUNS], user[RUNS], sys[RUNS];
	struct spawn_resp r;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < RUNS; i++) {
		run_child(sp, dir, "validate", &out, &r);
		t[i] = r.seconds;
		user[i] = r.user;
		sys[i] = r.sys;
		if (r.maxrss_kb > o->rss_kb)
			o->rss_kb = r.maxrss_kb;
	}
	strbuf_release(&out);
	median_of(o, t, user, sys);
}

static void print_outcome(const char *label, const struct outcome *o)
{
	printf("  %-28s %7.3f s (%6.3f-%6.3f)  user %6.3f s  sys %6.3f s"
	       "  baseline %6.3f s"
	       "  ratio %6.1fx  peak RSS %6.1f MiB\n",
	       label, o->t, o->t_min, o->t_max, o->user, o->sys, o->base,
	       o->t / o->base, (double)o->rss_kb / 1024.0);
	printf("  %-28s %zu added, %zu updated, %zu removed; files changed: "
	       "%zu (%.2f MiB), removed: %zu\n",
	       "", o->added, o->updated, o->removed, o->files_written,
	       (double)o->bytes_written / 1048576.0, o->files_removed);
}

static void print_result(const struct result *r)
{
	static const char *const labels[] = { "(a) first run, all new",
					      "(b) second run, nothing new",
					      "(c) 10% gone, 10% moved" };
	const struct outcome *a = &r->sc[0], *v = &r->validate;
	int i;

	printf("%u VMs\n", r->count);
	printf("  %-28s %7.3f s (%6.3f-%6.3f)  user %6.3f s  sys %6.3f s"
	       "  %32s  peak RSS "
	       "%6.1f MiB\n",
	       "validate, same repository", v->t, v->t_min, v->t_max, v->user,
	       v->sys, "", (double)v->rss_kb / 1024.0);
	for (i = 0; i < 3; i++)
		print_outcome(labels[i], &r->sc[i]);
	printf("  inventory's own share of (a): %.3f s of %.3f s (%.0f%%), "
	       "%.1f us/VM\n",
	       a->t - v->t, a->t, 100.0 * (a->t - v->t) / a->t,
	       (a->t - v->t) * 1e6 / r->count);
	fflush(stdout);
}

static void expect(struct outcome *sc, unsigned count)
{
	unsigned i;

	memset(sc, 0, 3 * sizeof(*sc));
	sc[0].added = count;
	for (i = 0; i < count; i++) {
		sc[2].removed += vm_gone(i);
		sc[2].updated += vm_moved(i);
	}
}

/*
 * A second run keeps the inventory and host_vars as the first left them;
 * new_hosts.txt lists the hosts new in this run, so it becomes empty.
 */
static void check_second(const struct snap *first, const struct snap *second)
{
	const struct snap_file *f;
	size_t i;

	for (i = 0; i < first->nr; i++) {
		f = snap_find(second, first->v[i].rel);
		if (!f)
			fail("a second run removed a file", first->v[i].rel);
		if (!strcmp(f->rel, top_files[1])
			    ? f->text.len != 0
			    : !same_text(&f->text, &first->v[i].text))
			fail("a second run changed a file", f->rel);
	}
	if (second->nr != first->nr)
		fail("a second run added files", "proxmox/host_vars");
}

/* Others rebuild the binary while a long run goes on: its figures would
 * mix two programs. */
static void check_binary(const char *bin, const struct stat *orig)
{
	struct stat st;

	if (stat(bin, &st) < 0)
		die(bin);
	if (st.st_ino != orig->st_ino || st.st_size != orig->st_size ||
	    st.st_mtim.tv_sec != orig->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != orig->st_mtim.tv_nsec)
		fail("the binary changed during the run; copy it first", bin);
}

static void bench(struct spawner *sp, unsigned count, struct result *r)
{
	struct stat orig;
	char dir[] = "/tmp/pvegitops-bench-inventory-XXXXXX";
	struct snap pristine, first, second, changed;

	if (stat(sp->bin, &orig) < 0)
		die(sp->bin);
	if (!mkdtemp(dir))
		die("mkdtemp");
	memcpy(tree, dir, sizeof(dir));
	r->count = count;
	generate(dir, count);
	sync();
	snap_take(&pristine, dir);
	time_validate(&r->validate, sp, dir);
	expect(r->sc, count);
	scenario(sp, dir, &pristine, &first, &r->sc[0]);
	scenario(sp, dir, &first, &second, &r->sc[1]);
	check_second(&first, &second);
	generate_outputs(dir, count, true);
	scenario(sp, dir, &first, &changed, &r->sc[2]);
	remove_tree(dir);
	tree[0] = '\0';
	if (access(dir, F_OK) == 0 || errno != ENOENT)
		fail("the generated tree is still there", dir);
	snap_release(&pristine);
	snap_release(&first);
	snap_release(&second);
	snap_release(&changed);
	check_binary(sp->bin, &orig);
	print_result(r);
}

static void print_growth(const struct result *r, size_t n)
{
	static const char *const names[] = { "(a)", "(b)", "(c)", "validate" };
	const struct outcome *p, *c;
	size_t i;
	int k;

	for (i = 1; i < n; i++) {
		double x = (double)r[i].count / r[i - 1].count;

		printf("growth %u -> %u VMs (x%.0f; linear x%.0f, quadratic "
		       "x%.0f), wall / user CPU:\n ",
		       r[i - 1].count, r[i].count, x, x, x * x);
		for (k = 0; k < 4; k++) {
			p = k < 3 ? &r[i - 1].sc[k] : &r[i - 1].validate;
			c = k < 3 ? &r[i].sc[k] : &r[i].validate;
			printf(" %s x%.1f / x%.1f", names[k], c->t / p->t,
			       c->user / p->user);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	unsigned counts[64] = { 1000, 10000 };
	struct result results[64];
	struct spawner sp;
	size_t n = 2, i;

	if (argc < 2 || argc > 66) {
		fprintf(stderr,
			"usage: bench_inventory PVE_GITOPS [COUNT...]\n");
		return 2;
	}
	if (argc > 2)
		n = (size_t)argc - 2;
	for (i = 0; argc > 2 && i < n; i++) {
		uint64_t v;

		if (parse_u64z(&v, argv[i + 2], 1, 1000000) < 0) {
			fprintf(stderr, "bench_inventory: bad count '%s'\n",
				argv[i + 2]);
			return 2;
		}
		counts[i] = (unsigned)v;
	}
	if (getenv("BENCH_INVENTORY_CHECK"))
		check_mode = getenv("BENCH_INVENTORY_CHECK");
	if (strcmp(check_mode, "never") && strcmp(check_mode, "auto") &&
	    strcmp(check_mode, "always")) {
		fprintf(stderr, "bench_inventory: BENCH_INVENTORY_CHECK is "
				"never, auto or always\n");
		return 2;
	}
	spawner_start(&sp, argv[1]);
	printf("bench_inventory: '%s -C DIR inventory', median (min-max) of "
	       "%d runs, tree restored before each;\n"
	       "baseline: read what it reads, write the files it changed "
	       "(same sizes), one sync(); validate_with_ansible: %s\n",
	       argv[1], RUNS, check_mode);
	fflush(stdout);
	atexit(remove_tree_at_exit);
	for (i = 0; i < n; i++)
		bench(&sp, counts[i], &results[i]);
	print_growth(results, n);
	spawner_stop(&sp);
	return 0;
}
