#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "telemetry/log.h"
#include "transport/server_internal.h"

#define LISTEN_BACKLOG 1024

/* "host:port", "[v6]:port" or ":port" (all interfaces). */
static int split_endpoint(const char *ep, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    const char *h = ep;
    size_t hlen;
    if (ep[0] == '[') {
        const char *close = strchr(ep, ']');
        if (!close || close[1] != ':')
            return PG_ERR_INVALID;
        h = ep + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(ep, ':');
        if (!colon)
            return PG_ERR_INVALID;
        hlen = (size_t)(colon - ep);
    }
    size_t plen = strlen(colon + 1);
    if (hlen >= hcap || plen == 0 || plen >= pcap || strspn(colon + 1, "0123456789") != plen)
        return PG_ERR_INVALID;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return PG_OK;
}

static int bind_one(const struct sockaddr *addr, socklen_t len, pg_error *err)
{
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return pg_error_set(err, PG_ERR_IO, "socket: %s", strerror(errno));
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
        pg_error_set(err, PG_ERR_IO, "setsockopt: %s", strerror(errno));
        close(fd);
        return PG_ERR_IO;
    }
    if (bind(fd, addr, len) != 0) {
        pg_error_set(err, PG_ERR_IO, "bind: %s", strerror(errno));
        close(fd);
        return PG_ERR_IO;
    }
    return fd;
}

static void record_endpoint(pg_http_server *s, int fd, const char *host)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return;
    s->bound_addr = ss;
    s->bound_addr_len = len;
    int port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                        : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    s->bound_port = port;
    int v6 = strchr(host, ':') != NULL;
    snprintf(s->bound_endpoint, sizeof(s->bound_endpoint), "%s%s%s:%d", v6 ? "[" : "", host,
             v6 ? "]" : "", port);
}

/* Resolves (synchronously: this runs before the loop serves traffic) and
 * binds the endpoint. Later workers bind exactly the address the first one
 * got, port included, so that SO_REUSEPORT spreads one listening address. */
static int open_listen_socket(pg_http_server *s, pg_error *err)
{
    char host[256], port[16];
    if (s->bound_port) {
        int fd = bind_one((struct sockaddr *)&s->bound_addr, s->bound_addr_len, err);
        if (fd < 0)
            pg_error_prefix(err, "listening on %s: ", s->bound_endpoint);
        return fd;
    }
    if (split_endpoint(s->cfg.endpoint, host, sizeof(host), port, sizeof(port)) != PG_OK)
        return pg_error_set(err, PG_ERR_INVALID, "invalid endpoint '%s' (want host:port)",
                            s->cfg.endpoint);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gai != 0)
        return pg_error_set(err, PG_ERR_IO, "cannot resolve '%s': %s", s->cfg.endpoint,
                            gai_strerror(gai));
    int fd = PG_ERR_IO;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = bind_one(ai->ai_addr, ai->ai_addrlen, err);
    freeaddrinfo(res);
    if (fd < 0) {
        pg_error_prefix(err, "listening on %s: ", s->cfg.endpoint);
        return fd;
    }
    record_endpoint(s, fd, host[0] ? host : "0.0.0.0");
    return fd;
}

static pg_srv_worker *find_worker(pg_http_server *s, pg_worker *w)
{
    for (pg_srv_worker *sw = s->workers; sw; sw = sw->next) {
        if (sw->worker == w)
            return sw;
    }
    return NULL;
}

static void on_connection(uv_stream_t *server, int status)
{
    pg_srv_worker *sw = server->data;
    if (status < 0) {
        pg_log(PG_LOG_WARN, sw->srv->cfg.log_scope, "accept failed: %s", uv_strerror(status));
        return;
    }
    if (!sw->stopping)
        pg_conn_accept(sw);
}

int pg_http_server_worker_start(pg_http_server *s, pg_worker *w, pg_error *err)
{
    pg_srv_worker *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    sw->srv = s;
    sw->worker = w;
    pthread_mutex_lock(&s->mu);
    int fd = find_worker(s, w) ? pg_error_set(err, PG_ERR_INVALID, "worker already started")
                               : open_listen_socket(s, err);
    if (fd >= 0) {
        sw->next = s->workers;
        s->workers = sw;
    }
    pthread_mutex_unlock(&s->mu);
    if (fd < 0) {
        free(sw);
        return fd;
    }
    uv_tcp_init(w->loop, &sw->listener);
    sw->listener.data = sw;
    sw->refs = 1; /* the listener handle */
    sw->listening = 1;
    int rc = uv_tcp_open(&sw->listener, fd);
    if (rc != 0)
        close(fd); /* not owned by the handle */
    else
        rc = uv_listen((uv_stream_t *)&sw->listener, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        pg_http_server_worker_stop(s, w);
        return pg_error_set(err, PG_ERR_IO, "listen on %s: %s", s->cfg.endpoint, uv_strerror(rc));
    }
    pg_log(PG_LOG_DEBUG, s->cfg.log_scope, "worker %d listening on %s%s", w->id,
           pg_http_server_endpoint(s), s->tls ? " (TLS)" : "");
    return PG_OK;
}

static void on_listener_closed(uv_handle_t *h)
{
    pg_srv_worker_unref(h->data);
}

void pg_srv_worker_unref(pg_srv_worker *sw)
{
    if (--sw->refs > 0 || !sw->stopping)
        return;
    pg_http_server *s = sw->srv;
    pthread_mutex_lock(&s->mu);
    for (pg_srv_worker **p = &s->workers; *p; p = &(*p)->next) {
        if (*p == sw) {
            *p = sw->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free(sw);
}

void pg_http_server_worker_stop(pg_http_server *s, pg_worker *w)
{
    pthread_mutex_lock(&s->mu);
    pg_srv_worker *sw = find_worker(s, w);
    pthread_mutex_unlock(&s->mu);
    if (!sw || sw->stopping)
        return;
    sw->stopping = 1;
    sw->refs++; /* keep sw alive while connections close below */
    if (sw->listening) {
        sw->listening = 0;
        uv_close((uv_handle_t *)&sw->listener, on_listener_closed);
    }
    pg_conn *next;
    for (pg_conn *c = sw->conns; c; c = next) {
        next = c->next;
        pg_conn_drain(c);
    }
    pg_srv_worker_unref(sw);
}
