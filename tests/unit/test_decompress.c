#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zlib.h>
#include <zstd.h>

#include "common/buf.h"
#include "transport/decompress.h"

#define MIB (1024u * 1024u)

/* Compresses in with zlib; window_bits selects the wrapper (15 zlib,
 * 15+16 gzip, -15 raw). Feeds `repeat` copies of in, so a 1 MiB buffer
 * makes a 1 GiB stream without 1 GiB of memory. */
static void zlib_compress(pg_buf *out, int window_bits, const uint8_t *in, size_t len,
                          size_t repeat)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
    uint8_t chunk[64 * 1024];
    for (size_t i = 0; i < repeat; i++) {
        zs.next_in = (Bytef *)in;
        zs.avail_in = (uInt)len;
        int flush = i + 1 == repeat ? Z_FINISH : Z_NO_FLUSH;
        int rc;
        do {
            zs.next_out = chunk;
            zs.avail_out = sizeof(chunk);
            rc = deflate(&zs, flush);
            assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
            assert_int_equal(pg_buf_append(out, chunk, sizeof(chunk) - zs.avail_out), 0);
        } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&zs);
}

static void zstd_compress(pg_buf *out, const uint8_t *in, size_t len, size_t repeat,
                          int pledge_size)
{
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    assert_non_null(cc);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
    if (pledge_size)
        ZSTD_CCtx_setPledgedSrcSize(cc, (unsigned long long)len * repeat);
    uint8_t chunk[64 * 1024];
    for (size_t i = 0; i < repeat; i++) {
        ZSTD_inBuffer ib = {in, len, 0};
        ZSTD_EndDirective mode = i + 1 == repeat ? ZSTD_e_end : ZSTD_e_continue;
        size_t left;
        do {
            ZSTD_outBuffer ob = {chunk, sizeof(chunk), 0};
            left = ZSTD_compressStream2(cc, &ob, &ib, mode);
            assert_false(ZSTD_isError(left));
            assert_int_equal(pg_buf_append(out, chunk, ob.pos), 0);
        } while (ib.pos < ib.size || (mode == ZSTD_e_end && left != 0));
    }
    ZSTD_freeCCtx(cc);
}

static uint8_t *sample_text(size_t len)
{
    uint8_t *p = malloc(len);
    assert_non_null(p);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)("profgate sample data "[(x >> 16) % 21]);
    }
    return p;
}

static void roundtrip(const char *encoding, const pg_buf *compressed, const uint8_t *orig,
                      size_t len)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = pg_decompress(a, encoding, compressed->data, compressed->len, 10 * MIB, &out, &out_len,
                           &err);
    assert_int_equal(rc, PG_OK);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, orig, len);
    pg_arena_free(a);
}

static void test_gzip_deflate_zstd_roundtrip(void **state)
{
    size_t len = 300 * 1024;
    uint8_t *orig = sample_text(len);
    pg_buf gz, zl, raw, zs;
    pg_buf_init(&gz);
    pg_buf_init(&zl);
    pg_buf_init(&raw);
    pg_buf_init(&zs);
    zlib_compress(&gz, 15 + 16, orig, len, 1);
    zlib_compress(&zl, 15, orig, len, 1);
    zlib_compress(&raw, -15, orig, len, 1);
    zstd_compress(&zs, orig, len, 1, 1);
    roundtrip("gzip", &gz, orig, len);
    roundtrip(" GZIP ", &gz, orig, len);
    roundtrip("x-gzip", &gz, orig, len);
    roundtrip("deflate", &zl, orig, len);
    roundtrip("deflate", &raw, orig, len);
    roundtrip("zstd", &zs, orig, len);
    pg_buf_free(&gz);
    pg_buf_free(&zl);
    pg_buf_free(&raw);
    pg_buf_free(&zs);
    free(orig);
}

static void test_zstd_without_content_size(void **state)
{
    size_t len = 200 * 1024;
    uint8_t *orig = sample_text(len);
    pg_buf zs;
    pg_buf_init(&zs);
    zstd_compress(&zs, orig, len / 4, 4, 0); /* streamed: no size in the header */
    uint8_t *four = malloc(len);
    for (int i = 0; i < 4; i++)
        memcpy(four + i * (len / 4), orig, len / 4);
    roundtrip("zstd", &zs, four, len);
    free(four);
    pg_buf_free(&zs);
    free(orig);
}

static void test_identity_is_zero_copy_and_limited(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const uint8_t in[] = "hello";
    const uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(pg_decompress(a, NULL, in, 5, 100, &out, &out_len, &err), PG_OK);
    assert_ptr_equal(out, in);
    assert_int_equal(out_len, 5);
    assert_int_equal(pg_decompress(a, "identity", in, 5, 5, &out, &out_len, &err), PG_OK);
    assert_int_equal(pg_decompress(a, "", in, 5, 4, &out, &out_len, &err), PG_ERR_LIMIT);
    pg_arena_free(a);
}

static void test_unknown_encoding(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = pg_decompress(a, "br", (const uint8_t *)"x", 1, 100, &out, &out_len, &err);
    assert_int_equal(rc, PG_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "'br'"));
    assert_false(pg_decompress_supported("snappy"));
    assert_true(pg_decompress_supported("zstd"));
    assert_true(pg_decompress_supported(NULL));
    pg_arena_free(a);
}

static void test_corrupt_and_truncated(void **state)
{
    size_t len = 50 * 1024;
    uint8_t *orig = sample_text(len);
    pg_buf gz, zs;
    pg_buf_init(&gz);
    pg_buf_init(&zs);
    zlib_compress(&gz, 15 + 16, orig, len, 1);
    zstd_compress(&zs, orig, len, 1, 1);
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const uint8_t *out;
    size_t out_len;
    /* truncated */
    assert_int_equal(pg_decompress(a, "gzip", gz.data, gz.len / 2, MIB, &out, &out_len, &err),
                     PG_ERR_INVALID);
    assert_int_equal(pg_decompress(a, "zstd", zs.data, zs.len / 2, MIB, &out, &out_len, &err),
                     PG_ERR_INVALID);
    /* garbage */
    assert_int_equal(
        pg_decompress(a, "gzip", (const uint8_t *)"not gzip at all", 15, MIB, &out, &out_len, &err),
        PG_ERR_INVALID);
    assert_int_equal(
        pg_decompress(a, "zstd", (const uint8_t *)"not zstd at all", 15, MIB, &out, &out_len, &err),
        PG_ERR_INVALID);
    /* a flipped byte in the middle of the deflate data */
    gz.data[gz.len / 2] ^= 0x55;
    assert_int_equal(pg_decompress(a, "gzip", gz.data, gz.len, MIB, &out, &out_len, &err),
                     PG_ERR_INVALID);
    pg_arena_free(a);
    pg_buf_free(&gz);
    pg_buf_free(&zs);
    free(orig);
}

static void test_gzip_members_and_lying_size(void **state)
{
    const char *a_txt = "first member;", *b_txt = "second member";
    pg_buf gz;
    pg_buf_init(&gz);
    zlib_compress(&gz, 15 + 16, (const uint8_t *)a_txt, strlen(a_txt), 1);
    zlib_compress(&gz, 15 + 16, (const uint8_t *)b_txt, strlen(b_txt), 1);
    const char *both = "first member;second member";
    roundtrip("gzip", &gz, (const uint8_t *)both, strlen(both));

    /* ISIZE says 1 byte: the output must still be complete and right */
    pg_buf one;
    pg_buf_init(&one);
    size_t len = 100 * 1024;
    uint8_t *orig = sample_text(len);
    zlib_compress(&one, 15 + 16, orig, len, 1);
    uint8_t *t = one.data + one.len - 4;
    t[0] = 1;
    t[1] = t[2] = t[3] = 0;
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const uint8_t *out;
    size_t out_len;
    /* zlib checks ISIZE itself, so a lying trailer is a corrupt stream */
    assert_int_equal(pg_decompress(a, "gzip", one.data, one.len, MIB, &out, &out_len, &err),
                     PG_ERR_INVALID);
    pg_arena_free(a);
    pg_buf_free(&one);
    pg_buf_free(&gz);
    free(orig);
}

static void test_limit_is_exact(void **state)
{
    size_t len = 100000;
    uint8_t *orig = sample_text(len);
    pg_buf gz, zs;
    pg_buf_init(&gz);
    pg_buf_init(&zs);
    zlib_compress(&gz, 15 + 16, orig, len, 1);
    zstd_compress(&zs, orig, len, 1, 1);
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    const uint8_t *out;
    size_t out_len;
    assert_int_equal(pg_decompress(a, "gzip", gz.data, gz.len, len, &out, &out_len, &err), PG_OK);
    assert_int_equal(out_len, len);
    assert_int_equal(pg_decompress(a, "gzip", gz.data, gz.len, len - 1, &out, &out_len, &err),
                     PG_ERR_LIMIT);
    assert_int_equal(pg_decompress(a, "zstd", zs.data, zs.len, len, &out, &out_len, &err), PG_OK);
    assert_int_equal(pg_decompress(a, "zstd", zs.data, zs.len, len - 1, &out, &out_len, &err),
                     PG_ERR_LIMIT);
    pg_arena_free(a);
    pg_buf_free(&gz);
    pg_buf_free(&zs);
    free(orig);
}

/* A gzip body whose trailer gives its size gets that much room plus zlib's
 * fast-loop slack, never more than the limit allows: the result and the limit
 * check are the same whatever the slack, and the arena holds nothing else. */
static void test_room_after_exact_size_respects_limit(void **state)
{
    const size_t sizes[] = {1, 300, 5000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t len = sizes[s];
        uint8_t *orig = sample_text(len);
        pg_buf gz;
        pg_buf_init(&gz);
        zlib_compress(&gz, 15 + 16, orig, len, 1);
        const size_t extra[] = {0, 1, 2, 257, 258, 259, 260, 1000};
        for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
            for (int below = 0; below <= 1; below++) {
                if (below && (extra[e] != 0 || len < 2))
                    continue;
                size_t limit = below ? len - 1 : len + extra[e];
                pg_arena *a = pg_arena_new(0, 0);
                pg_error err = {0};
                const uint8_t *out = NULL;
                size_t out_len = 0;
                int rc = pg_decompress(a, "gzip", gz.data, gz.len, limit, &out, &out_len, &err);
                if (below) {
                    assert_int_equal(rc, PG_ERR_LIMIT);
                } else {
                    assert_int_equal(rc, PG_OK);
                    assert_int_equal(out_len, len);
                    assert_memory_equal(out, orig, len);
                    size_t room = limit + 1 < len + 1 + 258 ? limit + 1 : len + 1 + 258;
                    /* what one allocation of that much room costs the arena */
                    pg_arena *b = pg_arena_new(0, 0);
                    assert_non_null(pg_arena_alloc(b, room));
                    assert_int_equal(pg_arena_used(a), pg_arena_used(b));
                    pg_arena_free(b);
                }
                pg_arena_free(a);
            }
        }
        pg_buf_free(&gz);
        free(orig);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 1 GiB of zeros must be refused once 1 MiB has come out: the arena keeps
 * nothing, and the work done is bounded by the limit, not the bomb. */
static void check_bomb(const char *encoding, const pg_buf *bomb)
{
    pg_arena *a = pg_arena_new(0, 2 * MIB);
    pg_error err = {0};
    const uint8_t *out = NULL;
    size_t out_len = 0;
    double t0 = now_s();
    int rc = pg_decompress(a, encoding, bomb->data, bomb->len, MIB, &out, &out_len, &err);
    double took = now_s() - t0;
    assert_int_equal(rc, PG_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "limit"));
    assert_true(pg_arena_used(a) <= MIB + 64);
    /* inflating the whole GiB takes seconds; stopping at 1 MiB, milliseconds */
    assert_true(took < 0.5);
    pg_arena_free(a);
}

static void test_gzip_bomb(void **state)
{
    uint8_t *zeros = calloc(1, MIB);
    pg_buf bomb;
    pg_buf_init(&bomb);
    zlib_compress(&bomb, 15 + 16, zeros, MIB, 1024);
    assert_true(bomb.len < 2 * MIB); /* really a bomb: over 500:1 */
    check_bomb("gzip", &bomb);
    pg_buf_free(&bomb);
    free(zeros);
}

static void test_zstd_bomb(void **state)
{
    uint8_t *zeros = calloc(1, MIB);
    for (int pledge = 0; pledge <= 1; pledge++) {
        pg_buf bomb;
        pg_buf_init(&bomb);
        zstd_compress(&bomb, zeros, MIB, 1024, pledge);
        assert_true(bomb.len < MIB);
        check_bomb("zstd", &bomb);
        pg_buf_free(&bomb);
    }
    free(zeros);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_deflate_zstd_roundtrip),
        cmocka_unit_test(test_zstd_without_content_size),
        cmocka_unit_test(test_identity_is_zero_copy_and_limited),
        cmocka_unit_test(test_unknown_encoding),
        cmocka_unit_test(test_corrupt_and_truncated),
        cmocka_unit_test(test_gzip_members_and_lying_size),
        cmocka_unit_test(test_limit_is_exact),
        cmocka_unit_test(test_room_after_exact_size_respects_limit),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_zstd_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
