/*
 * For test_http_client*.c and test_delivery*.c: profgate's own HTTP server
 * on its own thread and loop (handlers may block: the client under test
 * runs on another loop), and a helper that runs the client's loop until a
 * condition holds.
 */
#ifndef PG_TEST_HTTP_CLIENT_SERVER_H
#define PG_TEST_HTTP_CLIENT_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "common/clock.h"
#include "transport/http_server.h"

#define TS_MAX_SERVERS 4

typedef struct test_server {
    pg_http_server *srv[TS_MAX_SERVERS];
    int n;
    uv_loop_t loop;
    pg_worker worker;
    uv_async_t stop;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int ready, start_rc, running;
} test_server;

static inline pg_http_server *ts_add(test_server *ts, const char *endpoint,
                                     pg_tls_server_config tls)
{
    pg_http_server_config cfg = {
        .endpoint = endpoint,
        .tls = tls,
        .idle_timeout_ms = 5000,
        .read_timeout_ms = 5000,
        .log_scope = "test/server",
    };
    pg_error err = {0};
    pg_http_server *s = pg_http_server_new(&cfg, &err);
    if (!s)
        fprintf(stderr, "pg_http_server_new: %s\n", err.msg);
    ts->srv[ts->n++] = s;
    return s;
}

static inline void ts_on_stop(uv_async_t *a)
{
    test_server *ts = a->data;
    for (int i = 0; i < ts->n; i++)
        pg_http_server_worker_stop(ts->srv[i], &ts->worker);
    uv_close((uv_handle_t *)a, NULL);
}

static inline void *ts_thread(void *arg)
{
    test_server *ts = arg;
    pg_error err = {0};
    int rc = 0;
    for (int i = 0; i < ts->n && rc == 0; i++) {
        rc = pg_http_server_worker_start(ts->srv[i], &ts->worker, &err);
        if (rc != 0)
            fprintf(stderr, "worker_start: %s\n", err.msg);
    }
    ts->stop.data = ts;
    uv_async_init(&ts->loop, &ts->stop, ts_on_stop);
    pthread_mutex_lock(&ts->mu);
    ts->start_rc = rc;
    ts->ready = 1;
    pthread_cond_signal(&ts->cv);
    pthread_mutex_unlock(&ts->mu);
    uv_run(&ts->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Starts the servers added with ts_add; 0 when all listen. */
static inline int ts_start(test_server *ts)
{
    uv_loop_init(&ts->loop);
    ts->worker.id = 0;
    ts->worker.loop = &ts->loop;
    pthread_mutex_init(&ts->mu, NULL);
    pthread_cond_init(&ts->cv, NULL);
    pthread_create(&ts->thread, NULL, ts_thread, ts);
    pthread_mutex_lock(&ts->mu);
    while (!ts->ready)
        pthread_cond_wait(&ts->cv, &ts->mu);
    pthread_mutex_unlock(&ts->mu);
    ts->running = 1;
    return ts->start_rc;
}

static inline void ts_stop(test_server *ts)
{
    if (ts->running) {
        uv_async_send(&ts->stop);
        pthread_join(ts->thread, NULL);
        uv_loop_close(&ts->loop);
        pthread_mutex_destroy(&ts->mu);
        pthread_cond_destroy(&ts->cv);
    }
    for (int i = 0; i < ts->n; i++)
        pg_http_server_free(ts->srv[i]);
    memset(ts, 0, sizeof(*ts));
}

static inline int ts_port(const pg_http_server *s)
{
    const char *colon = strrchr(pg_http_server_endpoint(s), ':');
    return colon ? atoi(colon + 1) : 0;
}

/* A port nobody listens on (right now). */
static inline int ts_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- the client side's loop ---- */

static inline void ts_tick(uv_timer_t *t)
{
    (void)t;
}

/* Runs loop until done(arg) or max_ms passed; 1 when done. A ticking timer
 * keeps uv_run from sleeping past the check. */
static inline int ts_run_until(uv_loop_t *loop, int (*done)(void *), void *arg, uint64_t max_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, ts_tick, 5, 5);
    uint64_t end = pg_now_ms() + max_ms;
    int ok;
    while (!(ok = done(arg)) && pg_now_ms() < end)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static inline int ts_never(void *arg)
{
    (void)arg;
    return 0;
}

/* Runs loop for about ms milliseconds. */
static inline void ts_run_for(uv_loop_t *loop, uint64_t ms)
{
    ts_run_until(loop, ts_never, NULL, ms);
}

#endif
