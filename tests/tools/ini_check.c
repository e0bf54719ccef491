/*
 * ini_check.c - run the INI inventory parser (src/core/ini/) on one file
 * for tests/integration/ini_ansible_diff.py.
 *
 *   ini_check FILE    print "ok", or "error LINE: MESSAGE" (LINE 0 when
 *                     the parser names no line)
 *
 * Exit 0 whatever the verdict, 2 on a usage or read error.
 */
#include <stdio.h>

#include "core/ini.h"
#include "util/err.h"
#include "util/fileio.h"

#define INI_CHECK_MAX (64u << 20)

int main(int argc, char **argv)
{
	struct strbuf buf = STRBUF_INIT, why = STRBUF_INIT;
	struct ini ini = INI_INIT;
	struct err e = ERR_INIT;
	int line, ret = 2;

	if (argc != 2) {
		fprintf(stderr, "usage: ini_check FILE\n");
		return 2;
	}
	if (file_read_all(&buf, argv[1], INI_CHECK_MAX, &e) < 0) {
		fprintf(stderr, "ini_check: %s\n", e.msg.buf);
		goto out;
	}
	if (ini_parse(&ini, buf.buf, buf.len, &line, &why) < 0)
		printf("error %d: %s\n", line, why.buf);
	else
		printf("ok\n");
	ret = fflush(stdout) ? 2 : 0;
out:
	ini_release(&ini);
	strbuf_release(&buf);
	strbuf_release(&why);
	err_release(&e);
	return ret;
}
