/*
 * processors/sample: keeps a configured share of the series and holds
 * tenants and services to a rate.
 *
 *   probability  0..1 (default 1): the share of series kept. A series is the
 *                profile's tenant plus its whole label set; its hash (seeded
 *                with hash_seed) decides, so a series is always kept or
 *                always dropped, on every worker and across restarts with
 *                the same seed
 *   hash_seed    integer (default 0); another seed picks other series
 *   rate_limit   optional token buckets, shared by all workers:
 *     action       drop (default) | refuse
 *     burst        bucket capacity as time at the rate (default 1s)
 *     max_keys     distinct keys with a bucket of their own, per limit
 *                  (default 10000); keys seen after that share one
 *                  overflow bucket per limit
 *     per_tenant   {profiles_per_second, bytes_per_second}   key: tenant
 *     per_service  {profiles_per_second, bytes_per_second}   key: tenant +
 *                  service_name label
 *                  (0 or absent = that dimension is not limited)
 *
 * A profile passes when it fits every configured bucket; what it took from
 * the ones it fitted is given back when a later one turns it away. Bytes are
 * the payload's encoded size; a payload shared by several profiles of the
 * batch (an OTLP request) is split evenly between them.
 *
 * Answers: sampled-out profiles are dropped (reason "sampled_out"). With
 * action drop, profiles over a limit are dropped too (reason
 * "rate_limited") and the rest go on. With action refuse, one profile over
 * its limit refuses the whole batch with RESOURCE_EXHAUSTED, a message
 * naming the key and the limit and retry_after_ms = the time until the
 * bucket would take it; nothing is taken from any bucket then. Tokens of a
 * batch the next stage refuses are given back, since the client sends it
 * again. The refuse action must run before any batch processor: after it
 * the client has already been answered.
 */
#ifndef PG_PROCESSORS_SAMPLE_SAMPLE_H
#define PG_PROCESSORS_SAMPLE_SAMPLE_H

#include <stdint.h>

#include "pipeline/component.h"

typedef enum pg_sample_action {
    PG_SAMPLE_DROP = 0,
    PG_SAMPLE_REFUSE = 1,
} pg_sample_action;

typedef struct pg_sample_rates {
    int present;
    double profiles_per_second; /* 0 = unlimited */
    uint64_t bytes_per_second;  /* 0 = unlimited */
} pg_sample_rates;

typedef struct pg_sample_processor_config {
    double probability;
    int64_t hash_seed;
    int rate_limit_present;
    int action; /* pg_sample_action */
    uint64_t burst_ms;
    int64_t max_keys;
    pg_sample_rates per_tenant;
    pg_sample_rates per_service;
} pg_sample_processor_config;

extern const pg_component_def pg_sample_processor_def;

#endif
