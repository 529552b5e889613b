/*
 * What the otlp (gRPC) and otlphttp exporters share: the lifecycle around
 * their delivery chain (exporters/common/delivery.h) and the consume loop.
 *
 * consume splits the batch by tenant (batches never mix tenants on the
 * wire); each tenant's profiles become one ExportProfilesServiceRequest with
 * one merged dictionary (exporters/common/otlp_request.h), which the
 * exporter's make callback wraps into a delivery request (framing,
 * compression, headers) and the chain sends. Accounting:
 *   - a tenant's share that would not fit the queue is not built
 *     (pg_delivery_overflow: refused with RESOURCE_EXHAUSTED or dropped);
 *   - pprof profiles that do not convert: failed{reason="convert"}, reported
 *     as rejected; PERMANENT when nothing of the batch converted;
 *   - a request that cannot be built: failed{reason="encode"}.
 */
#ifndef PG_EXPORTERS_OTLP_OTLP_EXPORT_H
#define PG_EXPORTERS_OTLP_OTLP_EXPORT_H

#include "exporters/common/delivery.h"
#include "exporters/common/otlp_request.h"
#include "pipeline/component.h"

/* Wraps an encoded request body for one tenant into a delivery request.
 * Takes what it needs from body (pg_otlp_body_take); NULL with err set on
 * failure. */
typedef pg_delivery_request *(*pg_otlp_make_fn)(pg_component *self, const char *tenant,
                                                pg_otlp_body *body, pg_error *err);

typedef struct pg_otlp_export {
    pg_delivery *delivery;
    pg_otlp_body_encoding encoding;
    pg_otlp_make_fn make;
    void *exporter; /* the exporter's own state */
} pg_otlp_export;

typedef struct pg_otlp_export_opts {
    const pg_delivery_config *config; /* must outlive the exporter */
    int http2;
    pg_delivery_classify_fn classify; /* called with the component as its arg */
    pg_otlp_body_encoding encoding;
    pg_otlp_make_fn make;
    void *exporter;
} pg_otlp_export_opts;

/* create: self->state becomes a pg_otlp_export. */
int pg_otlp_export_create(pg_component *self, const pg_otlp_export_opts *o, pg_error *err);
int pg_otlp_export_start(pg_component *self, pg_error *err);
int pg_otlp_export_worker_start(pg_component *self, pg_worker *w, pg_error *err);
int pg_otlp_export_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res);
void pg_otlp_export_worker_stop(pg_component *self, pg_worker *w);
void pg_otlp_export_shutdown(pg_component *self, uint64_t deadline_ms);
/* Frees the chain and the pg_otlp_export; returns the exporter's own state
 * for the caller to free. */
void *pg_otlp_export_destroy(pg_component *self);

/* A delivered request's partial_success: rejected profiles (capped at what
 * the request carried) go into out for the chain to count and log; a
 * message without rejections (a warning) is logged here. */
void pg_otlp_export_partial(pg_component *self, const pg_delivery_request *req, int64_t rejected,
                            const char *message, pg_delivery_outcome *out);

#endif
