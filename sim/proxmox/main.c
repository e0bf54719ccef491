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

#include "server.h"
#include "sim.h"
#include "tls.h"
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
	"  --fault-rate RATE        share of requests hit by a fault, 0 to 1 "
	"(default 0)\n"
	"  --faults LIST            which faults: http500,drop,delay,lock,task "
	"(default all)\n"
	"  --fault-delay-ms MS      how long a delay fault waits (default "
	"2000)\n"
	"  --seed N                 fault sequence seed (default 1); same seed, "
	"same faults\n"
	"  --latency-ms MS          added to every request (default 0)\n"
	"  --request-log FILE       one JSON line per request (method, path, "
	"params, status)\n"
	"  --state FILE             keep VMs across restarts in FILE\n"
	"  -h, --help               this help\n"
	"      --version            print the version\n"
	"\n"
	"Start-up prints 'listening on URL', then (HTTPS) 'fingerprint "
	"SHA256', then\n"
	"(generated token) 'token USER@REALM!ID=SECRET', before serving.\n";

enum {
	OPT_LISTEN = 256,
	OPT_HTTP,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TOKEN,
	OPT_USER,
	OPT_TOPOLOGY,
	OPT_TASK_MS,
	OPT_BOOT_MS,
	OPT_TICKET_LIFETIME,
	OPT_GUEST_KEY,
	OPT_FAULT_RATE,
	OPT_FAULTS,
	OPT_FAULT_DELAY,
	OPT_SEED,
	OPT_LATENCY,
	OPT_REQUEST_LOG,
	OPT_STATE,
	OPT_LOCK_WAIT,
	OPT_VERSION,
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "http", no_argument, NULL, OPT_HTTP },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "user", required_argument, NULL, OPT_USER },
	{ "topology", required_argument, NULL, OPT_TOPOLOGY },
	{ "task-ms", required_argument, NULL, OPT_TASK_MS },
	{ "boot-ms", required_argument, NULL, OPT_BOOT_MS },
	{ "ticket-lifetime", required_argument, NULL, OPT_TICKET_LIFETIME },
	{ "guest-host-key", required_argument, NULL, OPT_GUEST_KEY },
	{ "fault-rate", required_argument, NULL, OPT_FAULT_RATE },
	{ "faults", required_argument, NULL, OPT_FAULTS },
	{ "fault-delay-ms", required_argument, NULL, OPT_FAULT_DELAY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "latency-ms", required_argument, NULL, OPT_LATENCY },
	{ "request-log", required_argument, NULL, OPT_REQUEST_LOG },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "lock-wait-ms", required_argument, NULL, OPT_LOCK_WAIT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	struct server_opts so;
	const char *tls_cert, *tls_key, *topology;
	struct strvec tokens, users, guest_keys;
};

static int bad(struct err *e, const char *opt, const char *val,
	       const char *what)
{
	return err_set(e, EXIT_INVALID, "%s: '%s' is not %s", opt, val, what);
}

static int parse_ms(int *out, const char *opt, const char *v, struct err *e)
{
	uint64_t n;

	if (parse_u64z(&n, v, 0, 3600000) < 0)
		return bad(e, opt, v, "a number of milliseconds (0-3600000)");
	*out = (int)n;
	return 0;
}

static int parse_task_ms(struct sim_opts *o, const char *spec, struct err *e)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int ret = 0, ms = 0;

	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			ret = parse_ms(&o->default_task_ms, "--task-ms", tok,
				       e);
			continue;
		}
		*eq = '\0';
		if (!*tok || (ret = parse_ms(&ms, "--task-ms", eq + 1, e)))
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

static int parse_faults(unsigned *mask, const char *list, struct err *e)
{
	static const char *const names[] = { "http500", "drop", "delay",
					     "lock",	"task", NULL };
	char *copy = xstrdup(list), *tok, *save = NULL;
	int ret = 0;
	size_t i;

	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; names[i] && strcmp(names[i], tok); i++)
			;
		if (!names[i]) {
			ret = bad(e, "--faults", tok,
				  "one of http500, drop, delay, lock, task");
			break;
		}
		*mask |= 1u << i;
	}
	free(copy);
	return ret;
}

static int parse_listen(struct server_opts *so, const char *v, struct err *e)
{
	const char *colon = strrchr(v, ':');
	uint64_t port;
	static char host[64];

	if (!colon || (size_t)(colon - v) >= sizeof(host) ||
	    parse_u64z(&port, colon + 1, 0, 65535) < 0)
		return bad(e, "--listen", v, "HOST:PORT");
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	so->listen_host = host;
	so->port = (unsigned)port;
	return 0;
}

static int parse_args(struct cli *cli, struct sim *s, int argc, char **argv,
		      struct err *e)
{
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case OPT_LISTEN:
			r = parse_listen(&cli->so, optarg, e);
			break;
		case OPT_HTTP:
			cli->so.http = true;
			break;
		case OPT_TLS_CERT:
			cli->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			cli->tls_key = optarg;
			break;
		case OPT_TOKEN:
			if (!strchr(optarg, '!') || !strchr(optarg, '=') ||
			    !strchr(optarg, '@'))
				r = bad(e, "--token", "...",
					"USER@REALM!ID=SECRET");
			strvec_push(&cli->tokens, optarg);
			break;
		case OPT_USER:
			if (!strchr(optarg, '@') || !strchr(optarg, ':'))
				r = bad(e, "--user", "...",
					"USER@REALM:PASSWORD");
			strvec_push(&cli->users, optarg);
			break;
		case OPT_TOPOLOGY:
			cli->topology = optarg;
			break;
		case OPT_TASK_MS:
			r = parse_task_ms(&s->opts, optarg, e);
			break;
		case OPT_BOOT_MS:
			r = parse_ms(&s->opts.boot_ms, "--boot-ms", optarg, e);
			break;
		case OPT_TICKET_LIFETIME:
			if (parse_u64z(&n, optarg, 1, 86400 * 365) < 0)
				r = bad(e, "--ticket-lifetime", optarg,
					"a number of seconds");
			s->opts.ticket_lifetime = (int)n;
			break;
		case OPT_GUEST_KEY:
			if (!strchr(optarg, '='))
				r = bad(e, "--guest-host-key", optarg,
					"ADDR=FILE");
			strvec_push(&cli->guest_keys, optarg);
			break;
		case OPT_FAULT_RATE: {
			char *end;

			errno = 0;
			cli->so.fault_rate = strtod(optarg, &end);
			if (errno || *end || end == optarg ||
			    cli->so.fault_rate < 0 || cli->so.fault_rate > 1)
				r = bad(e, "--fault-rate", optarg,
					"a number from 0 to 1");
			break;
		}
		case OPT_FAULTS:
			r = parse_faults(&cli->so.faults, optarg, e);
			break;
		case OPT_FAULT_DELAY:
			r = parse_ms(&cli->so.fault_delay_ms,
				     "--fault-delay-ms", optarg, e);
			break;
		case OPT_SEED:
			if (parse_u64z(&cli->so.seed, optarg, 0, UINT64_MAX) <
			    0)
				r = bad(e, "--seed", optarg, "a number");
			break;
		case OPT_LATENCY:
			r = parse_ms(&cli->so.latency_ms, "--latency-ms",
				     optarg, e);
			break;
		case OPT_REQUEST_LOG:
			cli->so.request_log = optarg;
			break;
		case OPT_STATE:
			s->opts.state_file = optarg;
			break;
		case OPT_LOCK_WAIT:
			r = parse_ms(&s->opts.lock_wait_ms, "--lock-wait-ms",
				     optarg, e);
			break;
		case 'h':
			fputs(usage, stdout);
			exit(EXIT_OK);
		case OPT_VERSION:
			printf("proxmox-sim %s\n", PVE_GITOPS_VERSION);
			exit(EXIT_OK);
		default:
			return err_set(e, EXIT_INVALID,
				       "try 'proxmox-sim --help'");
		}
		if (r)
			return -1;
	}
	if (optind < argc)
		return err_set(e, EXIT_INVALID, "unexpected argument '%s'",
			       argv[optind]);
	if (!cli->tls_cert != !cli->tls_key)
		return err_set(e, EXIT_INVALID,
			       "--tls-cert and --tls-key go together");
	return 0;
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
			return bad(e, "--user", "...", "USER@REALM:PASSWORD");
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

int main(int argc, char **argv)
{
	struct cli cli = { .so = { .listen_host = "127.0.0.1",
				   .port = 8006,
				   .faults = FAULT_ALL,
				   .seed = 1,
				   .fault_delay_ms = 2000 },
			   .tokens = STRVEC_INIT,
			   .users = STRVEC_INIT,
			   .guest_keys = STRVEC_INIT };
	struct sim s;
	struct sim_tls tls = SIM_TLS_INIT;
	struct server sv = { 0 };
	struct err e = ERR_INIT;
	char generated[128] = "";
	sigset_t set;
	int sig, code = EXIT_OK;

	sim_init(&s);
	if (parse_args(&cli, &s, argc, argv, &e) < 0)
		goto fail;
	if (cli.topology ? sim_load_topology(&s, cli.topology, &e) < 0
			 : (sim_default_topology(&s), 0))
		goto fail;
	if (s.opts.state_file && sim_state_load(&s, s.opts.state_file, &e) < 0)
		goto fail;
	if (add_credentials(&s, &cli, generated, sizeof(generated), &e) < 0)
		goto fail;
	if (!cli.so.http &&
	    (cli.tls_cert ? sim_tls_load(&tls, cli.tls_cert, cli.tls_key, &e)
			  : sim_tls_generate(&tls, cli.so.listen_host, &e)) < 0)
		goto fail;
	if (!cli.so.http)
		snprintf(s.fingerprint, sizeof(s.fingerprint), "%s",
			 tls.fingerprint);
	/* the server threads must not take these signals */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sv.sim = &s;
	sv.opts = cli.so;
	sv.tls = &tls;
	if (server_start(&sv, &e) < 0)
		goto fail;
	printf("listening on %s://%s:%u\n", cli.so.http ? "http" : "https",
	       cli.so.listen_host, sv.port);
	if (!cli.so.http)
		printf("fingerprint %s\n", tls.fingerprint);
	if (generated[0])
		printf("token %s\n", generated);
	fflush(stdout);
	sigdelset(&set, SIGPIPE);
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig != SIGINT && sig != SIGTERM);
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
