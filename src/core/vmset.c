/*
 * vmset.c - cross-file checks of VM definitions; see vmset.h.
 *
 * Duplicates are found by sorting an index array by the key, so the check is
 * O(n log n): 10,000 definitions cost milliseconds, not seconds.
 */
#include "core/vmset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

void vmset_add(struct vmset *set, struct vmdef *vm, bool focus)
{
	ALLOC_GROW(set->items, st_add(set->nr, 1), set->alloc);
	ALLOC_GROW(set->focus, st_add(set->nr, 1), set->alloc_focus);
	set->items[set->nr] = *vm;
	set->focus[set->nr] = focus;
	set->nr++;
	vmdef_init(vm);
}

void vmset_release(struct vmset *set)
{
	size_t i;

	for (i = 0; i < set->nr; i++)
		vmdef_release(&set->items[i]);
	free(set->items);
	free(set->focus);
	memset(set, 0, sizeof(*set));
}

struct keyed {
	const struct vmdef *vm;
	bool focus;
	uint64_t num;
	const char *str;
};

static int by_str(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcasecmp(x->str, y->str);

	return c ? c : strcmp(x->vm->file, y->vm->file);
}

/* vmids and addresses are per cluster: NULL is "default" */
static int cluster_cmp(const struct vmdef *a, const struct vmdef *b)
{
	return strcmp(a->cluster ? a->cluster : "default",
		      b->cluster ? b->cluster : "default");
}

static int by_num(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = cluster_cmp(x->vm, y->vm);

	if (c)
		return c;
	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return strcmp(x->vm->file, y->vm->file);
}

struct member {
	struct vmdef vm;
	bool focus;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	if (!x->vm.name || !y->vm.name)
		return !x->vm.name - !y->vm.name;
	return strcmp(x->vm.name, y->vm.name);
}

void vmset_sort(struct vmset *set)
{
	struct member *tmp = xcalloc(set->nr ? set->nr : 1, sizeof(*tmp));
	size_t i;

	for (i = 0; i < set->nr; i++) {
		tmp[i].vm = set->items[i];
		tmp[i].focus = set->focus[i];
	}
	qsort(tmp, set->nr, sizeof(*tmp), member_cmp);
	for (i = 0; i < set->nr; i++) {
		set->items[i] = tmp[i].vm;
		set->focus[i] = tmp[i].focus;
	}
	free(tmp);
}

struct ranked {
	struct vmdef vm;
	bool focus;
	size_t rank, pos;
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void vmset_group_by_cluster(struct vmset *set, const char *const *order,
			    size_t n)
{
	struct ranked *tmp = xcalloc(set->nr ? set->nr : 1, sizeof(*tmp));
	size_t i, j;

	for (i = 0; i < set->nr; i++) {
		const char *c = set->items[i].cluster ? set->items[i].cluster
						      : "default";

		tmp[i].vm = set->items[i];
		tmp[i].focus = set->focus[i];
		tmp[i].pos = i;
		for (j = 0; j < n && strcmp(order[j], c); j++)
			;
		tmp[i].rank = j;
	}
	qsort(tmp, set->nr, sizeof(*tmp), ranked_cmp);
	for (i = 0; i < set->nr; i++) {
		set->items[i] = tmp[i].vm;
		set->focus[i] = tmp[i].focus;
	}
	free(tmp);
}

/*
 * In each run of equal keys, report every member that has focus, naming
 * another member: whichever file the user opens tells them of the clash.
 */
static void report_runs(struct keyed *k, size_t n,
			int (*cmp)(const struct keyed *, const struct keyed *),
			struct diag_list *dl, const char *what,
			void (*pos)(const struct vmdef *, int *, int *))
{
	size_t i = 0, j, m;

	while (i < n) {
		for (j = i + 1; j < n && !cmp(&k[i], &k[j]); j++)
			;
		for (m = i; j - i > 1 && m < j; m++) {
			const struct keyed *other = &k[m == i ? i + 1 : i];
			int line, col;

			if (!k[m].focus)
				continue;
			pos(k[m].vm, &line, &col);
			if (j - i > 2)
				diag_add(dl, DIAG_ERROR, k[m].vm->file, line,
					 col,
					 "%s '%s' is also used by %s and "
					 "%zu more",
					 what, k[m].str, other->vm->file,
					 j - i - 2);
			else
				diag_add(dl, DIAG_ERROR, k[m].vm->file, line,
					 col, "%s '%s' is also used by %s",
					 what, k[m].str, other->vm->file);
		}
		i = j;
	}
}

static int eq_str(const struct keyed *a, const struct keyed *b)
{
	return strcasecmp(a->str, b->str);
}

static int eq_num(const struct keyed *a, const struct keyed *b)
{
	return a->num != b->num || cluster_cmp(a->vm, b->vm);
}

static void pos_name(const struct vmdef *vm, int *line, int *col)
{
	*line = vm->name_line;
	*col = vm->name_col;
}

static void pos_vmid(const struct vmdef *vm, int *line, int *col)
{
	*line = vm->vmid_line;
	*col = vm->vmid_col;
}

static void pos_ip(const struct vmdef *vm, int *line, int *col)
{
	*line = vm->ip_line;
	*col = vm->ip_col;
}

static void check_names(const struct vmset *set, struct keyed *k,
			struct diag_list *dl)
{
	size_t i, n = 0;

	for (i = 0; i < set->nr; i++)
		if (set->items[i].name)
			k[n++] = (struct keyed){ &set->items[i], set->focus[i],
						 0, set->items[i].name };
	qsort(k, n, sizeof(*k), by_str);
	report_runs(k, n, eq_str, dl, "name", pos_name);
}

static void check_vmids(const struct vmset *set, struct keyed *k,
			struct diag_list *dl, char (*bufs)[24])
{
	size_t i, n = 0;

	for (i = 0; i < set->nr; i++) {
		const struct vmdef *vm = &set->items[i];

		if (!vm->vmid)
			continue;
		snprintf(bufs[n], sizeof(bufs[n]), "%llu",
			 (unsigned long long)vm->vmid);
		k[n] = (struct keyed){ vm, set->focus[i], vm->vmid, bufs[n] };
		n++;
	}
	qsort(k, n, sizeof(*k), by_num);
	report_runs(k, n, eq_num, dl, "vmid", pos_vmid);
}

static void check_ips(const struct vmset *set, struct keyed *k,
		      struct diag_list *dl, char (*bufs)[24])
{
	size_t i, n = 0;

	for (i = 0; i < set->nr; i++) {
		const struct vmdef *vm = &set->items[i];
		uint32_t ip = vm->ip.ip4;

		if (!vm->ipconfig0 || !vm->ip.has_ip4 || vm->ip.dhcp4)
			continue;
		snprintf(bufs[n], sizeof(bufs[n]), "%u.%u.%u.%u", ip >> 24,
			 (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
		k[n] = (struct keyed){ vm, set->focus[i], ip, bufs[n] };
		n++;
	}
	qsort(k, n, sizeof(*k), by_num);
	report_runs(k, n, eq_num, dl, "IPv4 address", pos_ip);
}

static void check_file_names(const struct vmset *set, struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < set->nr; i++) {
		const struct vmdef *vm = &set->items[i];
		const char *base = strrchr(vm->file, '/');
		size_t len;

		if (!set->focus[i] || !vm->name)
			continue;
		base = base ? base + 1 : vm->file;
		/* NAME.yaml, or for a dotted name its first label's (the
		 * original's k01.yaml holds k01.example.org) */
		len = strlen(base);
		if (len > 5 && !strcmp(base + len - 5, ".yaml"))
			len -= 5;
		else if (len > 4 && !strcmp(base + len - 4, ".yml"))
			len -= 4;
		if ((strlen(vm->name) != len || strncmp(base, vm->name, len)) &&
		    (strcspn(vm->name, ".") != len ||
		     strncmp(base, vm->name, len)))
			diag_add(dl, DIAG_WARNING, vm->file, vm->name_line,
				 vm->name_col,
				 "name '%s' does not match the file name",
				 vm->name);
	}
}

void vmset_check(const struct vmset *set, struct diag_list *dl)
{
	struct keyed *k = xcalloc(set->nr ? set->nr : 1, sizeof(*k));
	char(*bufs)[24] = xcalloc(set->nr ? set->nr : 1, sizeof(*bufs));

	check_names(set, k, dl);
	check_vmids(set, k, dl, bufs);
	check_ips(set, k, dl, bufs);
	check_file_names(set, dl);
	free(k);
	free(bufs);
}
