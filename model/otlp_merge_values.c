/*
 * Copies of attribute values, resources and scopes for the merge builder.
 * Strings are copied into the builder's arena; key_strindex and
 * string_value_strindex are remapped to the merged string table, so a
 * reference keeps pointing at the same text.
 */
#include <string.h>

#include "model/otlp_merge_internal.h"

/* AnyValue nesting deeper than this is refused rather than recursed into. */
#define MERGE_MAX_DEPTH 32

int pg_merge_copy_bytes(pg_arena *a, const ProtobufCBinaryData *in, ProtobufCBinaryData *out)
{
    out->len = in->len;
    out->data = NULL;
    if (!in->len)
        return PG_OK;
    out->data = pg_arena_memdup(a, in->data, in->len);
    return out->data ? PG_OK : PG_ERR_NOMEM;
}

static int64_t copy_kv(pg_merge_ctx *c, const pb_kv *in, pb_kv **out, int depth);

char *pg_merge_dup_str(pg_arena *a, const char *s)
{
    return pg_arena_strdup(a, s ? s : "");
}

static int64_t copy_any_list(pg_merge_ctx *c, const pb_array *in, pb_array **out, int depth)
{
    pb_array *o = NEW_MSG(c->a, pb_array, COMMON_INIT(ARRAY_VALUE));
    if (!o)
        return pg_merge_nomem(c);
    *out = o;
    if (!in || !in->n_values)
        return 0;
    o->values = pg_arena_alloc(c->a, in->n_values * sizeof(*o->values));
    if (!o->values)
        return pg_merge_nomem(c);
    o->n_values = in->n_values;
    for (size_t k = 0; k < in->n_values; k++) {
        int64_t r = pg_merge_copy_any(c, in->values[k], &o->values[k], depth + 1);
        if (r < 0)
            return r;
    }
    return 0;
}

static int64_t copy_kv_list(pg_merge_ctx *c, pb_kv *const *in, size_t n, pb_kv ***out, int depth)
{
    *out = NULL;
    if (!n)
        return 0;
    *out = pg_arena_alloc(c->a, n * sizeof(**out));
    if (!*out)
        return pg_merge_nomem(c);
    for (size_t k = 0; k < n; k++) {
        int64_t r = copy_kv(c, in[k], &(*out)[k], depth);
        if (r < 0)
            return r;
    }
    return 0;
}

int64_t pg_merge_copy_any(pg_merge_ctx *c, const pb_any *in, pb_any **out, int depth)
{
    *out = NULL;
    if (!in)
        return 0;
    if (depth > MERGE_MAX_DEPTH)
        return pg_error_set(c->err, PG_ERR_INVALID, "attribute value nested deeper than %d levels",
                            MERGE_MAX_DEPTH);
    pb_any *o = NEW_MSG(c->a, pb_any, COMMON_INIT(ANY_VALUE));
    if (!o)
        return pg_merge_nomem(c);
    *out = o;
    o->value_case = in->value_case;
    switch (in->value_case) {
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE:
        o->string_value = pg_merge_dup_str(c->a, in->string_value);
        return o->string_value ? 0 : pg_merge_nomem(c);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE:
        o->bool_value = in->bool_value;
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE:
        o->int_value = in->int_value;
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE:
        o->double_value = in->double_value;
        return 0;
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE:
        return copy_any_list(c, in->array_value, &o->array_value, depth);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE: {
        o->kvlist_value = NEW_MSG(c->a, pb_kvlist, COMMON_INIT(KEY_VALUE_LIST));
        if (!o->kvlist_value)
            return pg_merge_nomem(c);
        if (!in->kvlist_value)
            return 0;
        o->kvlist_value->n_values = in->kvlist_value->n_values;
        return copy_kv_list(c, in->kvlist_value->values, in->kvlist_value->n_values,
                            &o->kvlist_value->values, depth + 1);
    }
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE:
        return pg_merge_copy_bytes(c->a, &in->bytes_value, &o->bytes_value) == PG_OK
                   ? 0
                   : pg_merge_nomem(c);
    case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX:
        o->string_value_strindex = in->string_value_strindex;
        REMAP(c, pg_merge_map_str, o->string_value_strindex);
        return 0;
    default:
        o->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET;
        return 0;
    }
}

static int64_t copy_kv(pg_merge_ctx *c, const pb_kv *in, pb_kv **out, int depth)
{
    pb_kv *o = NEW_MSG(c->a, pb_kv, COMMON_INIT(KEY_VALUE));
    if (!o)
        return pg_merge_nomem(c);
    *out = o;
    o->key = pg_merge_dup_str(c->a, in->key);
    if (!o->key)
        return pg_merge_nomem(c);
    o->key_strindex = in->key_strindex;
    REMAP(c, pg_merge_map_str, o->key_strindex);
    return pg_merge_copy_any(c, in->value, &o->value, depth + 1);
}

static char **dup_str_list(pg_arena *a, char *const *in, size_t n)
{
    char **o = pg_arena_alloc(a, (n ? n : 1) * sizeof(*o));
    for (size_t k = 0; o && k < n; k++)
        if (!(o[k] = pg_merge_dup_str(a, in[k])))
            return NULL;
    return o;
}

static int64_t copy_entity_refs(pg_merge_ctx *c, const pb_resource *in, pb_resource *o)
{
    if (!in->n_entity_refs)
        return 0;
    o->entity_refs = pg_arena_alloc(c->a, in->n_entity_refs * sizeof(*o->entity_refs));
    if (!o->entity_refs)
        return pg_merge_nomem(c);
    for (size_t k = 0; k < in->n_entity_refs; k++) {
        const pb_entity_ref *e = in->entity_refs[k];
        pb_entity_ref *oe = NEW_MSG(c->a, pb_entity_ref, COMMON_INIT(ENTITY_REF));
        if (!oe)
            return pg_merge_nomem(c);
        oe->schema_url = pg_merge_dup_str(c->a, e->schema_url);
        oe->type = pg_merge_dup_str(c->a, e->type);
        oe->id_keys = dup_str_list(c->a, e->id_keys, e->n_id_keys);
        oe->description_keys = dup_str_list(c->a, e->description_keys, e->n_description_keys);
        if (!oe->schema_url || !oe->type || !oe->id_keys || !oe->description_keys)
            return pg_merge_nomem(c);
        oe->n_id_keys = e->n_id_keys;
        oe->n_description_keys = e->n_description_keys;
        o->entity_refs[k] = oe;
    }
    o->n_entity_refs = in->n_entity_refs;
    return 0;
}

int64_t pg_merge_copy_resource(pg_merge_ctx *c, const pb_resource *in, pb_resource **out)
{
    *out = NULL;
    if (!in)
        return 0;
    pb_resource *o = NEW_MSG(c->a, pb_resource, OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT);
    if (!o)
        return pg_merge_nomem(c);
    *out = o;
    o->dropped_attributes_count = in->dropped_attributes_count;
    int64_t r = copy_kv_list(c, in->attributes, in->n_attributes, &o->attributes, 0);
    if (r < 0)
        return r;
    o->n_attributes = in->n_attributes;
    return copy_entity_refs(c, in, o);
}

int64_t pg_merge_copy_scope(pg_merge_ctx *c, const pb_scope *in, pb_scope **out)
{
    *out = NULL;
    if (!in)
        return 0;
    pb_scope *o = NEW_MSG(c->a, pb_scope, COMMON_INIT(INSTRUMENTATION_SCOPE));
    if (!o)
        return pg_merge_nomem(c);
    *out = o;
    o->name = pg_merge_dup_str(c->a, in->name);
    o->version = pg_merge_dup_str(c->a, in->version);
    if (!o->name || !o->version)
        return pg_merge_nomem(c);
    o->dropped_attributes_count = in->dropped_attributes_count;
    int64_t r = copy_kv_list(c, in->attributes, in->n_attributes, &o->attributes, 0);
    if (r < 0)
        return r;
    o->n_attributes = in->n_attributes;
    return 0;
}
