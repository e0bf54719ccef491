/*
 * test_tag.c - the [ansible NAME] tag over a table of commit messages, and
 * playbook resolution.
 */
#include "test.h"
#include "core/tag.h"

struct row {
	const char *msg;
	enum tag_result want;
	const char *name; /* TAG_FOUND: the name; TAG_REFUSED: the reason */
};

static const struct row rows[] = {
	/* the seed's examples */
	{ "feat: add k8s-observability cluster [ansible k8s-observability]",
	  TAG_FOUND, "k8s-observability" },
	{ "feat: add haproxy [ansible haproxy]", TAG_FOUND, "haproxy" },
	{ "feat: add control plane [ansible talos-control-plane]", TAG_FOUND,
	  "talos-control-plane" },
	{ "Auto-update Ansible inventory [ansible k8s-observability]",
	  TAG_FOUND, "k8s-observability" },
	{ "Auto-update Ansible inventory", TAG_NONE, NULL },
	/* where the tag stands */
	{ "[ansible web] at the start", TAG_FOUND, "web" },
	{ "subject\n\nbody text\n[ansible db-01]\n", TAG_FOUND, "db-01" },
	{ "subject\n\nSigned-off-by: x\n\n[ansible late]", TAG_FOUND, "late" },
	{ "fix: x\r\n\r\n[ansible crlf]\r\n", TAG_FOUND, "crlf" },
	/* several: the first wins */
	{ "[ansible one] and [ansible two]", TAG_FOUND, "one" },
	{ "a\n[ansible first]\nb\n[ansible second]", TAG_FOUND, "first" },
	{ "[ansible ] then [ansible real]", TAG_FOUND, "real" },
	/* spacing */
	{ "[ansible   spaced]", TAG_FOUND, "spaced" },
	{ "[ansible\tk8s-dev]", TAG_FOUND, "k8s-dev" },
	{ "[ansible\nnext-line]", TAG_FOUND, "next-line" },
	{ "[ansible trailing  ]", TAG_FOUND, "trailing" },
	{ "[ansible x.y_z-1]", TAG_FOUND, "x.y_z-1" },
	{ "[ansible 9lives]", TAG_FOUND, "9lives" },
	/* no tag at all */
	{ "", TAG_NONE, NULL },
	{ "no tag here", TAG_NONE, NULL },
	{ "[ansible]", TAG_NONE, NULL },
	{ "[ansible ]", TAG_NONE, NULL },
	{ "[ansibleweb]", TAG_NONE, NULL },
	{ "[Ansible web]", TAG_NONE, NULL },
	{ "[ansible web", TAG_NONE, NULL },
	{ "ansible web]", TAG_NONE, NULL },
	{ "[ ansible web]", TAG_NONE, NULL },
	/* hostile names, refused */
	{ "[ansible ../x]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible a/../../etc/passwd]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible x..y]", TAG_REFUSED,
	  "a playbook name may not contain '..'" },
	{ "[ansible x;rm -rf /]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible $(id)]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible `id`]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible -e@/etc/passwd]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible --help]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible two words]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible line\nbreak]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible "
	  "a1234567890123456789012345678901234567890123456789012345678901234]",
	  TAG_REFUSED, "the playbook name is 65 characters long (at most 64)" },
	{ "[ansible caf\xc3\xa9]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible x|y]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible x>y]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible .hidden]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible x y]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	{ "[ansible  \t ]", TAG_REFUSED, "the playbook name is empty" },
	{ "[ansible a[b]", TAG_REFUSED,
	  "a playbook name holds only letters, digits, '.', '_' and '-'" },
	/* a file suffix names the playbook without it, never a host */
	{ "[ansible k8s-ha.yml]", TAG_FOUND, "k8s-ha" },
	{ "[ansible k8s-ha.yaml]", TAG_FOUND, "k8s-ha" },
	{ "[ansible Site.YML]", TAG_FOUND, "Site" },
	{ "[ansible k8s.yml]", TAG_FOUND, "k8s" },
	{ "[ansible a.ymlx]", TAG_FOUND, "a.ymlx" },
	{ "[ansible yml]", TAG_FOUND, "yml" },
	{ "[ansible k8s-ha.yml.yml]", TAG_REFUSED,
	  "a playbook name is written without its file suffix" },
	{ "[ansible a.yaml.YML]", TAG_REFUSED,
	  "a playbook name is written without its file suffix" },
	{ "[ansible .yml]", TAG_REFUSED,
	  "a playbook name starts with a letter or a digit" },
	{ "[ansible a..yml]", TAG_REFUSED,
	  "a playbook name may not contain '..'" },
	{ "[ansible "
	  "a1234567890123456789012345678901234567890123456789012345678901.yml]",
	  TAG_REFUSED, "the playbook name is 66 characters long (at most 64)" },
	/* the longest allowed */
	{ "[ansible "
	  "a123456789012345678901234567890123456789012345678901234567890123]",
	  TAG_FOUND,
	  "a123456789012345678901234567890123456789012345678901234567890123" },
};

static void tag__table(void **state)
{
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;

	(void)state;
	assert_true(ARRAY_SIZE(rows) >= 40);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		enum tag_result r = tag_extract(
			rows[i].msg, strlen(rows[i].msg), &name, &why);

		if (r != rows[i].want)
			fail_msg("row %zu (%s): got %d, want %d", i,
				 rows[i].msg, r, rows[i].want);
		if (r == TAG_FOUND)
			assert_string_equal(name.buf, rows[i].name);

		if (r == TAG_REFUSED)
			assert_string_equal(why.buf, rows[i].name);
	}
	strbuf_release(&name);
	strbuf_release(&why);
}

static void tag__embedded_nul_is_part_of_the_message(void **state)
{
	static const char msg[] = "x\0[ansible web]";
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;

	(void)state;
	assert_int_equal(tag_extract(msg, sizeof(msg) - 1, &name, &why),
			 TAG_FOUND);
	assert_string_equal(name.buf, "web");
	strbuf_release(&name);
	strbuf_release(&why);
}

/*
 * A refused name comes back as it was written, not escaped: the message
 * that carries it is escaped once, where it is printed (util/report.h).
 */
static void tag__refused_name_is_raw(void **state)
{
	static const struct {
		const char *msg, *name;
	} cases[] = {
		{ "x [ansible a\\b]", "a\\b" },
		{ "x [ansible a\033b]", "a\033b" },
		{ "x [ansible a\\x1bb]", "a\\x1bb" },
	};
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(tag_extract(cases[i].msg, strlen(cases[i].msg),
					     &name, &why),
				 TAG_REFUSED);
		assert_string_equal(name.buf, cases[i].name);
	}
	strbuf_release(&name);
	strbuf_release(&why);
}

/* A stripped suffix comes with a note; a plain name with none. */
static void tag__suffix_note(void **state)
{
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;
	static const char msg[] = "feat: HA [ansible k8s-ha.yml]";

	(void)state;
	assert_int_equal(tag_extract(msg, strlen(msg), &name, &why), TAG_FOUND);
	assert_string_equal(name.buf, "k8s-ha");
	assert_string_equal(why.buf,
			    "'k8s-ha.yml' is taken as 'k8s-ha': a playbook "
			    "name is written without its file suffix");
	assert_int_equal(tag_extract("[ansible k8s-ha]", 16, &name, &why),
			 TAG_FOUND);
	assert_int_equal(why.len, 0);
	assert_int_equal(tag_extract("[ansible a.yml.yml]", 19, &name, &why),
			 TAG_REFUSED);
	assert_string_equal(name.buf, "a.yml.yml"); /* raw, as refused */
	strbuf_release(&name);
	strbuf_release(&why);
}

static void tag__playbooks(void **state)
{
	struct strvec files = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;
	struct playbook pb;

	(void)state;
	strvec_pushl(&files, "k8s.yml", "k8s-ha.yml", "haproxy.yml",
		     "README.md", NULL);
	assert_int_equal(playbook_resolve(&pb, &files, "haproxy", &why), 0);
	assert_string_equal(pb.file, "haproxy.yml");
	assert_null(pb.target_hosts);
	playbook_release(&pb);
	/* a real k8s-* playbook is not shadowed by k8s.yml */
	assert_int_equal(playbook_resolve(&pb, &files, "k8s-ha", &why), 0);
	assert_string_equal(pb.file, "k8s-ha.yml");
	assert_null(pb.target_hosts);
	playbook_release(&pb);
	assert_int_equal(
		playbook_resolve(&pb, &files, "k8s-observability", &why), 0);
	assert_string_equal(pb.file, "k8s.yml");
	assert_string_equal(pb.target_hosts, "k8s-observability");
	playbook_release(&pb);
	assert_int_equal(playbook_resolve(&pb, &files, "talos", &why), -1);
	assert_string_equal(why.buf, "no playbook 'talos.yml'; there are: "
				     "haproxy, k8s, k8s-ha");
	/* a suffixed name never becomes k8s.yml's target_hosts */
	strbuf_reset(&why);
	assert_int_equal(playbook_resolve(&pb, &files, "k8s-ha.yml", &why), -1);
	assert_null(pb.target_hosts);
	assert_string_equal(why.buf, "'k8s-ha.yml': a playbook name is "
				     "written without its file suffix");
	strbuf_reset(&why);
	assert_int_equal(playbook_resolve(&pb, &files, "k8s-x.YAML", &why), -1);
	strvec_clear(&files);
	strbuf_reset(&why);
	assert_int_equal(playbook_resolve(&pb, &files, "k8s-x", &why), -1);
	assert_string_equal(why.buf, "no playbook 'k8s-x.yml' and no k8s.yml; "
				     "there are: none");
	strbuf_release(&why);
}

/*
 * The seed's "Multi-Node Clusters": [ansible k8s-ha] runs k8s-ha.yml, the
 * playbook shipped in examples/infra, once over the new hosts (no
 * target_hosts), never k8s.yml; the cluster's own names still run k8s.yml
 * only when they are single-node names.
 */
static void tag__k8s_ha_routing(void **state)
{
	static const char msg[] =
		"feat(proxmox): add k8s-prod control plane [ansible k8s-ha]";
	struct strvec files = STRVEC_INIT;
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;
	struct playbook pb;

	(void)state;
	strvec_pushl(&files, "README.md", "haproxy.yml", "k8s-ha.yml",
		     "k8s.yml", "myapp.yml", NULL);
	assert_int_equal(tag_extract(msg, strlen(msg), &name, &why), TAG_FOUND);
	assert_string_equal(name.buf, "k8s-ha");
	assert_int_equal(playbook_resolve(&pb, &files, name.buf, &why), 0);
	assert_string_equal(pb.file, "k8s-ha.yml");
	assert_null(pb.target_hosts);
	playbook_release(&pb);
	assert_int_equal(playbook_resolve(&pb, &files, "k8s-dev", &why), 0);
	assert_string_equal(pb.file, "k8s.yml");
	assert_string_equal(pb.target_hosts, "k8s-dev");
	playbook_release(&pb);
	strvec_clear(&files);
	strbuf_release(&name);
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tag__table),
		cmocka_unit_test(tag__embedded_nul_is_part_of_the_message),
		cmocka_unit_test(tag__refused_name_is_raw),
		cmocka_unit_test(tag__suffix_note),
		cmocka_unit_test(tag__playbooks),
		cmocka_unit_test(tag__k8s_ha_routing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
