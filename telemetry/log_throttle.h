/*
 * At most one log line per second per kind of event, from any thread, so a
 * flood of refused requests or dropped profiles cannot flood the log.
 */
#ifndef PG_TELEMETRY_LOG_THROTTLE_H
#define PG_TELEMETRY_LOG_THROTTLE_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "common/clock.h"

typedef struct pg_log_throttle {
    _Atomic uint64_t last_ms; /* 0 = never logged */
    _Atomic uint64_t skipped;
} pg_log_throttle;

/* 1 when a line may be written now; *skipped then gets how many were held
 * back since the last one. */
static inline int pg_log_throttle_allow(pg_log_throttle *t, uint64_t *skipped)
{
    uint64_t now = pg_now_ms() + 1; /* never 0 */
    uint64_t last = atomic_load_explicit(&t->last_ms, memory_order_relaxed);
    if ((last && now - last < 1000) ||
        !atomic_compare_exchange_strong_explicit(&t->last_ms, &last, now, memory_order_relaxed,
                                                 memory_order_relaxed)) {
        atomic_fetch_add_explicit(&t->skipped, 1, memory_order_relaxed);
        return 0;
    }
    *skipped = atomic_exchange_explicit(&t->skipped, 0, memory_order_relaxed);
    return 1;
}

/* " (N more since the last line)", or "" when none were held back. */
static inline const char *pg_log_throttle_note(uint64_t skipped, char *buf, size_t size)
{
    if (!skipped)
        return "";
    snprintf(buf, size, " (%llu more since the last line)", (unsigned long long)skipped);
    return buf;
}

#endif
