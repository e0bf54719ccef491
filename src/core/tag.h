/*
 * tag.h - the playbook a commit asks for, and the playbook file it runs.
 *
 * A commit message names a playbook with "[ansible NAME]": the first match
 * of the seed's \[ansible[[:space:]]+([^]]+)\] in the whole message,
 * trimmed. The name must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ and hold
 * no "..", so it is safe as a file name and as an argument before it
 * reaches either. Pure: no I/O.
 */
#ifndef PVE_GITOPS_TAG_H
#define PVE_GITOPS_TAG_H

#include <stddef.h>

#include "util/strbuf.h"
#include "util/strvec.h"

enum tag_result {
	TAG_FOUND,   /* name holds the playbook name */
	TAG_NONE,    /* no [ansible NAME] in the message */
	TAG_REFUSED, /* a tag, but the name is not safe; why says why */
};

/*
 * A name ending in ".yml" or ".yaml" (any case) names the playbook without
 * it: "[ansible k8s-ha.yml]" is TAG_FOUND with name "k8s-ha" and why
 * holding a note for the caller to show; the shortened name is checked by
 * the same rules, and one that still ends in a suffix is refused. On
 * TAG_FOUND, why is empty or that note.
 */
enum tag_result tag_extract(const char *msg, size_t len, struct strbuf *name,
			    struct strbuf *why);

/* The length of name's ".yml"/".yaml" suffix (any case), or 0. */
size_t tag_yml_suffix(const char *name);

/* What to run for a playbook name. */
struct playbook {
	char *file;	    /* "k8s.yml" (relative to the playbooks dir) */
	char *target_hosts; /* for k8s-* names run by k8s.yml, else NULL */
};

/*
 * Resolve name against the files of the playbooks directory: NAME.yml
 * wins; else a k8s-* name runs k8s.yml with target_hosts=NAME; else -1
 * with why listing the playbooks there are. A name with a ".yml" or
 * ".yaml" suffix is refused (-1), so it never becomes a host pattern.
 */
int playbook_resolve(struct playbook *out, const struct strvec *files,
		     const char *name, struct strbuf *why);
void playbook_release(struct playbook *p);

#endif
