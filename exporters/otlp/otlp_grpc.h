/*
 * The gRPC side of the otlp exporter, apart from any socket: what one
 * ProfilesService/Export call sends, and how its answer is read.
 *
 * Request: POST <endpoint>/opentelemetry.proto.collector.profiles.
 * v1development.ProfilesService/Export over HTTP/2, Content-Type
 * application/grpc, te: trailers, grpc-accept-encoding, grpc-timeout (the
 * attempt's timeout, so the server gives up when we do), grpc-encoding when
 * compressed; the body is one length-prefixed message whose flag byte says
 * whether it is compressed. The tenant and configured headers are added by
 * the delivery chain (HTTP/2 sends header names in lower case).
 *
 * Answer (see pg_otlp_grpc_read):
 *   HTTP status other than 200   gRPC's HTTP-to-status table (400 INTERNAL,
 *                                401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
 *                                404 UNIMPLEMENTED, 429/502/503/504
 *                                UNAVAILABLE, else UNKNOWN), Retry-After kept
 *   200 without grpc-status      a transport problem: retryable
 *   grpc-status                  headers or trailers; grpc-message
 *                                percent-decoded; RetryInfo.retry_delay from
 *                                grpc-status-details-bin as the retry hint
 *   OK                           the ExportProfilesServiceResponse; its
 *                                partial_success is logged and reported as
 *                                rejected profiles
 * and the verdict is pg_delivery_grpc_verdict's.
 */
#ifndef PG_EXPORTERS_OTLP_OTLP_GRPC_H
#define PG_EXPORTERS_OTLP_OTLP_GRPC_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "exporters/common/delivery.h"
#include "transport/compress.h"
#include "transport/http_client.h"

#define PG_OTLP_GRPC_PATH                                                                          \
    "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"
#define PG_OTLP_GRPC_MAX_HEADERS 4

/* One call's body and per-request headers. */
typedef struct pg_otlp_grpc_call {
    uint8_t *body; /* malloc'd: 5-byte prefix + (compressed) message */
    size_t len;
    pg_http_header headers[PG_OTLP_GRPC_MAX_HEADERS];
    size_t n_headers;
    char timeout[16]; /* grpc-timeout value, pointed to by headers */
} pg_otlp_grpc_call;

/* Frames msg (compressed with c) and fills the headers. timeout_ms 0: no
 * grpc-timeout. PG_ERR_NOMEM / PG_ERR_LIMIT. Free call->body when done. */
int pg_otlp_grpc_call_build(pg_compression c, uint64_t timeout_ms, const uint8_t *msg, size_t len,
                            pg_otlp_grpc_call *call, pg_error *err);

/* grpc-timeout for ms: the finest unit that fits gRPC's 8 digits. */
void pg_otlp_grpc_timeout_format(uint64_t ms, char *out, size_t n);

/* What a response says, before the verdict. */
typedef struct pg_otlp_grpc_reply {
    int grpc_status;         /* -1: the answer had none (HTTP 200 without grpc-status) */
    int from_http;           /* 1: grpc_status was derived from a non-200 HTTP status */
    uint64_t retry_after_ms; /* RetryInfo or (non-200) Retry-After; 0: none */
    int64_t rejected;        /* OK: partial_success.rejected_profiles */
    char message[256];       /* grpc-message (decoded), or partial_success.error_message */
} pg_otlp_grpc_reply;

/* Reads a complete response (outcome PG_HTTP_RESPONSE). now_unix_ms is for
 * an HTTP-date Retry-After. Never fails: what cannot be read is described
 * in message. */
void pg_otlp_grpc_read(const pg_http_client_response *resp, uint64_t now_unix_ms,
                       pg_otlp_grpc_reply *reply);

/* gRPC's mapping of a non-200 HTTP status. */
int pg_otlp_grpc_status_from_http(int http_status);

/* grpc-message percent-decoding into out (always terminated). */
void pg_otlp_grpc_percent_decode(const char *in, char *out, size_t n);

/* pg_delivery_classify_fn for the otlp exporter; arg is the component (for
 * its log lines), or NULL. */
void pg_otlp_grpc_classify(void *arg, const pg_delivery_request *req,
                           const pg_http_client_response *resp, pg_delivery_outcome *out);

#endif
