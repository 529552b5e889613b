/*
 * receivers/pyroscope: the ingestion APIs that Pyroscope agents and Grafana
 * Alloy speak, on one port (HTTP/1.1 and h2c, TLS optional):
 *
 *   POST /ingest, /pyroscope/ingest   legacy ingest: pprof (raw, gzipped or in
 *                                     a multipart form), folded and lines text
 *   POST /push.v1.PusherService/Push  push API: Connect (proto and JSON), gRPC,
 *                                     gRPC-Web
 *   POST /v1/pprof                    the OpenTelemetry Collector pprof
 *                                     receiver's push form
 *
 * The payload stays pprof and is carried byte for byte; only labels are
 * derived (service_name, tags, __name__ as Pyroscope derives it).
 * docs/pyroscope.md describes every rule.
 *
 * Authentication (`auth`, receivers/common/auth.h) covers every route: with
 * credentials configured, a request without a valid Authorization header
 * is refused before its body is decoded (401 with WWW-Authenticate and the
 * Connect error {"code": "unauthenticated"}, gRPC and gRPC-Web
 * UNAUTHENTICATED), and one whose X-Scope-OrgID names another tenant than
 * its credential's is refused as permission_denied (403 /
 * PERMISSION_DENIED). Each profile records the credential's tenant and the
 * header's (pg_profile_set_tenant_sources); its tenant is the credential's,
 * else the header's.
 */
#ifndef PG_RECEIVERS_PYROSCOPE_RECEIVER_H
#define PG_RECEIVERS_PYROSCOPE_RECEIVER_H

#include <stdint.h>

#include "pipeline/component.h"
#include "receivers/common/auth.h"

typedef struct pg_pyro_receiver_config {
    char *endpoint;
    uint64_t max_body_size; /* on the wire, after Content-Encoding, and inflated pprof */
    uint64_t read_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t max_header_size;
    int64_t max_concurrent_streams;
    struct {
        int present;
        char *cert_file;
        char *key_file;
        char *client_ca_file;
    } tls;
    struct {
        int present;
        char *service_name;
    } pprof;
    pg_auth_config auth;
} pg_pyro_receiver_config;

extern const pg_component_def pg_pyroscope_receiver_def;

#endif
