/* The memory limiter's decisions with an injected RSS reader, its thread's
 * start and stop, and its configuration checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <time.h>

#include "config/config.h"
#include "processors/memory_limiter/memory_limiter.h"
#include "processors/memory_limiter/memory_limiter_internal.h"
#include "telemetry/metrics.h"
#include "test_config_util.h"
#include "test_processor_util.h"

#define MIB ((uint64_t)1 << 20)

typedef struct harness {
    pg_component comp;
    pg_memory_limiter_config cfg;
    _Atomic uint64_t rss;       /* what the fake reader reports */
    _Atomic uint64_t trimmable; /* what a trim gives back */
    _Atomic int trims;
    size_t passed;
    pg_worker worker;
} harness;

static uint64_t fake_rss(void *ud)
{
    harness *h = ud;
    return atomic_load(&h->rss);
}

static void fake_trim(void *ud)
{
    harness *h = ud;
    atomic_fetch_add(&h->trims, 1);
    atomic_fetch_sub(&h->rss, atomic_exchange(&h->trimmable, 0));
}

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    harness *h = target;
    (void)w;
    h->passed += b->count;
    return res->status;
}

static harness *make(const char *id, int64_t limit, int64_t spike, uint64_t interval_ms)
{
    harness *h = calloc(1, sizeof(*h));
    h->cfg.limit_mib = limit;
    h->cfg.spike_limit_mib = spike;
    h->cfg.check_interval_ms = interval_ms;
    pg_error err = {0};
    assert_int_equal(tp_component_create(&h->comp, &pg_memory_limiter_processor_def, id, &h->cfg,
                                         capture, h, &err),
                     PG_OK);
    pg_memlim_probe probe = {fake_rss, fake_trim, h};
    pg_memory_limiter_set_probe(&h->comp, &probe);
    return h;
}

static void destroy(harness *h)
{
    pg_memory_limiter_processor_def.destroy(&h->comp);
    free(h);
}

/* Sends a batch of n profiles; returns the status, message in *res. */
static pg_consume_status send_batch(harness *h, size_t n, pg_consume_result *res)
{
    pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, 4), 4);
    pg_batch *b = pg_batch_new();
    for (size_t i = 0; i < n; i++)
        assert_non_null(pg_batch_add(b, p));
    pg_payload_unref(p);
    pg_consume_result_init(res);
    pg_consume_status st = pg_memory_limiter_processor_def.consume(&h->comp, &h->worker, b, res);
    pg_batch_free(b);
    return st;
}

static int64_t metric(const char *name, const char *labels)
{
    pg_metric *m = pg_metric_find(name, labels);
    return m ? pg_metric_value(m) : -1;
}

static void test_decisions(void **state)
{
    (void)state;
    harness *h = make("memory_limiter/a", 100, 20, 100);
    pg_consume_result res;
    const char *lbl = "processor=\"memory_limiter/a\"";

    atomic_store(&h->rss, 50 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 0);
    assert_int_equal(atomic_load(&h->trims), 0);
    assert_int_equal(send_batch(h, 3, &res), PG_CONSUME_OK);
    assert_int_equal(h->passed, 3);
    assert_int_equal(metric("profgate_processor_memory_rss_bytes", lbl), 50 * MIB);
    assert_int_equal(metric("profgate_processor_memory_refusing", lbl), 0);

    /* above the soft limit, and a trim does not help: refuse */
    atomic_store(&h->rss, 90 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 1);
    assert_int_equal(atomic_load(&h->trims), 1);
    assert_int_equal(send_batch(h, 4, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_string_equal(res.msg, "memory limit: RSS 90 MiB above the soft limit 80 MiB "
                                 "(limit_mib 100, spike_limit_mib 20)");
    assert_int_equal(res.retry_after_ms, 1000); /* check_interval, at least 1 s */
    assert_int_equal(h->passed, 3);
    assert_int_equal(metric("profgate_processor_refused_profiles_total",
                            "processor=\"memory_limiter/a\",reason=\"memory_limit\""),
                     4);
    assert_int_equal(metric("profgate_processor_memory_refusing", lbl), 1);

    /* above the hard limit */
    atomic_store(&h->rss, 130 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 1);
    assert_int_equal(send_batch(h, 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_string_equal(res.msg, "memory limit: RSS 130 MiB above the limit 100 MiB "
                                 "(limit_mib 100, spike_limit_mib 20)");

    /* a trim that brings it under the soft limit: accept at once */
    atomic_store(&h->trimmable, 60 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 0);
    assert_int_equal(atomic_load(&h->trims), 3);
    assert_int_equal(metric("profgate_processor_memory_rss_bytes", lbl), 70 * MIB);
    assert_int_equal(send_batch(h, 2, &res), PG_CONSUME_OK);
    assert_int_equal(h->passed, 5);

    /* exactly at the soft limit is still fine; unreadable never refuses */
    atomic_store(&h->rss, 80 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 0);
    atomic_store(&h->rss, 0);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 0);
    destroy(h);
}

static void test_default_spike_and_retry(void **state)
{
    (void)state;
    harness *h = make("memory_limiter/b", 500, 0, 5000);
    pg_consume_result res;
    atomic_store(&h->rss, 401 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 1);
    assert_int_equal(send_batch(h, 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_string_equal(res.msg, "memory limit: RSS 401 MiB above the soft limit 400 MiB "
                                 "(limit_mib 500, spike_limit_mib 100)");
    assert_int_equal(res.retry_after_ms, 5000);
    atomic_store(&h->rss, 400 * MIB);
    assert_int_equal(pg_memory_limiter_check(&h->comp), 0);
    destroy(h);
}

static int wait_refusing(harness *h, int want)
{
    for (int i = 0; i < 400; i++) {
        if (metric("profgate_processor_memory_refusing", "processor=\"memory_limiter/thread\"") ==
            want)
            return 1;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    return 0;
}

static void test_thread(void **state)
{
    (void)state;
    harness *h = make("memory_limiter/thread", 100, 10, 10);
    pg_error err = {0};
    pg_consume_result res;
    atomic_store(&h->rss, 95 * MIB);
    assert_int_equal(pg_memory_limiter_processor_def.start(&h->comp, &err), PG_OK);
    /* start measured already: the first batch is refused */
    assert_int_equal(send_batch(h, 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    atomic_store(&h->rss, 20 * MIB);
    assert_true(wait_refusing(h, 0));
    assert_int_equal(send_batch(h, 1, &res), PG_CONSUME_OK);
    atomic_store(&h->rss, 91 * MIB);
    assert_true(wait_refusing(h, 1));
    pg_memory_limiter_processor_def.shutdown(&h->comp, 0);
    pg_memory_limiter_processor_def.shutdown(&h->comp, 0); /* twice is fine */
    int trims = atomic_load(&h->trims);
    nanosleep(&(struct timespec){0, 50000000}, NULL);
    assert_int_equal(atomic_load(&h->trims), trims); /* the thread is gone */
    destroy(h);
}

static void test_real_probe(void **state)
{
    (void)state;
    uint64_t rss = pg_memlim_self_rss(NULL);
    assert_true(rss > MIB);
    /* touching 32 MiB shows in the resident set */
    size_t n = 32 * MIB;
    volatile char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1; /* volatile: the stores cannot be optimised away */
    uint64_t after = pg_memlim_self_rss(NULL);
    assert_true(after >= rss + n / 2);
    free((void *)p);
    pg_memlim_self_trim(NULL);
}

static char *load(const char *body, pg_config **cfg, pg_config_report **r)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "receivers:\n  otlp: {protocols: {http: {endpoint: 127.0.0.1:14318}}}\n"
             "processors:\n  memory_limiter:%s\n"
             "exporters:\n  debug: {}\n"
             "service:\n  pipelines:\n    profiles: {receivers: [otlp], processors: "
             "[memory_limiter], exporters: [debug]}\n",
             body);
    *r = pg_config_report_new();
    *cfg = NULL;
    pg_config_load_string("c.yaml", yaml, strlen(yaml), cfg, *r);
    return report_text(*r);
}

static void test_config(void **state)
{
    (void)state;
    pg_config *cfg;
    pg_config_report *r;
    free(load(" {limit_mib: 500}", &cfg, &r));
    assert_non_null(cfg);
    const pg_memory_limiter_config *c = cfg->processors[0].typed;
    assert_int_equal(c->limit_mib, 500);
    assert_int_equal(c->spike_limit_mib, 0);
    assert_int_equal(c->check_interval_ms, 1000);
    pg_config_free(cfg);
    pg_config_report_free(r);

    free(load(" {limit_mib: 96, spike_limit_mib: 24, check_interval: 100ms}", &cfg, &r));
    assert_non_null(cfg);
    c = cfg->processors[0].typed;
    assert_int_equal(c->spike_limit_mib, 24);
    assert_int_equal(c->check_interval_ms, 100);
    pg_config_free(cfg);
    pg_config_report_free(r);

    free(load(" {limit_mib: 100, spike_limit_mib: 100}", &cfg, &r));
    assert_null(cfg);
    assert_true(report_has(r, "c.yaml:4:53: error: spike_limit_mib (100) must be below limit_mib "
                              "(100)"));
    pg_config_report_free(r);

    free(load(" {check_interval: 0s}", &cfg, &r));
    assert_null(cfg);
    assert_true(report_has(r, "missing required key 'limit_mib'"));
    assert_true(report_has(r, "check_interval: '0s' is out of range"));
    pg_config_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decisions), cmocka_unit_test(test_default_spike_and_retry),
        cmocka_unit_test(test_thread),    cmocka_unit_test(test_real_probe),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
