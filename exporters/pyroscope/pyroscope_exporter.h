/*
 * exporters/pyroscope: sends profiles to Grafana Pyroscope (or anything that
 * speaks its ingestion APIs, such as our own pyroscope receiver), through the
 * shared delivery chain (exporters/common/delivery.h).
 *
 *   <delivery keys>    endpoint (base URL), timeout, headers, tenant_header,
 *                      tls, auth, sending_queue, retry_on_failure
 *                      (exporters/common/delivery_config.h)
 *   api                push (default): POST /push.v1.PusherService/Push,
 *                      Connect unary with application/proto; one request per
 *                      tenant, series grouped by label set
 *                      ingest: POST /ingest?name=app{k=v,...}&from&until,
 *                      one request per document
 *   external_labels    labels set on every profile, overriding its own
 *
 * Documents: a pprof payload is sent as its bytes unchanged; OTLP profiles
 * are converted to pprof (exporters/common/pprof_docs.h). What goes out for
 * each document and how labels are checked: pyroscope_request.h.
 */
#ifndef PG_EXPORTERS_PYROSCOPE_PYROSCOPE_EXPORTER_H
#define PG_EXPORTERS_PYROSCOPE_PYROSCOPE_EXPORTER_H

#include "exporters/common/delivery_config.h"
#include "exporters/pyroscope/pyroscope_request.h"
#include "pipeline/component.h"

typedef struct pg_pyroscope_exporter_config {
    pg_delivery_config delivery; /* must be first */
    int api;                     /* pg_pyroexp_api */
    pg_str_map external_labels;
} pg_pyroscope_exporter_config;

extern const pg_component_def pg_pyroscope_exporter_def;

#endif
