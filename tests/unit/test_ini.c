/*
 * test_ini.c - the Ansible INI model: what it accepts and refuses (with
 * Ansible's line and message), byte-for-byte rendering, and the editing
 * primitives.
 */
#include "test.h"

#include <string.h>

#include "core/ini.h"

struct row {
	const char *text;
	int line; /* 0: accepted */
	const char *msg;
};

static const struct row rows[] = {
	{ "", 0, NULL },
	{ "# only a comment\n; and another\n\n", 0, NULL },
	{ "host1\nhost2 a=1 b='x y' c=\"q\"\n", 0, NULL },
	{ "[web]\nweb1 ansible_port=22 # comment\n", 0, NULL },
	{ "[web] # trailing comment\nweb1\n", 0, NULL },
	{ "[web:vars]\nx=1\n[web]\n", 0, NULL },
	{ "[p:children]\nc\n[c]\n", 0, NULL },
	{ "[p:children]\nc # comment\n[c:children]\n", 0, NULL },
	{ "[g]\n10.0.0.5:2200 u=x\n[2001:db8::1]:2222\n", 0, NULL },
	{ "[g]\nvm[01:03].lab\nk3s-[a:c]\nvm[1:10:2]\nvm[3:1]\n", 0, NULL },
	{ "[g]\nvm[3:1]x[\n", 0, NULL },
	{ "[g]\nvm[:3]\n", 0, NULL },
	{ "[g]\nh x=a\\ b\n", 0, NULL },
	{ "[k3s-servers]\nk\n[web.dmz]\nw\n", 0, NULL },
	{ "\xef\xbb\xbf# BOM-less comment with UTF-8 \xc3\xa9\n", 0, NULL },
	{ "# comment \xff\xfe\n", 0, NULL },
	{ "[pve]\nhost1 novalue\n", 2,
	  "Expected key=value host variable assignment, got: novalue" },
	{ "[pve:vars]\n\n\njust_a_word\n", 4,
	  "Expected key=value, got: "
	  "just_a_word" },
	{ "[bad section]\n", 1,
	  "Invalid section entry: '[bad section]'. Please make sure that there "
	  "are no spaces in the section entry, and that there are no other "
	  "invalid characters" },
	{ "[grp:foo]\n", 1, "Section [grp:foo] has unknown type: foo" },
	{ "[ghost:vars]\nx=1\n", 1,
	  "Section [ghost:vars] not valid for undefined group: ghost" },
	{ "[parent:children]\nmissingchild\n", 2,
	  "Section [parent:children] includes undefined group: missingchild" },
	{ "[p:children]\nc\n[c:vars]\nx=1\n", 2,
	  "Section [p:children] includes undefined group: c" },
	{ "[p:children]\na b\n", 2, "Expected group name, got: a b" },
	{ "[g]\nhost1 x=\"unclosed\n", 2,
	  "Error parsing host definition 'host1 x=\"unclosed': No closing "
	  "quotation" },
	{ "[g]\nhost1 x=a\\\n", 2,
	  "Error parsing host definition 'host1 x=a\\': No escaped "
	  "character" },
	{ "[g]\nhost1:\n", 2,
	  "Invalid host pattern 'host1:' supplied, ending in ':' is not "
	  "allowed, this character is reserved to provide a port." },
	{ "[g]\nvm[01:3]\n", 2,
	  "host range must specify equal-length begin and end formats" },
	{ "[g]\nvm[1:3:x]\n", 2,
	  "invalid literal for int() with base 10: 'x'" },
	{ "[g]\nvm[1:]\n", 2, "host range must specify end value" },
	{ "[g]\nvm[1:2:3:4]\n", 2,
	  "host range must be begin:end or begin:end:step" },
	{ "[g]\nvm[c:a]\n", 2, "host range must have begin <= end" },
	{ "[g]\nvm[1:3\n", 2, "not enough values to unpack (expected 3)" },
	{ "[g]\n---\n", 2,
	  "Invalid host pattern '---' supplied, '---' is normally a sign this "
	  "is a YAML file." },
	{ "[g]\nh\x0cx\n", 2,
	  "the line holds a control character Ansible reads as a line break" },
	{ "[g]\nh\rx\n", 2, "the line holds a carriage return inside a line" },
	{ "[g]\nh\xff\n", 2, "the line is not valid UTF-8" },
	/* ranges counted as Ansible expands them: INI_MAX_HOSTS per file */
	{ "[g]\nvm[1:100000]\n", 0, NULL },
	{ "[g]\nx\nvm[1:99999]\n", 0, NULL },
	{ "[g]\na[0:99]-[a:z]-[0:37]\n", 0, NULL },
	{ "[g]\nvm[0:199998:2]\n", 0, NULL },
	{ "[g]\nvm[0:10:2]\nh[a:z:2]x[a:Z]\nh[9:0:-3]\n[h]\nvm[1:99311]\n", 0,
	  NULL },
	{ "[g]\nvm[3:1]-[0:99999999]\nvm[0:5:-1][0:99999999]\n", 0, NULL },
	{ "[g]\nvm[0:99999999]\n", 2,
	  "host pattern 'vm[0:99999999]' takes the file past 100000 hosts "
	  "(pve-gitops' limit for one inventory file; Ansible would expand "
	  "every range in memory)" },
	{ "[g]\nvm[0:100000]\n", 2,
	  "host pattern 'vm[0:100000]' takes the file past 100000 hosts "
	  "(pve-gitops' limit for one inventory file; Ansible would expand "
	  "every range in memory)" },
	{ "[a]\nx\ny\n[b]\nvm[1:99999]:22 v=1\n", 5,
	  "host pattern 'vm[1:99999]:22' takes the file past 100000 hosts "
	  "(pve-gitops' limit for one inventory file; Ansible would expand "
	  "every range in memory)" },
	{ "[g]\na[0:99]-[a:z]-[0:38]\n", 2,
	  "host pattern 'a[0:99]-[a:z]-[0:38]' takes the file past 100000 hosts "
	  "(pve-gitops' limit for one inventory file; Ansible would expand "
	  "every range in memory)" },
	{ "[g]\nvm[0:200000:2]\n", 2,
	  "host pattern 'vm[0:200000:2]' takes the file past 100000 hosts "
	  "(pve-gitops' limit for one inventory file; Ansible would expand "
	  "every range in memory)" },
	{ "[g]\nh[0:9223372036854775807]-[0:9223372036854775807]\n", 2,
	  "host pattern 'h[0:9223372036854775807]-[0:9223372036854775807]' "
	  "takes the file past 100000 hosts (pve-gitops' limit for one "
	  "inventory file; Ansible would expand every range in memory)" },
	{ "[g]\nh[-9223372036854775807:9223372036854775807]\n", 2,
	  "host pattern 'h[-9223372036854775807:9223372036854775807]' takes "
	  "the file past 100000 hosts (pve-gitops' limit for one inventory "
	  "file; Ansible would expand every range in memory)" },
	{ "[g]\nh\xe2\x80\xa8x\n", 2,
	  "the line holds U+2028/U+2029, which Ansible reads as a line break" },
};

static void ini__table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct ini ini = INI_INIT;
		struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
		int line = -1, rc;

		rc = ini_parse(&ini, rows[i].text, strlen(rows[i].text), &line,
			       &why);
		if (rows[i].line) {
			if (rc != -1 || line != rows[i].line ||
			    strcmp(why.buf, rows[i].msg))
				fail_msg("row %zu %s: got rc %d line %d '%s'",
					 i, rows[i].text, rc, line, why.buf);
		} else {
			if (rc != 0)
				fail_msg("row %zu refused: line %d '%s'", i,
					 line, why.buf);
			ini_render(&ini, &out);
			assert_string_equal(out.buf, rows[i].text);
		}
		ini_release(&ini);
		strbuf_release(&why);
		strbuf_release(&out);
	}
}

static void ini__names_and_kinds(void **state)
{
	static const char text[] =
		"pre ansible_host=1.2.3.4\r\n[g]\r\n10.0.0.5:2200\r\n"
		"[2001:db8::1]:22\r\nvm[1:2]\r\n[g:vars]\r\n k = v \r\n"
		"[p:children]\r\ng\r\n";
	struct ini ini = INI_INIT;
	struct strbuf why = STRBUF_INIT;
	int line;

	(void)state;
	assert_int_equal(ini_parse(&ini, text, strlen(text), &line, &why), 0);
	assert_string_equal(ini.eol, "\r\n");
	assert_int_equal(ini.nr_lines, 9);
	assert_int_equal(ini.lines[0].kind, INI_HOST);
	assert_int_equal(ini.lines[0].section, -1);
	assert_string_equal(ini.lines[0].name, "pre");
	assert_string_equal(ini.lines[2].name, "10.0.0.5");
	assert_string_equal(ini.lines[3].name, "2001:db8::1");
	assert_null(ini.lines[4].name); /* a range */
	assert_int_equal(ini.lines[6].kind, INI_VAR);
	assert_string_equal(ini.lines[6].name, "k");
	assert_int_equal(ini.lines[8].kind, INI_CHILD);
	assert_string_equal(ini.lines[8].name, "g");
	assert_int_equal(ini.nr_sections, 3);
	assert_int_equal(ini.sections[1].type, INI_SEC_VARS);
	assert_int_equal(ini.sections[2].line, 7);
	ini_release(&ini);
	strbuf_release(&why);
}

/* Where a host line's inline comment starts, as shlex reads the line. */
static void ini__host_comment(void **state)
{
	static const struct {
		const char *line;
		size_t at; /* 0: no comment */
	} cases[] = {
		{ "k8s-e2e ansible_host=127.0.0.2  # rack 4\n", 32 },
		{ "a#b\n", 1 },
		{ "  a # c\n", 4 },
		{ "a x=\"p#q\" # r\n", 10 },
		{ "a x='p#q'\n", 0 },
		{ "a x='p\\'#q\n", 8 },
		{ "a x=\\#y # z\n", 8 },
		{ "a x=\"p\\\"#q\" #r\n", 12 },
		{ "a\n", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ini ini = INI_INIT;
		struct strbuf why = STRBUF_INIT;
		int line;

		if (ini_parse(&ini, cases[i].line, strlen(cases[i].line), &line,
			      &why))
			fail_msg("case %zu: %s", i, why.buf);
		assert_int_equal(ini.lines[0].kind, INI_HOST);
		if (ini_host_comment(&ini.lines[0]) != cases[i].at)
			fail_msg("case %zu (%s): %zu, want %zu", i,
				 cases[i].line, ini_host_comment(&ini.lines[0]),
				 cases[i].at);
		ini_release(&ini);
		strbuf_release(&why);
	}
}

static void ini__edits(void **state)
{
	static const char text[] = "# h\r\n[g]\r\na";
	struct ini ini = INI_INIT;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	int line, s;

	(void)state;
	assert_int_equal(ini_parse(&ini, text, strlen(text), &line, &why), 0);
	/* appending after a last line without an ending gives it one */
	ini_insert(&ini, 3, INI_HOST, 0, "b", "b");
	ini_replace(&ini, 2, "a2");
	s = ini_add_section(&ini, "k", INI_SEC_HOSTS);
	assert_int_equal(s, 1);
	assert_int_equal(ini.sections[1].line, 4);
	ini_insert(&ini, 0, INI_COMMENT, -1, "# top", NULL);
	assert_int_equal(ini.sections[0].line, 2); /* shifted */
	assert_int_equal(ini.sections[1].line, 5);
	ini.lines[1].deleted = true;
	ini_render(&ini, &out);
	assert_string_equal(out.buf, "# top\r\n[g]\r\na2\r\nb\r\n[k]\r\n");
	ini_release(&ini);
	strbuf_release(&why);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ini__table),
		cmocka_unit_test(ini__names_and_kinds),
		cmocka_unit_test(ini__edits),
		cmocka_unit_test(ini__host_comment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
