#include "telemetry/receiver_metrics.h"

#include <stdio.h>

void pg_receiver_counters_init(pg_receiver_counters *c, const char *receiver_id,
                               const char *transport)
{
    char labels[256];
    snprintf(labels, sizeof(labels), "receiver=\"%s\",transport=\"%s\"", receiver_id, transport);
    c->accepted_profiles = pg_metric_counter("profgate_receiver_accepted_profiles_total",
                                             "Profiles accepted by a receiver.", labels);
    c->refused_profiles =
        pg_metric_counter("profgate_receiver_refused_profiles_total",
                          "Profiles refused by a receiver or its pipelines.", labels);
    c->accepted_bytes = pg_metric_counter("profgate_receiver_accepted_bytes_total",
                                          "Request bytes (decompressed) accepted.", labels);
    c->refused_bytes = pg_metric_counter("profgate_receiver_refused_bytes_total",
                                         "Request bytes (decompressed) refused.", labels);
    c->requests_failed = pg_metric_counter("profgate_receiver_failed_requests_total",
                                           "Requests answered with an error.", labels);
}
