/*
 * main.c - proxmox-sim: a Proxmox VE API simulator for tests and demos.
 * Parses the command line, builds the cluster, starts the server, prints
 * the lines scripts read (address, fingerprint, generated token) and
 * serves until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "migrate.h"
#include "server.h"
#include "sim.h"
#include "common/front.h"
#include "common/opts.h"
#include "common/tls.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static const char usage[] =
	"usage: proxmox-sim [options]\n"
	"\n"
	"A Proxmox VE API (/api2/json) simulator for tests and demos.\n"
	"\n"
	"  --listen HOST:PORT       address to listen on (default "
	"127.0.0.1:8006;\n"
	"                           port 0 picks a free port)\n"
	"  --http                   plain HTTP instead of HTTPS\n"
	"  --tls-cert FILE          PEM certificate (default: generate a "
	"self-signed one)\n"
	"  --tls-key FILE           PEM private key for --tls-cert\n"
	"  --token USER@REALM!ID=SECRET\n"
	"                           accept this API token (repeatable)\n"
	"  --user USER@REALM:PASSWORD\n"
	"                           accept this user for ticket login "
	"(repeatable)\n"
	"                           (with neither, a root@pam!sim token is "
	"generated)\n"
	"  --topology FILE          nodes, storages, templates, VMs and users "
	"(YAML)\n"
	"  --task-ms SPEC           task duration: 'MS' for every type, or\n"
	"                           'qmclone=2000,qmstart=500' per Proxmox task "
	"type\n"
	"                           (default 100)\n"
	"  --boot-ms MS             from start until the guest agent answers "
	"(default 500)\n"
	"  --ticket-lifetime SECS   ticket validity (default 7200)\n"
	"  --lock-wait-ms MS        how long an operation waits for a VM's "
	"lock file\n"
	"                           held by a running task (default 10000, as "
	"Proxmox)\n"
	"  --guest-host-key ADDR=FILE\n"
	"                           the SSH host public key the guest agent "
	"returns for\n"
	"                           the VM whose ipconfig0 address is ADDR "
	"(repeatable)\n"
	"  --guest-ignores-shutdown VMID\n"
	"                           the guest of VM VMID ignores ACPI shutdown "
	"requests:\n"
	"                           shutdown and reboot wait their timeout, "
	"then fail\n"
	"                           (or stop it with forceStop=1) "
	"(repeatable)\n"
	"  --fault-rate RATE        share of requests hit by a fault, 0 to 1 "
	"(default 0)\n"
	"  --faults LIST            which faults: http500,drop,delay,lock,task "
	"(default all\n"
	"                           of these); only when named: hang (never "
	"answer),\n"
	"                           trickle (one byte per --fault-trickle-ms), "
	"escape\n"
	"                           (a task fails with ESC in its exitstatus), "
	"nodata\n"
	"                           (GET status/current answered without "
	"data),\n"
	"                           taskstatus (a task status without "
	"status)\n"
	"  --fault-delay-ms MS      how long a delay fault waits (default "
	"2000)\n"
	"  --fault-trickle-ms MS    the pause between two bytes of a trickled "
	"answer\n"
	"                           (default 2000)\n"
	"  --seed N                 fault sequence seed (default 1); same seed, "
	"same faults\n"
	"  --latency-ms MS          added to every request (default 0)\n"
	"  --request-log FILE       one JSON line per request (method, path, "
	"params, status)\n"
	"  --state FILE             keep VMs across restarts in FILE\n"
	"  --guests none|qemu       qemu: a VM whose template names an image "
	"runs as a\n"
	"                           real qemu-system-x86_64 guest (default "
	"none)\n"
	"  --guest-dir DIR          the guests' overlays, ISOs, sockets and "
	"logs\n"
	"                           (default: a new directory under $TMPDIR)\n"
	"  --guest-accel auto|kvm|tcg\n"
	"                           auto: KVM when /dev/kvm works and boots a "
	"guest,\n"
	"                           else TCG (default auto)\n"
	"  -h, --help               this help\n"
	"      --version            print the version\n"
	"\n"
	"Start-up prints 'listening on URL', then (HTTPS) 'fingerprint "
	"SHA256', then\n"
	"(generated token) 'token USER@REALM!ID=SECRET', before serving.\n";

enum {
	OPT_HTTP = SIMOPT_OWN,
	OPT_TOKEN,
	OPT_USER,
	OPT_TOPOLOGY,
	OPT_TASK_MS,
	OPT_BOOT_MS,
	OPT_TICKET_LIFETIME,
	OPT_GUEST_KEY,
	OPT_FAULT_DELAY,
	OPT_FAULT_TRICKLE,
	OPT_STATE,
	OPT_LOCK_WAIT,
	OPT_DEAF_GUEST,
	OPT_GUESTS,
	OPT_GUEST_DIR,
	OPT_GUEST_ACCEL,
};

static const struct option longopts[] = {
	SIM_COMMON_LONGOPTS,
	{ "http", no_argument, NULL, OPT_HTTP },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "user", required_argument, NULL, OPT_USER },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "task-ms", required_argument, NULL, OPT_TASK_MS },
	{ "boot-ms", required_argument, NULL, OPT_BOOT_MS },
	{ "ticket-lifetime", required_argument, NULL, OPT_TICKET_LIFETIME },
	{ "guest-host-key", required_argument, NULL, OPT_GUEST_KEY },
	{ "fault-delay-ms", required_argument, NULL, OPT_FAULT_DELAY },
	{ "fault-trickle-ms", required_argument, NULL, OPT_FAULT_TRICKLE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "lock-wait-ms", required_argument, NULL, OPT_LOCK_WAIT },
	{ "guest-ignores-shutdown", required_argument, NULL, OPT_DEAF_GUEST },
	{ "guests", required_argument, NULL, OPT_GUESTS },
	{ "guest-dir", required_argument, NULL, OPT_GUEST_DIR },
	{ "guest-accel", required_argument, NULL, OPT_GUEST_ACCEL },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	struct sim_common_opts co;
	bool http;
	int fault_delay_ms, fault_trickle_ms;
	const char *topology;
	bool guests;		/* --guests qemu */
	const char *guest_dir;	/* --guest-dir */
	enum guest_accel accel; /* --guest-accel */
	struct strvec tokens, users, guest_keys;
};

static int parse_task_ms(struct sim_opts *o, const char *spec, struct err *e)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int ret = 0, ms = 0;

	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			ret = sim_parse_ms(&o->default_task_ms, "--task-ms",
					   tok, e);
			continue;
		}
		*eq = '\0';
		if (!*tok || (ret = sim_parse_ms(&ms, "--task-ms", eq + 1, e)))
			break;
		ALLOC_GROW(o->task_ms, st_add(o->nr_task_ms, 1),
			   o->alloc_task_ms);
		o->task_ms[o->nr_task_ms].type = xstrdup(tok);
		o->task_ms[o->nr_task_ms].ms = ms;
		o->nr_task_ms++;
	}
	free(copy);
	return ret;
}

/* The credentials and keys given: checked now, added after the topology. */
static int parse_credential(struct cli *cli, int c, const char *arg,
			    struct err *e)
{
	int r = 0;

	switch (c) {
	case OPT_TOKEN:
		if (!strchr(arg, '!') || !strchr(arg, '=') || !strchr(arg, '@'))
			r = sim_bad_value(e, "--token", "...",
					  "USER@REALM!ID=SECRET");
		strvec_push(&cli->tokens, arg);
		break;
	case OPT_USER:
		if (!strchr(arg, '@') || !strchr(arg, ':'))
			r = sim_bad_value(e, "--user", "...",
					  "USER@REALM:PASSWORD");
		strvec_push(&cli->users, arg);
		break;
	case OPT_GUEST_KEY:
		if (!strchr(arg, '='))
			r = sim_bad_value(e, "--guest-host-key", arg,
					  "ADDR=FILE");
		strvec_push(&cli->guest_keys, arg);
		break;
	}
	return r;
}

static int parse_opt(struct cli *cli, struct sim *s, int c, const char *arg,
		     struct err *e)
{
	uint64_t n;

	switch (c) {
	case OPT_HTTP:
		cli->http = true;
		return 0;
	case OPT_TOKEN:
	case OPT_USER:
	case OPT_GUEST_KEY:
		return parse_credential(cli, c, arg, e);
	case OPT_TOPOLOGY:
		cli->topology = arg;
		return 0;
	case OPT_GUESTS:
		if (strcmp(arg, "none") && strcmp(arg, "qemu"))
			return sim_bad_value(e, "--guests", arg,
					     "none or qemu");
		cli->guests = !strcmp(arg, "qemu");
		return 0;
	case OPT_GUEST_DIR:
		cli->guest_dir = arg;
		return 0;
	case OPT_GUEST_ACCEL:
		if (!strcmp(arg, "auto"))
			cli->accel = GUEST_ACCEL_AUTO;
		else if (!strcmp(arg, "kvm"))
			cli->accel = GUEST_ACCEL_KVM;
		else if (!strcmp(arg, "tcg"))
			cli->accel = GUEST_ACCEL_TCG;
		else
			return sim_bad_value(e, "--guest-accel", arg,
					     "auto, kvm or tcg");
		return 0;
	case OPT_TASK_MS:
		return parse_task_ms(&s->opts, arg, e);
	case OPT_BOOT_MS:
		return sim_parse_ms(&s->opts.boot_ms, "--boot-ms", arg, e);
	case OPT_TICKET_LIFETIME:
		if (parse_u64z(&n, arg, 1, 86400 * 365) < 0)
			return sim_bad_value(e, "--ticket-lifetime", arg,
					     "a number of seconds");
		s->opts.ticket_lifetime = (int)n;
		return 0;
	case OPT_FAULT_DELAY:
		return sim_parse_ms(&cli->fault_delay_ms, "--fault-delay-ms",
				    arg, e);
	case OPT_FAULT_TRICKLE:
		return sim_parse_ms(&cli->fault_trickle_ms,
				    "--fault-trickle-ms", arg, e);
	case OPT_STATE:
		s->opts.state_file = arg;
		return 0;
	case OPT_LOCK_WAIT:
		return sim_parse_ms(&s->opts.lock_wait_ms, "--lock-wait-ms",
				    arg, e);
	case OPT_DEAF_GUEST:
		if (parse_u64z(&n, arg, 100, 999999999) < 0)
			return sim_bad_value(e, "--guest-ignores-shutdown", arg,
					     "a VM id (100-999999999)");
		ALLOC_GROW(s->opts.deaf_vmids, st_add(s->opts.nr_deaf, 1),
			   s->opts.alloc_deaf);
		s->opts.deaf_vmids[s->opts.nr_deaf++] = (int)n;
		return 0;
	}
	return err_set(e, EXIT_INVALID, "try 'proxmox-sim --help'");
}

static int parse_args(struct cli *cli, struct sim *s, int argc, char **argv,
		      struct err *e)
{
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		r = sim_common_opt(&cli->co, c, optarg, e);
		if (r < 0 || (!r && parse_opt(cli, s, c, optarg, e) < 0))
			return -1;
	}
	if (optind < argc)
		return err_set(e, EXIT_INVALID, "unexpected argument '%s'",
			       argv[optind]);
	return sim_common_opts_check(&cli->co, e);
}

static int add_credentials(struct sim *s, struct cli *cli, char *generated,
			   size_t size, struct err *e)
{
	size_t i;

	for (i = 0; i < cli->tokens.nr; i++) {
		const char *t = cli->tokens.v[i];
		const char *eq = strchr(strchr(t, '!'), '=');
		char *id = xstrndup(t, (size_t)(eq - t));

		sim_add_token(s, id, eq + 1);
		free(id);
	}
	for (i = 0; i < cli->users.nr; i++) {
		const char *u = cli->users.v[i];
		const char *colon = strchr(strchr(u, '@'), ':');
		char *id;

		if (!colon)
			return sim_bad_value(e, "--user", "...",
					     "USER@REALM:PASSWORD");
		id = xstrndup(u, (size_t)(colon - u));
		sim_add_user(s, id, colon + 1);
		free(id);
	}
	for (i = 0; i < cli->guest_keys.nr; i++) {
		const char *g = cli->guest_keys.v[i];
		const char *eq = strchr(g, '=');
		struct strbuf key = STRBUF_INIT;

		if (file_read_all(&key, eq + 1, 65536, e) < 0)
			return -1;
		strbuf_trim(&key);
		ALLOC_GROW(s->guest_keys, st_add(s->nr_guest_keys, 1),
			   s->alloc_guest_keys);
		s->guest_keys[s->nr_guest_keys].addr =
			xstrndup(g, (size_t)(eq - g));
		s->guest_keys[s->nr_guest_keys].key = strbuf_detach(&key, NULL);
		s->nr_guest_keys++;
	}
	if (!s->nr_tokens && !s->nr_users) {
		char secret[37], hex[33];

		sim_random_hex(s, hex, 16);
		snprintf(secret, sizeof(secret), "%.8s-%.4s-%.4s-%.4s-%.12s",
			 hex, hex + 8, hex + 12, hex + 16, hex + 20);
		sim_add_token(s, "root@pam!sim", secret);
		snprintf(generated, size, "root@pam!sim=%s", secret);
	}
	return 0;
}

/* Everything before serving: options, cluster, credentials, certificate. */
static int set_up(struct cli *cli, struct sim *s, struct sim_tls *tls,
		  char *generated, size_t size, int argc, char **argv,
		  struct err *e)
{
	if (parse_args(cli, s, argc, argv, e) < 0)
		return -1;
	if (cli->guests && guests_init(s, cli->guest_dir, cli->accel, e) < 0)
		return -1;
	if (cli->topology ? sim_load_topology(s, cli->topology, e) < 0
			  : (sim_default_topology(s), 0))
		return -1;
	if (s->opts.state_file && sim_state_load(s, s->opts.state_file, e) < 0)
		return -1;
	if (add_credentials(s, cli, generated, size, e) < 0)
		return -1;
	if (cli->http)
		return 0;
	if ((cli->co.tls_cert
		     ? sim_tls_load(tls, cli->co.tls_cert, cli->co.tls_key, e)
		     : sim_tls_generate(tls, cli->co.host, "proxmox-sim", e)) <
	    0)
		return -1;
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s",
		 tls->fingerprint);
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = { .fault_delay_ms = 2000,
			   .fault_trickle_ms = 2000,
			   .tokens = STRVEC_INIT,
			   .users = STRVEC_INIT,
			   .guest_keys = STRVEC_INIT };
	struct sim s;
	struct sim_tls tls = SIM_TLS_INIT;
	struct server sv = { 0 };
	struct err e = ERR_INIT;
	char generated[128] = "";
	sigset_t set;
	int code = EXIT_OK;

	sim_common_opts_init(&cli.co, "proxmox-sim", usage, pve_fault_names,
			     8006);
	cli.co.faults &= ~(unsigned)(FAULT_HANG | FAULT_TRICKLE | FAULT_ESCAPE |
				     FAULT_NODATA | FAULT_TASKSTATUS);
	sim_init(&s);
	s.ha_crm = migrate_ha_crm;
	if (set_up(&cli, &s, &tls, generated, sizeof(generated), argc, argv,
		   &e) < 0)
		goto fail;
	sim_signals_block(&set);
	sv.sim = &s;
	sv.opts.co = &cli.co;
	sv.opts.http = cli.http;
	sv.opts.fault_delay_ms = cli.fault_delay_ms;
	sv.opts.fault_trickle_ms = cli.fault_trickle_ms;
	sv.tls = &tls;
	if (server_start(&sv, &e) < 0)
		goto fail;
	printf("listening on %s://%s:%u\n", cli.http ? "http" : "https",
	       cli.co.host, sv.front.port);
	if (!cli.http)
		printf("fingerprint %s\n", tls.fingerprint);
	if (generated[0])
		printf("token %s\n", generated);
	fflush(stdout);
	sim_signals_wait(&set);
	server_stop(&sv);
	if (s.opts.state_file) {
		pthread_mutex_lock(&s.mu);
		if (sim_state_save(&s, &e) < 0)
			fprintf(stderr, "proxmox-sim: error: %s\n", e.msg.buf);
		pthread_mutex_unlock(&s.mu);
	}
	goto out;
fail:
	fprintf(stderr, "proxmox-sim: error: %s\n", e.msg.buf);
	code = e.exit_code ? e.exit_code : EXIT_FAIL;
out:
	err_release(&e);
	sim_tls_release(&tls);
	strvec_clear(&cli.tokens);
	strvec_clear(&cli.users);
	strvec_clear(&cli.guest_keys);
	sim_release(&s);
	return code;
}
