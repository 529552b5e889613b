/*
 * Self-metrics in Prometheus text format, served on /metrics.
 *
 * Metrics are registered once (at component creation, any thread; the
 * registry takes a lock) and updated lock-free with relaxed atomics on the
 * hot path. A metric is identified by name plus a fixed label string such as
 * `receiver="otlp",transport="grpc"`; registering the same pair twice returns
 * the same metric.
 */
#ifndef PG_TELEMETRY_METRICS_H
#define PG_TELEMETRY_METRICS_H

#include <stdint.h>

#include "common/buf.h"

typedef struct pg_metric pg_metric;

typedef enum pg_metric_type {
    PG_METRIC_COUNTER,
    PG_METRIC_GAUGE,
    PG_METRIC_HISTOGRAM,
} pg_metric_type;

/* labels may be NULL or "" for none. Never returns NULL (aborts only if the
 * process is out of memory at start-up). */
pg_metric *pg_metric_counter(const char *name, const char *help, const char *labels);
pg_metric *pg_metric_gauge(const char *name, const char *help, const char *labels);

/* A histogram of durations in seconds with fixed buckets (5 ms .. 60 s),
 * rendered as _bucket{le=...}, _sum and _count. */
pg_metric *pg_metric_histogram(const char *name, const char *help, const char *labels);
void pg_metric_observe_us(pg_metric *m, uint64_t microseconds);
/* Histograms: the number of observations. */
int64_t pg_metric_histogram_count(const pg_metric *m);

void pg_metric_add(pg_metric *m, int64_t delta);
void pg_metric_set(pg_metric *m, int64_t value);
int64_t pg_metric_value(const pg_metric *m);

/* Looks a metric up (tests); NULL when absent. */
pg_metric *pg_metric_find(const char *name, const char *labels);

/* Renders every metric, plus process_resident_memory_bytes, in Prometheus
 * text exposition format 0.0.4. */
void pg_metrics_render(pg_buf *out);

#endif
