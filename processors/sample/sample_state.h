/* The sample processor's instance state, shared by its source files. */
#ifndef PG_PROCESSORS_SAMPLE_SAMPLE_STATE_H
#define PG_PROCESSORS_SAMPLE_SAMPLE_STATE_H

#include "telemetry/log_throttle.h"
#include "processors/sample/sample_internal.h"
#include "telemetry/metrics.h"

typedef struct sample_state {
    int limiting; /* rate_limit configured with at least one rate */
    pg_rate_limiter rl;
    pg_metric *sampled_out, *rate_dropped, *refused;
    pg_metric *overflow[PG_RL_LIMITS]; /* profiles charged to an overflow bucket */
    pg_metric *keys[PG_RL_LIMITS];     /* keys holding a bucket of their own */
    pg_log_throttle log_drop, log_refuse, log_overflow, log_sampled;
} sample_state;

void pg_sample_metrics_init(pg_component *self, sample_state *st);
int pg_sample_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res);

#endif
