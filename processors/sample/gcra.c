#include "processors/sample/gcra.h"

#include <math.h>
#include <stdlib.h>

#include "common/error.h"

/* Far beyond any sensible burst, and small enough that adding it to a
 * monotonic timestamp cannot wrap. */
#define MAX_COST_NS ((uint64_t)1 << 62)

uint64_t pg_gcra_cost_ns(double units, double rate)
{
    if (units <= 0 || rate <= 0)
        return 0;
    double ns = units * 1e9 / rate;
    if (!(ns < (double)MAX_COST_NS))
        return MAX_COST_NS;
    uint64_t c = (uint64_t)llround(ns);
    return c ? c : 1;
}

int pg_gcra_take(_Atomic uint64_t *tat, uint64_t now, uint64_t cost_ns, uint64_t burst_ns,
                 uint64_t *wait_ns)
{
    uint64_t old = atomic_load_explicit(tat, memory_order_relaxed);
    for (;;) {
        uint64_t base = old > now ? old : now;
        uint64_t next = base + cost_ns;
        uint64_t ahead = next - now;
        if (ahead > burst_ns) {
            /* Larger than the bucket: only a full bucket takes it. */
            int oversize_ok = cost_ns > burst_ns && old <= now;
            if (!oversize_ok) {
                if (wait_ns)
                    *wait_ns = cost_ns > burst_ns ? old - now : ahead - burst_ns;
                return 0;
            }
        }
        if (atomic_compare_exchange_weak_explicit(tat, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return 1;
    }
}

void pg_gcra_refund(_Atomic uint64_t *tat, uint64_t cost_ns)
{
    uint64_t old = atomic_load_explicit(tat, memory_order_relaxed);
    uint64_t next;
    do {
        next = old > cost_ns ? old - cost_ns : 0;
    } while (!atomic_compare_exchange_weak_explicit(tat, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
}

int pg_gcra_table_init(pg_gcra_table *t, size_t max_keys)
{
    size_t size = 2;
    while (size < max_keys * 2)
        size <<= 1;
    t->slots = calloc(size, sizeof(*t->slots));
    if (!t->slots)
        return PG_ERR_NOMEM;
    t->mask = size - 1;
    t->max_keys = max_keys;
    atomic_init(&t->used, 0);
    atomic_init(&t->overflow.key, 0);
    for (int d = 0; d < PG_GCRA_DIMS; d++)
        atomic_init(&t->overflow.tat[d], 0);
    return PG_OK;
}

void pg_gcra_table_free(pg_gcra_table *t)
{
    free(t->slots);
    t->slots = NULL;
}

/* Reserves room for one more key; 0 when max_keys are in use. */
static int reserve(pg_gcra_table *t)
{
    size_t used = atomic_load_explicit(&t->used, memory_order_relaxed);
    do {
        if (used >= t->max_keys)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&t->used, &used, used + 1, memory_order_relaxed,
                                                    memory_order_relaxed));
    return 1;
}

pg_gcra_slot *pg_gcra_table_get(pg_gcra_table *t, uint64_t key_hash, int *overflowed)
{
    uint64_t key = key_hash ? key_hash : 1;
    *overflowed = 0;
    /* The table is never more than half full, so probing meets a free slot
     * long before it has seen every one. */
    for (size_t n = 0, i = key & t->mask; n <= t->mask; n++, i = (i + 1) & t->mask) {
        pg_gcra_slot *s = &t->slots[i];
        uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return s;
        if (k != 0)
            continue;
        if (!reserve(t))
            break;
        uint64_t expect = 0;
        if (atomic_compare_exchange_strong_explicit(&s->key, &expect, key, memory_order_acq_rel,
                                                    memory_order_acquire))
            return s;
        atomic_fetch_sub_explicit(&t->used, 1, memory_order_relaxed);
        if (expect == key)
            return s;
    }
    *overflowed = 1;
    return &t->overflow;
}

size_t pg_gcra_table_used(pg_gcra_table *t)
{
    return atomic_load_explicit(&t->used, memory_order_relaxed);
}
