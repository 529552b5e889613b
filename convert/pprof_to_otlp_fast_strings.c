/*
 * Strings and attributes of the direct pprof -> OTLP encoder. The same
 * interning as convert/pprof_to_otlp_strings.c and _attrs.c (equal strings
 * share the id of the first; a string enters the OTLP table when first
 * referenced by index), but attribute entries are encoded when created.
 */
#include "convert/pprof_to_otlp_fast_internal.h"
#include "common/hash.h"

#include <string.h>

int p2f_nomem(p2f_ctx *c)
{
    if (pg_arena_limit_hit(c->a))
        return pg_error_set(c->err, PG_ERR_LIMIT, "pprof to OTLP: memory limit reached");
    return pg_error_set(c->err, PG_ERR_NOMEM, "pprof to OTLP: out of memory");
}

int p2f_reserve(p2f_ctx *c, p2f_bytes *b, size_t extra)
{
    if (b->cap - b->n >= extra)
        return PG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n < extra)
        cap *= 2;
    uint8_t *p = pg_arena_alloc(c->a, cap);
    if (!p)
        return p2f_nomem(c);
    if (b->n)
        memcpy(p, b->p, b->n);
    b->p = p;
    b->cap = cap;
    return PG_OK;
}

/* The set was sized at start for every string the conversion can hold
 * (p2f_sid_literal refuses more), so it never needs to grow. */
static uint32_t intern(p2f_ctx *c, const char *s, uint32_t len, uint32_t h, uint32_t sid)
{
    size_t mask = c->str_set.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        p2o_slot *sl = &c->str_set.slots[i];
        if (!sl->entry) {
            *sl = (p2o_slot){h, sid + 1};
            c->str_set.n++;
            return sid;
        }
        const p2f_str *e = &c->strs[sl->entry - 1];
        if (sl->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
            return sl->entry - 1;
    }
}

int p2f_strings_init(p2f_ctx *c, size_t extra)
{
    const pg_pprof_wire *w = c->w;
    size_t n = w->n_strings;
    c->cap_strs = n + extra;
    c->strs = pg_arena_alloc(c->a, c->cap_strs * sizeof(*c->strs));
    c->canon = pg_arena_alloc(c->a, n * sizeof(*c->canon));
    c->out_sids = pg_arena_alloc(c->a, c->cap_strs * sizeof(*c->out_sids));
    if (!c->strs || !c->canon || !c->out_sids || p2o_set_init(c->a, &c->str_set, c->cap_strs) < 0)
        return p2f_nomem(c);
    for (size_t i = 0; i < n; i++) {
        const pgw_str *ws = &w->strings[i];
        c->strs[i] = (p2f_str){ws->s, ws->len, -1};
        c->canon[i] = intern(c, ws->s, ws->len, ws->hash, (uint32_t)i);
    }
    c->n_strs = n;
    /* the reader guarantees string_table[0] == "" */
    c->strs[0].out = 0;
    c->out_sids[0] = 0;
    c->n_out = 1;
    c->string_table_bytes = 2;
    return PG_OK;
}

int64_t p2f_sid_literal(p2f_ctx *c, const char *s, size_t len)
{
    if (c->n_strs == c->cap_strs || len > UINT32_MAX) {
        pg_error_set(c->err, PG_ERR_NOMEM, "pprof to OTLP: string capacity exceeded");
        return -1;
    }
    uint32_t sid = (uint32_t)c->n_strs;
    c->strs[sid] = (p2f_str){s, (uint32_t)len, -1};
    uint32_t got = intern(c, s, (uint32_t)len, (uint32_t)pg_hash_bytes(s, len, 0), sid);
    if (got == sid)
        c->n_strs++;
    return got;
}

int64_t p2f_key(p2f_ctx *c, int key)
{
    static const char *const name[P2F_N_KEYS] = {
        PG_ATTR_BUILD_ID,         PG_ATTR_HAS_FUNCTIONS,     PG_ATTR_HAS_FILENAMES,
        PG_ATTR_HAS_LINE_NUMBERS, PG_ATTR_HAS_INLINE_FRAMES, PG_ATTR_IS_FOLDED};
    if (!c->k_lit[key]) {
        int64_t sid = p2f_sid_literal(c, name[key], strlen(name[key]));
        if (sid < 0)
            return -1;
        c->k_lit[key] = (uint32_t)sid;
    }
    return c->k_lit[key];
}

int p2f_attrs_init(p2f_ctx *c, size_t expected)
{
    c->cap_attrs = expected < 16 ? 16 : expected;
    c->attr_keys = pg_arena_alloc(c->a, c->cap_attrs * sizeof(*c->attr_keys));
    if (!c->attr_keys || p2o_set_init(c->a, &c->attr_set, expected) < 0 ||
        p2f_reserve(c, &c->attr_table, 64 * c->cap_attrs) != PG_OK)
        return p2f_nomem(c);
    /* entry 0 is the zero KeyValueAndUnit; attr_keys[0] has kind 0, which no
     * real attribute has */
    memset(&c->attr_keys[0], 0, sizeof(c->attr_keys[0]));
    c->attr_table.p[c->attr_table.n++] = 6 << 3 | 2;
    c->attr_table.p[c->attr_table.n++] = 0;
    c->n_attrs = 1;
    return PG_OK;
}

/* ---- encoding one entry ---- */

static size_t value_size(const p2f_ctx *c, const p2o_val *v)
{
    switch (v->kind) {
    case P2O_STR:
        return pg_pbs_len_field(c->strs[v->v].len);
    case P2O_INT:
        return 1 + pg_pbs_int(v->v);
    default:
        return 2;
    }
}

static void value_write(const p2f_ctx *c, const p2o_val *v, uint8_t **p)
{
    switch (v->kind) {
    case P2O_STR:
        pg_pbw_len_field(p, 1, c->strs[v->v].s, c->strs[v->v].len);
        return;
    case P2O_INT:
        pg_pbw_byte(p, 3 << 3);
        pg_pbw_varint(p, (uint64_t)v->v);
        return;
    default:
        pg_pbw_byte(p, 2 << 3);
        pg_pbw_byte(p, v->v != 0);
        return;
    }
}

/* AnyValue size: a scalar, or an array_value of scalars. */
static size_t any_size(const p2f_ctx *c, const p2o_attr_key *k, size_t *array_bytes)
{
    if (k->val.kind != P2O_ARRAY)
        return value_size(c, &k->val);
    size_t n = 0;
    for (int64_t i = 0; i < k->val.v; i++)
        n += pg_pbs_len_field(value_size(c, &k->items[i]));
    *array_bytes = n;
    return pg_pbs_len_field(n);
}

static int encode_entry(p2f_ctx *c, const p2o_attr_key *k, int32_t key, int32_t unit)
{
    size_t array_bytes = 0, any = any_size(c, k, &array_bytes);
    size_t body = pg_pbs_int_field(key) + pg_pbs_len_field(any) + pg_pbs_int_field(unit);
    if (p2f_reserve(c, &c->attr_table, pg_pbs_len_field(body)) != PG_OK)
        return -1;
    uint8_t *p = c->attr_table.p + c->attr_table.n;
    pg_pbw_len_head(&p, 6, body);
    pg_pbw_int_field(&p, 1, key);
    pg_pbw_len_head(&p, 2, any);
    if (k->val.kind != P2O_ARRAY) {
        value_write(c, &k->val, &p);
    } else {
        pg_pbw_len_head(&p, 5, array_bytes);
        for (int64_t i = 0; i < k->val.v; i++) {
            pg_pbw_len_head(&p, 1, value_size(c, &k->items[i]));
            value_write(c, &k->items[i], &p);
        }
    }
    pg_pbw_int_field(&p, 3, unit);
    c->attr_table.n = (size_t)(p - c->attr_table.p);
    return 0;
}

static int grow_keys(p2f_ctx *c)
{
    size_t cap = c->cap_attrs * 2;
    p2o_attr_key *keys = pg_arena_alloc(c->a, cap * sizeof(*keys));
    if (!keys)
        return -1;
    memcpy(keys, c->attr_keys, c->n_attrs * sizeof(*keys));
    c->attr_keys = keys;
    c->cap_attrs = cap;
    return 0;
}

/* Stores the key (with its own copy of array items) and encodes the entry. */
static int32_t add_entry(p2f_ctx *c, const p2o_attr_key *k)
{
    uint32_t e = (uint32_t)c->n_attrs;
    p2o_attr_key *stored = &c->attr_keys[e];
    *stored = *k;
    if (k->val.kind == P2O_ARRAY &&
        !(stored->items = pg_arena_memdup(c->a, k->items, (size_t)k->val.v * sizeof(*k->items))))
        return p2f_nomem(c), -1;
    /* key before unit: the order pg_pprof_to_otlp adds them to the string table */
    int32_t key = p2f_strindex(c, k->key), unit = p2f_strindex(c, k->unit);
    if (encode_entry(c, stored, key, unit) < 0)
        return -1;
    c->n_attrs++;
    return (int32_t)e;
}

int32_t p2f_attr(p2f_ctx *c, const p2o_attr_key *k)
{
    if (p2o_set_reserve(c->a, &c->attr_set) < 0 ||
        (c->n_attrs == c->cap_attrs && grow_keys(c) < 0) || c->n_attrs >= INT32_MAX)
        return p2f_nomem(c), -1;
    uint32_t h = p2o_attr_key_hash(k);
    size_t mask = c->attr_set.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        p2o_slot *sl = &c->attr_set.slots[i];
        if (sl->entry) {
            if (sl->hash == h && p2o_attr_key_eq(&c->attr_keys[sl->entry - 1], k))
                return (int32_t)sl->entry - 1;
            continue;
        }
        int32_t e = add_entry(c, k);
        if (e >= 0) {
            *sl = (p2o_slot){h, (uint32_t)e + 1};
            c->attr_set.n++;
        }
        return e;
    }
}
