/*
 * pg_decompress on two kinds of body: the fuzz bytes as they come (almost
 * never a valid stream, so this exercises the error paths), and the fuzz
 * bytes compressed here with gzip, zlib, raw deflate or zstd, then possibly
 * damaged in one byte or cut short (valid and nearly valid streams, which
 * random bytes never reach). Every body is decoded under limits just around
 * its real size, because the output buffer is sized from the size the body
 * states and then given extra room that must never pass the limit.
 *
 * Input: byte 0 picks the codec (bits 0-1), whether to damage (bit 2) or cut
 * (bit 3) the stream, and whether to concatenate a second gzip member
 * (bit 4); bytes 1-2 say where to damage or cut; the rest is the payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "common/arena.h"
#include "common/buf.h"
#include "transport/decompress.h"

static const char *const codec_name[4] = {"gzip", "deflate", "deflate", "zstd"};
static const int window_bits[3] = {15 + 16, 15, -15}; /* gzip, zlib, raw */

static int deflate_into(pg_buf *out, int codec, const uint8_t *in, size_t len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, window_bits[codec], 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong bound = deflateBound(&zs, (uLong)len);
    if (pg_buf_reserve(out, bound) != 0) {
        deflateEnd(&zs);
        return -1;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out->data + out->len;
    zs.avail_out = (uInt)bound;
    int rc = deflate(&zs, Z_FINISH);
    out->len += bound - zs.avail_out;
    deflateEnd(&zs);
    return rc == Z_STREAM_END ? 0 : -1;
}

static int compress_into(pg_buf *out, int codec, const uint8_t *in, size_t len)
{
    if (codec < 3)
        return deflate_into(out, codec, in, len);
    size_t bound = ZSTD_compressBound(len);
    if (pg_buf_reserve(out, bound) != 0)
        return -1;
    size_t n = ZSTD_compress(out->data + out->len, bound, in, len, 1);
    if (ZSTD_isError(n))
        return -1;
    out->len += n;
    return 0;
}

/* Decodes body with the given limit; checks what holds for any input. */
static int decode(const char *codec, const uint8_t *body, size_t len, uint64_t limit,
                  const uint8_t **out, size_t *out_len)
{
    pg_arena *a = pg_arena_new(0, 0);
    if (!a)
        return PG_ERR_NOMEM;
    pg_error err;
    pg_error_clear(&err);
    const uint8_t *o = NULL;
    size_t n = 0;
    int rc = pg_decompress(a, codec, body, len, limit, &o, &n, &err);
    if (rc == PG_OK) {
        if (n > limit)
            abort();
        /* the arena holds at most one first buffer, which never passes the
         * limit, and the output (plus the arena's rounding) */
        if (pg_arena_used(a) > limit + n + 128)
            abort();
        if (out) {
            uint8_t *copy = malloc(n ? n : 1);
            if (!copy)
                abort();
            memcpy(copy, o, n);
            *out = copy;
            *out_len = n;
        }
    } else if (!err.msg[0]) {
        abort(); /* every failure says why */
    }
    pg_arena_free(a);
    return rc;
}

/* Around a successful decode of n bytes: the limit n succeeds with the same
 * bytes, n - 1 is PG_ERR_LIMIT, and any limit above n gives the same bytes. */
static void check_limits(const char *codec, const uint8_t *body, size_t len, const uint8_t *want,
                         size_t n)
{
    static const uint64_t above[] = {0, 1, 2, 257, 258, 259, 300, 4096};
    for (size_t i = 0; i < sizeof(above) / sizeof(above[0]); i++) {
        const uint8_t *got = NULL;
        size_t got_len = 0;
        if (n + above[i] == 0)
            continue; /* a limit of 0 means "none" */
        if (decode(codec, body, len, n + above[i], &got, &got_len) != PG_OK)
            abort();
        if (got_len != n || memcmp(got, want, n) != 0)
            abort();
        free((void *)got);
    }
    if (n > 1 && decode(codec, body, len, n - 1, NULL, NULL) != PG_ERR_LIMIT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t mode = data[0];
    size_t where = (size_t)data[1] | (size_t)data[2] << 8;
    const uint8_t *payload = data + 3;
    size_t plen = size - 3;
    int codec = mode & 3;

    /* the bytes as they are, under each codec (1 and 2 are both "deflate") */
    for (int c = 0; c < 4; c++) {
        if (c == 2)
            continue;
        const uint8_t *out = NULL;
        size_t n = 0;
        if (decode(codec_name[c], payload, plen, 1 << 20, &out, &n) == PG_OK) {
            check_limits(codec_name[c], payload, plen, out, n);
            free((void *)out);
        }
    }

    /* the bytes compressed here, then maybe damaged */
    pg_buf body;
    pg_buf_init(&body);
    int ok = compress_into(&body, codec, payload, plen) == 0;
    if (ok && codec == 0 && (mode & 16))
        ok = compress_into(&body, 0, payload, plen / 2) == 0;
    if (!ok) {
        pg_buf_free(&body);
        return 0;
    }
    int damaged = 0;
    if ((mode & 4) && body.len) {
        body.data[where % body.len] ^= (uint8_t)(1 + (where >> 8));
        damaged = 1;
    }
    if ((mode & 8) && body.len) {
        body.len = where % body.len;
        damaged = 1;
    }
    const uint8_t *out = NULL;
    size_t n = 0;
    int rc = decode(codec_name[codec], body.data, body.len, 1 << 20, &out, &n);
    if (rc == PG_OK) {
        if (!damaged) {
            /* an intact stream gives back exactly what went in */
            size_t want = plen + (codec == 0 && (mode & 16) ? plen / 2 : 0);
            if (n != want || memcmp(out, payload, plen) != 0 ||
                (want > plen && memcmp(out + plen, payload, plen / 2) != 0))
                abort();
        }
        check_limits(codec_name[codec], body.data, body.len, out, n);
        free((void *)out);
    } else if (!damaged && plen < (1 << 20)) {
        abort(); /* an intact stream within the limit must decode */
    }
    pg_buf_free(&body);
    return 0;
}
