/*
 * qga.h - a client of the QEMU guest agent's protocol over a unix socket
 * (the virtio-serial port org.qemu.guest_agent.0 that QEMU exposes, or
 * qemu-ga -m unix-listen): JSON lines, with guest-sync-delimited first so
 * that what an earlier, abandoned exchange left in the channel is skipped.
 * No locking: the caller sends one request at a time per socket. And the
 * two QMP commands proxmox-sim sends QEMU's monitor, over the same code.
 */
#ifndef PVE_SIM_QGA_H
#define PVE_SIM_QGA_H

#include <jansson.h>

#include "util/strbuf.h"

enum qga_status {
	QGA_OK = 0,	    /* *reply holds the "return" value */
	QGA_ERROR = -1,	    /* the agent answered an error: why holds desc */
	QGA_TIMEOUT = -2,   /* no answer within the time */
	QGA_NO_CHANNEL = -3 /* the socket cannot be reached: why says so */
};

/*
 * Run command cmd with arguments args (a JSON object, or NULL; borrowed)
 * on the agent listening at path. Connect, send 0xFF and
 * guest-sync-delimited with a random id, skip to the 0xFF sentinel and the
 * answer that carries the id, then send the command and read its answer.
 * timeout_ms bounds the whole exchange. On QGA_OK *reply is the "return"
 * value (the caller json_decref()s it); otherwise *reply is NULL.
 */
enum qga_status qga_call(const char *path, const char *cmd, json_t *args,
			 int timeout_ms, json_t **reply, struct strbuf *why);

/*
 * One QMP command without arguments (quit, system_powerdown) on QEMU's
 * monitor socket at path: the greeting, qmp_capabilities, then cmd; events
 * are skipped. QGA_OK, QGA_ERROR (why: the error's desc), QGA_TIMEOUT or
 * QGA_NO_CHANNEL. A quit may close the socket before it answers: that is
 * QGA_NO_CHANNEL too, which the caller checks by waiting for the process.
 */
enum qga_status qmp_call(const char *path, const char *cmd, int timeout_ms,
			 struct strbuf *why);

#endif
