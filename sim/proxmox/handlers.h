/*
 * handlers.h - every endpoint of proxmox-sim, by the file that holds it;
 * the router (router.c) is their only caller.
 */
#ifndef PVE_SIM_HANDLERS_H
#define PVE_SIM_HANDLERS_H

#include "endpoint.h"

/* cluster.c */
handler_fn h_version, h_resources, h_nextid;

/* tasks.c */
handler_fn h_cluster_tasks, h_node_tasks, h_task_status, h_task_log,
	h_task_index, h_task_stop;

/* nodes.c */
handler_fn h_nodes, h_node_status, h_node_command, h_storage, h_storage_status,
	h_cert_info, h_qemu_list, h_vm_index;

/* vmconfig.c */
handler_fn h_create, h_config_get, h_config_post, h_config_put, h_pending,
	h_cloudinit_get, h_cloudinit_put, h_cloudinit_dump;

/* pools.c */
handler_fn h_pools_list, h_pool_create, h_pool_get, h_pool_update,
	h_pool_delete;

/* vmlife.c */
handler_fn h_clone, h_resize, h_template, h_destroy, h_status_current, h_start,
	h_stop, h_shutdown, h_reboot;

/* vmdisk.c */
handler_fn h_move_disk;

/* readapi (issue 15): agent.c (every guest-agent endpoint, moved from
 * vmlife.c), lxc.c, storage.c, access.c, network.c; cluster.c */
handler_fn h_agent_index, h_agent_cmd, h_agent_ping, h_agent_info,
	h_agent_osinfo, h_agent_hostname, h_agent_ifaces, h_agent_file;
/* agent.c, --guests qemu (issue 22): only a real guest answers these */
handler_fn h_agent_exec, h_agent_exec_status;
handler_fn h_lxc_list;
handler_fn h_storage_index, h_storage_read, h_storage_content;
handler_fn h_access_users, h_access_groups, h_access_domains;
handler_fn h_node_network, h_cluster_status;
/* migration, unlink, suspend, HA (wt-migrate): migrate.c, vmsuspend.c, ha.c */
handler_fn h_migrate_get, h_migrate_post, h_unlink, h_suspend, h_resume,
	h_reset, h_ha_list, h_ha_create, h_ha_get, h_ha_update, h_ha_delete,
	h_ha_groups;
/* snapshot.c (snapshots) */
handler_fn h_snapshot_list, h_snapshot_create, h_snapshot_index,
	h_snapshot_config_get, h_snapshot_config_put, h_snapshot_rollback,
	h_snapshot_delete;
/* one container (wt-lxc): lxc.c */
handler_fn h_lxc_index, h_lxc_config, h_lxc_status, h_lxc_snapshots;
/* SDN IPAM: sdn.c */
handler_fn h_sdn_ip_create, h_sdn_ip_update, h_sdn_ip_delete, h_sdn_ipam_status;

#endif
