#include "processors/memory_limiter/memory_limiter.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "processors/memory_limiter/memory_limiter_internal.h"
#include "telemetry/log_throttle.h"
#include "telemetry/processor_metrics.h"

#define CFG(field) offsetof(pg_memory_limiter_config, field)
#define MIB        ((uint64_t)1 << 20)

static const pg_config_key memory_limiter_keys[] = {
    {.name = "limit_mib",
     .type = PG_CFG_INT,
     .offset = CFG(limit_mib),
     .min = 1,
     .max = (int64_t)1 << 30,
     .required = true,
     .help = "hard limit on the process's resident memory, in MiB"},
    {.name = "spike_limit_mib",
     .type = PG_CFG_INT,
     .offset = CFG(spike_limit_mib),
     .default_value = "0",
     .min = 0,
     .max = (int64_t)1 << 30,
     .help = "headroom below limit_mib for what arrives between two checks; refusing starts at "
             "limit_mib - spike_limit_mib; 0 = 20% of limit_mib"},
    {.name = "check_interval",
     .type = PG_CFG_DURATION,
     .offset = CFG(check_interval_ms),
     .default_value = "1s",
     .min = 1,
     .max = 3600000,
     .help = "how often resident memory is measured"},
    PG_CONFIG_END,
};

typedef struct ml_state {
    int64_t spike_mib; /* effective */
    uint64_t limit_bytes, soft_bytes;
    _Atomic int refusing;
    _Atomic uint64_t rss;
    pg_memlim_probe probe;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, running;
    pthread_t thread;
    pg_metric *rss_gauge, *refusing_gauge, *refused;
    pg_log_throttle log_refuse;
} ml_state;

static int64_t effective_spike(const pg_memory_limiter_config *c)
{
    return c->spike_limit_mib ? c->spike_limit_mib : c->limit_mib * 20 / 100;
}

static void ml_validate(const void *config, pg_config_report *report, const pg_config_node *node)
{
    const pg_memory_limiter_config *c = config;
    if (c->limit_mib > 0 && c->spike_limit_mib >= c->limit_mib) {
        const pg_config_node *at = pg_config_map_get(node, "spike_limit_mib");
        pg_config_report_error(report, at ? at : node,
                               "spike_limit_mib (%" PRId64 ") must be below limit_mib (%" PRId64
                               ")",
                               c->spike_limit_mib, c->limit_mib);
    }
}

static int ml_create(pg_component *self, pg_error *err)
{
    const pg_memory_limiter_config *cfg = self->config;
    ml_state *st = calloc(1, sizeof(*st));
    if (!st)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&st->mu, NULL);
    st->spike_mib = effective_spike(cfg);
    st->limit_bytes = (uint64_t)cfg->limit_mib * MIB;
    st->soft_bytes = (uint64_t)(cfg->limit_mib - st->spike_mib) * MIB;
    st->probe = (pg_memlim_probe){pg_memlim_self_rss, pg_memlim_self_trim, NULL};
    st->rss_gauge = pg_processor_gauge("profgate_processor_memory_rss_bytes",
                                       "Resident memory of the process at the memory limiter's "
                                       "last check",
                                       self->id);
    st->refusing_gauge = pg_processor_gauge(
        "profgate_processor_memory_refusing",
        "1 while the memory limiter refuses data (resident memory above its soft limit)", self->id);
    st->refused =
        pg_processor_counter(PG_PROCESSOR_REFUSED_PROFILES, NULL, self->id, "memory_limit");
    self->state = st;
    return PG_OK;
}

void pg_memory_limiter_set_probe(pg_component *self, const pg_memlim_probe *probe)
{
    ml_state *st = self->state;
    st->probe = *probe;
}

static void measured(ml_state *st, uint64_t rss)
{
    atomic_store(&st->rss, rss);
    pg_metric_set(st->rss_gauge, (int64_t)rss);
}

static void set_refusing(ml_state *st, int refusing)
{
    atomic_store(&st->refusing, refusing);
    pg_metric_set(st->refusing_gauge, refusing);
}

int pg_memory_limiter_check(pg_component *self)
{
    ml_state *st = self->state;
    int was = atomic_load(&st->refusing);
    uint64_t rss = st->probe.rss(st->probe.ud);
    measured(st, rss);
    if (rss > st->soft_bytes) {
        set_refusing(st, 1);
        /* Freed memory may still be resident: give it back before judging. */
        st->probe.trim(st->probe.ud);
        rss = st->probe.rss(st->probe.ud);
        measured(st, rss);
    }
    /* rss 0 means unreadable: never refuse on a guess */
    int now = rss > st->soft_bytes;
    set_refusing(st, now);
    if (now && !was)
        PG_CLOG(self, PG_LOG_WARN,
                "resident memory %" PRIu64 " MiB is above the soft limit %" PRIu64
                " MiB: refusing data",
                rss / MIB, st->soft_bytes / MIB);
    else if (was && !now)
        PG_CLOG(self, PG_LOG_INFO,
                "resident memory %" PRIu64 " MiB is below the soft limit %" PRIu64
                " MiB again: accepting data",
                rss / MIB, st->soft_bytes / MIB);
    return now;
}

static void *ml_thread(void *arg)
{
    pg_component *self = arg;
    ml_state *st = self->state;
    const pg_memory_limiter_config *cfg = self->config;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        pthread_mutex_unlock(&st->mu);
        pg_memory_limiter_check(self);
        pthread_mutex_lock(&st->mu);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (cfg->check_interval_ms % 1000) * 1000000u;
        until.tv_sec += (time_t)(cfg->check_interval_ms / 1000 + ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        while (!st->stop && pthread_cond_timedwait(&st->cv, &st->mu, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static int ml_start(pg_component *self, pg_error *err)
{
    ml_state *st = self->state;
    /* right from the first request, not one interval late */
    pg_memory_limiter_check(self);
    st->stop = 0;
    if (pthread_create(&st->thread, NULL, ml_thread, self) != 0)
        return pg_error_set(err, PG_ERR_IO, "cannot start the memory check thread");
    st->running = 1;
    return PG_OK;
}

static void stop_thread(ml_state *st)
{
    if (!st->running)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = 1;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    pthread_join(st->thread, NULL);
    st->running = 0;
}

static int ml_consume(pg_component *self, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    ml_state *st = self->state;
    const pg_memory_limiter_config *cfg = self->config;
    if (!atomic_load_explicit(&st->refusing, memory_order_relaxed))
        return pg_consumer_send(&self->next, w, b, res);
    uint64_t rss = atomic_load_explicit(&st->rss, memory_order_relaxed);
    int hard = rss > st->limit_bytes;
    pg_consume_fail(res, PG_CONSUME_RESOURCE_EXHAUSTED,
                    "memory limit: RSS %" PRIu64 " MiB above the %s %" PRIu64
                    " MiB (limit_mib %" PRId64 ", spike_limit_mib %" PRId64 ")",
                    rss / MIB, hard ? "limit" : "soft limit",
                    (hard ? st->limit_bytes : st->soft_bytes) / MIB, cfg->limit_mib, st->spike_mib);
    res->retry_after_ms = cfg->check_interval_ms < 1000 ? 1000 : (uint32_t)cfg->check_interval_ms;
    pg_metric_add(st->refused, (int64_t)b->count);
    uint64_t skipped;
    char note[64];
    if (pg_log_throttle_allow(&st->log_refuse, &skipped))
        PG_CLOG(self, PG_LOG_WARN, "refused %zu profiles: %s%s", b->count, res->msg,
                pg_log_throttle_note(skipped, note, sizeof(note)));
    return res->status;
}

static void ml_shutdown(pg_component *self, uint64_t deadline_ms)
{
    (void)deadline_ms;
    stop_thread(self->state);
}

static void ml_destroy(pg_component *self)
{
    ml_state *st = self->state;
    if (!st)
        return;
    stop_thread(st);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
    self->state = NULL;
}

const pg_component_def pg_memory_limiter_processor_def = {
    .type = "memory_limiter",
    .kind = PG_KIND_PROCESSOR,
    .description = "refuses data (429 / RESOURCE_EXHAUSTED) while resident memory is above a "
                   "limit",
    .config_keys = memory_limiter_keys,
    .config_size = sizeof(pg_memory_limiter_config),
    .mutates_data = 0,
    .validate = ml_validate,
    .create = ml_create,
    .start = ml_start,
    .consume = ml_consume,
    .shutdown = ml_shutdown,
    .destroy = ml_destroy,
};
