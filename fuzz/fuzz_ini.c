/*
 * fuzz_ini.c - libFuzzer target for the Ansible INI inventory model and
 * the managed-parts rewrite: a file that parses is written back byte for
 * byte; rewriting it for a small fixed want list gives a file that parses
 * again, and rewriting that one changes nothing (idempotence).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/ini.h"
#include "core/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct inv_rules rules;
static struct inv_want want;

static void want_setup(void)
{
	static int done;
	struct config cfg;
	struct strbuf why = STRBUF_INIT;
	struct strvec extra = STRVEC_INIT;

	if (done)
		return;
	done = 1;
	config_init(&cfg);
	if (inv_rules_compile(&rules, &cfg, &why) < 0)
		abort();
	inv_want_init(&want, &rules);
	strvec_push(&extra, "monitoring");
	inv_want_add(&want, &rules, "k8s-a", "10.0.0.1", "ubuntu", 22, NULL);
	inv_want_add(&want, &rules, "haproxy-b", "10.0.0.2", "admin", 2222,
		     &extra);
	inv_want_add(&want, &rules, "plain-c", NULL, "ubuntu", 22, NULL);
	inv_want_keep(&want, "kept-d");
	strvec_clear(&extra);
	strbuf_release(&why);
	config_release(&cfg);
}

/* Rewrite ini for the want list and render it into out; -1 when refused. */
static int rewrite(struct ini *ini, struct strbuf *out)
{
	struct inv_change change;
	struct strbuf why = STRBUF_INIT;
	size_t line = 0;
	int ret;

	inv_change_init(&change);
	ret = inventory_rewrite(ini, &want, &change, &line, &why);
	if (!ret)
		ini_render(ini, out);
	inv_change_release(&change);
	strbuf_release(&why);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ini ini = INI_INIT, again = INI_INIT;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	struct strbuf first = STRBUF_INIT, second = STRBUF_INIT;
	int line;

	want_setup();
	if (ini_parse(&ini, (const char *)data, size, &line, &why) < 0)
		goto out;
	ini_render(&ini, &out);
	if (out.len != size || memcmp(out.buf, data, size))
		abort(); /* not written back byte for byte */
	if (rewrite(&ini, &first) < 0)
		goto out; /* the marker sits in a :vars or :children section */
	strbuf_setlen(&why, 0);
	if (ini_parse(&again, first.buf, first.len, &line, &why) < 0)
		abort(); /* the rewritten file would not parse */
	if (rewrite(&again, &second) < 0)
		abort(); /* accepted once, refused the second time */
	if (first.len != second.len || memcmp(first.buf, second.buf, first.len))
		abort(); /* a second rewrite changed the file */
out:
	ini_release(&ini);
	ini_release(&again);
	strbuf_release(&why);
	strbuf_release(&out);
	strbuf_release(&first);
	strbuf_release(&second);
	return 0;
}
