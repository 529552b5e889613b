/*
 * The chain's front: creation, the global queue budget, the full-queue
 * policy and submit. What happens to a request once queued is in
 * delivery_worker.c.
 */
#include <stdlib.h>
#include <string.h>

#include "exporters/common/delivery_internal.h"
#include "pipeline/component.h"
#include "telemetry/log.h"

#define REFUSED_RETRY_AFTER_MS 1000u

int pg_delivery_new(const pg_delivery_opts *o, pg_delivery **out, pg_error *err)
{
    *out = NULL;
    if (!o->config || !o->exporter_id || o->workers < 1)
        return pg_error_set(err, PG_ERR_INVALID, "delivery: config, id and workers are required");
    pg_delivery *d = calloc(1, sizeof(*d));
    if (!d || !(d->id = strdup(o->exporter_id)) ||
        !(d->ws = calloc((size_t)o->workers, sizeof(*d->ws)))) {
        if (d)
            free(d->id);
        free(d);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    d->cfg = o->config;
    d->workers = o->workers;
    d->http2 = o->http2;
    d->classify = o->classify ? o->classify : pg_delivery_classify_http;
    d->classify_arg = o->classify ? o->classify_arg : NULL;
    pg_delivery_metrics_init(d);
    *out = d;
    return PG_OK;
}

int pg_delivery_start(pg_delivery *d, pg_error *err)
{
    const pg_delivery_config *c = d->cfg;
    pg_http_target_opts o = {
        .endpoint = c->endpoint,
        .tls = {.insecure = c->tls.insecure,
                .ca_file = c->tls.ca_file,
                .cert_file = c->tls.cert_file,
                .key_file = c->tls.key_file,
                .insecure_skip_verify = c->tls.insecure_skip_verify,
                .server_name_override = c->tls.server_name_override},
        .auth = {.username = c->auth.username,
                 .password = c->auth.password,
                 .password_file = c->auth.password_file,
                 .bearer_token = c->auth.bearer_token,
                 .bearer_token_file = c->auth.bearer_token_file},
        .headers = &c->headers,
        .http2 = d->http2,
    };
    if (d->target)
        return PG_OK;
    int rc = pg_http_target_new(&o, &d->target, err);
    if (rc != PG_OK)
        pg_error_prefix(err, "exporter %s: ", d->id);
    return rc;
}

/* Would `profiles` more (and `bytes`) fit, given what is queued? An empty
 * queue takes any request, so one larger than the whole budget still goes. */
static int fits(const pg_delivery *d, uint64_t qp, uint64_t qb, uint64_t qn, uint64_t profiles,
                uint64_t bytes)
{
    const pg_sending_queue_config *q = &d->cfg->queue;
    if (!q->enabled)
        return qn < (uint64_t)(q->num_consumers > 0 ? q->num_consumers : 1);
    if (qn == 0)
        return 1;
    return qp + profiles <= (uint64_t)q->queue_size && qb + bytes <= q->queue_bytes;
}

int pg_delivery_full(const pg_delivery *d, uint32_t profiles)
{
    return !fits(d, atomic_load(&d->queued_profiles), atomic_load(&d->queued_bytes),
                 atomic_load(&d->queued_requests), profiles, 0);
}

static int reserve(pg_delivery *d, uint32_t profiles, uint64_t bytes)
{
    uint64_t qp = atomic_fetch_add(&d->queued_profiles, profiles);
    uint64_t qb = atomic_fetch_add(&d->queued_bytes, bytes);
    uint64_t qn = atomic_fetch_add(&d->queued_requests, 1);
    if (fits(d, qp, qb, qn, profiles, bytes))
        return 1;
    atomic_fetch_sub(&d->queued_profiles, profiles);
    atomic_fetch_sub(&d->queued_bytes, bytes);
    atomic_fetch_sub(&d->queued_requests, 1);
    return 0;
}

void pg_delivery_overflow(pg_delivery *d, uint32_t profiles, pg_consume_result *res)
{
    uint64_t skipped;
    int block = d->cfg->queue.block_on_overflow;
    pg_metric_add(block ? d->m.refused : d->m.dropped_queue_full, profiles);
    if (pg_delivery_log_allowed(d, block ? DLOG_REFUSED : DLOG_QUEUE_FULL, &skipped))
        pg_log_component(PG_LOG_WARN, PG_KIND_EXPORTER, d->id,
                         "sending queue full (%llu profiles, %llu bytes queued): %s %u profiles "
                         "(%llu similar lines skipped)",
                         (unsigned long long)atomic_load(&d->queued_profiles),
                         (unsigned long long)atomic_load(&d->queued_bytes),
                         block ? "refused" : "dropped", profiles, (unsigned long long)skipped);
    if (block) {
        pg_consume_fail(res, PG_CONSUME_RESOURCE_EXHAUSTED, "exporter %s: sending queue is full",
                        d->id);
        if (!res->retry_after_ms)
            res->retry_after_ms = REFUSED_RETRY_AFTER_MS;
    }
}

int pg_delivery_submit(pg_delivery *d, pg_worker *w, pg_delivery_request *r, pg_consume_result *res)
{
    delivery_worker *ws = w && w->id >= 0 && w->id < d->workers ? &d->ws[w->id] : NULL;
    if (!ws || !ws->started || ws->stopping) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "exporter %s is shutting down", d->id);
        pg_delivery_request_free(r);
        return res->status;
    }
    const char *th = d->cfg->tenant_header;
    if (th && *th && *r->tenant && pg_delivery_request_add_header(r, th, r->tenant) != PG_OK) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "exporter %s: out of memory", d->id);
        pg_delivery_request_free(r);
        return res->status;
    }
    if (!reserve(d, r->profiles, r->body_len)) {
        pg_delivery_overflow(d, r->profiles, res);
        pg_delivery_request_free(r);
        return res->status;
    }
    pg_delivery_update_gauges(d);
    pg_delivery_enqueue(ws, r);
    return res->status;
}

void pg_delivery_release(pg_delivery *d, pg_delivery_request *r)
{
    atomic_fetch_sub(&d->queued_profiles, r->profiles);
    atomic_fetch_sub(&d->queued_bytes, r->body_len);
    atomic_fetch_sub(&d->queued_requests, 1);
    pg_delivery_update_gauges(d);
    pg_delivery_request_free(r);
}

/* Requests still listed once the loops have ended: counted, logged, freed. */
static void drop_left(pg_delivery *d, int count)
{
    uint64_t profiles = 0, requests = 0;
    for (int i = 0; i < d->workers; i++) {
        delivery_worker *ws = &d->ws[i];
        while (ws->head) {
            pg_delivery_request *r = ws->head;
            ws->head = r->next;
            profiles += r->profiles;
            requests++;
            pg_delivery_release(d, r);
        }
        ws->tail = NULL;
    }
    if (count && requests) {
        pg_metric_add(d->m.dropped_shutdown, (int64_t)profiles);
        pg_log_component(PG_LOG_ERROR, PG_KIND_EXPORTER, d->id,
                         "shutdown: dropped %llu profiles in %llu requests never delivered",
                         (unsigned long long)profiles, (unsigned long long)requests);
    }
}

void pg_delivery_shutdown(pg_delivery *d)
{
    if (d)
        drop_left(d, 1);
}

void pg_delivery_free(pg_delivery *d)
{
    if (!d)
        return;
    drop_left(d, 0);
    pg_http_target_free(d->target);
    free(d->ws);
    free(d->id);
    free(d);
}

uint64_t pg_delivery_queued_profiles(const pg_delivery *d)
{
    return atomic_load(&d->queued_profiles);
}
