/*
 * Structural validation of a decoded request: every index inside its table,
 * every string valid UTF-8, values/timestamps paired. One pass, no
 * allocation: the path of a field is kept as a chain of stack frames and
 * rendered only when something is wrong.
 */
#include "model/otlp_types.h"

#include <stdio.h>
#include <string.h>

typedef struct vpath {
    const struct vpath *up;
    const char *name;
    long index; /* -1: not an array element */
} vpath;

typedef struct vctx {
    size_t n_map, n_loc, n_fun, n_str, n_attr, n_stack, n_link;
    pg_error *err;
} vctx;

#define SEG(up, name, idx) ((vpath){(up), (name), (long)(idx)})

static size_t render(const vpath *p, char *out, size_t cap)
{
    size_t n = p->up ? render(p->up, out, cap) : 0;
    int k = snprintf(out + n, cap - n, "%s%s", n ? "." : "", p->name);
    n = k < 0 || (size_t)k >= cap - n ? cap - 1 : n + (size_t)k;
    if (p->index >= 0) {
        k = snprintf(out + n, cap - n, "[%ld]", p->index);
        n = k < 0 || (size_t)k >= cap - n ? cap - 1 : n + (size_t)k;
    }
    return n;
}

static int fail(vctx *c, const vpath *p, const char *what)
{
    char path[PG_ERROR_MSG_MAX / 2];
    render(p, path, sizeof(path));
    return pg_error_set(c->err, PG_ERR_INVALID, "%s %s", path, what);
}

static int check_index(vctx *c, const vpath *p, int32_t v, size_t n, const char *table)
{
    if (v >= 0 && (size_t)v < n)
        return 0;
    char what[128];
    snprintf(what, sizeof(what), "%d out of range (%s has %zu entries)", v, table, n);
    return fail(c, p, what);
}

static int check_field(vctx *c, const vpath *up, const char *name, int32_t v, size_t n,
                       const char *table)
{
    if (v >= 0 && (size_t)v < n)
        return 0;
    vpath p = SEG(up, name, -1);
    return check_index(c, &p, v, n, table);
}

static int check_list(vctx *c, const vpath *up, const char *name, const int32_t *v, size_t count,
                      size_t n, const char *table)
{
    for (size_t i = 0; i < count; i++) {
        if (v[i] < 0 || (size_t)v[i] >= n) {
            vpath p = SEG(up, name, i);
            return check_index(c, &p, v[i], n, table);
        }
    }
    return 0;
}

static int check_utf8(vctx *c, const vpath *up, const char *name, long idx, const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s), bad = pg_utf8_invalid_at((const uint8_t *)s, n);
    if (bad == n)
        return 0;
    vpath p = SEG(up, name, idx);
    char what[64];
    snprintf(what, sizeof(what), "is not valid UTF-8 (byte %zu)", bad);
    return fail(c, &p, what);
}

static int check_kv(vctx *c, const vpath *p, const pg_otlp_kv *kv, int depth);

static int check_any(vctx *c, const vpath *p, const pg_otlp_any *v, int depth)
{
    if (!v)
        return 0;
    if (depth > PG_OTLP_MAX_VALUE_DEPTH)
        return fail(c, p, "nests values too deeply");
    switch (v->value_case) {
    case PG_ANY(STRING_VALUE):
        return check_utf8(c, p, "string_value", -1, v->string_value);
    case PG_ANY(STRING_VALUE_STRINDEX):
        return check_field(c, p, "string_value_strindex", v->string_value_strindex, c->n_str,
                           "string_table");
    case PG_ANY(ARRAY_VALUE):
        for (size_t i = 0; v->array_value && i < v->array_value->n_values; i++) {
            vpath e = SEG(p, "array_value.values", i);
            if (check_any(c, &e, v->array_value->values[i], depth + 1) < 0)
                return -1;
        }
        return 0;
    case PG_ANY(KVLIST_VALUE):
        for (size_t i = 0; v->kvlist_value && i < v->kvlist_value->n_values; i++) {
            vpath e = SEG(p, "kvlist_value.values", i);
            if (check_kv(c, &e, v->kvlist_value->values[i], depth + 1) < 0)
                return -1;
        }
        return 0;
    default:
        return 0;
    }
}

static int check_kv(vctx *c, const vpath *p, const pg_otlp_kv *kv, int depth)
{
    if (!kv)
        return fail(c, p, "is null");
    if (check_utf8(c, p, "key", -1, kv->key) < 0)
        return -1;
    /* 0 means "not set" here: the inline key is used instead */
    if (kv->key_strindex &&
        check_field(c, p, "key_strindex", kv->key_strindex, c->n_str, "string_table") < 0)
        return -1;
    vpath v = SEG(p, "value", -1);
    return check_any(c, &v, kv->value, depth);
}

static int check_attrs(vctx *c, const vpath *up, const char *name, pg_otlp_kv *const *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vpath p = SEG(up, name, i);
        if (check_kv(c, &p, kvs[i], 1) < 0)
            return -1;
    }
    return 0;
}

static int check_value_type(vctx *c, const vpath *up, const char *name,
                            const pg_otlp_value_type *vt)
{
    if (!vt)
        return 0;
    vpath p = SEG(up, name, -1);
    if (check_field(c, &p, "type_strindex", vt->type_strindex, c->n_str, "string_table") < 0)
        return -1;
    return check_field(c, &p, "unit_strindex", vt->unit_strindex, c->n_str, "string_table");
}

static int check_sample(vctx *c, const vpath *p, const pg_otlp_sample *s)
{
    if (!s)
        return fail(c, p, "is null");
    if (check_field(c, p, "stack_index", s->stack_index, c->n_stack, "stack_table") < 0 ||
        check_list(c, p, "attribute_indices", s->attribute_indices, s->n_attribute_indices,
                   c->n_attr, "attribute_table") < 0 ||
        check_field(c, p, "link_index", s->link_index, c->n_link, "link_table") < 0)
        return -1;
    if (s->n_values && s->n_timestamps_unix_nano && s->n_values != s->n_timestamps_unix_nano) {
        char what[128];
        snprintf(what, sizeof(what), "has %zu values but %zu timestamps_unix_nano", s->n_values,
                 s->n_timestamps_unix_nano);
        return fail(c, p, what);
    }
    return 0;
}

static int check_profile(vctx *c, const vpath *p, const pg_otlp_profile *pr)
{
    if (!pr)
        return fail(c, p, "is null");
    if (check_value_type(c, p, "sample_type", pr->sample_type) < 0 ||
        check_value_type(c, p, "period_type", pr->period_type) < 0 ||
        check_list(c, p, "attribute_indices", pr->attribute_indices, pr->n_attribute_indices,
                   c->n_attr, "attribute_table") < 0 ||
        check_utf8(c, p, "original_payload_format", -1, pr->original_payload_format) < 0)
        return -1;
    for (size_t i = 0; i < pr->n_samples; i++) {
        vpath s = SEG(p, "samples", i);
        if (check_sample(c, &s, pr->samples[i]) < 0)
            return -1;
    }
    return 0;
}

static int check_scope(vctx *c, const vpath *p, const pg_otlp_scope_profiles *sp)
{
    if (!sp)
        return fail(c, p, "is null");
    if (check_utf8(c, p, "schema_url", -1, sp->schema_url) < 0)
        return -1;
    if (sp->scope) {
        vpath s = SEG(p, "scope", -1);
        if (check_utf8(c, &s, "name", -1, sp->scope->name) < 0 ||
            check_utf8(c, &s, "version", -1, sp->scope->version) < 0 ||
            check_attrs(c, &s, "attributes", sp->scope->attributes, sp->scope->n_attributes) < 0)
            return -1;
    }
    for (size_t i = 0; i < sp->n_profiles; i++) {
        vpath pp = SEG(p, "profiles", i);
        if (check_profile(c, &pp, sp->profiles[i]) < 0)
            return -1;
    }
    return 0;
}

static int check_resource(vctx *c, const vpath *p, const pg_otlp_resource *r)
{
    if (!r)
        return 0;
    if (check_attrs(c, p, "attributes", r->attributes, r->n_attributes) < 0)
        return -1;
    for (size_t i = 0; i < r->n_entity_refs; i++) {
        const pg_otlp_entity_ref *e = r->entity_refs[i];
        vpath ep = SEG(p, "entity_refs", i);
        if (!e)
            return fail(c, &ep, "is null");
        if (check_utf8(c, &ep, "schema_url", -1, e->schema_url) < 0 ||
            check_utf8(c, &ep, "type", -1, e->type) < 0)
            return -1;
        for (size_t k = 0; k < e->n_id_keys; k++) {
            if (check_utf8(c, &ep, "id_keys", (long)k, e->id_keys[k]) < 0)
                return -1;
        }
        for (size_t k = 0; k < e->n_description_keys; k++) {
            if (check_utf8(c, &ep, "description_keys", (long)k, e->description_keys[k]) < 0)
                return -1;
        }
    }
    return 0;
}

static int check_resource_profiles(vctx *c, const vpath *p, const pg_otlp_resource_profiles *rp)
{
    if (!rp)
        return fail(c, p, "is null");
    vpath r = SEG(p, "resource", -1);
    if (check_utf8(c, p, "schema_url", -1, rp->schema_url) < 0 ||
        check_resource(c, &r, rp->resource) < 0)
        return -1;
    for (size_t i = 0; i < rp->n_scope_profiles; i++) {
        vpath s = SEG(p, "scope_profiles", i);
        if (check_scope(c, &s, rp->scope_profiles[i]) < 0)
            return -1;
    }
    return 0;
}

static int check_locations(vctx *c, const vpath *dp, const pg_otlp_dictionary *d)
{
    for (size_t i = 0; i < d->n_location_table; i++) {
        const pg_otlp_location *l = d->location_table[i];
        vpath p = SEG(dp, "location_table", i);
        if (!l)
            return fail(c, &p, "is null");
        if (check_field(c, &p, "mapping_index", l->mapping_index, c->n_map, "mapping_table") < 0 ||
            check_list(c, &p, "attribute_indices", l->attribute_indices, l->n_attribute_indices,
                       c->n_attr, "attribute_table") < 0)
            return -1;
        for (size_t k = 0; k < l->n_lines; k++) {
            vpath lp = SEG(&p, "lines", k);
            if (!l->lines[k])
                return fail(c, &lp, "is null");
            if (check_field(c, &lp, "function_index", l->lines[k]->function_index, c->n_fun,
                            "function_table") < 0)
                return -1;
        }
    }
    return 0;
}

static int check_functions_mappings(vctx *c, const vpath *dp, const pg_otlp_dictionary *d)
{
    for (size_t i = 0; i < d->n_function_table; i++) {
        const pg_otlp_function *f = d->function_table[i];
        vpath p = SEG(dp, "function_table", i);
        if (!f)
            return fail(c, &p, "is null");
        if (check_field(c, &p, "name_strindex", f->name_strindex, c->n_str, "string_table") < 0 ||
            check_field(c, &p, "system_name_strindex", f->system_name_strindex, c->n_str,
                        "string_table") < 0 ||
            check_field(c, &p, "filename_strindex", f->filename_strindex, c->n_str,
                        "string_table") < 0)
            return -1;
    }
    for (size_t i = 0; i < d->n_mapping_table; i++) {
        const pg_otlp_mapping *m = d->mapping_table[i];
        vpath p = SEG(dp, "mapping_table", i);
        if (!m)
            return fail(c, &p, "is null");
        if (check_field(c, &p, "filename_strindex", m->filename_strindex, c->n_str,
                        "string_table") < 0 ||
            check_list(c, &p, "attribute_indices", m->attribute_indices, m->n_attribute_indices,
                       c->n_attr, "attribute_table") < 0)
            return -1;
    }
    return 0;
}

static int check_dictionary(vctx *c, const pg_otlp_dictionary *d)
{
    vpath dp = SEG(NULL, "dictionary", -1);
    for (size_t i = 0; i < d->n_string_table; i++) {
        if (check_utf8(c, &dp, "string_table", (long)i, d->string_table[i]) < 0)
            return -1;
    }
    for (size_t i = 0; i < d->n_link_table; i++) {
        if (!d->link_table[i]) {
            vpath p = SEG(&dp, "link_table", i);
            return fail(c, &p, "is null");
        }
    }
    for (size_t i = 0; i < d->n_attribute_table; i++) {
        const pg_otlp_kvu *a = d->attribute_table[i];
        vpath p = SEG(&dp, "attribute_table", i);
        vpath v = SEG(&p, "value", -1);
        if (!a)
            return fail(c, &p, "is null");
        if (check_field(c, &p, "key_strindex", a->key_strindex, c->n_str, "string_table") < 0 ||
            check_field(c, &p, "unit_strindex", a->unit_strindex, c->n_str, "string_table") < 0 ||
            check_any(c, &v, a->value, 1) < 0)
            return -1;
    }
    for (size_t i = 0; i < d->n_stack_table; i++) {
        const pg_otlp_stack *s = d->stack_table[i];
        vpath p = SEG(&dp, "stack_table", i);
        if (!s)
            return fail(c, &p, "is null");
        if (check_list(c, &p, "location_indices", s->location_indices, s->n_location_indices,
                       c->n_loc, "location_table") < 0)
            return -1;
    }
    if (check_locations(c, &dp, d) < 0)
        return -1;
    return check_functions_mappings(c, &dp, d);
}

int pg_otlp_validate(const pg_otlp_request *req, pg_error *err)
{
    const pg_otlp_dictionary *d = req->dictionary;
    vctx c = {0};
    c.err = err;
    if (d) {
        c.n_map = d->n_mapping_table;
        c.n_loc = d->n_location_table;
        c.n_fun = d->n_function_table;
        c.n_str = d->n_string_table;
        c.n_attr = d->n_attribute_table;
        c.n_stack = d->n_stack_table;
        c.n_link = d->n_link_table;
        if (check_dictionary(&c, d) < 0)
            return PG_ERR_INVALID;
    } else if (pg_otlp_profile_count(req) > 0) {
        return pg_error_set(err, PG_ERR_INVALID,
                            "dictionary missing: the request has %zu profiles whose indices "
                            "refer to it",
                            pg_otlp_profile_count(req));
    }
    for (size_t i = 0; i < req->n_resource_profiles; i++) {
        vpath p = SEG(NULL, "resource_profiles", i);
        if (check_resource_profiles(&c, &p, req->resource_profiles[i]) < 0)
            return PG_ERR_INVALID;
    }
    return PG_OK;
}
