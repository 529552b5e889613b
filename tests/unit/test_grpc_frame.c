#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "transport/grpc_frame.h"
#include "transport/http_server.h"

static void test_frame_next_complete_and_partial(void **state)
{
    const uint8_t buf[] = {0, 0, 0, 0, 3, 'a', 'b', 'c', 1, 0, 0, 0, 1, 'z'};
    pg_grpc_msg m;
    size_t used = 0;
    pg_error err = {0};
    assert_int_equal(pg_grpc_frame_next(buf, sizeof(buf), 100, &m, &used, &err), 1);
    assert_int_equal(used, 8);
    assert_int_equal(m.compressed, 0);
    assert_int_equal(m.len, 3);
    assert_memory_equal(m.data, "abc", 3);
    assert_int_equal(pg_grpc_frame_next(buf + 8, sizeof(buf) - 8, 100, &m, &used, &err), 1);
    assert_int_equal(m.compressed, 1);
    assert_int_equal(m.len, 1);
    /* every strict prefix of a frame asks for more bytes */
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(pg_grpc_frame_next(buf, n, 100, &m, &used, &err), 0);
}

static void test_frame_next_errors(void **state)
{
    pg_grpc_msg m;
    size_t used;
    pg_error err = {0};
    const uint8_t bad_flag[] = {2, 0, 0, 0, 0};
    assert_int_equal(pg_grpc_frame_next(bad_flag, 1, 100, &m, &used, &err), PG_ERR_INVALID);
    /* the prefix alone is enough to refuse a huge message */
    const uint8_t huge[] = {0, 0x7f, 0xff, 0xff, 0xff};
    assert_int_equal(pg_grpc_frame_next(huge, sizeof(huge), 1 << 20, &m, &used, &err),
                     PG_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "exceeds"));
}

static void test_unframe_unary(void **state)
{
    pg_grpc_msg m;
    pg_error err = {0};
    const uint8_t one[] = {0, 0, 0, 0, 2, 'h', 'i'};
    assert_int_equal(pg_grpc_unframe_unary(one, sizeof(one), 100, &m, &err), PG_GRPC_OK);
    assert_int_equal(m.len, 2);
    const uint8_t empty_msg[] = {0, 0, 0, 0, 0};
    assert_int_equal(pg_grpc_unframe_unary(empty_msg, 5, 100, &m, &err), PG_GRPC_OK);
    assert_int_equal(m.len, 0);
    assert_int_equal(pg_grpc_unframe_unary(NULL, 0, 100, &m, &err), PG_GRPC_INVALID_ARGUMENT);
    const uint8_t two[] = {0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b'};
    assert_int_equal(pg_grpc_unframe_unary(two, sizeof(two), 100, &m, &err), PG_GRPC_UNIMPLEMENTED);
    assert_non_null(strstr(err.msg, "more than one"));
    assert_int_equal(pg_grpc_unframe_unary(one, sizeof(one) - 1, 100, &m, &err), PG_GRPC_INTERNAL);
    assert_int_equal(pg_grpc_unframe_unary(one, 3, 100, &m, &err), PG_GRPC_INTERNAL);
    assert_int_equal(pg_grpc_unframe_unary(one, sizeof(one), 1, &m, &err),
                     PG_GRPC_RESOURCE_EXHAUSTED);
    const uint8_t flag9[] = {9, 0, 0, 0, 0};
    assert_int_equal(pg_grpc_unframe_unary(flag9, 5, 100, &m, &err), PG_GRPC_INTERNAL);
}

static void test_frame_append(void **state)
{
    pg_buf b;
    pg_buf_init(&b);
    assert_int_equal(pg_grpc_frame_append(&b, (const uint8_t *)"xyz", 3), 0);
    const uint8_t want[] = {0, 0, 0, 0, 3, 'x', 'y', 'z'};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    pg_buf_free(&b);
}

static void test_timeout_parse(void **state)
{
    uint64_t ns = 0;
    assert_int_equal(pg_grpc_timeout_parse("1H", &ns), 0);
    assert_true(ns == 3600ull * 1000000000ull);
    assert_int_equal(pg_grpc_timeout_parse("2M", &ns), 0);
    assert_true(ns == 120ull * 1000000000ull);
    assert_int_equal(pg_grpc_timeout_parse("30S", &ns), 0);
    assert_true(ns == 30ull * 1000000000ull);
    assert_int_equal(pg_grpc_timeout_parse("250m", &ns), 0);
    assert_true(ns == 250000000ull);
    assert_int_equal(pg_grpc_timeout_parse("7u", &ns), 0);
    assert_true(ns == 7000ull);
    assert_int_equal(pg_grpc_timeout_parse("99999999n", &ns), 0);
    assert_true(ns == 99999999ull);
    assert_int_equal(pg_grpc_timeout_parse("99999999H", &ns), 0);
    assert_true(ns == 99999999ull * 3600ull * 1000000000ull);
    const char *bad[] = {"", "S", "123456789S", "10", "10x", "-1S", "1S ", " 1S", "1.5S", "1s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(pg_grpc_timeout_parse(bad[i], &ns), PG_ERR_INVALID);
    assert_int_equal(pg_grpc_timeout_parse(NULL, &ns), PG_ERR_INVALID);
}

static void test_percent_encode(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    assert_string_equal(pg_grpc_percent_encode(a, "plain text: ok"), "plain text: ok");
    assert_string_equal(pg_grpc_percent_encode(a, "50% off\nnow"), "50%25 off%0Anow");
    assert_string_equal(pg_grpc_percent_encode(a, "caf\xc3\xa9"), "caf%C3%A9");
    assert_string_equal(pg_grpc_percent_encode(a, NULL), "");
    pg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_next_complete_and_partial),
        cmocka_unit_test(test_frame_next_errors),
        cmocka_unit_test(test_unframe_unary),
        cmocka_unit_test(test_frame_append),
        cmocka_unit_test(test_timeout_parse),
        cmocka_unit_test(test_percent_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
