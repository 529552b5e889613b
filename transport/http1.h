/*
 * HTTP/1.1 request assembly over libhttp-parser, without I/O: the caller
 * feeds bytes as they arrive and gets back complete requests (in order, so
 * pipelined requests are answered in order) or an error status to answer
 * with before closing the connection.
 *
 * Each request gets its own arena (headers, URL) and a heap body buffer; both
 * pass to the caller with the request.
 */
#ifndef PG_TRANSPORT_HTTP1_H
#define PG_TRANSPORT_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "transport/http_server.h"

typedef struct pg_h1_limits {
    uint64_t max_header_bytes; /* request line + header lines: 431 beyond */
    uint64_t max_body_bytes;   /* de-chunked body: 413 beyond */
    size_t arena_limit;        /* per-request arena limit (0: none) */
} pg_h1_limits;

typedef struct pg_h1_request {
    pg_arena *arena; /* owned by the caller once taken */
    int http_major;
    int http_minor;
    const char *method;
    const char *path;        /* without the query string */
    const char *query;       /* "" when none */
    pg_http_header *headers; /* lower-case names, in arrival order */
    size_t n_headers;
    pg_buf body;    /* owned by the caller once taken */
    int keep_alive; /* the connection may serve another request afterwards */
} pg_h1_request;

typedef enum pg_h1_event {
    PG_H1_NEED_MORE = 0, /* every byte consumed; no complete request yet */
    PG_H1_REQUEST = 1,   /* a request is complete: take it, then feed the rest */
    PG_H1_ERROR = 2,     /* answer pg_h1_parser_error_status() and close */
} pg_h1_event;

typedef struct pg_h1_parser pg_h1_parser;

pg_h1_parser *pg_h1_parser_new(const pg_h1_limits *limits);
void pg_h1_parser_free(pg_h1_parser *p);

/* Consumes a prefix of data (*consumed bytes) and says what happened. After
 * PG_H1_REQUEST the caller takes the request and feeds the remaining bytes;
 * after PG_H1_ERROR the parser accepts nothing more. */
pg_h1_event pg_h1_parser_feed(pg_h1_parser *p, const uint8_t *data, size_t len, size_t *consumed);

/* Moves the completed request out of the parser. */
void pg_h1_parser_take(pg_h1_parser *p, pg_h1_request *out);

/* Status to answer after PG_H1_ERROR: 400, 413, 431 or 500; and why. */
int pg_h1_parser_error_status(const pg_h1_parser *p);
const char *pg_h1_parser_error_message(const pg_h1_parser *p);

/* True while part of a request has arrived but not all of it. */
int pg_h1_parser_in_request(const pg_h1_parser *p);

/* True once per request whose client sent "Expect: 100-continue" and is
 * waiting for an interim response before sending the body. */
int pg_h1_parser_take_continue(pg_h1_parser *p);

void pg_h1_request_release(pg_h1_request *r);

#endif
