/*
 * processors/batch: groups profiles into larger batches before they reach the
 * exporters, so that an exporter writes one merged request (one dictionary)
 * for many small incoming ones.
 *
 *   send_batch_size      profiles that trigger a flush (default 64)
 *   send_batch_max_size  upper bound of one flushed batch; 0 = no bound;
 *                        must be >= send_batch_size when set
 *   timeout              a pending batch older than this is flushed (200ms)
 *
 * State is per worker (no locks): each worker keeps one pending batch per
 * tenant (never mixing tenants) and at most PG_BATCH_MAX_TENANTS of them;
 * a new tenant beyond that flushes the oldest pending batch first. Accepted
 * profiles are copied (the payload is shared, not copied) and the processor
 * answers OK at once: from then on the data is the processor's
 * responsibility, and a downstream refusal at flush time is logged and
 * counted in profgate_processor_dropped_profiles_total{reason=...}.
 */
#ifndef PG_PROCESSORS_BATCH_BATCH_H
#define PG_PROCESSORS_BATCH_BATCH_H

#include <stdint.h>

#include "pipeline/component.h"

#define PG_BATCH_MAX_TENANTS 1024

typedef struct pg_batch_processor_config {
    int64_t send_batch_size;
    int64_t send_batch_max_size;
    uint64_t timeout_ms;
} pg_batch_processor_config;

extern const pg_component_def pg_batch_processor_def;

#endif
