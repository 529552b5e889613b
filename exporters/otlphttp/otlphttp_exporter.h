/*
 * exporters/otlphttp: OTLP profiles over HTTP, one POST per batch and tenant
 * (otlphttp_call.h for the wire, exporters/otlp/otlp_export.h for the batch
 * -> request rules), through the shared delivery chain.
 *
 *     endpoint: http://collector:4318
 *     profiles_endpoint: <endpoint>/v1development/profiles   # full URL
 *     encoding: proto                  # proto | json
 *     compression: gzip                # gzip | zstd | none
 *     ...every key of exporters/common/delivery_config.h
 */
#ifndef PG_EXPORTERS_OTLPHTTP_OTLPHTTP_EXPORTER_H
#define PG_EXPORTERS_OTLPHTTP_OTLPHTTP_EXPORTER_H

#include "exporters/common/delivery_config.h"
#include "pipeline/component.h"

typedef struct pg_otlphttp_exporter_config {
    pg_delivery_config delivery; /* must be first */
    char *profiles_endpoint;     /* NULL: <endpoint>/v1development/profiles */
    int encoding;                /* pg_otlp_body_encoding */
    int compression;             /* pg_compression */
} pg_otlphttp_exporter_config;

extern const pg_component_def pg_otlphttp_exporter_def;

#endif
