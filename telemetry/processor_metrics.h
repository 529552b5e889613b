/*
 * The metric families processors share, labelled processor="<id>" and, where
 * given, reason="<why>". One place for their names and help texts, so that
 * every processor fills the same families:
 *
 *   dropped  profiles a processor took out of the stream on purpose
 *            (filtered, sampled out, no route, no labels left) or could not
 *            hand downstream (batch); the reason says which
 *   refused  profiles a processor answered with a retryable error (rate
 *            limit with action refuse, memory limit): the client was asked
 *            to send them again, nothing was lost
 */
#ifndef PG_TELEMETRY_PROCESSOR_METRICS_H
#define PG_TELEMETRY_PROCESSOR_METRICS_H

#include "telemetry/metrics.h"

#define PG_PROCESSOR_DROPPED_PROFILES "profgate_processor_dropped_profiles_total"
#define PG_PROCESSOR_REFUSED_PROFILES "profgate_processor_refused_profiles_total"

/* A counter of the family `name` for one processor; reason may be NULL.
 * Known families get their shared help text; others take `help`. */
pg_metric *pg_processor_counter(const char *name, const char *help, const char *processor_id,
                                const char *reason);
/* A gauge labelled with the processor id. */
pg_metric *pg_processor_gauge(const char *name, const char *help, const char *processor_id);

#endif
