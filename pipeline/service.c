#include "pipeline/service.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "pipeline/fanout.h"
#include "telemetry/log.h"
#include "telemetry/telemetry_server.h"

#define SCOPE "service"

typedef struct pg_worker_thread {
    pg_worker worker;
    uv_loop_t loop;
    uv_async_t stop_async;
    pthread_t thread;
    int thread_started;
    int start_failed;
    pg_service *svc;
} pg_worker_thread;

struct pg_service {
    const pg_config *cfg;
    /* all component instances, in start order: exporters, processors, receivers */
    pg_component **components;
    size_t n_components;
    /* fan-outs owned by the graph (pipelines' exporter sets, receivers' pipeline sets) */
    pg_fanout *fanouts;
    size_t n_fanouts;
    /* per pipeline: its exporters by id, lent to its processors */
    pg_pipeline_exporter **pipeline_exporters;
    int workers;
    pg_worker_thread *threads;
    pg_telemetry_server *telemetry;
    /* the main thread waits on this for a stop request */
    int stop_pipe[2];
    uint64_t deadline_ms;
};

static int component_consume(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    pg_component *c = target;
    return c->def->consume(c, w, b, res);
}

static pg_consumer component_consumer(pg_component *c)
{
    pg_consumer k = {.consume = component_consume, .target = c};
    return k;
}

static pg_component *component_new(pg_service *svc, const pg_config_component *cc,
                                   const pg_pipeline_exporter *pexp, size_t n_pexp, pg_error *err)
{
    pg_component *c = calloc(1, sizeof(*c));
    if (!c) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->def = cc->def;
    snprintf(c->id, sizeof(c->id), "%s", cc->id);
    c->config = cc->typed;
    c->workers = svc->workers;
    c->pipeline_exporters = pexp;
    c->n_pipeline_exporters = n_pexp;
    if (c->def->create && c->def->create(c, err) != PG_OK) {
        pg_error_prefix(err, "%s %s: ", pg_component_kind_name(c->def->kind), c->id);
        free(c);
        return NULL;
    }
    svc->components[svc->n_components++] = c;
    return c;
}

static int resolve_workers(const pg_config *cfg)
{
    if (cfg->service.workers > 0)
        return (int)cfg->service.workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int build_graph(pg_service *svc, pg_error *err)
{
    const pg_config *cfg = svc->cfg;
    size_t n_proc_instances = 0;
    for (size_t p = 0; p < cfg->n_pipelines; p++)
        n_proc_instances += cfg->pipelines[p].n_processors;
    size_t total = cfg->n_receivers + cfg->n_exporters + n_proc_instances;
    svc->components = calloc(total ? total : 1, sizeof(*svc->components));
    svc->fanouts = calloc(cfg->n_pipelines + cfg->n_receivers + 1, sizeof(*svc->fanouts));
    svc->pipeline_exporters = calloc(cfg->n_pipelines + 1, sizeof(*svc->pipeline_exporters));
    pg_component **exporters = calloc(cfg->n_exporters + 1, sizeof(*exporters));
    pg_component **receivers = calloc(cfg->n_receivers + 1, sizeof(*receivers));
    pg_fanout *receiver_fanouts = calloc(cfg->n_receivers + 1, sizeof(*receiver_fanouts));
    int rc = PG_ERR_NOMEM;
    if (!svc->components || !svc->fanouts || !svc->pipeline_exporters || !exporters || !receivers ||
        !receiver_fanouts) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory building the pipeline graph");
        goto out;
    }
    rc = PG_ERR_INVALID;
    /* Components no pipeline uses are not instantiated (the configuration
     * check warned about them). An exporter is created before the first
     * processor that sends to it, so start order puts it first. */
    for (size_t p = 0; p < cfg->n_pipelines; p++) {
        const pg_config_pipeline *pl = &cfg->pipelines[p];
        pg_fanout *out = &svc->fanouts[svc->n_fanouts++];
        pg_pipeline_exporter *pexp = calloc(pl->n_exporters + 1, sizeof(*pexp));
        if (!(svc->pipeline_exporters[p] = pexp))
            goto nomem;
        for (size_t e = 0; e < pl->n_exporters; e++) {
            size_t x = pl->exporters[e];
            if (!exporters[x] &&
                !(exporters[x] = component_new(svc, &cfg->exporters[x], NULL, 0, err)))
                goto out;
            if (pg_fanout_add(out, component_consumer(exporters[x]), 0) != PG_OK)
                goto nomem;
            pexp[e].id = exporters[x]->id;
            pexp[e].consumer = component_consumer(exporters[x]);
        }
        pg_consumer next = pg_fanout_consumer(out);
        int mutates = 0;
        /* processors are chained back to front so each knows its successor */
        for (size_t k = pl->n_processors; k-- > 0;) {
            pg_component *proc =
                component_new(svc, &cfg->processors[pl->processors[k]], pexp, pl->n_exporters, err);
            if (!proc)
                goto out;
            proc->next = next;
            next = component_consumer(proc);
            mutates |= proc->def->mutates_data;
        }
        for (size_t r = 0; r < pl->n_receivers; r++)
            if (pg_fanout_add(&receiver_fanouts[pl->receivers[r]], next, mutates) != PG_OK)
                goto nomem;
    }
    for (size_t i = 0; i < cfg->n_receivers; i++) {
        if (receiver_fanouts[i].n == 0)
            continue;
        if (!(receivers[i] = component_new(svc, &cfg->receivers[i], NULL, 0, err)))
            goto out;
        pg_fanout *f = &svc->fanouts[svc->n_fanouts++];
        *f = receiver_fanouts[i];
        memset(&receiver_fanouts[i], 0, sizeof(receiver_fanouts[i]));
        receivers[i]->next = pg_fanout_consumer(f);
    }
    rc = PG_OK;
    goto out;
nomem:
    rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory building the pipeline graph");
out:
    if (receiver_fanouts)
        for (size_t i = 0; i < cfg->n_receivers; i++)
            pg_fanout_free(&receiver_fanouts[i]);
    free(receiver_fanouts);
    free(exporters);
    free(receivers);
    return rc;
}

int pg_service_create(const pg_config *cfg, pg_service **out, pg_error *err)
{
    pg_service *svc = calloc(1, sizeof(*svc));
    if (!svc)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    svc->cfg = cfg;
    svc->workers = resolve_workers(cfg);
    svc->stop_pipe[0] = svc->stop_pipe[1] = -1;
    int rc = build_graph(svc, err);
    if (rc != PG_OK) {
        pg_service_free(svc);
        return rc;
    }
    *out = svc;
    return PG_OK;
}

int pg_service_workers(const pg_service *svc)
{
    return svc->workers;
}

/* ---- worker threads ---- */

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void worker_stop_cb(uv_async_t *a)
{
    pg_worker_thread *wt = a->data;
    pg_service *svc = wt->svc;
    /* receivers first (stop accepting), then processors (flush), then exporters */
    for (size_t i = svc->n_components; i-- > 0;) {
        pg_component *c = svc->components[i];
        if (c->def->worker_stop)
            c->def->worker_stop(c, &wt->worker);
    }
    pg_telemetry_server_worker_stop(svc->telemetry, &wt->worker);
    uv_close((uv_handle_t *)&wt->stop_async, NULL);
}

static void *worker_main(void *arg)
{
    pg_worker_thread *wt = arg;
    pg_service *svc = wt->svc;
    pg_error err;
    pg_error_clear(&err);
    for (size_t i = 0; i < svc->n_components; i++) {
        pg_component *c = svc->components[i];
        if (c->def->worker_start && c->def->worker_start(c, &wt->worker, &err) != PG_OK) {
            pg_log(PG_LOG_ERROR, SCOPE, "%s %s: worker %d: %s",
                   pg_component_kind_name(c->def->kind), c->id, wt->worker.id, err.msg);
            wt->start_failed = 1;
            pg_service_request_stop(svc);
            break;
        }
    }
    if (!wt->start_failed &&
        pg_telemetry_server_worker_start(svc->telemetry, &wt->worker, &err) != PG_OK) {
        pg_log(PG_LOG_ERROR, SCOPE, "telemetry endpoint: %s", err.msg);
        wt->start_failed = 1;
        pg_service_request_stop(svc);
    }
    uv_run(&wt->loop, UV_RUN_DEFAULT);
    /* whatever a component left open is closed here so the loop can end */
    uv_walk(&wt->loop, close_walk_cb, NULL);
    uv_run(&wt->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int start_workers(pg_service *svc, pg_error *err)
{
    svc->threads = calloc((size_t)svc->workers, sizeof(*svc->threads));
    if (!svc->threads)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    sigset_t all, old;
    sigfillset(&all);
    /* worker threads must not take SIGINT/SIGTERM: the main thread handles them */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = PG_OK;
    for (int i = 0; i < svc->workers; i++) {
        pg_worker_thread *wt = &svc->threads[i];
        wt->svc = svc;
        if (uv_loop_init(&wt->loop) != 0) {
            rc = pg_error_set(err, PG_ERR_IO, "cannot create event loop");
            break;
        }
        wt->worker.id = i;
        wt->worker.loop = &wt->loop;
        wt->worker.service = svc;
        uv_async_init(&wt->loop, &wt->stop_async, worker_stop_cb);
        wt->stop_async.data = wt;
        if (pthread_create(&wt->thread, NULL, worker_main, wt) != 0) {
            uv_close((uv_handle_t *)&wt->stop_async, NULL);
            uv_run(&wt->loop, UV_RUN_NOWAIT);
            uv_loop_close(&wt->loop);
            wt->worker.loop = NULL;
            rc = pg_error_set(err, PG_ERR_IO, "cannot start worker thread");
            break;
        }
        wt->thread_started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void stop_workers(pg_service *svc)
{
    for (int i = 0; i < svc->workers; i++)
        if (svc->threads && svc->threads[i].thread_started) {
            svc->threads[i].worker.stop_deadline_ms = svc->deadline_ms;
            uv_async_send(&svc->threads[i].stop_async);
        }
    for (int i = 0; i < svc->workers; i++) {
        pg_worker_thread *wt = &svc->threads[i];
        if (!svc->threads || !wt->thread_started)
            continue;
        pthread_join(wt->thread, NULL);
        wt->thread_started = 0;
        if (uv_loop_close(&wt->loop) != 0)
            pg_log(PG_LOG_WARN, SCOPE, "worker %d: event loop closed with open handles", i);
    }
}

/* ---- signals and the main thread ---- */

static pg_service *signal_target;

static void on_signal(int sig)
{
    (void)sig;
    if (signal_target)
        pg_service_request_stop(signal_target);
}

void pg_service_request_stop(pg_service *svc)
{
    if (svc->stop_pipe[1] >= 0) {
        char c = 1;
        ssize_t w = write(svc->stop_pipe[1], &c, 1);
        (void)w;
    }
}

static void wait_for_stop(pg_service *svc)
{
    char c;
    for (;;) {
        ssize_t r = read(svc->stop_pipe[0], &c, 1);
        if (r == 1 || (r < 0 && errno != EINTR))
            return;
    }
}

static int start_components(pg_service *svc, pg_error *err)
{
    for (size_t i = 0; i < svc->n_components; i++) {
        pg_component *c = svc->components[i];
        if (c->def->start && c->def->start(c, err) != PG_OK) {
            pg_error_prefix(err, "%s %s: ", pg_component_kind_name(c->def->kind), c->id);
            return PG_ERR_INVALID;
        }
        c->started = 1;
    }
    return PG_OK;
}

static void shutdown_components(pg_service *svc)
{
    for (size_t i = svc->n_components; i-- > 0;) {
        pg_component *c = svc->components[i];
        if (c->def->shutdown && !c->shut_down)
            c->def->shutdown(c, svc->deadline_ms);
        c->shut_down = 1;
    }
}

int pg_service_run(pg_service *svc, pg_error *err)
{
    const pg_config *cfg = svc->cfg;
    int rc;
    if (pipe(svc->stop_pipe) != 0)
        return pg_error_set(err, PG_ERR_IO, "cannot create stop pipe");
    rc = pg_telemetry_server_new(cfg->service.metrics_address, &svc->telemetry, err);
    if (rc != PG_OK)
        return rc;
    rc = start_components(svc, err);
    if (rc == PG_OK)
        rc = start_workers(svc, err);
    if (rc == PG_OK) {
        signal_target = svc;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        pg_log(PG_LOG_INFO, SCOPE, "profgate %s running: %zu pipeline(s), %d worker(s)", PG_VERSION,
               cfg->n_pipelines, svc->workers);
        wait_for_stop(svc);
        pg_log(PG_LOG_INFO, SCOPE, "shutting down (timeout %llu ms)",
               (unsigned long long)cfg->service.shutdown_timeout_ms);
    }
    svc->deadline_ms = pg_now_ms() + cfg->service.shutdown_timeout_ms;
    stop_workers(svc);
    shutdown_components(svc);
    int failed = 0;
    for (int i = 0; svc->threads && i < svc->workers; i++)
        failed |= svc->threads[i].start_failed;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal_target = NULL;
    if (rc == PG_OK && failed)
        rc = pg_error_set(err, PG_ERR_IO, "a worker failed to start (see the log above)");
    if (rc == PG_OK)
        pg_log(PG_LOG_INFO, SCOPE, "stopped");
    return rc;
}

void pg_service_free(pg_service *svc)
{
    if (!svc)
        return;
    shutdown_components(svc);
    for (size_t i = svc->n_components; i-- > 0;) {
        pg_component *c = svc->components[i];
        if (c->def->destroy)
            c->def->destroy(c);
        free(c);
    }
    for (size_t i = 0; i < svc->n_fanouts; i++)
        pg_fanout_free(&svc->fanouts[i]);
    free(svc->fanouts);
    for (size_t p = 0; svc->pipeline_exporters && p < svc->cfg->n_pipelines; p++)
        free(svc->pipeline_exporters[p]);
    free(svc->pipeline_exporters);
    free(svc->components);
    free(svc->threads);
    pg_telemetry_server_free(svc->telemetry);
    if (svc->stop_pipe[0] >= 0)
        close(svc->stop_pipe[0]);
    if (svc->stop_pipe[1] >= 0)
        close(svc->stop_pipe[1]);
    free(svc);
}
