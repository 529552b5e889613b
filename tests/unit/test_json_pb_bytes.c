/* Bytes fields of the generic JSON <-> protobuf-c mapping: a base64 string
 * decodes to 3/4 of its length, so the decoder's buffer must be that large
 * (it once was sized for hex only and overran its arena block). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/json_pb.h"
#include "pyroscope_push.pb-c.h"

static void round_trip(size_t n)
{
    uint8_t *raw = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        raw[i] = (uint8_t)(i * 131 + 7);
    char *b64 = malloc(4 * ((n + 2) / 3) + 1);
    pg_base64_encode(raw, n, b64);
    json_t *root =
        json_pack("{s:[{s:[{s:s, s:s}]}]}", "series", "samples", "rawProfile", b64, "ID", "x");
    pg_arena *a = pg_arena_new(0, 0);
    ProtobufCMessage *m = NULL;
    pg_error err = {0};
    assert_int_equal(pg_jpb_decode(a, &push__v1__push_request__descriptor, root, NULL, &m, &err),
                     PG_OK);
    /* a later allocation must not land inside the decoded bytes */
    memset(pg_arena_alloc(a, 4096), 0xee, 4096);
    const Push__V1__PushRequest *req = (const Push__V1__PushRequest *)m;
    const ProtobufCBinaryData *d = &req->series[0]->samples[0]->raw_profile;
    assert_int_equal(d->len, n);
    assert_true(n == 0 || memcmp(d->data, raw, n) == 0);
    json_decref(root);
    pg_arena_free(a);
    free(b64);
    free(raw);
}

static void test_base64_bytes_of_every_size(void **state)
{
    (void)state;
    for (size_t n = 0; n < 64; n++)
        round_trip(n);
    round_trip(7276);
    round_trip(100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_bytes_of_every_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
