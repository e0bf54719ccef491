/*
 * reqlog.c - the request log and its redaction rule (see reqlog.h).
 */
#include "reqlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const secret_names[] = {
	"password", "cipassword", "new-password", "token",
	"ticket",   "secret",	  "csrf",	  NULL,
};

int reqlog_open(struct reqlog *log, const char *path, struct err *e)
{
	log->f = NULL;
	pthread_mutex_init(&log->mu, NULL);
	if (!path)
		return 0;
	log->f = fopen(path, "ae");
	if (!log->f)
		return err_errno(e, errno, "cannot open '%s'", path);
	return 0;
}

void reqlog_close(struct reqlog *log)
{
	if (log->f)
		fclose(log->f);
	log->f = NULL;
	pthread_mutex_destroy(&log->mu);
}

bool reqlog_enabled(const struct reqlog *log)
{
	return log->f != NULL;
}

const char *reqlog_text(struct strbuf *buf, const char *s)
{
	json_t *j = json_string(s);

	if (j) {
		json_decref(j);
		return s;
	}
	strbuf_reset(buf);
	strbuf_add_escaped(buf, s, strlen(s));
	return buf->buf;
}

json_t *reqlog_line(const char *method, const char *path)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	json_t *line =
		json_pack("{s:s, s:s}", "method", reqlog_text(&a, method),
			  "path", reqlog_text(&b, path));

	strbuf_release(&a);
	strbuf_release(&b);
	return line;
}

void reqlog_write(struct reqlog *log, const json_t *line)
{
	char *text;

	if (!log->f || !line)
		return;
	text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!text)
		return;
	pthread_mutex_lock(&log->mu);
	fprintf(log->f, "%s\n", text);
	fflush(log->f);
	pthread_mutex_unlock(&log->mu);
	free(text);
}

bool reqlog_is_secret(const char *name)
{
	size_t i;

	for (i = 0; secret_names[i]; i++)
		if (!strcmp(name, secret_names[i]))
			return true;
	return false;
}

json_t *reqlog_params(const struct strvec *names, const struct strvec *values)
{
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;
	json_t *params = json_object();
	size_t i;

	for (i = 0; i < names->nr && i < values->nr; i++)
		json_object_set_new(
			params, reqlog_text(&k, names->v[i]),
			json_string(reqlog_is_secret(names->v[i])
					    ? "********"
					    : reqlog_text(&v, values->v[i])));
	strbuf_release(&k);
	strbuf_release(&v);
	return params;
}
