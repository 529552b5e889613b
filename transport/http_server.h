/*
 * HTTP server for receivers: HTTP/1.1 (keep-alive, Content-Length and
 * chunked bodies) and HTTP/2 (h2c prior knowledge, and ALPN "h2" over TLS) on
 * the same port, plus gRPC on top of HTTP/2. One server object serves one
 * endpoint; it listens on every worker with SO_REUSEPORT, and each connection
 * lives on the worker loop that accepted it.
 *
 * Handlers are synchronous: the server calls them on the worker thread once
 * the whole request body has arrived (and, for gRPC, has been unframed and
 * decompressed), and sends what they put in the response when they return.
 * All request memory comes from req->arena, freed after the response is sent.
 *
 * Limits are enforced before handlers run: header bytes (431), body bytes
 * (413 / gRPC RESOURCE_EXHAUSTED), decompressed bytes (a gzip or zstd bomb is
 * stopped once the output passes the limit: 413), idle and slow-client
 * timeouts (the connection is closed).
 */
#ifndef PG_TRANSPORT_HTTP_SERVER_H
#define PG_TRANSPORT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/error.h"
#include "pipeline/worker.h"

typedef struct pg_http_server pg_http_server;

typedef struct pg_tls_server_config {
    const char *cert_file; /* NULL: plaintext */
    const char *key_file;
    const char *client_ca_file; /* non-NULL: require and verify client certificates */
} pg_tls_server_config;

/* How the transport words the errors it answers by itself (404, 405, 413,
 * 415, 431, a malformed request): plain text, or the JSON that Connect and
 * Pyroscope use, {"code": "<connect code>", "message": "..."}. */
typedef enum pg_http_error_style {
    PG_HTTP_ERRORS_TEXT = 0,
    PG_HTTP_ERRORS_JSON = 1,
} pg_http_error_style;

typedef struct pg_http_server_config {
    const char *endpoint; /* "host:port" */
    pg_tls_server_config tls;
    uint64_t max_header_bytes;       /* default 64 KiB */
    uint64_t max_body_bytes;         /* on the wire; default 64 MiB */
    uint64_t max_decompressed_bytes; /* after Content-Encoding/grpc-encoding; default 64 MiB */
    uint64_t idle_timeout_ms;        /* keep-alive connection with no request; default 60 s */
    uint64_t read_timeout_ms;        /* a request must arrive completely within; default 30 s */
    uint32_t max_concurrent_streams; /* HTTP/2; default 1000 */
    const char *log_scope;           /* e.g. "receiver/otlp" */
    pg_http_error_style error_style;
} pg_http_server_config;

typedef struct pg_http_header {
    const char *name; /* lower-case */
    const char *value;
} pg_http_header;

typedef struct pg_http_request {
    pg_arena *arena;
    pg_worker *worker;
    int http_major; /* 1 or 2 */
    const char *method;
    const char *path;  /* without the query string */
    const char *query; /* after '?', "" when none; not decoded */
    pg_http_header *headers;
    size_t n_headers;
    /* Body with Content-Encoding (gzip, zstd, deflate) already removed; for gRPC
     * the single unframed, decompressed message. */
    const uint8_t *body;
    size_t body_len;
    const char *remote_addr;
    /* gRPC deadline from grpc-timeout (added by transport): timeout_ns is the
     * value the client sent, deadline_ns the instant it expires on the
     * uv_hrtime() clock (CLOCK_MONOTONIC nanoseconds); both 0 when none. */
    uint64_t timeout_ns;
    uint64_t deadline_ns;
} pg_http_request;

/* Case-insensitive header lookup; NULL when absent. */
const char *pg_http_request_header(const pg_http_request *req, const char *name);
/* Decoded value of a query parameter (arena copy); NULL when absent. */
const char *pg_http_request_query_param(const pg_http_request *req, const char *name);

/* Every query parameter in order, names and values decoded (arena copies);
 * empty segments ("a=1&&b=2") are skipped. PG_ERR_NOMEM on failure. */
int pg_http_request_query_params(const pg_http_request *req, pg_http_header **params, size_t *n);

typedef struct pg_http_response {
    int status;               /* default 200 */
    const char *content_type; /* NULL: none */
    pg_http_header *headers;  /* extra headers (arena memory) */
    size_t n_headers;
    pg_buf body; /* freed by the server */
} pg_http_response;

int pg_http_response_add_header(pg_http_request *req, pg_http_response *resp, const char *name,
                                const char *value);

/* The Connect code name that goes with an HTTP status ("invalid_argument"
 * for 400, "resource_exhausted" for 413/429/431, ...). */
const char *pg_http_status_connect_code(int status);
/* Fills resp with status and the JSON error body
 * {"code": pg_http_status_connect_code(status), "message": message}. */
int pg_http_response_json_error(pg_http_response *resp, int status, const char *message);

typedef void (*pg_http_handler)(void *ctx, pg_http_request *req, pg_http_response *resp);

/* gRPC status codes used by profgate. */
enum {
    PG_GRPC_OK = 0,
    PG_GRPC_CANCELLED = 1,
    PG_GRPC_UNKNOWN = 2,
    PG_GRPC_INVALID_ARGUMENT = 3,
    PG_GRPC_DEADLINE_EXCEEDED = 4,
    PG_GRPC_NOT_FOUND = 5,
    PG_GRPC_PERMISSION_DENIED = 7,
    PG_GRPC_RESOURCE_EXHAUSTED = 8,
    PG_GRPC_FAILED_PRECONDITION = 9,
    PG_GRPC_UNIMPLEMENTED = 12,
    PG_GRPC_INTERNAL = 13,
    PG_GRPC_UNAVAILABLE = 14,
    PG_GRPC_UNAUTHENTICATED = 16,
};

typedef struct pg_grpc_response {
    int status;          /* PG_GRPC_*; default OK */
    const char *message; /* grpc-message (percent-encoded by the server) */
    pg_buf body;         /* one response message (unframed); sent only when status is OK */
} pg_grpc_response;

typedef void (*pg_grpc_handler)(void *ctx, pg_http_request *req, pg_grpc_response *resp);

pg_http_server *pg_http_server_new(const pg_http_server_config *cfg, pg_error *err);
/* Exact-path routes; method is "POST", "GET", ... Unrouted paths get 404,
 * a routed path with another method 405. Call before start. */
int pg_http_server_route(pg_http_server *s, const char *method, const char *path, pg_http_handler h,
                         void *ctx);
/* gRPC unary method by full path "/pkg.Service/Method" (HTTP/2 POST with
 * content-type application/grpc[+proto]). Call before start. */
int pg_http_server_grpc_route(pg_http_server *s, const char *path, pg_grpc_handler h, void *ctx);
/* On the worker thread: bind (SO_REUSEPORT) and start accepting. */
int pg_http_server_worker_start(pg_http_server *s, pg_worker *w, pg_error *err);
/* On the worker thread: stop accepting; finish in-flight requests; close idle
 * connections. Safe to call twice. */
void pg_http_server_worker_stop(pg_http_server *s, pg_worker *w);
void pg_http_server_free(pg_http_server *s);

/* Endpoint the server is bound to (useful with port 0 in tests): "host:port". */
const char *pg_http_server_endpoint(const pg_http_server *s);

#endif
