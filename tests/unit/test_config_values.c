/* Value syntax: durations, sizes, endpoints, ints, bools and their rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/values.h"

static void test_durations(void **state)
{
    (void)state;
    uint64_t ms = 7;
    assert_int_equal(pg_config_parse_duration_ms("200ms", &ms), 0);
    assert_int_equal(ms, 200);
    assert_int_equal(pg_config_parse_duration_ms("5s", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(pg_config_parse_duration_ms("1m", &ms), 0);
    assert_int_equal(ms, 60000);
    assert_int_equal(pg_config_parse_duration_ms("2h", &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(pg_config_parse_duration_ms("1m30s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(pg_config_parse_duration_ms("1h2m3s4ms", &ms), 0);
    assert_int_equal(ms, 3723004);
    assert_int_equal(pg_config_parse_duration_ms("0s", &ms), 0);
    assert_int_equal(ms, 0);

    ms = 42;
    const char *bad[] = {"",
                         "10",
                         "s",
                         "5 s",
                         "1.5s",
                         "5min",
                         "10us",
                         "-1s",
                         "1m30",
                         "ms5",
                         "99999999999999999999h",
                         "5s ",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        assert_int_not_equal(pg_config_parse_duration_ms(bad[i], &ms), 0);
        assert_int_equal(ms, 42); /* untouched on failure */
    }
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t b = 0;
    struct {
        const char *s;
        uint64_t v;
    } ok[] = {{"0", 0},           {"123", 123},           {"123B", 123},     {"1KB", 1000},
              {"64MB", 64000000}, {"2GB", 2000000000ULL}, {"1KiB", 1024},    {"512KiB", 524288},
              {"4MiB", 4194304},  {"3GiB", 3ULL << 30},   {"4 MiB", 4194304}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(pg_config_parse_size(ok[i].s, &b), 0);
        assert_int_equal(b, ok[i].v);
    }
    const char *bad[] = {"",
                         "MiB",
                         "4mib",
                         "4M",
                         "4.5MiB",
                         "-1",
                         "4 MiB x",
                         "99999999999GiB",
                         "18446744073709551616",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_not_equal(pg_config_parse_size(bad[i], &b), 0);
}

static void test_ints_and_bools(void **state)
{
    (void)state;
    int64_t v;
    int b = 5;
    assert_int_equal(pg_config_parse_int("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(pg_config_parse_int("-7", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(pg_config_parse_int("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_not_equal(pg_config_parse_int("9223372036854775808", &v), 0);
    assert_int_not_equal(pg_config_parse_int("1.0", &v), 0);
    assert_int_not_equal(pg_config_parse_int("0x10", &v), 0);
    assert_int_not_equal(pg_config_parse_int("", &v), 0);
    assert_int_not_equal(pg_config_parse_int("-", &v), 0);

    assert_int_equal(pg_config_parse_bool("true", &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(pg_config_parse_bool("false", &b), 0);
    assert_int_equal(b, 0);
    assert_int_not_equal(pg_config_parse_bool("yes", &b), 0);
    assert_int_not_equal(pg_config_parse_bool("True", &b), 0);
    assert_int_not_equal(pg_config_parse_bool("1", &b), 0);
}

static void test_floats(void **state)
{
    (void)state;
    double v = -1;
    assert_int_equal(pg_config_parse_float("1.5", &v), 0);
    assert_true(v == 1.5);
    assert_int_equal(pg_config_parse_float("2", &v), 0);
    assert_true(v == 2.0);
    assert_int_equal(pg_config_parse_float("-0.25", &v), 0);
    assert_true(v == -0.25);
    assert_int_equal(pg_config_parse_float("1e3", &v), 0);
    assert_true(v == 1000.0);
    /* strtod would take these; a config value must be plain decimal */
    assert_int_not_equal(pg_config_parse_float("inf", &v), 0);
    assert_int_not_equal(pg_config_parse_float("nan", &v), 0);
    assert_int_not_equal(pg_config_parse_float("0x1p3", &v), 0);
    assert_int_not_equal(pg_config_parse_float("1e999", &v), 0);
    assert_int_not_equal(pg_config_parse_float("", &v), 0);
    assert_int_not_equal(pg_config_parse_float("1.5s", &v), 0);
    assert_true(v == 1000.0);
}

static void test_endpoints(void **state)
{
    (void)state;
    char host[64];
    int port = 0;
    const char *why = NULL;
    assert_int_equal(pg_config_parse_endpoint("127.0.0.1:4317", host, sizeof(host), &port, &why),
                     0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 4317);
    assert_int_equal(pg_config_parse_endpoint("[::1]:4318", host, sizeof(host), &port, &why), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 4318);
    assert_int_equal(pg_config_parse_endpoint("localhost:65535", host, sizeof(host), &port, &why),
                     0);
    assert_int_equal(port, 65535);

    struct {
        const char *s, *why;
    } bad[] = {
        {"localhost", "expected host:port"},
        {":4317", "empty host"},
        {"[]:4317", "empty host"},
        {"host:0", "port must be 1..65535"},
        {"host:65536", "port must be 1..65535"},
        {"host:", "missing port"},
        {"host:http", "port is not a number"},
        {"::1:4317", "IPv6 addresses must be written as [addr]:port"},
        {"[::1]4317", "expected ':' and a port after ']'"},
        {"[::1:4317", "missing ']'"},
        {"http://host:80", "expected host:port without a scheme"},
        {"a b:80", "invalid character in host"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        assert_int_not_equal(pg_config_parse_endpoint(bad[i].s, host, sizeof(host), &port, &why),
                             0);
        assert_string_equal(why, bad[i].why);
    }
}

static void test_overlap(void **state)
{
    (void)state;
    assert_true(pg_config_endpoints_overlap("127.0.0.1:4317", "127.0.0.1:4317"));
    assert_true(pg_config_endpoints_overlap("0.0.0.0:4317", "127.0.0.1:4317"));
    assert_true(pg_config_endpoints_overlap("10.0.0.1:4317", "0.0.0.0:4317"));
    assert_true(pg_config_endpoints_overlap("[::]:9", "[::1]:9"));
    assert_true(pg_config_endpoints_overlap("LOCALHOST:9", "localhost:9"));
    assert_false(pg_config_endpoints_overlap("0.0.0.0:4317", "0.0.0.0:4318"));
    assert_false(pg_config_endpoints_overlap("127.0.0.1:4317", "127.0.0.2:4317"));
    assert_false(pg_config_endpoints_overlap("bad", "bad"));
}

static void test_format(void **state)
{
    (void)state;
    char buf[64];
    pg_config_format_duration(90000, buf, sizeof(buf));
    assert_string_equal(buf, "1m30s");
    pg_config_format_duration(0, buf, sizeof(buf));
    assert_string_equal(buf, "0ms");
    pg_config_format_duration(3723004, buf, sizeof(buf));
    assert_string_equal(buf, "1h2m3s4ms");
    pg_config_format_size(4194304, buf, sizeof(buf));
    assert_string_equal(buf, "4MiB");
    pg_config_format_size(64000000, buf, sizeof(buf));
    assert_string_equal(buf, "64MB");
    pg_config_format_size(123, buf, sizeof(buf));
    assert_string_equal(buf, "123B");
    pg_config_format_size(0, buf, sizeof(buf));
    assert_string_equal(buf, "0B");
    /* what is rendered parses back to the same value */
    uint64_t v;
    assert_int_equal(pg_config_parse_duration_ms("1h2m3s4ms", &v), 0);
    pg_config_format_duration(v, buf, sizeof(buf));
    assert_string_equal(buf, "1h2m3s4ms");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),      cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_ints_and_bools), cmocka_unit_test(test_floats),
        cmocka_unit_test(test_endpoints),      cmocka_unit_test(test_overlap),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
