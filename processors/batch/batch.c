#include "processors/batch/batch.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "telemetry/processor_metrics.h"

#define CFG(field) offsetof(pg_batch_processor_config, field)

static const pg_config_key batch_keys[] = {
    {.name = "send_batch_size",
     .type = PG_CFG_INT,
     .offset = CFG(send_batch_size),
     .default_value = "64",
     .min = 1,
     .max = 1000000,
     .help = "pending profiles (per tenant and worker) that trigger a flush"},
    {.name = "send_batch_max_size",
     .type = PG_CFG_INT,
     .offset = CFG(send_batch_max_size),
     .default_value = "0",
     .min = 0,
     .max = 1000000,
     .help = "largest batch sent downstream; larger flushes are split; 0 = no limit"},
    {.name = "timeout",
     .type = PG_CFG_DURATION,
     .offset = CFG(timeout_ms),
     .default_value = "200ms",
     .min = 1,
     .max = 86400000,
     .help = "a pending batch is flushed at the latest this long after its first profile"},
    PG_CONFIG_END,
};

/* Why a flushed profile did not reach the next stage. */
enum {
    DROP_RETRYABLE,
    DROP_RESOURCE_EXHAUSTED,
    DROP_PERMANENT,
    DROP_REJECTED,
    DROP_NOMEM,
    DROP_REASONS,
};
static const char *const drop_reason[DROP_REASONS] = {
    "retryable", "resource_exhausted", "permanent", "rejected", "out_of_memory",
};

typedef struct pending {
    char *tenant;
    pg_batch *batch;
    uint64_t since; /* loop time of the first profile */
} pending;

typedef struct batch_worker {
    pg_component *self;
    pg_worker *w;
    uv_timer_t timer;
    int started;
    pending *p; /* PG_BATCH_MAX_TENANTS slots */
    size_t n;
} batch_worker;

typedef struct batch_state {
    batch_worker *workers;
    pg_metric *batch_size, *batches;
    pg_metric *dropped[DROP_REASONS];
} batch_state;

static void batch_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const pg_batch_processor_config *c = config;
    if (c->send_batch_max_size != 0 && c->send_batch_max_size < c->send_batch_size) {
        const pg_config_node *at = pg_config_map_get(node, "send_batch_max_size");
        pg_config_report_error(report, at ? at : node,
                               "send_batch_max_size (%lld) must be 0 or >= send_batch_size (%lld)",
                               (long long)c->send_batch_max_size, (long long)c->send_batch_size);
    }
}

static int batch_create(pg_component *self, pg_error *err)
{
    batch_state *st = calloc(1, sizeof(*st));
    if (!st || !(st->workers = calloc((size_t)(self->workers > 0 ? self->workers : 1),
                                      sizeof(*st->workers)))) {
        free(st);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    }
    char labels[256];
    snprintf(labels, sizeof(labels), "processor=\"%s\"", self->id);
    st->batch_size = pg_metric_gauge("profgate_processor_batch_size",
                                     "Profiles in the last batch sent downstream", labels);
    st->batches =
        pg_metric_counter("profgate_processor_batches_total", "Batches sent downstream", labels);
    for (int i = 0; i < DROP_REASONS; i++)
        st->dropped[i] =
            pg_processor_counter(PG_PROCESSOR_DROPPED_PROFILES, NULL, self->id, drop_reason[i]);
    self->state = st;
    return PG_OK;
}

static void drop(batch_worker *bw, int reason, size_t count, const char *msg)
{
    batch_state *st = bw->self->state;
    pg_metric_add(st->dropped[reason], (int64_t)count);
    PG_CLOG(bw->self, PG_LOG_WARN, "dropped %zu profiles (%s): %s", count, drop_reason[reason],
            msg);
}

static void deliver(batch_worker *bw, pg_batch *b)
{
    batch_state *st = bw->self->state;
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_metric_set(st->batch_size, (int64_t)b->count);
    pg_metric_add(st->batches, 1);
    pg_consumer_send(&bw->self->next, bw->w, b, &res);
    switch (res.status) {
    case PG_CONSUME_OK:
        if (res.rejected)
            drop(bw, DROP_REJECTED, res.rejected, res.msg);
        return;
    case PG_CONSUME_RETRYABLE:
        drop(bw, DROP_RETRYABLE, b->count, res.msg);
        return;
    case PG_CONSUME_RESOURCE_EXHAUSTED:
        drop(bw, DROP_RESOURCE_EXHAUSTED, b->count, res.msg);
        return;
    case PG_CONSUME_PERMANENT:
        drop(bw, DROP_PERMANENT, b->count, res.msg);
        return;
    }
}

/* Sends b (and frees it), in parts of at most send_batch_max_size. */
static void send_batch(batch_worker *bw, pg_batch *b)
{
    const pg_batch_processor_config *cfg = bw->self->config;
    size_t max = (size_t)cfg->send_batch_max_size;
    if (!max || b->count <= max) {
        deliver(bw, b);
        pg_batch_free(b);
        return;
    }
    for (size_t off = 0; off < b->count; off += max) {
        size_t end = off + max < b->count ? off + max : b->count;
        pg_batch *part = pg_batch_new();
        size_t i = off;
        for (; part && i < end; i++)
            if (!pg_batch_append_copy(part, &b->profiles[i]))
                break;
        if (i == end)
            deliver(bw, part);
        else
            drop(bw, DROP_NOMEM, end - off, "cannot split batch");
        pg_batch_free(part);
    }
    pg_batch_free(b);
}

static void flush_at(batch_worker *bw, size_t idx)
{
    pending p = bw->p[idx];
    bw->p[idx] = bw->p[--bw->n];
    free(p.tenant);
    send_batch(bw, p.batch);
}

static void flush_all(batch_worker *bw)
{
    while (bw->n)
        flush_at(bw, bw->n - 1);
}

static void on_timer(uv_timer_t *t);

/* Arms the timer for the oldest pending batch. */
static void arm(batch_worker *bw)
{
    const pg_batch_processor_config *cfg = bw->self->config;
    if (!bw->n) {
        uv_timer_stop(&bw->timer);
        return;
    }
    uint64_t oldest = bw->p[0].since;
    for (size_t i = 1; i < bw->n; i++)
        if (bw->p[i].since < oldest)
            oldest = bw->p[i].since;
    uint64_t now = uv_now(bw->w->loop), due = oldest + cfg->timeout_ms;
    uv_timer_start(&bw->timer, on_timer, due > now ? due - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    batch_worker *bw = t->data;
    const pg_batch_processor_config *cfg = bw->self->config;
    uint64_t now = uv_now(bw->w->loop);
    for (size_t i = bw->n; i-- > 0;)
        if (bw->p[i].since + cfg->timeout_ms <= now)
            flush_at(bw, i);
    arm(bw);
}

static pending *pending_for(batch_worker *bw, const char *tenant)
{
    for (size_t i = 0; i < bw->n; i++)
        if (strcmp(bw->p[i].tenant, tenant) == 0)
            return &bw->p[i];
    if (bw->n == PG_BATCH_MAX_TENANTS) {
        size_t oldest = 0;
        for (size_t i = 1; i < bw->n; i++)
            if (bw->p[i].since < bw->p[oldest].since)
                oldest = i;
        flush_at(bw, oldest);
    }
    pending *p = &bw->p[bw->n];
    p->tenant = strdup(tenant);
    p->batch = pg_batch_new();
    p->since = uv_now(bw->w->loop);
    if (!p->tenant || !p->batch) {
        free(p->tenant);
        pg_batch_free(p->batch);
        return NULL;
    }
    bw->n++;
    return p;
}

static int batch_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    batch_state *st = self->state;
    const pg_batch_processor_config *cfg = self->config;
    batch_worker *bw = &st->workers[w->id];
    if (!bw->started) {
        pg_consume_fail(res, PG_CONSUME_RETRYABLE, "batch processor is not running");
        return res->status;
    }
    for (size_t i = 0; i < b->count; i++) {
        const pg_profile *prof = &b->profiles[i];
        pending *p = pending_for(bw, prof->tenant ? prof->tenant : "");
        if (!p || !pg_batch_append_copy(p->batch, prof)) {
            /* what was appended so far stays accepted */
            res->rejected = (uint32_t)(b->count - i);
            pg_consume_fail(res, PG_CONSUME_RETRYABLE, "batch processor out of memory");
            break;
        }
    }
    for (size_t i = bw->n; i-- > 0;)
        if (bw->p[i].batch->count >= (size_t)cfg->send_batch_size)
            flush_at(bw, i);
    arm(bw);
    return res->status;
}

static int batch_worker_start(pg_component *self, pg_worker *w, pg_error *err)
{
    batch_state *st = self->state;
    batch_worker *bw = &st->workers[w->id];
    if (!bw->p)
        bw->p = calloc(PG_BATCH_MAX_TENANTS, sizeof(*bw->p));
    if (!bw->p)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    bw->self = self;
    bw->w = w;
    bw->n = 0;
    uv_timer_init(w->loop, &bw->timer);
    bw->timer.data = bw;
    bw->started = 1;
    return PG_OK;
}

static void batch_worker_stop(pg_component *self, pg_worker *w)
{
    batch_state *st = self->state;
    batch_worker *bw = &st->workers[w->id];
    if (!bw->started)
        return;
    flush_all(bw);
    uv_timer_stop(&bw->timer);
    uv_close((uv_handle_t *)&bw->timer, NULL);
    bw->started = 0;
}

static void batch_destroy(pg_component *self)
{
    batch_state *st = self->state;
    if (!st)
        return;
    for (int i = 0; i < (self->workers > 0 ? self->workers : 1); i++) {
        batch_worker *bw = &st->workers[i];
        for (size_t k = 0; bw->p && k < bw->n; k++) {
            free(bw->p[k].tenant);
            pg_batch_free(bw->p[k].batch);
        }
        free(bw->p);
    }
    free(st->workers);
    free(st);
    self->state = NULL;
}

const pg_component_def pg_batch_processor_def = {
    .type = "batch",
    .kind = PG_KIND_PROCESSOR,
    .description = "groups profiles per tenant into larger batches (by size or after a timeout)",
    .config_keys = batch_keys,
    .config_size = sizeof(pg_batch_processor_config),
    .mutates_data = 0,
    .validate = batch_validate,
    .create = batch_create,
    .worker_start = batch_worker_start,
    .consume = batch_consume,
    .worker_stop = batch_worker_stop,
    .destroy = batch_destroy,
};
