/*
 * Per-profile summaries and labels of a validated request, with
 * key_strindex / string_value_strindex resolved through the string table.
 */
#include "model/otlp_types.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const pg_otlp_profile *find_profile(const pg_otlp_request *req, size_t ri, size_t si,
                                           size_t pi)
{
    if (ri >= req->n_resource_profiles || !req->resource_profiles[ri])
        return NULL;
    const pg_otlp_resource_profiles *rp = req->resource_profiles[ri];
    if (si >= rp->n_scope_profiles || !rp->scope_profiles[si])
        return NULL;
    const pg_otlp_scope_profiles *sp = rp->scope_profiles[si];
    return pi < sp->n_profiles ? sp->profiles[pi] : NULL;
}

const char *pg_otlp_kv_key(const pg_otlp_request *req, const pg_otlp_kv *kv)
{
    if (kv->key && *kv->key)
        return kv->key;
    return pg_otlp_string(req, kv->key_strindex);
}

const char *pg_otlp_any_text(pg_arena *a, const pg_otlp_request *req, const pg_otlp_any *v)
{
    if (!v)
        return NULL;
    switch (v->value_case) {
    case PG_ANY(STRING_VALUE):
        return v->string_value ? v->string_value : "";
    case PG_ANY(STRING_VALUE_STRINDEX):
        return pg_otlp_string(req, v->string_value_strindex);
    case PG_ANY(BOOL_VALUE):
        return v->bool_value ? "true" : "false";
    case PG_ANY(INT_VALUE):
        return pg_arena_sprintf(a, "%" PRId64, v->int_value);
    case PG_ANY(DOUBLE_VALUE):
        /* shortest text that reads back as the same double */
        for (int prec = 1; prec <= 17; prec++) {
            char buf[40];
            snprintf(buf, sizeof(buf), "%.*g", prec, v->double_value);
            if (strtod(buf, NULL) == v->double_value || prec == 17)
                return pg_arena_strdup(a, buf);
        }
        return NULL;
    default:
        return NULL;
    }
}

static const char *service_name(const pg_otlp_request *req, const pg_otlp_resource *r)
{
    for (size_t i = 0; r && i < r->n_attributes; i++) {
        const pg_otlp_kv *kv = r->attributes[i];
        const pg_otlp_any *v = kv->value;
        if (strcmp(pg_otlp_kv_key(req, kv), "service.name") != 0 || !v)
            continue;
        if (v->value_case == PG_ANY(STRING_VALUE))
            return v->string_value;
        if (v->value_case == PG_ANY(STRING_VALUE_STRINDEX))
            return pg_otlp_string(req, v->string_value_strindex);
    }
    return "";
}

static const char *value_type_text(const pg_otlp_request *req, const pg_otlp_value_type *vt,
                                   int unit)
{
    if (!vt)
        return "";
    return pg_otlp_string(req, unit ? vt->unit_strindex : vt->type_strindex);
}

static int64_t add_saturating(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

int pg_otlp_view(pg_arena *arena, const pg_otlp_request *req, size_t ri, size_t si, size_t pi,
                 pg_otlp_profile_view *view)
{
    const pg_otlp_profile *p = find_profile(req, ri, si, pi);
    if (!p)
        return PG_ERR_INVALID;
    memset(view, 0, sizeof(*view));
    view->service_name =
        pg_arena_strdup(arena, service_name(req, req->resource_profiles[ri]->resource));
    view->profile_type = pg_arena_sprintf(
        arena, "%s:%s:%s:%s", value_type_text(req, p->sample_type, 0),
        value_type_text(req, p->sample_type, 1), value_type_text(req, p->period_type, 0),
        value_type_text(req, p->period_type, 1));
    if (!view->service_name || !view->profile_type)
        return pg_arena_limit_hit(arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM;
    view->time_unix_nano = p->time_unix_nano;
    view->duration_nano = p->duration_nano;
    view->sample_count = p->n_samples;
    for (size_t i = 0; i < p->n_samples; i++) {
        const pg_otlp_sample *s = p->samples[i];
        if (s->n_values == 0) {
            view->value_total =
                add_saturating(view->value_total, (int64_t)s->n_timestamps_unix_nano);
            continue;
        }
        for (size_t k = 0; k < s->n_values; k++)
            view->value_total = add_saturating(view->value_total, s->values[k]);
    }
    return PG_OK;
}

typedef struct label {
    const char *name, *value;
} label;

/* Labels collected before handing them out, so that a later source can
 * replace the value of an earlier one. */
typedef struct label_set {
    pg_arena *arena;
    label *items;
    size_t n, cap;
} label_set;

const char *pg_otlp_label_name(const char *key)
{
    return strcmp(key, "service.name") == 0 ? "service_name" : key;
}

static int set_label(label_set *ls, const char *key, const char *value)
{
    const char *name = pg_otlp_label_name(key);
    if (!*name || !value || !*value)
        return PG_OK;
    for (size_t i = 0; i < ls->n; i++) {
        if (strcmp(ls->items[i].name, name) == 0) {
            ls->items[i].value = value;
            return PG_OK;
        }
    }
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 16;
        label *items = pg_arena_alloc(ls->arena, cap * sizeof(label));
        if (!items)
            return PG_ERR_NOMEM;
        if (ls->n)
            memcpy(items, ls->items, ls->n * sizeof(label));
        ls->items = items;
        ls->cap = cap;
    }
    ls->items[ls->n++] = (label){name, value};
    return PG_OK;
}

static int add_kvs(label_set *ls, const pg_otlp_request *req, pg_otlp_kv *const *kvs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (set_label(ls, pg_otlp_kv_key(req, kvs[i]),
                      pg_otlp_any_text(ls->arena, req, kvs[i]->value)) < 0)
            return PG_ERR_NOMEM;
    }
    return PG_OK;
}

static int add_profile_attrs(label_set *ls, const pg_otlp_request *req, const pg_otlp_profile *p)
{
    for (size_t i = 0; i < p->n_attribute_indices; i++) {
        const pg_otlp_kvu *a = req->dictionary->attribute_table[p->attribute_indices[i]];
        if (set_label(ls, pg_otlp_string(req, a->key_strindex),
                      pg_otlp_any_text(ls->arena, req, a->value)) < 0)
            return PG_ERR_NOMEM;
    }
    return PG_OK;
}

int pg_otlp_labels(pg_arena *arena, const pg_otlp_request *req, size_t ri, size_t si, size_t pi,
                   int (*add)(void *ctx, const char *name, const char *value), void *ctx)
{
    const pg_otlp_profile *p = find_profile(req, ri, si, pi);
    if (!p)
        return PG_ERR_INVALID;
    const pg_otlp_resource *r = req->resource_profiles[ri]->resource;
    const pg_otlp_scope *scope = req->resource_profiles[ri]->scope_profiles[si]->scope;
    label_set ls = {arena, NULL, 0, 0};
    if ((r && add_kvs(&ls, req, r->attributes, r->n_attributes) < 0) ||
        (scope && add_kvs(&ls, req, scope->attributes, scope->n_attributes) < 0) ||
        (req->dictionary && add_profile_attrs(&ls, req, p) < 0))
        return pg_arena_limit_hit(arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM;
    for (size_t i = 0; i < ls.n; i++) {
        char *name = pg_arena_strdup(arena, ls.items[i].name);
        char *value = pg_arena_strdup(arena, ls.items[i].value);
        if (!name || !value)
            return pg_arena_limit_hit(arena) ? PG_ERR_LIMIT : PG_ERR_NOMEM;
        int rc = add(ctx, name, value);
        if (rc != 0)
            return rc;
    }
    return PG_OK;
}
