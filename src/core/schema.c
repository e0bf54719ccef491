/*
 * schema.c - JSON Schema from the decoders' tables; see schema.h.
 *
 * Each yd_field becomes a property with its description, type, default and
 * allowed values. What the decoder accepts beyond the plain JSON type is
 * accepted here too (a quoted number for an integer, Terraform's boolean
 * spellings in definitions, null for "not set"); what only a handler checks
 * (a name's syntax, a path inside the repository, cross-file duplicates) is
 * left to `pve-gitops validate`.
 */
#include <string.h>

#include "core/config.h"
#include "core/schema.h"
#include "core/vmdef.h"
#include "core/workspace.h"
#include "core/ydecode.h"

const char *const schema_kinds[] = { "vmdef", "config", "workspace", NULL };

static const struct {
	const char *kind, *title;
} kind_titles[] = {
	{ "vmdef", "pve-gitops VM definition" },
	{ "config", "pve-gitops.yaml" },
	{ "workspace", "pve-gitops workload workspace" },
};

const struct yd_field *schema_fields(const char *kind)
{
	if (!strcmp(kind, "vmdef"))
		return vmdef_fields();
	if (!strcmp(kind, "config"))
		return config_fields_doc();
	if (!strcmp(kind, "workspace"))
		return workspace_fields_doc();
	return NULL;
}

static json_t *of_type(const char *type)
{
	return json_pack("{ss}", "type", type);
}

static json_t *string_list(const char *const *values)
{
	json_t *a = json_array();

	for (; values && *values; values++)
		json_array_append_new(a, json_string(*values));
	return a;
}

/* yd_uint: an integer in range, or a quoted string of digits. */
static json_t *int_schema(const struct yd_doc *doc)
{
	json_t *n = of_type("integer");

	json_object_set_new(n, "minimum", json_integer((json_int_t)doc->min));
	if (doc->max)
		json_object_set_new(n, "maximum",
				    json_integer((json_int_t)doc->max));
	return json_pack("{s[o{sss s}]}", "anyOf", n, "type", "string",
			 "pattern", "^[0-9]+$");
}

/* yd_bool: true, false, 0 or 1. */
static json_t *bool_schema(void)
{
	return json_pack("{s[{ss}{sssisi}]}", "anyOf", "type", "boolean",
			 "type", "integer", "minimum", 0, "maximum", 1);
}

/* yd_tfbool: yd_bool's, the strings Terraform converts, YAML 1.1's. */
static json_t *tfbool_schema(void)
{
	static const char *const words[] = {
		"true", "false", "1",  "0",  "yes", "no", "Yes",
		"No",	"YES",	 "NO", "on", "off", "On", "Off",
		"ON",	"OFF",	 "y",  "n",  "Y",   "N",  NULL,
	};
	json_t *s = json_pack("{ss so}", "type", "string", "enum",
			      string_list(words));

	return json_pack("{s[{ss}{sssisi}o]}", "anyOf", "type", "boolean",
			 "type", "integer", "minimum", 0, "maximum", 1, s);
}

static json_t *object_schema(const struct yd_field *fields);

static const struct yd_field *fields_of(const struct yd_doc *doc)
{
	return doc->fields	? doc->fields
	       : doc->fields_of ? doc->fields_of()
				: NULL;
}

/* The value's schema, without description, default or null. */
static json_t *value_schema(const struct yd_doc *doc)
{
	json_t *items;

	switch (doc->type) {
	case YT_ANY:
		return json_object();
	case YT_STRING: {
		json_t *s;

		if (doc->values) /* one of them, or what pattern takes */
			return json_pack("{s[{so}{ssss}]}", "anyOf", "enum",
					 string_list(doc->values), "type",
					 "string", "pattern", doc->pattern);
		s = of_type("string");
		if (doc->pattern)
			json_object_set_new(s, "pattern",
					    json_string(doc->pattern));
		if (doc->max)
			json_object_set_new(s, "maxLength",
					    json_integer((json_int_t)doc->max));
		return s;
	}
	case YT_INT:
		return int_schema(doc);
	case YT_NUMBER:
		return json_pack("{s[{sssi}{ssss}]}", "anyOf", "type", "number",
				 "minimum", 0, "type", "string", "pattern",
				 "^[0-9]+(\\.[0-9]*)?$");
	case YT_BOOL:
		return bool_schema();
	case YT_TFBOOL:
		return tfbool_schema();
	case YT_ENUM:
		return json_pack("{ss so}", "type", "string", "enum",
				 string_list(doc->values));
	case YT_MAP:
		return object_schema(fields_of(doc));
	case YT_MAPS:
		return json_pack("{s[o{ss so}]}", "anyOf",
				 object_schema(fields_of(doc)), "type", "array",
				 "items", object_schema(fields_of(doc)));
	case YT_SLOTS:
		return json_pack("{s[{ss s{ss} so}{ss so}]}", "anyOf", "type",
				 "object", "propertyNames", "pattern",
				 doc->pattern ? doc->pattern : "",
				 "additionalProperties",
				 object_schema(fields_of(doc)), "type", "array",
				 "items", object_schema(fields_of(doc)));
	case YT_DICT:
		if (doc->fields) /* every value a mapping of these fields */
			return json_pack("{ss so}", "type", "object",
					 "additionalProperties",
					 object_schema(doc->fields));
		return of_type("object");
	case YT_LIST:
	case YT_STRINGS:
		items = of_type("string");
		if (doc->values)
			json_object_set_new(items, "examples",
					    string_list(doc->values));
		items = json_pack("{ss so}", "type", "array", "items", items);
		if (doc->min)
			json_object_set_new(items, "minItems",
					    json_integer((json_int_t)doc->min));
		if (doc->type == YT_LIST)
			return items;
		return json_pack("{s[{ss}o]}", "anyOf", "type", "string",
				 items);
	case YT_FORBIDDEN:
		return json_pack("{s{}}", "not");
	}
	return json_object();
}

/*
 * A null is "not set" (yd_map skips it) unless the handler takes nulls
 * itself: then the value's own schema says whether one is allowed.
 */
static json_t *nullable(json_t *s)
{
	json_t *any = json_object_get(s, "anyOf");

	if (any) {
		json_array_append_new(any, of_type("null"));
		return s;
	}
	if (json_object_get(s, "not") || !json_object_size(s))
		return s;
	return json_pack("{s[o{ss}]}", "anyOf", s, "type", "null");
}

static json_t *field_schema(const struct yd_field *f)
{
	json_t *s = value_schema(&f->doc), *def;

	if (!f->with_null)
		s = nullable(s);
	if (f->doc.help)
		json_object_set_new(s, "description", json_string(f->doc.help));
	if (f->doc.def) {
		def = json_loads(f->doc.def, JSON_DECODE_ANY, NULL);
		if (def) /* a table's default that is no JSON: left out */
			json_object_set_new(s, "default", def);
	}
	return s;
}

static json_t *object_schema(const struct yd_field *fields)
{
	json_t *props = json_object(), *req = json_array();
	json_t *o = json_pack("{ss}", "type", "object");

	for (; fields && fields->key; fields++) {
		json_object_set_new(props, fields->key, field_schema(fields));
		if (fields->doc.required)
			json_array_append_new(req, json_string(fields->key));
	}
	json_object_set_new(o, "properties", props);
	json_object_set_new(o, "additionalProperties", json_false());
	if (json_array_size(req))
		json_object_set_new(o, "required", req);
	else
		json_decref(req);
	return o;
}

json_t *schema_build(const char *kind)
{
	const struct yd_field *fields = schema_fields(kind);
	json_t *s, *head;
	size_t i;

	if (!fields)
		return NULL;
	s = object_schema(fields);
	head = json_pack("{ss}", "$schema",
			 "https://json-schema.org/draft/2020-12/schema");
	for (i = 0; i < sizeof(kind_titles) / sizeof(kind_titles[0]); i++)
		if (!strcmp(kind_titles[i].kind, kind))
			json_object_set_new(head, "title",
					    json_string(kind_titles[i].title));
	json_object_update(head, s);
	json_decref(s);
	if (!strcmp(kind, "config")) /* an empty file: every default */
		json_object_set_new(head, "type",
				    json_pack("[ss]", "object", "null"));
	return head;
}
