#include <stdlib.h>
#include <string.h>

#include "telemetry/log.h"
#include "transport/server_internal.h"

typedef struct pg_wreq {
    uv_write_t req;
    pg_conn *c;
    uint8_t *a, *b;
    size_t len;
} pg_wreq;

/* Reads are processed to completion inside the read callback, so one buffer
 * per worker thread serves every connection of that worker. */
static _Thread_local uint8_t read_buf[64 * 1024];
static _Thread_local uint8_t plain_buf[16 * 1024];

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void begin_linger(pg_conn *c);

const char *pg_conn_scope(const pg_conn *c)
{
    return c->srv->cfg.log_scope;
}

static void conn_free(pg_conn *c)
{
    pg_h1_conn_free(c);
    pg_h2_conn_free(c);
    pg_tls_conn_free(c->tls);
    pg_srv_worker *sw = c->sw;
    free(c);
    pg_srv_worker_unref(sw);
}

static void on_handle_closed(uv_handle_t *h)
{
    pg_conn *c = h->data;
    if (--c->handles_open == 0)
        conn_free(c);
}

static void unlink_conn(pg_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (c->sw->conns == c)
        c->sw->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

void pg_conn_close(pg_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    unlink_conn(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void start_reading(pg_conn *c)
{
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->read_paused = 0;
}

static void on_write(uv_write_t *req, int status)
{
    pg_wreq *w = (pg_wreq *)req;
    pg_conn *c = w->c;
    c->writes--;
    c->write_bytes -= w->len;
    free(w->a);
    free(w->b);
    free(w);
    if (c->closing)
        return;
    if (status < 0) {
        pg_log(PG_LOG_DEBUG, pg_conn_scope(c), "write to %s failed: %s", c->remote_addr,
               uv_strerror(status));
        pg_conn_close(c);
        return;
    }
    if (c->read_paused && c->write_bytes < PG_WRITE_LOW_WATER && !c->close_after_write)
        start_reading(c);
    if (c->proto == PG_PROTO_H2)
        pg_h2_conn_flush(c);
    if (c->closing)
        return;
    if (c->writes == 0 && c->close_after_write && !c->lingering) {
        begin_linger(c);
        return;
    }
    if (c->timer_mode == PG_TM_WRITE)
        c->timer_mode = PG_TM_NONE;
    pg_conn_update_timer(c);
}

/* Queues bytes for the socket as they are (ciphertext when TLS is on). */
static int raw_send(pg_conn *c, uint8_t *a, size_t alen, uint8_t *b, size_t blen)
{
    if (c->closing) {
        free(a);
        free(b);
        return PG_ERR_IO;
    }
    if (alen + blen == 0) {
        free(a);
        free(b);
        return PG_OK;
    }
    pg_wreq *w = malloc(sizeof(*w));
    if (!w) {
        free(a);
        free(b);
        pg_conn_close(c);
        return PG_ERR_NOMEM;
    }
    w->c = c;
    w->a = a;
    w->b = b;
    w->len = alen + blen;
    uv_buf_t bufs[2];
    unsigned n = 0;
    if (alen)
        bufs[n++] = uv_buf_init((char *)a, (unsigned)alen);
    if (blen)
        bufs[n++] = uv_buf_init((char *)b, (unsigned)blen);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, n, on_write);
    if (rc != 0) {
        free(a);
        free(b);
        free(w);
        pg_conn_close(c);
        return PG_ERR_IO;
    }
    c->writes++;
    c->write_bytes += w->len;
    if (c->write_bytes > PG_WRITE_HIGH_WATER && !c->read_paused) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->read_paused = 1;
    }
    return PG_OK;
}

int pg_conn_send(pg_conn *c, uint8_t *a, size_t alen, uint8_t *b, size_t blen)
{
    if (c->tls && !c->closing) {
        int rc = (alen ? pg_tls_conn_write(c->tls, a, alen) : 0) ||
                 (blen ? pg_tls_conn_write(c->tls, b, blen) : 0);
        free(a);
        free(b);
        b = NULL;
        blen = 0;
        if (rc || pg_tls_conn_take_output(c->tls, &a, &alen)) {
            pg_conn_close(c);
            return PG_ERR_IO;
        }
    }
    return raw_send(c, a, alen, b, blen);
}

static void flush_tls(pg_conn *c)
{
    uint8_t *out;
    size_t len;
    if (pg_tls_conn_take_output(c->tls, &out, &len) != PG_OK) {
        pg_conn_close(c);
        return;
    }
    if (out)
        raw_send(c, out, len, NULL, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    pg_conn *c = req->data;
    if (status < 0 && !c->closing)
        pg_conn_close(c);
}

/* Half-close, then read and discard until the peer closes or PG_LINGER_MS
 * pass: closing with unread bytes would make the kernel send a reset that
 * can destroy the response the client has not read yet. */
static void begin_linger(pg_conn *c)
{
    if (c->tls) {
        pg_tls_conn_shutdown(c->tls);
        flush_tls(c);
        if (c->closing)
            return;
    }
    c->lingering = 1;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        pg_conn_close(c);
        return;
    }
    if (c->read_paused)
        start_reading(c);
    c->timer_mode = PG_TM_NONE;
    pg_conn_update_timer(c);
}

void pg_conn_close_after_write(pg_conn *c)
{
    if (c->closing || c->close_after_write)
        return;
    c->close_after_write = 1;
    if (c->writes == 0)
        begin_linger(c);
}

static void on_timer(uv_timer_t *t)
{
    pg_conn *c = t->data;
    if (c->timer_mode != PG_TM_LINGER)
        pg_log(PG_LOG_DEBUG, pg_conn_scope(c), "closing connection from %s: %s timeout",
               c->remote_addr,
               c->timer_mode == PG_TM_IDLE   ? "idle"
               : c->timer_mode == PG_TM_READ ? "read"
                                             : "write");
    pg_conn_close(c);
}

static int conn_receiving(const pg_conn *c)
{
    switch (c->proto) {
    case PG_PROTO_SNIFF:
        return c->got_bytes; /* preface or TLS handshake under way */
    case PG_PROTO_H1:
        return pg_h1_conn_receiving(c);
    case PG_PROTO_H2:
        return pg_h2_conn_receiving(c);
    }
    return 0;
}

void pg_conn_update_timer(pg_conn *c)
{
    if (c->closing)
        return;
    pg_timer_mode mode;
    uint64_t ms;
    if (c->lingering) {
        mode = PG_TM_LINGER;
        ms = PG_LINGER_MS;
    } else if (conn_receiving(c)) {
        mode = PG_TM_READ;
        ms = c->srv->cfg.read_timeout_ms;
    } else if (c->writes) {
        mode = PG_TM_WRITE;
        ms = c->srv->cfg.read_timeout_ms;
    } else {
        mode = PG_TM_IDLE;
        ms = c->srv->cfg.idle_timeout_ms;
    }
    if (mode == c->timer_mode && uv_is_active((uv_handle_t *)&c->timer))
        return;
    c->timer_mode = mode;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void start_protocol(pg_conn *c, pg_proto proto)
{
    c->proto = proto;
    int rc = proto == PG_PROTO_H2 ? pg_h2_conn_init(c) : pg_h1_conn_init(c);
    if (rc != PG_OK) {
        pg_log(PG_LOG_WARN, pg_conn_scope(c), "cannot set up connection from %s", c->remote_addr);
        pg_conn_close(c);
        return;
    }
    if (proto != PG_PROTO_H2)
        return;
    if (c->draining)
        pg_h2_conn_drain(c);
    pg_h2_conn_flush(c); /* our SETTINGS go out without waiting for the peer */
}

static void feed_protocol(pg_conn *c, const uint8_t *data, size_t len)
{
    if (c->closing || c->close_after_write || len == 0)
        return;
    if (c->proto == PG_PROTO_H2)
        pg_h2_conn_on_data(c, data, len);
    else
        pg_h1_conn_on_data(c, data, len);
}

/* Without TLS, HTTP/2 (prior knowledge) announces itself with its 24-byte
 * preface; anything else is HTTP/1.x. */
static void sniff(pg_conn *c, const uint8_t *data, size_t len)
{
    static const char preface[] = PG_H2_PREFACE;
    size_t before = c->sniff_len;
    size_t take = PG_H2_PREFACE_LEN - before < len ? PG_H2_PREFACE_LEN - before : len;
    if (memcmp(data, preface + before, take) != 0) {
        start_protocol(c, PG_PROTO_H1);
        feed_protocol(c, c->sniff, before);
        feed_protocol(c, data, len);
        return;
    }
    memcpy(c->sniff + before, data, take);
    c->sniff_len += take;
    if (c->sniff_len < PG_H2_PREFACE_LEN)
        return;
    start_protocol(c, PG_PROTO_H2);
    feed_protocol(c, c->sniff, PG_H2_PREFACE_LEN);
    feed_protocol(c, data + take, len - take);
}

static void on_plaintext(pg_conn *c, const uint8_t *data, size_t len)
{
    if (c->proto == PG_PROTO_SNIFF && !c->tls)
        sniff(c, data, len);
    else
        feed_protocol(c, data, len);
}

static void on_ciphertext(pg_conn *c, const uint8_t *data, size_t len)
{
    pg_error err = {0};
    if (pg_tls_conn_feed(c->tls, data, len) != PG_OK) {
        pg_conn_close(c);
        return;
    }
    for (;;) {
        size_t n = 0;
        int rc = pg_tls_conn_read(c->tls, plain_buf, sizeof(plain_buf), &n, &err);
        if (c->proto == PG_PROTO_SNIFF && pg_tls_conn_handshake_done(c->tls))
            start_protocol(c, pg_tls_conn_alpn_h2(c->tls) ? PG_PROTO_H2 : PG_PROTO_H1);
        if (rc < 0) {
            pg_log(PG_LOG_DEBUG, pg_conn_scope(c), "%s: %s", c->remote_addr, err.msg);
            flush_tls(c); /* the alert, if any */
            pg_conn_close_after_write(c);
            return;
        }
        if (c->closing)
            return;
        if (rc == 1 || n == 0)
            break;
        on_plaintext(c, plain_buf, n);
        if (c->closing)
            return;
    }
    flush_tls(c);
}

static void on_eof(pg_conn *c)
{
    if (c->lingering || c->writes == 0) {
        pg_conn_close(c);
        return;
    }
    /* answers to requests already received are still being written */
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->read_paused = 1;
    pg_conn_close_after_write(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    pg_conn *c = s->data;
    if (c->closing)
        return;
    if (nread < 0) {
        on_eof(c);
        return;
    }
    if (nread == 0 || c->lingering || c->close_after_write)
        return;
    c->got_bytes = 1;
    if (c->tls)
        on_ciphertext(c, (const uint8_t *)buf->base, (size_t)nread);
    else
        on_plaintext(c, (const uint8_t *)buf->base, (size_t)nread);
    if (c->closing)
        return;
    if (c->proto == PG_PROTO_H2 && pg_h2_conn_finished(c))
        pg_conn_close_after_write(c);
    pg_conn_update_timer(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    *buf = uv_buf_init((char *)read_buf, sizeof(read_buf));
}

static void peer_name(pg_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, host, sizeof(host));
            port = ntohs(a->sin6_port);
            snprintf(c->remote_addr, sizeof(c->remote_addr), "[%s]:%d", host, port);
            return;
        }
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, host, sizeof(host));
        port = ntohs(a->sin_port);
    }
    snprintf(c->remote_addr, sizeof(c->remote_addr), "%s:%d", host, port);
}

void pg_conn_accept(pg_srv_worker *sw)
{
    pg_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->sw = sw;
    c->srv = sw->srv;
    uv_tcp_init(sw->worker->loop, &c->tcp);
    uv_timer_init(sw->worker->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    sw->refs++;
    c->next = sw->conns;
    if (sw->conns)
        sw->conns->prev = c;
    sw->conns = c;
    if (uv_accept((uv_stream_t *)&sw->listener, (uv_stream_t *)&c->tcp) != 0) {
        pg_conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    peer_name(c);
    if (c->srv->tls && !(c->tls = pg_tls_conn_new(c->srv->tls))) {
        pg_conn_close(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        pg_conn_close(c);
        return;
    }
    pg_conn_update_timer(c);
}

void pg_conn_drain(pg_conn *c)
{
    c->draining = 1;
    if (c->proto == PG_PROTO_H2) {
        pg_h2_conn_drain(c);
        if (!c->closing && pg_h2_conn_finished(c))
            pg_conn_close_after_write(c);
        return;
    }
    if (conn_receiving(c) && !c->close_after_write)
        return; /* h1_conn closes after answering this request */
    if (c->writes)
        pg_conn_close_after_write(c);
    else
        pg_conn_close(c);
}
