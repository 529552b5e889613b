/*
 * A profile re-dressed with the labels a processor gave it: attributes that
 * still agree with the labels stay as they were, the rest go, and labels
 * nothing carries any more become resource attributes.
 */
#include <string.h>

#include "model/otlp_types.h"

static const pg_otlp_kv kv_init = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
static const pg_otlp_any any_init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
static const pg_otlp_resource resource_init = OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;

typedef struct relabel_ctx {
    pg_arena *a;
    const pg_otlp_request *req;
    const pg_otlp_label *labels;
    size_t n;
    uint8_t *given; /* per label: some kept attribute gives it */
} relabel_ctx;

static const pg_otlp_label *find_label(const relabel_ctx *c, const char *name, size_t *at)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->labels[i].name, name) == 0) {
            *at = i;
            return &c->labels[i];
        }
    return NULL;
}

/* 1 when an attribute may stay: it gives no label, or the label it gives has
 * the value it renders to. */
static int keep_attr(relabel_ctx *c, const char *key, const pg_otlp_any *v)
{
    const char *text = pg_otlp_any_text(c->a, c->req, v);
    const char *name = pg_otlp_label_name(key);
    if (!*name || !text || !*text)
        return 1;
    size_t at;
    const pg_otlp_label *l = find_label(c, name, &at);
    if (!l || strcmp(l->value, text) != 0)
        return 0;
    c->given[at] = 1;
    return 1;
}

static int filter_kvs(relabel_ctx *c, pg_otlp_kv *const *in, size_t n, size_t extra,
                      pg_otlp_kv ***out, size_t *n_out)
{
    pg_otlp_kv **kept = pg_arena_alloc(c->a, (n + extra + 1) * sizeof(*kept));
    if (!kept)
        return PG_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (keep_attr(c, pg_otlp_kv_key(c->req, in[i]), in[i]->value))
            kept[k++] = in[i];
    *out = kept;
    *n_out = k;
    return PG_OK;
}

static int filter_profile_attrs(relabel_ctx *c, pg_otlp_profile *p)
{
    int32_t *kept = pg_arena_alloc(c->a, (p->n_attribute_indices + 1) * sizeof(*kept));
    if (!kept)
        return PG_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < p->n_attribute_indices; i++) {
        const pg_otlp_kvu *a = c->req->dictionary->attribute_table[p->attribute_indices[i]];
        if (keep_attr(c, pg_otlp_string(c->req, a->key_strindex), a->value))
            kept[k++] = p->attribute_indices[i];
    }
    p->attribute_indices = kept;
    p->n_attribute_indices = k;
    return PG_OK;
}

/* Labels no kept attribute gives, appended to the resource as strings. */
static int add_missing(relabel_ctx *c, pg_otlp_resource *r)
{
    for (size_t i = 0; i < c->n; i++) {
        const pg_otlp_label *l = &c->labels[i];
        if (c->given[i] || strncmp(l->name, "__", 2) == 0 || !*l->value)
            continue;
        pg_otlp_kv *kv = pg_arena_alloc(c->a, sizeof(*kv));
        pg_otlp_any *v = pg_arena_alloc(c->a, sizeof(*v));
        if (!kv || !v)
            return PG_ERR_NOMEM;
        *kv = kv_init;
        *v = any_init;
        kv->key = (char *)(strcmp(l->name, "service_name") == 0 ? "service.name" : l->name);
        v->value_case = PG_ANY(STRING_VALUE);
        v->string_value = (char *)l->value;
        kv->value = v;
        r->attributes[r->n_attributes++] = kv;
    }
    return PG_OK;
}

int pg_otlp_with_labels(pg_arena *arena, const pg_otlp_request *req, size_t ri, size_t si,
                        size_t pi, const pg_otlp_label *labels, size_t n_labels,
                        pg_otlp_request **out, pg_error *err)
{
    if (ri >= req->n_resource_profiles || si >= req->resource_profiles[ri]->n_scope_profiles ||
        pi >= req->resource_profiles[ri]->scope_profiles[si]->n_profiles)
        return pg_error_set(err, PG_ERR_INVALID, "no profile at resource %zu scope %zu index %zu",
                            ri, si, pi);
    relabel_ctx c = {arena, req, labels, n_labels, pg_arena_calloc(arena, n_labels + 1, 1)};
    const pg_otlp_resource_profiles *rp_in = req->resource_profiles[ri];
    const pg_otlp_scope_profiles *sp_in = rp_in->scope_profiles[si];
    pg_otlp_request *r = pg_arena_alloc(arena, sizeof(*r));
    pg_otlp_resource_profiles *rp = pg_arena_alloc(arena, sizeof(*rp));
    pg_otlp_scope_profiles *sp = pg_arena_alloc(arena, sizeof(*sp));
    pg_otlp_profile *p = pg_arena_alloc(arena, sizeof(*p));
    pg_otlp_resource *res = pg_arena_alloc(arena, sizeof(*res));
    pg_otlp_resource_profiles **rps = pg_arena_alloc(arena, sizeof(*rps));
    pg_otlp_scope_profiles **sps = pg_arena_alloc(arena, sizeof(*sps));
    pg_otlp_profile **ps = pg_arena_alloc(arena, sizeof(*ps));
    pg_otlp_scope *scope = sp_in->scope ? pg_arena_alloc(arena, sizeof(*scope)) : NULL;
    if (!c.given || !r || !rp || !sp || !p || !res || !rps || !sps || !ps ||
        (sp_in->scope && !scope))
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    *r = *req;
    *rp = *rp_in;
    *sp = *sp_in;
    *p = *sp_in->profiles[pi];
    *res = rp_in->resource ? *rp_in->resource : resource_init;
    int rc = filter_kvs(&c, res->attributes, res->n_attributes, n_labels, &res->attributes,
                        &res->n_attributes);
    if (rc == PG_OK && scope) {
        *scope = *sp_in->scope;
        rc = filter_kvs(&c, scope->attributes, scope->n_attributes, 0, &scope->attributes,
                        &scope->n_attributes);
    }
    if (rc == PG_OK && req->dictionary)
        rc = filter_profile_attrs(&c, p);
    if (rc == PG_OK)
        rc = add_missing(&c, res);
    if (rc != PG_OK)
        return pg_error_set(err, rc, "out of memory");
    ps[0] = p;
    sp->profiles = ps;
    sp->n_profiles = 1;
    sp->scope = scope;
    sps[0] = sp;
    rp->scope_profiles = sps;
    rp->n_scope_profiles = 1;
    rp->resource = res;
    rps[0] = rp;
    r->resource_profiles = rps;
    r->n_resource_profiles = 1;
    *out = r;
    return PG_OK;
}
