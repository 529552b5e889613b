/*
 * One worker's side of the chain, all on its loop thread: the FIFO of
 * requests, consumer slots, attempts, verdicts, backoff and the drain.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "exporters/common/delivery_internal.h"
#include "pipeline/component.h"
#include "telemetry/log.h"

#define WLOG(ws, level, ...) pg_log_component((level), PG_KIND_EXPORTER, (ws)->d->id, __VA_ARGS__)

static void pump(delivery_worker *ws);

static const char *outcome_name(pg_http_outcome o)
{
    switch (o) {
    case PG_HTTP_CONNECT_ERROR:
        return "connect error";
    case PG_HTTP_TIMEOUT:
        return "timeout";
    case PG_HTTP_TLS_ERROR:
        return "TLS error";
    case PG_HTTP_ABORTED:
        return "aborted";
    case PG_HTTP_RESPONSE:
        return "response";
    default:
        return "transport error";
    }
}

static const char *tenant_or_none(const pg_delivery_request *r)
{
    return *r->tenant ? r->tenant : "(none)";
}

/* "prefix: text" or "text", cut to fit. */
static void set_last_error(pg_delivery_request *r, const char *prefix, const char *text)
{
    size_t cap = sizeof(r->last_error), n = 0;
    for (const char *p = prefix; p && *p && n + 1 < cap; p++)
        r->last_error[n++] = *p;
    for (const char *p = prefix ? ": " : ""; *p && n + 1 < cap; p++)
        r->last_error[n++] = *p;
    for (const char *p = text; *p && n + 1 < cap; p++)
        r->last_error[n++] = *p;
    r->last_error[n] = '\0';
}

static void unlink_request(delivery_worker *ws, pg_delivery_request *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        ws->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        ws->tail = r->prev;
    r->prev = r->next = NULL;
}

static void finish(delivery_worker *ws, pg_delivery_request *r)
{
    unlink_request(ws, r);
    pg_delivery_release(ws->d, r);
}

static void close_worker(delivery_worker *ws)
{
    if (ws->closed)
        return;
    ws->closed = 1;
    pg_http_client_close(ws->client);
    ws->client = NULL;
    uv_timer_stop(&ws->backoff_timer);
    uv_timer_stop(&ws->deadline_timer);
    uv_close((uv_handle_t *)&ws->backoff_timer, NULL);
    uv_close((uv_handle_t *)&ws->deadline_timer, NULL);
}

static void maybe_end_drain(delivery_worker *ws)
{
    if (ws->stopping && !ws->closed && !ws->head)
        close_worker(ws);
}

static void give_up(delivery_worker *ws, pg_delivery_request *r, const char *why)
{
    pg_delivery *d = ws->d;
    uint64_t skipped;
    pg_metric_add(d->m.failed_exhausted, r->profiles);
    if (pg_delivery_log_allowed(d, DLOG_EXHAUSTED, &skipped))
        WLOG(ws, PG_LOG_ERROR,
             "gave up on %u profiles (tenant %s) after %u attempts: %s; last error: status %d, "
             "%s (%" PRIu64 " similar lines skipped)",
             r->profiles, tenant_or_none(r), r->attempts, why, r->last_status, r->last_error,
             skipped);
    finish(ws, r);
}

/* The retry waits retry_after_ms when the server said so, else the backoff;
 * either way within max_elapsed_time counted from the first attempt.
 * 0 when r was given up (and is gone). */
static int schedule_retry(delivery_worker *ws, pg_delivery_request *r, uint64_t retry_after_ms)
{
    const pg_retry_config *rc = &ws->d->cfg->retry;
    uint64_t now = pg_now_ms();
    if (!rc->enabled) {
        give_up(ws, r, "retry_on_failure is disabled");
        return 0;
    }
    uint64_t elapsed = now - r->first_attempt_ms, max = rc->max_elapsed_time_ms;
    uint64_t left = !max ? UINT64_MAX : elapsed >= max ? 0 : max - elapsed;
    uint64_t delay;
    char why[96];
    if (retry_after_ms) {
        if (retry_after_ms > left) {
            snprintf(why, sizeof(why),
                     "the server asked to wait %" PRIu64 " ms, beyond "
                     "max_elapsed_time",
                     retry_after_ms);
            give_up(ws, r, why);
            return 0;
        }
        delay = retry_after_ms;
    } else {
        if (left == 0) {
            give_up(ws, r, "max_elapsed_time passed");
            return 0;
        }
        delay = pg_delivery_backoff_ms(rc, r->attempts, &ws->rng);
        if (delay > left)
            delay = left;
    }
    r->state = DELIVERY_BACKOFF;
    r->ready_at_ms = now + delay;
    uint64_t skipped;
    /* a failing destination (TLS, refused, 5xx) must show without debug logs */
    if (pg_delivery_log_allowed(ws->d, DLOG_RETRY, &skipped))
        WLOG(ws, PG_LOG_WARN,
             "attempt %u for %u profiles (tenant %s) failed: status %d, %s; retrying in %" PRIu64
             " ms (%" PRIu64 " similar lines skipped)",
             r->attempts, r->profiles, tenant_or_none(r), r->last_status, r->last_error, delay,
             skipped);
    return 1;
}

static void delivered(delivery_worker *ws, pg_delivery_request *r, const pg_delivery_outcome *o)
{
    pg_delivery *d = ws->d;
    uint32_t rejected = o->rejected > r->profiles ? r->profiles : o->rejected;
    uint64_t skipped;
    pg_metric_add(d->m.sent_profiles, r->profiles - rejected);
    pg_metric_add(d->m.sent_bytes, (int64_t)r->body_len);
    pg_metric_add(d->m.sent_requests, 1);
    if (rejected) {
        pg_metric_add(d->m.failed_partial, rejected);
        if (pg_delivery_log_allowed(d, DLOG_PARTIAL, &skipped))
            WLOG(ws, PG_LOG_WARN,
                 "destination rejected %u of %u profiles (tenant %s): %s (%" PRIu64
                 " similar lines skipped)",
                 rejected, r->profiles, tenant_or_none(r), o->message, skipped);
    }
    finish(ws, r);
}

static void permanent(delivery_worker *ws, pg_delivery_request *r, const pg_delivery_outcome *o)
{
    pg_delivery *d = ws->d;
    uint64_t skipped;
    pg_metric_add(d->m.failed_permanent, r->profiles);
    if (pg_delivery_log_allowed(d, DLOG_PERMANENT, &skipped))
        WLOG(ws, PG_LOG_ERROR,
             "destination refused %u profiles (tenant %s) with status %d, not retried: %s "
             "(%" PRIu64 " similar lines skipped)",
             r->profiles, tenant_or_none(r), r->last_status, o->message, skipped);
    finish(ws, r);
}

static void on_response(void *arg, const pg_http_client_response *resp)
{
    pg_delivery_request *r = arg;
    delivery_worker *ws = r->ws;
    pg_delivery *d = ws->d;
    ws->in_flight--;
    if (resp->outcome == PG_HTTP_ABORTED) {
        ws->shutdown_profiles += r->profiles;
        ws->shutdown_requests++;
        pg_metric_add(d->m.dropped_shutdown, r->profiles);
        finish(ws, r);
        return;
    }
    pg_metric_observe_us(d->m.duration, resp->elapsed_us);
    pg_delivery_outcome o;
    memset(&o, 0, sizeof(o));
    r->last_status = resp->outcome == PG_HTTP_RESPONSE ? resp->status : 0;
    if (resp->outcome == PG_HTTP_RESPONSE) {
        d->classify(d->classify_arg, r, resp, &o);
        set_last_error(r, NULL, o.message);
    } else {
        o.verdict = PG_DELIVERY_RETRY;
        set_last_error(r, outcome_name(resp->outcome), resp->error);
    }
    if (o.verdict == PG_DELIVERY_DELIVERED)
        delivered(ws, r, &o);
    else if (o.verdict == PG_DELIVERY_PERMANENT)
        permanent(ws, r, &o);
    else
        schedule_retry(ws, r, o.retry_after_ms);
    pump(ws);
    maybe_end_drain(ws);
}

/* 0 when r is gone (it could not be sent and was given up). */
static int start_attempt(delivery_worker *ws, pg_delivery_request *r, uint64_t now)
{
    pg_delivery *d = ws->d;
    pg_http_client_request hr = {
        .method = "POST",
        .path = r->path,
        .content_type = r->content_type,
        .headers = r->headers,
        .n_headers = r->n_headers,
        .body = r->body,
        .body_len = r->body_len,
        .timeout_ms = d->cfg->timeout_ms,
    };
    if (r->attempts == 0)
        r->first_attempt_ms = now;
    else
        pg_metric_add(d->m.retries, 1);
    r->attempts++;
    r->state = DELIVERY_IN_FLIGHT;
    ws->in_flight++;
    pg_error err = {0};
    if (pg_http_client_send(ws->client, &hr, on_response, r, &err) != PG_OK) {
        ws->in_flight--;
        r->last_status = 0;
        set_last_error(r, NULL, err.msg);
        return schedule_retry(ws, r, 0);
    }
    return 1;
}

static void on_backoff_timer(uv_timer_t *t)
{
    delivery_worker *ws = t->data;
    pump(ws);
    maybe_end_drain(ws);
}

/* Starts what may start (oldest first), then sleeps until the next backoff ends. */
static void pump(delivery_worker *ws)
{
    if (ws->closed)
        return;
    uint64_t now = pg_now_ms(), wake = UINT64_MAX;
    pg_delivery_request *next;
    for (pg_delivery_request *r = ws->head; r; r = next) {
        next = r->next;
        if (r->state == DELIVERY_BACKOFF && r->ready_at_ms <= now)
            r->state = DELIVERY_READY;
        if (r->state == DELIVERY_READY && ws->in_flight < ws->slots && !start_attempt(ws, r, now))
            continue;
        if (r->state == DELIVERY_BACKOFF && r->ready_at_ms < wake)
            wake = r->ready_at_ms;
    }
    if (wake == UINT64_MAX)
        uv_timer_stop(&ws->backoff_timer);
    else
        uv_timer_start(&ws->backoff_timer, on_backoff_timer, wake > now ? wake - now : 0, 0);
}

void pg_delivery_enqueue(delivery_worker *ws, pg_delivery_request *r)
{
    r->ws = ws;
    r->state = DELIVERY_READY;
    r->prev = ws->tail;
    if (ws->tail)
        ws->tail->next = r;
    else
        ws->head = r;
    ws->tail = r;
    pump(ws);
}

int pg_delivery_worker_start(pg_delivery *d, pg_worker *w, pg_error *err)
{
    if (w->id < 0 || w->id >= d->workers)
        return pg_error_set(err, PG_ERR_INVALID, "exporter %s: worker %d of %d", d->id, w->id,
                            d->workers);
    if (!d->target)
        return pg_error_set(err, PG_ERR_INVALID, "exporter %s: pg_delivery_start not called",
                            d->id);
    delivery_worker *ws = &d->ws[w->id];
    memset(ws, 0, sizeof(*ws));
    ws->d = d;
    ws->w = w;
    ws->client = pg_http_client_new(w->loop, d->target, err);
    if (!ws->client)
        return err ? err->code : PG_ERR_NOMEM;
    int64_t consumers = d->cfg->queue.num_consumers > 0 ? d->cfg->queue.num_consumers : 1;
    ws->slots = (size_t)((consumers + d->workers - 1) / d->workers);
    ws->rng = uv_hrtime() ^ ((uint64_t)(w->id + 1) * 0x9e3779b97f4a7c15ull);
    uv_timer_init(w->loop, &ws->backoff_timer);
    uv_timer_init(w->loop, &ws->deadline_timer);
    ws->backoff_timer.data = ws;
    ws->deadline_timer.data = ws;
    ws->started = 1;
    return PG_OK;
}

static void on_deadline(uv_timer_t *t)
{
    delivery_worker *ws = t->data;
    pg_delivery *d = ws->d;
    pg_delivery_request *next;
    for (pg_delivery_request *r = ws->head; r; r = next) {
        next = r->next;
        if (r->state == DELIVERY_IN_FLIGHT)
            continue;
        ws->shutdown_profiles += r->profiles;
        ws->shutdown_requests++;
        pg_metric_add(d->m.dropped_shutdown, r->profiles);
        finish(ws, r);
    }
    /* in-flight ones come back aborted and are counted in on_response */
    close_worker(ws);
    WLOG(ws, PG_LOG_ERROR,
         "shutdown deadline reached: dropped %" PRIu64 " profiles in %" PRIu64 " requests",
         ws->shutdown_profiles, ws->shutdown_requests);
}

void pg_delivery_worker_stop(pg_delivery *d, pg_worker *w)
{
    if (w->id < 0 || w->id >= d->workers)
        return;
    delivery_worker *ws = &d->ws[w->id];
    if (!ws->started || ws->stopping)
        return;
    ws->stopping = 1;
    if (!ws->head) {
        close_worker(ws);
        return;
    }
    uint64_t now = pg_now_ms();
    uint64_t wait = w->stop_deadline_ms > now ? w->stop_deadline_ms - now : 0;
    WLOG(ws, PG_LOG_INFO, "draining %" PRIu64 " queued profiles (up to %" PRIu64 " ms)",
         (uint64_t)atomic_load(&d->queued_profiles), wait);
    uv_timer_start(&ws->deadline_timer, on_deadline, wait, 0);
}
