/*
 * router.c - from method and path to a handler: the path templates of the
 * schema, the path parameters they bind, which endpoints start a task,
 * and the dispatch table.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "schema.h"
#include "util/xalloc.h"

/* ---- routing ---------------------------------------------------------- */

static const char *const templates[] = {
	"/version",
	"/access/ticket",
	"/cluster/resources",
	"/cluster/nextid",
	"/cluster/tasks",
	"/nodes",
	"/nodes/{node}/status",
	"/nodes/{node}/storage",
	"/nodes/{node}/storage/{storage}/status",
	"/nodes/{node}/certificates/info",
	"/nodes/{node}/qemu",
	"/nodes/{node}/qemu/{vmid}",
	"/nodes/{node}/qemu/{vmid}/config",
	"/nodes/{node}/qemu/{vmid}/pending",
	"/nodes/{node}/qemu/{vmid}/clone",
	"/nodes/{node}/qemu/{vmid}/resize",
	"/nodes/{node}/qemu/{vmid}/template",
	"/nodes/{node}/qemu/{vmid}/cloudinit",
	"/nodes/{node}/qemu/{vmid}/cloudinit/dump",
	"/nodes/{node}/qemu/{vmid}/status/current",
	"/nodes/{node}/qemu/{vmid}/status/start",
	"/nodes/{node}/qemu/{vmid}/status/stop",
	"/nodes/{node}/qemu/{vmid}/status/shutdown",
	"/nodes/{node}/qemu/{vmid}/status/reboot",
	"/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
	"/nodes/{node}/qemu/{vmid}/agent/ping",
	"/nodes/{node}/qemu/{vmid}/agent/file-read",
	"/nodes/{node}/qemu/{vmid}/agent/exec",
	"/nodes/{node}/qemu/{vmid}/agent/exec-status",
	"/nodes/{node}/qemu/{vmid}/move_disk",
	"/nodes/{node}/qemu/{vmid}/migrate",
	"/nodes/{node}/tasks",
	"/nodes/{node}/tasks/{upid}",
	"/nodes/{node}/tasks/{upid}/status",
	"/nodes/{node}/tasks/{upid}/log",
	"/pools",
	"/pools/{poolid}",
	"/cluster/ha/resources",
	"/cluster/ha/resources/{sid}",
	/* readapi (issue 15): containers, storage, access, network, agent */
	"/nodes/{node}/lxc",
	"/nodes/{node}/network",
	"/nodes/{node}/storage/{storage}/content",
	"/storage",
	"/storage/{storage}",
	"/access/users",
	"/access/groups",
	"/access/domains",
	"/cluster/status",
	"/nodes/{node}/qemu/{vmid}/agent",
	"/nodes/{node}/qemu/{vmid}/agent/info",
	"/nodes/{node}/qemu/{vmid}/agent/get-osinfo",
	"/nodes/{node}/qemu/{vmid}/agent/get-host-name",
	/* end readapi */
	/* migration, unlink, suspend, HA (wt-migrate) */
	"/nodes/{node}/qemu/{vmid}/unlink",
	"/nodes/{node}/qemu/{vmid}/status/suspend",
	"/nodes/{node}/qemu/{vmid}/status/resume",
	"/nodes/{node}/qemu/{vmid}/status/reset",
	"/cluster/ha/groups",
	/* snapshots (snapshot.c) */
	"/nodes/{node}/qemu/{vmid}/snapshot",
	"/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
	"/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config",
	"/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
	/* one container (wt-lxc) */
	"/nodes/{node}/lxc/{vmid}",
	"/nodes/{node}/lxc/{vmid}/config",
	"/nodes/{node}/lxc/{vmid}/status/current",
	"/nodes/{node}/lxc/{vmid}/snapshot",
	/* SDN IPAM (sdn.c) */
	"/cluster/sdn/vnets/{vnet}/ips",
	"/cluster/sdn/ipams/{ipam}/status",
	NULL,
};

/* Split "/a/b/c" into segments (pointers into a copy). */
static size_t split_path(char *p, char **seg, size_t max)
{
	size_t n = 0;

	while (*p == '/')
		p++;
	while (*p && n < max) {
		seg[n++] = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return *p ? max + 1 : n;
}

/* Decode a path segment where it is (the result is never longer). */
static void url_decode_inplace(char *s)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_percent_decoded(&sb, s, strlen(s), 0);
	memcpy(s, sb.buf, sb.len + 1);
	strbuf_release(&sb);
}

int api_route(struct sim_req *rq, struct strbuf *tmpl, struct sim_resp *rs)
{
	char *path = xstrdup(rq->path), *t = NULL;
	char *ps[16], *ts[16];
	size_t np = split_path(path, ps, 15), i, j;
	int ret = -1;

	for (i = 0; templates[i] && ret < 0; i++) {
		size_t nt;

		free(t);
		t = xstrdup(templates[i]);
		nt = split_path(t, ts, 15);
		if (nt != np)
			continue;
		for (j = 0; j < nt; j++)
			if (ts[j][0] != '{' && strcmp(ts[j], ps[j]))
				break;
		if (j < nt)
			continue;
		for (j = 0; j < nt; j++) {
			if (ts[j][0] != '{')
				continue;
			ts[j][strlen(ts[j]) - 1] = '\0';
			url_decode_inplace(ps[j]);
			if (req_param(rq, ts[j] + 1)) {
				if (!strcmp(req_param(rq, ts[j] + 1), ps[j]))
					continue;
				param_fail(
					rs, ts[j] + 1,
					"duplicate parameter (already defined "
					"in URI) with conflicting values!");
				ret = -2;
				break;
			}
			strvec_push(&rq->names, ts[j] + 1);
			strvec_push(&rq->values, ps[j]);
		}
		if (ret == -2)
			break;
		strbuf_reset(tmpl);
		strbuf_addstr(tmpl, templates[i]);
		ret = schema_find(tmpl->buf, rq->method) ? 0 : -1;
	}
	free(t);
	free(path);
	return ret;
}

bool api_is_async(const char *method, const char *tmpl)
{
	static const char *const async[] = {
		"POST /nodes/{node}/qemu",
		"DELETE /nodes/{node}/qemu/{vmid}",
		"POST /nodes/{node}/qemu/{vmid}/config",
		"POST /nodes/{node}/qemu/{vmid}/clone",
		"PUT /nodes/{node}/qemu/{vmid}/resize",
		"POST /nodes/{node}/qemu/{vmid}/template",
		"POST /nodes/{node}/qemu/{vmid}/status/start",
		"POST /nodes/{node}/qemu/{vmid}/status/stop",
		"POST /nodes/{node}/qemu/{vmid}/status/shutdown",
		"POST /nodes/{node}/qemu/{vmid}/status/reboot",
		"POST /nodes/{node}/qemu/{vmid}/move_disk",
		/* migration, suspend (wt-migrate) */
		"POST /nodes/{node}/qemu/{vmid}/migrate",
		"POST /nodes/{node}/qemu/{vmid}/status/suspend",
		"POST /nodes/{node}/qemu/{vmid}/status/resume",
		"POST /nodes/{node}/qemu/{vmid}/status/reset",
		/* snapshots (snapshot.c) */
		"POST /nodes/{node}/qemu/{vmid}/snapshot",
		"POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
		"DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
		NULL,
	};
	char buf[256];
	size_t i;

	snprintf(buf, sizeof(buf), "%s %s", method, tmpl);
	for (i = 0; async[i]; i++)
		if (!strcmp(async[i], buf))
			return true;
	return false;
}

/* ---- dispatch --------------------------------------------------------- */

struct route {
	const char *method, *tmpl;
	handler_fn *fn;
};

static const struct route routes[] = {
	{ "GET", "/version", h_version },
	{ "GET", "/cluster/resources", h_resources },
	{ "GET", "/cluster/nextid", h_nextid },
	{ "GET", "/cluster/tasks", h_cluster_tasks },
	{ "GET", "/nodes", h_nodes },
	{ "GET", "/nodes/{node}/status", h_node_status },
	{ "POST", "/nodes/{node}/status", h_node_command },
	{ "GET", "/nodes/{node}/storage", h_storage },
	{ "GET", "/nodes/{node}/storage/{storage}/status", h_storage_status },
	{ "GET", "/nodes/{node}/certificates/info", h_cert_info },
	{ "GET", "/nodes/{node}/qemu", h_qemu_list },
	{ "POST", "/nodes/{node}/qemu", h_create },
	{ "GET", "/nodes/{node}/qemu/{vmid}", h_vm_index },
	{ "DELETE", "/nodes/{node}/qemu/{vmid}", h_destroy },
	{ "GET", "/nodes/{node}/qemu/{vmid}/config", h_config_get },
	{ "POST", "/nodes/{node}/qemu/{vmid}/config", h_config_post },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/config", h_config_put },
	{ "GET", "/nodes/{node}/qemu/{vmid}/pending", h_pending },
	{ "POST", "/nodes/{node}/qemu/{vmid}/clone", h_clone },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/resize", h_resize },
	{ "POST", "/nodes/{node}/qemu/{vmid}/template", h_template },
	{ "POST", "/nodes/{node}/qemu/{vmid}/move_disk", h_move_disk },
	{ "GET", "/nodes/{node}/qemu/{vmid}/cloudinit", h_cloudinit_get },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/cloudinit", h_cloudinit_put },
	{ "GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump", h_cloudinit_dump },
	{ "GET", "/nodes/{node}/qemu/{vmid}/status/current", h_status_current },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/start", h_start },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/stop", h_stop },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/shutdown", h_shutdown },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/reboot", h_reboot },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
	  h_agent_ifaces },
	{ "POST", "/nodes/{node}/qemu/{vmid}/agent/ping", h_agent_ping },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/file-read", h_agent_file },
	/* --guests qemu (issue 22): answered by a real guest's agent */
	{ "POST", "/nodes/{node}/qemu/{vmid}/agent/exec", h_agent_exec },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/exec-status",
	  h_agent_exec_status },
	{ "GET", "/pools", h_pools_list },
	{ "POST", "/pools", h_pool_create },
	{ "PUT", "/pools", h_pool_update },
	{ "DELETE", "/pools", h_pool_delete },
	{ "GET", "/pools/{poolid}", h_pool_get },
	{ "PUT", "/pools/{poolid}", h_pool_update },
	{ "DELETE", "/pools/{poolid}", h_pool_delete },
	{ "GET", "/nodes/{node}/tasks", h_node_tasks },
	{ "GET", "/nodes/{node}/tasks/{upid}", h_task_index },
	{ "DELETE", "/nodes/{node}/tasks/{upid}", h_task_stop },
	{ "GET", "/nodes/{node}/tasks/{upid}/status", h_task_status },
	{ "GET", "/nodes/{node}/tasks/{upid}/log", h_task_log },
	/* readapi (issue 15): containers, storage, access, network, agent */
	{ "GET", "/nodes/{node}/lxc", h_lxc_list },
	{ "GET", "/nodes/{node}/network", h_node_network },
	{ "GET", "/nodes/{node}/storage/{storage}/content", h_storage_content },
	{ "GET", "/storage", h_storage_index },
	{ "GET", "/storage/{storage}", h_storage_read },
	{ "GET", "/access/users", h_access_users },
	{ "GET", "/access/groups", h_access_groups },
	{ "GET", "/access/domains", h_access_domains },
	{ "GET", "/cluster/status", h_cluster_status },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent", h_agent_index },
	{ "POST", "/nodes/{node}/qemu/{vmid}/agent", h_agent_cmd },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/info", h_agent_info },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/get-osinfo", h_agent_osinfo },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/get-host-name",
	  h_agent_hostname },
	/* end readapi */
	/* migration, unlink, suspend, HA (wt-migrate) */
	{ "GET", "/nodes/{node}/qemu/{vmid}/migrate", h_migrate_get },
	{ "POST", "/nodes/{node}/qemu/{vmid}/migrate", h_migrate_post },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/unlink", h_unlink },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/suspend", h_suspend },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/resume", h_resume },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/reset", h_reset },
	{ "GET", "/cluster/ha/resources", h_ha_list },
	{ "POST", "/cluster/ha/resources", h_ha_create },
	{ "GET", "/cluster/ha/resources/{sid}", h_ha_get },
	{ "PUT", "/cluster/ha/resources/{sid}", h_ha_update },
	{ "DELETE", "/cluster/ha/resources/{sid}", h_ha_delete },
	{ "GET", "/cluster/ha/groups", h_ha_groups },
	/* snapshots (snapshot.c) */
	{ "GET", "/nodes/{node}/qemu/{vmid}/snapshot", h_snapshot_list },
	{ "POST", "/nodes/{node}/qemu/{vmid}/snapshot", h_snapshot_create },
	{ "GET", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
	  h_snapshot_index },
	{ "DELETE", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
	  h_snapshot_delete },
	{ "GET", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config",
	  h_snapshot_config_get },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config",
	  h_snapshot_config_put },
	{ "POST", "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
	  h_snapshot_rollback },
	/* one container (wt-lxc) */
	{ "GET", "/nodes/{node}/lxc/{vmid}", h_lxc_index },
	{ "GET", "/nodes/{node}/lxc/{vmid}/config", h_lxc_config },
	{ "GET", "/nodes/{node}/lxc/{vmid}/status/current", h_lxc_status },
	{ "GET", "/nodes/{node}/lxc/{vmid}/snapshot", h_lxc_snapshots },
	/* SDN IPAM (sdn.c) */
	{ "POST", "/cluster/sdn/vnets/{vnet}/ips", h_sdn_ip_create },
	{ "PUT", "/cluster/sdn/vnets/{vnet}/ips", h_sdn_ip_update },
	{ "DELETE", "/cluster/sdn/vnets/{vnet}/ips", h_sdn_ip_delete },
	{ "GET", "/cluster/sdn/ipams/{ipam}/status", h_sdn_ipam_status },
	{ NULL, NULL, NULL },
};

void api_handle(struct sim *s, struct sim_req *rq, const char *tmpl,
		struct sim_resp *rs, const char *fail_task)
{
	size_t i;

	s->fail_task = fail_task;
	for (i = 0; routes[i].method; i++)
		if (!strcmp(routes[i].method, rq->method) &&
		    !strcmp(routes[i].tmpl, tmpl)) {
			rs->status = 200;
			routes[i].fn(s, rq, rs);
			s->fail_task = NULL;
			return;
		}
	s->fail_task = NULL;
	resp_fail(rs, 501, "Method '%s %s' not implemented by proxmox-sim",
		  rq->method, tmpl);
}
