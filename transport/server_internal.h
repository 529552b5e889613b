/*
 * Internals of the HTTP server shared by its source files (not for other
 * modules). Layering, bottom up:
 *
 *   listener.c   per-worker listening socket and connection list
 *   conn.c       one TCP connection: reads, TLS, protocol sniffing, writes,
 *                timers, graceful close
 *   h1_conn.c    HTTP/1.1 on a connection (http1.c does the parsing)
 *   h2_conn.c    HTTP/2 on a connection (nghttp2)
 *   dispatch.c   protocol-independent: route lookup, gRPC unframing,
 *                decompression, handler call, error replies
 */
#ifndef PG_TRANSPORT_SERVER_INTERNAL_H
#define PG_TRANSPORT_SERVER_INTERNAL_H

#include <pthread.h>
#include <uv.h>

#include "transport/http1.h"
#include "transport/http_server.h"
#include "transport/tls.h"

#define PG_H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define PG_H2_PREFACE_LEN 24

/* Reading stops while this many response bytes wait for the socket and
 * resumes below the low mark. */
#define PG_WRITE_HIGH_WATER (4u * 1024 * 1024)
#define PG_WRITE_LOW_WATER  (1u * 1024 * 1024)
/* After answering and half-closing, how long unread request bytes are
 * drained before the socket is closed (so the peer sees the answer, not a
 * reset). */
#define PG_LINGER_MS 2000

typedef struct pg_route {
    char *method; /* NULL for gRPC routes */
    char *path;
    pg_http_handler http;
    pg_grpc_handler grpc;
    void *ctx;
} pg_route;

typedef struct pg_conn pg_conn;
typedef struct pg_srv_worker pg_srv_worker;

struct pg_http_server {
    pg_http_server_config cfg; /* strings below are owned copies */
    char *cfg_endpoint, *cfg_log_scope, *cfg_cert, *cfg_key, *cfg_ca;
    pg_route *routes;
    size_t n_routes;
    pg_tls_ctx *tls;
    size_t arena_limit;
    pthread_mutex_t mu; /* guards everything below */
    int bound_port;     /* 0 until the first worker binds */
    struct sockaddr_storage bound_addr;
    socklen_t bound_addr_len;
    char bound_endpoint[300];
    pg_srv_worker *workers;
};

/* One worker's share of a server. Lives until its listener and all its
 * connections are closed (refs reaches 0 after stop). */
struct pg_srv_worker {
    pg_srv_worker *next;
    pg_http_server *srv;
    pg_worker *worker;
    uv_tcp_t listener;
    int listening;
    int stopping;
    int refs; /* open listener + connections */
    pg_conn *conns;
};

typedef enum pg_proto { PG_PROTO_SNIFF, PG_PROTO_H1, PG_PROTO_H2 } pg_proto;

typedef enum pg_timer_mode {
    PG_TM_NONE,
    PG_TM_IDLE,
    PG_TM_READ,
    PG_TM_WRITE,
    PG_TM_LINGER,
} pg_timer_mode;

struct pg_h2_conn;

struct pg_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown_req;
    pg_srv_worker *sw;
    pg_http_server *srv;
    pg_conn *prev, *next;
    pg_proto proto;
    uint8_t sniff[PG_H2_PREFACE_LEN];
    size_t sniff_len;
    pg_tls_conn *tls;
    pg_h1_parser *h1;
    struct pg_h2_conn *h2;
    size_t write_bytes; /* queued, not yet written */
    int writes;         /* uv_write requests in flight */
    int read_paused;    /* for back-pressure */
    int closing;        /* uv_close called */
    int close_after_write;
    int lingering;
    int draining;  /* the worker is stopping */
    int got_bytes; /* anything received yet */
    int handles_open;
    pg_timer_mode timer_mode;
    char remote_addr[64];
};

/* ---- listener.c ---- */
void pg_srv_worker_unref(pg_srv_worker *sw);

/* ---- conn.c ---- */
void pg_conn_accept(pg_srv_worker *sw);
/* Sends a then b (either may be NULL); takes ownership of both (free()). */
int pg_conn_send(pg_conn *c, uint8_t *a, size_t alen, uint8_t *b, size_t blen);
/* Closes at once (pending writes are dropped). */
void pg_conn_close(pg_conn *c);
/* Stops taking requests; once queued writes are done, half-closes, drains
 * what the peer still sends for a moment, then closes. */
void pg_conn_close_after_write(pg_conn *c);
/* Re-arms the idle / read / write timer for the connection's state; a mode
 * change restarts the countdown. */
void pg_conn_update_timer(pg_conn *c);
/* Worker stop: finish in-flight requests, close idle connections. */
void pg_conn_drain(pg_conn *c);
const char *pg_conn_scope(const pg_conn *c);

/* ---- h1_conn.c ---- */
int pg_h1_conn_init(pg_conn *c);
void pg_h1_conn_on_data(pg_conn *c, const uint8_t *data, size_t len);
int pg_h1_conn_receiving(const pg_conn *c);
void pg_h1_conn_free(pg_conn *c);

/* ---- h2_conn.c ---- */
int pg_h2_conn_init(pg_conn *c);
void pg_h2_conn_on_data(pg_conn *c, const uint8_t *data, size_t len);
/* Streams whose request has not fully arrived. */
int pg_h2_conn_receiving(const pg_conn *c);
/* Sends GOAWAY; the connection closes when its streams are done. */
void pg_h2_conn_drain(pg_conn *c);
/* Called when writes complete: more response data may fit now. */
void pg_h2_conn_flush(pg_conn *c);
/* True when neither side has anything more to do. */
int pg_h2_conn_finished(const pg_conn *c);
void pg_h2_conn_free(pg_conn *c);

/* ---- dispatch.c ---- */

/* A response independent of the HTTP version. For gRPC, `body` holds the
 * framed message (empty for a trailers-only response) and grpc-status /
 * grpc-message travel as trailers. Strings live in the request arena. */
typedef struct pg_reply {
    int status;
    const char *content_type;
    pg_http_header *headers;
    size_t n_headers;
    pg_buf body;
    int grpc;
    int grpc_status;
    const char *grpc_message; /* percent-encoded; NULL when none */
} pg_reply;

void pg_reply_init(pg_reply *r);
void pg_reply_release(pg_reply *r);
/* Plain-text error response; "<status text>: <msg>\n" as the body. */
/* An error answer in the server's error style. */
void pg_reply_error(pg_reply *r, const pg_http_server *s, int status, const char *msg);

/* Trailers-only gRPC response. */
void pg_reply_grpc_error(pg_reply *r, pg_arena *a, int code, const char *msg);
const char *pg_http_status_text(int status);
int pg_is_grpc_content_type(const char *ct);

/* Runs a complete request: finds the route, removes the content coding (or
 * gRPC framing), calls the handler and fills *out. `wire` is the body as
 * received; the caller frees it afterwards. start_ns (uv_hrtime) is when the
 * request began, the origin of a grpc-timeout. */
void pg_dispatch(pg_http_server *s, pg_http_request *req, const pg_buf *wire, uint64_t start_ns,
                 pg_reply *out);

#endif
