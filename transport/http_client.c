/*
 * libcurl's multi interface on a libuv loop: libcurl tells us which sockets
 * to watch (one uv_poll_t each) and when to wake it (one uv_timer_t); we
 * hand readiness back with curl_multi_socket_action and collect finished
 * transfers. The multi handle keeps the connection cache, so consecutive
 * requests reuse connections and HTTP/2 streams share one.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/arena.h"
#include "common/buf.h"
#include "transport/http_client_internal.h"

#define DEFAULT_MAX_RESPONSE (1024u * 1024u)

typedef struct client_req client_req;
struct client_req {
    pg_http_client *c;
    client_req *prev, *next;
    CURL *easy;
    struct curl_slist *headers;
    pg_http_client_cb cb;
    void *arg;
    pg_arena *arena; /* response header strings */
    pg_http_header *resp_headers;
    size_t n_resp_headers, cap_resp_headers;
    pg_buf body;
    size_t max_body;
    int too_large;
    uint64_t start_ns;
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct sock_ctx sock_ctx;
struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    pg_http_client *c;
    sock_ctx *prev, *next;
};

struct pg_http_client {
    uv_loop_t *loop;
    const pg_http_target *t;
    CURLM *multi;
    uv_timer_t timer;
    client_req *reqs;
    sock_ctx *socks;
    size_t active;
    int dispatching; /* inside the completion loop: the multi must stay */
    int closing;
    int finished; /* multi cleaned up, handles closing */
    int open_handles;
};

static void finish_close(pg_http_client *c);

static void maybe_free(pg_http_client *c)
{
    if (c->finished && c->open_handles == 0)
        free(c);
}

/* ---- sockets and timer ---- */

static void on_sock_closed(uv_handle_t *h)
{
    sock_ctx *sc = h->data;
    pg_http_client *c = sc->c;
    free(sc);
    c->open_handles--;
    maybe_free(c);
}

static void sock_close(sock_ctx *sc)
{
    pg_http_client *c = sc->c;
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        c->socks = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    uv_poll_stop(&sc->poll);
    uv_close((uv_handle_t *)&sc->poll, on_sock_closed);
}

static void dispatch_done(pg_http_client *c);

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx *sc = h->data;
    pg_http_client *c = sc->c;
    if (c->closing)
        return;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(c->multi, sc->fd, flags, &running);
    dispatch_done(c);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    pg_http_client *c = userp;
    sock_ctx *sc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sc) {
            sock_close(sc);
            if (!c->finished)
                curl_multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    if (!sc) {
        sc = calloc(1, sizeof(*sc));
        if (!sc || uv_poll_init_socket(c->loop, &sc->poll, s) != 0) {
            free(sc);
            return -1;
        }
        sc->fd = s;
        sc->c = c;
        sc->poll.data = sc;
        sc->next = c->socks;
        if (c->socks)
            c->socks->prev = sc;
        c->socks = sc;
        c->open_handles++;
        curl_multi_assign(c->multi, s, sc);
    }
    int ev = 0;
    if (what & CURL_POLL_IN)
        ev |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        ev |= UV_WRITABLE;
    return uv_poll_start(&sc->poll, ev, on_poll) == 0 ? 0 : -1;
}

static void on_timeout(uv_timer_t *t)
{
    pg_http_client *c = t->data;
    if (c->closing)
        return;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    dispatch_done(c);
}

static int on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
    pg_http_client *c = userp;
    if (c->finished)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- per-request callbacks ---- */

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    client_req *r = ud;
    size_t len = sz * n;
    if (r->body.len + len > r->max_body) {
        r->too_large = 1;
        return 0;
    }
    return pg_buf_append(&r->body, p, len) == 0 ? len : 0;
}

static int add_resp_header(client_req *r, const char *name, size_t nlen, const char *value,
                           size_t vlen)
{
    if (r->n_resp_headers == r->cap_resp_headers) {
        size_t cap = r->cap_resp_headers ? 2 * r->cap_resp_headers : 16;
        pg_http_header *grown = pg_arena_alloc(r->arena, cap * sizeof(*grown));
        if (!grown)
            return PG_ERR_NOMEM;
        if (r->n_resp_headers)
            memcpy(grown, r->resp_headers, r->n_resp_headers * sizeof(*grown));
        r->resp_headers = grown;
        r->cap_resp_headers = cap;
    }
    char *lname = pg_arena_strndup(r->arena, name, nlen);
    char *v = pg_arena_strndup(r->arena, value, vlen);
    if (!lname || !v)
        return PG_ERR_NOMEM;
    for (char *q = lname; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q - 'A' + 'a');
    r->resp_headers[r->n_resp_headers++] = (pg_http_header){lname, v};
    return PG_OK;
}

/* Called for header lines and, after the body, for HTTP/2 trailers. */
static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    client_req *r = ud;
    size_t len = sz * n, end = len;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        r->n_resp_headers = 0; /* a new response: forget a 1xx one's headers */
        return len;
    }
    while (end > 0 && (p[end - 1] == '\r' || p[end - 1] == '\n'))
        end--;
    const char *colon = memchr(p, ':', end);
    if (!colon || colon == p)
        return len;
    size_t nlen = (size_t)(colon - p), v = nlen + 1;
    while (v < end && (p[v] == ' ' || p[v] == '\t'))
        v++;
    size_t vend = end;
    while (vend > v && (p[vend - 1] == ' ' || p[vend - 1] == '\t'))
        vend--;
    return add_resp_header(r, p, nlen, p + v, vend - v) == PG_OK ? len : 0;
}

/* ---- completion ---- */

static pg_http_outcome outcome_of(CURLcode cc, const char *msg)
{
    switch (cc) {
    case CURLE_OK:
        return PG_HTTP_RESPONSE;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return PG_HTTP_CONNECT_ERROR;
    case CURLE_OPERATION_TIMEDOUT:
        return PG_HTTP_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
        return PG_HTTP_TLS_ERROR;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        /* TLS 1.3 reports a refused client certificate on the first read. */
        return strstr(msg, "SSL") || strstr(msg, "alert") ? PG_HTTP_TLS_ERROR
                                                          : PG_HTTP_TRANSPORT_ERROR;
    default:
        return PG_HTTP_TRANSPORT_ERROR;
    }
}

static void unlink_req(pg_http_client *c, client_req *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    c->active--;
    curl_multi_remove_handle(c->multi, r->easy);
}

static void req_free(client_req *r)
{
    if (r->easy)
        curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    pg_arena_free(r->arena);
    pg_buf_free(&r->body);
    free(r);
}

static void fill_response(client_req *r, CURLcode cc, pg_http_client_response *resp)
{
    long status = 0, version = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &version);
    resp->status = (int)status;
    resp->http_major = version == CURL_HTTP_VERSION_2_0 ? 2
                       : version == CURL_HTTP_VERSION_3 ? 3
                                                        : 1;
    resp->headers = r->resp_headers;
    resp->n_headers = r->n_resp_headers;
    resp->body = r->body.data;
    resp->body_len = r->body.len;
    resp->elapsed_us = (uv_hrtime() - r->start_ns) / 1000;
    const char *msg = r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc);
    resp->outcome = outcome_of(cc, msg);
    if (r->too_large) {
        resp->outcome = PG_HTTP_TRANSPORT_ERROR;
        snprintf(resp->error, sizeof(resp->error), "response body larger than %zu bytes",
                 r->max_body);
    } else if (resp->outcome != PG_HTTP_RESPONSE) {
        snprintf(resp->error, sizeof(resp->error), "%s", msg);
    } else if (pg_http_target_http2(r->c->t) && resp->http_major != 2) {
        resp->outcome = PG_HTTP_TRANSPORT_ERROR;
        snprintf(resp->error, sizeof(resp->error),
                 "server answered over HTTP/%d; this exporter needs HTTP/2", resp->http_major);
    }
}

static void complete(pg_http_client *c, client_req *r, CURLcode cc)
{
    pg_http_client_response resp;
    memset(&resp, 0, sizeof(resp));
    unlink_req(c, r);
    fill_response(r, cc, &resp);
    r->cb(r->arg, &resp);
    req_free(r);
}

static void dispatch_done(pg_http_client *c)
{
    CURLMsg *msg;
    int left;
    c->dispatching++;
    while (!c->closing && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        client_req *r = NULL;
        CURLcode cc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (r)
            complete(c, r, cc);
    }
    c->dispatching--;
    if (c->closing && !c->dispatching)
        finish_close(c);
}

/* ---- public API ---- */

pg_http_client *pg_http_client_new(uv_loop_t *loop, const pg_http_target *t, pg_error *err)
{
    pg_http_curl_init();
    pg_http_client *c = calloc(1, sizeof(*c));
    if (!c || !(c->multi = curl_multi_init())) {
        free(c);
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->t = t;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return c;
}

static void on_timer_closed(uv_handle_t *h)
{
    pg_http_client *c = h->data;
    c->open_handles--;
    maybe_free(c);
}

static void finish_close(pg_http_client *c)
{
    if (c->finished)
        return;
    /* libcurl may report sockets removed while it closes its connections;
     * finished tells the callbacks not to touch the multi handle again. */
    c->finished = 1;
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks)
        sock_close(c->socks);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

void pg_http_client_close(pg_http_client *c)
{
    if (!c || c->closing)
        return;
    c->closing = 1;
    while (c->reqs) {
        client_req *r = c->reqs;
        pg_http_client_response resp;
        memset(&resp, 0, sizeof(resp));
        unlink_req(c, r);
        resp.outcome = PG_HTTP_ABORTED;
        resp.elapsed_us = (uv_hrtime() - r->start_ns) / 1000;
        snprintf(resp.error, sizeof(resp.error), "request aborted: the client was closed");
        r->cb(r->arg, &resp);
        req_free(r);
    }
    if (!c->dispatching)
        finish_close(c);
}

size_t pg_http_client_active(const pg_http_client *c)
{
    return c->active;
}

static int append_header(struct curl_slist **list, const char *name, const char *value)
{
    pg_buf line;
    pg_buf_init(&line);
    int rc = pg_buf_printf(&line, value && *value ? "%s: %s" : "%s;", name, value ? value : "");
    if (rc == 0)
        rc = pg_buf_append(&line, "", 1);
    struct curl_slist *l = rc == 0 ? curl_slist_append(*list, (const char *)line.data) : NULL;
    pg_buf_free(&line);
    if (!l)
        return PG_ERR_NOMEM;
    *list = l;
    return PG_OK;
}

static int build_headers(const pg_http_target *t, const pg_http_client_request *req,
                         struct curl_slist **list)
{
    int rc = pg_http_target_headers(t, list);
    for (size_t i = 0; rc == PG_OK && i < req->n_headers; i++)
        rc = append_header(list, req->headers[i].name, req->headers[i].value);
    if (rc == PG_OK && req->content_type)
        rc = append_header(list, "Content-Type", req->content_type);
    /* Waiting for "100 Continue" costs a round trip per request. */
    if (rc == PG_OK) {
        struct curl_slist *l = curl_slist_append(*list, "Expect:");
        rc = l ? PG_OK : PG_ERR_NOMEM;
        if (l)
            *list = l;
    }
    return rc;
}

static void set_method(CURL *e, const pg_http_client_request *req)
{
    const char *method = req->method ? req->method : "POST";
    if (strcmp(method, "GET") == 0 && !req->body_len) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        return;
    }
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (strcmp(method, "POST") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

static int setup_easy(pg_http_client *c, client_req *r, const pg_http_client_request *req,
                      pg_error *err)
{
    CURL *e = r->easy;
    int rc = pg_http_target_apply(c->t, e, req->path, err);
    if (rc != PG_OK)
        return rc;
    if (build_headers(c->t, req, &r->headers) != PG_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    set_method(e, req);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    return PG_OK;
}

int pg_http_client_send(pg_http_client *c, const pg_http_client_request *req, pg_http_client_cb cb,
                        void *arg, pg_error *err)
{
    if (c->closing)
        return pg_error_set(err, PG_ERR_BUSY, "HTTP client is closing");
    client_req *r = calloc(1, sizeof(*r));
    if (!r)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    pg_buf_init(&r->body);
    r->c = c;
    r->cb = cb;
    r->arg = arg;
    r->max_body = req->max_response_bytes ? req->max_response_bytes : DEFAULT_MAX_RESPONSE;
    r->arena = pg_arena_new(4096, 0);
    r->easy = curl_easy_init();
    int rc = r->arena && r->easy ? setup_easy(c, r, req, err)
                                 : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    if (rc == PG_OK) {
        CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);
        if (mc != CURLM_OK)
            rc = pg_error_set(err, PG_ERR_IO, "curl: %s", curl_multi_strerror(mc));
    }
    if (rc != PG_OK) {
        req_free(r);
        return rc;
    }
    r->start_ns = uv_hrtime();
    r->next = c->reqs;
    if (c->reqs)
        c->reqs->prev = r;
    c->reqs = r;
    c->active++;
    return PG_OK;
}

const char *pg_http_client_response_header(const pg_http_client_response *r, const char *name)
{
    const char *found = NULL;
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            found = r->headers[i].value;
    return found;
}
