/*
 * Lock-free token buckets for the sample processor's rate limits.
 *
 * Each bucket is GCRA (the generic cell rate algorithm): one atomic 64-bit
 * "theoretical arrival time" (TAT, monotonic nanoseconds). Taking something
 * that costs c nanoseconds of rate (units / rate) moves TAT to
 * max(TAT, now) + c; it is allowed when the new TAT is at most burst_ns ahead
 * of now, which is a bucket of capacity rate * burst refilling at rate. The
 * update is one compare-and-swap loop, so any number of threads share a
 * bucket without a lock and never admit more than the bucket holds.
 *
 * One thing costing more than the whole bucket would never fit; it is
 * admitted when the bucket is full (TAT <= now) and leaves the bucket in debt
 * for the time it costs, so a large profile still gets through at the
 * configured average rate.
 *
 * A table maps key hashes to buckets: open addressing over a fixed array,
 * slots claimed with a compare-and-swap on the key hash, at most max_keys
 * slots in use. Keys are never evicted: once max_keys keys were seen, every
 * new key shares the table's single overflow slot.
 */
#ifndef PG_PROCESSORS_SAMPLE_GCRA_H
#define PG_PROCESSORS_SAMPLE_GCRA_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Dimensions of one slot: one bucket in profiles, one in bytes. */
enum { PG_GCRA_PROFILES = 0, PG_GCRA_BYTES = 1, PG_GCRA_DIMS = 2 };

/* Cost in nanoseconds of `units` at `rate` units per second (>0). */
uint64_t pg_gcra_cost_ns(double units, double rate);

/* Takes cost_ns from the bucket at time now. Returns 1 when admitted; else 0
 * and *wait_ns (may be NULL) is how long until the same take would succeed. */
int pg_gcra_take(_Atomic uint64_t *tat, uint64_t now, uint64_t cost_ns, uint64_t burst_ns,
                 uint64_t *wait_ns);
/* Gives back what an admitted take of cost_ns took. */
void pg_gcra_refund(_Atomic uint64_t *tat, uint64_t cost_ns);

typedef struct pg_gcra_slot {
    _Atomic uint64_t key; /* 0 = free */
    _Atomic uint64_t tat[PG_GCRA_DIMS];
} pg_gcra_slot;

typedef struct pg_gcra_table {
    pg_gcra_slot *slots; /* a power of two, at least twice max_keys */
    size_t mask;
    size_t max_keys;
    _Atomic size_t used;
    pg_gcra_slot overflow;
} pg_gcra_table;

/* Returns PG_OK or PG_ERR_NOMEM. max_keys >= 1. */
int pg_gcra_table_init(pg_gcra_table *t, size_t max_keys);
void pg_gcra_table_free(pg_gcra_table *t);
/* The slot of key_hash, claimed when new; &t->overflow (and *overflowed = 1)
 * when the table is full. */
pg_gcra_slot *pg_gcra_table_get(pg_gcra_table *t, uint64_t key_hash, int *overflowed);
/* Keys holding a slot of their own. */
size_t pg_gcra_table_used(pg_gcra_table *t);

#endif
