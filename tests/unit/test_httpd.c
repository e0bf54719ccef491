/*
 * test_httpd.c - util/httpd on 127.0.0.1 with a free port, talked to with
 * libcurl: what the handler sees of a request (method, path, query in
 * order, headers, cookies, body), JSON replies with their headers, the
 * reason phrase, the body cap (413 by httpd, or passed to the handler),
 * a dropped answer, bad addresses, a busy port, and HTTPS with the
 * certificate in memory or in files.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/tls.h"
#include "test.h"
#include "util/fileio.h"
#include "util/httpd.h"

/* What a client saw: status line, headers and body. */
struct seen {
	long status;
	struct strbuf status_line, headers, body;
	CURLcode rc;
};

static void collect_arg(void *ctx, const char *name, const char *value)
{
	json_array_append_new(ctx, json_pack("[s,s]", name, value));
}

/* Answers with everything it was given, as JSON. */
static void echo(void *ctx, const struct httpd_request *rq,
		 struct httpd_reply *out)
{
	const char *reason = httpd_query(rq, "reason");
	const char *x = httpd_header(rq, "X-Test");
	const char *cookie = httpd_cookie(rq, "c");
	json_t *args = json_array(), *j;

	(void)ctx;
	if (httpd_query(rq, "drop")) {
		out->drop = true;
		json_decref(args);
		return;
	}
	httpd_query_foreach(rq, collect_arg, args);
	j = json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:s%, s:b}", "method",
		      rq->method, "path", rq->path, "args", args, "x", x,
		      "cookie", cookie, "body", rq->body, rq->body_len,
		      "too_large", rq->body_too_large);
	httpd_reply_json(out, reason ? 500 : 200, j, NULL, HTTPD_JSON_NEWLINE);
	httpd_reply_header(out, "X-Reply", "yes");
	if (reason)
		httpd_reply_reason(out, reason);
	json_decref(j);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	struct seen *s = ctx;

	if (!s->status_line.len)
		strbuf_add(&s->status_line, p, size * n);
	else
		strbuf_add(&s->headers, p, size * n);
	return size * n;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	strbuf_add(ctx, p, size * n);
	return size * n;
}

static void fetch(struct seen *s, const char *url, const char *body,
		  struct curl_slist *hdrs)
{
	CURL *c = curl_easy_init();

	memset(s, 0, sizeof(*s));
	strbuf_init(&s->status_line, 0);
	strbuf_init(&s->headers, 0);
	strbuf_init(&s->body, 0);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s->body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	s->rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
	curl_easy_cleanup(c);
}

static void seen_release(struct seen *s)
{
	strbuf_release(&s->status_line);
	strbuf_release(&s->headers);
	strbuf_release(&s->body);
}

static struct httpd *start(size_t max_body, bool pass_too_large)
{
	struct httpd_opts o = { .host = "127.0.0.1",
				.max_body = max_body,
				.pass_too_large = pass_too_large,
				.handler = echo };
	struct httpd *h = NULL;
	struct err e = ERR_INIT;

	assert_int_equal(httpd_start(&h, &o, &e), 0);
	assert_non_null(h);
	assert_true(httpd_port(h) > 0);
	err_release(&e);
	return h;
}

static void url_for(char *buf, size_t size, const char *scheme,
		    const struct httpd *h, const char *rest)
{
	snprintf(buf, size, "%s://127.0.0.1:%u%s", scheme, httpd_port(h), rest);
}

static void httpd__request_reaches_the_handler(void **state)
{
	struct httpd *h = start(0, false);
	struct curl_slist *hd = curl_slist_append(NULL, "X-Test: hello");
	struct seen s;
	char url[128];
	json_t *j;

	(void)state;
	hd = curl_slist_append(hd, "Cookie: c=crumb");
	url_for(url, sizeof(url), "http", h, "/a/b?z=1&a=2&e");
	fetch(&s, url, "the body", hd);
	assert_int_equal(s.rc, CURLE_OK);
	assert_int_equal(s.status, 200);
	assert_string_equal(s.status_line.buf, "HTTP/1.1 200 OK\r\n");
	assert_non_null(
		strstr(s.headers.buf, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(s.headers.buf, "X-Reply: yes\r\n"));
	assert_int_equal(s.body.buf[s.body.len - 1], '\n');
	j = json_loads(s.body.buf, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "method")),
			    "POST");
	assert_string_equal(json_string_value(json_object_get(j, "path")),
			    "/a/b");
	assert_string_equal(json_string_value(json_object_get(j, "x")),
			    "hello");
	assert_string_equal(json_string_value(json_object_get(j, "cookie")),
			    "crumb");
	assert_string_equal(json_string_value(json_object_get(j, "body")),
			    "the body");
	{
		char *args =
			json_dumps(json_object_get(j, "args"), JSON_COMPACT);

		assert_string_equal(
			args, "[[\"z\",\"1\"],[\"a\",\"2\"],[\"e\",\"\"]]");
		free(args);
	}
	json_decref(j);
	curl_slist_free_all(hd);
	seen_release(&s);
	httpd_stop(h);
}

static void httpd__reason_phrase(void **state)
{
	struct httpd *h = start(0, false);
	struct seen s;
	char url[160];

	(void)state;
	url_for(url, sizeof(url), "http", h,
		"/?reason=VM%20101%20is%20locked%20(clone)%0D%0A%20");
	fetch(&s, url, NULL, NULL);
	assert_int_equal(s.status, 500);
	/* CR and LF become spaces, trailing spaces go */
	assert_string_equal(s.status_line.buf,
			    "HTTP/1.1 500 VM 101 is locked (clone)\r\n");
	seen_release(&s);
	/* the next answer on a new request has the standard phrase again */
	url_for(url, sizeof(url), "http", h, "/");
	fetch(&s, url, NULL, NULL);
	assert_string_equal(s.status_line.buf, "HTTP/1.1 200 OK\r\n");
	seen_release(&s);
	httpd_stop(h);
}

static void httpd__body_cap(void **state)
{
	struct httpd *h = start(16, false), *pass = start(16, true);
	char big[101], url[128];
	struct seen s;
	json_t *j;

	(void)state;
	memset(big, 'x', 100);
	big[100] = '\0';
	url_for(url, sizeof(url), "http", h, "/");
	fetch(&s, url, "sixteen bytes!!!", NULL);
	assert_int_equal(s.status, 200); /* exactly the cap is fine */
	seen_release(&s);
	fetch(&s, url, big, NULL);
	assert_int_equal(s.status, 413);
	assert_string_equal(s.body.buf,
			    "{\"error\":\"request body too large\"}");
	seen_release(&s);
	url_for(url, sizeof(url), "http", pass, "/");
	fetch(&s, url, big, NULL);
	assert_int_equal(s.status, 200);
	j = json_loads(s.body.buf, 0, NULL);
	assert_true(json_is_true(json_object_get(j, "too_large")));
	assert_string_equal(json_string_value(json_object_get(j, "body")), "");
	json_decref(j);
	seen_release(&s);
	httpd_stop(h);
	httpd_stop(pass);
}

static void httpd__drop(void **state)
{
	struct httpd *h = start(0, false);
	struct seen s;
	char url[128];

	(void)state;
	url_for(url, sizeof(url), "http", h, "/?drop=1");
	fetch(&s, url, NULL, NULL);
	assert_int_equal(s.rc, CURLE_GOT_NOTHING);
	seen_release(&s);
	httpd_stop(h);
}

static void httpd__start_failures(void **state)
{
	struct httpd *h = start(0, false), *h2 = NULL;
	struct httpd_opts o = { .host = "localhost", .handler = echo };
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(httpd_start(&h2, &o, &e), -1);
	assert_null(h2);
	assert_int_equal(e.exit_code, EXIT_INVALID);
	assert_string_equal(e.msg.buf, "'localhost' is not an IPv4 address");
	err_clear(&e);
	o.host = "127.0.0.1";
	o.port = httpd_port(h);
	assert_int_equal(httpd_start(&h2, &o, &e), -1);
	assert_int_equal(e.exit_code, EXIT_FAIL);
	assert_non_null(strstr(e.msg.buf, "cannot listen on 127.0.0.1:"));
	err_clear(&e);
	o.port = 0;
	o.cert_file = "/nonexistent/cert.pem";
	assert_int_equal(httpd_start(&h2, &o, &e), -1);
	assert_null(h2);
	err_release(&e);
	httpd_stop(h);
	httpd_stop(NULL);
}

static void https_get(struct httpd_opts *o)
{
	struct httpd *h = NULL;
	struct err e = ERR_INIT;
	struct seen s;
	char url[128];

	o->handler = echo;
	assert_int_equal(httpd_start(&h, o, &e), 0);
	url_for(url, sizeof(url), "https", h, "/tls");
	fetch(&s, url, NULL, NULL);
	assert_int_equal(s.rc, CURLE_OK);
	assert_int_equal(s.status, 200);
	seen_release(&s);
	url_for(url, sizeof(url), "http", h, "/plain");
	fetch(&s, url, NULL, NULL);
	assert_int_not_equal(s.status, 200); /* no plain HTTP on it */
	seen_release(&s);
	httpd_stop(h);
	err_release(&e);
}

static void httpd__tls(void **state)
{
	struct sim_tls tls = SIM_TLS_INIT;
	struct err e = ERR_INIT;
	struct httpd_opts o = { 0 };
	char dir[] = "/tmp/pvegitops-httpd-XXXXXX", cert[64], key[64];

	(void)state;
	assert_int_equal(sim_tls_generate(&tls, "127.0.0.1", "test", &e), 0);
	o.cert_pem = tls.cert_pem.buf;
	o.key_pem = tls.key_pem.buf;
	https_get(&o);
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	assert_int_equal(file_write_atomic(cert, tls.cert_pem.buf,
					   tls.cert_pem.len, 0600, &e),
			 0);
	assert_int_equal(file_write_atomic(key, tls.key_pem.buf,
					   tls.key_pem.len, 0600, &e),
			 0);
	o = (struct httpd_opts){ .cert_file = cert, .key_file = key };
	https_get(&o);
	unlink(cert);
	unlink(key);
	rmdir(dir);
	sim_tls_release(&tls);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(httpd__request_reaches_the_handler),
		cmocka_unit_test(httpd__reason_phrase),
		cmocka_unit_test(httpd__body_cap),
		cmocka_unit_test(httpd__drop),
		cmocka_unit_test(httpd__start_failures),
		cmocka_unit_test(httpd__tls),
	};
	int ret;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return ret;
}
