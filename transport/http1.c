#include "transport/http1.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

/* Per header line: ": " and CRLF, which the parser's callbacks do not show. */
#define H1_LINE_OVERHEAD 4
/* The first body reservation; bigger bodies grow geometrically, so a client
 * that announces a large Content-Length and sends nothing costs little. */
#define H1_BODY_FIRST_RESERVE (1024 * 1024)

struct pg_h1_parser {
    http_parser hp;
    pg_h1_limits lim;
    pg_arena *arena;
    pg_buf url, name, value;
    int last_was_value;
    int headers_done;
    pg_http_header *hdrs; /* heap scratch, copied into the arena at the end */
    size_t n_hdrs, cap_hdrs;
    uint64_t header_bytes;
    pg_buf body;
    int in_request;
    int complete;
    int failed;
    int error_status;
    char error_msg[200];
    int want_continue;
    pg_h1_request done;
};

static int h1_fail(pg_h1_parser *p, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int h1_fail(pg_h1_parser *p, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error_msg, sizeof(p->error_msg), fmt, ap);
    va_end(ap);
    p->error_status = status;
    return -1; /* stops http_parser with HPE_CB_* (1 would mean "no body" in
                * on_headers_complete) */
}

static pg_h1_parser *from_hp(http_parser *hp)
{
    return (pg_h1_parser *)hp->data;
}

static int count_header_bytes(pg_h1_parser *p, size_t n)
{
    p->header_bytes += n;
    if (p->header_bytes > p->lim.max_header_bytes)
        return h1_fail(p, 431, "request header section exceeds %llu bytes",
                       (unsigned long long)p->lim.max_header_bytes);
    return 0;
}

static int on_message_begin(http_parser *hp)
{
    pg_h1_parser *p = from_hp(hp);
    pg_arena_free(p->arena);
    p->arena = pg_arena_new(0, p->lim.arena_limit);
    if (!p->arena)
        return h1_fail(p, 500, "out of memory");
    p->url.len = p->name.len = p->value.len = 0;
    p->n_hdrs = 0;
    p->last_was_value = 0;
    p->headers_done = 0;
    p->header_bytes = 0;
    p->want_continue = 0;
    pg_buf_free(&p->body);
    p->in_request = 1;
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n)
{
    pg_h1_parser *p = from_hp(hp);
    if (count_header_bytes(p, n))
        return 1;
    return pg_buf_append(&p->url, at, n) ? h1_fail(p, 500, "out of memory") : 0;
}

static int commit_header(pg_h1_parser *p)
{
    if (!p->last_was_value)
        return 0;
    p->last_was_value = 0;
    if (p->n_hdrs == p->cap_hdrs) {
        size_t ncap = p->cap_hdrs ? p->cap_hdrs * 2 : 16;
        pg_http_header *h = realloc(p->hdrs, ncap * sizeof(*h));
        if (!h)
            return h1_fail(p, 500, "out of memory");
        p->hdrs = h;
        p->cap_hdrs = ncap;
    }
    size_t vlen = p->value.len;
    while (vlen && (p->value.data[vlen - 1] == ' ' || p->value.data[vlen - 1] == '\t'))
        vlen--;
    char *name = pg_arena_strndup(p->arena, (const char *)p->name.data, p->name.len);
    char *value = pg_arena_strndup(p->arena, (const char *)p->value.data, vlen);
    if (!name || !value)
        return h1_fail(p, 431, "request header section too large");
    for (char *c = name; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    p->hdrs[p->n_hdrs].name = name;
    p->hdrs[p->n_hdrs].value = value;
    p->n_hdrs++;
    p->name.len = p->value.len = 0;
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n)
{
    pg_h1_parser *p = from_hp(hp);
    if (commit_header(p) || count_header_bytes(p, n + (p->name.len ? 0 : H1_LINE_OVERHEAD)))
        return 1;
    return pg_buf_append(&p->name, at, n) ? h1_fail(p, 500, "out of memory") : 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t n)
{
    pg_h1_parser *p = from_hp(hp);
    p->last_was_value = 1;
    if (count_header_bytes(p, n))
        return 1;
    return pg_buf_append(&p->value, at, n) ? h1_fail(p, 500, "out of memory") : 0;
}

static const char *find_header(const pg_h1_parser *p, const char *name)
{
    for (size_t i = 0; i < p->n_hdrs; i++) {
        if (strcmp(p->hdrs[i].name, name) == 0)
            return p->hdrs[i].value;
    }
    return NULL;
}

/* Splits the request target into path and query; absolute-form targets
 * ("http://host/p?q") keep only their path. */
static int split_url(pg_h1_parser *p, pg_h1_request *r)
{
    const char *u = (const char *)p->url.data;
    size_t n = p->url.len;
    if (n && u[0] != '/' && u[0] != '*') {
        struct http_parser_url pu;
        http_parser_url_init(&pu);
        if (http_parser_parse_url(u, n, 0, &pu) != 0)
            return h1_fail(p, 400, "invalid request target");
        size_t off = (pu.field_set & (1 << UF_PATH)) ? pu.field_data[UF_PATH].off : n;
        u += off;
        n -= off;
    }
    const char *q = memchr(u, '?', n);
    size_t plen = q ? (size_t)(q - u) : n;
    const char *hash = memchr(u, '#', n);
    size_t end = hash ? (size_t)(hash - u) : n;
    if (plen > end)
        plen = end;
    r->path = plen ? pg_arena_strndup(p->arena, u, plen) : "/";
    r->query = q && (size_t)(q - u) < end ? pg_arena_strndup(p->arena, q + 1, end - plen - 1) : "";
    if (!r->path || !r->query)
        return h1_fail(p, 431, "request target too large");
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    pg_h1_parser *p = from_hp(hp);
    pg_h1_request *r = &p->done;
    if (commit_header(p))
        return -1;
    p->headers_done = 1;
    memset(r, 0, sizeof(*r));
    r->http_major = hp->http_major;
    r->http_minor = hp->http_minor;
    r->method = http_method_str((enum http_method)hp->method);
    if (split_url(p, r))
        return -1;
    r->headers =
        p->n_hdrs ? pg_arena_memdup(p->arena, p->hdrs, p->n_hdrs * sizeof(*p->hdrs)) : NULL;
    r->n_headers = p->n_hdrs;
    if (p->n_hdrs && !r->headers)
        return h1_fail(p, 431, "request header section too large");
    int chunked = (hp->flags & F_CHUNKED) != 0;
    if (!chunked && (hp->flags & F_CONTENTLENGTH) && hp->content_length > p->lim.max_body_bytes)
        return h1_fail(p, 413, "request body of %llu bytes exceeds the limit of %llu",
                       (unsigned long long)hp->content_length,
                       (unsigned long long)p->lim.max_body_bytes);
    if (!chunked && (hp->flags & F_CONTENTLENGTH) && hp->content_length > 0) {
        size_t want = hp->content_length < H1_BODY_FIRST_RESERVE ? (size_t)hp->content_length
                                                                 : H1_BODY_FIRST_RESERVE;
        if (pg_buf_reserve(&p->body, want))
            return h1_fail(p, 500, "out of memory");
    }
    const char *expect = find_header(p, "expect");
    if (expect && strcasecmp(expect, "100-continue") == 0 && hp->http_minor >= 1)
        p->want_continue = 1;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
    pg_h1_parser *p = from_hp(hp);
    p->want_continue = 0; /* the body is already coming */
    if (p->body.len + n > p->lim.max_body_bytes)
        return h1_fail(p, 413, "request body exceeds the limit of %llu bytes",
                       (unsigned long long)p->lim.max_body_bytes);
    return pg_buf_append(&p->body, at, n) ? h1_fail(p, 500, "out of memory") : 0;
}

static int on_message_complete(http_parser *hp)
{
    pg_h1_parser *p = from_hp(hp);
    pg_h1_request *r = &p->done;
    r->arena = p->arena;
    p->arena = NULL;
    r->body = p->body;
    pg_buf_init(&p->body);
    r->keep_alive = http_should_keep_alive(hp) && hp->method != HTTP_CONNECT;
    p->complete = 1;
    p->in_request = 0;
    p->want_continue = 0;
    /* hand the request out before parsing the next pipelined one */
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings h1_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

pg_h1_parser *pg_h1_parser_new(const pg_h1_limits *limits)
{
    pg_h1_parser *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->lim = *limits;
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    return p;
}

void pg_h1_parser_free(pg_h1_parser *p)
{
    if (!p)
        return;
    pg_arena_free(p->arena);
    pg_h1_request_release(&p->done);
    pg_buf_free(&p->url);
    pg_buf_free(&p->name);
    pg_buf_free(&p->value);
    pg_buf_free(&p->body);
    free(p->hdrs);
    free(p);
}

static pg_h1_event h1_error_from_parser(pg_h1_parser *p)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    p->failed = 1;
    if (p->error_status)
        return PG_H1_ERROR;
    if (e == HPE_HEADER_OVERFLOW) {
        h1_fail(p, 431, "request header section too large");
    } else {
        h1_fail(p, 400, "malformed request: %s", http_errno_description(e));
    }
    return PG_H1_ERROR;
}

pg_h1_event pg_h1_parser_feed(pg_h1_parser *p, const uint8_t *data, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (p->failed)
        return PG_H1_ERROR;
    if (p->complete)
        return PG_H1_REQUEST; /* not taken yet */
    if (HTTP_PARSER_ERRNO(&p->hp) == HPE_PAUSED)
        http_parser_pause(&p->hp, 0);
    if (len == 0)
        return PG_H1_NEED_MORE; /* EOF is the caller's business */
    size_t n = http_parser_execute(&p->hp, &h1_settings, (const char *)data, len);
    *consumed = n;
    if (p->complete)
        return PG_H1_REQUEST;
    if (HTTP_PARSER_ERRNO(&p->hp) != HPE_OK)
        return h1_error_from_parser(p);
    if (n != len) {
        p->failed = 1;
        h1_fail(p, 400, "malformed request");
        return PG_H1_ERROR;
    }
    return PG_H1_NEED_MORE;
}

void pg_h1_parser_take(pg_h1_parser *p, pg_h1_request *out)
{
    *out = p->done;
    memset(&p->done, 0, sizeof(p->done));
    p->complete = 0;
}

int pg_h1_parser_error_status(const pg_h1_parser *p)
{
    return p->error_status ? p->error_status : 400;
}

const char *pg_h1_parser_error_message(const pg_h1_parser *p)
{
    return p->error_msg[0] ? p->error_msg : "malformed request";
}

int pg_h1_parser_in_request(const pg_h1_parser *p)
{
    return p->in_request;
}

int pg_h1_parser_take_continue(pg_h1_parser *p)
{
    int w = p->want_continue && p->body.len == 0;
    p->want_continue = 0;
    return w;
}

void pg_h1_request_release(pg_h1_request *r)
{
    pg_arena_free(r->arena);
    r->arena = NULL;
    pg_buf_free(&r->body);
}
