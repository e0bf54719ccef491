/*
 * test_filetxn.c - staged file changes: what changes, where it is staged,
 * what committing does, and that release leaves no staging behind.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/filetxn.h"
#include "util/fileio.h"

static char dir[] = "/tmp/test_filetxn.XXXXXX";

static void put(const char *name, const char *text)
{
	struct strbuf p = STRBUF_INIT;
	struct err e = ERR_INIT;

	strbuf_addf(&p, "%s/%s", dir, name);
	assert_int_equal(file_write_scratch(p.buf, text, strlen(text), &e), 0);
	strbuf_release(&p);
}

static char *get(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e = ERR_INIT;

	if (file_read_all(&sb, path, 1 << 20, &e) < 0) {
		err_release(&e);
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* Paths given to filetxn_add are relative to the repository (the current
 * directory, dir here). */
static struct filetxn_file *add(struct filetxn *t, const char *name)
{
	struct err e = ERR_INIT;
	struct filetxn_file *f;

	f = filetxn_add(t, name, 1 << 20, &e);
	if (!f)
		fail_msg("%s: %s", name, e.msg.buf);
	err_release(&e);
	return f;
}

static void filetxn__stage_and_commit(void **state)
{
	struct filetxn t;
	struct filetxn_file *f;
	struct err e = ERR_INIT;
	struct strbuf p = STRBUF_INIT;
	char *s, *stage;

	(void)state;
	put("same", "same\n");
	put("old", "old\n");
	put("gone", "gone\n");
	filetxn_init(&t);
	f = add(&t, "same");
	assert_true(f->existed);
	strbuf_addstr(&f->new, "same\n");
	f = add(&t, "old");
	strbuf_addstr(&f->new, "new\n");
	f->stage_as = strdup("sub/old.yml");
	f = add(&t, "fresh");
	assert_false(f->existed);
	strbuf_addstr(&f->new, "fresh\n");
	f = add(&t, "gone");
	f->remove = true;
	assert_int_equal(filetxn_changes(&t), 3);
	assert_false(filetxn_file_changes(&t.files[0]));
	assert_int_equal(filetxn_stage(&t, dir, "stage", &e), 0);
	stage = strdup(t.dir);
	strbuf_addf(&p, "%s/sub/old.yml", t.dir);
	s = get(p.buf);
	assert_string_equal(s, "new\n");
	free(s);
	assert_null(t.files[3].staged); /* removals are not staged */
	assert_int_equal(filetxn_commit(&t, 0644, &e), 0);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/old", dir);
	s = get(p.buf);
	assert_string_equal(s, "new\n");
	free(s);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/fresh", dir);
	s = get(p.buf);
	assert_string_equal(s, "fresh\n");
	free(s);
	strbuf_reset(&p);
	strbuf_addf(&p, "%s/gone", dir);
	assert_int_equal(access(p.buf, F_OK), -1);
	filetxn_release(&t);
	assert_int_equal(access(stage, F_OK), -1); /* nothing left */
	free(stage);
	strbuf_release(&p);
	err_release(&e);
}

static void filetxn__unreadable_is_an_error(void **state)
{
	struct filetxn t;
	struct err e = ERR_INIT;
	struct strbuf p = STRBUF_INIT;

	(void)state;
	filetxn_init(&t);
	/* a directory cannot be read as a file; missing is not an error */
	assert_null(filetxn_add(&t, ".", 1 << 20, &e));
	assert_true(e.msg.len > 0);
	assert_non_null(filetxn_add(&t, "missing", 1 << 20, &e));
	/* nothing is read or written through a link out of the repository,
	 * nor outside it at all (issue 13) */
	assert_int_equal(symlink("/etc/passwd", "leak"), 0);
	assert_int_equal(symlink("/tmp", "outdir"), 0);
	assert_int_equal(mkfifo("fifo", 0600), 0);
	err_clear(&e);
	assert_null(filetxn_add(&t, "leak", 1 << 20, &e));
	assert_true(err_is(&e, ERR_INVALID));
	assert_non_null(strstr(e.msg.buf, "leaves the repository"));
	err_clear(&e);
	assert_null(filetxn_add(&t, "outdir/new.yml", 1 << 20, &e));
	assert_true(err_is(&e, ERR_INVALID));
	err_clear(&e);
	assert_null(filetxn_add(&t, "../elsewhere", 1 << 20, &e));
	assert_true(err_is(&e, ERR_INVALID));
	err_clear(&e);
	assert_null(filetxn_add(&t, "fifo", 1 << 20, &e)); /* no hang */
	assert_true(err_is(&e, ERR_INVALID));
	filetxn_release(&t);
	strbuf_release(&p);
	err_release(&e);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) && chdir(dir) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "same",   "old",  "fresh", "leak",
					     "outdir", "fifo", NULL };
	struct strbuf p = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; names[i]; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s/%s", dir, names[i]);
		unlink(p.buf);
	}
	strbuf_release(&p);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filetxn__stage_and_commit),
		cmocka_unit_test(filetxn__unreadable_is_an_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
