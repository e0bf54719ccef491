/*
 * pve_errors.c - Proxmox failures classified; see pve_errors.h.
 */
#include "core/pve_errors.h"

#include <string.h>

static bool has(const char *text, const char *word)
{
	return strstr(text, word) != NULL;
}

static bool locked(const char *text)
{
	return has(text, "is locked") || has(text, "can't lock file");
}

/* Refusals that never get better (Proxmox answers 500 for them too). */
static bool permanent(const char *text)
{
	static const char *const words[] = {
		"protection mode",
		"not supported",
		"not allowed",
		"Permission check failed",
		"permission denied",
		"invalid",
		"can't convert",
		"you can't",
		"checksum mismatch",
		"detected modified",
		NULL,
	};
	size_t i;

	for (i = 0; words[i]; i++)
		if (has(text, words[i]))
			return true;
	return false;
}

/*
 * A node or storage that is not there: a mistake in the request that no
 * retry mends (qemu-server's "no such cluster node 'x'", pve-storage's
 * "storage 'x' does not exist"), unlike a VM or file that may vanish.
 */
static bool wrong_place(const char *text)
{
	return has(text, "no such cluster node") || has(text, "no such node") ||
	       (has(text, "storage '") && has(text, "' does not exist"));
}

/* What the text alone says. */
static enum err_kind text_kind(const char *text)
{
	if (locked(text))
		return ERR_LOCKED;
	if (wrong_place(text))
		return ERR_PERMANENT;
	/* "already exist": pve-network's PVE IPAM ("IP 'A' already exist") */
	if (has(text, "already exist"))
		return ERR_EXISTS;
	/* strerror(ENOENT), as the guest agent's file-open reports it */
	if (has(text, "does not exist") || has(text, "no such") ||
	    has(text, "No such file or directory"))
		return ERR_NOTFOUND;
	if (has(text, "already running") || has(text, "not running"))
		return ERR_BADSTATE;
	if (permanent(text))
		return ERR_PERMANENT;
	return ERR_GENERIC;
}

enum err_kind pve_error_kind(long status, const char *text)
{
	enum err_kind k = text_kind(text ? text : "");

	if (status == 0 || status == 502 || status == 504 || status == 596)
		return ERR_LOST;
	if (k == ERR_GENERIC && status == 404)
		return ERR_NOTFOUND;
	/* 400: the parameters failed verification, whatever they name */
	if ((k == ERR_GENERIC || k == ERR_NOTFOUND) && status == 400)
		return ERR_PERMANENT;
	if (k == ERR_GENERIC && (status == 401 || status == 403))
		return ERR_PERMANENT;
	return k;
}

bool pve_error_transient(long status, const char *text)
{
	enum err_kind k = text_kind(text ? text : "");

	/* Proxmox answers 500 for everything; only these get better */
	return status >= 500 && (k == ERR_LOCKED || k == ERR_GENERIC);
}

bool pve_error_not_carried_out(long status, const char *text)
{
	return status >= 500 && text &&
	       (locked(text) || has(text, "got no worker upid"));
}
