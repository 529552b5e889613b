/*
 * The metric families every exporter shares, labelled exporter="<id>" and,
 * for the failure and drop counters, reason="<why>". One place for their
 * names and help texts, so that the file exporter and the network exporters
 * fill the same families.
 */
#ifndef PG_TELEMETRY_EXPORTER_METRICS_H
#define PG_TELEMETRY_EXPORTER_METRICS_H

#include "telemetry/metrics.h"

#define PG_EXPORTER_SENT_PROFILES    "profgate_exporter_sent_profiles_total"
#define PG_EXPORTER_SENT_BYTES       "profgate_exporter_sent_bytes_total"
#define PG_EXPORTER_FAILED_PROFILES  "profgate_exporter_failed_profiles_total"
#define PG_EXPORTER_DROPPED_PROFILES "profgate_exporter_dropped_profiles_total"

/* A counter of the family `name` for one exporter; reason may be NULL.
 * Known families get their shared help text; others take `help`. */
pg_metric *pg_exporter_counter(const char *name, const char *help, const char *exporter_id,
                               const char *reason);

#endif
