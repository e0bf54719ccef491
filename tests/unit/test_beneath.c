/*
 * test_beneath.c - paths below a root: every case run twice, through
 * openat2(RESOLVE_BENEATH) and through the hand walk, which must agree.
 *
 * The tree (in a fresh temp directory, "out" beside the root "repo"):
 *   repo/a.txt, repo/d/b.txt, repo/fifo, repo/in -> d/b.txt,
 *   repo/d/up -> ../a.txt, repo/dl -> d, repo/abs -> /etc/passwd,
 *   repo/esc -> ../out/secret, repo/d/esc2 -> ../../out/secret,
 *   repo/loop -> loop, repo/ldir -> ../out
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/beneath.h"

static char top[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void link_(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int setup(void **state)
{
	char path[256];

	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_beneath.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/repo", top);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/repo/d", top);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/out", top);
	mkdir(path, 0700);
	put("repo/a.txt", "A");
	put("repo/d/b.txt", "B");
	put("out/secret", "SECRET");
	snprintf(path, sizeof(path), "%s/repo/fifo", top);
	assert_int_equal(mkfifo(path, 0600), 0);
	link_("d/b.txt", "repo/in");
	link_("../a.txt", "repo/d/up");
	link_("d", "repo/dl");
	link_("/etc/passwd", "repo/abs");
	link_("../out/secret", "repo/esc");
	link_("../../out/secret", "repo/d/esc2");
	link_("loop", "repo/loop");
	link_("../out", "repo/ldir");
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = {
		"repo/a.txt",  "repo/d/b.txt", "repo/fifo",  "repo/in",
		"repo/d/up",   "repo/dl",      "repo/abs",   "repo/esc",
		"repo/d/esc2", "repo/loop",    "repo/ldir",  "repo/big",
		"repo/d/w1",   "repo/d/w2",    "out/secret", "repo/d",
		"repo",	       "out",	       "",
	};
	char path[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", top, files[i]);
		if (unlink(path) < 0)
			rmdir(path); /* a directory, emptied before */
	}
	return rmdir(top) == 0 || errno == ENOENT ? 0 : -1;
}

static const struct {
	const char *rel;
	const char *content; /* NULL: refused */
	enum err_kind kind;
} reads[] = {
	{ "a.txt", "A", 0 },
	{ "./d/../a.txt", "A", 0 },
	{ "d/b.txt", "B", 0 },
	{ "in", "B", 0 },	/* a link that stays inside */
	{ "d/up", "A", 0 },	/* ".." in a link, still inside */
	{ "dl/b.txt", "B", 0 }, /* a linked directory inside */
	{ "dl/up", "A", 0 },
	{ "abs", NULL, ERR_INVALID },	 /* absolute target */
	{ "esc", NULL, ERR_INVALID },	 /* relative target outside */
	{ "d/esc2", NULL, ERR_INVALID }, /* the same from below */
	{ "ldir/secret", NULL, ERR_INVALID },
	{ "../out/secret", NULL, ERR_INVALID },
	{ "/etc/passwd", NULL, ERR_INVALID },
	{ "fifo", NULL, ERR_INVALID }, /* refused, without blocking */
	{ "d", NULL, ERR_INVALID },    /* a directory is not a file */
	{ "loop", NULL, ERR_INVALID },
	{ "missing", NULL, ERR_NOTFOUND },
	{ "d/missing/x", NULL, ERR_NOTFOUND },
	{ "a.txt/x", NULL, ERR_GENERIC }, /* ENOTDIR */
};

static void run_reads(bool walk)
{
	struct beneath b = BENEATH_INIT;
	char root[128];
	size_t i;

	snprintf(root, sizeof(root), "%s/repo", top);
	b.no_openat2 = walk;
	assert_int_equal(beneath_root(&b, root, &(struct err)ERR_INIT), 0);
	for (i = 0; i < ARRAY_SIZE(reads); i++) {
		struct strbuf out = STRBUF_INIT;
		struct err e = ERR_INIT;
		int rc = beneath_read(&b, reads[i].rel, &out, 100, &e);

		if (reads[i].content) {
			if (rc)
				fail_msg("%s (walk %d): %s", reads[i].rel, walk,
					 e.msg.buf);
			assert_string_equal(out.buf, reads[i].content);
		} else {
			if (!rc)
				fail_msg("%s (walk %d): read '%s'",
					 reads[i].rel, walk, out.buf);
			if (e.kind != reads[i].kind)
				fail_msg("%s (walk %d): kind %d: %s",
					 reads[i].rel, walk, e.kind, e.msg.buf);
			assert_int_equal(out.len, 0);
			assert_null(strstr(out.buf, "SECRET"));
		}
		strbuf_release(&out);
		err_release(&e);
	}
	beneath_release(&b);
}

static void beneath__reads_openat2(void **state)
{
	(void)state;
	run_reads(false);
}

static void beneath__reads_walk(void **state)
{
	(void)state;
	run_reads(true);
}

static void run_writes(bool walk)
{
	struct beneath b = BENEATH_INIT;
	struct err e = ERR_INIT;
	struct stat st;
	char root[128], path[256];
	int fd;

	snprintf(root, sizeof(root), "%s/repo", top);
	b.no_openat2 = walk;
	assert_int_equal(beneath_root(&b, root, &e), 0);
	/* creating through a link that leaves: refused, nothing outside */
	fd = beneath_open(&b, "ldir/new", O_WRONLY | O_CREAT, 0600, &e);
	assert_int_equal(fd, -1);
	assert_true(err_is(&e, ERR_INVALID));
	snprintf(path, sizeof(path), "%s/out/new", top);
	assert_int_equal(stat(path, &st), -1);
	/* a directory may be opened as one */
	fd = beneath_open(&b, "dl", O_RDONLY | O_DIRECTORY, 0, &e);
	assert_true(fd >= 0);
	close(fd);
	fd = beneath_open(&b, "ldir", O_RDONLY | O_DIRECTORY, 0, &e);
	assert_int_equal(fd, -1);
	/* a directory to write in: one below, or a missing one in one */
	assert_int_equal(beneath_check_dir(&b, "dl", &e), 0);
	assert_int_equal(beneath_check_dir(&b, "d/new/deeper", &e), 0);
	assert_int_equal(beneath_check_dir(&b, "ldir", &e), -1);
	assert_true(err_is(&e, ERR_INVALID));
	assert_int_equal(beneath_check_dir(&b, "ldir/new", &e), -1);
	assert_int_equal(beneath_check_dir(&b, "a.txt", &e), -1);
	/* creating inside works */
	fd = beneath_open(&b, walk ? "d/w1" : "d/w2", O_WRONLY | O_CREAT, 0600,
			  &e);
	assert_true(fd >= 0);
	close(fd);
	beneath_release(&b);
	err_release(&e);
}

static void beneath__writes(void **state)
{
	(void)state;
	run_writes(false);
	run_writes(true);
}

static void beneath__limit(void **state)
{
	struct beneath b = BENEATH_INIT;
	struct strbuf out = STRBUF_INIT;
	struct err e = ERR_INIT;
	char root[128];

	(void)state;
	snprintf(root, sizeof(root), "%s/repo", top);
	assert_int_equal(beneath_root(&b, root, &e), 0);
	put("repo/big", "0123456789");
	assert_int_equal(beneath_read(&b, "big", &out, 5, &e), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(e.exit_code, EXIT_INVALID);
	assert_int_equal(beneath_read(&b, "", &out, 5, &e), -1);
	strbuf_release(&out);
	err_release(&e);
	beneath_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(beneath__reads_openat2),
		cmocka_unit_test(beneath__reads_walk),
		cmocka_unit_test(beneath__writes),
		cmocka_unit_test(beneath__limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
