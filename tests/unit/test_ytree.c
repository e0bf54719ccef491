/*
 * test_ytree.c - the bounded YAML tree: typing, positions, aliases and the
 * limits that keep hostile input cheap.
 */
#include "test.h"
#include "core/ytree.h"
#include "util/strbuf.h"

/* Parse text; return the first diagnostic's "line:col: msg" or "". */
static int parse(struct ytree *t, struct diag_list *dl, const char *text,
		 size_t len)
{
	return ytree_parse(t, dl, "t.yaml", text, len);
}

static void expect_error(const char *text, size_t len, int line, int col,
			 const char *msg)
{
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;

	assert_int_equal(parse(&t, &dl, text, len), -1);
	assert_null(t.root);
	assert_int_equal(dl.errors, 1);
	assert_int_equal(dl.items[0].line, line);
	assert_int_equal(dl.items[0].col, col);
	assert_string_equal(dl.items[0].msg, msg);
	ytree_release(&t);
	diag_list_release(&dl);
}

static void ytree__core_schema_types(void **state)
{
	static const char text[] =
		"a: 1\nb: -7\nc: 0x1F\nd: 1.5\ne: true\nf: False\ng: ~\n"
		"h:\ni: yes\nj: \"1\"\nk: !!str 2\nl: '~'\nm: .inf\nn: 0o17\n";
	static const enum yscalar_type want[] = {
		YS_INT,	 YS_INT, YS_INT, YS_FLOAT, YS_BOOL, YS_BOOL,  YS_NULL,
		YS_NULL, YS_STR, YS_STR, YS_STR,   YS_STR,  YS_FLOAT, YS_INT,
	};
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	size_t i;

	(void)state;
	assert_int_equal(parse(&t, &dl, text, sizeof(text) - 1), 0);
	assert_int_equal(t.root->kind, YNODE_MAP);
	assert_int_equal(ymap_size(t.root), ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		assert_int_equal(ymap_value(t.root, i)->stype, want[i]);
	assert_true(ymap_value(t.root, 4)->bval);
	assert_false(ymap_value(t.root, 5)->bval);
	ytree_release(&t);
	diag_list_release(&dl);
}

static void ytree__positions_are_one_based(void **state)
{
	static const char text[] = "top:\n  inner: [a, {b: c}]\n";
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	const struct ynode *inner, *seq;

	(void)state;
	assert_int_equal(parse(&t, &dl, text, sizeof(text) - 1), 0);
	inner = ymap_key(ymap_value(t.root, 0), 0);
	assert_int_equal(inner->line, 2);
	assert_int_equal(inner->col, 3);
	seq = ymap_value(ymap_value(t.root, 0), 0);
	assert_int_equal(seq->kind, YNODE_SEQ);
	assert_int_equal(seq->line, 2);
	assert_int_equal(seq->col, 10);
	assert_int_equal(seq->kids[1]->kind, YNODE_MAP);
	ytree_release(&t);
	diag_list_release(&dl);
}

static void ytree__aliases_share_not_copy(void **state)
{
	/* A billion-laughs shape: 9 levels of 9 aliases each. */
	struct strbuf text = STRBUF_INIT;
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	int level, i;

	(void)state;
	strbuf_addstr(&text, "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, "
			     "lol]\n");
	for (level = 1; level < 9; level++) {
		strbuf_addf(&text, "l%d: &l%d [", level, level);
		for (i = 0; i < 9; i++)
			strbuf_addf(&text, "%s*l%d", i ? ", " : "", level - 1);
		strbuf_addstr(&text, "]\n");
	}
	assert_int_equal(parse(&t, &dl, text.buf, text.len), 0);
	assert_true(t.nr_all < 200); /* nodes, not 9^9 copies */
	assert_ptr_equal(ymap_value(t.root, 1)->kids[0], ymap_value(t.root, 0));
	ytree_release(&t);
	diag_list_release(&dl);
	strbuf_release(&text);
}

static void ytree__errors(void **state)
{
	(void)state;
	expect_error("a: *nope\n", 9, 1, 5,
		     "alias '*nope' refers to no anchor");
	expect_error("a: &x [*x]\n", 11, 1, 9,
		     "alias '*x' refers to no anchor");
	expect_error("a: 1\na: 2\n", 10, 2, 1,
		     "duplicate key 'a' (first at line 1)");
	expect_error("a: 1\n---\nb: 2\n", 14, 2, 1,
		     "more than one YAML document in the file");
	expect_error("a: 1\n\tb: 2\n", 11, 2, 1,
		     "tab character in indentation: YAML indents with spaces "
		     "only");
	expect_error("a: x\0y\n", 7, 1, 5,
		     "NUL byte in the file: not a YAML text file");
	expect_error("a: \xff\n", 5, 1, 4,
		     "invalid UTF-8 byte 0xff: not a YAML text file");
	expect_error("a: !foo x\n", 10, 1, 9,
		     "unsupported or mismatched YAML tag '!foo'");
	expect_error("a: !!int x\n", 11, 1, 10,
		     "unsupported or mismatched YAML tag "
		     "'tag:yaml.org,2002:int'");
	expect_error("[a]: 1\n", 7, 1, 1,
		     "mapping keys must be scalars, not a "
		     "list");
	expect_error("a: [b\n", 6, 2, 1,
		     "YAML syntax error: flow sequence without a closing "
		     "bracket");
}

static void ytree__depth_limit(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		strbuf_addch(&text, '[');
	for (i = 0; i < 100000; i++)
		strbuf_addch(&text, ']');
	assert_int_equal(parse(&t, &dl, text.buf, text.len), -1);
	assert_string_equal(dl.items[0].msg,
			    "YAML nested deeper than 64 levels");
	assert_int_equal(dl.items[0].col, 65);
	ytree_release(&t);
	diag_list_release(&dl);
	strbuf_release(&text);
}

static void ytree__node_limit(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	int i;

	(void)state;
	strbuf_addch(&text, '[');
	for (i = 0; i < YTREE_MAX_NODES + 10; i++)
		strbuf_addstr(&text, "1,");
	strbuf_addch(&text, ']');
	assert_int_equal(parse(&t, &dl, text.buf, text.len), -1);
	assert_string_equal(dl.items[0].msg,
			    "too many YAML nodes (limit 100000)");
	ytree_release(&t);
	diag_list_release(&dl);
	strbuf_release(&text);
}

static void ytree__empty_document(void **state)
{
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(parse(&t, &dl, "", 0), 0);
	assert_null(t.root);
	assert_int_equal(parse(&t, &dl, "# only a comment\n", 17), 0);
	assert_null(t.root);
	assert_int_equal(dl.nr, 0);
	ytree_release(&t);
	diag_list_release(&dl);
}

static void expect_single(const char *yaml, const char *want)
{
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;

	assert_int_equal(parse(&t, &dl, yaml, strlen(yaml)), 0);
	assert_int_equal(ymap_value(t.root, 0)->stype, YS_STR);
	assert_string_equal(ymap_value(t.root, 0)->str, want);
	ytree_release(&t);
	diag_list_release(&dl);
}

static void ytree__single_quoted(void **state)
{
	(void)state;
	expect_single("a: 'it''s'\n", "it's");
	/* libfyaml 0.7.12 leaks (and its iterator miscounts) on this one. */
	expect_single("a: ''''''''''''\n", "'''''");
	expect_single("a: '  lead and tail  '\n", "  lead and tail  ");
	expect_single("a: 'one\n  two\n\n  three  \n   four'\n",
		      "one two\nthree four");
	expect_single("a: 'x\r\n  y'\n", "x y");
	expect_single("a: ''\n", "");
	expect_single("'k''ey': v\n", "v");
}

static void ytree__empty_key_has_a_position(void **state)
{
	struct ytree t = YTREE_INIT;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(parse(&t, &dl, "a: 1\n: x\n", 9), 0);
	assert_true(ymap_key(t.root, 1)->line > 0);
	assert_true(ymap_key(t.root, 1)->col > 0);
	ytree_release(&t);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ytree__core_schema_types),
		cmocka_unit_test(ytree__positions_are_one_based),
		cmocka_unit_test(ytree__aliases_share_not_copy),
		cmocka_unit_test(ytree__errors),
		cmocka_unit_test(ytree__depth_limit),
		cmocka_unit_test(ytree__node_limit),
		cmocka_unit_test(ytree__empty_document),
		cmocka_unit_test(ytree__single_quoted),
		cmocka_unit_test(ytree__empty_key_has_a_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
