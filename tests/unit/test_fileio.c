/*
 * test_fileio.c - whole-file reads with a cap, atomic replacement.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "util/fileio.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pvegitops-fileio-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	if (d)
		closedir(d);
	return n;
}

static int teardown(void **state)
{
	struct strbuf p = STRBUF_INIT;

	(void)state;
	strbuf_addf(&p, "%s/f", dir);
	unlink(p.buf);
	strbuf_release(&p);
	return rmdir(dir);
}

static void fileio__write_then_read(void **state)
{
	struct strbuf p = STRBUF_INIT, got = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct stat st;

	(void)state;
	strbuf_addf(&p, "%s/f", dir);
	assert_int_equal(file_write_atomic(p.buf, "one\n", 4, 0644, &e), 0);
	assert_int_equal(file_write_atomic(p.buf, "two\n", 4, 0600, &e), 0);
	assert_int_equal(file_read_all(&got, p.buf, 100, &e), 0);
	assert_string_equal(got.buf, "two\n");
	assert_int_equal(stat(p.buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(entries(dir), 1); /* no temp file left */
	strbuf_release(&p);
	strbuf_release(&got);
	err_release(&e);
}

static void fileio__read_cap_and_missing(void **state)
{
	struct strbuf p = STRBUF_INIT, got = STRBUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	strbuf_addf(&p, "%s/f", dir);
	assert_int_equal(file_write_atomic(p.buf, "0123456789", 10, 0644, &e),
			 0);
	assert_int_equal(file_read_all(&got, p.buf, 5, &e), -1);
	assert_int_equal(e.exit_code, EXIT_INVALID);
	assert_int_equal(got.len, 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/missing", dir);
	assert_int_equal(file_read_all(&got, p.buf, 5, &e), -1);
	assert_non_null(strstr(e.msg.buf, "No such file or directory"));
	assert_int_equal(file_read_all(&got, dir, 5, &e), -1);
	assert_non_null(strstr(e.msg.buf, "is a directory"));
	strbuf_release(&p);
	strbuf_release(&got);
	err_release(&e);
}

static void fileio__failed_write_leaves_old_file(void **state)
{
	struct strbuf p = STRBUF_INIT, got = STRBUF_INIT;
	struct err e = ERR_INIT;

	(void)state;
	strbuf_addf(&p, "%s/f", dir);
	assert_int_equal(file_write_atomic(p.buf, "old", 3, 0644, &e), 0);
	/* a directory where the target is cannot be replaced by rename */
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/sub", dir);
	assert_int_equal(mkdir(p.buf, 0755), 0);
	assert_int_equal(file_write_atomic(p.buf, "new", 3, 0644, &e), -1);
	assert_non_null(strstr(e.msg.buf, "cannot replace"));
	assert_int_equal(entries(dir), 2); /* f and sub, no temp file */
	assert_int_equal(rmdir(p.buf), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/f", dir);
	assert_int_equal(file_read_all(&got, p.buf, 100, &e), 0);
	assert_string_equal(got.buf, "old");
	strbuf_release(&p);
	strbuf_release(&got);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fileio__write_then_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fileio__read_cap_and_missing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			fileio__failed_write_leaves_old_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
