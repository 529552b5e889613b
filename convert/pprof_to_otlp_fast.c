/*
 * Direct pprof -> OTLP encoding (pg_pprof_to_otlp_encoded): the conversion of
 * convert/pprof_to_otlp.c, step for step in the same order, written as bytes.
 * This file holds the per-document parts (profiles, scope, resource) and the
 * assembly of the request from exact sizes.
 */
#include "convert/pprof_to_otlp_fast_internal.h"

#include <stdio.h>
#include <string.h>

/* A string key/value pair of the resource or the scope. */
typedef struct p2f_kv {
    const char *key, *value;
    size_t key_len, value_len;
} p2f_kv;

typedef struct p2f_doc {
    const pg_pprof_to_otlp_options *opt;
    int32_t period_type[2];
    int32_t *types;        /* [2 * t]: type and unit string indices */
    int32_t **attrs;       /* per sample type */
    size_t *n_attrs;       /* per sample type */
    size_t *profile_bytes; /* per sample type: Profile message */
    p2f_kv resource[8];    /* (an arena array when more are needed) */
    p2f_kv *res;
    size_t n_res;
} p2f_doc;

static int string_attr(p2f_ctx *c, const char *key, int64_t value, int32_t *list, size_t *n)
{
    int64_t k = p2f_sid_literal(c, key, strlen(key));
    if (k < 0)
        return c->err->code;
    p2o_attr_key ak = {(uint32_t)k, 0, {P2O_STR, p2f_sid(c, value)}, NULL};
    if ((list[*n] = p2f_attr(c, &ak)) < 0)
        return c->err->code;
    (*n)++;
    return PG_OK;
}

static int profile_attrs(p2f_ctx *c, int32_t **out, size_t *n)
{
    const pg_pprof_wire *w = c->w;
    int32_t *list = pg_arena_alloc(c->a, (w->n_comments + 3) * sizeof(*list));
    if (!list)
        return p2f_nomem(c);
    *n = 0;
    int rc = PG_OK;
    if (w->drop_frames)
        rc = string_attr(c, PG_ATTR_DROP_FRAMES, w->drop_frames, list, n);
    if (rc == PG_OK && w->keep_frames)
        rc = string_attr(c, PG_ATTR_KEEP_FRAMES, w->keep_frames, list, n);
    if (rc == PG_OK && w->doc_url)
        rc = string_attr(c, PG_ATTR_DOC_URL, w->doc_url, list, n);
    for (size_t i = 0; rc == PG_OK && i < w->n_comments; i++) {
        char *key = pg_arena_sprintf(c->a, "%s%zu", PG_ATTR_COMMENT_PREFIX, i);
        rc = key ? string_attr(c, key, w->comments[i], list, n) : p2f_nomem(c);
    }
    *out = list;
    return rc;
}

static int is_type(const p2f_ctx *c, const char *name, int64_t type)
{
    const p2f_str *s = &c->strs[p2f_sid(c, type)];
    return strlen(name) == s->len && memcmp(name, s->s, s->len) == 0;
}

/* The document-wide attributes plus those opt gives for sample type t. */
static int type_attrs(p2f_ctx *c, p2f_doc *d, size_t t, int32_t *common, size_t n_common)
{
    const pg_pprof_to_otlp_options *opt = d->opt;
    int64_t type = c->w->sample_types[t].type;
    d->attrs[t] = common;
    d->n_attrs[t] = n_common;
    size_t extra = 0;
    for (size_t i = 0; i < opt->n_type_attrs; i++)
        extra += is_type(c, opt->type_attrs[i].sample_type, type);
    if (!extra)
        return PG_OK;
    int32_t *list = pg_arena_alloc(c->a, (n_common + extra) * sizeof(*list));
    if (!list)
        return p2f_nomem(c);
    if (n_common)
        memcpy(list, common, n_common * sizeof(*list));
    size_t k = n_common;
    for (size_t i = 0; i < opt->n_type_attrs; i++) {
        const pg_convert_type_attr *ta = &opt->type_attrs[i];
        if (!is_type(c, ta->sample_type, type))
            continue;
        int64_t key = p2f_sid_literal(c, ta->key, strlen(ta->key));
        int64_t val = key < 0 ? -1 : p2f_sid_literal(c, ta->value, strlen(ta->value));
        if (val < 0)
            return c->err->code;
        p2o_attr_key ak = {(uint32_t)key, 0, {P2O_STR, val}, NULL};
        if ((list[k++] = p2f_attr(c, &ak)) < 0)
            return c->err->code;
    }
    d->attrs[t] = list;
    d->n_attrs[t] = k;
    return PG_OK;
}

static void value_type(p2f_ctx *c, const pgw_value_type *vt, int32_t out[2])
{
    out[0] = p2f_strindex(c, p2f_sid(c, vt->type));
    out[1] = p2f_strindex(c, p2f_sid(c, vt->unit));
}

static size_t value_type_size(const int32_t vt[2])
{
    return pg_pbs_int_field(vt[0]) + pg_pbs_int_field(vt[1]);
}

/* Profile headers in the order pg_pprof_to_otlp interns their strings. */
static int profile_heads(p2f_ctx *c, p2f_doc *d)
{
    const pg_pprof_wire *w = c->w;
    size_t nt = w->n_sample_types;
    d->types = pg_arena_alloc(c->a, (2 * nt + 1) * sizeof(*d->types));
    d->attrs = pg_arena_alloc(c->a, (nt + 1) * sizeof(*d->attrs));
    d->n_attrs = pg_arena_alloc(c->a, (nt + 1) * sizeof(*d->n_attrs));
    d->profile_bytes = pg_arena_alloc(c->a, (nt + 1) * sizeof(*d->profile_bytes));
    if (!d->types || !d->attrs || !d->n_attrs || !d->profile_bytes)
        return p2f_nomem(c);
    if (w->has_period_type)
        value_type(c, &w->period_type, d->period_type);
    int32_t *common = NULL;
    size_t n_common = 0;
    if (profile_attrs(c, &common, &n_common) != PG_OK)
        return c->err->code;
    for (size_t t = 0; t < nt; t++) {
        value_type(c, &w->sample_types[t], &d->types[2 * t]);
        if (type_attrs(c, d, t, common, n_common) != PG_OK)
            return c->err->code;
    }
    return PG_OK;
}

static size_t packed_i32_size(const int32_t *v, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += pg_pbs_int(v[i]);
    return bytes;
}

static size_t profile_size(const p2f_ctx *c, const p2f_doc *d, size_t t)
{
    const pg_pprof_wire *w = c->w;
    size_t n = pg_pbs_len_field(value_type_size(&d->types[2 * t])) + c->samples_bytes[t];
    n += w->time_nanos ? 9 : 0;
    n += pg_pbs_int_field(w->duration_nanos);
    n += w->has_period_type ? pg_pbs_len_field(value_type_size(d->period_type)) : 0;
    n += pg_pbs_int_field(w->period);
    if (t == 0 && d->opt->original_payload) {
        n += pg_pbs_len_field(strlen("pprof"));
        n += d->opt->original_payload_len ? pg_pbs_len_field(d->opt->original_payload_len) : 0;
    }
    if (d->n_attrs[t])
        n += pg_pbs_len_field(packed_i32_size(d->attrs[t], d->n_attrs[t]));
    return n;
}

static void profile_write(const p2f_ctx *c, const p2f_doc *d, size_t t, uint8_t **p)
{
    const pg_pprof_wire *w = c->w;
    pg_pbw_len_head(p, 2, d->profile_bytes[t]);
    pg_pbw_len_head(p, 1, value_type_size(&d->types[2 * t]));
    pg_pbw_int_field(p, 1, d->types[2 * t]);
    pg_pbw_int_field(p, 2, d->types[2 * t + 1]);
    for (size_t i = 0; i < w->n_samples; i++)
        p2f_sample_write(c, t, i, p);
    if (w->time_nanos) {
        pg_pbw_byte(p, 3 << 3 | 1);
        uint64_t v = (uint64_t)w->time_nanos;
        for (int k = 0; k < 8; k++)
            pg_pbw_byte(p, (uint8_t)(v >> (8 * k)));
    }
    pg_pbw_int_field(p, 4, w->duration_nanos);
    if (w->has_period_type) {
        pg_pbw_len_head(p, 5, value_type_size(d->period_type));
        pg_pbw_int_field(p, 1, d->period_type[0]);
        pg_pbw_int_field(p, 2, d->period_type[1]);
    }
    pg_pbw_int_field(p, 6, w->period);
    if (t == 0 && d->opt->original_payload) {
        pg_pbw_len_field(p, 9, "pprof", strlen("pprof"));
        if (d->opt->original_payload_len)
            pg_pbw_len_field(p, 10, d->opt->original_payload, d->opt->original_payload_len);
    }
    if (d->n_attrs[t]) {
        pg_pbw_len_head(p, 11, packed_i32_size(d->attrs[t], d->n_attrs[t]));
        for (size_t k = 0; k < d->n_attrs[t]; k++)
            pg_pbw_varint(p, (uint64_t)(int64_t)d->attrs[t][k]);
    }
}

/* ---- string key/values: the resource and the scope ---- */

static size_t kv_size(const p2f_kv *kv)
{
    return (kv->key_len ? pg_pbs_len_field(kv->key_len) : 0) +
           pg_pbs_len_field(pg_pbs_len_field(kv->value_len));
}

static void kv_write(uint8_t **p, unsigned field, const p2f_kv *kv)
{
    pg_pbw_len_head(p, field, kv_size(kv));
    if (kv->key_len)
        pg_pbw_len_field(p, 1, kv->key, kv->key_len);
    pg_pbw_len_head(p, 2, pg_pbs_len_field(kv->value_len));
    pg_pbw_len_field(p, 1, kv->value, kv->value_len);
}

static int utf8_ok(const char *s)
{
    size_t n = strlen(s);
    return pg_cv_utf8_invalid_at(s, n) == n;
}

/* Adds key=value, replacing an earlier value of the same key. */
static int put_kv(p2f_ctx *c, p2f_doc *d, const char *key, const char *value)
{
    if (!key || !value || !utf8_ok(key) || !utf8_ok(value))
        return pg_error_set(c->err, PG_ERR_INVALID,
                            "resource attribute \"%s\" is missing or not valid UTF-8",
                            key && utf8_ok(key) ? key : "?");
    for (size_t i = 0; i < d->n_res; i++) {
        if (strcmp(d->res[i].key, key) == 0) {
            d->res[i].value = value;
            d->res[i].value_len = strlen(value);
            return PG_OK;
        }
    }
    d->res[d->n_res++] = (p2f_kv){key, value, strlen(key), strlen(value)};
    return PG_OK;
}

static int resource(p2f_ctx *c, p2f_doc *d)
{
    const pg_pprof_to_otlp_options *opt = d->opt;
    d->res = d->resource;
    if (opt->n_resource_attrs + 1 > sizeof(d->resource) / sizeof(d->resource[0]) &&
        !(d->res = pg_arena_alloc(c->a, (opt->n_resource_attrs + 1) * sizeof(*d->res))))
        return p2f_nomem(c);
    int rc = PG_OK;
    if (opt->service_name && opt->service_name[0])
        rc = put_kv(c, d, "service.name", opt->service_name);
    for (size_t i = 0; rc == PG_OK && i < opt->n_resource_attrs; i++)
        rc = put_kv(c, d, opt->resource_attrs[i].key, opt->resource_attrs[i].value);
    return rc;
}

static size_t resource_size(const p2f_doc *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_res; i++)
        n += pg_pbs_len_field(kv_size(&d->res[i]));
    return n;
}

/* The sample-type order array: one AnyValue string per sample type. */
static size_t order_array_size(const p2f_ctx *c)
{
    size_t n = 0;
    for (size_t t = 0; t < c->w->n_sample_types; t++)
        n +=
            pg_pbs_len_field(pg_pbs_len_field(c->strs[p2f_sid(c, c->w->sample_types[t].type)].len));
    return n;
}

static size_t order_kv_size(size_t array)
{
    return pg_pbs_len_field(strlen(PG_ATTR_SAMPLE_TYPE_ORDER)) +
           pg_pbs_len_field(pg_pbs_len_field(array));
}

static p2f_kv default_type_kv(const p2f_ctx *c)
{
    const p2f_str *s = &c->strs[p2f_sid(c, c->w->default_sample_type)];
    return (p2f_kv){PG_ATTR_DEFAULT_SAMPLE_TYPE, s->s, strlen(PG_ATTR_DEFAULT_SAMPLE_TYPE), s->len};
}

/* The scope's size; *array is the sample-type order array's. */
static size_t scope_size(const p2f_ctx *c, size_t *array)
{
    *array = order_array_size(c);
    size_t n = pg_pbs_len_field(order_kv_size(*array));
    if (c->w->default_sample_type) {
        p2f_kv kv = default_type_kv(c);
        n += pg_pbs_len_field(kv_size(&kv));
    }
    return n;
}

static void scope_write(const p2f_ctx *c, size_t scope, size_t array, uint8_t **p)
{
    pg_pbw_len_head(p, 1, scope);
    pg_pbw_len_head(p, 3, order_kv_size(array));
    pg_pbw_len_field(p, 1, PG_ATTR_SAMPLE_TYPE_ORDER, strlen(PG_ATTR_SAMPLE_TYPE_ORDER));
    pg_pbw_len_head(p, 2, pg_pbs_len_field(array));
    pg_pbw_len_head(p, 5, array);
    for (size_t t = 0; t < c->w->n_sample_types; t++) {
        const p2f_str *s = &c->strs[p2f_sid(c, c->w->sample_types[t].type)];
        pg_pbw_len_head(p, 1, pg_pbs_len_field(s->len));
        pg_pbw_len_field(p, 1, s->s, s->len);
    }
    if (c->w->default_sample_type) {
        p2f_kv kv = default_type_kv(c);
        kv_write(p, 3, &kv);
    }
}

/* ---- the request ---- */

static int assemble(p2f_ctx *c, p2f_doc *d, pg_buf *out)
{
    size_t nt = c->w->n_sample_types, array, scope = scope_size(c, &array);
    size_t scope_profiles = pg_pbs_len_field(scope);
    for (size_t t = 0; t < nt; t++) {
        d->profile_bytes[t] = profile_size(c, d, t);
        scope_profiles += pg_pbs_len_field(d->profile_bytes[t]);
    }
    size_t res = resource_size(d);
    size_t rp = pg_pbs_len_field(res) + pg_pbs_len_field(scope_profiles);
    size_t dict = c->mappings.n + c->locations.n + c->functions.n + 2 + c->string_table_bytes +
                  c->attr_table.n + c->stack_table.n;
    size_t total = pg_pbs_len_field(rp) + pg_pbs_len_field(dict);
    if (pg_buf_reserve(out, total) != PG_OK)
        return pg_error_set(c->err, PG_ERR_NOMEM, "pprof to OTLP: out of memory for %zu bytes",
                            total);
    uint8_t *start = out->data + out->len, *p = start;
    pg_pbw_len_head(&p, 1, rp);
    pg_pbw_len_head(&p, 1, res);
    for (size_t i = 0; i < d->n_res; i++)
        kv_write(&p, 1, &d->res[i]);
    pg_pbw_len_head(&p, 2, scope_profiles);
    scope_write(c, scope, array, &p);
    for (size_t t = 0; t < nt; t++)
        profile_write(c, d, t, &p);
    pg_pbw_len_head(&p, 2, dict);
    pg_pbw_bytes(&p, c->mappings.p, c->mappings.n);
    pg_pbw_bytes(&p, c->locations.p, c->locations.n);
    pg_pbw_bytes(&p, c->functions.p, c->functions.n);
    pg_pbw_len_head(&p, 4, 0);
    for (size_t i = 0; i < c->n_out; i++) {
        const p2f_str *s = &c->strs[c->out_sids[i]];
        pg_pbw_len_field(&p, 5, s->s, s->len);
    }
    pg_pbw_bytes(&p, c->attr_table.p, c->attr_table.n);
    pg_pbw_bytes(&p, c->stack_table.p, c->stack_table.n);
    if ((size_t)(p - start) != total)
        return pg_error_set(c->err, PG_ERR_INVALID,
                            "pprof to OTLP: internal error: wrote %zu of %zu bytes",
                            (size_t)(p - start), total);
    out->len += total;
    return PG_OK;
}

static int prepare(p2f_ctx *c, const pg_pprof_to_otlp_options *opt)
{
    const pg_pprof_wire *w = c->w;
    /* room for every string the conversion adds: keys of mappings and
     * locations, of the document's attributes, of each comment, and the
     * per-type attributes' keys and values */
    int rc = p2f_strings_init(c, P2F_N_KEYS + 3 + w->n_comments + 2 * opt->n_type_attrs);
    if (rc != PG_OK)
        return rc;
    /* the attribute set starts small and grows: mappings share their flag
     * attributes, and a set sized for the worst case is memory the first
     * touch of which costs more than the rare rehash */
    rc = p2f_attrs_init(c, 4 + w->n_comments + w->n_samples / 8);
    if (rc == PG_OK)
        rc = p2f_tables(c);
    if (rc == PG_OK)
        rc = p2f_samples_init(c);
    return rc;
}

int pg_pprof_to_otlp_encoded(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                             const pg_pprof_to_otlp_options *opt, pg_buf *out, pg_error *err)
{
    static const pg_pprof_to_otlp_options defaults = {0};
    pg_error local;
    pg_pprof_wire w;
    p2f_ctx c;
    memset(&c, 0, sizeof(c));
    c.a = a;
    c.err = err ? err : &local;
    c.w = &w;
    int rc = pg_pprof_wire_read(a, buf, len, max_decompressed, &w, c.err);
    if (rc != PG_OK)
        return rc;
    p2f_doc *d = pg_arena_calloc(a, 1, sizeof(*d));
    if (!d)
        return p2f_nomem(&c);
    d->opt = opt ? opt : &defaults;
    rc = prepare(&c, d->opt);
    if (rc == PG_OK)
        rc = profile_heads(&c, d);
    if (rc == PG_OK)
        rc = p2f_samples(&c);
    if (rc == PG_OK)
        rc = resource(&c, d);
    if (rc == PG_OK)
        rc = assemble(&c, d, out);
    return rc;
}
