/*
 * exporters/otlp: OTLP profiles over gRPC, one unary
 * ProfilesService/Export call per batch and tenant (exporters/otlp/
 * otlp_grpc.h for the wire, otlp_export.h for the batch -> request rules),
 * through the shared delivery chain (queue, retry, per-attempt timeout).
 *
 *     endpoint: http://collector:4317   # h2c with prior knowledge; https://
 *                                       # or host:port: TLS with ALPN h2
 *     compression: gzip                 # gzip | zstd | none
 *     ...every key of exporters/common/delivery_config.h
 */
#ifndef PG_EXPORTERS_OTLP_OTLP_EXPORTER_H
#define PG_EXPORTERS_OTLP_OTLP_EXPORTER_H

#include "exporters/common/delivery_config.h"
#include "pipeline/component.h"

typedef struct pg_otlp_exporter_config {
    pg_delivery_config delivery; /* must be first */
    int compression;             /* pg_compression */
} pg_otlp_exporter_config;

extern const pg_component_def pg_otlp_exporter_def;

#endif
