/*
 * guest.c - real guests: the files of GUEST_DIR/<vmid>/ (root.qcow2, the
 * overlay of the image's root.qcow2; KEY.qcow2 for each other disk;
 * cidata/ and cloudinit.iso; console.log, qemu.log; qmp.sock, qga.sock)
 * and the qemu-system-x86_64 process that uses them.
 *
 * Deviations from Proxmox VE, each for a reason:
 * - Direct kernel boot (-kernel/-initrd of the image, root=/dev/vda)
 *   instead of SeaBIOS booting the disk: the image has no partition table
 *   and no boot loader, which keeps it small and quick to build.
 * - The root disk (the VM's first disk in configuration order) is always
 *   the first virtio disk; the other disks follow in configuration order,
 *   virtioN as virtio disks, every other bus as scsi-hd on virtio-scsi.
 * - The cloud-init drive is always NoCloud (citype is not read) and always
 *   an IDE CD-ROM at index 2 (Proxmox's ide2), wherever the VM's is.
 * - Networking is QEMU's user mode, restricted (restrict=on: the guest
 *   reaches neither the host nor the outside world, only the SSH port
 *   forwarded to 127.0.0.1); the subnet and gateway are ipconfig0's, so
 *   the guest sees the address cloud-init gave it.
 * - A clone of a VM that is no template gets a fresh overlay of the image,
 *   not a copy of the source's disk.
 */
#include "guest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nocloud.h"
#include "qga.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/spawn.h"
#include "util/xalloc.h"

#define QEMU "qemu-system-x86_64"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int guests_init(struct sim *s, const char *dir, enum guest_accel accel,
		struct err *e)
{
	struct sim_guests *gs = xcalloc(1, sizeof(*gs));
	char real[4096];

	gs->accel = accel;
	if (dir && strchr(dir, ',')) { /* QEMU's option syntax */
		free(gs);
		return err_set(e, EXIT_INVALID,
			       "--guest-dir %s: QEMU cannot take a path with "
			       "a comma",
			       dir);
	}
	if (dir) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			free(gs);
			return err_set(e, EXIT_INVALID,
				       "--guest-dir %s: cannot create it: %s",
				       dir, strerror(errno));
		}
		if (!realpath(dir, real)) {
			free(gs);
			return err_set(e, EXIT_INVALID, "--guest-dir %s: %s",
				       dir, strerror(errno));
		}
		gs->dir = xstrdup(real);
	} else {
		const char *tmp = getenv("TMPDIR");
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/proxmox-sim-guests.XXXXXX",
			    tmp && *tmp == '/' ? tmp : "/tmp");
		if (!mkdtemp(sb.buf)) {
			err_set(e, EXIT_FAIL, "cannot create %s: %s", sb.buf,
				strerror(errno));
			strbuf_release(&sb);
			free(gs);
			return -1;
		}
		gs->dir = strbuf_detach(&sb, NULL);
	}
	/* QEMU's option syntax: a comma would split -drive file=... */
	if (strchr(gs->dir, ',')) {
		err_set(e, EXIT_INVALID,
			"--guest-dir %s: QEMU cannot take a path with a comma",
			gs->dir);
		free(gs->dir);
		free(gs);
		return -1;
	}
	s->guests = gs;
	return 0;
}

static struct sim_guest *guest_get(struct sim *s, int vmid, bool create)
{
	struct sim_guests *gs = s->guests;
	struct sim_guest *g;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < gs->nr; i++)
		if (gs->g[i]->vmid == vmid)
			return gs->g[i];
	if (!create)
		return NULL;
	g = xcalloc(1, sizeof(*g));
	g->vmid = vmid;
	pthread_mutex_init(&g->qga_mu, NULL);
	strbuf_addf(&sb, "%s/%d", gs->dir, vmid);
	g->dir = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "%s/console.log", g->dir);
	g->console = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "%s/qmp.sock", g->dir);
	g->qmp = strbuf_detach(&sb, NULL);
	strbuf_addf(&sb, "%s/qga.sock", g->dir);
	g->qga = strbuf_detach(&sb, NULL);
	ALLOC_GROW(gs->g, st_add(gs->nr, 1), gs->alloc);
	gs->g[gs->nr++] = g;
	return g;
}

bool guest_managed(const struct sim *s, const struct sim_vm *vm)
{
	return s->guests && vm && vm->image;
}

/* Has g's process ended? Reaps it (pid 0 then). */
static bool reap(struct sim_guest *g)
{
	int st;

	if (g->pid <= 0)
		return true;
	if (waitpid(g->pid, &st, WNOHANG) == g->pid ||
	    (kill(g->pid, 0) < 0 && errno == ESRCH)) {
		g->pid = 0;
		return true;
	}
	return false;
}

struct sim_guest *guest_running(struct sim *s, int vmid)
{
	struct sim_guest *g = s->guests ? guest_get(s, vmid, false) : NULL;

	return g && !reap(g) ? g : NULL;
}

void guests_reap(struct sim *s)
{
	size_t i;

	if (!s->guests)
		return;
	for (i = 0; i < s->guests->nr; i++) {
		struct sim_guest *g = s->guests->g[i];
		struct sim_vm *vm;

		if (g->pid <= 0 || !reap(g))
			continue;
		/* the guest powered off (or died): the VM is stopped */
		if ((vm = sim_vm(s, g->vmid)) && vm->running)
			vm->running = vm->paused = false;
	}
}

/* Wait up to ms for g's process to end. */
static bool wait_exit(struct sim_guest *g, int ms)
{
	int waited;

	for (waited = 0; waited < ms; waited += 50) {
		if (reap(g))
			return true;
		sleep_ms(50);
	}
	return reap(g);
}

static void stop_guest(struct sim_guest *g)
{
	struct strbuf why = STRBUF_INIT;

	if (reap(g))
		return;
	qmp_call(g->qmp, "quit", 3000, &why);
	strbuf_release(&why);
	if (!wait_exit(g, 3000)) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		g->pid = 0;
	}
}

void guest_stop(struct sim *s, int vmid)
{
	struct sim_guest *g = s->guests ? guest_get(s, vmid, false) : NULL;

	if (g)
		stop_guest(g);
}

int guest_powerdown(struct sim *s, int vmid)
{
	struct sim_guest *g = guest_running(s, vmid);
	struct strbuf why = STRBUF_INIT;
	int r;

	if (!g)
		return -1;
	r = qmp_call(g->qmp, "system_powerdown", 3000, &why) == QGA_OK ? 0 : -1;
	strbuf_release(&why);
	return r;
}

/* rm -rf of a VM's own directory (flat but for cidata/). */
static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d) {
		unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_addf(&sb, "%s/%s", path, de->d_name);
		if (lstat(sb.buf, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(sb.buf);
		else
			unlink(sb.buf);
		strbuf_release(&sb);
	}
	closedir(d);
	rmdir(path);
}

void guest_destroy(struct sim *s, int vmid)
{
	struct sim_guest *g = s->guests ? guest_get(s, vmid, false) : NULL;

	if (!g)
		return;
	stop_guest(g);
	remove_tree(g->dir);
}

void guests_release(struct sim *s)
{
	struct sim_guests *gs = s->guests;
	size_t i;

	if (!gs)
		return;
	for (i = 0; i < gs->nr; i++) {
		struct sim_guest *g = gs->g[i];

		stop_guest(g);
		pthread_mutex_destroy(&g->qga_mu);
		free(g->dir);
		free(g->console);
		free(g->qmp);
		free(g->qga);
		free(g);
	}
	free(gs->g);
	free(gs->dir);
	free(gs);
	s->guests = NULL;
}

/* ---- start ------------------------------------------------------------ */

/* Run a helper program (qemu-img, genisoimage); its output into log. */
static int run_tool(const char *const *argv, const char *log,
		    struct strbuf *why)
{
	struct spawn_opts o = { .argv = argv,
				.output_path = log,
				.timeout_ms = 120000 };
	struct err e = ERR_INIT;
	struct strbuf out = STRBUF_INIT, msg = STRBUF_INIT;
	int status = 0, r = 0;

	o.out = &out;
	if (spawn_run(&o, &status, &e) < 0 || status != 0) {
		struct err e2 = ERR_INIT;

		file_read_all(&msg, log, 65536, &e2);
		strbuf_trim(&msg);
		strbuf_addf(why, "%s failed: %s", argv[0],
			    e.msg.len ? e.msg.buf
				      : (msg.len ? msg.buf : "(no output)"));
		err_release(&e2);
		r = -1;
	}
	err_release(&e);
	strbuf_release(&out);
	strbuf_release(&msg);
	return r;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* "storage:name,opts": a disk (not a CD-ROM, not "none", not cloud-init) */
static bool is_disk(const char *key, const char *val)
{
	size_t n = strcspn(val, ",");

	return sim_drive_key(key) && memchr(val, ':', n) &&
	       !strstr(val, "media=cdrom") && !strstr(val, "cloudinit") &&
	       strncmp(key, "efidisk", 7) && strncmp(key, "tpmstate", 8);
}

struct start_plan {
	struct strvec argv;
	struct strbuf why;
	const char *tools_log;
};

/* The root overlay and the other disks, as -drive/-device options. */
static int plan_disks(struct sim_guest *g, const struct sim_vm *vm,
		      struct strvec *argv, const char *tools_log,
		      struct strbuf *why)
{
	struct strbuf path = STRBUF_INIT, base = STRBUF_INIT,
		      size = STRBUF_INIT;
	bool root = false, scsi = false;
	size_t i;
	int ret = -1, n = 0;

	for (i = 0; i < vm->conf.nr; i++) {
		const char *key = vm->conf.v[i].key, *val = vm->conf.v[i].val;
		uint64_t bytes;

		if (!is_disk(key, val))
			continue;
		strbuf_reset(&path);
		strbuf_reset(&size);
		bytes = sim_drive_size(val);
		strbuf_addf(&size, "%llu", (unsigned long long)bytes);
		if (!root) {
			const char *argv_c[] = { "qemu-img", "create", "-q",
						 "-f",	     "qcow2",  "-b",
						 NULL,	     "-F",     "qcow2",
						 NULL,	     NULL };

			strbuf_addf(&path, "%s/root.qcow2", g->dir);
			strbuf_reset(&base);
			strbuf_addf(&base, "%s/root.qcow2", vm->image);
			argv_c[6] = base.buf;
			argv_c[9] = path.buf;
			if (!file_exists(path.buf) &&
			    run_tool(argv_c, tools_log, why) < 0)
				goto out;
			if (bytes) {
				/* the configured size when it is larger than
				 * the image (cloud-init's resizefs grows the
				 * file system); a smaller one is not shrunk */
				const char *argv_r[] = { "qemu-img", "resize",
							 "-q",	     "-f",
							 "qcow2",    path.buf,
							 size.buf,   NULL };
				struct strbuf ignored = STRBUF_INIT;

				run_tool(argv_r, tools_log, &ignored);
				strbuf_release(&ignored);
			}
			strvec_push(argv, "-drive");
			strvec_pushf(argv,
				     "file=%s,format=qcow2,if=virtio,"
				     "cache=unsafe",
				     path.buf);
			root = true;
			continue;
		}
		if (!bytes)
			continue; /* a size Proxmox always records */
		strbuf_addf(&path, "%s/%s.qcow2", g->dir, key);
		if (!file_exists(path.buf)) {
			const char *argv_c[] = { "qemu-img", "create", "-q",
						 "-f",	     "qcow2",  path.buf,
						 size.buf,   NULL };

			if (run_tool(argv_c, tools_log, why) < 0)
				goto out;
		} else {
			/* grown through the API since (never shrunk) */
			const char *argv_r[] = { "qemu-img", "resize", "-q",
						 "-f",	     "qcow2",  path.buf,
						 size.buf,   NULL };

			if (run_tool(argv_r, tools_log, why) < 0)
				goto out;
		}
		strvec_push(argv, "-drive");
		strvec_pushf(argv,
			     "file=%s,format=qcow2,if=none,id=d%d,cache=unsafe",
			     path.buf, n);
		strvec_push(argv, "-device");
		if (!strncmp(key, "virtio", 6)) {
			strvec_pushf(argv, "virtio-blk-pci,drive=d%d", n);
		} else {
			if (!scsi) {
				strvec_push(argv, "virtio-scsi-pci,id=scsihw0");
				strvec_push(argv, "-device");
				scsi = true;
			}
			strvec_pushf(argv,
				     "scsi-hd,bus=scsihw0.0,drive=d%d,"
				     "serial=%s",
				     n, key);
		}
		n++;
	}
	if (!root) {
		strbuf_addf(why, "VM %d has no disk for the image's root",
			    vm->vmid);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&path);
	strbuf_release(&base);
	strbuf_release(&size);
	return ret;
}

static bool has_cloudinit(const struct sim_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->conf.nr; i++)
		if (sim_drive_key(vm->conf.v[i].key) &&
		    strstr(vm->conf.v[i].val, "cloudinit"))
			return true;
	return false;
}

/* The NoCloud files in cidata/ and the ISO made of them. */
static int plan_cloudinit(struct sim_guest *g, const struct sim_vm *vm,
			  struct strvec *argv, const char *tools_log,
			  struct strbuf *why)
{
	static const char *const names[] = { "user-data", "network-config",
					     "meta-data", "vendor-data" };
	struct strbuf dir = STRBUF_INIT, iso = STRBUF_INIT, f = STRBUF_INIT;
	struct nocloud nc;
	struct err e = ERR_INIT;
	size_t i;
	int ret = -1;

	nocloud_init(&nc);
	if (!has_cloudinit(vm))
		return 0;
	if (nocloud_generate(vm->conf.v, vm->conf.nr, vm->vmid, &nc, why) < 0)
		goto out;
	strbuf_addf(&dir, "%s/cidata", g->dir);
	strbuf_addf(&iso, "%s/cloudinit.iso", g->dir);
	if (mkdir(dir.buf, 0700) < 0 && errno != EEXIST) {
		strbuf_addf(why, "cannot create %s: %s", dir.buf,
			    strerror(errno));
		goto out;
	}
	for (i = 0; i < 4; i++) {
		const struct strbuf *b = i == 0	  ? &nc.user
					 : i == 1 ? &nc.network
					 : i == 2 ? &nc.meta
						  : NULL;

		strbuf_reset(&f);
		strbuf_addf(&f, "%s/%s", dir.buf, names[i]);
		if (file_write_atomic(f.buf, b ? b->buf : "", b ? b->len : 0,
				      0600, &e) < 0) {
			strbuf_addstr(why, e.msg.buf);
			goto out;
		}
	}
	{
		/* qemu-server: genisoimage -quiet -iso-level 3 -J -R -V cidata
		 */
		const char *gen[] = { "genisoimage", "-quiet", "-iso-level",
				      "3",	     "-J",     "-R",
				      "-V",	     "cidata", "-o",
				      iso.buf,	     dir.buf,  NULL };
		const char *xo[] = { "xorriso", "-as",	 "mkisofs", "-quiet",
				     "-J",	"-R",	 "-V",	    "cidata",
				     "-o",	iso.buf, dir.buf,   NULL };

		if (run_tool(spawn_program_exists("genisoimage") ? gen : xo,
			     tools_log, why) < 0)
			goto out;
		chmod(iso.buf, 0600); /* it holds cipassword as stored */
	}
	strvec_push(argv, "-drive");
	strvec_pushf(argv, "file=%s,format=raw,if=ide,index=2,media=cdrom",
		     iso.buf);
	ret = 0;
out:
	nocloud_release(&nc);
	err_release(&e);
	strbuf_release(&dir);
	strbuf_release(&iso);
	strbuf_release(&f);
	return ret;
}

/* A free TCP port on 127.0.0.1 (the kernel's pick; closed again). */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ipconfig0's option key ("ip", "gw") into out; false when absent. */
static bool ipc_opt(const char *ipc, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	while (ipc && *ipc) {
		size_t n = strcspn(ipc, ",");

		if (n > klen && ipc[klen] == '=' && !strncmp(ipc, key, klen)) {
			snprintf(out, size, "%.*s", (int)(n - klen - 1),
				 ipc + klen + 1);
			return true;
		}
		ipc += n;
		if (*ipc)
			ipc++;
	}
	return false;
}

/* -netdev user on ipconfig0's subnet, SSH forwarded; -device with net0's MAC */
static int plan_net(struct sim_guest *g, const struct sim_vm *vm,
		    struct strvec *argv, struct strbuf *why)
{
	const char *ipc = kv_get(&vm->conf, "ipconfig0");
	const char *net0 = kv_get(&vm->conf, "net0");
	char ip[64] = "", gw[64] = "", mac[18] = "";
	struct strbuf nd = STRBUF_INIT;
	const char *eq = net0 ? strchr(net0, '=') : NULL;
	const char *model = "virtio-net-pci";
	struct in_addr a, h;
	char *slash;
	long prefix;

	if ((g->ssh_port = free_port()) < 0) {
		strbuf_addstr(why, "no free port on 127.0.0.1 for SSH");
		return -1;
	}
	strbuf_addstr(&nd, "user,id=net0,restrict=on");
	if (ipc_opt(ipc, "ip", ip, sizeof(ip)) && strcmp(ip, "dhcp")) {
		slash = strchr(ip, '/');
		if (!slash ||
		    (*slash = '\0', inet_pton(AF_INET, ip, &a) != 1)) {
			strbuf_addf(why, "ipconfig0: not a CIDR: %s", ip);
			strbuf_release(&nd);
			return -1;
		}
		prefix = strtol(slash + 1, NULL, 10);
		if (prefix < 1 || prefix > 30)
			prefix = 24;
		h.s_addr = a.s_addr &
			   htonl(0xffffffffu << (32 - (unsigned)prefix));
		strbuf_addf(&nd, ",net=%s/%ld", inet_ntoa(h), prefix);
		if (ipc_opt(ipc, "gw", gw, sizeof(gw)) &&
		    inet_pton(AF_INET, gw, &h) == 1 && strcmp(gw, ip))
			strbuf_addf(&nd, ",host=%s", gw);
		strbuf_addf(&nd, ",hostfwd=tcp:127.0.0.1:%d-%s:22", g->ssh_port,
			    ip);
	} else {
		/* DHCP: slirp's first lease, x.x.x.15 of 10.0.2.0/24 */
		strbuf_addf(&nd, ",hostfwd=tcp:127.0.0.1:%d-:22", g->ssh_port);
	}
	strvec_push(argv, "-netdev");
	strvec_push(argv, nd.buf);
	strbuf_release(&nd);
	if (eq && strlen(eq + 1) >= 17)
		snprintf(mac, sizeof(mac), "%.17s", eq + 1);
	if (net0 && !strncmp(net0, "e1000", 5))
		model = "e1000";
	strvec_push(argv, "-device");
	if (mac[0])
		strvec_pushf(argv, "%s,netdev=net0,mac=%s", model, mac);
	else
		strvec_pushf(argv, "%s,netdev=net0", model);
	return 0;
}

/* The environment QEMU gets: nothing of ours but PATH. */
static void qemu_env(struct strvec *env, const struct sim_guest *g)
{
	const char *path = getenv("PATH");

	strvec_pushf(env, "PATH=%s",
		     path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	strvec_pushf(env, "HOME=%s", g->dir);
	strvec_pushf(env, "TMPDIR=%s", g->dir);
	strvec_push(env, "LC_ALL=C");
}

/*
 * fork and exec QEMU with a clean signal mask (ours blocks SIGTERM for
 * sigwait), stdin /dev/null, stdout and stderr to qemu.log; an exec
 * failure comes back over a close-on-exec pipe. Called on the spawner
 * thread only (below): the child's PR_SET_PDEATHSIG belongs to the thread
 * that forked it, and that thread lives as long as the simulator, so a
 * simulator killed with SIGKILL takes its guests with it.
 */
static pid_t fork_qemu(const struct sim_guest *g, struct strvec *argv,
		       struct strbuf *why, pid_t parent)
{
	struct strvec env = STRVEC_INIT;
	struct strbuf log = STRBUF_INIT;
	int pfd[2], err = 0, in, out;
	sigset_t none;
	pid_t pid;
	ssize_t r;

	strbuf_addf(&log, "%s/qemu.log", g->dir);
	qemu_env(&env, g);
	in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	out = open(log.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in < 0 || out < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		strbuf_addf(why, "cannot start %s: %s", QEMU, strerror(errno));
		pid = -1;
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127); /* the simulator is gone already */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid(); /* no terminal's signals; we stop it ourselves */
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		execvpe(argv->v[0], (char *const *)argv->v,
			(char *const *)env.v);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		strbuf_addf(why, "cannot fork: %s", strerror(errno));
	} else {
		while ((r = read(pfd[0], &err, sizeof(err))) < 0 &&
		       errno == EINTR)
			;
		if (r == sizeof(err)) {
			waitpid(pid, NULL, 0);
			strbuf_addf(why, "cannot run %s: %s", QEMU,
				    strerror(err));
			pid = -1;
		}
	}
	close(pfd[0]);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	strvec_clear(&env);
	strbuf_release(&log);
	return pid;
}

/* The spawner thread: one request at a time (the model's mutex is held). */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started, pending;
	const struct sim_guest *g;
	struct strvec *argv;
	struct strbuf *why;
	pid_t pid, parent;
} spawner = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *spawner_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&spawner.mu);
	for (;;) {
		while (!spawner.pending)
			pthread_cond_wait(&spawner.cv, &spawner.mu);
		spawner.pid = fork_qemu(spawner.g, spawner.argv, spawner.why,
					spawner.parent);
		spawner.pending = false;
		pthread_cond_broadcast(&spawner.cv);
	}
	return NULL;
}

static pid_t spawn_qemu(const struct sim_guest *g, struct strvec *argv,
			struct strbuf *why)
{
	pthread_t th;
	pid_t pid;

	pthread_mutex_lock(&spawner.mu);
	if (!spawner.started) {
		spawner.parent = getpid();
		if (pthread_create(&th, NULL, spawner_main, NULL) != 0) {
			pthread_mutex_unlock(&spawner.mu);
			strbuf_addstr(why, "cannot start the spawner thread");
			return -1;
		}
		pthread_detach(th);
		spawner.started = true;
	}
	spawner.g = g;
	spawner.argv = argv;
	spawner.why = why;
	spawner.pending = true;
	pthread_cond_broadcast(&spawner.cv);
	while (spawner.pending)
		pthread_cond_wait(&spawner.cv, &spawner.mu);
	pid = spawner.pid;
	pthread_mutex_unlock(&spawner.mu);
	return pid;
}

/* Until the QMP socket answers (QEMU is up) or the process ends. */
static int wait_up(struct sim_guest *g, struct strbuf *why)
{
	struct strbuf log = STRBUF_INIT, path = STRBUF_INIT, tmp = STRBUF_INIT;
	struct err e = ERR_INIT;
	int waited;

	for (waited = 0; waited < 30000; waited += 50) {
		if (reap(g))
			break;
		strbuf_reset(&tmp);
		if (file_exists(g->qmp) &&
		    qmp_call(g->qmp, "query-status", 2000, &tmp) == QGA_OK) {
			strbuf_release(&tmp);
			return 0;
		}
		sleep_ms(50);
	}
	strbuf_addf(&path, "%s/qemu.log", g->dir);
	file_read_all(&log, path.buf, 65536, &e);
	strbuf_trim(&log);
	if (g->pid > 0) {
		kill(g->pid, SIGKILL);
		waitpid(g->pid, NULL, 0);
		g->pid = 0;
	}
	strbuf_addf(why, "%s did not start: %s", QEMU,
		    log.len ? log.buf : "(no output)");
	strbuf_release(&log);
	strbuf_release(&path);
	strbuf_release(&tmp);
	err_release(&e);
	return -1;
}

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* The options every attempt shares (all but QEMU and the accelerator). */
static int plan_common(struct sim_guest *g, const struct sim_vm *vm,
		       struct strvec *argv, const char *tools,
		       struct strbuf *why)
{
	const char *name = kv_get(&vm->conf, "name");

	strvec_push(argv, "-name");
	strvec_pushf(argv, "%s,debug-threads=on", name ? name : "vm");
	strvec_push(argv, "-nodefaults");
	strvec_push(argv, "-display");
	strvec_push(argv, "none");
	strvec_push(argv, "-m");
	strvec_pushf(argv, "%llu", (unsigned long long)(vm_maxmem(vm) >> 20));
	strvec_push(argv, "-smp");
	strvec_pushf(argv, "%d", vm_cpus(vm));
	strvec_push(argv, "-kernel");
	strvec_pushf(argv, "%s/vmlinuz", vm->image);
	strvec_push(argv, "-initrd");
	strvec_pushf(argv, "%s/initrd.img", vm->image);
	strvec_push(argv, "-append");
	strvec_push(argv, "root=/dev/vda rw console=ttyS0");
	strvec_push(argv, "-serial");
	strvec_pushf(argv, "file:%s", g->console);
	strvec_push(argv, "-qmp");
	strvec_pushf(argv, "unix:%s,server=on,wait=off", g->qmp);
	strvec_push(argv, "-chardev");
	strvec_pushf(argv, "socket,path=%s,server=on,wait=off,id=qga0", g->qga);
	strvec_push(argv, "-device");
	strvec_push(argv, "virtio-serial");
	strvec_push(argv, "-device");
	strvec_push(argv,
		    "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0");
	if (plan_disks(g, vm, argv, tools, why) < 0 ||
	    plan_cloudinit(g, vm, argv, tools, why) < 0 ||
	    plan_net(g, vm, argv, why) < 0)
		return -1;
	return 0;
}

/*
 * How QEMU is tried: KVM with -cpu host when /dev/kvm opens read-write;
 * then (a nested hypervisor that refuses the IA32_ARCH_CAPABILITIES MSR
 * makes QEMU 7.2 abort at once with -cpu host) host without
 * arch-capabilities; TCG when there is no KVM, or when a KVM guest's
 * kernel printed nothing on its console within KVM_PROOF_MS (a nested
 * hypervisor may run QEMU but not the guest: seen on this project's CI
 * machine), which is remembered for the simulator's life.
 */
#define KVM_PROOF_MS 10000
static const struct accel {
	bool kvm;
	const char *cpu, *say;
} accels[] = {
	{ true, "host", "KVM" },
	{ true, "host,-arch-capabilities",
	  "KVM (-cpu host,-arch-capabilities: -cpu host failed)" },
	{ false, NULL, "TCG" },
};

/* Until the guest's console has output (its kernel runs), up to ms. */
static bool console_speaks(struct sim_guest *g, int ms)
{
	struct stat st;
	int waited;

	for (waited = 0; waited < ms; waited += 100) {
		if (stat(g->console, &st) == 0 && st.st_size > 0)
			return true;
		if (reap(g))
			return false;
		sleep_ms(100);
	}
	return false;
}

int guest_start(struct sim *s, struct sim_vm *vm, struct strvec *log,
		struct strbuf *why)
{
	struct sim_guest *g = guest_get(s, vm->vmid, true);
	struct strvec common = STRVEC_INIT, argv = STRVEC_INIT;
	struct strbuf tools = STRBUF_INIT;
	const struct accel *ac = NULL;
	enum guest_accel want = s->guests->accel;
	bool kvm =
		want != GUEST_ACCEL_TCG && kvm_usable() && !s->guests->kvm_mute;
	size_t i, j;
	int ret = -1;

	if (!reap(g)) {
		strbuf_addf(why, "VM %d already running", vm->vmid);
		goto out;
	}
	snprintf(g->node, sizeof(g->node), "%s", vm->node);
	if (mkdir(g->dir, 0700) < 0 && errno != EEXIST) {
		strbuf_addf(why, "cannot create %s: %s", g->dir,
			    strerror(errno));
		goto out;
	}
	if (want == GUEST_ACCEL_KVM && !kvm) {
		strbuf_addstr(why, "--guest-accel kvm: /dev/kvm cannot be "
				   "opened read-write");
		goto out;
	}
	strbuf_addf(&tools, "%s/tools.log", g->dir);
	if (plan_common(g, vm, &common, tools.buf, why) < 0)
		goto out;
	for (i = 0; i < sizeof(accels) / sizeof(accels[0]); i++) {
		if ((accels[i].kvm && !kvm) ||
		    (!accels[i].kvm && want == GUEST_ACCEL_KVM))
			continue;
		ac = &accels[i];
		strvec_clear(&argv);
		strbuf_reset(why);
		unlink(g->qmp);
		unlink(g->qga);
		unlink(g->console);
		strvec_push(&argv, QEMU);
		if (ac->kvm) {
			strvec_push(&argv, "-enable-kvm");
			strvec_push(&argv, "-cpu");
			strvec_push(&argv, ac->cpu);
		} else {
			strvec_push(&argv, "-accel");
			strvec_push(&argv, "tcg");
		}
		for (j = 0; j < common.nr; j++)
			strvec_push(&argv, common.v[j]);
		if ((g->pid = spawn_qemu(g, &argv, why)) < 0) {
			g->pid = 0;
			goto out; /* no QEMU at all: no other try helps */
		}
		if (wait_up(g, why) == 0 &&
		    (!ac->kvm || want == GUEST_ACCEL_KVM ||
		     console_speaks(g, KVM_PROOF_MS)))
			break;
		if (ac->kvm && g->pid > 0) { /* up, but the guest is mute */
			stop_guest(g);
			s->guests->kvm_mute = true;
			kvm = false;
			strvec_pushf(log,
				     "VM %d: no console output under KVM in "
				     "%d s: using TCG",
				     vm->vmid, KVM_PROOF_MS / 1000);
		}
		ac = NULL;
	}
	if (!ac)
		goto out;
	g->kvm = ac->kvm;
	strvec_pushf(log,
		     "VM %d: %s runs with %s (pid %d), SSH on 127.0.0.1:%d",
		     vm->vmid, QEMU,
		     ac->kvm		   ? ac->say
		     : s->guests->kvm_mute ? "TCG (KVM guests stay mute here)"
		     : want == GUEST_ACCEL_TCG ? "TCG (--guest-accel tcg)"
					       : "TCG (no usable /dev/kvm)",
		     (int)g->pid, g->ssh_port);
	fprintf(stderr, "proxmox-sim: %s\n", log->v[log->nr - 1]);
	ret = 0;
out:
	strvec_clear(&common);
	strvec_clear(&argv);
	strbuf_release(&tools);
	return ret;
}

/* ---- GET /sim/guests -------------------------------------------------- */

void h_sim_guests(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *a = json_array();
	size_t i;

	(void)rq;
	for (i = 0; s->guests && i < s->guests->nr; i++) {
		struct sim_guest *g = s->guests->g[i];
		char ssh[32];

		if (reap(g))
			continue;
		snprintf(ssh, sizeof(ssh), "127.0.0.1:%d", g->ssh_port);
		json_array_append_new(
			a, json_pack("{s:i, s:s, s:s, s:s, s:i, s:s}", "vmid",
				     g->vmid, "node", g->node, "ssh", ssh,
				     "accel", g->kvm ? "kvm" : "tcg", "pid",
				     (int)g->pid, "console", g->console));
	}
	rs->data = a;
}
