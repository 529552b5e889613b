/*
 * What the gRPC and HTTP front-ends of the OTLP receiver share: decoding a
 * request body into a payload, turning it into a batch, handing the batch to
 * the pipelines, and counting the outcome.
 */
#ifndef PG_RECEIVERS_OTLP_INGEST_H
#define PG_RECEIVERS_OTLP_INGEST_H

#include "pipeline/component.h"
#include "telemetry/receiver_metrics.h"
#include "transport/http_server.h"

typedef enum pg_otlp_encoding {
    PG_OTLP_PROTO,
    PG_OTLP_JSON,
} pg_otlp_encoding;

/* Per-transport counters. */
typedef pg_receiver_counters pg_otlp_counters;

/* How a request ended, in protocol-neutral terms. */
typedef struct pg_otlp_outcome {
    int http_status;
    int grpc_status;
    int64_t rejected_profiles; /* for partial_success */
    uint32_t retry_after_s;
    char message[320];
} pg_otlp_outcome;

/* Where the request's tenant came from (receivers/common/auth.h): the
 * authenticated credential's and the X-Scope-OrgID header's; "" or NULL
 * when none. */
typedef struct pg_otlp_tenants {
    const char *auth_tenant;
    const char *header_tenant;
} pg_otlp_tenants;

/* Decodes body (already decompressed), sends its profiles downstream and fills
 * outcome. */
void pg_otlp_ingest(pg_component *self, pg_otlp_counters *counters, pg_worker *w,
                    pg_otlp_encoding enc, const uint8_t *body, size_t len, uint64_t max_body_size,
                    const pg_otlp_tenants *tenants, pg_otlp_outcome *outcome);

#endif
