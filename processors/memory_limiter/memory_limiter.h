/*
 * processors/memory_limiter: refuses new data while the process uses too
 * much memory, so that a slow destination fills the exporters' queues only
 * up to a bound instead of growing profgate until the kernel kills it.
 *
 *   limit_mib        the hard limit on resident memory (required)
 *   spike_limit_mib  headroom below the hard limit for what arrives between
 *                    two checks (default 0 = 20% of limit_mib); must be
 *                    below limit_mib. Soft limit = limit_mib - spike_limit_mib
 *   check_interval   how often RSS is measured (default 1s)
 *
 * A thread of its own (started in start, joined in shutdown/destroy) reads
 * the resident set size from /proc/self/statm every check_interval. Above
 * the soft limit it starts refusing, asks the allocator to hand freed memory
 * back to the kernel (glibc malloc_trim) and measures again: it keeps
 * refusing while RSS stays above the soft limit (above the hard limit too,
 * necessarily), and accepts again at the first check below it.
 *
 * While refusing, consume answers RESOURCE_EXHAUSTED (HTTP 429, gRPC
 * RESOURCE_EXHAUSTED) with a message naming the limit and the RSS, and
 * retry_after_ms = check_interval (at least 1 s); nothing is accepted and
 * then dropped. Otherwise the batch passes unchanged (read-only).
 *
 * RSS counts everything the process touched and has not returned: queued
 * payloads, requests being received or decoded, per-connection buffers,
 * allocator free lists not yet trimmed, code and thread stacks. It lags what
 * profgate holds (freed memory stays resident until trimmed) and can exceed
 * the limit by what arrives in one check_interval plus requests already in
 * flight, which is what spike_limit_mib is for. Put memory_limiter first in
 * the pipeline, so refused data costs as little as possible.
 *
 * Metrics: profgate_processor_refused_profiles_total{reason="memory_limit"},
 * profgate_processor_memory_rss_bytes and profgate_processor_memory_refusing
 * (0/1), labelled processor="<id>".
 */
#ifndef PG_PROCESSORS_MEMORY_LIMITER_MEMORY_LIMITER_H
#define PG_PROCESSORS_MEMORY_LIMITER_MEMORY_LIMITER_H

#include <stdint.h>

#include "pipeline/component.h"

typedef struct pg_memory_limiter_config {
    int64_t limit_mib;
    int64_t spike_limit_mib; /* 0 = 20% of limit_mib */
    uint64_t check_interval_ms;
} pg_memory_limiter_config;

extern const pg_component_def pg_memory_limiter_processor_def;

#endif
