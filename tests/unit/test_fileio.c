/*
 * test_fileio.c - whole-file reads with a cap, atomic replacement, and
 * transactions over several files (commit, rollback, created directories).
 */
#include <dirent.h>
#include <string.h>
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

static void put(const char *name, const char *text)
{
	struct strbuf p = STRBUF_INIT;
	struct err e = ERR_INIT;

	strbuf_addf(&p, "%s/%s", dir, name);
	assert_int_equal(file_write_atomic(p.buf, text, strlen(text), 0644, &e),
			 0);
	strbuf_release(&p);
	err_release(&e);
}

/* The content of dir/name, or "(none)". */
static char *content(const char *name)
{
	struct strbuf p = STRBUF_INIT, got = STRBUF_INIT;
	struct err e = ERR_INIT;

	strbuf_addf(&p, "%s/%s", dir, name);
	if (file_read_all(&got, p.buf, 100, &e) < 0)
		strbuf_addstr(&got, "(none)");
	strbuf_release(&p);
	err_release(&e);
	return strbuf_detach(&got, NULL);
}

static void expect(const char *name, const char *want)
{
	char *got = content(name);

	assert_string_equal(got, want);
	free(got);
}

static void txn_add(struct file_txn *t, const char *name, const char *text)
{
	struct strbuf p = STRBUF_INIT;
	struct err e = ERR_INIT;

	strbuf_addf(&p, "%s/%s", dir, name);
	if (text)
		assert_int_equal(
			file_txn_put(t, p.buf, text, strlen(text), 0644, &e),
			0);
	else
		file_txn_remove(t, p.buf);
	strbuf_release(&p);
	err_release(&e);
}

static void fileio__txn_commit(void **state)
{
	struct file_txn t;
	struct err e = ERR_INIT;

	(void)state;
	put("f", "old f");
	put("gone", "old gone");
	file_txn_init(&t);
	txn_add(&t, "f", "new f");
	txn_add(&t, "sub/dir/g", "new g");
	txn_add(&t, "gone", NULL);
	txn_add(&t, "never-was", NULL);
	expect("f", "old f"); /* nothing visible before the commit */
	assert_int_equal(file_txn_commit(&t, &e), 0);
	file_txn_release(&t);
	expect("f", "new f");
	expect("sub/dir/g", "new g");
	expect("gone", "(none)");
	assert_int_equal(entries(dir), 2); /* f, sub: no temp, no backup */
	{
		static const char *const paths[] = { "sub/dir/g", "sub/dir",
						     "sub" };
		struct strbuf p = STRBUF_INIT;
		size_t i;

		for (i = 0; i < ARRAY_SIZE(paths); i++) {
			strbuf_reset(&p);
			strbuf_addf(&p, "%s/%s", dir, paths[i]);
			assert_int_equal(i ? rmdir(p.buf) : unlink(p.buf), 0);
		}
		strbuf_release(&p);
	}
	err_release(&e);
}

/* More files than FILE_TXN_FSYNC_MAX, in two directories: made durable
 * by syncfs() instead of an fsync each, committed all the same. */
static void fileio__txn_commit_many(void **state)
{
	struct strbuf name = STRBUF_INIT, p = STRBUF_INIT;
	struct file_txn t;
	struct err e = ERR_INIT;
	size_t i, n = FILE_TXN_FSYNC_MAX + 8;

	(void)state;
	put("f", "old f");
	file_txn_init(&t);
	txn_add(&t, "f", "new f");
	for (i = 0; i < n; i++) {
		strbuf_reset(&name);
		strbuf_addf(&name, "many/%zu", i);
		txn_add(&t, name.buf, name.buf);
	}
	assert_int_equal(file_txn_commit(&t, &e), 0);
	file_txn_release(&t);
	expect("f", "new f");
	strbuf_addf(&p, "%s/many", dir);
	assert_int_equal(entries(p.buf), (int)n); /* no temp, no backup */
	for (i = 0; i < n; i++) {
		char *got;

		strbuf_reset(&name);
		strbuf_addf(&name, "many/%zu", i);
		got = content(name.buf);
		assert_string_equal(got, name.buf);
		free(got);
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, name.buf);
		assert_int_equal(unlink(p.buf), 0);
	}
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/many", dir);
	assert_int_equal(rmdir(p.buf), 0);
	strbuf_release(&name);
	strbuf_release(&p);
	err_release(&e);
}

static void fileio__txn_refused_before_any_change(void **state)
{
	struct strbuf p = STRBUF_INIT;
	struct file_txn t;
	struct err e = ERR_INIT;

	(void)state;
	put("f", "old f");
	put("gone", "old gone");
	file_txn_init(&t);
	txn_add(&t, "f", "new f");
	txn_add(&t, "gone", NULL);
	txn_add(&t, "new", "new new");
	txn_add(&t, "blocker", "x");
	/*
	 * A directory at a target cannot be kept aside (no hard links to
	 * directories): the commit stops before it changes anything. Failures
	 * at every later step, renames included, are injected by
	 * tests/integration/inventory_faults.py.
	 */
	strbuf_addf(&p, "%s/blocker", dir);
	assert_int_equal(mkdir(p.buf, 0755), 0);
	put("blocker/inside", "y");
	assert_int_equal(file_txn_commit(&t, &e), -1);
	assert_non_null(strstr(e.msg.buf, "cannot keep a copy of"));
	file_txn_release(&t);
	expect("f", "old f");
	expect("gone", "old gone");
	expect("new", "(none)");
	assert_int_equal(entries(dir), 3); /* f, gone, blocker */
	strbuf_addstr(&p, "/inside");
	unlink(p.buf);
	strbuf_setlen(&p, p.len - 7);
	rmdir(p.buf);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/gone", dir);
	unlink(p.buf);
	strbuf_release(&p);
	err_release(&e);
}

static void fileio__txn_abandoned(void **state)
{
	struct file_txn t;

	(void)state;
	file_txn_init(&t);
	txn_add(&t, "a/b/f", "never");
	file_txn_release(&t); /* not committed: temp file and dirs go */
	assert_int_equal(entries(dir), 0);
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
		cmocka_unit_test_setup_teardown(fileio__txn_commit_many, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fileio__txn_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			fileio__txn_refused_before_any_change, setup, teardown),
		cmocka_unit_test_setup_teardown(fileio__txn_abandoned, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
