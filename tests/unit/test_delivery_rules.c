/*
 * The chain's pure rules: Retry-After parsing, gRPC and HTTP verdicts, the
 * backoff sequence, and the shared config keys with their cross-key checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "common/arena.h"
#include "config/apply.h"
#include "config/config.h"
#include "config/yaml.h"
#include "exporters/common/delivery.h"
#include "exporters/common/delivery_internal.h"
#include "test_config_util.h"

static void test_parse_retry_after(void **state)
{
    uint64_t now = 1700000000000ull; /* 2023-11-14T22:13:20Z */
    assert_int_equal(pg_delivery_parse_retry_after("3", now), 3000);
    assert_int_equal(pg_delivery_parse_retry_after(" 120 ", now), 120000);
    assert_int_equal(pg_delivery_parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now), 10000);
    assert_int_equal(pg_delivery_parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now), 0);
    assert_int_equal(pg_delivery_parse_retry_after("3s", now), 0);
    assert_int_equal(pg_delivery_parse_retry_after("soon", now), 0);
    assert_int_equal(pg_delivery_parse_retry_after(NULL, now), 0);
    assert_int_equal(pg_delivery_parse_retry_after("99999999999", now), 24ull * 3600 * 1000);
}

static void test_grpc_verdicts(void **state)
{
    assert_int_equal(pg_delivery_grpc_verdict(0), PG_DELIVERY_DELIVERED);
    const int retry[] = {1, 4, 8, 10, 11, 14, 15};
    for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
        assert_int_equal(pg_delivery_grpc_verdict(retry[i]), PG_DELIVERY_RETRY);
    const int perm[] = {2, 3, 5, 6, 7, 9, 12, 13, 16};
    for (size_t i = 0; i < sizeof(perm) / sizeof(perm[0]); i++)
        assert_int_equal(pg_delivery_grpc_verdict(perm[i]), PG_DELIVERY_PERMANENT);
}

static pg_delivery_outcome classify(int status, const char *body, const char *retry_after)
{
    pg_http_header h[] = {{"retry-after", retry_after}};
    pg_http_client_response r = {.outcome = PG_HTTP_RESPONSE,
                                 .status = status,
                                 .headers = h,
                                 .n_headers = retry_after ? 1 : 0,
                                 .body = (const uint8_t *)body,
                                 .body_len = body ? strlen(body) : 0};
    pg_delivery_outcome o;
    memset(&o, 0x5a, sizeof(o)); /* classify must set every field */
    pg_delivery_classify_http(NULL, NULL, &r, &o);
    return o;
}

static void test_http_verdicts(void **state)
{
    pg_delivery_outcome o = classify(200, "ok", NULL);
    assert_int_equal(o.verdict, PG_DELIVERY_DELIVERED);
    assert_int_equal(o.rejected, 0);
    assert_int_equal(o.retry_after_ms, 0);
    assert_int_equal(classify(204, NULL, NULL).verdict, PG_DELIVERY_DELIVERED);
    const int retry[] = {408, 429, 502, 503, 504};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(classify(retry[i], NULL, NULL).verdict, PG_DELIVERY_RETRY);
    const int perm[] = {400, 401, 403, 404, 413, 500, 501};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(classify(perm[i], NULL, NULL).verdict, PG_DELIVERY_PERMANENT);
    o = classify(429, "slow down", "7");
    assert_int_equal(o.retry_after_ms, 7000);
    assert_string_equal(o.message, "slow down");
    o = classify(400, "{\"code\":\"invalid_argument\",\"message\":\"bad\\nlabel\"}", NULL);
    assert_string_equal(o.message, "bad label"); /* JSON message, control chars blanked */
    o = classify(400, "plain\r\ntext\r\n", NULL);
    assert_string_equal(o.message, "plain  text");
}

static void test_backoff_sequence(void **state)
{
    pg_retry_config c = {.enabled = true,
                         .initial_interval_ms = 100,
                         .max_interval_ms = 1000,
                         .multiplier = 2.0,
                         .randomization_factor = 0.0};
    uint64_t rng = 1;
    const uint64_t want[] = {100, 200, 400, 800, 1000, 1000};
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(pg_delivery_backoff_ms(&c, i + 1, &rng), want[i]);
    c.randomization_factor = 0.5;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = pg_delivery_backoff_ms(&c, 3, &rng);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    assert_true(lo >= 200 && lo < 230); /* 400 +- 50 % */
    assert_true(hi <= 600 && hi > 570);
}

/* ---- config ---- */

typedef struct cfg_fixture {
    pg_arena *arena;
    pg_config_report *report;
    pg_delivery_config c;
} cfg_fixture;

static const pg_config_key keys[] = {PG_DELIVERY_CONFIG_KEYS, PG_CONFIG_END};

static size_t load(cfg_fixture *f, const char *yaml)
{
    f->arena = pg_arena_new(0, 0);
    f->report = pg_config_report_new();
    memset(&f->c, 0, sizeof(f->c));
    const pg_config_node *root =
        pg_config_yaml_parse(f->arena, "test.yaml", yaml, strlen(yaml), 0, f->report);
    assert_non_null(root);
    pg_config_apply_ctx ctx = {.arena = f->arena, .report = f->report};
    pg_config_apply(&ctx, keys, &f->c, root, root);
    pg_delivery_config_validate(&f->c, f->report, root);
    return pg_config_report_errors(f->report);
}

static void unload(cfg_fixture *f)
{
    pg_config_report_free(f->report);
    pg_arena_free(f->arena);
}

static void test_config_defaults(void **state)
{
    cfg_fixture f;
    assert_int_equal(load(&f, "endpoint: https://pyroscope:4040\n"), 0);
    assert_int_equal(f.c.timeout_ms, 10000);
    assert_string_equal(f.c.tenant_header, "X-Scope-OrgID");
    assert_true(f.c.queue.enabled);
    assert_int_equal(f.c.queue.queue_size, 1000);
    assert_int_equal(f.c.queue.queue_bytes, 256ull << 20);
    assert_int_equal(f.c.queue.num_consumers, 10);
    assert_true(f.c.queue.block_on_overflow);
    assert_true(f.c.retry.enabled);
    assert_int_equal(f.c.retry.initial_interval_ms, 5000);
    assert_int_equal(f.c.retry.max_interval_ms, 30000);
    assert_true(f.c.retry.multiplier == 1.5);
    assert_true(f.c.retry.randomization_factor == 0.5);
    assert_int_equal(f.c.retry.max_elapsed_time_ms, 300000);
    assert_false(f.c.tls.insecure);
    unload(&f);
}

static void test_config_values(void **state)
{
    cfg_fixture f;
    assert_int_equal(load(&f, "endpoint: host:4317\n"
                              "timeout: 2s\n"
                              "headers: {X-A: b}\n"
                              "tls: {ca_file: /ca.pem, server_name_override: db}\n"
                              "auth: {bearer_token_file: /tok}\n"
                              "sending_queue: {queue_size: 5, num_consumers: 3,"
                              " block_on_overflow: false}\n"
                              "retry_on_failure: {initial_interval: 50ms, multiplier: 2,"
                              " randomization_factor: 0, max_elapsed_time: 0s}\n"),
                     0);
    assert_int_equal(f.c.timeout_ms, 2000);
    assert_int_equal(f.c.headers.n, 1);
    assert_string_equal(f.c.tls.ca_file, "/ca.pem");
    assert_string_equal(f.c.auth.bearer_token_file, "/tok");
    assert_int_equal(f.c.queue.queue_size, 5);
    assert_false(f.c.queue.block_on_overflow);
    assert_int_equal(f.c.retry.initial_interval_ms, 50);
    assert_int_equal(f.c.retry.max_elapsed_time_ms, 0);
    unload(&f);
}

static void expect_error(const char *yaml, const char *message)
{
    cfg_fixture f;
    assert_true(load(&f, yaml) > 0);
    assert_true(report_has(f.report, message));
    unload(&f);
}

static void test_config_errors(void **state)
{
    expect_error("endpoint: http://h:1\ntls: {ca_file: /ca.pem}\n",
                 "test.yaml:2:6: error: tls options need an https endpoint");
    expect_error("endpoint: h:1\nauth: {username: u, password: p, bearer_token: t}\n",
                 "test.yaml:2:7: error: auth: use either username/password or a bearer token");
    expect_error("endpoint: h:1\nauth:\n  username: u\n",
                 "test.yaml:3:13: error: auth: username needs exactly one of password");
    expect_error("endpoint: h:1\nauth: {username: u, password: p, password_file: /f}\n",
                 "auth: username needs exactly one of password and password_file");
    expect_error("endpoint: h:1\nauth: {bearer_token: a, bearer_token_file: /f}\n",
                 "auth: set bearer_token or bearer_token_file, not both");
    expect_error("endpoint: h:1\ntls: {cert_file: /c.pem}\n",
                 "tls: cert_file and key_file go together");
    expect_error("endpoint: justahost\n", "test.yaml:1:11: error: endpoint 'justahost'");
    expect_error("endpoint: grpc://h:1\n", "the scheme must be http:// or https://");
    expect_error("endpoint: http://\n", "has no host");
    expect_error("endpoint: h:1\nretry_on_failure: {initial_interval: 10s, max_interval: 1s}\n",
                 "max_interval is shorter than initial_interval");
    expect_error("endpoint: h:1\nretry_on_failure: {randomization_factor: 2}\n",
                 "randomization_factor");
    expect_error("endpoint: h:1\nsending_queue: {queue_size: 0}\n", "queue_size");
    expect_error("timeout: 1s\n", "missing required key 'endpoint'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_retry_after), cmocka_unit_test(test_grpc_verdicts),
        cmocka_unit_test(test_http_verdicts),     cmocka_unit_test(test_backoff_sequence),
        cmocka_unit_test(test_config_defaults),   cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
