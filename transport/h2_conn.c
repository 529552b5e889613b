#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "telemetry/log.h"
#include "transport/server_internal.h"

/* Per-stream receive window: big enough that a multi-megabyte body needs few
 * round trips. The connection window is larger so that many streams can
 * upload at once. */
#define H2_STREAM_WINDOW     (1 << 20)
#define H2_CONNECTION_WINDOW (16 << 20)
/* RFC 9113 counts 32 bytes of overhead per header field. */
#define H2_HEADER_OVERHEAD 32

typedef struct h2_stream h2_stream;

typedef struct pg_h2_conn {
    pg_conn *c;
    nghttp2_session *session;
    int receiving; /* streams whose request is incomplete */
    h2_stream *streams;
} pg_h2_conn;

/* Allocated from its own request arena, freed with it. */
struct h2_stream {
    pg_h2_conn *h2;
    h2_stream *prev, *next;
    int32_t id;
    pg_arena *arena;
    const char *method, *path, *query;
    pg_http_header *hdrs;
    size_t n_hdrs, cap_hdrs;
    uint64_t header_bytes;
    pg_buf body;
    uint64_t start_ns;
    int receiving;
    int responded;
    int head_only;
    pg_reply reply;
    size_t sent;
    uint64_t discarded; /* request bytes ignored after an early answer */
    int reset_sent;
};

static h2_stream *stream_get(pg_h2_conn *h2, int32_t id)
{
    return nghttp2_session_get_stream_user_data(h2->session, id);
}

static void stream_free(h2_stream *st)
{
    pg_h2_conn *h2 = st->h2;
    if (st->receiving)
        h2->receiving--;
    if (st->prev)
        st->prev->next = st->next;
    else
        h2->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    pg_reply_release(&st->reply);
    pg_buf_free(&st->body);
    pg_arena_free(st->arena); /* st itself lives here */
}

static const char *grpc_status_str(pg_arena *a, int code)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", code);
    return pg_arena_strdup(a, buf);
}

static nghttp2_nv make_nv(const char *name, const char *value)
{
    nghttp2_nv nv = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                     NGHTTP2_NV_FLAG_NONE};
    return nv;
}

static int header_allowed(const pg_http_header *h)
{
    /* connection-specific fields are forbidden in HTTP/2; framing is ours */
    static const char *const banned[] = {"connection",        "keep-alive", "proxy-connection",
                                         "transfer-encoding", "upgrade",    "content-length",
                                         "content-type"};
    for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++) {
        if (strcasecmp(h->name, banned[i]) == 0)
            return 0;
    }
    return h->name[0] && h->name[0] != ':';
}

static ssize_t data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    h2_stream *st = source->ptr;
    size_t left = st->reply.body.len - st->sent;
    size_t n = left < length ? left : length;
    if (n)
        memcpy(buf, st->reply.body.data + st->sent, n);
    st->sent += n;
    if (st->sent < st->reply.body.len)
        return (ssize_t)n;
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->reply.grpc) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv tr[2];
        size_t nt = 0;
        tr[nt++] = make_nv("grpc-status", grpc_status_str(st->arena, st->reply.grpc_status));
        if (st->reply.grpc_message)
            tr[nt++] = make_nv("grpc-message", st->reply.grpc_message);
        if (!tr[0].value || nghttp2_submit_trailer(session, stream_id, tr, nt) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

static int lowercase_name(pg_arena *a, const char *name, const char **out)
{
    char *n = pg_arena_strdup(a, name);
    if (!n)
        return PG_ERR_NOMEM;
    for (char *p = n; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    *out = n;
    return PG_OK;
}

static void submit_reply(h2_stream *st)
{
    pg_reply *r = &st->reply;
    pg_arena *a = st->arena;
    size_t max = 6 + r->n_headers;
    nghttp2_nv *nva = pg_arena_alloc(a, max * sizeof(*nva));
    const char *status = grpc_status_str(a, r->status);
    const char *clen = pg_arena_sprintf(a, "%zu", r->body.len);
    if (!nva || !status || !clen) {
        nghttp2_submit_rst_stream(st->h2->session, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_INTERNAL_ERROR);
        return;
    }
    size_t n = 0;
    nva[n++] = make_nv(":status", status);
    if (r->content_type)
        nva[n++] = make_nv("content-type", r->content_type);
    if (!r->grpc)
        nva[n++] = make_nv("content-length", clen);
    for (size_t i = 0; i < r->n_headers; i++) {
        const char *name;
        if (header_allowed(&r->headers[i]) && lowercase_name(a, r->headers[i].name, &name) == 0)
            nva[n++] = make_nv(name, r->headers[i].value);
    }
    int with_body = r->body.len > 0 && !st->head_only;
    if (r->grpc && !with_body) {
        /* trailers-only: the status rides in the single HEADERS frame */
        const char *gs = grpc_status_str(a, r->grpc_status);
        if (gs)
            nva[n++] = make_nv("grpc-status", gs);
        if (r->grpc_message)
            nva[n++] = make_nv("grpc-message", r->grpc_message);
    }
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
    int rv = nghttp2_submit_response(st->h2->session, st->id, nva, n, with_body ? &prd : NULL);
    if (rv != 0)
        nghttp2_submit_rst_stream(st->h2->session, NGHTTP2_FLAG_NONE, st->id,
                                  NGHTTP2_INTERNAL_ERROR);
    st->responded = 1;
}

static const char *stream_header(const h2_stream *st, const char *name)
{
    for (size_t i = 0; i < st->n_hdrs; i++) {
        if (strcmp(st->hdrs[i].name, name) == 0)
            return st->hdrs[i].value;
    }
    return NULL;
}

/* Answers before the request is complete (a limit was hit). */
static void reject(h2_stream *st, int status, int grpc_code, const char *msg)
{
    if (st->responded)
        return;
    pg_log(PG_LOG_DEBUG, pg_conn_scope(st->h2->c), "%s stream %d: %d %s", st->h2->c->remote_addr,
           st->id, status, msg);
    pg_buf_free(&st->body);
    if (pg_is_grpc_content_type(stream_header(st, "content-type")))
        pg_reply_grpc_error(&st->reply, st->arena, grpc_code, msg);
    else
        pg_reply_error(&st->reply, st->h2->c->srv, status, msg);
    submit_reply(st);
}

static void request_complete(h2_stream *st)
{
    pg_h2_conn *h2 = st->h2;
    if (st->receiving) {
        st->receiving = 0;
        h2->receiving--;
        h2->c->timer_mode = PG_TM_NONE;
    }
    if (st->responded)
        return;
    if (!st->method || !st->path) {
        reject(st, 400, PG_GRPC_INTERNAL, "missing :method or :path");
        return;
    }
    pg_http_request req;
    memset(&req, 0, sizeof(req));
    req.arena = st->arena;
    req.worker = h2->c->sw->worker;
    req.http_major = 2;
    req.method = st->method;
    req.path = st->path;
    req.query = st->query ? st->query : "";
    req.headers = st->hdrs;
    req.n_headers = st->n_hdrs;
    req.remote_addr = h2->c->remote_addr;
    st->head_only = strcmp(st->method, "HEAD") == 0;
    pg_dispatch(h2->c->srv, &req, &st->body, st->start_ns, &st->reply);
    pg_buf_free(&st->body);
    submit_reply(st);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    pg_h2_conn *h2 = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    pg_arena *a = pg_arena_new(4096, h2->c->srv->arena_limit);
    h2_stream *st = a ? pg_arena_calloc(a, 1, sizeof(*st)) : NULL;
    if (!st) {
        pg_arena_free(a);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    st->h2 = h2;
    st->id = frame->hd.stream_id;
    st->arena = a;
    st->start_ns = uv_hrtime();
    st->receiving = 1;
    pg_buf_init(&st->body);
    pg_reply_init(&st->reply);
    st->next = h2->streams;
    if (h2->streams)
        h2->streams->prev = st;
    h2->streams = st;
    h2->receiving++;
    h2->c->timer_mode = h2->receiving == 1 ? PG_TM_NONE : h2->c->timer_mode;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static int add_header(h2_stream *st, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (st->n_hdrs == st->cap_hdrs) {
        size_t ncap = st->cap_hdrs ? st->cap_hdrs * 2 : 16;
        pg_http_header *h = pg_arena_alloc(st->arena, ncap * sizeof(*h));
        if (!h)
            return PG_ERR_NOMEM;
        if (st->n_hdrs)
            memcpy(h, st->hdrs, st->n_hdrs * sizeof(*h));
        st->hdrs = h;
        st->cap_hdrs = ncap;
    }
    const char *n = pg_arena_strndup(st->arena, name, nlen);
    const char *v = pg_arena_strndup(st->arena, value, vlen);
    if (!n || !v)
        return PG_ERR_NOMEM;
    st->hdrs[st->n_hdrs].name = n;
    st->hdrs[st->n_hdrs].value = v;
    st->n_hdrs++;
    return PG_OK;
}

static int pseudo_header(h2_stream *st, const char *name, size_t nlen, const char *v, size_t vlen)
{
    if (nlen == 7 && memcmp(name, ":method", 7) == 0) {
        st->method = pg_arena_strndup(st->arena, v, vlen);
        return st->method ? PG_OK : PG_ERR_NOMEM;
    }
    if (nlen == 5 && memcmp(name, ":path", 5) == 0) {
        const char *q = memchr(v, '?', vlen);
        size_t plen = q ? (size_t)(q - v) : vlen;
        st->path = pg_arena_strndup(st->arena, v, plen);
        st->query = q ? pg_arena_strndup(st->arena, q + 1, vlen - plen - 1) : "";
        return st->path && st->query ? PG_OK : PG_ERR_NOMEM;
    }
    if (nlen == 10 && memcmp(name, ":authority", 10) == 0)
        return add_header(st, "host", 4, v, vlen); /* what HTTP/1.1 handlers expect */
    return PG_OK;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    pg_h2_conn *h2 = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* request trailers carry nothing we use */
    h2_stream *st = stream_get(h2, frame->hd.stream_id);
    if (!st || st->responded)
        return 0;
    st->header_bytes += namelen + valuelen + H2_HEADER_OVERHEAD;
    if (st->header_bytes > h2->c->srv->cfg.max_header_bytes) {
        reject(st, 431, PG_GRPC_RESOURCE_EXHAUSTED, "request header section too large");
        return 0;
    }
    int rc = namelen && name[0] == ':'
                 ? pseudo_header(st, (const char *)name, namelen, (const char *)value, valuelen)
                 : add_header(st, (const char *)name, namelen, (const char *)value, valuelen);
    if (rc != PG_OK)
        reject(st, 431, PG_GRPC_RESOURCE_EXHAUSTED, "request header section too large");
    return 0;
}

static void headers_complete(h2_stream *st)
{
    const pg_http_server_config *cfg = &st->h2->c->srv->cfg;
    const char *cl = stream_header(st, "content-length");
    if (cl && strtoull(cl, NULL, 10) > cfg->max_body_bytes)
        reject(st, 413, PG_GRPC_RESOURCE_EXHAUSTED, "request body exceeds the size limit");
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    pg_h2_conn *h2 = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    h2_stream *st = stream_get(h2, frame->hd.stream_id);
    if (!st)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        headers_complete(st);
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
        request_complete(st);
    return 0;
}

static int on_data_chunk_recv(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                              const uint8_t *data, size_t len, void *user_data)
{
    pg_h2_conn *h2 = user_data;
    h2_stream *st = stream_get(h2, stream_id);
    if (!st)
        return 0;
    uint64_t max = h2->c->srv->cfg.max_body_bytes;
    if (st->responded) {
        /* Answered early (a limit was hit). Reading the rest keeps clients
         * that treat RST_STREAM(NO_ERROR) as a failure (curl 7.x) happy; past
         * twice the limit the peer is told to stop. */
        st->discarded += len;
        if (st->receiving && st->discarded > 2 * max && !st->reset_sent) {
            st->reset_sent = 1;
            nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
        }
        return 0;
    }
    if (st->body.len + len > max) {
        char msg[120];
        snprintf(msg, sizeof(msg), "request body exceeds the limit of %llu bytes",
                 (unsigned long long)max);
        reject(st, 413, PG_GRPC_RESOURCE_EXHAUSTED, msg);
        return 0;
    }
    if (pg_buf_append(&st->body, data, len) != PG_OK)
        reject(st, 500, PG_GRPC_RESOURCE_EXHAUSTED, "out of memory");
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    pg_h2_conn *h2 = user_data;
    h2_stream *st = stream_get(h2, stream_id);
    if (!st)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    stream_free(st);
    h2->c->timer_mode = PG_TM_NONE;
    return 0;
}

static nghttp2_session_callbacks *make_callbacks(void)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    return cbs;
}

int pg_h2_conn_init(pg_conn *c)
{
    pg_h2_conn *h2 = calloc(1, sizeof(*h2));
    nghttp2_session_callbacks *cbs = make_callbacks();
    if (!h2 || !cbs || nghttp2_session_server_new(&h2->session, cbs, h2) != 0) {
        nghttp2_session_callbacks_del(cbs);
        free(h2);
        return PG_ERR_NOMEM;
    }
    nghttp2_session_callbacks_del(cbs);
    h2->c = c;
    c->h2 = h2;
    const pg_http_server_config *cfg = &c->srv->cfg;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         cfg->max_header_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)cfg->max_header_bytes},
    };
    if (nghttp2_submit_settings(h2->session, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) ||
        nghttp2_session_set_local_window_size(h2->session, NGHTTP2_FLAG_NONE, 0,
                                              H2_CONNECTION_WINDOW))
        return PG_ERR_NOMEM;
    return PG_OK;
}

void pg_h2_conn_free(pg_conn *c)
{
    pg_h2_conn *h2 = c->h2;
    if (!h2)
        return;
    while (h2->streams) {
        h2_stream *st = h2->streams;
        nghttp2_session_set_stream_user_data(h2->session, st->id, NULL);
        stream_free(st);
    }
    nghttp2_session_del(h2->session);
    free(h2);
    c->h2 = NULL;
}

void pg_h2_conn_flush(pg_conn *c)
{
    pg_h2_conn *h2 = c->h2;
    if (!h2 || c->closing)
        return;
    pg_buf out;
    pg_buf_init(&out);
    while (out.len < PG_WRITE_HIGH_WATER && c->write_bytes + out.len < PG_WRITE_HIGH_WATER) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(h2->session, &p);
        if (n < 0) {
            pg_buf_free(&out);
            pg_conn_close(c);
            return;
        }
        if (n == 0)
            break;
        if (pg_buf_append(&out, p, (size_t)n) != PG_OK) {
            pg_buf_free(&out);
            pg_conn_close(c);
            return;
        }
    }
    if (out.len) {
        size_t len;
        uint8_t *data = pg_buf_detach(&out, &len);
        pg_conn_send(c, data, len, NULL, 0);
    }
}

void pg_h2_conn_on_data(pg_conn *c, const uint8_t *data, size_t len)
{
    pg_h2_conn *h2 = c->h2;
    ssize_t rv = nghttp2_session_mem_recv(h2->session, data, len);
    if (rv < 0) {
        pg_log(PG_LOG_DEBUG, pg_conn_scope(c), "%s: HTTP/2 error: %s", c->remote_addr,
               nghttp2_strerror((int)rv));
        pg_h2_conn_flush(c); /* GOAWAY, when nghttp2 queued one */
        pg_conn_close_after_write(c);
        return;
    }
    pg_h2_conn_flush(c);
}

int pg_h2_conn_receiving(const pg_conn *c)
{
    return c->h2 ? c->h2->receiving : 0;
}

void pg_h2_conn_drain(pg_conn *c)
{
    pg_h2_conn *h2 = c->h2;
    if (!h2)
        return;
    nghttp2_submit_goaway(h2->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h2->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
    pg_h2_conn_flush(c);
}

int pg_h2_conn_finished(const pg_conn *c)
{
    pg_h2_conn *h2 = c->h2;
    return h2 && !nghttp2_session_want_read(h2->session) &&
           !nghttp2_session_want_write(h2->session);
}
