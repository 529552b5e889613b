/* `from` / `until` of Pyroscope's /ingest: absolute and relative times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "receivers/pyroscope/attime.h"

#define S   1000000000ull
#define NOW (1795547197ull * S + 123456789ull)

/* Parses from a heap copy without a terminating NUL (ASan sees over-reads). */
static int parse_n(const char *s, size_t len, uint64_t *out, pg_error *err)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, s, len);
    int rc = pg_pyro_attime_parse(copy, len, NOW, out, err);
    free(copy);
    return rc;
}

static uint64_t ok(const char *s)
{
    uint64_t v = 0;
    pg_error err = {0};
    if (parse_n(s, strlen(s), &v, &err) != PG_OK)
        fail_msg("'%s': %s", s, err.msg);
    return v;
}

static void expect_invalid(const char *s, const char *msg)
{
    uint64_t v = 42;
    pg_error err = {0};
    assert_int_equal(parse_n(s, strlen(s), &v, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    assert_int_equal(v, 42);
}

static void test_empty_is_now(void **state)
{
    (void)state;
    assert_int_equal(ok(""), NOW);
    assert_int_equal(ok(" _ , "), NOW);
    assert_int_equal(ok("now"), NOW);
}

/* What the real clients send: the Node SDK Unix seconds, pyroscope-go Unix
 * nanoseconds. */
static void test_client_values(void **state)
{
    (void)state;
    assert_int_equal(ok("1795547197"), 1795547197ull * S);
    assert_int_equal(ok("1795547200"), 1795547200ull * S);
    assert_int_equal(ok("1795547197123456789"), 1795547197123456789ull);
}

static void test_digit_counts(void **state)
{
    (void)state;
    assert_int_equal(ok("1795547197123"), 1795547197123ull * 1000000);
    assert_int_equal(ok("1795547197123456"), 1795547197123456ull * 1000);
    assert_int_equal(ok("0"), 0);
    assert_int_equal(ok("86400"), 86400 * S);
    assert_int_equal(ok("1_795_547_197"), 1795547197ull * S);
    assert_int_equal(ok("1,795,547,197"), 1795547197ull * S);
    assert_int_equal(ok("9223372036"), 9223372036ull * S); /* largest that fits int64 ns */
    expect_invalid("9223372037", "invalid time '9223372037'");
    expect_invalid("99999999999999999999999", "invalid time '99999999999999999999999'");
    expect_invalid("9999999999999999999", "invalid time '9999999999999999999'");
}

static void test_dates(void **state)
{
    (void)state;
    assert_int_equal(ok("19700101"), 0);
    assert_int_equal(ok("20240229"), 1709164800ull * S);
    assert_int_equal(ok("20261231"), 1798675200ull * S);
    assert_int_equal(ok("20000301"), 951868800ull * S);
    expect_invalid("20230229", "invalid time '20230229'");
    expect_invalid("21000229", "invalid time '21000229'");
    expect_invalid("20241301", "invalid time '20241301'");
    expect_invalid("20240100", "invalid time '20240100'");
    expect_invalid("20240431", "invalid time '20240431'");
    expect_invalid("19691231", "invalid time '19691231'");
}

static void test_relative(void **state)
{
    (void)state;
    assert_int_equal(ok("now-1h"), NOW - 3600 * S);
    assert_int_equal(ok("now+30s"), NOW + 30 * S);
    assert_int_equal(ok("-1h"), NOW - 3600 * S);
    assert_int_equal(ok("+30s"), NOW + 30 * S);
    assert_int_equal(ok("-1h30m"), NOW - 5400 * S);
    assert_int_equal(ok("now-1h+30min"), NOW - 1800 * S);
    assert_int_equal(ok("now - 2 d"), NOW - 2 * 86400 * S);
    assert_int_equal(ok("-1w"), NOW - 7 * 86400 * S);
    assert_int_equal(ok("-1mon"), NOW - 30 * 86400 * S);
    assert_int_equal(ok("-2M"), NOW - 60 * 86400 * S);
    assert_int_equal(ok("-1y"), NOW - 365 * 86400 * S);
    assert_int_equal(ok("-10m"), NOW - 600 * S);
    assert_int_equal(ok("-10min5s"), NOW - 605 * S);
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid("abc", "invalid time 'abc'");
    expect_invalid("now-", "invalid time 'now-'");
    expect_invalid("1h", "invalid time '1h'");
    expect_invalid("now1h", "invalid time 'now1h'");
    expect_invalid("-h", "invalid time '-h'");
    expect_invalid("-1x", "invalid time '-1x'");
    expect_invalid("-1", "invalid time '-1'");
    expect_invalid("-1h-", "invalid time '-1h-'");
    expect_invalid("nowish", "invalid time 'nowish'");
    expect_invalid("2024-01-01", "invalid time '2024-01-01'");
    expect_invalid("-99999999999999y", "invalid time '-99999999999999y'");
    expect_invalid("-100y", "time '-100y' is before 1970");
    char longv[200];
    memset(longv, '1', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    char want[128];
    snprintf(want, sizeof(want), "invalid time '%.64s'", longv);
    expect_invalid(longv, want);
}

static void test_length_is_respected(void **state)
{
    (void)state;
    uint64_t v = 0;
    pg_error err = {0};
    assert_int_equal(parse_n("1795547197xyz", 10, &v, &err), PG_OK);
    assert_int_equal(v, 1795547197ull * S);
    assert_int_equal(parse_n("now-1hzz", 6, &v, &err), PG_OK);
    assert_int_equal(v, NOW - 3600 * S);
    assert_int_equal(parse_n("xyz", 0, &v, &err), PG_OK);
    assert_int_equal(v, NOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_is_now),
        cmocka_unit_test(test_client_values),
        cmocka_unit_test(test_digit_counts),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_relative),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_length_is_respected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
