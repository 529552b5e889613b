/* Batch processor driven on a real libuv loop with a capturing downstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "processors/batch/batch.h"
#include "telemetry/metrics.h"
#include "test_processor_util.h"

#define MAX_CAPTURED 2048

typedef struct captured {
    size_t sizes[MAX_CAPTURED];
    char tenants[MAX_CAPTURED][32]; /* tenant of the batch; "MIXED" when not uniform */
    int64_t value_sum[MAX_CAPTURED];
    size_t n;
    pg_consume_status answer;
} captured;

typedef struct harness {
    uv_loop_t loop;
    pg_worker worker;
    pg_component comp;
    pg_batch_processor_config cfg;
    captured cap;
    pg_payload *payload;
} harness;

static int capture(void *target, pg_worker *w, pg_batch *b, pg_consume_result *res)
{
    captured *c = target;
    assert_non_null(w);
    assert_true(c->n < MAX_CAPTURED);
    c->sizes[c->n] = b->count;
    snprintf(c->tenants[c->n], sizeof(c->tenants[0]), "%s", b->count ? b->profiles[0].tenant : "");
    c->value_sum[c->n] = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (strcmp(b->profiles[i].tenant, c->tenants[c->n]) != 0)
            snprintf(c->tenants[c->n], sizeof(c->tenants[0]), "MIXED");
        c->value_sum[c->n] += b->profiles[i].value_total;
    }
    c->n++;
    if (c->answer != PG_CONSUME_OK)
        pg_consume_fail(res, c->answer, "test downstream says no");
    return res->status;
}

static harness *start(int64_t size, int64_t max, uint64_t timeout_ms, const char *id)
{
    harness *h = calloc(1, sizeof(*h));
    assert_int_equal(uv_loop_init(&h->loop), 0);
    h->worker.id = 0;
    h->worker.loop = &h->loop;
    h->cfg.send_batch_size = size;
    h->cfg.send_batch_max_size = max;
    h->cfg.timeout_ms = timeout_ms;
    pg_error err = {0};
    assert_int_equal(
        tp_component_create(&h->comp, &pg_batch_processor_def, id, &h->cfg, capture, &h->cap, &err),
        PG_OK);
    assert_int_equal(pg_batch_processor_def.worker_start(&h->comp, &h->worker, &err), PG_OK);
    h->payload = pg_payload_new(PG_PAYLOAD_OTLP, malloc(4), 4);
    return h;
}

static void stop(harness *h)
{
    pg_batch_processor_def.worker_stop(&h->comp, &h->worker);
    uv_run(&h->loop, UV_RUN_DEFAULT); /* lets the timer close */
    assert_int_equal(uv_loop_close(&h->loop), 0);
    pg_batch_processor_def.destroy(&h->comp);
    pg_payload_unref(h->payload);
    free(h);
}

/* Feeds one batch of n profiles; tenants[i % n_tenants] and value = i + 1. */
static void feed(harness *h, size_t n, const char *const *tenants, size_t n_tenants)
{
    pg_batch *b = pg_batch_new();
    for (size_t i = 0; i < n; i++) {
        pg_profile *p = pg_batch_add(b, h->payload);
        assert_non_null(p);
        assert_int_equal(pg_profile_set_tenant(b, p, tenants ? tenants[i % n_tenants] : ""), 0);
        assert_int_equal(pg_profile_set_label(b, p, "service_name", "svc"), 0);
        p->value_total = (int64_t)i + 1;
    }
    pg_consume_result res;
    pg_consume_result_init(&res);
    assert_int_equal(pg_batch_processor_def.consume(&h->comp, &h->worker, b, &res), PG_CONSUME_OK);
    /* the batch was lent: the processor must have copied what it keeps */
    pg_batch_free(b);
}

static void test_flush_on_size(void **state)
{
    (void)state;
    harness *h = start(3, 0, 60000, "batch/size");
    feed(h, 2, NULL, 0);
    assert_int_equal(h->cap.n, 0);
    feed(h, 1, NULL, 0);
    assert_int_equal(h->cap.n, 1);
    assert_int_equal(h->cap.sizes[0], 3);
    assert_int_equal(h->cap.value_sum[0], 1 + 2 + 1);
    /* a single incoming batch above the trigger goes out whole (no max set) */
    feed(h, 5, NULL, 0);
    assert_int_equal(h->cap.n, 2);
    assert_int_equal(h->cap.sizes[1], 5);
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_processor_batch_size",
                                                    "processor=\"batch/size\"")),
                     5);
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_processor_batches_total",
                                                    "processor=\"batch/size\"")),
                     2);
    stop(h);
}

static void test_flush_on_timeout(void **state)
{
    (void)state;
    harness *h = start(100, 0, 30, "batch/timeout");
    /* the processor stamps batches with the loop's cached time */
    uv_update_time(&h->loop);
    uint64_t t0 = uv_hrtime();
    feed(h, 2, NULL, 0);
    assert_int_equal(h->cap.n, 0);
    /* the timer is the loop's only active handle: run returns once it fired
     * and, with nothing pending, was not re-armed */
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uint64_t waited_ms = (uv_hrtime() - t0) / 1000000;
    assert_int_equal(h->cap.n, 1);
    assert_int_equal(h->cap.sizes[0], 2);
    assert_true(waited_ms >= 25);
    stop(h);
    /* nothing was left pending for worker_stop */
}

static void test_flush_on_worker_stop(void **state)
{
    (void)state;
    harness *h = start(100, 0, 60000, "batch/stop");
    feed(h, 4, NULL, 0);
    assert_int_equal(h->cap.n, 0);
    pg_batch_processor_def.worker_stop(&h->comp, &h->worker);
    assert_int_equal(h->cap.n, 1);
    assert_int_equal(h->cap.sizes[0], 4);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    pg_batch_processor_def.destroy(&h->comp);
    pg_payload_unref(h->payload);
    free(h);
}

static void test_tenants_never_mix(void **state)
{
    (void)state;
    static const char *const tenants[] = {"a", "b"};
    harness *h = start(3, 0, 60000, "batch/tenants");
    feed(h, 5, tenants, 2); /* a b a b a: tenant a reaches 3 */
    assert_int_equal(h->cap.n, 1);
    assert_string_equal(h->cap.tenants[0], "a");
    assert_int_equal(h->cap.sizes[0], 3);
    assert_int_equal(h->cap.value_sum[0], 1 + 3 + 5);
    pg_batch_processor_def.worker_stop(&h->comp, &h->worker);
    assert_int_equal(h->cap.n, 2);
    assert_string_equal(h->cap.tenants[1], "b");
    assert_int_equal(h->cap.sizes[1], 2);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
    pg_batch_processor_def.destroy(&h->comp);
    pg_payload_unref(h->payload);
    free(h);
}

static void test_split_at_max_size(void **state)
{
    (void)state;
    harness *h = start(2, 3, 60000, "batch/split");
    feed(h, 7, NULL, 0);
    assert_int_equal(h->cap.n, 3);
    assert_int_equal(h->cap.sizes[0], 3);
    assert_int_equal(h->cap.sizes[1], 3);
    assert_int_equal(h->cap.sizes[2], 1);
    assert_int_equal(h->cap.value_sum[0] + h->cap.value_sum[1] + h->cap.value_sum[2], 28);
    stop(h);
}

static void test_pending_tenants_bounded(void **state)
{
    (void)state;
    harness *h = start(100, 0, 60000, "batch/bound");
    char name[16];
    for (int i = 0; i < PG_BATCH_MAX_TENANTS; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        const char *t[] = {name};
        feed(h, 1, t, 1);
    }
    assert_int_equal(h->cap.n, 0);
    const char *extra[] = {"one-too-many"};
    feed(h, 1, extra, 1);
    /* the oldest pending tenant made room */
    assert_int_equal(h->cap.n, 1);
    assert_string_equal(h->cap.tenants[0], "t0");
    pg_batch_processor_def.worker_stop(&h->comp, &h->worker);
    assert_int_equal(h->cap.n, PG_BATCH_MAX_TENANTS + 1);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    uv_loop_close(&h->loop);
    pg_batch_processor_def.destroy(&h->comp);
    pg_payload_unref(h->payload);
    free(h);
}

static void test_downstream_failure_is_counted(void **state)
{
    (void)state;
    harness *h = start(2, 0, 60000, "batch/fail");
    h->cap.answer = PG_CONSUME_PERMANENT;
    feed(h, 2, NULL, 0); /* accepted: the processor answers OK */
    assert_int_equal(h->cap.n, 1);
    pg_metric *m = pg_metric_find("profgate_processor_dropped_profiles_total",
                                  "processor=\"batch/fail\",reason=\"permanent\"");
    assert_non_null(m);
    assert_int_equal(pg_metric_value(m), 2);
    stop(h);
}

static void test_validate_max_below_size(void **state)
{
    (void)state;
    pg_config_node key = {.kind = PG_NODE_SCALAR,
                          .file = "t.yaml",
                          .line = 7,
                          .col = 5,
                          .scalar = "send_batch_max_size"};
    pg_config_node val = {
        .kind = PG_NODE_SCALAR, .file = "t.yaml", .line = 7, .col = 26, .scalar = "10"};
    pg_config_node *keys[] = {&key}, *vals[] = {&val};
    pg_config_node map = {.kind = PG_NODE_MAP,
                          .file = "t.yaml",
                          .line = 6,
                          .col = 3,
                          .keys = keys,
                          .values = vals,
                          .n = 1};
    pg_batch_processor_config bad = {
        .send_batch_size = 64, .send_batch_max_size = 10, .timeout_ms = 200};
    pg_batch_processor_config good = {
        .send_batch_size = 64, .send_batch_max_size = 0, .timeout_ms = 200};
    pg_config_report *r = pg_config_report_new();
    pg_batch_processor_def.validate(&good, r, &map);
    assert_int_equal(pg_config_report_errors(r), 0);
    pg_batch_processor_def.validate(&bad, r, &map);
    assert_int_equal(pg_config_report_errors(r), 1);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    pg_config_report_print(r, f);
    fclose(f);
    assert_non_null(strstr(text, "t.yaml:7:"));
    assert_non_null(strstr(text, "send_batch_max_size (10) must be 0 or >= send_batch_size (64)"));
    free(text);
    pg_config_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flush_on_size),
        cmocka_unit_test(test_flush_on_timeout),
        cmocka_unit_test(test_flush_on_worker_stop),
        cmocka_unit_test(test_tenants_never_mix),
        cmocka_unit_test(test_split_at_max_size),
        cmocka_unit_test(test_pending_tenants_bounded),
        cmocka_unit_test(test_downstream_failure_is_counted),
        cmocka_unit_test(test_validate_max_below_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
