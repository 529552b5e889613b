/*
 * The service's own HTTP endpoint (service.telemetry.metrics.address):
 *   GET /metrics   Prometheus text format (telemetry/metrics.h)
 *   GET /healthz   200 "ok" while the service runs
 * Served by the same transport as the receivers, on every worker.
 */
#ifndef PG_TELEMETRY_TELEMETRY_SERVER_H
#define PG_TELEMETRY_TELEMETRY_SERVER_H

#include "common/error.h"
#include "pipeline/worker.h"

typedef struct pg_telemetry_server pg_telemetry_server;

/* address NULL, "" or "none": *out is NULL and every call below is a no-op. */
int pg_telemetry_server_new(const char *address, pg_telemetry_server **out, pg_error *err);
int pg_telemetry_server_worker_start(pg_telemetry_server *t, pg_worker *w, pg_error *err);
void pg_telemetry_server_worker_stop(pg_telemetry_server *t, pg_worker *w);
void pg_telemetry_server_free(pg_telemetry_server *t);

#endif
