/* common/hash.h: pg_hash_bytes's loop-free tail must give the value of the
 * plain definition (the last bytes zero-padded by memcpy) at every length
 * and alignment, and must not read outside the range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hash.h"

static uint64_t reference_hash(const uint8_t *s, size_t n, uint64_t seed)
{
    uint64_t h = pg_hash_start(n, seed);
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = pg_hash_word(h, w);
    }
    uint64_t tail = 0;
    memcpy(&tail, s, n);
    return pg_hash_finish(h, tail);
}

static void test_every_length_and_alignment(void **state)
{
    (void)state;
    uint8_t buf[80];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 151 + 7);
    for (size_t off = 0; off < 8; off++) {
        for (size_t n = 0; off + n <= 64; n++)
            assert_true(pg_hash_bytes(buf + off, n, 5) == reference_hash(buf + off, n, 5));
    }
}

/* Each length in a heap block of exactly that size: under ASan a load past
 * the end (or before the start) would be reported. */
static void test_tail_stays_inside(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 20; n++) {
        uint8_t *p = malloc(n ? n : 1);
        assert_non_null(p);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(0xa0 + i);
        assert_true(pg_hash_bytes(p, n, 0) == reference_hash(p, n, 0));
        free(p);
    }
}

/* Strings that differ only in one byte of the tail, or only in length,
 * hash differently. */
static void test_tail_bytes_count(void **state)
{
    (void)state;
    const uint8_t a[] = "abcdefghijklmno";
    for (size_t n = 1; n <= 15; n++) {
        for (size_t k = n & ~(size_t)7; k < n; k++) {
            uint8_t y[16];
            memcpy(y, a, n);
            y[k] ^= 1;
            assert_true(pg_hash_bytes(a, n, 0) != pg_hash_bytes(y, n, 0));
        }
        assert_true(pg_hash_bytes(a, n, 0) != pg_hash_bytes(a, n - 1, 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_length_and_alignment),
        cmocka_unit_test(test_tail_stays_inside),
        cmocka_unit_test(test_tail_bytes_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
