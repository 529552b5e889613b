/*
 * Arena-backed open-addressing index and hashing for the OTLP -> pprof
 * conversion. Linear probing at load <= 1/2; a grown table leaves the old
 * slots in the arena (at most as much again as the final table).
 */
#include "convert/otlp_to_pprof_internal.h"

#include <string.h>

uint64_t o2p_hash_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static size_t pow2_at_least(size_t n)
{
    size_t cap = 16;
    while (cap < n)
        cap <<= 1;
    return cap;
}

int o2p_index_init(pg_arena *a, o2p_index *ix, size_t expected)
{
    ix->cap = pow2_at_least(expected * 2);
    ix->n = 0;
    ix->slots = pg_arena_calloc(a, ix->cap, sizeof(o2p_hslot));
    return ix->slots ? 0 : -1;
}

static int grow(pg_arena *a, o2p_index *ix)
{
    size_t cap = ix->cap * 2;
    o2p_hslot *slots = pg_arena_calloc(a, cap, sizeof(o2p_hslot));
    if (!slots)
        return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slots[i].entry)
            continue;
        size_t j = ix->slots[i].hash & (cap - 1);
        while (slots[j].entry)
            j = (j + 1) & (cap - 1);
        slots[j] = ix->slots[i];
    }
    ix->slots = slots;
    ix->cap = cap;
    return 0;
}

int64_t o2p_index_intern(pg_arena *a, o2p_index *ix, uint64_t hash, o2p_eq_fn eq, const void *ctx,
                         uint32_t new_entry, int *inserted)
{
    if ((ix->n + 1) * 2 > ix->cap && grow(a, ix) < 0)
        return -1;
    uint32_t h = (uint32_t)(hash ^ (hash >> 32));
    size_t mask = ix->cap - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        o2p_hslot *s = &ix->slots[j];
        if (!s->entry) {
            s->hash = h;
            s->entry = new_entry + 1;
            ix->n++;
            *inserted = 1;
            return new_entry;
        }
        if (s->hash == h && eq(ctx, s->entry - 1)) {
            *inserted = 0;
            return s->entry - 1;
        }
    }
}

int64_t o2p_index_find(const o2p_index *ix, uint64_t hash, o2p_eq_fn eq, const void *ctx)
{
    uint32_t h = (uint32_t)(hash ^ (hash >> 32));
    size_t mask = ix->cap - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        const o2p_hslot *s = &ix->slots[j];
        if (!s->entry)
            return -1;
        if (s->hash == h && eq(ctx, s->entry - 1))
            return s->entry - 1;
    }
}
