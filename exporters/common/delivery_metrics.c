/* The chain's metrics (names in delivery.h) and its log rate limit. */
#include <stdio.h>

#include "common/clock.h"
#include "exporters/common/delivery_internal.h"

#define LOG_INTERVAL_MS 1000u

static pg_metric *counter(const pg_delivery *d, const char *name, const char *help,
                          const char *reason)
{
    char labels[256];
    if (reason)
        snprintf(labels, sizeof(labels), "exporter=\"%s\",reason=\"%s\"", d->id, reason);
    else
        snprintf(labels, sizeof(labels), "exporter=\"%s\"", d->id);
    return pg_metric_counter(name, help, labels);
}

#define FAILED_HELP  "profiles the exporter gave up on"
#define DROPPED_HELP "profiles accepted upstream and then dropped"

void pg_delivery_metrics_init(pg_delivery *d)
{
    delivery_metrics *m = &d->m;
    char labels[200];
    snprintf(labels, sizeof(labels), "exporter=\"%s\"", d->id);
    m->sent_profiles = counter(d, "profgate_exporter_sent_profiles_total",
                               "profiles the destination accepted", NULL);
    m->sent_bytes =
        counter(d, "profgate_exporter_sent_bytes_total", "request body bytes delivered", NULL);
    m->sent_requests =
        counter(d, "profgate_exporter_sent_requests_total", "requests delivered", NULL);
    m->failed_permanent =
        counter(d, "profgate_exporter_failed_profiles_total", FAILED_HELP, "permanent");
    m->failed_exhausted =
        counter(d, "profgate_exporter_failed_profiles_total", FAILED_HELP, "retries_exhausted");
    m->failed_partial =
        counter(d, "profgate_exporter_failed_profiles_total", FAILED_HELP, "partial");
    counter(d, "profgate_exporter_failed_profiles_total", FAILED_HELP, "convert");
    counter(d, "profgate_exporter_failed_profiles_total", FAILED_HELP, "encode");
    m->dropped_queue_full =
        counter(d, "profgate_exporter_dropped_profiles_total", DROPPED_HELP, "queue_full");
    m->dropped_shutdown =
        counter(d, "profgate_exporter_dropped_profiles_total", DROPPED_HELP, "shutdown");
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
    pg_metric_add(counter(d, "profgate_exporter_failed_profiles_total", FAILED_HELP, reason),
                  profiles);
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
