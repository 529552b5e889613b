/* The chain's metrics (names in delivery.h) and its log rate limit. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "exporters/common/delivery_internal.h"
#include "telemetry/exporter_metrics.h"

#define LOG_INTERVAL_MS 1000u

const char *const delivery_exporter_reasons[DELIVERY_EXPORTER_REASONS] = {"convert", "encode",
                                                                          "invalid_labels"};

static pg_metric *counter(const pg_delivery *d, const char *name, const char *help,
                          const char *reason)
{
    return pg_exporter_counter(name, help, d->id, reason);
}

void pg_delivery_metrics_init(pg_delivery *d)
{
    delivery_metrics *m = &d->m;
    char labels[200];
    snprintf(labels, sizeof(labels), "exporter=\"%s\"", d->id);
    m->sent_profiles = counter(d, PG_EXPORTER_SENT_PROFILES, NULL, NULL);
    m->sent_bytes = counter(d, PG_EXPORTER_SENT_BYTES, NULL, NULL);
    m->sent_requests =
        counter(d, "profgate_exporter_sent_requests_total", "requests delivered", NULL);
    m->failed_permanent = counter(d, PG_EXPORTER_FAILED_PROFILES, NULL, "permanent");
    m->failed_exhausted = counter(d, PG_EXPORTER_FAILED_PROFILES, NULL, "retries_exhausted");
    m->failed_partial = counter(d, PG_EXPORTER_FAILED_PROFILES, NULL, "partial");
    for (size_t i = 0; i < DELIVERY_EXPORTER_REASONS; i++)
        m->failed_exporter[i] =
            counter(d, PG_EXPORTER_FAILED_PROFILES, NULL, delivery_exporter_reasons[i]);
    m->dropped_queue_full = counter(d, PG_EXPORTER_DROPPED_PROFILES, NULL, "queue_full");
    m->dropped_shutdown = counter(d, PG_EXPORTER_DROPPED_PROFILES, NULL, "shutdown");
    m->retries = counter(d, "profgate_exporter_retries_total", "attempts after the first", NULL);
    m->refused = counter(d, "profgate_exporter_refused_profiles_total",
                         "profiles refused upstream because the queue was full", NULL);
    m->queue_profiles = pg_metric_gauge("profgate_exporter_queue_profiles",
                                        "profiles queued, in flight or backing off", labels);
    m->queue_bytes = pg_metric_gauge("profgate_exporter_queue_bytes",
                                     "request bytes queued, in flight or backing off", labels);
    m->duration = pg_metric_histogram("profgate_exporter_request_duration_seconds",
                                      "duration of each attempt", labels);
}

void pg_delivery_count_failed(pg_delivery *d, uint32_t profiles, const char *reason)
{
    /* the known reasons were registered at creation: no registry lock here */
    for (size_t i = 0; i < DELIVERY_EXPORTER_REASONS; i++)
        if (strcmp(delivery_exporter_reasons[i], reason) == 0) {
            pg_metric_add(d->m.failed_exporter[i], profiles);
            return;
        }
    pg_metric_add(counter(d, PG_EXPORTER_FAILED_PROFILES, NULL, reason), profiles);
}

void pg_delivery_update_gauges(pg_delivery *d)
{
    pg_metric_set(d->m.queue_profiles, (int64_t)atomic_load(&d->queued_profiles));
    pg_metric_set(d->m.queue_bytes, (int64_t)atomic_load(&d->queued_bytes));
}

int pg_delivery_log_allowed(pg_delivery *d, delivery_log_kind k, uint64_t *suppressed)
{
    uint64_t now = pg_now_ms();
    uint64_t last = atomic_load(&d->last_log_ms[k]);
    if ((last && now - last < LOG_INTERVAL_MS) ||
        !atomic_compare_exchange_strong(&d->last_log_ms[k], &last, now)) {
        atomic_fetch_add(&d->suppressed_logs[k], 1);
        return 0;
    }
    *suppressed = atomic_exchange(&d->suppressed_logs[k], 0);
    return 1;
}
