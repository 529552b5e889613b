/* The sample_type_config part of a Pyroscope /ingest upload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_fixture_util.h"

#include "receivers/pyroscope/sample_type_config.h"

/* Parses a fixture from an exact-length heap copy (no NUL after it). */
static size_t parse_fixture(pg_arena *a, const char *name, pg_pyro_stconfig_entry **e)
{
    size_t len, n = 0;
    char rel[256];
    snprintf(rel, sizeof(rel), "third_party/grafana-pyroscope/%s", name);
    uint8_t *json = pg_test_read_fixture(rel, &len);
    pg_error err = {0};
    if (pg_pyro_stconfig_parse(a, json, len, e, &n, &err) != PG_OK)
        fail_msg("%s: %s", name, err.msg);
    free(json);
    return n;
}

static void expect_entry(const pg_pyro_stconfig_entry *e, const char *type, const char *units,
                         const char *display, const char *aggregation, int cumulative, int sampled)
{
    assert_non_null(e);
    assert_string_equal(e->sample_type, type);
#define STR_EQ(got, want) ((want) ? assert_string_equal((got), (want)) : assert_null(got))
    STR_EQ(e->units, units);
    STR_EQ(e->display_name, display);
    STR_EQ(e->aggregation, aggregation);
#undef STR_EQ
    assert_int_equal(e->cumulative, cumulative);
    assert_int_equal(e->sampled, sampled);
}

static void test_go_fixtures(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_stconfig_entry *e;

    assert_int_equal(parse_fixture(a, "ingest-go-goroutine.sample_type_config.json", &e), 1);
    expect_entry(&e[0], "goroutine", "goroutines", "goroutines", "average", -1, -1);

    assert_int_equal(parse_fixture(a, "ingest-go-heap.sample_type_config.json", &e), 4);
    expect_entry(&e[0], "alloc_objects", "objects", NULL, NULL, -1, -1);
    expect_entry(&e[1], "alloc_space", "bytes", NULL, NULL, -1, -1);
    expect_entry(&e[2], "inuse_objects", "objects", NULL, "average", -1, -1);
    expect_entry(&e[3], "inuse_space", "bytes", NULL, "average", -1, -1);

    assert_int_equal(parse_fixture(a, "ingest-go-mutex.sample_type_config.json", &e), 2);
    expect_entry(&e[0], "contentions", "lock_samples", "mutex_count", NULL, -1, -1);
    expect_entry(&e[1], "delay", "lock_nanoseconds", "mutex_duration", NULL, -1, -1);

    assert_int_equal(parse_fixture(a, "ingest-go-block.sample_type_config.json", &e), 2);
    expect_entry(&e[0], "contentions", "lock_samples", "block_count", NULL, -1, -1);
    expect_entry(&e[1], "delay", "lock_nanoseconds", "block_duration", NULL, -1, -1);
    pg_arena_free(a);
}

static void test_dotnet_fixture(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_stconfig_entry *e;
    size_t n = parse_fixture(a, "dotnet-multi.sample_type_config.json", &e);
    assert_int_equal(n, 9);
    expect_entry(&e[0], "alloc-samples", "objects", "alloc_objects", NULL, -1, -1);
    expect_entry(&e[2], "cpu", "samples", NULL, NULL, -1, 1);
    expect_entry(&e[6], "wall", "samples", NULL, NULL, -1, 1);
    expect_entry(&e[8], "inuse-space", "bytes", "inuse_space", "average", -1, -1);
    expect_entry(pg_pyro_stconfig_find(e, n, "lock-time"), "lock-time", "lock_nanoseconds",
                 "mutex_duration", NULL, -1, -1);
    assert_null(pg_pyro_stconfig_find(e, n, "lock"));
    assert_null(pg_pyro_stconfig_find(NULL, 0, "cpu"));
    pg_arena_free(a);
}

static int parse_str(pg_arena *a, const char *json, pg_pyro_stconfig_entry **e, size_t *n,
                     pg_error *err)
{
    size_t len = strlen(json);
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, json, len);
    int rc = pg_pyro_stconfig_parse(a, copy, len, e, n, err);
    free(copy);
    return rc;
}

static void test_booleans_and_nulls(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_stconfig_entry *e;
    size_t n;
    pg_error err = {0};
    assert_int_equal(parse_str(a,
                               "{\"x\":{\"cumulative\":true,\"sampled\":false,\"units\":null,"
                               "\"display-name\":\"d\",\"aggregation\":\"sum\"},\"y\":{}}",
                               &e, &n, &err),
                     PG_OK);
    assert_int_equal(n, 2);
    expect_entry(&e[0], "x", NULL, "d", "sum", 1, 0);
    expect_entry(&e[1], "y", NULL, NULL, NULL, -1, -1);
    assert_int_equal(parse_str(a, " {} ", &e, &n, &err), PG_OK);
    assert_int_equal(n, 0);
    assert_null(e);
    pg_arena_free(a);
}

static void expect_error(const char *json, const char *msg)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_stconfig_entry *e = (pg_pyro_stconfig_entry *)1;
    size_t n = 5;
    pg_error err = {0};
    assert_int_equal(parse_str(a, json, &e, &n, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_null(e);
    assert_int_equal(n, 0);
    pg_arena_free(a);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[]", "sample_type_config is not a JSON object");
    expect_error("\"x\"", "sample_type_config is not a JSON object");
    expect_error("{\"cpu\":1}", "sample_type_config entry 'cpu' is not an object");
    expect_error("{\"cpu\":{\"unit\":\"x\"}}",
                 "sample_type_config entry 'cpu': unknown key 'unit'");
    expect_error("{\"cpu\":{\"units\":1}}",
                 "sample_type_config entry 'cpu': 'units' must be a string");
    expect_error("{\"cpu\":{\"display-name\":[]}}",
                 "sample_type_config entry 'cpu': 'display-name' must be a string");
    expect_error("{\"cpu\":{\"cumulative\":\"true\"}}",
                 "sample_type_config entry 'cpu': 'cumulative' must be a boolean");
    expect_error("{\"cpu\":{\"sampled\":1}}",
                 "sample_type_config entry 'cpu': 'sampled' must be a boolean");
    expect_error("{\"cpu\":{\"aggregation\":\"max\"}}",
                 "sample_type_config entry 'cpu': aggregation 'max' is not sum or average");

    /* malformed JSON: jansson's own description follows ours */
    pg_arena *a = pg_arena_new(0, 0);
    pg_pyro_stconfig_entry *e;
    size_t n;
    pg_error err = {0};
    const char *bad[] = {
        "", "{", "{\"a\":{}", "{\"a\":{}} x", "{\"a\\u0000b\":{}}", "{\"\xff\":{}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_str(a, bad[i], &e, &n, &err), PG_ERR_INVALID);
        assert_int_equal(strncmp(err.msg, "sample_type_config is not valid JSON", 36), 0);
    }
    pg_arena_free(a);
}

static void test_defaults(void **state)
{
    (void)state;
    size_t n;
    const pg_pyro_stconfig_entry *d = pg_pyro_stconfig_defaults(&n);
    assert_int_equal(n, 8);
    expect_entry(pg_pyro_stconfig_find(d, n, "samples"), "samples", "samples", "cpu", NULL, -1, 1);
    expect_entry(pg_pyro_stconfig_find(d, n, "goroutine"), "goroutine", "goroutines", "goroutines",
                 "average", -1, -1);
    expect_entry(pg_pyro_stconfig_find(d, n, "contentions"), "contentions", "lock_samples",
                 "mutex_count", NULL, 1, -1);
    expect_entry(pg_pyro_stconfig_find(d, n, "delay"), "delay", "lock_nanoseconds",
                 "mutex_duration", NULL, 1, -1);
    assert_null(pg_pyro_stconfig_find(d, n, "cpu"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_fixtures),        cmocka_unit_test(test_dotnet_fixture),
        cmocka_unit_test(test_booleans_and_nulls), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
