/*
 * Private to exporters/common/delivery*.c: the request, the per-worker
 * queue and the chain's shared counters.
 *
 * Ownership: a submitted request sits in exactly one worker's list from
 * pg_delivery_submit until it is delivered, failed or dropped; the worker's
 * loop thread is the only one that touches it. The global budget (profiles,
 * bytes, requests) is reserved with atomics at submit and released when the
 * request leaves the list.
 */
#ifndef PG_EXPORTERS_COMMON_DELIVERY_INTERNAL_H
#define PG_EXPORTERS_COMMON_DELIVERY_INTERNAL_H

#include <stdatomic.h>

#include "common/arena.h"
#include "exporters/common/delivery.h"
#include "telemetry/metrics.h"

typedef enum delivery_state {
    DELIVERY_READY = 0, /* waiting for a consumer slot */
    DELIVERY_IN_FLIGHT,
    DELIVERY_BACKOFF, /* waiting until ready_at_ms */
} delivery_state;

typedef struct delivery_worker delivery_worker;

struct pg_delivery_request {
    pg_delivery_request *prev, *next;
    delivery_worker *ws;
    pg_arena *arena; /* path, content type, tenant, headers */
    const char *path, *content_type, *tenant;
    pg_http_header *headers;
    size_t n_headers, cap_headers;
    uint8_t *body;
    size_t body_len;
    uint32_t profiles;
    delivery_state state;
    uint32_t attempts;
    uint64_t first_attempt_ms;
    uint64_t ready_at_ms;
    int last_status;      /* of the last response, 0 when none */
    char last_error[192]; /* why the last attempt failed */
};

struct delivery_worker {
    pg_delivery *d;
    pg_worker *w;
    pg_http_client *client;
    uv_timer_t backoff_timer;  /* wakes the earliest BACKOFF request */
    uv_timer_t deadline_timer; /* the drain's end */
    int started, stopping, closed;
    pg_delivery_request *head, *tail; /* FIFO: retries keep their place */
    size_t in_flight, slots;
    uint64_t rng;
    uint64_t shutdown_profiles, shutdown_requests; /* dropped at the deadline */
};

typedef enum delivery_log_kind {
    DLOG_PERMANENT = 0,
    DLOG_EXHAUSTED,
    DLOG_QUEUE_FULL,
    DLOG_REFUSED,
    DLOG_PARTIAL,
    DLOG_RETRY,
    DLOG_COUNT,
} delivery_log_kind;

/* reasons exporters pass to pg_delivery_count_failed, registered up front */
#define DELIVERY_EXPORTER_REASONS 3
extern const char *const delivery_exporter_reasons[DELIVERY_EXPORTER_REASONS];

typedef struct delivery_metrics {
    pg_metric *sent_profiles, *sent_bytes, *sent_requests;
    pg_metric *failed_permanent, *failed_exhausted, *failed_partial;
    pg_metric *failed_exporter[DELIVERY_EXPORTER_REASONS];
    pg_metric *dropped_queue_full, *dropped_shutdown;
    pg_metric *retries, *refused;
    pg_metric *queue_profiles, *queue_bytes;
    pg_metric *duration;
} delivery_metrics;

struct pg_delivery {
    char *id;
    const pg_delivery_config *cfg;
    int workers;
    int http2;
    pg_delivery_classify_fn classify;
    void *classify_arg;
    pg_http_target *target;
    delivery_worker *ws;
    delivery_metrics m;
    _Atomic uint64_t queued_profiles, queued_bytes, queued_requests;
    _Atomic uint64_t last_log_ms[DLOG_COUNT];
    _Atomic uint64_t suppressed_logs[DLOG_COUNT];
};

/* delivery_metrics.c */
void pg_delivery_metrics_init(pg_delivery *d);
void pg_delivery_update_gauges(pg_delivery *d);
/* 1 when a line of this kind may be logged now (one per second per
 * exporter and kind); *suppressed gets how many were skipped since. */
int pg_delivery_log_allowed(pg_delivery *d, delivery_log_kind k, uint64_t *suppressed);

/* delivery_worker.c */
void pg_delivery_enqueue(delivery_worker *ws, pg_delivery_request *r);
/* Releases r's share of the global budget and frees it. */
void pg_delivery_release(pg_delivery *d, pg_delivery_request *r);

/* delivery_classify.c: the wait before retry number `attempt` (1-based). */
uint64_t pg_delivery_backoff_ms(const pg_retry_config *c, uint32_t attempt, uint64_t *rng);

#endif
