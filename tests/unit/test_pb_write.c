/* convert/pb_write.h: the loop-free size formula and the short-copy and
 * short-varint fast paths must agree with the plain definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "convert/pb_write.h"

/* The protobuf definition, byte by byte: the reference for both writers. */
static size_t reference_varint(uint64_t v, uint8_t *out)
{
    size_t n = 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        out[n++] = v ? (uint8_t)(b | 0x80) : b;
    } while (v);
    return n;
}

static void check_varint(uint64_t v)
{
    uint8_t want[16], got[32], *p = got + 8;
    size_t n = reference_varint(v, want);
    memset(got, 0xee, sizeof(got));
    pg_pbw_varint(&p, v);
    assert_int_equal((size_t)(p - got - 8), n);
    assert_memory_equal(got + 8, want, n);
    assert_int_equal(pg_pbs_varint(v), n);
    for (size_t i = 0; i < sizeof(got); i++) {
        if (i < 8 || i >= 8 + n)
            assert_int_equal(got[i], 0xee); /* nothing written outside */
    }
}

static void test_varints_at_every_length_boundary(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 70000; v++)
        check_varint(v);
    for (int bit = 0; bit < 64; bit++) {
        uint64_t p = (uint64_t)1 << bit;
        check_varint(p - 1);
        check_varint(p);
        check_varint(p + 1);
    }
    check_varint(UINT64_MAX);
    check_varint((uint64_t)(int64_t)-1); /* negative int32/int64: ten bytes */
    assert_int_equal(pg_pbs_int(-1), 10);
}

static void test_bytes_of_every_short_length(void **state)
{
    (void)state;
    uint8_t src[80], dst[112];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 37 + 5);
    for (size_t n = 0; n <= sizeof(src); n++) {
        memset(dst, 0xee, sizeof(dst));
        uint8_t *p = dst + 8;
        pg_pbw_bytes(&p, src, n);
        assert_ptr_equal(p, dst + 8 + n);
        assert_memory_equal(dst + 8, src, n);
        assert_int_equal(dst[7], 0xee); /* nothing written outside */
        assert_int_equal(dst[8 + n], 0xee);
    }
}

static void test_fields_and_sizes_agree(void **state)
{
    (void)state;
    const int64_t values[] = {0, 1, 127, 128, 16383, 16384, INT32_MAX, -1, INT64_MAX};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint8_t buf[32], *p = buf;
        pg_pbw_int_field(&p, 3, values[i]);
        assert_int_equal((size_t)(p - buf), pg_pbs_int_field(values[i]));
    }
    uint8_t buf[300], *p = buf, payload[200] = {0};
    pg_pbw_len_field(&p, 5, payload, sizeof(payload));
    assert_int_equal((size_t)(p - buf), pg_pbs_len_field(sizeof(payload)));
    assert_int_equal(buf[0], 5 << 3 | 2);
    assert_int_equal(buf[1], (200 & 0x7f) | 0x80);
    assert_int_equal(buf[2], 200 >> 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints_at_every_length_boundary),
        cmocka_unit_test(test_bytes_of_every_short_length),
        cmocka_unit_test(test_fields_and_sizes_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
