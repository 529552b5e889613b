/*
 * The counters every receiver keeps per transport, with the labels
 * receiver="<id>" and transport="<name>": accepted and refused profiles,
 * accepted and refused request bytes (decompressed), failed requests.
 */
#ifndef PG_TELEMETRY_RECEIVER_METRICS_H
#define PG_TELEMETRY_RECEIVER_METRICS_H

#include "telemetry/metrics.h"

typedef struct pg_receiver_counters {
    pg_metric *accepted_profiles, *refused_profiles;
    pg_metric *accepted_bytes, *refused_bytes;
    pg_metric *requests_failed;
} pg_receiver_counters;

void pg_receiver_counters_init(pg_receiver_counters *c, const char *receiver_id,
                               const char *transport);

#endif
