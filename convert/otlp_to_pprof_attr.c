/*
 * OTLP attributes and links -> pprof labels. The labels of one dictionary
 * entry are built once per document and shared (by pointer) by every sample
 * that refers to the entry.
 */
#include "convert/otlp_to_pprof_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *o2p_kv_key(const pg_otlp_request *req, const pg_otlp_kv *kv)
{
    if (kv->key && *kv->key)
        return kv->key;
    return pg_otlp_string(req, kv->key_strindex);
}

const char *o2p_any_string(const pg_otlp_request *req, const pg_otlp_any *v)
{
    if (!v)
        return NULL;
    if (v->value_case == PG_ANY(STRING_VALUE))
        return v->string_value ? v->string_value : "";
    if (v->value_case == PG_ANY(STRING_VALUE_STRINDEX))
        return pg_otlp_string(req, v->string_value_strindex);
    return NULL;
}

const pg_otlp_any *o2p_attr_lookup(const pg_otlp_request *req, const int32_t *indices, size_t n,
                                   const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const pg_otlp_kvu *kv = req->dictionary->attribute_table[indices[i]];
        if (strcmp(pg_otlp_string(req, kv->key_strindex), key) == 0)
            return kv->value;
    }
    return NULL;
}

/* Shortest text that reads back as the same double. %.15g already drops
 * trailing zeros, so shorter forms come out of it unchanged. */
static void double_text(double d, char *buf, size_t cap)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* Fills l from a scalar value; 1 when it is representable, 0 when not, -1 on
 * allocation failure. */
static int scalar_label(o2p_ctx *c, const pg_otlp_any *v, int64_t unit, pg_pprof_label *l)
{
    char buf[40];
    const char *text = NULL;
    int64_t str;
    switch (v ? v->value_case : PG_ANY(_NOT_SET)) {
    case PG_ANY(STRING_VALUE):
        text = v->string_value;
        break;
    case PG_ANY(STRING_VALUE_STRINDEX):
        str = o2p_strx(c, v->string_value_strindex);
        if (str < 0)
            return -1;
        l->str = str;
        return 1;
    case PG_ANY(INT_VALUE):
        l->num = v->int_value;
        l->num_unit = unit;
        return 1;
    case PG_ANY(BOOL_VALUE):
        text = v->bool_value ? "true" : "false";
        break;
    case PG_ANY(DOUBLE_VALUE):
        double_text(v->double_value, buf, sizeof(buf));
        text = buf;
        break;
    default:
        return 0;
    }
    str = o2p_str(c, text);
    if (str < 0)
        return -1;
    l->str = str;
    return 1;
}

static int build_labels(o2p_ctx *c, o2p_label_cache *out, const char *key, int32_t unit_strindex,
                        const pg_otlp_any *v)
{
    int is_array = v && v->value_case == PG_ANY(ARRAY_VALUE) && v->array_value;
    size_t n = is_array ? v->array_value->n_values : 1;
    int64_t k = o2p_str(c, key);
    int64_t unit = unit_strindex ? o2p_strx(c, unit_strindex) : 0;
    if (k < 0 || unit < 0)
        return -1;
    pg_pprof_label **ptrs = pg_arena_alloc(c->a, (n ? n : 1) * sizeof(*ptrs));
    pg_pprof_label *items = pg_arena_alloc(c->a, (n ? n : 1) * sizeof(*items));
    if (!ptrs || !items)
        return o2p_nomem(c);
    out->labels = ptrs;
    out->n = out->skipped = 0;
    for (size_t i = 0; i < n; i++) {
        const pg_otlp_any *e = is_array ? v->array_value->values[i] : v;
        pg_pprof_label *l = &items[out->n];
        perftools__profiles__label__init(l);
        l->key = k;
        int rc = scalar_label(c, e, unit, l);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            out->skipped++;
            continue;
        }
        ptrs[out->n++] = l;
    }
    return 0;
}

const o2p_label_cache *o2p_attr_labels(o2p_ctx *c, int32_t i)
{
    o2p_label_cache *lc = &c->attr_cache[i];
    if (lc->gen == c->gen)
        return lc;
    const pg_otlp_kvu *kv = c->d->attribute_table[i];
    const pg_otlp_any *v = kv->value;
    int unset = !v || v->value_case == PG_ANY(_NOT_SET);
    if (unset && kv->key_strindex == 0) {
        /* the table's zero entry: nothing was said, nothing is lost */
        *lc = (o2p_label_cache){c->gen, 0, 0, NULL};
        return lc;
    }
    if (build_labels(c, lc, pg_otlp_string(c->req, kv->key_strindex), kv->unit_strindex, v) < 0)
        return NULL;
    lc->gen = c->gen;
    return lc;
}

static int hex_label(o2p_ctx *c, pg_pprof_label *l, const char *key, ProtobufCBinaryData b)
{
    static const char digits[] = "0123456789abcdef";
    char *hex = pg_arena_alloc(c->a, b.len * 2 + 1);
    if (!hex)
        return o2p_nomem(c);
    for (size_t i = 0; i < b.len; i++) {
        hex[2 * i] = digits[b.data[i] >> 4];
        hex[2 * i + 1] = digits[b.data[i] & 15];
    }
    hex[b.len * 2] = 0;
    perftools__profiles__label__init(l);
    int64_t k = o2p_str(c, key), s = o2p_str(c, hex);
    if (k < 0 || s < 0)
        return -1;
    l->key = k;
    l->str = s;
    return 0;
}

const o2p_label_cache *o2p_link_labels(o2p_ctx *c, int32_t i)
{
    o2p_label_cache *lc = &c->link_cache[i];
    if (lc->gen == c->gen)
        return lc;
    const pg_otlp_link *ln = c->d->link_table[i];
    pg_pprof_label **ptrs = pg_arena_alloc(c->a, 2 * sizeof(*ptrs));
    pg_pprof_label *items = pg_arena_alloc(c->a, 2 * sizeof(*items));
    if (!ptrs || !items) {
        o2p_nomem(c);
        return NULL;
    }
    uint32_t n = 0;
    if (ln->trace_id.len) {
        if (hex_label(c, &items[n], "trace_id", ln->trace_id) < 0)
            return NULL;
        ptrs[n] = &items[n];
        n++;
    }
    if (ln->span_id.len) {
        if (hex_label(c, &items[n], "span_id", ln->span_id) < 0)
            return NULL;
        ptrs[n] = &items[n];
        n++;
    }
    *lc = (o2p_label_cache){c->gen, n, 0, ptrs};
    return lc;
}
