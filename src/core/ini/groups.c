/*
 * groups.c - the groups an INI inventory declares and the declarations
 * still pending (a :vars or :children section naming a group declared
 * later), resolved at the end of the file with the line Ansible reports,
 * and the loops Group.add_child_group() refuses.
 */
#include "core/ini/ini_int.h"

int ini_fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (line)
		p->lineno = line;
	va_start(ap, fmt);
	strbuf_vaddf(p->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* The index of declared group g, or nr_groups. */
static size_t group_index(const struct parser *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->nr_groups; i++)
		if (!strcmp(p->groups[i].name, g))
			break;
	return i;
}

bool ini_group_known(const struct parser *p, const char *g)
{
	return group_index(p, g) < p->nr_groups;
}

void ini_group_add(struct parser *p, const char *g)
{
	if (ini_group_known(p, g))
		return;
	ALLOC_GROW(p->groups, p->nr_groups + 1, p->alloc_groups);
	memset(&p->groups[p->nr_groups], 0, sizeof(*p->groups));
	p->groups[p->nr_groups++].name = xstrdup(g);
}

/* 1 when group a is an ancestor of group b; each group is visited once. */
static bool is_ancestor(struct parser *p, size_t a, size_t b)
{
	size_t *todo = xcalloc(p->nr_groups, sizeof(*todo));
	size_t nr = 0, i, mark = ++p->mark;
	bool found = false;

	todo[nr++] = b;
	while (nr && !found) {
		const struct group *g = &p->groups[todo[--nr]];

		for (i = 0; i < g->nr_parents && !found; i++) {
			size_t up = g->parents[i];

			if (p->groups[up].seen == mark)
				continue;
			p->groups[up].seen = mark;
			found = up == a;
			todo[nr++] = up;
		}
	}
	free(todo);
	return found;
}

/*
 * Make child (declared) a child group of parent, the way Ansible's
 * Group.add_child_group() does: refused when that makes a loop.
 */
int ini_add_child(struct parser *p, const char *parent, const char *child)
{
	size_t a = group_index(p, parent), b = group_index(p, child), i;
	struct group *c = &p->groups[b];

	for (i = 0; i < c->nr_parents; i++)
		if (c->parents[i] == a)
			return 0;
	if (a == b)
		return ini_fail(p, 0, "can't add group to itself");
	if (is_ancestor(p, b, a))
		return ini_fail(p, 0,
				"Adding group '%s' as child to '%s' creates a "
				"recursive dependency loop.",
				child, parent);
	ALLOC_GROW(c->parents, c->nr_parents + 1, c->alloc_parents);
	c->parents[c->nr_parents++] = a;
	if (!strcmp(child, "all") && !p->all_child) {
		p->all_child = p->lineno;
		p->all_parent = xstrdup(parent);
	}
	return 0;
}

static struct pending *pending_find(struct parser *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++)
		if (!p->pend.v[i].children_ok && !strcmp(p->pend.v[i].group, g))
			return &p->pend.v[i];
	return NULL;
}

static struct pending *pending_add(struct parser *p, const char *g, bool vars)
{
	struct pending *d;

	ALLOC_GROW(p->pend.v, p->pend.nr + 1, p->pend.alloc);
	d = &p->pend.v[p->pend.nr++];
	d->group = xstrdup(g);
	d->line = p->lineno;
	d->vars = vars;
	strvec_init(&d->parents);
	d->children_ok = false;
	return d;
}

/*
 * A header [g] or [g:children] declares g; [g:vars] does not. Declaring a
 * group named in earlier :children sections makes it their child.
 */
int ini_section_seen(struct parser *p, const char *g, bool vars)
{
	struct pending *d;
	size_t i;

	if (!ini_group_known(p, g)) {
		if (vars && !pending_find(p, g))
			pending_add(p, g, true);
		ini_group_add(p, g);
	}
	d = pending_find(p, g);
	if (!d || vars)
		return 0;
	d->children_ok = true;
	for (i = 0; i < d->parents.nr; i++)
		if (ini_add_child(p, d->parents.v[i], g) < 0)
			return -1;
	return 0;
}

int ini_child_seen(struct parser *p, const char *parent, const char *child)
{
	struct pending *d;

	if (ini_group_known(p, child))
		return ini_add_child(p, parent, child);
	d = pending_find(p, child);
	if (!d)
		d = pending_add(p, child, false);
	strvec_push(&d->parents, parent);
	return 0;
}

/*
 * What Ansible checks once the file is read: pending declarations, then
 * (reconcile_inventory) every group without a parent becomes a child of
 * "all", which loops when "all" itself is somebody's child.
 */
int ini_pending_check(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++) {
		const struct pending *d = &p->pend.v[i];

		if (d->children_ok)
			continue;
		if (d->vars)
			return ini_fail(
				p, d->line,
				"Section [%s:vars] not valid for undefined "
				"group: %s",
				d->group, d->group);
		return ini_fail(
			p, d->line,
			"Section [%s:children] includes undefined group: %s",
			d->parents.v[d->parents.nr - 1], d->group);
	}
	if (p->all_child)
		return ini_fail(p, p->all_child,
				"group 'all' is a child of '%s', which makes a "
				"recursive dependency loop",
				p->all_parent);
	return 0;
}
