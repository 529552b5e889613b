/*
 * Samples of the direct pprof -> OTLP encoder. Each sample is parsed once;
 * its stack is interned by its packed location indices (equal encodings are
 * equal stacks), its labels grouped by key into attributes exactly as
 * convert/pprof_to_otlp_samples.c groups them, and its stack_index and
 * attribute_indices fields encoded once for every sample type to share.
 */
#include "convert/pprof_to_otlp_fast_internal.h"
#include "common/hash.h"

#include <string.h>

int p2f_samples_init(p2f_ctx *c)
{
    const pg_pprof_wire *w = c->w;
    size_t ns = w->n_samples, nt = w->n_sample_types;
    if (pg_pprof_wire_sample_init(c->a, w, &c->sample, c->err) != PG_OK)
        return c->err->code;
    size_t cap = c->sample.cap;
    if (ns && nt > SIZE_MAX / ns / sizeof(int64_t))
        return pg_error_set(c->err, PG_ERR_LIMIT, "pprof to OTLP: too many samples");
    /* batching pays for many small samples; a document with huge ones
     * (rare) goes one sample at a time rather than multiply its scratch */
    c->batch = cap <= 1024 ? P2F_BATCH : 1;
    c->packed = pg_arena_alloc(c->a, c->batch * (cap * 5 + 1));
    c->batch_attrs = pg_arena_alloc(c->a, c->batch * cap * sizeof(*c->batch_attrs));
    c->prefix_off = pg_arena_alloc(c->a, (ns + 1) * sizeof(*c->prefix_off));
    c->values = pg_arena_alloc(c->a, ns * nt * sizeof(*c->values) + 1);
    c->samples_bytes = pg_arena_calloc(c->a, nt + 1, sizeof(*c->samples_bytes));
    c->cap_stacks = ns + 1;
    c->stack_off = pg_arena_alloc(c->a, c->cap_stacks * sizeof(*c->stack_off));
    c->stack_len = pg_arena_alloc(c->a, c->cap_stacks * sizeof(*c->stack_len));
    if (!c->packed || !c->batch_attrs || !c->prefix_off || !c->values || !c->samples_bytes ||
        !c->stack_off || !c->stack_len || p2o_set_init(c->a, &c->stack_set, ns + 1) < 0 ||
        p2f_reserve(c, &c->stack_table, 2 + ns * 8) != PG_OK ||
        p2f_reserve(c, &c->prefixes, ns * 4 + 16) != PG_OK)
        return p2f_nomem(c);
    /* the empty stack is entry 0, so samples without locations use it */
    c->stack_table.p[c->stack_table.n++] = 7 << 3 | 2;
    c->stack_table.p[c->stack_table.n++] = 0;
    c->stack_off[0] = (uint32_t)c->stack_table.n;
    c->stack_len[0] = 0;
    c->n_stacks = 1;
    uint32_t h = (uint32_t)pg_hash_bytes(NULL, 0, 0);
    c->stack_set.slots[h & (c->stack_set.cap - 1)] = (p2o_slot){h, 1};
    c->stack_set.n = 1;
    return PG_OK;
}

/* Label grouping scratch, made when the first sample with labels comes:
 * many documents have none. */
static int grouping_scratch(p2f_ctx *c)
{
    size_t cap = c->sample.cap, nstr = c->cap_strs;
    c->key_seen = pg_arena_calloc(c->a, nstr, sizeof(uint32_t));
    c->key_group = pg_arena_alloc(c->a, nstr * sizeof(uint32_t));
    c->lab_group = pg_arena_alloc(c->a, cap * sizeof(uint32_t));
    c->grp_count = pg_arena_alloc(c->a, cap * sizeof(uint32_t));
    c->grp_off = pg_arena_alloc(c->a, cap * sizeof(uint32_t));
    c->grp_unit = pg_arena_alloc(c->a, cap * sizeof(uint32_t));
    c->lab_val = pg_arena_alloc(c->a, cap * sizeof(p2o_val));
    c->grp_vals = pg_arena_alloc(c->a, cap * sizeof(p2o_val));
    c->attr_list = pg_arena_alloc(c->a, cap * sizeof(int32_t));
    if (!c->key_seen || !c->key_group || !c->lab_group || !c->grp_count || !c->grp_off ||
        !c->grp_unit || !c->lab_val || !c->grp_vals || !c->attr_list)
        return p2f_nomem(c);
    return PG_OK;
}

static int32_t add_stack(p2f_ctx *c, const uint8_t *packed, size_t n)
{
    if (c->n_stacks == c->cap_stacks || n > UINT32_MAX)
        return pg_error_set(c->err, PG_ERR_INVALID, "pprof to OTLP: too many stacks"), -1;
    size_t body = pg_pbs_len_field(n);
    if (p2f_reserve(c, &c->stack_table, pg_pbs_len_field(body)) != PG_OK)
        return -1;
    uint8_t *p = c->stack_table.p + c->stack_table.n;
    pg_pbw_len_head(&p, 7, body);
    pg_pbw_len_head(&p, 1, n);
    c->stack_off[c->n_stacks] = (uint32_t)(p - c->stack_table.p);
    c->stack_len[c->n_stacks] = (uint32_t)n;
    pg_pbw_bytes(&p, packed, n);
    c->stack_table.n = (size_t)(p - c->stack_table.p);
    return (int32_t)c->n_stacks++;
}

/* Packs the sample's location indices into out and hashes them, fetching
 * the slot their lookup starts at: in a big document it is a cache miss,
 * which the rest of the batch then overlaps. */
static uint32_t stack_pack(p2f_ctx *c, const pgw_sample *s, uint8_t *out, size_t *n)
{
    uint8_t *p = out;
    for (size_t k = 0; k < s->n_locations; k++)
        pg_pbw_varint(&p, (uint64_t)(int64_t)s->locations[k]);
    *n = (size_t)(p - out);
    uint32_t h = (uint32_t)pg_hash_bytes(out, *n, 0);
    __builtin_prefetch(&c->stack_set.slots[h & (c->stack_set.cap - 1)]);
    return h;
}

/* The stack_table index of n packed bytes of hash h, added when new. The set
 * was sized for a stack per sample (add_stack refuses more): it never grows. */
static int32_t stack_index(p2f_ctx *c, const uint8_t *packed, size_t n, uint32_t h)
{
    size_t mask = c->stack_set.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        p2o_slot *sl = &c->stack_set.slots[i];
        if (!sl->entry) {
            int32_t e = add_stack(c, packed, n);
            if (e >= 0) {
                *sl = (p2o_slot){h, (uint32_t)e + 1};
                c->stack_set.n++;
            }
            return e;
        }
        uint32_t e = sl->entry - 1;
        if (sl->hash == h && c->stack_len[e] == n &&
            (n == 0 || memcmp(c->stack_table.p + c->stack_off[e], packed, n) == 0))
            return (int32_t)e;
    }
}

static void label_value(const p2f_ctx *c, const pgw_label *l, p2o_val *v, uint32_t *unit)
{
    *unit = 0;
    if (l->str) {
        *v = (p2o_val){P2O_STR, p2f_sid(c, l->str)};
        return;
    }
    *v = (p2o_val){P2O_INT, l->num};
    if (l->num_unit)
        *unit = p2f_sid(c, l->num_unit);
}

/* Groups the labels by key (first appearance order); returns the group count. */
static int64_t group_labels(p2f_ctx *c, const pgw_sample *s, size_t si, uint32_t *keys)
{
    uint32_t stamp = (uint32_t)si + 1, groups = 0;
    for (size_t k = 0; k < s->n_labels; k++) {
        const pgw_label *l = &s->labels[k];
        uint32_t key = p2f_sid(c, l->key), unit;
        label_value(c, l, &c->lab_val[k], &unit);
        if (c->key_seen[key] != stamp) {
            c->key_seen[key] = stamp;
            c->key_group[key] = groups;
            keys[groups] = key;
            c->grp_count[groups] = 0;
            c->grp_unit[groups++] = unit;
        } else if (c->grp_unit[c->key_group[key]] != unit) {
            const p2f_str *ks = &c->strs[key], *u1 = &c->strs[c->grp_unit[c->key_group[key]]],
                          *u2 = &c->strs[unit];
            pg_error_set(c->err, PG_ERR_UNSUPPORTED,
                         "sample[%zu] has values of label \"%.*s\" with different units "
                         "(\"%.*s\" and \"%.*s\")",
                         si, (int)ks->len, ks->s, (int)u1->len, u1->s, (int)u2->len, u2->s);
            return -1;
        }
        c->lab_group[k] = c->key_group[key];
        c->grp_count[c->lab_group[k]]++;
    }
    return groups;
}

/* The sample's attribute indices into c->attr_list; the count, or -1. */
static int64_t sample_attrs(p2f_ctx *c, const pgw_sample *s, size_t si)
{
    if (!s->n_labels)
        return 0;
    if (!c->key_seen && grouping_scratch(c) != PG_OK)
        return -1;
    uint32_t *keys = (uint32_t *)c->attr_list; /* overwritten in order below */
    int64_t groups = group_labels(c, s, si, keys);
    if (groups < 0)
        return -1;
    uint32_t off = 0;
    for (int64_t g = 0; g < groups; g++) {
        c->grp_off[g] = off;
        off += c->grp_count[g];
    }
    for (size_t k = 0; k < s->n_labels; k++)
        c->grp_vals[c->grp_off[c->lab_group[k]]++] = c->lab_val[k];
    for (int64_t g = 0; g < groups; g++) {
        uint32_t count = c->grp_count[g];
        const p2o_val *vals = c->grp_vals + c->grp_off[g] - count;
        p2o_attr_key key = {keys[g], c->grp_unit[g], vals[0], NULL};
        if (count > 1) {
            key.val = (p2o_val){P2O_ARRAY, count};
            key.items = vals;
        }
        if ((c->attr_list[g] = p2f_attr(c, &key)) < 0)
            return -1;
    }
    return groups;
}

/* Encodes the stack_index and attribute_indices fields of one sample. */
static int write_prefix(p2f_ctx *c, int32_t stack, const int32_t *attrs, size_t n_attrs)
{
    size_t attr_bytes = 0;
    for (size_t k = 0; k < n_attrs; k++)
        attr_bytes += pg_pbs_int(attrs[k]);
    size_t need = pg_pbs_int_field(stack) + (n_attrs ? pg_pbs_len_field(attr_bytes) : 0);
    if (p2f_reserve(c, &c->prefixes, need) != PG_OK)
        return -1;
    uint8_t *p = c->prefixes.p + c->prefixes.n;
    pg_pbw_int_field(&p, 1, stack);
    if (n_attrs) {
        pg_pbw_len_head(&p, 2, attr_bytes);
        for (size_t k = 0; k < n_attrs; k++)
            pg_pbw_varint(&p, (uint64_t)(int64_t)attrs[k]);
    }
    c->prefixes.n = (size_t)(p - c->prefixes.p);
    return 0;
}

/* What the first half of a batch leaves for the second. */
typedef struct p2f_pending {
    uint32_t hash;
    size_t packed, n_attrs;
} p2f_pending;

/* Second half of a batch: stacks (their lookups now in cache), then each
 * sample's shared fields, in sample order. */
static int finish_batch(p2f_ctx *c, size_t first, const p2f_pending *pend, size_t n)
{
    const pg_pprof_wire *w = c->w;
    size_t ns = w->n_samples, nt = w->n_sample_types, cap = c->sample.cap;
    for (size_t j = 0; j < n; j++) {
        size_t i = first + j;
        int32_t stack = stack_index(c, c->packed + j * (cap * 5 + 1), pend[j].packed, pend[j].hash);
        if (stack < 0 || write_prefix(c, stack, c->batch_attrs + j * cap, pend[j].n_attrs) < 0)
            return c->err->code;
        if (c->prefixes.n > UINT32_MAX)
            return pg_error_set(c->err, PG_ERR_LIMIT, "pprof to OTLP: too many samples");
        c->prefix_off[i + 1] = (uint32_t)c->prefixes.n;
        size_t prefix = c->prefix_off[i + 1] - c->prefix_off[i];
        for (size_t t = 0; t < nt; t++)
            c->samples_bytes[t] += pg_pbs_len_field(prefix + 2 + pg_pbs_int(c->values[t * ns + i]));
    }
    return PG_OK;
}

/* Samples go in batches (of P2F_BATCH, usually): each is parsed, its labels interned
 * and its stack packed and hashed; then the batch's stacks are looked up. */
int p2f_samples(p2f_ctx *c)
{
    const pg_pprof_wire *w = c->w;
    size_t ns = w->n_samples, nt = w->n_sample_types, cap = c->sample.cap;
    p2f_pending pend[P2F_BATCH];
    c->prefix_off[0] = 0;
    for (size_t first = 0; first < ns; first += c->batch) {
        size_t n = ns - first < c->batch ? ns - first : c->batch;
        for (size_t j = 0; j < n; j++) {
            size_t i = first + j;
            pgw_sample *s = &c->sample;
            if (pg_pprof_wire_sample(w, i, s, c->err) != PG_OK) {
                pg_error_prefix(c->err, "pprof: ");
                return c->err->code;
            }
            /* without sample types there are no Profiles to hold samples:
             * they are only checked, as pg_pprof_to_otlp only validates them */
            if (!nt) {
                c->prefix_off[i + 1] = 0;
                continue;
            }
            pend[j].hash = stack_pack(c, s, c->packed + j * (cap * 5 + 1), &pend[j].packed);
            int64_t n_attrs = sample_attrs(c, s, i);
            if (n_attrs < 0)
                return c->err->code;
            pend[j].n_attrs = (size_t)n_attrs;
            if (n_attrs)
                memcpy(c->batch_attrs + j * cap, c->attr_list, (size_t)n_attrs * sizeof(int32_t));
            for (size_t t = 0; t < nt; t++)
                c->values[t * ns + i] = s->values[t];
        }
        if (nt && finish_batch(c, first, pend, n) != PG_OK)
            return c->err->code;
    }
    return PG_OK;
}

void p2f_sample_write(const p2f_ctx *c, size_t t, size_t i, uint8_t **p)
{
    int64_t v = c->values[t * c->w->n_samples + i];
    size_t prefix = c->prefix_off[i + 1] - c->prefix_off[i];
    pg_pbw_len_head(p, 2, prefix + 2 + pg_pbs_int(v));
    pg_pbw_bytes(p, c->prefixes.p + c->prefix_off[i], prefix);
    pg_pbw_len_head(p, 4, pg_pbs_int(v));
    pg_pbw_varint(p, (uint64_t)v);
}
