/* Inputs found by fuzzing the pprof decoder, kept so they stay fixed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "convert/convert.h"

/* A document with an unknown field numbered 0 (tag bytes 85 00): protobuf-c
 * accepts it on unpack but cannot read back what it packs for it, so decoding
 * must drop unknown fields for our re-encoding to decode again. */
static const uint8_t field_zero[] = {
    0x32, 0x00, 0xc0, 0xcd, 0x0a, 0x00, 0x32, 0x00, 0x32, 0x00, 0x32, 0x00, 0x48,
    0x32, 0x12, 0x00, 0x48, 0x00, 0x32, 0x00, 0x32, 0x00, 0x2a, 0x00, 0x48, 0x00,
    0x32, 0x00, 0x32, 0x00, 0x85, 0x00, 0x32, 0x00, 0x12, 0x00, 0x32, 0x00,
};

static void test_reencoding_after_unknown_field_zero(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *p = NULL, *q = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_decode(a, field_zero, sizeof(field_zero), 0, &p, &err), PG_OK);
    for (int gzip = 0; gzip < 2; gzip++) {
        pg_buf out;
        pg_buf_init(&out);
        assert_int_equal(pg_pprof_encode(p, gzip, &out, &err), PG_OK);
        assert_int_equal(pg_pprof_decode(a, out.data, out.len, 0, &q, &err), PG_OK);
        assert_int_equal(q->n_string_table, p->n_string_table);
        assert_int_equal(q->n_sample, p->n_sample);
        pg_buf_free(&out);
    }
    pg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reencoding_after_unknown_field_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
