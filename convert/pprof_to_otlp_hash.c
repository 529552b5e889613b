/*
 * Hashing, the id -> position index and the interning sets used by the pprof
 * validator and the pprof -> OTLP conversion.
 */
#include "convert/convert_internal.h"

#include <stdlib.h>
#include <string.h>

static void *zalloc(pg_arena *a, size_t count, size_t size)
{
    return a ? pg_arena_calloc(a, count, size) : calloc(count, size);
}

/* Where the ids are: n pointers to messages (stride 0) or an array of n
 * structs stride bytes apart; the id is the uint64 at byte offset off. */
typedef struct id_source {
    const void *base;
    size_t stride, off;
} id_source;

static uint64_t id_at(const id_source *src, size_t i)
{
    const char *item = src->stride ? (const char *)src->base + i * src->stride
                                   : ((const char *const *)src->base)[i];
    uint64_t id;
    memcpy(&id, item + src->off, sizeof(id));
    return id;
}

static int build_direct(pg_idmap *m, pg_arena *a, const id_source *src, uint64_t max,
                        pg_idmap_problem *why)
{
    m->mode = PG_IDMAP_DIRECT;
    m->cap = (size_t)max + 1;
    m->slots = zalloc(a, m->cap, sizeof(uint32_t));
    if (!m->slots) {
        why->kind = PG_IDMAP_NOMEM;
        return -1;
    }
    for (size_t i = 0; i < m->n; i++) {
        uint64_t id = id_at(src, i);
        if (m->slots[id]) {
            why->kind = PG_IDMAP_DUPLICATE;
            why->id = id;
            return -1;
        }
        m->slots[id] = (uint32_t)i + 1;
    }
    return 0;
}

static int build_hash(pg_idmap *m, pg_arena *a, const id_source *src, pg_idmap_problem *why)
{
    m->mode = PG_IDMAP_HASH;
    m->cap = 16;
    while (m->cap < m->n * 2)
        m->cap <<= 1;
    m->slots = zalloc(a, m->cap, sizeof(uint32_t));
    m->keys = zalloc(a, m->cap, sizeof(uint64_t));
    if (!m->slots || !m->keys) {
        why->kind = PG_IDMAP_NOMEM;
        return -1;
    }
    size_t mask = m->cap - 1;
    for (size_t i = 0; i < m->n; i++) {
        uint64_t id = id_at(src, i);
        size_t k = (size_t)pg_cv_hash_mix(0, id) & mask;
        while (m->slots[k] && m->keys[k] != id)
            k = (k + 1) & mask;
        if (m->slots[k]) {
            why->kind = PG_IDMAP_DUPLICATE;
            why->id = id;
            return -1;
        }
        m->keys[k] = id;
        m->slots[k] = (uint32_t)i + 1;
    }
    return 0;
}

static int build(pg_idmap *m, pg_arena *a, const id_source *src, size_t n, pg_idmap_problem *why)
{
    memset(m, 0, sizeof(*m));
    memset(why, 0, sizeof(*why));
    m->n = n;
    m->heap = a == NULL;
    if (n >= UINT32_MAX / 2) {
        why->kind = PG_IDMAP_NOMEM;
        return -1;
    }
    uint64_t max = 0;
    int sequential = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = id_at(src, i);
        if (!id) {
            why->kind = PG_IDMAP_ZERO;
            why->position = i;
            return -1;
        }
        sequential &= id == i + 1;
        max = id > max ? id : max;
    }
    if (sequential) {
        m->mode = PG_IDMAP_SEQUENTIAL;
        return 0;
    }
    /* a direct array costs 4 bytes per possible id: worth it while ids are dense */
    if (max < (uint64_t)n * 4 + 64)
        return build_direct(m, a, src, max, why);
    return build_hash(m, a, src, why);
}

int pg_idmap_build(pg_idmap *m, pg_arena *a, void *const *items, size_t n, size_t id_offset,
                   pg_idmap_problem *why)
{
    id_source src = {items, 0, id_offset};
    return build(m, a, &src, n, why);
}

int pg_idmap_build_array(pg_idmap *m, pg_arena *a, const void *array, size_t n, size_t stride,
                         size_t id_offset, pg_idmap_problem *why)
{
    id_source src = {array, stride, id_offset};
    return build(m, a, &src, n, why);
}

void pg_idmap_release(pg_idmap *m)
{
    if (m->heap) {
        free(m->slots);
        free(m->keys);
    }
    m->slots = NULL;
    m->keys = NULL;
}

int p2o_set_init(pg_arena *a, p2o_set *s, size_t expected)
{
    s->cap = 16;
    while (s->cap < expected * 2)
        s->cap <<= 1;
    s->n = 0;
    s->slots = pg_arena_calloc(a, s->cap, sizeof(p2o_slot));
    return s->slots ? 0 : -1;
}

int p2o_set_grow(pg_arena *a, p2o_set *s)
{
    size_t cap = s->cap * 2, mask = cap - 1;
    p2o_slot *slots = pg_arena_calloc(a, cap, sizeof(p2o_slot));
    if (!slots)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i].entry)
            continue;
        size_t k = s->slots[i].hash & mask;
        while (slots[k].entry)
            k = (k + 1) & mask;
        slots[k] = s->slots[i];
    }
    s->slots = slots;
    s->cap = cap;
    return 0;
}
