/*
 * hostkeys.c - SSH readiness (or another port's) and host keys; see
 * hostkeys.h.
 */
#include "io/hostkeys.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/programs.h"
#include "util/backoff.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/spawn.h"
#include "util/xalloc.h"

#define KNOWN_HOSTS_MAX (16 << 20)

/* A connected socket to sa within ms, or -1. */
static int connect_within(const struct sockaddr_in *sa, int ms)
{
	struct pollfd p;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, ms) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* One try: connect within ms and read "SSH-" within ms. 0 on success. */
static int try_banner(const struct sockaddr_in *sa, int ms)
{
	struct pollfd p;
	char buf[4];
	int fd = connect_within(sa, ms), ret = -1;

	if (fd < 0)
		return -1;
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, ms) == 1 && recv(fd, buf, 4, MSG_PEEK) == 4 &&
	    !memcmp(buf, "SSH-", 4))
		ret = 0;
	close(fd);
	return ret;
}

/*
 * One TLS handshake with ip:port within ms (libcurl, connect only, no
 * request sent). The certificate is not verified: Talos' apid presents a
 * self-signed one until the node is configured, and nothing is sent over
 * the connection. Never through a proxy. 0 on success.
 */
static int try_tls(const char *ip, unsigned port, int ms)
{
	struct strbuf url = STRBUF_INIT;
	CURL *c = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;

	if (!c)
		return -1;
	strbuf_addf(&url, "https://%s:%u/", ip, port);
	curl_easy_setopt(c, CURLOPT_URL, url.buf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ms);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	strbuf_release(&url);
	return rc == CURLE_OK ? 0 : -1;
}

/* One try at a port: a TCP connection, then a TLS handshake if tls. */
static int try_port(const struct sockaddr_in *sa, const char *ip, unsigned port,
		    bool tls, int ms)
{
	int fd = connect_within(sa, ms);

	if (fd < 0)
		return -1;
	close(fd);
	return tls ? try_tls(ip, port, ms) : 0;
}

/* How long a try may take: at most 3 s, at least 1 ms. */
static int try_ms(uint64_t now, uint64_t deadline)
{
	uint64_t left = deadline > now ? deadline - now : 0;

	return left > 3000 ? 3000 : left > 0 ? (int)left : 1;
}

/*
 * Try ip:port (ssh: an SSH banner; else a connection, with tls a TLS
 * handshake) every 500 ms for wait_s seconds. 0 with *waited_ms, 1 when
 * it never answered, -1 for an address that is not IPv4.
 */
static int wait_port(const char *ip, unsigned port, int what, unsigned wait_s,
		     long *waited_ms, struct err *e)
{
	struct sockaddr_in sa;
	uint64_t start = mono_ms(), deadline = start + (uint64_t)wait_s * 1000;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return err_set(e, EXIT_INVALID, "'%s' is not an IPv4 address",
			       ip);
	for (;;) {
		int ms = try_ms(mono_ms(), deadline);
		uint64_t now;

		if (!(what == 0 ? try_banner(&sa, ms)
				: try_port(&sa, ip, port, what == 2, ms))) {
			*waited_ms = (long)(mono_ms() - start);
			return 0;
		}
		now = mono_ms();
		if (now >= deadline)
			return 1;
		sleep_ms(deadline - now > 500 ? 500 : (long)(deadline - now));
	}
}

int hostkeys_wait_ssh(const char *ip, unsigned port, unsigned wait_s,
		      long *waited_ms, struct err *e)
{
	int rc = wait_port(ip, port, 0, wait_s, waited_ms, e);

	if (rc <= 0)
		return rc;
	return err_setk(e, ERR_TIMEOUT, EXIT_FAIL,
			"%s port %u did not answer as an SSH server within %u "
			"s (ssh.wait_seconds)",
			ip, port, wait_s);
}

int hostkeys_wait_port(const char *ip, unsigned port, bool tls, unsigned wait_s,
		       long *waited_ms, struct err *e)
{
	int rc = wait_port(ip, port, tls ? 2 : 1, wait_s, waited_ms, e);

	if (rc <= 0)
		return rc;
	return err_setk(e, ERR_TIMEOUT, EXIT_FAIL,
			"%s port %u did not accept a %s within %u s "
			"(ssh.wait_seconds)",
			ip, port,
			tls ? "TLS connection (provision.talos_api_tls)"
			    : "TCP connection",
			wait_s);
}

/* "TYPE BASE64[ comment]" with a known type: the first two fields. */
static int parse_key(const char *line, struct strbuf *out)
{
	static const char *const types[] = { "ssh-ed25519",
					     "ecdsa-sha2-nistp256",
					     "ecdsa-sha2-nistp384",
					     "ecdsa-sha2-nistp521",
					     "ssh-rsa",
					     NULL };
	size_t t = strcspn(line, " \t"), b, i;

	for (i = 0; types[i]; i++)
		if (t == strlen(types[i]) && !strncmp(line, types[i], t))
			break;
	if (!types[i] || (line[t] != ' ' && line[t] != '\t'))
		return -1;
	line += t + 1;
	b = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789+/=");
	if (b < 16 || (line[b] && line[b] != ' ' && line[b] != '\t' &&
		       line[b] != '\n' && line[b] != '\r'))
		return -1;
	strbuf_reset(out);
	strbuf_add(out, types[i], strlen(types[i]));
	strbuf_addch(out, ' ');
	strbuf_add(out, line, b);
	return 0;
}

/* qemu-server's answer while the guest's agent does not (yet) answer its
 * ping, assert_agent_available's "QEMU guest agent is not running", is
 * of this kind (core/pve_errors.c); so is a VM that is not running. */
static bool agent_not_running(const struct err *e)
{
	return e->kind == ERR_BADSTATE;
}

/* One key file through the agent, tried until wait ends while the agent
 * is not running. 0 with the file's key in *key, else -1 with last. */
static int agent_read_key(struct pve_client *pc, const char *path,
			  const char *file, uint64_t deadline,
			  struct strbuf *key, struct err *last)
{
	for (;;) {
		struct pve_params p = { STRVEC_INIT };
		json_t *data = NULL;
		const char *content;
		int rc = -1;
		uint64_t now;

		pve_paramf(&p, "file", "/etc/ssh/ssh_host_%s_key.pub", file);
		err_release(last);
		if (pve_call(pc, "GET", path, &p, PVE_RETRY_SAFE, &data, NULL,
			     last) == 0) {
			content = json_string_value(
				json_object_get(data, "content"));
			rc = content && !parse_key(content, key) ? 0 : -1;
		}
		json_decref(data);
		pve_params_release(&p);
		if (rc == 0 || !agent_not_running(last))
			return rc;
		now = mono_ms();
		if (now >= deadline)
			return -1;
		sleep_ms(deadline - now > 500 ? 500 : (long)(deadline - now));
	}
}

int hostkeys_from_agent(struct pve_client *pc, const char *node, int vmid,
			unsigned wait_ms, struct strvec *keys, struct err *e)
{
	static const char *const files[] = { "ed25519", "ecdsa", "rsa", NULL };
	struct strbuf path = STRBUF_INIT, key = STRBUF_INIT;
	struct err last = ERR_INIT;
	uint64_t deadline = mono_ms() + wait_ms;
	size_t i;

	strbuf_addf(&path, "/nodes/%s/qemu/%d/agent/file-read", node, vmid);
	for (i = 0; files[i]; i++)
		if (!agent_read_key(pc, path.buf, files[i], deadline, &key,
				    &last))
			strvec_push(keys, key.buf);
	strbuf_release(&path);
	strbuf_release(&key);
	if (!keys->nr) {
		err_set(e, EXIT_FAIL,
			"the guest agent of VM %d read no SSH host key%s%s%s",
			vmid, last.msg.len ? ": " : "", last.msg.buf,
			agent_not_running(&last) ? " (waited for it)" : "");
		err_release(&last);
		return -1;
	}
	err_release(&last);
	return 0;
}

int hostkeys_scan(const char *ip, unsigned port, struct strvec *keys,
		  struct err *e)
{
	struct strbuf out = STRBUF_INIT, portstr = STRBUF_INIT;
	struct strbuf key = STRBUF_INIT;
	char *line, *save = NULL;
	int status, ret = -1;

	strbuf_addf(&portstr, "%u", port);
	{
		/* the types an sshd can hold as host keys: the default
		 * list adds ecdsa-sk and ed25519-sk, which no sshd serves,
		 * and ssh-keyscan opens one connection per type */
		const char *argv[] = { "ssh-keyscan",
				       "-T",
				       "10",
				       "-t",
				       "rsa,ecdsa,ed25519",
				       "-p",
				       portstr.buf,
				       "--",
				       ip,
				       NULL };
		struct env_delta env = ENV_DELTA_INIT;
		struct spawn_opts so = {
			.argv = argv,
			.env_delta = &env,
			.out = &out,
			.quiet_stderr = 1,
			/* -T bounds each read; this, the whole scan */
			.timeout_ms = 60000
		};

		programs_child_env(&env);
		ret = spawn_run(&so, &status, e);
		env_delta_release(&env);
		if (ret < 0)
			goto out;
		ret = -1;
	}
	for (line = strtok_r(out.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *sp = strchr(line, ' ');

		if (line[0] != '#' && sp && !parse_key(sp + 1, &key))
			strvec_push(keys, key.buf);
	}
	if (!keys->nr) {
		err_set(e, EXIT_FAIL,
			"ssh-keyscan found no host key at %s port %u (exit %d)",
			ip, port, status);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&out);
	strbuf_release(&portstr);
	strbuf_release(&key);
	return ret;
}

void hostkeys_hostspec(struct strbuf *out, const char *ip, unsigned port)
{
	if (port == 22)
		strbuf_addstr(out, ip);
	else
		strbuf_addf(out, "[%s]:%u", ip, port);
}

/* Whether a hashed "|1|salt|hash" field names spec. */
static bool hashed_match(const char *field, size_t n, const char *spec)
{
	unsigned char salt[64], hash[64], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char tmp[256];
	const char *bar;
	int sl, hl;

	if (n < 4 || n >= sizeof(tmp) || strncmp(field, "|1|", 3))
		return false;
	memcpy(tmp, field + 3, n - 3);
	tmp[n - 3] = '\0';
	bar = strchr(tmp, '|');
	if (!bar)
		return false;
	sl = EVP_DecodeBlock(salt, (const unsigned char *)tmp,
			     (int)(bar - tmp));
	hl = EVP_DecodeBlock(hash, (const unsigned char *)bar + 1,
			     (int)strlen(bar + 1));
	if (sl < 20 || hl < 20)
		return false;
	HMAC(EVP_sha1(), salt, 20, (const unsigned char *)spec, strlen(spec),
	     mac, &maclen);
	return maclen == 20 && !memcmp(mac, hash, 20);
}

/* Whether a known_hosts line names spec (its host field). */
static bool line_names(const char *line, const char *spec)
{
	const char *f = line;
	size_t n;

	if (*f == '@') /* @cert-authority / @revoked: leave them */
		return false;
	n = strcspn(f, " \t");
	if (hashed_match(f, n, spec))
		return true;
	while (n) {
		size_t m = strcspn(f, ",");

		if (m > n)
			m = n;
		if (m == strlen(spec) && !strncmp(f, spec, m))
			return true;
		if (m >= n)
			break;
		f += m + 1;
		n -= m + 1;
	}
	return false;
}

/* A key type a known_hosts line may carry ("ssh-ed25519", "ecdsa-sha2-...",
 * "sk-ssh-ed25519@openssh.com"). */
static bool is_key_type(const char *f, size_t n)
{
	return (n > 4 && !strncmp(f, "ssh-", 4)) ||
	       (n > 6 && !strncmp(f, "ecdsa-", 6)) ||
	       (n > 3 && !strncmp(f, "sk-", 3));
}

/*
 * 0 when every line of text is blank, a comment or a known_hosts entry
 * ([@marker] hosts keytype key [comment]); else the first other line's
 * number: a file that is not a known_hosts file is never rewritten.
 */
static size_t not_known_hosts(const char *text)
{
	const char *p = text;
	size_t line = 0;

	while (*p) {
		size_t n = strcspn(p, "\n"), f = 0, len;
		const char *q = p + strspn(p, " \t");

		line++;
		if (q < p + n && *q != '#') {
			if (*q == '@') /* @cert-authority, @revoked */
				q += strcspn(q, " \t\n"), q += strspn(q, " \t");
			for (; q < p + n && f < 2; f++) { /* hosts, then type */
				len = strcspn(q, " \t\n");
				if (f == 1 && !is_key_type(q, len))
					return line;
				q += len;
				q += strspn(q, " \t");
			}
			if (f < 2 || q >= p + n)
				return line; /* no key */
		}
		p += n + (p[n] == '\n');
	}
	return 0;
}

/*
 * The current text of the known_hosts file into old (none: empty), and
 * the mode to keep. The file is named by the repository's config, so it
 * is never a link, a FIFO or a file that is not a known_hosts file, and a
 * relative one stays below the repository.
 */
static int read_known_hosts(const char *file, struct strbuf *old, mode_t *mode,
			    struct err *e)
{
	struct beneath root = BENEATH_INIT;
	struct stat st;
	size_t bad;
	int fd, ret = -1;

	*mode = 0600;
	if (file[0] != '/') {
		if (beneath_root(&root, ".", e) < 0)
			return -1;
		ret = beneath_check_target(&root, file, e);
		beneath_release(&root);
		if (ret < 0)
			return err_prefix(e, "ssh.known_hosts");
		ret = -1;
	}
	fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return err_errno(e, errno,
				 "ssh.known_hosts '%s' cannot be read (a "
				 "symbolic link is refused)",
				 file);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "ssh.known_hosts '%s' is not a regular file", file);
	} else if (file_read_fd(old, fd, file, KNOWN_HOSTS_MAX, e) == 0) {
		*mode = st.st_mode & 0777;
		bad = not_known_hosts(old->buf);
		ret = bad ? err_setk(e, ERR_INVALID, EXIT_INVALID,
				     "%s:%zu: not a known_hosts line; the "
				     "file is left as it is",
				     file, bad)
			  : 0;
	}
	close(fd);
	return ret;
}

int hostkeys_known(const char *file, const char *ip, unsigned port,
		   size_t *count, struct err *e)
{
	struct strbuf old = STRBUF_INIT, spec = STRBUF_INIT;
	const char *p;
	mode_t mode;
	int ret;

	*count = 0;
	hostkeys_hostspec(&spec, ip, port);
	ret = read_known_hosts(file, &old, &mode, e);
	for (p = old.buf; !ret && *p;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);

		*count += line_names(line, spec.buf);
		free(line);
		p += n + (p[n] == '\n');
	}
	strbuf_release(&old);
	strbuf_release(&spec);
	return ret;
}

/* Whether host j (spec[j]) is named again later (the last one wins). */
static bool named_later(size_t n, size_t j, const struct strbuf *spec)
{
	size_t k;

	for (k = j + 1; k < n; k++)
		if (!strcmp(spec[k].buf, spec[j].buf))
			return true;
	return false;
}

int hostkeys_record_all(const char *file, const struct hostkeys_host *v,
			size_t n, struct err *e)
{
	struct strbuf old = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf dir = STRBUF_INIT,
		      *spec = xcalloc(n ? n : 1, sizeof(*spec));
	const char *p, *slash;
	mode_t mode;
	size_t i, j;
	int ret = -1;

	for (j = 0; j < n; j++) {
		strbuf_init(&spec[j], 0);
		hostkeys_hostspec(&spec[j], v[j].ip, v[j].port);
	}
	if (read_known_hosts(file, &old, &mode, e) < 0)
		goto out;
	for (p = old.buf; *p;) {
		size_t len = strcspn(p, "\n");
		char *line = xstrndup(p, len);

		for (j = 0; j < n && !line_names(line, spec[j].buf); j++)
			;
		if (j == n) {
			strbuf_add(&out, p, len);
			strbuf_addch(&out, '\n');
		}
		free(line);
		p += len + (p[len] == '\n');
	}
	for (j = 0; j < n; j++)
		for (i = 0; !named_later(n, j, spec) && i < v[j].keys->nr; i++)
			strbuf_addf(&out, "%s %s\n", spec[j].buf,
				    v[j].keys->v[i]);
	slash = strrchr(file, '/');
	if (slash && slash != file) {
		strbuf_add(&dir, file, (size_t)(slash - file));
		if (mkdir(dir.buf, 0700) < 0 && errno != EEXIST) {
			err_errno(e, errno, "cannot create '%s'", dir.buf);
			goto out;
		}
	}
	ret = file_write_atomic(file, out.buf, out.len, mode, e);
out:
	for (j = 0; j < n; j++)
		strbuf_release(&spec[j]);
	free(spec);
	strbuf_release(&old);
	strbuf_release(&out);
	strbuf_release(&dir);
	return ret;
}

int hostkeys_record(const char *file, const char *ip, unsigned port,
		    const struct strvec *keys, struct err *e)
{
	const struct hostkeys_host h = { ip, port, keys };

	return hostkeys_record_all(file, &h, 1, e);
}
