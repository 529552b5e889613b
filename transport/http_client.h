/*
 * HTTP client for exporters: libcurl's multi interface driven by a worker's
 * libuv loop. One pg_http_client belongs to one loop (one per exporter and
 * worker); requests run concurrently on it (HTTP/1.1 keep-alive connections,
 * or streams multiplexed over one HTTP/2 connection), and finish with a
 * callback on that loop. Nothing here blocks the loop:
 *   - name resolution uses libcurl's threaded resolver;
 *   - every file (CA bundle, client certificate and key, password and token
 *     files) is read once by pg_http_target_new on the main thread and handed
 *     to libcurl as memory blobs, so no handshake touches the disk.
 *
 * Protocol choice:
 *   plaintext   when the endpoint starts with "http://", or tls.insecure is set
 *   TLS         otherwise ("https://" or no scheme)
 *   HTTP/2      http2 = 1: ALPN "h2" over TLS, prior knowledge (h2c) over
 *               plaintext; a server that does not speak HTTP/2 fails the
 *               attempt. http2 = 0: HTTP/1.1, or HTTP/2 when TLS ALPN picks it.
 */
#ifndef PG_TRANSPORT_HTTP_CLIENT_H
#define PG_TRANSPORT_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/error.h"
#include "config/schema.h"
#include "transport/http_server.h" /* pg_http_header */

typedef struct pg_http_client_tls {
    int insecure;                     /* plaintext even without "http://" */
    const char *ca_file;              /* NULL: the system's CA bundle */
    const char *cert_file;            /* client certificate (mTLS), with key_file */
    const char *key_file;             /* PEM, unencrypted */
    int insecure_skip_verify;         /* do not verify the server's certificate or name */
    const char *server_name_override; /* SNI and the name the certificate must match */
} pg_http_client_tls;

typedef struct pg_http_client_auth {
    const char *username; /* basic: username plus password or password_file */
    const char *password;
    const char *password_file;
    const char *bearer_token; /* bearer: token or token_file (whitespace trimmed) */
    const char *bearer_token_file;
} pg_http_client_auth;

typedef struct pg_http_target_opts {
    const char *endpoint; /* "http://host:port/prefix", "https://...", or "host:port" */
    pg_http_client_tls tls;
    pg_http_client_auth auth;
    const pg_str_map *headers; /* sent with every request; may be NULL */
    int http2;                 /* 1: require HTTP/2 (gRPC) */
    const char *user_agent;    /* NULL: "profgate/<version>" */
} pg_http_target_opts;

/* Everything that is the same for every request to one destination, read
 * and checked on the main thread; immutable afterwards and shared by the
 * clients of every worker. */
typedef struct pg_http_target pg_http_target;

/* Reads the files the options name; errors name the file and the problem
 * (missing, unreadable, not PEM, empty token). */
int pg_http_target_new(const pg_http_target_opts *o, pg_http_target **out, pg_error *err);
void pg_http_target_free(pg_http_target *t);
/* The endpoint as a URL with its scheme and without a trailing '/'. */
const char *pg_http_target_url(const pg_http_target *t);
/* 1 when requests go out over TLS. */
int pg_http_target_tls(const pg_http_target *t);

typedef struct pg_http_client pg_http_client;

pg_http_client *pg_http_client_new(uv_loop_t *loop, const pg_http_target *t, pg_error *err);
/* Aborts requests still running (their callbacks run first, with
 * PG_HTTP_ABORTED), then closes the loop handles; the client frees itself
 * once the loop has closed them. NULL is accepted. */
void pg_http_client_close(pg_http_client *c);
/* Requests started and not yet finished. */
size_t pg_http_client_active(const pg_http_client *c);

typedef struct pg_http_client_request {
    const char *method;            /* NULL: "POST" */
    const char *path;              /* appended to the target URL: "/v1development/profiles?x=1" */
    const char *content_type;      /* NULL: none */
    const pg_http_header *headers; /* per request (tenant, encodings); values may be "" */
    size_t n_headers;
    const uint8_t *body; /* borrowed until the callback has run */
    size_t body_len;
    uint64_t timeout_ms;       /* the whole attempt, connect included; 0: none */
    size_t max_response_bytes; /* larger bodies fail the attempt; 0: 1 MiB */
} pg_http_client_request;

typedef enum pg_http_outcome {
    PG_HTTP_RESPONSE = 0,    /* a complete response arrived (any status) */
    PG_HTTP_CONNECT_ERROR,   /* refused, unreachable, name not resolved */
    PG_HTTP_TIMEOUT,         /* timeout_ms passed */
    PG_HTTP_TLS_ERROR,       /* handshake or certificate verification failed */
    PG_HTTP_TRANSPORT_ERROR, /* connection reset, malformed response, too large, ... */
    PG_HTTP_ABORTED,         /* the client was closed */
} pg_http_outcome;

typedef struct pg_http_client_response {
    pg_http_outcome outcome;
    int status;              /* HTTP status when outcome is PG_HTTP_RESPONSE */
    int http_major;          /* 1 or 2 */
    pg_http_header *headers; /* response headers then trailers; names lower-case */
    size_t n_headers;
    const uint8_t *body;
    size_t body_len;
    uint64_t elapsed_us;
    char error[256]; /* outcome != PG_HTTP_RESPONSE: what failed, from libcurl */
} pg_http_client_response;

/* resp and everything it points to are valid only during the call. */
typedef void (*pg_http_client_cb)(void *arg, const pg_http_client_response *resp);

/* Starts a request on the client's loop thread. PG_OK: cb runs exactly once,
 * later, never from inside this call. Otherwise cb never runs. */
int pg_http_client_send(pg_http_client *c, const pg_http_client_request *req, pg_http_client_cb cb,
                        void *arg, pg_error *err);

/* Case-insensitive lookup among headers and trailers; the last one wins. */
const char *pg_http_client_response_header(const pg_http_client_response *r, const char *name);

#endif
