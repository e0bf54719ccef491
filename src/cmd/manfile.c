/*
 * manfile.c - pve-gitops.yaml(5) and pve-gitops-vm(5), generated from the
 * tables the decoders walk (core/schema.h: the same ones the JSON Schema
 * comes from): every key with its type, default, allowed values and
 * description.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/man.h"
#include "core/schema.h"
#include "core/ydecode.h"

static void type_of(FILE *fp, const struct yd_doc *doc)
{
	static const char *const names[] = {
		[YT_ANY] = "any value",
		[YT_STRING] = "string",
		[YT_INT] = "integer",
		[YT_NUMBER] = "number",
		[YT_BOOL] = "boolean",
		[YT_TFBOOL] =
			"boolean (also \"true\", \"false\", 0, 1, yes, no)",
		[YT_ENUM] = "one of",
		[YT_MAP] = "mapping",
		[YT_MAPS] = "mapping, or a list of mappings",
		[YT_SLOTS] = "mapping of slots, or a list of mappings",
		[YT_DICT] = "mapping",
		[YT_LIST] = "list of strings",
		[YT_STRINGS] = "string or list of strings",
		[YT_FORBIDDEN] = "refused",
	};
	const char *const *v;

	man_text(fp, names[doc->type]);
	if (doc->type == YT_INT && doc->max)
		fprintf(fp, " %" PRIu64 "..%" PRIu64, doc->min, doc->max);
	for (v = doc->values; doc->type == YT_ENUM && v && *v; v++) {
		fputs(v == doc->values ? " " : ", ", fp);
		man_text(fp, *v);
	}
	if (doc->required)
		fputs(", required", fp);
	if (doc->def) {
		fputs("; default ", fp);
		man_text(fp, doc->def);
	}
}

static void keys(FILE *fp, const struct yd_field *f, const char *prefix)
{
	const struct yd_field *sub;
	char path[128];

	for (; f && f->key; f++) {
		snprintf(path, sizeof(path), "%s%s", prefix, f->key);
		fputs(".TP\n.B ", fp);
		man_text(fp, path);
		fputs("\n(\\fI", fp);
		type_of(fp, &f->doc);
		fputs("\\fR)\n.br\n", fp);
		man_text(fp, f->doc.help ? f->doc.help : "");
		fputs(".\n", fp);
		sub = f->doc.fields	 ? f->doc.fields
		      : f->doc.fields_of ? f->doc.fields_of()
					 : NULL;
		if (!sub)
			continue;
		snprintf(path, sizeof(path), "%s%s%s.", prefix, f->key,
			 f->doc.type == YT_SLOTS  ? ".SLOT"
			 : f->doc.type == YT_MAPS ? "[]"
						  : "");
		keys(fp, sub, path);
	}
}

void man_file_page(FILE *fp, const char *kind)
{
	bool vm = !strcmp(kind, "vmdef");

	man_head(fp, vm ? "pve-gitops-vm" : "pve-gitops.yaml", 5,
		 vm ? "a VM definition (proxmox/vms/NAME.yaml)"
		    : "the configuration file of pve-gitops");
	fputs(".SH DESCRIPTION\n", fp);
	fputs(vm ? "One YAML mapping per file describes one VM; the keys are "
		   "those of the\nTelmate Terraform provider's proxmox_vm_qemu "
		   "that pve\\-gitops reads.\n"
		 : "pve\\-gitops.yaml, at the repository root, is optional: "
		   "every key has a\ndefault. Secrets never go here; they "
		   "come from the environment.\n",
	      fp);
	fputs("A null value means \"not set\". The same tables give\n"
	      ".B pve\\-gitops schema ",
	      fp);
	fputs(vm ? "vmdef" : "config", fp);
	fputs("\n(a JSON Schema for editors) and\n.B pve\\-gitops validate\n"
	      "its checks; validate checks more than the types shown here.\n"
	      ".SH KEYS\n",
	      fp);
	keys(fp, schema_fields(kind), "");
	fputs(".SH SEE ALSO\n.BR pve\\-gitops (1),\n.BR pve\\-gitops\\-validate "
	      "(1)\n",
	      fp);
}
