/*
 * auth.c - tokens, tickets and CSRF tokens. Secrets are compared in
 * constant time and never logged.
 */
#include "auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/httpd.h"
#include "util/xalloc.h"

static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static char *url_decoded(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_percent_decoded(&sb, s, strlen(s), 0);
	return strbuf_detach(&sb, NULL);
}

static struct sim_ticket *find_ticket(struct sim *s, const char *ticket)
{
	int64_t now = sim_now_ms();
	size_t i;

	for (i = 0; i < s->nr_tickets; i++)
		if (same_secret(s->tickets[i].ticket, ticket))
			return s->tickets[i].expires_ms > now ? &s->tickets[i]
							      : NULL;
	return NULL;
}

static int check_token(struct sim *s, const char *value, char **userid)
{
	const char *bang = strchr(value, '!');
	const char *eq = bang ? strchr(bang, '=') : NULL;
	size_t i;

	if (!eq)
		return -1;
	for (i = 0; i < s->nr_tokens; i++) {
		size_t n = strlen(s->tokens[i].tokenid);

		if (n == (size_t)(eq - value) &&
		    !memcmp(s->tokens[i].tokenid, value, n) &&
		    same_secret(s->tokens[i].secret, eq + 1)) {
			/* the token id is the caller: "user@realm!name" */
			*userid = xstrndup(value, n);
			return 0;
		}
	}
	return -1;
}

int auth_check(struct sim *s, const struct httpd_request *hr, bool mutating,
	       char **userid, struct sim_resp *rs)
{
	const char *cookie = httpd_cookie(hr, "PVEAuthCookie");
	const char *auth = httpd_header(hr, "Authorization");
	int ret = -1;

	if (!cookie && auth && !strncmp(auth, "PVEAuthCookie=", 14))
		cookie = auth + 14;
	pthread_mutex_lock(&s->mu);
	if (cookie) {
		char *t = url_decoded(cookie);
		struct sim_ticket *tk = find_ticket(s, t);
		const char *csrf = httpd_header(hr, "CSRFPreventionToken");

		free(t);
		if (!tk)
			resp_fail(rs, 401,
				  "permission denied - invalid PVE "
				  "ticket");
		else if (mutating && (!csrf || !same_secret(csrf, tk->csrf)))
			resp_fail(rs, 401,
				  "Permission denied - invalid csrf token");
		else {
			*userid = xstrdup(tk->userid);
			ret = 0;
		}
	} else if (auth && !strncmp(auth, "PVEAPIToken", 11) &&
		   (auth[11] == '=' || auth[11] == ' ')) {
		if (check_token(s, auth + 12, userid) == 0)
			ret = 0;
		else
			resp_fail(rs, 401, "invalid token value!");
	} else {
		resp_fail(rs, 401, "No ticket");
	}
	pthread_mutex_unlock(&s->mu);
	return ret;
}

static void new_ticket(struct sim *s, const char *userid, struct sim_resp *rs)
{
	struct strbuf t = STRBUF_INIT, c = STRBUF_INIT;
	int64_t now = sim_now_ms();
	char rnd[65];
	size_t i;

	/* forget expired tickets */
	for (i = 0; i < s->nr_tickets;) {
		if (s->tickets[i].expires_ms <= now) {
			free(s->tickets[i].ticket);
			free(s->tickets[i].csrf);
			free(s->tickets[i].userid);
			s->tickets[i] = s->tickets[--s->nr_tickets];
		} else {
			i++;
		}
	}
	sim_random_hex(s, rnd, 32);
	strbuf_addf(&t, "PVE:%s:%08X::%s", userid, (unsigned)(now / 1000), rnd);
	sim_random_hex(s, rnd, 20);
	strbuf_addf(&c, "%08X:%s", (unsigned)(now / 1000), rnd);
	ALLOC_GROW(s->tickets, st_add(s->nr_tickets, 1), s->alloc_tickets);
	s->tickets[s->nr_tickets].ticket = xstrdup(t.buf);
	s->tickets[s->nr_tickets].csrf = xstrdup(c.buf);
	s->tickets[s->nr_tickets].userid = xstrdup(userid);
	s->tickets[s->nr_tickets].expires_ms =
		now + (int64_t)s->opts.ticket_lifetime * 1000;
	s->nr_tickets++;
	rs->data = json_pack("{s:s, s:s, s:s, s:s}", "username", userid,
			     "ticket", t.buf, "CSRFPreventionToken", c.buf,
			     "clustername", "proxmox-sim");
	strbuf_wipe(&t);
	strbuf_wipe(&c);
}

void auth_ticket(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *user = req_param(rq, "username");
	const char *realm = req_param(rq, "realm");
	const char *pass = req_param(rq, "password");
	struct strbuf id = STRBUF_INIT;
	struct sim_ticket *tk;
	size_t i;

	if (!strcmp(rq->method, "GET")) {
		rs->data = json_null();
		return;
	}
	strbuf_addstr(&id, user);
	if (!strchr(user, '@'))
		strbuf_addf(&id, "@%s", realm ? realm : "pam");
	for (i = 0; i < s->nr_users; i++)
		if (!strcmp(s->users[i].userid, id.buf) &&
		    same_secret(s->users[i].password, pass)) {
			new_ticket(s, id.buf, rs);
			goto out;
		}
	/* a valid ticket of the same user renews itself */
	tk = find_ticket(s, pass);
	if (tk && !strcmp(tk->userid, id.buf)) {
		new_ticket(s, id.buf, rs);
		goto out;
	}
	resp_fail(rs, 401, "authentication failure");
out:
	strbuf_release(&id);
}
