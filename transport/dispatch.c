#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "telemetry/log.h"
#include "transport/decompress.h"
#include "transport/grpc_frame.h"
#include "transport/server_internal.h"

#define GRPC_ACCEPT_ENCODING "identity,gzip,deflate,zstd"

void pg_reply_init(pg_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    pg_buf_init(&r->body);
}

void pg_reply_release(pg_reply *r)
{
    pg_buf_free(&r->body);
}

const char *pg_http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

const char *pg_http_status_connect_code(int status)
{
    switch (status) {
    case 400:
        return "invalid_argument";
    case 401:
        return "unauthenticated";
    case 403:
        return "permission_denied";
    case 404:
        return "not_found";
    case 405:
    case 415:
    case 501:
        return "unimplemented";
    case 408:
    case 504:
        return "deadline_exceeded";
    case 413:
    case 429:
    case 431:
        return "resource_exhausted";
    case 503:
        return "unavailable";
    default:
        return status < 500 ? "invalid_argument" : "internal";
    }
}

static int json_error_body(pg_buf *body, int status, const char *msg)
{
    json_t *j =
        json_pack("{s:s, s:s}", "code", pg_http_status_connect_code(status), "message", msg);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    int rc = text ? pg_buf_printf(body, "%s\n", text) : PG_ERR_NOMEM;
    free(text);
    return rc;
}

int pg_http_response_json_error(pg_http_response *resp, int status, const char *message)
{
    pg_buf_free(&resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    return json_error_body(&resp->body, status, message);
}

void pg_reply_error(pg_reply *r, const pg_http_server *s, int status, const char *msg)
{
    pg_buf_free(&r->body);
    r->status = status;
    r->grpc = 0;
    if (s && s->cfg.error_style == PG_HTTP_ERRORS_JSON) {
        r->content_type = "application/json";
        if (json_error_body(&r->body, status, msg) == PG_OK)
            return;
        pg_buf_free(&r->body);
    }
    r->content_type = "text/plain; charset=utf-8";
    if (pg_buf_printf(&r->body, "%s: %s\n", pg_http_status_text(status), msg) != PG_OK)
        pg_buf_free(&r->body);
}

void pg_reply_grpc_error(pg_reply *r, pg_arena *a, int code, const char *msg)
{
    pg_buf_free(&r->body);
    r->status = 200;
    r->content_type = "application/grpc";
    r->grpc = 1;
    r->grpc_status = code;
    r->grpc_message = msg && *msg ? pg_grpc_percent_encode(a, msg) : NULL;
}

int pg_is_grpc_content_type(const char *ct)
{
    if (!ct || strncasecmp(ct, "application/grpc", 16) != 0)
        return 0;
    return ct[16] == '\0' || ct[16] == '+' || ct[16] == ';';
}

/* Exact path match; *path_known tells 404 from 405. */
static const pg_route *find_route(const pg_http_server *s, const char *method, const char *path,
                                  int grpc, int *path_known)
{
    *path_known = 0;
    for (size_t i = 0; i < s->n_routes; i++) {
        const pg_route *r = &s->routes[i];
        if ((r->grpc != NULL) != grpc || strcmp(r->path, path) != 0)
            continue;
        *path_known = 1;
        if (grpc || strcmp(r->method, method) == 0)
            return r;
    }
    return NULL;
}

static void reply_405(const pg_http_server *s, pg_http_request *req, pg_reply *out)
{
    char allow[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < s->n_routes; i++) {
        const pg_route *r = &s->routes[i];
        if (r->http && strcmp(r->path, req->path) == 0 && used < sizeof(allow)) {
            int n =
                snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", r->method);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    char msg[200];
    snprintf(msg, sizeof(msg), "%s is not allowed on %.100s", req->method, req->path);
    pg_reply_error(out, s, 405, msg);
    pg_http_header *h = pg_arena_alloc(req->arena, sizeof(*h));
    const char *v = pg_arena_strdup(req->arena, allow);
    if (h && v) {
        h->name = "allow";
        h->value = v;
        out->headers = h;
        out->n_headers = 1;
    }
}

static int status_for_decompress_error(int rc)
{
    switch (rc) {
    case PG_ERR_UNSUPPORTED:
        return 415;
    case PG_ERR_LIMIT:
        return 413;
    case PG_ERR_INVALID:
        return 400;
    default:
        return 500;
    }
}

static void take_http_response(pg_http_response *resp, pg_reply *out)
{
    out->status = resp->status >= 200 && resp->status <= 599 ? resp->status : 500;
    out->content_type = resp->content_type;
    out->headers = resp->headers;
    out->n_headers = resp->n_headers;
    out->body = resp->body;
    pg_buf_init(&resp->body);
}

static void dispatch_http(pg_http_server *s, pg_http_request *req, const pg_buf *wire,
                          pg_reply *out)
{
    int known;
    const pg_route *r = find_route(s, req->method, req->path, 0, &known);
    if (!r) {
        if (known) {
            reply_405(s, req, out);
        } else {
            char msg[160];
            snprintf(msg, sizeof(msg), "no route for %.120s", req->path);
            pg_reply_error(out, s, 404, msg);
        }
        return;
    }
    pg_error err = {0};
    const char *ce = pg_http_request_header(req, "content-encoding");
    int rc = pg_decompress(req->arena, ce, wire->data, wire->len, s->cfg.max_decompressed_bytes,
                           &req->body, &req->body_len, &err);
    if (rc != PG_OK) {
        pg_log(PG_LOG_DEBUG, s->cfg.log_scope, "%s %s: %s", req->method, req->path, err.msg);
        pg_reply_error(out, s, status_for_decompress_error(rc), err.msg);
        return;
    }
    pg_http_response resp;
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    pg_buf_init(&resp.body);
    r->http(r->ctx, req, &resp);
    take_http_response(&resp, out);
}

/* Sets the request deadline; a non-OK gRPC status when the call must not run. */
static int grpc_deadline(pg_http_request *req, uint64_t start_ns, pg_error *err)
{
    const char *t = pg_http_request_header(req, "grpc-timeout");
    if (!t)
        return PG_GRPC_OK;
    if (pg_grpc_timeout_parse(t, &req->timeout_ns) != PG_OK) {
        pg_error_set(err, PG_ERR_INVALID, "malformed grpc-timeout '%.32s'", t);
        return PG_GRPC_INTERNAL;
    }
    req->deadline_ns = start_ns + req->timeout_ns;
    if (uv_hrtime() >= req->deadline_ns) {
        pg_error_set(err, PG_ERR_LIMIT, "deadline exceeded before the call was handled");
        return PG_GRPC_DEADLINE_EXCEEDED;
    }
    return PG_GRPC_OK;
}

/* Unframes and decompresses the request message into req->body. */
static int grpc_message(pg_http_server *s, pg_http_request *req, const pg_buf *wire, pg_error *err)
{
    uint64_t max_len = s->cfg.max_body_bytes > s->cfg.max_decompressed_bytes
                           ? s->cfg.max_body_bytes
                           : s->cfg.max_decompressed_bytes;
    return pg_grpc_unary_message(req->arena, pg_http_request_header(req, "grpc-encoding"),
                                 wire->data, wire->len, max_len, s->cfg.max_decompressed_bytes,
                                 &req->body, &req->body_len, err);
}

static void grpc_accept_encoding_header(pg_http_request *req, pg_reply *out)
{
    pg_http_header *h = pg_arena_alloc(req->arena, sizeof(*h));
    if (h) {
        h->name = "grpc-accept-encoding";
        h->value = GRPC_ACCEPT_ENCODING;
        out->headers = h;
        out->n_headers = 1;
    }
}

static void dispatch_grpc(pg_http_server *s, pg_http_request *req, const pg_buf *wire,
                          uint64_t start_ns, pg_reply *out)
{
    pg_error err = {0};
    int known;
    const pg_route *r = find_route(s, req->method, req->path, 1, &known);
    int code = PG_GRPC_OK;
    if (!r) {
        pg_error_set(&err, PG_ERR_NOTFOUND, "unknown gRPC method %.200s", req->path);
        code = PG_GRPC_UNIMPLEMENTED;
    } else if (strcmp(req->method, "POST") != 0) {
        pg_error_set(&err, PG_ERR_INVALID, "gRPC requires POST, got %.16s", req->method);
        code = PG_GRPC_UNIMPLEMENTED;
    }
    if (code == PG_GRPC_OK)
        code = grpc_deadline(req, start_ns, &err);
    if (code == PG_GRPC_OK)
        code = grpc_message(s, req, wire, &err);
    grpc_accept_encoding_header(req, out);
    if (code != PG_GRPC_OK) {
        pg_log(PG_LOG_DEBUG, s->cfg.log_scope, "gRPC %s: status %d: %s", req->path, code, err.msg);
        pg_reply_grpc_error(out, req->arena, code, err.msg);
        return;
    }
    pg_grpc_response gr;
    memset(&gr, 0, sizeof(gr));
    pg_buf_init(&gr.body);
    r->grpc(r->ctx, req, &gr);
    if (gr.status == PG_GRPC_OK && pg_grpc_frame_append(&out->body, gr.body.data, gr.body.len)) {
        gr.status = PG_GRPC_INTERNAL;
        gr.message = "response message too large";
    }
    pg_buf_free(&gr.body);
    if (gr.status != PG_GRPC_OK) {
        pg_reply_grpc_error(out, req->arena, gr.status, gr.message);
        return;
    }
    out->status = 200;
    out->content_type = "application/grpc";
    out->grpc = 1;
    out->grpc_status = PG_GRPC_OK;
    out->grpc_message = NULL;
}

void pg_dispatch(pg_http_server *s, pg_http_request *req, const pg_buf *wire, uint64_t start_ns,
                 pg_reply *out)
{
    if (pg_is_grpc_content_type(pg_http_request_header(req, "content-type"))) {
        if (req->http_major < 2) {
            pg_reply_error(out, s, 415, "gRPC (content-type application/grpc) requires HTTP/2");
            return;
        }
        dispatch_grpc(s, req, wire, start_ns, out);
        return;
    }
    dispatch_http(s, req, wire, out);
}
