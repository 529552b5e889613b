#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "telemetry/log.h"
#include "transport/server_internal.h"

int pg_h1_conn_init(pg_conn *c)
{
    pg_h1_limits lim = {
        .max_header_bytes = c->srv->cfg.max_header_bytes,
        .max_body_bytes = c->srv->cfg.max_body_bytes,
        .arena_limit = c->srv->arena_limit,
    };
    c->h1 = pg_h1_parser_new(&lim);
    return c->h1 ? PG_OK : PG_ERR_NOMEM;
}

void pg_h1_conn_free(pg_conn *c)
{
    pg_h1_parser_free(c->h1);
    c->h1 = NULL;
}

int pg_h1_conn_receiving(const pg_conn *c)
{
    return c->h1 && pg_h1_parser_in_request(c->h1);
}

static int header_is_safe(const pg_http_header *h)
{
    /* the server owns framing headers; CR/LF would split the response */
    static const char *const own[] = {"content-length", "transfer-encoding", "connection",
                                      "content-type"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        if (strcasecmp(h->name, own[i]) == 0)
            return 0;
    }
    return h->name[0] && !strpbrk(h->name, "\r\n: ") && !strpbrk(h->value, "\r\n");
}

static int status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* Serialises the reply and queues it; the body buffer moves to the write. */
static void send_reply(pg_conn *c, pg_reply *r, int head_only, int keep_alive, int http_minor)
{
    pg_buf h;
    pg_buf_init(&h);
    int rc = pg_buf_printf(&h, "HTTP/1.1 %d %s\r\n", r->status, pg_http_status_text(r->status));
    if (r->content_type && !strpbrk(r->content_type, "\r\n"))
        rc |= pg_buf_printf(&h, "Content-Type: %s\r\n", r->content_type);
    if (status_has_body(r->status))
        rc |= pg_buf_printf(&h, "Content-Length: %zu\r\n", r->body.len);
    for (size_t i = 0; i < r->n_headers; i++) {
        if (header_is_safe(&r->headers[i]))
            rc |= pg_buf_printf(&h, "%s: %s\r\n", r->headers[i].name, r->headers[i].value);
    }
    if (!keep_alive)
        rc |= pg_buf_append_str(&h, "Connection: close\r\n");
    else if (http_minor == 0)
        rc |= pg_buf_append_str(&h, "Connection: keep-alive\r\n");
    rc |= pg_buf_append_str(&h, "\r\n");
    if (rc) {
        pg_buf_free(&h);
        pg_conn_close(c);
        return;
    }
    size_t hlen, blen = 0;
    uint8_t *head = pg_buf_detach(&h, &hlen);
    uint8_t *body = NULL;
    if (!head_only && status_has_body(r->status) && r->body.len)
        body = pg_buf_detach(&r->body, &blen);
    pg_conn_send(c, head, hlen, body, blen);
}

static void handle_request(pg_conn *c, pg_h1_request *r)
{
    pg_http_request req;
    memset(&req, 0, sizeof(req));
    req.arena = r->arena;
    req.worker = c->sw->worker;
    req.http_major = 1;
    req.method = r->method;
    req.path = r->path;
    req.query = r->query;
    req.headers = r->headers;
    req.n_headers = r->n_headers;
    req.remote_addr = c->remote_addr;
    pg_reply rep;
    pg_reply_init(&rep);
    pg_dispatch(c->srv, &req, &r->body, uv_hrtime(), &rep);
    int keep_alive = r->keep_alive && !c->draining;
    send_reply(c, &rep, strcmp(r->method, "HEAD") == 0, keep_alive, r->http_minor);
    pg_reply_release(&rep);
    pg_h1_request_release(r);
    c->timer_mode = PG_TM_NONE; /* the next request gets a fresh timeout */
    if (!keep_alive)
        pg_conn_close_after_write(c);
}

static void handle_error(pg_conn *c)
{
    int status = pg_h1_parser_error_status(c->h1);
    const char *msg = pg_h1_parser_error_message(c->h1);
    pg_log(PG_LOG_DEBUG, pg_conn_scope(c), "%s: %d %s", c->remote_addr, status, msg);
    pg_reply rep;
    pg_reply_init(&rep);
    pg_reply_error(&rep, c->srv, status, msg);
    send_reply(c, &rep, 0, 0, 1);
    pg_reply_release(&rep);
    pg_conn_close_after_write(c);
}

static void send_continue(pg_conn *c)
{
    static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uint8_t *b = malloc(sizeof(msg) - 1);
    if (!b) {
        pg_conn_close(c);
        return;
    }
    memcpy(b, msg, sizeof(msg) - 1);
    pg_conn_send(c, b, sizeof(msg) - 1, NULL, 0);
}

void pg_h1_conn_on_data(pg_conn *c, const uint8_t *data, size_t len)
{
    while (len > 0 && !c->closing && !c->close_after_write) {
        size_t used = 0;
        pg_h1_event ev = pg_h1_parser_feed(c->h1, data, len, &used);
        data += used;
        len -= used;
        if (ev == PG_H1_REQUEST) {
            pg_h1_request r;
            pg_h1_parser_take(c->h1, &r);
            handle_request(c, &r);
        } else if (ev == PG_H1_ERROR) {
            handle_error(c);
            return;
        } else {
            break;
        }
    }
    if (!c->closing && !c->close_after_write && pg_h1_parser_take_continue(c->h1))
        send_continue(c);
}
