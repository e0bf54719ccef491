/*
 * pve_probe.c - drive the Proxmox client (src/io/pve.c) from a test:
 * connection and credentials come from the environment exactly as for
 * pve-gitops; the command line names one call.
 *
 *   pve_probe call METHOD PATH [KEY=VALUE...]   print "data" as JSON
 *   pve_probe task METHOD PATH [KEY=VALUE...]   the call starts a task: wait
 *
 * Extra environment: PROBE_FINGERPRINT, PROBE_CA_FILE, PROBE_RETRIES,
 * PROBE_RETRY_MS. Exit 0 on success, else the error's exit code, with the
 * error on stderr and the number of HTTP requests on the last line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/pve.h"
#include "util/err.h"
#include "util/exitcode.h"
#include "util/parse.h"

extern char **environ;

int main(int argc, char **argv)
{
	struct pve_conn conn;
	struct pve_client pc;
	struct env env;
	struct pve_params p = PVE_PARAMS_INIT;
	struct err e = ERR_INIT;
	json_t *data = NULL;
	uint64_t n;
	int i, ret = EXIT_FAIL;

	if (argc < 4) {
		fprintf(stderr, "usage: pve_probe call|task METHOD PATH "
				"[KEY=VALUE...]\n");
		return EXIT_INVALID;
	}
	env_init(&env);
	env_parse(&env, (const char *const *)environ);
	if (pve_conn_from_env(&conn, &env, NULL, NULL, NULL, &e) < 0)
		goto fail_noclient;
	conn.http.fingerprint = getenv("PROBE_FINGERPRINT");
	conn.http.ca_file = getenv("PROBE_CA_FILE");
	if (getenv("PROBE_RETRIES") &&
	    parse_u64z(&n, getenv("PROBE_RETRIES"), 0, 100) == 0)
		conn.retries = (int)n;
	if (getenv("PROBE_RETRY_MS") &&
	    parse_u64z(&n, getenv("PROBE_RETRY_MS"), 1, 100000) == 0)
		conn.retry_base_ms = conn.retry_max_ms = (long)n;
	conn.task_poll_ms = 20;
	if (pve_client_init(&pc, &conn, &e) < 0)
		goto fail;
	for (i = 4; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			continue;
		*eq = '\0';
		pve_param(&p, argv[i], eq + 1);
	}
	if (pve_call(&pc, argv[2], argv[3], &p,
		     strcmp(argv[1], "task") ? PVE_RETRY_SAFE : PVE_RETRY_NONE,
		     &data, NULL, &e) < 0)
		goto fail;
	if (!strcmp(argv[1], "task")) {
		if (!json_is_string(data)) {
			err_set(&e, EXIT_FAIL, "no task id in the answer");
			goto fail;
		}
		if (pve_wait_task(&pc, json_string_value(data), 60, &e) < 0)
			goto fail;
	}
	{
		char *text = json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT);

		printf("%s\n", text);
		free(text);
	}
	ret = EXIT_OK;
	goto out;
fail:
	fprintf(stderr, "pve_probe: error: %s\n", e.msg.buf);
	ret = e.exit_code ? e.exit_code : EXIT_FAIL;
out:
	fprintf(stderr, "calls %lu\n", pc.calls);
	pve_client_release(&pc);
	goto done;
fail_noclient:
	fprintf(stderr, "pve_probe: error: %s\n", e.msg.buf);
	ret = e.exit_code ? e.exit_code : EXIT_FAIL;
done:
	json_decref(data);
	pve_params_release(&p);
	err_release(&e);
	env_release(&env);
	return ret;
}
