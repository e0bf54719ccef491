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

static struct filetxn_file *add(struct filetxn *t, const char *name)
{
	struct strbuf p = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct filetxn_file *f;

	strbuf_addf(&p, "%s/%s", dir, name);
	f = filetxn_add(t, p.buf, 1 << 20, &e);
	assert_non_null(f);
	strbuf_release(&p);
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
	assert_null(filetxn_add(&t, dir, 1 << 20, &e));
	assert_true(e.msg.len > 0);
	strbuf_addf(&p, "%s/missing", dir);
	assert_non_null(filetxn_add(&t, p.buf, 1 << 20, &e));
	filetxn_release(&t);
	strbuf_release(&p);
	err_release(&e);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	static const char *const names[] = { "same", "old", "fresh", NULL };
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
