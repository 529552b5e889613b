/*
 * receivers/otlp: OTLP profiles over gRPC
 * (/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export)
 * and over HTTP (POST /v1development/profiles, application/x-protobuf or
 * application/json, Content-Encoding gzip/zstd/deflate).
 *
 * Every request is decoded and validated once (model/otlp.h); its encoded
 * bytes become one shared payload and each profile in it becomes one
 * pg_profile whose labels are the resource, scope and profile attributes
 * (service.name -> service_name).
 *
 * Authentication (`auth`, receivers/common/auth.h) covers both transports:
 * with credentials configured, a request without a valid Authorization
 * header (gRPC: authorization metadata) is refused with 401 / UNAUTHENTICATED
 * before its body is decoded, and one whose X-Scope-OrgID names another
 * tenant than its credential's with 403 / PERMISSION_DENIED. Each profile
 * records the credential's tenant and the header's
 * (pg_profile_set_tenant_sources); its tenant is the credential's, else the
 * header's.
 */
#ifndef PG_RECEIVERS_OTLP_RECEIVER_H
#define PG_RECEIVERS_OTLP_RECEIVER_H

#include <stdint.h>

#include "pipeline/component.h"
#include "receivers/common/auth.h"

typedef struct pg_otlp_tls_config {
    int present;
    char *cert_file;
    char *key_file;
    char *client_ca_file;
} pg_otlp_tls_config;

typedef struct pg_otlp_protocol_config {
    int present;
    char *endpoint;
    uint64_t max_body_size; /* on the wire and after decompression */
    uint64_t idle_timeout_ms;
    uint64_t read_timeout_ms;
    uint64_t max_header_size;
    int64_t max_concurrent_streams;
    pg_otlp_tls_config tls;
} pg_otlp_protocol_config;

typedef struct pg_otlp_receiver_config {
    int protocols_present;
    pg_otlp_protocol_config grpc;
    pg_otlp_protocol_config http;
    pg_auth_config auth;
} pg_otlp_receiver_config;

extern const pg_component_def pg_otlp_receiver_def;

#endif
