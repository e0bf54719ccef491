/*
 * access.c - the access control lists that only read (issue 15), as
 * pve-access-control answers them: GET /access/users (PVE/API2/User.pm:
 * every user sorted, enable/expire from user.cfg, realm-type, groups and
 * tokens with full=1), /access/groups (PVE/API2/Group.pm) and
 * /access/domains (PVE/API2/Domains.pm; pam and pve always exist,
 * PVE/Auth/Plugin.pm). The users are those that may log in or own a
 * token, and root@pam.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

static void add_user(struct strvec *v, const char *userid, size_t len)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (strlen(v->v[i]) == len && !strncmp(v->v[i], userid, len))
			return;
	strvec_pushf(v, "%.*s", (int)len, userid);
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *realm_type(const char *userid)
{
	const char *at = strrchr(userid, '@');

	if (at && !strcmp(at, "@pam"))
		return "pam";
	if (at && !strcmp(at, "@pve"))
		return "pve";
	return NULL;
}

/* The user's groups, comma-joined and sorted (full=1 only). */
static json_t *user_groups(struct sim *s, const char *userid)
{
	struct strbuf sb = STRBUF_INIT;
	struct strvec g = STRVEC_INIT;
	json_t *o;
	size_t i, j;

	for (i = 0; i < s->nr_groups; i++)
		for (j = 0; j < s->groups[i].users.nr; j++)
			if (!strcmp(s->groups[i].users.v[j], userid))
				strvec_push(&g, s->groups[i].groupid);
	if (g.nr)
		qsort(g.v, g.nr, sizeof(g.v[0]), by_str);
	for (i = 0; i < g.nr; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", g.v[i]);
	o = json_string(sb.buf);
	strvec_clear(&g);
	strbuf_release(&sb);
	return o;
}

/*
 * The user's tokens as [{tokenid, expire, privsep}], or NULL; privsep 0:
 * the simulator gives a token its user's rights.
 */
static json_t *user_tokens(struct sim *s, const char *userid)
{
	size_t i, n = strlen(userid);
	json_t *a = NULL;

	for (i = 0; i < s->nr_tokens; i++) {
		const char *t = s->tokens[i].tokenid;

		if (strncmp(t, userid, n) || t[n] != '!')
			continue;
		if (!a)
			a = json_array();
		json_array_append_new(a, json_pack("{s:s, s:i, s:i}", "tokenid",
						   t + n + 1, "expire", 0,
						   "privsep", 0));
	}
	return a;
}

void h_access_users(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *enabled = req_param(rq, "enabled");
	bool full = param_true(rq, "full");
	struct strvec ids = STRVEC_INIT;
	size_t i;

	add_user(&ids, "root@pam", 8);
	for (i = 0; i < s->nr_users; i++)
		add_user(&ids, s->users[i].userid, strlen(s->users[i].userid));
	for (i = 0; i < s->nr_tokens; i++)
		add_user(&ids, s->tokens[i].tokenid,
			 strcspn(s->tokens[i].tokenid, "!"));
	qsort(ids.v, ids.nr, sizeof(ids.v[0]), by_str);
	rs->data = json_array();
	/* every user is enabled: enabled=0 lists none */
	for (i = 0; i < ids.nr && !(enabled && !param_true(rq, "enabled"));
	     i++) {
		json_t *o = json_pack("{s:s, s:i, s:i}", "userid", ids.v[i],
				      "enable", 1, "expire", 0);
		json_t *tok;

		if (realm_type(ids.v[i]))
			json_object_set_new(o, "realm-type",
					    json_string(realm_type(ids.v[i])));
		if (full) {
			json_object_set_new(o, "groups",
					    user_groups(s, ids.v[i]));
			if ((tok = user_tokens(s, ids.v[i])))
				json_object_set_new(o, "tokens", tok);
		}
		json_array_append_new(rs->data, o);
	}
	strvec_clear(&ids);
}

void h_access_groups(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	size_t i, j;

	(void)rq;
	rs->data = json_array();
	for (i = 0; i < s->nr_groups; i++) {
		const struct sim_group *g = &s->groups[i];
		json_t *o = json_pack("{s:s}", "groupid", g->groupid);
		struct strvec u = STRVEC_INIT;
		struct strbuf sb = STRBUF_INIT;

		if (g->comment)
			json_object_set_new(o, "comment",
					    json_string(g->comment));
		for (j = 0; j < g->users.nr; j++)
			strvec_push(&u, g->users.v[j]);
		if (u.nr)
			qsort(u.v, u.nr, sizeof(u.v[0]), by_str);
		for (j = 0; j < u.nr; j++)
			strbuf_addf(&sb, "%s%s", j ? "," : "", u.v[j]);
		json_object_set_new(o, "users", json_string(sb.buf));
		json_array_append_new(rs->data, o);
		strvec_clear(&u);
		strbuf_release(&sb);
	}
}

void h_access_domains(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	rs->data = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]", "realm",
			     "pam", "type", "pam", "comment",
			     "Linux PAM standard authentication", "realm",
			     "pve", "type", "pve", "comment",
			     "Proxmox VE authentication server");
}
