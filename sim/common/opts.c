/*
 * opts.c - the shared flags of the simulators (see opts.h).
 */
#include "opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "util/exitcode.h"
#include "util/parse.h"

void sim_common_opts_init(struct sim_common_opts *o, const char *prog,
			  const char *usage, const char *const *fault_names,
			  unsigned port)
{
	memset(o, 0, sizeof(*o));
	o->prog = prog;
	o->usage = usage;
	o->fault_names = fault_names;
	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->port = port;
	o->faults = sim_fault_all(fault_names);
	o->seed = 1;
}

int sim_bad_value(struct err *e, const char *opt, const char *val,
		  const char *what)
{
	return err_set(e, EXIT_INVALID, "%s: '%s' is not %s", opt, val, what);
}

int sim_parse_ms(int *out, const char *opt, const char *v, struct err *e)
{
	uint64_t n;

	if (parse_u64z(&n, v, 0, 3600000) < 0)
		return sim_bad_value(e, opt, v,
				     "a number of milliseconds (0-3600000)");
	*out = (int)n;
	return 0;
}

static int parse_listen(struct sim_common_opts *o, const char *v, struct err *e)
{
	const char *colon = strrchr(v, ':');
	struct in_addr addr;
	uint64_t port;

	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(o->host) ||
	    parse_u64z(&port, colon + 1, 0, 65535) < 0)
		return sim_bad_value(e, "--listen", v, "HOST:PORT");
	memcpy(o->host, v, (size_t)(colon - v));
	o->host[colon - v] = '\0';
	o->port = (unsigned)port;
	if (inet_pton(AF_INET, o->host, &addr) != 1)
		return sim_bad_value(e, "--listen", o->host, "an IPv4 address");
	return 0;
}

static int parse_rate(double *out, const char *v, struct err *e)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || *end || end == v || !(*out >= 0 && *out <= 1))
		return sim_bad_value(e, "--fault-rate", v,
				     "a number from 0 to 1");
	return 0;
}

static int parse_value(struct sim_common_opts *o, int c, const char *arg,
		       struct err *e)
{
	switch (c) {
	case SIMOPT_LISTEN:
		return parse_listen(o, arg, e);
	case SIMOPT_FAULT_RATE:
		return parse_rate(&o->fault_rate, arg, e);
	case SIMOPT_FAULTS:
		return sim_faults_parse(&o->faults, arg, o->fault_names, e);
	case SIMOPT_SEED:
		if (parse_u64z(&o->seed, arg, 0, UINT64_MAX) < 0)
			return sim_bad_value(e, "--seed", arg, "a number");
		return 0;
	case SIMOPT_LATENCY:
		return sim_parse_ms(&o->latency_ms, "--latency-ms", arg, e);
	}
	return 0;
}

int sim_common_opt(struct sim_common_opts *o, int c, const char *arg,
		   struct err *e)
{
	switch (c) {
	case 'h':
		fputs(o->usage, stdout);
		exit(EXIT_OK);
	case SIMOPT_VERSION:
		printf("%s %s\n", o->prog, PVE_GITOPS_VERSION);
		exit(EXIT_OK);
	case SIMOPT_TLS_CERT:
		o->tls_cert = arg;
		return 1;
	case SIMOPT_TLS_KEY:
		o->tls_key = arg;
		return 1;
	case SIMOPT_REQUEST_LOG:
		o->request_log = arg;
		return 1;
	case SIMOPT_LISTEN:
	case SIMOPT_FAULT_RATE:
	case SIMOPT_FAULTS:
	case SIMOPT_SEED:
	case SIMOPT_LATENCY:
		return parse_value(o, c, arg, e) < 0 ? -1 : 1;
	}
	return 0;
}

int sim_common_opts_check(const struct sim_common_opts *o, struct err *e)
{
	if (!o->tls_cert != !o->tls_key)
		return err_set(e, EXIT_INVALID,
			       "--tls-cert and --tls-key go together");
	return 0;
}
