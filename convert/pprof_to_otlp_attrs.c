/*
 * The attribute table of the pprof -> OTLP conversion: one entry per distinct
 * (key, value, unit), keys by reference (key_strindex), string values inline.
 */
#include "convert/convert_internal.h"

#include <string.h>

typedef Opentelemetry__Proto__Profiles__V1development__KeyValueAndUnit p2o_kvu;
typedef Opentelemetry__Proto__Common__V1__ArrayValue p2o_array;

static const p2o_kvu kvu_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__KEY_VALUE_AND_UNIT__INIT;
static const pg_otlp_any any_init = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
static const p2o_array array_init = OPENTELEMETRY__PROTO__COMMON__V1__ARRAY_VALUE__INIT;

int p2o_attrs_init(p2o_ctx *c, size_t expected)
{
    c->cap_attrs = expected < 16 ? 16 : expected;
    c->attrs = pg_arena_alloc(c->a, c->cap_attrs * sizeof(*c->attrs));
    c->attr_keys = pg_arena_calloc(c->a, c->cap_attrs, sizeof(*c->attr_keys));
    p2o_kvu *zero = pg_arena_alloc(c->a, sizeof(*zero));
    if (!c->attrs || !c->attr_keys || !zero || p2o_set_init(c->a, &c->attr_set, expected) < 0)
        return p2o_nomem(c);
    *zero = kvu_init;
    c->attrs[0] = zero; /* attr_keys[0] has kind 0, which no real attribute has */
    c->n_attrs = 1;
    return PG_OK;
}

static int fill_value(p2o_ctx *c, pg_otlp_any *out, const p2o_val *v)
{
    *out = any_init;
    switch (v->kind) {
    case P2O_STR:
        out->value_case = PG_ANY(STRING_VALUE);
        out->string_value = p2o_strcopy(c, (uint32_t)v->v);
        return out->string_value ? 0 : -1;
    case P2O_INT:
        out->value_case = PG_ANY(INT_VALUE);
        out->int_value = v->v;
        return 0;
    default:
        out->value_case = PG_ANY(BOOL_VALUE);
        out->bool_value = v->v != 0;
        return 0;
    }
}

/* Builds the table entry; for arrays also the stored copy of the items. */
static p2o_kvu *make_entry(p2o_ctx *c, p2o_attr_key *k)
{
    size_t n = k->val.kind == P2O_ARRAY ? (size_t)k->val.v : 0;
    struct entry {
        p2o_kvu kvu;
        pg_otlp_any value;
        p2o_array array;
    } *e = pg_arena_alloc(c->a, sizeof(*e));
    if (!e)
        return NULL;
    e->kvu = kvu_init;
    int32_t key = p2o_strindex(c, k->key), unit = p2o_strindex(c, k->unit);
    if (key < 0 || unit < 0)
        return NULL;
    e->kvu.key_strindex = key;
    e->kvu.unit_strindex = unit;
    e->kvu.value = &e->value;
    if (!n)
        return fill_value(c, &e->value, &k->val) < 0 ? NULL : &e->kvu;
    p2o_val *items = pg_arena_memdup(c->a, k->items, n * sizeof(*items));
    pg_otlp_any *vals = pg_arena_alloc(c->a, n * sizeof(*vals));
    pg_otlp_any **ptrs = pg_arena_alloc(c->a, n * sizeof(*ptrs));
    if (!items || !vals || !ptrs)
        return NULL;
    k->items = items;
    for (size_t i = 0; i < n; i++) {
        if (fill_value(c, &vals[i], &items[i]) < 0)
            return NULL;
        ptrs[i] = &vals[i];
    }
    e->array = array_init;
    e->array.n_values = n;
    e->array.values = ptrs;
    e->value = any_init;
    e->value.value_case = PG_ANY(ARRAY_VALUE);
    e->value.array_value = &e->array;
    return &e->kvu;
}

static int grow(p2o_ctx *c)
{
    size_t cap = c->cap_attrs * 2;
    void *attrs = pg_arena_alloc(c->a, cap * sizeof(*c->attrs));
    void *keys = pg_arena_alloc(c->a, cap * sizeof(*c->attr_keys));
    if (!attrs || !keys)
        return -1;
    memcpy(attrs, c->attrs, c->n_attrs * sizeof(*c->attrs));
    memcpy(keys, c->attr_keys, c->n_attrs * sizeof(*c->attr_keys));
    c->attrs = attrs;
    c->attr_keys = keys;
    c->cap_attrs = cap;
    return 0;
}

int32_t p2o_attr(p2o_ctx *c, const p2o_attr_key *k)
{
    if (p2o_set_reserve(c->a, &c->attr_set) < 0 || (c->n_attrs == c->cap_attrs && grow(c) < 0) ||
        c->n_attrs >= INT32_MAX)
        return p2o_nomem(c), -1;
    uint32_t h = p2o_attr_key_hash(k);
    size_t mask = c->attr_set.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        p2o_slot *sl = &c->attr_set.slots[i];
        if (sl->entry) {
            if (sl->hash == h && p2o_attr_key_eq(&c->attr_keys[sl->entry - 1], k))
                return (int32_t)sl->entry - 1;
            continue;
        }
        uint32_t e = (uint32_t)c->n_attrs;
        c->attr_keys[e] = *k;
        p2o_kvu *kvu = make_entry(c, &c->attr_keys[e]);
        if (!kvu)
            return p2o_nomem(c), -1;
        c->attrs[e] = kvu;
        c->n_attrs++;
        sl->hash = h;
        sl->entry = e + 1;
        c->attr_set.n++;
        return (int32_t)e;
    }
}
