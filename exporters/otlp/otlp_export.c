#include "exporters/otlp/otlp_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_otlp_export_create(pg_component *self, const pg_otlp_export_opts *o, pg_error *err)
{
    pg_otlp_export *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    pg_delivery_opts d = {
        .exporter_id = self->id,
        .config = o->config,
        .workers = self->workers,
        .http2 = o->http2,
        .classify = o->classify,
        .classify_arg = self,
    };
    int rc = pg_delivery_new(&d, &st->delivery, err);
    if (rc != PG_OK) {
        free(st);
        return rc;
    }
    st->encoding = o->encoding;
    st->make = o->make;
    st->exporter = o->exporter;
    self->state = st;
    return PG_OK;
}

int pg_otlp_export_start(pg_component *self, pg_error *err)
{
    pg_otlp_export *st = self->state;
    int rc = pg_delivery_start(st->delivery, err);
    if (rc != PG_OK)
        pg_error_prefix(err, "exporter %s: ", self->id);
    return rc;
}

int pg_otlp_export_worker_start(pg_component *self, pg_worker *w, pg_error *err)
{
    pg_otlp_export *st = self->state;
    return pg_delivery_worker_start(st->delivery, w, err);
}

static uint32_t tenant_profiles(const pg_batch *b, const char *tenant)
{
    uint32_t n = 0;
    for (size_t i = 0; i < b->count; i++)
        n += strcmp(b->profiles[i].tenant ? b->profiles[i].tenant : "", tenant) == 0;
    return n;
}

/* Builds and submits the request of one tenant; returns the profiles that
 * could not be converted (the first reason in why, when it is still empty). */
static uint32_t export_tenant(pg_component *self, pg_worker *w, const pg_batch *b,
                              const char *tenant, char *why, size_t why_len, pg_consume_result *res)
{
    pg_otlp_export *st = self->state;
    uint32_t n = tenant_profiles(b, tenant);
    if (pg_delivery_full(st->delivery, n)) {
        pg_delivery_overflow(st->delivery, n, res);
        return 0;
    }
    pg_otlp_body body;
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_otlp_body_build(b, tenant, st->encoding, &body, &err);
    uint32_t failed = body.failed;
    if (failed) {
        pg_delivery_count_failed(st->delivery, failed, "convert");
        PG_CLOG(self, PG_LOG_WARN, "refused %u profiles that cannot be converted: %s", failed,
                body.why);
        res->rejected += failed;
        if (!why[0])
            snprintf(why, why_len, "%s", body.why);
    }
    pg_delivery_request *req = NULL;
    if (rc == PG_OK && body.profiles && !(req = st->make(self, tenant, &body, &err)))
        rc = err.code ? err.code : PG_ERR_NOMEM;
    if (rc != PG_OK) {
        uint32_t lost = n - failed;
        pg_delivery_count_failed(st->delivery, lost, "encode");
        PG_CLOG(self, PG_LOG_ERROR, "cannot build a request for %u profiles: %s", lost, err.msg);
        pg_consume_fail(res, rc == PG_ERR_NOMEM ? PG_CONSUME_RETRYABLE : PG_CONSUME_PERMANENT,
                        "exporter %s: %s", self->id, err.msg);
    }
    pg_otlp_body_release(&body);
    if (req) {
        pg_consume_result one;
        pg_consume_result_init(&one);
        if (pg_delivery_submit(st->delivery, w, req, &one) != PG_CONSUME_OK) {
            pg_consume_fail(res, one.status, "%s", one.msg);
            if (one.retry_after_ms > res->retry_after_ms)
                res->retry_after_ms = one.retry_after_ms;
        }
    }
    return failed;
}

int pg_otlp_export_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    pg_otlp_export *st = self->state;
    /* Decided for the whole batch first: refusing one tenant's share after
     * another's was queued would make the client resend (and duplicate) it. */
    if (pg_delivery_full(st->delivery, (uint32_t)b->count)) {
        pg_delivery_overflow(st->delivery, (uint32_t)b->count, res);
        return res->status;
    }
    pg_arena *a = pg_arena_new(0, 0);
    const char **tenants = NULL;
    size_t n = 0;
    if (!a || pg_otlp_batch_tenants(b, a, &tenants, &n) != PG_OK) {
        pg_arena_free(a);
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "exporter %s: out of memory", self->id);
        return res->status;
    }
    uint32_t failed = 0;
    char why[PG_ERROR_MSG_MAX] = "";
    for (size_t i = 0; i < n; i++)
        failed += export_tenant(self, w, b, tenants[i], why, sizeof(why), res);
    pg_arena_free(a);
    if (failed && failed == b->count)
        pg_consume_fail(res, PG_CONSUME_PERMANENT, "exporter %s: %.200s", self->id, why);
    return res->status;
}

void pg_otlp_export_worker_stop(pg_component *self, pg_worker *w)
{
    pg_otlp_export *st = self->state;
    if (st)
        pg_delivery_worker_stop(st->delivery, w);
}

void pg_otlp_export_shutdown(pg_component *self, uint64_t deadline_ms)
{
    (void)deadline_ms; /* the workers drained until their own deadline */
    pg_otlp_export *st = self->state;
    if (st)
        pg_delivery_shutdown(st->delivery);
}

void *pg_otlp_export_destroy(pg_component *self)
{
    pg_otlp_export *st = self->state;
    if (!st)
        return NULL;
    void *own = st->exporter;
    pg_delivery_free(st->delivery);
    free(st);
    self->state = NULL;
    return own;
}

void pg_otlp_export_partial(pg_component *self, const pg_delivery_request *req, int64_t rejected,
                            const char *message, pg_delivery_outcome *out)
{
    uint32_t n = req ? pg_delivery_request_profiles(req) : 0;
    out->rejected = rejected <= 0 ? 0 : rejected > (int64_t)n ? n : (uint32_t)rejected;
    snprintf(out->message, sizeof(out->message), "%s", message);
    /* rejections are logged by the chain with its counts */
    if (self && rejected <= 0 && message[0])
        PG_CLOG(self, PG_LOG_WARN, "partial success without rejections: %s", message);
}
