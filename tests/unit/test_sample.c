/* The sample processor: series sampling statistics and consistency, and the
 * GCRA rate limits driven by a fake clock (no sleeps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>

#include "processors/sample/sample.h"
#include "processors/sample/sample_internal.h"
#include "telemetry/metrics.h"

#define SEC 1000000000ull
#define MS  1000000ull

typedef struct harness {
    pg_component comp;
    pg_sample_processor_config cfg;
    _Atomic uint64_t now;  /* the fake clock, ns */
    _Atomic size_t passed; /* profiles the downstream saw */
    pg_consume_status answer;
    uint8_t *seen; /* seen[series] = 1 when a profile of that series passed */
    size_t seen_n;
    pg_worker worker;
} harness;

static uint64_t fake_now(void *ud)
{
    harness *h = ud;
    return atomic_load(&h->now);
}

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    harness *h = target;
    (void)w;
    assert_true(b->count > 0); /* an empty batch is never sent on */
    atomic_fetch_add(&h->passed, b->count);
    for (size_t i = 0; h->seen && i < b->count; i++) {
        const char *s = pg_profile_label(&b->profiles[i], "series");
        size_t k = s ? (size_t)strtoul(s, NULL, 10) : 0;
        if (k < h->seen_n)
            h->seen[k] = 1;
    }
    if (h->answer != PG_CONSUME_OK)
        pg_consume_fail(res, h->answer, "downstream says no");
    return res->status;
}

static void defaults(pg_sample_processor_config *c)
{
    memset(c, 0, sizeof(*c));
    c->probability = 1.0;
    c->burst_ms = 1000;
    c->max_keys = 10000;
}

static harness *start(const char *id, const pg_sample_processor_config *cfg)
{
    harness *h = calloc(1, sizeof(*h));
    h->cfg = *cfg;
    h->comp.def = &pg_sample_processor_def;
    snprintf(h->comp.id, sizeof(h->comp.id), "%s", id);
    h->comp.config = &h->cfg;
    h->comp.workers = 2;
    h->comp.next.consume = capture;
    h->comp.next.target = h;
    atomic_init(&h->now, 1000 * SEC);
    pg_error err = {0};
    assert_int_equal(pg_sample_processor_def.create(&h->comp, &err), PG_OK);
    pg_sample_set_clock(&h->comp, fake_now, h);
    return h;
}

static void stop(harness *h)
{
    pg_sample_processor_def.destroy(&h->comp);
    free(h->seen);
    free(h);
}

static void add_profile(pg_batch *b, pg_payload *p, const char *tenant, const char *service,
                        size_t series)
{
    pg_profile *prof = pg_batch_add(b, p);
    assert_non_null(prof);
    assert_int_equal(pg_profile_set_tenant(b, prof, tenant), 0);
    if (service)
        assert_int_equal(pg_profile_set_label(b, prof, "service_name", service), 0);
    char v[32];
    snprintf(v, sizeof(v), "%zu", series);
    assert_int_equal(pg_profile_set_label(b, prof, "series", v), 0);
}

/* Sends n profiles of one tenant/service, each with its own payload of
 * `bytes`; returns the status and fills *res. */
static pg_consume_status send_n(harness *h, size_t n, const char *tenant, const char *service,
                                size_t bytes, pg_consume_result *res)
{
    pg_batch *b = pg_batch_new();
    for (size_t i = 0; i < n; i++) {
        pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, bytes ? bytes : 1), bytes);
        add_profile(b, p, tenant, service, i);
        pg_payload_unref(p);
    }
    pg_consume_result_init(res);
    pg_consume_status st = pg_sample_processor_def.consume(&h->comp, &h->worker, b, res);
    pg_batch_free(b);
    return st;
}

/* Profiles that passed while sending n (one batch per profile). */
static size_t pass_count(harness *h, size_t n, const char *tenant, const char *service,
                         size_t bytes)
{
    size_t before = atomic_load(&h->passed);
    for (size_t i = 0; i < n; i++) {
        pg_consume_result res;
        assert_int_equal(send_n(h, 1, tenant, service, bytes, &res), PG_CONSUME_OK);
    }
    return atomic_load(&h->passed) - before;
}

static int64_t metric(const char *name, const char *labels)
{
    pg_metric *m = pg_metric_find(name, labels);
    return m ? pg_metric_value(m) : -1;
}

/* Sends series 0..n-1 (one profile each, one batch) and records which passed. */
static void send_series(harness *h, size_t n, size_t start_at, const char *tenant)
{
    if (!h->seen) {
        h->seen = calloc(n, 1);
        h->seen_n = n;
    }
    memset(h->seen, 0, h->seen_n);
    pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, 8), 8);
    pg_batch *b = pg_batch_new();
    for (size_t k = 0; k < n; k++)
        add_profile(b, p, tenant, "svc", (start_at + k) % n);
    pg_payload_unref(p);
    pg_consume_result res;
    pg_consume_result_init(&res);
    assert_int_equal(pg_sample_processor_def.consume(&h->comp, &h->worker, b, &res), PG_CONSUME_OK);
    pg_batch_free(b);
}

static void test_fraction_within_bounds(void **state)
{
    (void)state;
    pg_sample_processor_config c;
    defaults(&c);
    c.probability = 0.3;
    harness *h = start("sample/stat", &c);
    const size_t n = 20000;
    send_series(h, n, 0, "t");
    double kept = (double)atomic_load(&h->passed) / (double)n;
    double sigma = sqrt(0.3 * 0.7 / (double)n);
    print_message("kept %.4f of %zu series (4 sigma = %.4f)\n", kept, n, 4 * sigma);
    assert_true(fabs(kept - 0.3) < 4 * sigma);
    assert_int_equal(metric("profgate_processor_dropped_profiles_total",
                            "processor=\"sample/stat\",reason=\"sampled_out\""),
                     (int64_t)(n - atomic_load(&h->passed)));
    stop(h);
}

static void test_same_decision_every_time(void **state)
{
    (void)state;
    pg_sample_processor_config c;
    defaults(&c);
    c.probability = 0.5;
    harness *h = start("sample/consistent", &c);
    const size_t n = 3000;
    send_series(h, n, 0, "t");
    uint8_t *first = malloc(n);
    memcpy(first, h->seen, n);
    size_t first_passed = atomic_load(&h->passed);
    for (int round = 1; round < 3; round++) {
        /* another order, other neighbours in the batch: same decisions */
        send_series(h, n, (size_t)round * 977, "t");
        assert_memory_equal(first, h->seen, n);
    }
    assert_int_equal(atomic_load(&h->passed), 3 * first_passed);
    /* the tenant is part of the series */
    send_series(h, n, 0, "other-tenant");
    assert_memory_not_equal(first, h->seen, n);
    free(first);
    stop(h);
}

static void test_zero_and_one(void **state)
{
    (void)state;
    pg_sample_processor_config c;
    defaults(&c);
    c.probability = 0.0;
    harness *h = start("sample/zero", &c);
    send_series(h, 500, 0, "t");
    assert_int_equal(atomic_load(&h->passed), 0);
    assert_int_equal(metric("profgate_processor_dropped_profiles_total",
                            "processor=\"sample/zero\",reason=\"sampled_out\""),
                     500);
    stop(h);
    c.probability = 1.0;
    h = start("sample/one", &c);
    send_series(h, 500, 0, "t");
    assert_int_equal(atomic_load(&h->passed), 500);
    stop(h);
}

static void test_seeds_differ(void **state)
{
    (void)state;
    const size_t n = 2000;
    uint8_t *a = NULL;
    size_t differ = 0;
    for (int64_t seed = 0; seed < 2; seed++) {
        pg_sample_processor_config c;
        defaults(&c);
        c.probability = 0.5;
        c.hash_seed = seed;
        harness *h = start("sample/seed", &c);
        send_series(h, n, 0, "t");
        if (!a) {
            a = malloc(n);
            memcpy(a, h->seen, n);
        } else {
            for (size_t i = 0; i < n; i++)
                differ += a[i] != h->seen[i];
        }
        stop(h);
    }
    free(a);
    /* independent choices at p = 0.5 differ for about half the series */
    print_message("%zu of %zu decisions differ\n", differ, n);
    assert_true(differ > n / 2 - 4 * 23 && differ < n / 2 + 4 * 23);
}

static void test_series_hash_separates_labels(void **state)
{
    (void)state;
    pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, 1), 1);
    pg_batch *b = pg_batch_new();
    pg_profile *x = pg_batch_add(b, p), *y = pg_batch_add(b, p), *z = pg_batch_add(b, p);
    pg_profile_set_label(b, x, "a", "bc");
    pg_profile_set_label(b, y, "ab", "c");
    pg_profile_set_tenant(b, z, "a");
    pg_profile_set_label(b, z, "bc", "");
    assert_int_not_equal(pg_sample_series_hash(x, 0), pg_sample_series_hash(y, 0));
    assert_int_not_equal(pg_sample_series_hash(x, 0), pg_sample_series_hash(z, 0));
    assert_int_not_equal(pg_sample_series_hash(x, 0), pg_sample_series_hash(x, 1));
    /* a long label set (folded in parts) hashes the same every time */
    char big[1000];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    pg_profile_set_label(b, x, "big", big);
    uint64_t h1 = pg_sample_series_hash(x, 7);
    assert_int_equal(h1, pg_sample_series_hash(x, 7));
    big[500] = 'w';
    pg_profile_set_label(b, x, "big", big);
    assert_int_not_equal(h1, pg_sample_series_hash(x, 7));
    pg_batch_free(b);
    pg_payload_unref(p);
}

static pg_sample_processor_config limit_cfg(double tenant_pps, uint64_t tenant_bps,
                                            double service_pps, int action)
{
    pg_sample_processor_config c;
    defaults(&c);
    c.rate_limit_present = 1;
    c.action = action;
    c.per_tenant.profiles_per_second = tenant_pps;
    c.per_tenant.bytes_per_second = tenant_bps;
    c.per_service.profiles_per_second = service_pps;
    return c;
}

static void test_profiles_per_second(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(10, 0, 0, PG_SAMPLE_DROP);
    harness *h = start("sample/pps", &c);
    assert_int_equal(pass_count(h, 15, "a", "svc", 10), 10);
    assert_int_equal(metric("profgate_processor_dropped_profiles_total",
                            "processor=\"sample/pps\",reason=\"rate_limited\""),
                     5);
    /* other tenants have their own bucket */
    assert_int_equal(pass_count(h, 12, "b", "svc", 10), 10);
    atomic_fetch_add(&h->now, 500 * MS);
    assert_int_equal(pass_count(h, 10, "a", "svc", 10), 5);
    /* a long pause refills to the burst, never beyond */
    atomic_fetch_add(&h->now, 60 * SEC);
    assert_int_equal(pass_count(h, 20, "a", "svc", 10), 10);
    /* the steady rate: one every 100 ms */
    size_t got = 0;
    for (int i = 0; i < 50; i++) {
        atomic_fetch_add(&h->now, 100 * MS);
        got += pass_count(h, 3, "a", "svc", 10);
    }
    assert_int_equal(got, 50);
    assert_int_equal(
        metric("profgate_processor_rate_limit_keys", "processor=\"sample/pps\",limit=\"tenant\""),
        2);
    stop(h);
}

static void test_burst(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(10, 0, 0, PG_SAMPLE_DROP);
    c.burst_ms = 2500;
    harness *h = start("sample/burst", &c);
    assert_int_equal(pass_count(h, 40, "a", NULL, 1), 25);
    stop(h);
}

static void test_bytes_per_second(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(0, 1000, 0, PG_SAMPLE_DROP);
    harness *h = start("sample/bps", &c);
    assert_int_equal(pass_count(h, 5, "a", "svc", 300), 3); /* 900 of 1000 bytes */
    assert_int_equal(pass_count(h, 1, "a", "svc", 100), 1); /* the last 100 */
    atomic_fetch_add(&h->now, 300 * MS);
    assert_int_equal(pass_count(h, 2, "a", "svc", 300), 1);
    /* one profile larger than the whole bucket passes when the bucket is
     * full, and leaves it in debt for as long as it costs */
    atomic_fetch_add(&h->now, 10 * SEC);
    assert_int_equal(pass_count(h, 1, "a", "svc", 5000), 1);
    pg_consume_result res;
    assert_int_equal(send_n(h, 1, "a", "svc", 5000, &res), PG_CONSUME_OK);
    assert_int_equal(pass_count(h, 1, "a", "svc", 1), 0);
    atomic_fetch_add(&h->now, 4 * SEC);
    assert_int_equal(pass_count(h, 1, "a", "svc", 1), 0); /* 1 ms short */
    atomic_fetch_add(&h->now, 1 * MS);
    assert_int_equal(pass_count(h, 1, "a", "svc", 1), 1);
    stop(h);
}

static void test_shared_payload_split(void **state)
{
    (void)state;
    /* four profiles of one 400-byte request cost 100 bytes each */
    pg_sample_processor_config c = limit_cfg(0, 250, 0, PG_SAMPLE_DROP);
    harness *h = start("sample/split", &c);
    pg_payload *p = pg_payload_new(PG_PAYLOAD_OTLP, calloc(1, 400), 400);
    pg_batch *b = pg_batch_new();
    for (size_t i = 0; i < 4; i++)
        add_profile(b, p, "a", "svc", i);
    pg_payload_unref(p);
    pg_consume_result res;
    pg_consume_result_init(&res);
    assert_int_equal(pg_sample_processor_def.consume(&h->comp, &h->worker, b, &res), PG_CONSUME_OK);
    pg_batch_free(b);
    assert_int_equal(atomic_load(&h->passed), 2);
    stop(h);
}

static void test_refund_of_earlier_buckets(void **state)
{
    (void)state;
    /* tenant 100/s, service 2/s: the service bucket turns the third profile
     * away after the tenant bucket took it; the tenant gets it back */
    pg_sample_processor_config c = limit_cfg(100, 0, 2, PG_SAMPLE_DROP);
    harness *h = start("sample/refund", &c);
    assert_int_equal(pass_count(h, 10, "a", "s1", 1), 2);
    /* 98 left for the tenant, not 90 */
    size_t got = 0;
    for (int s = 0; s < 60; s++) {
        char svc[16];
        snprintf(svc, sizeof(svc), "s%d", s + 2);
        got += pass_count(h, 2, "a", svc, 1);
    }
    assert_int_equal(got, 98);
    stop(h);
}

static void test_refuse_leaves_buckets(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(5, 0, 0, PG_SAMPLE_REFUSE);
    harness *h = start("sample/refuse", &c);
    pg_consume_result res;
    assert_int_equal(send_n(h, 3, "a", "svc", 1, &res), PG_CONSUME_OK);
    assert_int_equal(atomic_load(&h->passed), 3);
    assert_int_equal(send_n(h, 3, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_string_equal(res.msg, "rate limit exceeded for tenant \"a\": 5 profiles/s");
    assert_int_equal(atomic_load(&h->passed), 3);
    assert_int_equal(metric("profgate_processor_refused_profiles_total",
                            "processor=\"sample/refuse\",reason=\"rate_limited\""),
                     3);
    /* the refused batch took nothing: two still fit */
    assert_int_equal(send_n(h, 2, "a", "svc", 1, &res), PG_CONSUME_OK);
    assert_int_equal(atomic_load(&h->passed), 5);
    assert_int_equal(send_n(h, 1, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    stop(h);
}

static void test_retry_after(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(10, 0, 0, PG_SAMPLE_REFUSE);
    harness *h = start("sample/retry", &c);
    pg_consume_result res;
    assert_int_equal(send_n(h, 10, "a", "svc", 1, &res), PG_CONSUME_OK);
    assert_int_equal(send_n(h, 1, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_int_equal(res.retry_after_ms, 100);
    atomic_fetch_add(&h->now, 30 * MS);
    assert_int_equal(send_n(h, 1, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_int_equal(res.retry_after_ms, 70);
    /* the delay is the first refused profile's; then the batch fits */
    assert_int_equal(send_n(h, 3, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_int_equal(res.retry_after_ms, 70);
    atomic_fetch_add(&h->now, 270 * MS);
    assert_int_equal(send_n(h, 3, "a", "svc", 1, &res), PG_CONSUME_OK);
    assert_int_equal(send_n(h, 1, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_int_equal(res.retry_after_ms, 100);
    stop(h);
}

static void test_service_message_and_bytes(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(0, 0, 0, PG_SAMPLE_REFUSE);
    c.per_service.bytes_per_second = 2 << 20;
    harness *h = start("sample/svcmsg", &c);
    pg_consume_result res;
    assert_int_equal(send_n(h, 2, "t", "api", 1 << 20, &res), PG_CONSUME_OK);
    assert_int_equal(send_n(h, 1, "t", "api", 1 << 20, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    assert_string_equal(res.msg, "rate limit exceeded for service \"api\" of tenant \"t\": 2MiB/s");
    assert_int_equal(res.retry_after_ms, 500);
    assert_int_equal(send_n(h, 1, "t", "web", 1 << 20, &res), PG_CONSUME_OK);
    stop(h);
}

static void test_downstream_refusal_refunds(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(2, 0, 0, PG_SAMPLE_DROP);
    harness *h = start("sample/downstream", &c);
    h->answer = PG_CONSUME_RESOURCE_EXHAUSTED;
    pg_consume_result res;
    assert_int_equal(send_n(h, 2, "a", "svc", 1, &res), PG_CONSUME_RESOURCE_EXHAUSTED);
    h->answer = PG_CONSUME_OK;
    assert_int_equal(pass_count(h, 3, "a", "svc", 1), 2);
    stop(h);
}

static void test_overflow_bucket(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(1, 0, 0, PG_SAMPLE_DROP);
    c.max_keys = 2;
    harness *h = start("sample/overflow", &c);
    assert_int_equal(pass_count(h, 2, "a", NULL, 1), 1);
    assert_int_equal(pass_count(h, 2, "b", NULL, 1), 1);
    /* c and d find the table full and share one bucket */
    assert_int_equal(pass_count(h, 1, "c", NULL, 1), 1);
    assert_int_equal(pass_count(h, 1, "d", NULL, 1), 0);
    assert_int_equal(metric("profgate_processor_rate_limit_overflow_profiles_total",
                            "processor=\"sample/overflow\",limit=\"tenant\""),
                     2);
    assert_int_equal(metric("profgate_processor_rate_limit_keys",
                            "processor=\"sample/overflow\",limit=\"tenant\""),
                     2);
    /* known keys keep their own buckets */
    atomic_fetch_add(&h->now, 1 * SEC);
    assert_int_equal(pass_count(h, 2, "a", NULL, 1), 1);
    stop(h);
}

static void test_table_many_keys(void **state)
{
    (void)state;
    pg_gcra_table t;
    assert_int_equal(pg_gcra_table_init(&t, 1000), PG_OK);
    pg_gcra_slot *slots[1000];
    int over;
    for (uint64_t k = 0; k < 1000; k++) {
        slots[k] = pg_gcra_table_get(&t, k * 0x10000 /* crowds few home slots */, &over);
        assert_int_equal(over, 0);
    }
    for (uint64_t k = 0; k < 1000; k++)
        assert_ptr_equal(pg_gcra_table_get(&t, k * 0x10000, &over), slots[k]);
    assert_int_equal(pg_gcra_table_used(&t), 1000);
    assert_ptr_equal(pg_gcra_table_get(&t, 12345, &over), &t.overflow);
    assert_int_equal(over, 1);
    pg_gcra_table_free(&t);
}

typedef struct hammer {
    harness *h;
    size_t tries;
} hammer;

static void *hammer_run(void *arg)
{
    hammer *a = arg;
    pg_worker w = {0};
    for (size_t i = 0; i < a->tries; i++) {
        pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, 1), 1);
        pg_batch *b = pg_batch_new();
        pg_profile *prof = pg_batch_add(b, p);
        pg_profile_set_tenant(b, prof, "shared");
        pg_profile_set_label(b, prof, "service_name", "svc");
        pg_payload_unref(p);
        pg_consume_result res;
        pg_consume_result_init(&res);
        pg_sample_processor_def.consume(&a->h->comp, &w, b, &res);
        pg_batch_free(b);
    }
    return NULL;
}

static void test_two_threads_one_bucket(void **state)
{
    (void)state;
    pg_sample_processor_config c = limit_cfg(1000, 0, 0, PG_SAMPLE_DROP);
    harness *h = start("sample/threads", &c);
    hammer a = {h, 3000};
    pthread_t t1, t2;
    assert_int_equal(pthread_create(&t1, NULL, hammer_run, &a), 0);
    assert_int_equal(pthread_create(&t2, NULL, hammer_run, &a), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(atomic_load(&h->passed), 1000);
    assert_int_equal(metric("profgate_processor_dropped_profiles_total",
                            "processor=\"sample/threads\",reason=\"rate_limited\""),
                     5000);
    stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fraction_within_bounds),
        cmocka_unit_test(test_same_decision_every_time),
        cmocka_unit_test(test_zero_and_one),
        cmocka_unit_test(test_seeds_differ),
        cmocka_unit_test(test_series_hash_separates_labels),
        cmocka_unit_test(test_profiles_per_second),
        cmocka_unit_test(test_burst),
        cmocka_unit_test(test_bytes_per_second),
        cmocka_unit_test(test_shared_payload_split),
        cmocka_unit_test(test_refund_of_earlier_buckets),
        cmocka_unit_test(test_refuse_leaves_buckets),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_service_message_and_bytes),
        cmocka_unit_test(test_downstream_refusal_refunds),
        cmocka_unit_test(test_overflow_bucket),
        cmocka_unit_test(test_table_many_keys),
        cmocka_unit_test(test_two_threads_one_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
