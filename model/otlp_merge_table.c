/* Arena vectors, canonical keys and interning tables of the merge builder. */
#include <string.h>

#include "model/otlp_merge_internal.h"
#include "common/hash.h"

void *pg_merge_new_msg(pg_arena *a, size_t size, const void *init)
{
    void *m = pg_arena_alloc(a, size);
    if (m)
        memcpy(m, init, size);
    return m;
}

int pg_merge_vec_push(pg_arena *a, pg_merge_vec *v, void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void **nv = pg_arena_alloc(a, cap * sizeof(*nv));
        if (!nv)
            return PG_ERR_NOMEM;
        if (v->n)
            memcpy(nv, v->v, v->n * sizeof(*nv));
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = item;
    return PG_OK;
}

/* ---- canonical keys ---- */

int pg_merge_key_reserve(pg_arena *a, pg_merge_key *k, size_t extra)
{
    if (k->len + extra <= k->cap)
        return PG_OK;
    size_t cap = k->cap ? k->cap : 256;
    while (cap < k->len + extra)
        cap *= 2;
    uint8_t *np = pg_arena_alloc(a, cap);
    if (!np)
        return PG_ERR_NOMEM;
    if (k->len)
        memcpy(np, k->p, k->len);
    k->p = np;
    k->cap = cap;
    return PG_OK;
}

int pg_merge_key_u64(pg_arena *a, pg_merge_key *k, uint64_t v)
{
    if (pg_merge_key_reserve(a, k, 8) != PG_OK)
        return PG_ERR_NOMEM;
    memcpy(k->p + k->len, &v, 8);
    k->len += 8;
    return PG_OK;
}

int pg_merge_key_bytes(pg_arena *a, pg_merge_key *k, const void *p, size_t n)
{
    if (pg_merge_key_u64(a, k, n) != PG_OK || pg_merge_key_reserve(a, k, n) != PG_OK)
        return PG_ERR_NOMEM;
    if (n)
        memcpy(k->p + k->len, p, n);
    k->len += n;
    return PG_OK;
}

int pg_merge_key_message(pg_arena *a, pg_merge_key *k, const ProtobufCMessage *m)
{
    size_t n = m ? protobuf_c_message_get_packed_size(m) : 0;
    if (pg_merge_key_u64(a, k, m ? n + 1 : 0) != PG_OK || pg_merge_key_reserve(a, k, n) != PG_OK)
        return PG_ERR_NOMEM;
    if (m)
        k->len += protobuf_c_message_pack(m, k->p + k->len);
    return PG_OK;
}

/* ---- interning tables ---- */

/* Doubles the slot array (load stays <= 1/2); the per-entry arrays have half
 * as many places as there are slots. */
static int table_grow(pg_arena *a, pg_merge_table *t)
{
    size_t cap = t->slots ? (t->mask + 1) * 2 : 64;
    uint32_t *slots = pg_arena_calloc(a, cap, sizeof(*slots));
    const uint8_t **keys = pg_arena_alloc(a, cap / 2 * sizeof(*keys));
    uint32_t *lens = pg_arena_alloc(a, cap / 2 * sizeof(*lens));
    uint64_t *hashes = pg_arena_alloc(a, cap / 2 * sizeof(*hashes));
    if (!slots || !keys || !lens || !hashes)
        return PG_ERR_NOMEM;
    size_t n = t->items.n;
    if (n) {
        memcpy(keys, t->keys, n * sizeof(*keys));
        memcpy(lens, t->key_lens, n * sizeof(*lens));
        memcpy(hashes, t->hashes, n * sizeof(*hashes));
    }
    for (size_t i = 0; i < n; i++) {
        size_t s = hashes[i] & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = (uint32_t)i + 1;
    }
    t->slots = slots;
    t->mask = cap - 1;
    t->keys = keys;
    t->key_lens = lens;
    t->hashes = hashes;
    return PG_OK;
}

int64_t pg_merge_table_put(pg_arena *a, pg_merge_table *t, const pg_merge_key *k, void *item)
{
    if ((t->items.n + 1) * 2 > (t->slots ? t->mask + 1 : 0) && table_grow(a, t) != PG_OK)
        return PG_ERR_NOMEM;
    if (t->items.n >= INT32_MAX - 1 || k->len >= UINT32_MAX)
        return PG_ERR_LIMIT;
    uint64_t h = pg_hash_bytes(k->p, k->len, 0);
    size_t s = h & t->mask;
    for (; t->slots[s]; s = (s + 1) & t->mask) {
        uint32_t i = t->slots[s] - 1;
        if (t->hashes[i] == h && t->key_lens[i] == k->len && memcmp(t->keys[i], k->p, k->len) == 0)
            return i;
    }
    size_t i = t->items.n;
    uint8_t *copy = pg_arena_alloc(a, k->len + 1);
    if (!copy)
        return PG_ERR_NOMEM;
    if (k->len)
        memcpy(copy, k->p, k->len);
    copy[k->len] = 0;
    if (pg_merge_vec_push(a, &t->items, item ? item : (void *)copy) != PG_OK)
        return PG_ERR_NOMEM;
    t->keys[i] = copy;
    t->key_lens[i] = (uint32_t)k->len;
    t->hashes[i] = h;
    t->slots[s] = (uint32_t)i + 1;
    return (int64_t)i;
}
