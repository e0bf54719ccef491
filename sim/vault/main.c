/*
 * main.c - vault-sim: a HashiCorp Vault KV (v1 and v2) API simulator for
 * tests and demos. Parses the command line, sets up the mounts and the
 * root token, starts the server, prints the lines scripts read (address,
 * generated token) and serves until SIGINT or SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "common/front.h"
#include "common/opts.h"
#include "common/tls.h"
#include "vault.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static const char usage[] =
	"usage: vault-sim [options]\n"
	"\n"
	"A HashiCorp Vault API simulator (KV secrets engines v1 and v2, token\n"
	"auth) for tests and demos. Plain HTTP unless given a certificate.\n"
	"\n"
	"  --listen HOST:PORT       address to listen on (default "
	"127.0.0.1:8200;\n"
	"                           port 0 picks a free port)\n"
	"  --allow-remote           accept a non-loopback --listen address\n"
	"  --kv2 PATH               a KV version 2 mount (repeatable)\n"
	"  --kv1 PATH               a KV version 1 mount (repeatable)\n"
	"                           (with neither, one KV v2 mount 'kv')\n"
	"  --cas-required           mounts start with cas_required set\n"
	"  --root-token TOKEN       the root token (default: generate one)\n"
	"  --root-token-file FILE   read the root token from FILE\n"
	"  --tls-cert FILE          serve HTTPS with this PEM certificate\n"
	"  --tls-key FILE           and this PEM private key\n"
	"  --request-log FILE       one JSON line per request (method, path, "
	"status,\n"
	"                           cas and cas_conflict for data writes)\n"
	"  --latency-ms MS          added to every request (default 0)\n"
	"  --storage-latency-ms MS  added to every KV v2 write between its "
	"check-and-set\n"
	"                           and its commit, holding the store's lock "
	"(default 0)\n"
	"  --fault-rate RATE        share of requests hit by a fault, 0 to 1 "
	"(default 0)\n"
	"  --faults LIST            which faults: http500,drop,garbled,hang,"
	"trickle\n"
	"                           (default http500,drop; hang never "
	"answers,\n"
	"                           trickle sends one byte every 2 s)\n"
	"  --seed N                 fault sequence seed (default 1); same "
	"seed, same faults\n"
	"  -h, --help               this help\n"
	"      --version            print the version\n"
	"\n"
	"Start-up prints 'listening on URL', then, when it generated the root "
	"token,\n"
	"'root-token TOKEN', before serving.\n";

enum {
	OPT_ALLOW_REMOTE = SIMOPT_OWN,
	OPT_KV2,
	OPT_KV1,
	OPT_CAS_REQUIRED,
	OPT_ROOT_TOKEN,
	OPT_ROOT_TOKEN_FILE,
	OPT_STORAGE_LATENCY,
};

static const struct option longopts[] = {
	SIM_COMMON_LONGOPTS,
	{ "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
	{ "kv2", required_argument, NULL, OPT_KV2 },
	{ "kv1", required_argument, NULL, OPT_KV1 },
	{ "cas-required", no_argument, NULL, OPT_CAS_REQUIRED },
	{ "root-token", required_argument, NULL, OPT_ROOT_TOKEN },
	{ "root-token-file", required_argument, NULL, OPT_ROOT_TOKEN_FILE },
	{ "storage-latency-ms", required_argument, NULL, OPT_STORAGE_LATENCY },
	{ NULL, 0, NULL, 0 },
};

struct cli {
	struct sim_common_opts co;
	bool allow_remote, cas_required;
	int storage_latency_ms;
	struct strvec mounts; /* "2kv", "1secret": version, then the path */
	const char *root_token, *root_token_file;
};

static int parse_opt(struct cli *cli, int c, struct err *e)
{
	switch (c) {
	case OPT_ALLOW_REMOTE:
		cli->allow_remote = true;
		return 0;
	case OPT_KV2:
	case OPT_KV1:
		strvec_pushf(&cli->mounts, "%c%s", c == OPT_KV2 ? '2' : '1',
			     optarg);
		return 0;
	case OPT_CAS_REQUIRED:
		cli->cas_required = true;
		return 0;
	case OPT_ROOT_TOKEN:
		cli->root_token = optarg;
		return 0;
	case OPT_ROOT_TOKEN_FILE:
		cli->root_token_file = optarg;
		return 0;
	case OPT_STORAGE_LATENCY:
		return sim_parse_ms(&cli->storage_latency_ms,
				    "--storage-latency-ms", optarg, e);
	}
	return err_set(e, EXIT_INVALID, "try 'vault-sim --help'");
}

static int parse_args(struct cli *cli, int argc, char **argv, struct err *e)
{
	struct in_addr addr;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		r = sim_common_opt(&cli->co, c, optarg, e);
		if (r < 0 || (!r && parse_opt(cli, c, e) < 0))
			return -1;
	}
	if (optind < argc)
		return err_set(e, EXIT_INVALID, "unexpected argument '%s'",
			       argv[optind]);
	if (sim_common_opts_check(&cli->co, e) < 0)
		return -1;
	if (cli->root_token && cli->root_token_file)
		return err_set(e, EXIT_INVALID,
			       "--root-token and --root-token-file exclude "
			       "each other");
	inet_pton(AF_INET, cli->co.host, &addr); /* checked by --listen */
	if ((ntohl(addr.s_addr) >> 24) != 127 && !cli->allow_remote)
		return err_set(e, EXIT_INVALID,
			       "--listen: '%s' is not a loopback address "
			       "(--allow-remote serves other hosts)",
			       cli->co.host);
	return 0;
}

/* What Vault would accept in a header: printable ASCII, no spaces. */
static bool token_ok(const char *t)
{
	size_t n = 0;

	for (; t[n]; n++)
		if (t[n] <= ' ' || t[n] > '~')
			return false;
	return n > 0 && n <= 512;
}

/* The root token from the options or a new one; *generated when new. */
static int set_root_token(struct vault *v, const struct cli *cli,
			  bool *generated, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	char rnd[25];

	*generated = false;
	if (cli->root_token_file) {
		if (file_read_all(&sb, cli->root_token_file, 4096, e) < 0)
			return err_prefix(e, "--root-token-file");
		strbuf_trim(&sb);
	} else if (cli->root_token) {
		strbuf_addstr(&sb, cli->root_token);
	} else {
		rand_alnum(rnd, 24);
		strbuf_addf(&sb, "hvs.%s", rnd);
		explicit_bzero(rnd, sizeof(rnd));
		*generated = true;
	}
	if (!token_ok(sb.buf)) {
		strbuf_wipe(&sb);
		return err_set(e, EXIT_INVALID,
			       "the root token must be 1-512 printable "
			       "characters without spaces");
	}
	v->root_token = strbuf_detach(&sb, NULL);
	return 0;
}

static int add_mounts(struct vault *v, const struct cli *cli, struct err *e)
{
	size_t i;

	if (!cli->mounts.nr)
		return vault_add_mount(v, "kv", 2, cli->cas_required, e);
	for (i = 0; i < cli->mounts.nr; i++) {
		const char *m = cli->mounts.v[i];

		if (vault_add_mount(v, m + 1, m[0] - '0', cli->cas_required,
				    e) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = { .mounts = STRVEC_INIT };
	struct vault v;
	struct sim_tls tls = SIM_TLS_INIT;
	struct server sv = { 0 };
	struct err e = ERR_INIT;
	bool generated;
	sigset_t set;
	int code = EXIT_OK;

	json_object_seed(0); /* before any thread makes an object */
	sim_common_opts_init(&cli.co, "vault-sim", usage, vault_fault_names,
			     8200);
	/* only when named */
	cli.co.faults &=
		~(unsigned)(FAULT_GARBLED | FAULT_HANG | FAULT_TRICKLE);
	vault_init(&v);
	if (parse_args(&cli, argc, argv, &e) < 0 ||
	    add_mounts(&v, &cli, &e) < 0 ||
	    set_root_token(&v, &cli, &generated, &e) < 0)
		goto fail;
	sv.opts.co = &cli.co;
	sv.opts.https = cli.co.tls_cert != NULL;
	sv.opts.storage_latency_ms = cli.storage_latency_ms;
	if (sv.opts.https &&
	    sim_tls_load(&tls, cli.co.tls_cert, cli.co.tls_key, &e) < 0)
		goto fail;
	sim_signals_block(&set);
	sv.vault = &v;
	sv.tls = &tls;
	if (server_start(&sv, &e) < 0)
		goto fail;
	printf("listening on %s://%s:%u\n", sv.opts.https ? "https" : "http",
	       cli.co.host, sv.front.port);
	if (generated)
		printf("root-token %s\n", v.root_token);
	fflush(stdout);
	sim_signals_wait(&set);
	server_stop(&sv);
	goto out;
fail:
	fprintf(stderr, "vault-sim: error: %s\n", e.msg.buf);
	code = e.exit_code ? e.exit_code : EXIT_FAIL;
out:
	err_release(&e);
	sim_tls_release(&tls);
	strvec_clear(&cli.mounts);
	vault_release(&v);
	return code;
}
