/*
 * bench/validate.c - how long `pve-gitops validate` takes on 1,000 and
 * 10,000 generated definitions, and how much memory it needs.
 *
 * For each size it generates a repository in a temporary directory, then
 * runs the real binary three times (wall time: the median; peak RSS from
 * wait4's rusage). The baseline, run in this same process, is reading
 * every file once (open + read + close): the ratio says how much the parse
 * and the checks cost over the I/O any tool must do.
 *
 * Usage: bench_validate PVE_GITOPS_BINARY [COUNT...]   (default 1000 10000)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_validate: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* A definition like the seed's, varied so every check has work to do. */
static void generate(const char *dir, unsigned count)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct err e = ERR_INIT;
	unsigned i;

	strbuf_addf(&path, "%s/proxmox", dir);
	if (mkdir(path.buf, 0755) < 0)
		die(path.buf);
	strbuf_addstr(&path, "/vms");
	if (mkdir(path.buf, 0755) < 0)
		die(path.buf);
	for (i = 0; i < count; i++) {
		unsigned a = 10 + i / 250, b = 1 + i % 250;

		strbuf_reset(&text);
		strbuf_addf(
			&text,
			"name: k8s-node%05u\n"
			"target_node: node%02u\n"
			"cores: %u\n"
			"sockets: 1\n"
			"memory: %u\n"
			"cpu_type: host\n"
			"clone: ubuntu24-template\n"
			"ipconfig0: \"ip=10.%u.%u.%u/16,gw=10.%u.0.1,ip6=dhcp\"\n"
			"ciuser: suporte\n"
			"vmid: %u\n"
			"tags: [bench, k8s]\n"
			"network:\n  bridge: vmbr0\n  model: virtio\n"
			"disks:\n"
			"  scsi0:\n    size: 50G\n    storage: local-lvm\n"
			"  scsi1:\n    size: 200G\n    storage: data2\n"
			"    mount: /mnt/storage\n",
			i, 1 + i % 3, 1 + i % 8, 1024u << (i % 4), a / 256,
			a % 256, b, a / 256, 1000 + i);
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/proxmox/vms/k8s-node%05u.yaml", dir, i);
		if (file_write_atomic(path.buf, text.buf, text.len, 0644, &e) <
		    0) {
			fprintf(stderr, "bench_validate: %s\n", e.msg.buf);
			exit(1);
		}
	}
	strbuf_release(&path);
	strbuf_release(&text);
	err_release(&e);
}

/* Run the binary once; returns wall seconds, sets *maxrss_kb. */
static double run_validate(const char *bin, const char *dir, long *maxrss_kb)
{
	struct rusage ru;
	double t0 = now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl(bin, bin, "-C", dir, "validate", (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		die("wait4");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench_validate: validate failed (status %d)\n",
			status);
		exit(1);
	}
	*maxrss_kb = ru.ru_maxrss;
	return now() - t0;
}

/* The baseline: read every definition once, in this process. */
static double read_all(const char *dir)
{
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct dirent *de;
	double t0 = now();
	DIR *d;

	strbuf_addf(&path, "%s/proxmox/vms", dir);
	d = opendir(path.buf);
	if (!d)
		die(path.buf);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/proxmox/vms/%s", dir, de->d_name);
		strbuf_reset(&buf);
		if (file_read_all(&buf, path.buf, 1 << 20, &e) < 0)
			die(path.buf);
	}
	closedir(d);
	strbuf_release(&path);
	strbuf_release(&buf);
	err_release(&e);
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void bench(const char *bin, unsigned count)
{
	char dir[] = "/tmp/pvegitops-bench-XXXXXX";
	double t[3], base[3];
	long rss = 0, r;
	int i;

	if (!mkdtemp(dir))
		die("mkdtemp");
	generate(dir, count);
	read_all(dir); /* warm the page cache for both measurements */
	for (i = 0; i < 3; i++) {
		base[i] = read_all(dir);
		t[i] = run_validate(bin, dir, &r);
		if (r > rss)
			rss = r;
	}
	qsort(t, 3, sizeof(t[0]), cmp_double);
	qsort(base, 3, sizeof(base[0]), cmp_double);
	printf("%6u definitions  validate %7.3f s  read-only baseline %7.3f s"
	       "  ratio %5.1fx  peak RSS %6.1f MiB  (%.1f us/definition)\n",
	       count, t[1], base[1], t[1] / base[1], (double)rss / 1024.0,
	       t[1] * 1e6 / count);
	{
		/* remove the generated tree */
		struct strbuf p = STRBUF_INIT;
		unsigned j;

		for (j = 0; j < count; j++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "%s/proxmox/vms/k8s-node%05u.yaml", dir,
				    j);
			unlink(p.buf);
		}
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/proxmox/vms", dir);
		rmdir(p.buf);
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/proxmox", dir);
		rmdir(p.buf);
		rmdir(dir);
		strbuf_release(&p);
	}
}

int main(int argc, char **argv)
{
	static const unsigned defaults[] = { 1000, 10000 };
	int i;

	if (argc < 2) {
		fprintf(stderr,
			"usage: bench_validate PVE_GITOPS [COUNT...]\n");
		return 2;
	}
	printf("bench_validate: median of 3 runs of '%s -C DIR validate'\n",
	       argv[1]);
	if (argc == 2) {
		for (i = 0; i < 2; i++)
			bench(argv[1], defaults[i]);
		return 0;
	}
	for (i = 2; i < argc; i++) {
		uint64_t n;

		if (parse_u64z(&n, argv[i], 1, 1000000) < 0) {
			fprintf(stderr, "bench_validate: bad count '%s'\n",
				argv[i]);
			return 2;
		}
		bench(argv[1], (unsigned)n);
	}
	return 0;
}
