/*
 * pprof -> OTLP: one document becomes one ResourceProfiles holding one
 * ScopeProfiles with one Profile per sample type (see convert/convert.h for
 * the mapping). Samples are walked once: each one's stack and attribute list
 * are interned once and shared by the Profile of every sample type.
 */
#include "convert/convert_internal.h"

#include <string.h>

typedef Opentelemetry__Proto__Profiles__V1development__ResourceProfiles p2o_rp;
typedef Opentelemetry__Proto__Profiles__V1development__ScopeProfiles p2o_sp;
typedef Opentelemetry__Proto__Common__V1__ArrayValue p2o_array;

static const pg_otlp_sample sample_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__SAMPLE__INIT;
static const pg_otlp_profile profile_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__PROFILE__INIT;
static const pg_otlp_value_type vt_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__VALUE_TYPE__INIT;
static const pg_otlp_kv kv_init = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE__INIT;
static const pg_otlp_any any_init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;

static int value_type(p2o_ctx *c, const pg_pprof_value_type *in, pg_otlp_value_type *out)
{
    *out = vt_init;
    int64_t type = p2o_sid(c, in->type, "value_type.type");
    int64_t unit = p2o_sid(c, in->unit, "value_type.unit");
    if (type < 0 || unit < 0)
        return c->err->code;
    out->type_strindex = p2o_strindex(c, (uint32_t)type);
    out->unit_strindex = p2o_strindex(c, (uint32_t)unit);
    if (out->type_strindex < 0 || out->unit_strindex < 0)
        return c->err->code;
    return PG_OK;
}

/* Fills the samples of every profile; profiles[t] already exists. */
static int samples(p2o_ctx *c, pg_otlp_profile **profiles)
{
    const pg_pprof *p = c->p;
    size_t nt = p->n_sample_type, ns = p->n_sample;
    if (!nt || !ns)
        return PG_OK;
    if (ns > SIZE_MAX / nt / sizeof(pg_otlp_sample))
        return pg_error_set(c->err, PG_ERR_LIMIT, "pprof to OTLP: too many samples");
    pg_otlp_sample *out = pg_arena_alloc(c->a, nt * ns * sizeof(*out));
    pg_otlp_sample **ptrs = pg_arena_alloc(c->a, nt * ns * sizeof(*ptrs));
    int64_t *values = pg_arena_alloc(c->a, nt * ns * sizeof(*values));
    if (!out || !ptrs || !values)
        return p2o_nomem(c);
    for (size_t i = 0; i < ns; i++) {
        const pg_pprof_sample *s = p->sample[i];
        if (s->n_value != nt)
            return pg_error_set(c->err, PG_ERR_INVALID,
                                "sample[%zu] has %zu value(s) but there are %zu sample types", i,
                                s->n_value, nt);
        int32_t stack = p2o_stack(c, s, i), *attrs;
        size_t n_attrs;
        if (stack < 0 || p2o_sample_attrs(c, s, i, &attrs, &n_attrs) != PG_OK)
            return c->err->code;
        for (size_t t = 0; t < nt; t++) {
            size_t k = t * ns + i;
            pg_otlp_sample *o = &out[k];
            *o = sample_init;
            o->stack_index = stack;
            o->n_attribute_indices = n_attrs;
            o->attribute_indices = attrs;
            values[k] = s->value[t];
            o->n_values = 1;
            o->values = &values[k];
            ptrs[k] = o;
        }
    }
    for (size_t t = 0; t < nt; t++) {
        profiles[t]->n_samples = ns;
        profiles[t]->samples = ptrs + t * ns;
    }
    return PG_OK;
}

/* Adds a string-valued profile attribute keyed by a new string. */
static int string_attr(p2o_ctx *c, const char *key, int64_t value, int32_t *list, size_t *n)
{
    int64_t k = p2o_sid_literal(c, key), v = p2o_sid(c, value, key);
    if (k < 0 || v < 0)
        return c->err->code;
    p2o_attr_key ak = {(uint32_t)k, 0, {P2O_STR, v}, NULL};
    if ((list[*n] = p2o_attr(c, &ak)) < 0)
        return c->err->code;
    (*n)++;
    return PG_OK;
}

/* The document-wide attributes plus those opt gives for sample type t. */
static int type_attrs(p2o_ctx *c, const pg_pprof_to_otlp_options *opt, size_t t, int32_t *common,
                      size_t n_common, int32_t **out, size_t *n)
{
    *out = common;
    *n = n_common;
    const char *name = c->p->string_table[c->p->sample_type[t]->type]; /* validated */
    size_t extra = 0;
    for (size_t i = 0; i < opt->n_type_attrs; i++)
        extra += strcmp(opt->type_attrs[i].sample_type, name) == 0;
    if (!extra)
        return PG_OK;
    int32_t *list = pg_arena_alloc(c->a, (n_common + extra) * sizeof(*list));
    if (!list)
        return p2o_nomem(c);
    if (n_common)
        memcpy(list, common, n_common * sizeof(*list));
    size_t k = n_common;
    for (size_t i = 0; i < opt->n_type_attrs; i++) {
        const pg_convert_type_attr *ta = &opt->type_attrs[i];
        if (strcmp(ta->sample_type, name) != 0)
            continue;
        /* the strings must outlive the output: copy them into its arena */
        char *ks = pg_arena_strdup(c->a, ta->key), *vs = pg_arena_strdup(c->a, ta->value);
        if (!ks || !vs)
            return p2o_nomem(c);
        int64_t key = p2o_sid_literal(c, ks), val = p2o_sid_literal(c, vs);
        if (key < 0 || val < 0)
            return c->err->code;
        p2o_attr_key ak = {(uint32_t)key, 0, {P2O_STR, val}, NULL};
        if ((list[k] = p2o_attr(c, &ak)) < 0)
            return c->err->code;
        k++;
    }
    *out = list;
    *n = k;
    return PG_OK;
}

static int profile_attrs(p2o_ctx *c, int32_t **out, size_t *n)
{
    const pg_pprof *p = c->p;
    int32_t *list = pg_arena_alloc(c->a, (p->n_comment + 3) * sizeof(*list));
    if (!list)
        return p2o_nomem(c);
    *n = 0;
    int rc = PG_OK;
    if (p->drop_frames)
        rc = string_attr(c, PG_ATTR_DROP_FRAMES, p->drop_frames, list, n);
    if (rc == PG_OK && p->keep_frames)
        rc = string_attr(c, PG_ATTR_KEEP_FRAMES, p->keep_frames, list, n);
    if (rc == PG_OK && p->doc_url)
        rc = string_attr(c, PG_ATTR_DOC_URL, p->doc_url, list, n);
    for (size_t i = 0; rc == PG_OK && i < p->n_comment; i++) {
        char *key = pg_arena_sprintf(c->a, "%s%zu", PG_ATTR_COMMENT_PREFIX, i);
        rc = key ? string_attr(c, key, p->comment[i], list, n) : p2o_nomem(c);
    }
    *out = *n ? list : NULL;
    return rc;
}

static pg_otlp_kv *string_kv(p2o_ctx *c, const char *key, char *value)
{
    struct {
        pg_otlp_kv kv;
        pg_otlp_any v;
    } *e = pg_arena_alloc(c->a, sizeof(*e));
    if (!e)
        return NULL;
    e->kv = kv_init;
    e->kv.key = (char *)key;
    e->v = any_init;
    e->v.value_case = PG_ANY(STRING_VALUE);
    e->v.string_value = value;
    e->kv.value = &e->v;
    return &e->kv;
}

static int scope(p2o_ctx *c, pg_otlp_scope *sc)
{
    const pg_pprof *p = c->p;
    size_t nt = p->n_sample_type;
    pg_otlp_kv **attrs = pg_arena_alloc(c->a, 2 * sizeof(*attrs));
    pg_otlp_any *types = pg_arena_alloc(c->a, (nt + 1) * sizeof(*types));
    pg_otlp_any **type_ptrs = pg_arena_alloc(c->a, (nt + 1) * sizeof(*type_ptrs));
    p2o_array *array = pg_arena_alloc(c->a, sizeof(*array));
    pg_otlp_kv *order = string_kv(c, PG_ATTR_SAMPLE_TYPE_ORDER, NULL);
    if (!attrs || !types || !type_ptrs || !array || !order)
        return p2o_nomem(c);
    for (size_t t = 0; t < nt; t++) {
        int64_t sid = p2o_sid(c, p->sample_type[t]->type, "sample_type.type");
        if (sid < 0)
            return c->err->code;
        types[t] = any_init;
        types[t].value_case = PG_ANY(STRING_VALUE);
        if (!(types[t].string_value = p2o_strcopy(c, (uint32_t)sid)))
            return p2o_nomem(c);
        type_ptrs[t] = &types[t];
    }
    *array = (p2o_array)OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;
    array->n_values = nt;
    array->values = nt ? type_ptrs : NULL;
    order->value->value_case = PG_ANY(ARRAY_VALUE);
    order->value->array_value = array;
    attrs[0] = order;
    sc->n_attributes = 1;
    if (p->default_sample_type) {
        int64_t sid = p2o_sid(c, p->default_sample_type, "default_sample_type");
        char *v = sid < 0 ? NULL : p2o_strcopy(c, (uint32_t)sid);
        if (!v || !(attrs[1] = string_kv(c, PG_ATTR_DEFAULT_SAMPLE_TYPE, v)))
            return sid < 0 ? c->err->code : p2o_nomem(c);
        sc->n_attributes = 2;
    }
    sc->attributes = attrs;
    return PG_OK;
}

static int utf8_ok(const char *s)
{
    size_t n = strlen(s);
    return pg_cv_utf8_invalid_at(s, n) == n;
}

/* Adds key=value, replacing an earlier value of the same key. */
static int put_kv(p2o_ctx *c, pg_otlp_kv **list, size_t *n, const char *key, const char *value)
{
    if (!key || !value || !utf8_ok(key) || !utf8_ok(value))
        return pg_error_set(c->err, PG_ERR_INVALID,
                            "resource attribute \"%s\" is missing or not valid UTF-8",
                            key && utf8_ok(key) ? key : "?");
    char *v = pg_arena_strdup(c->a, value);
    if (!v)
        return p2o_nomem(c);
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(list[i]->key, key) == 0) {
            list[i]->value->string_value = v;
            return PG_OK;
        }
    }
    char *k = pg_arena_strdup(c->a, key);
    if (!k || !(list[*n] = string_kv(c, k, v)))
        return p2o_nomem(c);
    (*n)++;
    return PG_OK;
}

static int resource(p2o_ctx *c, const pg_pprof_to_otlp_options *opt, pg_otlp_resource *r)
{
    pg_otlp_kv **list = pg_arena_alloc(c->a, (opt->n_resource_attrs + 1) * sizeof(*list));
    if (!list)
        return p2o_nomem(c);
    size_t n = 0;
    int rc = PG_OK;
    if (opt->service_name && opt->service_name[0])
        rc = put_kv(c, list, &n, "service.name", opt->service_name);
    for (size_t i = 0; rc == PG_OK && i < opt->n_resource_attrs; i++)
        rc = put_kv(c, list, &n, opt->resource_attrs[i].key, opt->resource_attrs[i].value);
    r->n_attributes = n;
    r->attributes = n ? list : NULL;
    return rc;
}

static int profiles(p2o_ctx *c, const pg_pprof_to_otlp_options *opt, p2o_sp *sp)
{
    const pg_pprof *p = c->p;
    size_t nt = p->n_sample_type;
    pg_otlp_profile *ps = pg_arena_alloc(c->a, (nt + 1) * sizeof(*ps));
    pg_otlp_profile **ptrs = pg_arena_alloc(c->a, (nt + 1) * sizeof(*ptrs));
    pg_otlp_value_type *types = pg_arena_alloc(c->a, (nt + 2) * sizeof(*types));
    if (!ps || !ptrs || !types)
        return p2o_nomem(c);
    pg_otlp_value_type *period = NULL;
    if (p->period_type) {
        period = &types[nt];
        if (value_type(c, p->period_type, period) != PG_OK)
            return c->err->code;
    }
    int32_t *attrs = NULL;
    size_t n_attrs = 0;
    if (profile_attrs(c, &attrs, &n_attrs) != PG_OK)
        return c->err->code;
    for (size_t t = 0; t < nt; t++) {
        pg_otlp_profile *o = &ps[t];
        *o = profile_init;
        if (value_type(c, p->sample_type[t], &types[t]) != PG_OK)
            return c->err->code;
        o->sample_type = &types[t];
        o->time_unix_nano = (uint64_t)p->time_nanos;
        o->duration_nano = (uint64_t)p->duration_nanos;
        o->period_type = period;
        o->period = p->period;
        if (type_attrs(c, opt, t, attrs, n_attrs, &o->attribute_indices, &o->n_attribute_indices) !=
            PG_OK)
            return c->err->code;
        ptrs[t] = o;
    }
    if (nt && opt->original_payload) {
        ps[0].original_payload_format = "pprof";
        ps[0].original_payload.len = opt->original_payload_len;
        ps[0].original_payload.data =
            pg_arena_memdup(c->a, opt->original_payload, opt->original_payload_len);
        if (!ps[0].original_payload.data)
            return p2o_nomem(c);
    }
    if (samples(c, ptrs) != PG_OK)
        return c->err->code;
    sp->n_profiles = nt;
    sp->profiles = nt ? ptrs : NULL;
    return PG_OK;
}

static int prepare(p2o_ctx *c)
{
    const pg_pprof *p = c->p;
    int rc = p2o_strings_init(c, 16 + p->n_comment);
    if (rc != PG_OK)
        return rc;
    static const char *const has[4] = {PG_ATTR_HAS_FUNCTIONS, PG_ATTR_HAS_FILENAMES,
                                       PG_ATTR_HAS_LINE_NUMBERS, PG_ATTR_HAS_INLINE_FRAMES};
    int64_t sids[6] = {
        p2o_sid_literal(c, PG_ATTR_BUILD_ID), p2o_sid_literal(c, has[0]),
        p2o_sid_literal(c, has[1]),           p2o_sid_literal(c, has[2]),
        p2o_sid_literal(c, has[3]),           p2o_sid_literal(c, PG_ATTR_IS_FOLDED),
    };
    for (int i = 0; i < 6; i++) {
        if (sids[i] < 0)
            return c->err->code;
    }
    c->k_build_id = (uint32_t)sids[0];
    for (int i = 0; i < 4; i++)
        c->k_has[i] = (uint32_t)sids[1 + i];
    c->k_folded = (uint32_t)sids[5];
    /* distinct attributes are few: a guess that avoids most regrowth */
    rc = p2o_attrs_init(c, 16 + p->n_mapping * 2 + p->n_comment + p->n_sample / 8);
    if (rc == PG_OK)
        rc = p2o_tables(c);
    if (rc == PG_OK)
        rc = p2o_stacks_init(c);
    return rc;
}

static pg_otlp_request *assemble(p2o_ctx *c, p2o_rp *rp)
{
    static const pg_otlp_link link_init = OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LINK__INIT;
    pg_otlp_dictionary *d = c->dict;
    pg_otlp_link *zero = pg_arena_memdup(c->a, &link_init, sizeof(link_init));
    pg_otlp_link **links = pg_arena_alloc(c->a, sizeof(*links));
    pg_otlp_request *req = pg_arena_alloc(c->a, sizeof(*req));
    p2o_rp **rps = pg_arena_alloc(c->a, sizeof(*rps));
    if (!zero || !links || !req || !rps)
        return NULL;
    links[0] = zero;
    d->n_link_table = 1;
    d->link_table = links;
    d->n_string_table = c->n_out_strings;
    d->string_table = c->out_strings;
    d->n_attribute_table = c->n_attrs;
    d->attribute_table = c->attrs;
    d->n_stack_table = c->n_stacks;
    d->stack_table = c->stacks;
    *req = (pg_otlp_request)
        OPENTELEMETRY__PROTO__COLLECTOR__PROFILES__V1DEVELOPMENT__EXPORT_PROFILES_SERVICE_REQUEST__INIT;
    rps[0] = rp;
    req->n_resource_profiles = 1;
    req->resource_profiles = rps;
    req->dictionary = d;
    return req;
}

int pg_pprof_to_otlp(pg_arena *a, const pg_pprof *p, const pg_pprof_to_otlp_options *opt,
                     pg_otlp_request **out, pg_error *err)
{
    static const pg_pprof_to_otlp_options defaults = {0};
    pg_error local;
    *out = NULL;
    p2o_ctx c;
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.p = p;
    c.err = err ? err : &local;
    if (!p)
        return pg_error_set(c.err, PG_ERR_INVALID, "no pprof document");
    if (!opt)
        opt = &defaults;
    struct {
        pg_otlp_dictionary dict;
        p2o_rp rp;
        p2o_sp sp;
        pg_otlp_resource res;
        pg_otlp_scope scope;
        p2o_sp *sps[1];
    } *top = pg_arena_alloc(a, sizeof(*top));
    if (!top)
        return p2o_nomem(&c);
    top->dict = (pg_otlp_dictionary)
        OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__PROFILES_DICTIONARY__INIT;
    top->rp = (p2o_rp)OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__RESOURCE_PROFILES__INIT;
    top->sp = (p2o_sp)OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__SCOPE_PROFILES__INIT;
    top->res = (pg_otlp_resource)OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
    top->scope = (pg_otlp_scope)OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
    c.dict = &top->dict;
    int rc = prepare(&c);
    if (rc == PG_OK)
        rc = profiles(&c, opt, &top->sp);
    if (rc == PG_OK)
        rc = scope(&c, &top->scope);
    if (rc == PG_OK)
        rc = resource(&c, opt, &top->res);
    if (rc != PG_OK)
        return rc;
    top->sp.scope = &top->scope;
    top->sps[0] = &top->sp;
    top->rp.resource = &top->res;
    top->rp.n_scope_profiles = 1;
    top->rp.scope_profiles = top->sps;
    *out = assemble(&c, &top->rp);
    return *out ? PG_OK : p2o_nomem(&c);
}
