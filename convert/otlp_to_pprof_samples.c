/*
 * OTLP samples -> pprof samples. Samples of all the document's profiles that
 * share (stack, attribute set, link) become one pprof sample whose value
 * column i holds what profile i recorded for them.
 */
#include "convert/otlp_to_pprof_internal.h"
#include "common/hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct key_ref {
    const o2p_ctx *c;
    const o2p_sample_key *k;
} key_ref;

static int key_eq(const void *ctx, uint32_t entry)
{
    const key_ref *r = ctx;
    const o2p_sample_key *a = &r->c->sample_keys[entry], *b = r->k;
    return a->stack == b->stack && a->link == b->link && a->n_attrs == b->n_attrs &&
           (!a->n_attrs || memcmp(a->attrs, b->attrs, a->n_attrs * sizeof(int32_t)) == 0);
}

static int cmp_i32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* The sample's attribute indices, sorted and without repeats, in c->scratch. */
static int attr_set(o2p_ctx *c, const pg_otlp_sample *s, uint32_t *n_out)
{
    size_t n = s->n_attribute_indices;
    if (n > c->scratch_cap) {
        size_t cap = n > 2 * c->scratch_cap ? n : 2 * c->scratch_cap;
        c->scratch = pg_arena_alloc(c->a, cap * sizeof(int32_t));
        if (!c->scratch)
            return o2p_nomem(c);
        c->scratch_cap = cap;
    }
    int32_t *v = c->scratch;
    if (n)
        memcpy(v, s->attribute_indices, n * sizeof(int32_t));
    if (n > 16) {
        qsort(v, n, sizeof(int32_t), cmp_i32);
    } else {
        for (size_t i = 1; i < n; i++) {
            int32_t x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] > x; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    }
    *n_out = (uint32_t)m;
    return 0;
}

/* Labels in the sample's own attribute order (repeats dropped), then the
 * link's labels. */
static int sample_labels(o2p_ctx *c, const pg_otlp_sample *s, pg_pprof_sample *ps)
{
    size_t total = 0;
    uint32_t gen = ++c->seen_gen;
    const o2p_label_cache *link = s->link_index ? o2p_link_labels(c, s->link_index) : NULL;
    if (s->link_index && !link)
        return -1;
    for (size_t i = 0; i < s->n_attribute_indices; i++) {
        const o2p_label_cache *lc = o2p_attr_labels(c, s->attribute_indices[i]);
        if (!lc)
            return -1;
        if (c->attr_seen[s->attribute_indices[i]] == gen)
            continue;
        c->attr_seen[s->attribute_indices[i]] = gen;
        total += lc->n;
        c->skipped += lc->skipped;
    }
    total += link ? link->n : 0;
    if (!total)
        return 0;
    pg_pprof_label **labels = pg_arena_alloc(c->a, total * sizeof(*labels));
    if (!labels)
        return o2p_nomem(c);
    gen = ++c->seen_gen;
    size_t n = 0;
    for (size_t i = 0; i < s->n_attribute_indices; i++) {
        int32_t ai = s->attribute_indices[i];
        if (c->attr_seen[ai] == gen)
            continue;
        c->attr_seen[ai] = gen;
        const o2p_label_cache *lc = &c->attr_cache[ai]; /* filled by the pass above */
        if (lc->n)
            memcpy(labels + n, lc->labels, lc->n * sizeof(*labels));
        n += lc->n;
    }
    if (link && link->n) {
        memcpy(labels + n, link->labels, link->n * sizeof(*labels));
        n += link->n;
    }
    ps->label = labels;
    ps->n_label = n;
    return 0;
}

static pg_pprof_sample *new_sample(o2p_ctx *c, const pg_otlp_sample *s, size_t n_cols)
{
    pg_pprof_sample *ps = pg_arena_alloc(c->a, sizeof(*ps));
    int64_t *values = pg_arena_calloc(c->a, n_cols ? n_cols : 1, sizeof(int64_t));
    if (!ps || !values) {
        o2p_nomem(c);
        return NULL;
    }
    perftools__profiles__sample__init(ps);
    ps->value = values;
    ps->n_value = n_cols;
    if (o2p_stack(c, s->stack_index, &ps->location_id, &ps->n_location_id) < 0 ||
        sample_labels(c, s, ps) < 0)
        return NULL;
    return ps;
}

int o2p_samples_begin(o2p_ctx *c, size_t n_samples)
{
    pg_pprof *p = c->p;
    if (o2p_index_init(c->a, &c->sample_index, n_samples) < 0)
        return o2p_nomem(c);
    size_t cap = n_samples ? n_samples : 1;
    c->sample_keys = pg_arena_alloc(c->a, cap * sizeof(*c->sample_keys));
    p->sample = pg_arena_alloc(c->a, cap * sizeof(*p->sample));
    if (!c->sample_keys || !p->sample)
        return o2p_nomem(c);
    c->cap_sample = cap;
    return 0;
}

/* What one OTLP sample contributes: the sum of its values, or one event per
 * timestamp when it has no values. Wraps like pprof's int64 would. */
static int64_t sample_value(const pg_otlp_sample *s)
{
    if (!s->n_values)
        return (int64_t)s->n_timestamps_unix_nano;
    uint64_t sum = 0;
    for (size_t k = 0; k < s->n_values; k++)
        sum += (uint64_t)s->values[k];
    return (int64_t)sum;
}

int o2p_samples_add(o2p_ctx *c, const pg_otlp_profile *pr, size_t col, size_t n_cols)
{
    pg_pprof *p = c->p;
    for (size_t i = 0; i < pr->n_samples; i++) {
        const pg_otlp_sample *s = pr->samples[i];
        o2p_sample_key k = {s->stack_index, s->link_index, 0, NULL};
        if (attr_set(c, s, &k.n_attrs) < 0)
            return -1;
        k.attrs = c->scratch;
        uint64_t h = o2p_hash_mix((uint64_t)(uint32_t)k.stack, (uint64_t)(uint32_t)k.link);
        h = pg_hash_bytes(k.attrs, k.n_attrs * sizeof(int32_t), h);
        key_ref ref = {c, &k};
        int inserted = 0;
        int64_t e = o2p_index_intern(c->a, &c->sample_index, h, key_eq, &ref, (uint32_t)p->n_sample,
                                     &inserted);
        if (e < 0)
            return o2p_nomem(c);
        if (inserted) {
            if (p->n_sample >= c->cap_sample)
                return c->rc = pg_error_set(c->err, PG_ERR_INVALID, "sample count overflow");
            if (k.n_attrs) {
                k.attrs = pg_arena_memdup(c->a, k.attrs, k.n_attrs * sizeof(int32_t));
                if (!k.attrs)
                    return o2p_nomem(c);
            }
            c->sample_keys[e] = k;
            pg_pprof_sample *ps = new_sample(c, s, n_cols);
            if (!ps)
                return -1;
            p->sample[p->n_sample++] = ps;
        }
        int64_t *v = &p->sample[e]->value[col];
        *v = (int64_t)((uint64_t)*v + (uint64_t)sample_value(s));
    }
    return 0;
}
