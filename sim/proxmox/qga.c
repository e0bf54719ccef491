/*
 * qga.c - the guest agent's wire protocol (qga/qapi-schema.json's
 * guest-sync-delimited): one connection per call, a deadline for all of it.
 */
#include "qga.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* An answer larger than this is refused (file-read's chunk is 1 MiB). */
#define MAX_LINE (64u << 20)

struct conn {
	int fd;
	int64_t deadline_ms;
	struct strbuf in; /* read, not yet consumed */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events; 0, or QGA_TIMEOUT. */
static int wait_fd(struct conn *c, short events)
{
	for (;;) {
		struct pollfd p = { c->fd, events, 0 };
		int64_t left = c->deadline_ms - now_ms();
		int r;

		if (left <= 0)
			return QGA_TIMEOUT;
		r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return QGA_TIMEOUT;
	}
}

static int send_all(struct conn *c, const char *p, size_t n, struct strbuf *why)
{
	while (n) {
		ssize_t w;

		if (wait_fd(c, POLLOUT) < 0)
			return QGA_TIMEOUT;
		w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0) {
			strbuf_addf(why, "write to the guest agent: %s",
				    strerror(errno));
			return QGA_NO_CHANNEL;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read more into c->in; 0, QGA_TIMEOUT, or QGA_NO_CHANNEL at EOF. */
static int fill(struct conn *c, struct strbuf *why)
{
	char buf[65536];
	ssize_t r;

	if (c->in.len > MAX_LINE) {
		strbuf_addstr(why, "the guest agent's answer is too long");
		return QGA_NO_CHANNEL;
	}
	for (;;) {
		if (wait_fd(c, POLLIN) < 0)
			return QGA_TIMEOUT;
		r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			strbuf_addstr(why, r ? strerror(errno)
					     : "the guest agent closed the "
					       "channel");
			return QGA_NO_CHANNEL;
		}
		strbuf_add(&c->in, buf, (size_t)r);
		return 0;
	}
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->in.buf, c->in.buf + n, c->in.len - n);
	strbuf_setlen(&c->in, c->in.len - n);
}

/* The next line (without its newline) as JSON; 0 or a status. */
static int read_json(struct conn *c, json_t **out, struct strbuf *why)
{
	char *nl;
	int r;

	while (!(nl = memchr(c->in.buf, '\n', c->in.len)))
		if ((r = fill(c, why)) < 0)
			return r;
	*out = json_loadb(c->in.buf, (size_t)(nl - c->in.buf), 0, NULL);
	consume(c, (size_t)(nl - c->in.buf) + 1);
	return 0;
}

static int send_json(struct conn *c, json_t *msg, struct strbuf *why)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	struct strbuf line = STRBUF_INIT;
	int r;

	if (!text) {
		strbuf_addstr(why, "cannot encode the guest agent command");
		return QGA_NO_CHANNEL;
	}
	strbuf_addf(&line, "%s\n", text);
	free(text);
	r = send_all(c, line.buf, line.len, why);
	strbuf_wipe(&line); /* input-data may be a secret */
	return r;
}

/* guest-sync-delimited: skip to 0xFF, then to the answer with our id. */
static int sync_channel(struct conn *c, struct strbuf *why)
{
	uint32_t id = 0;
	json_t *msg, *ans = NULL;
	char *ff;
	int r;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint32_t)now_ms();
	id &= 0x7fffffff;
	msg = json_pack("{s:s, s:{s:I}}", "execute", "guest-sync-delimited",
			"arguments", "id", (json_int_t)id);
	if ((r = send_all(c, "\xff", 1, why)) < 0 ||
	    (r = send_json(c, msg, why)) < 0)
		goto out;
	for (;;) {
		while (!(ff = memchr(c->in.buf, 0xff, c->in.len))) {
			strbuf_reset(&c->in);
			if ((r = fill(c, why)) < 0)
				goto out;
		}
		consume(c, (size_t)(ff - c->in.buf) + 1);
		if ((r = read_json(c, &ans, why)) < 0)
			goto out;
		if (json_integer_value(json_object_get(ans, "return")) == id)
			break;
		json_decref(ans);
		ans = NULL;
	}
	r = 0;
out:
	json_decref(ans);
	json_decref(msg);
	return r;
}

static int connect_to(const char *path, struct strbuf *why)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		strbuf_addf(why, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		strbuf_addf(why, "cannot connect to '%s': %s", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

enum qga_status qga_call(const char *path, const char *cmd, json_t *args,
			 int timeout_ms, json_t **reply, struct strbuf *why)
{
	struct conn c = { -1, now_ms() + timeout_ms, STRBUF_INIT };
	json_t *msg = NULL, *ans = NULL, *err;
	int r;

	*reply = NULL;
	if ((c.fd = connect_to(path, why)) < 0)
		return QGA_NO_CHANNEL;
	if ((r = sync_channel(&c, why)) < 0)
		goto out;
	msg = json_pack("{s:s}", "execute", cmd);
	if (args)
		json_object_set(msg, "arguments", args);
	if ((r = send_json(&c, msg, why)) < 0)
		goto out;
	/* an empty line or one not JSON is skipped, as QMPClient does */
	do {
		json_decref(ans);
		ans = NULL;
		if ((r = read_json(&c, &ans, why)) < 0)
			goto out;
	} while (!json_is_object(ans));
	if ((err = json_object_get(ans, "error"))) {
		const char *desc =
			json_string_value(json_object_get(err, "desc"));

		strbuf_addstr(why, desc ? desc : "unknown error");
		r = QGA_ERROR;
		goto out;
	}
	*reply = json_incref(json_object_get(ans, "return"));
	if (!*reply)
		*reply = json_object();
	r = QGA_OK;
out:
	json_decref(ans);
	json_decref(msg);
	close(c.fd);
	strbuf_release(&c.in);
	return (enum qga_status)r;
}

/* The next answer to a command: an object with return or error. */
static int qmp_answer(struct conn *c, struct strbuf *why)
{
	json_t *ans = NULL, *err;
	int r;

	for (;;) {
		json_decref(ans);
		ans = NULL;
		if ((r = read_json(c, &ans, why)) < 0)
			return r;
		if (json_object_get(ans, "return"))
			break;
		if ((err = json_object_get(ans, "error"))) {
			const char *d =
				json_string_value(json_object_get(err, "desc"));

			strbuf_addstr(why, d ? d : "unknown error");
			json_decref(ans);
			return QGA_ERROR;
		}
	}
	json_decref(ans);
	return QGA_OK;
}

enum qga_status qmp_call(const char *path, const char *cmd, int timeout_ms,
			 struct strbuf *why)
{
	struct conn c = { -1, now_ms() + timeout_ms, STRBUF_INIT };
	json_t *greeting = NULL, *caps, *msg;
	int r;

	if ((c.fd = connect_to(path, why)) < 0)
		return QGA_NO_CHANNEL;
	caps = json_pack("{s:s}", "execute", "qmp_capabilities");
	msg = json_pack("{s:s}", "execute", cmd);
	if ((r = read_json(&c, &greeting, why)) < 0 ||
	    (r = send_json(&c, caps, why)) < 0 ||
	    (r = qmp_answer(&c, why)) < 0 || (r = send_json(&c, msg, why)) < 0)
		goto out;
	r = qmp_answer(&c, why);
out:
	json_decref(greeting);
	json_decref(caps);
	json_decref(msg);
	close(c.fd);
	strbuf_release(&c.in);
	return (enum qga_status)r;
}
