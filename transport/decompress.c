#include "transport/decompress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>
#include <zstd.h>

typedef enum {
    ENC_UNKNOWN,
    ENC_IDENTITY,
    ENC_GZIP,
    ENC_DEFLATE,
    ENC_ZSTD,
} enc_kind;

/* Where decoded bytes go. When the expected size is known the first buffer
 * comes straight from the arena and usually is the final one; otherwise bytes
 * grow in a heap buffer that is copied into the arena once, at the end, so
 * the arena never holds abandoned intermediate buffers. The capacity never
 * exceeds limit + 1: reaching limit + 1 bytes proves the limit is exceeded. */
typedef struct outbuf {
    pg_arena *arena;
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max_cap; /* limit + 1 */
    int on_heap;
} outbuf;

#define OB_FIRST_GUESS (64 * 1024)

static enc_kind enc_parse(const char *e)
{
    if (!e)
        return ENC_IDENTITY;
    while (*e == ' ' || *e == '\t')
        e++;
    size_t n = strlen(e);
    while (n && (e[n - 1] == ' ' || e[n - 1] == '\t'))
        n--;
    if (n == 0 || (n == 8 && strncasecmp(e, "identity", 8) == 0))
        return ENC_IDENTITY;
    if ((n == 4 && strncasecmp(e, "gzip", 4) == 0) || (n == 6 && strncasecmp(e, "x-gzip", 6) == 0))
        return ENC_GZIP;
    if (n == 7 && strncasecmp(e, "deflate", 7) == 0)
        return ENC_DEFLATE;
    if (n == 4 && strncasecmp(e, "zstd", 4) == 0)
        return ENC_ZSTD;
    return ENC_UNKNOWN;
}

int pg_decompress_supported(const char *encoding)
{
    return enc_parse(encoding) != ENC_UNKNOWN;
}

int pg_decompress_is_identity(const char *encoding)
{
    return enc_parse(encoding) == ENC_IDENTITY;
}

/* zlib decodes with its fast loop only while at least this much output room
 * is left; the last 258 bytes of an exactly sized buffer go through its
 * general, slower path, which costs tiny bodies (Go serves 500-byte profiles)
 * 3-5% of their inflate time. */
#define INFLATE_FAST_ROOM 258

/* exact_hint: expected output size, or SIZE_MAX when unknown; slack: room to
 * add after it. */
static int ob_init(outbuf *ob, pg_arena *a, size_t max_cap, size_t exact_hint, size_t slack,
                   size_t in_len)
{
    memset(ob, 0, sizeof(*ob));
    ob->arena = a;
    ob->max_cap = max_cap;
    if (exact_hint != SIZE_MAX && exact_hint < max_cap) {
        /* one spare byte tells a truthful hint from a lying one */
        ob->cap = exact_hint + 1;
        ob->cap = max_cap - ob->cap > slack ? ob->cap + slack : max_cap;
        ob->data = pg_arena_alloc(a, ob->cap);
        return ob->data ? PG_OK : PG_ERR_NOMEM;
    }
    size_t guess = in_len > SIZE_MAX / 4 ? SIZE_MAX : in_len * 4;
    if (guess < OB_FIRST_GUESS)
        guess = OB_FIRST_GUESS;
    if (guess > max_cap)
        guess = max_cap;
    ob->cap = guess;
    ob->on_heap = 1;
    ob->data = malloc(ob->cap);
    return ob->data ? PG_OK : PG_ERR_NOMEM;
}

static void ob_release(outbuf *ob)
{
    if (ob->on_heap)
        free(ob->data);
    ob->data = NULL;
}

/* Makes room for more output; PG_ERR_LIMIT once the cap is at limit + 1. */
static int ob_grow(outbuf *ob)
{
    if (ob->len < ob->cap)
        return PG_OK;
    if (ob->cap >= ob->max_cap)
        return PG_ERR_LIMIT;
    size_t ncap = ob->cap > ob->max_cap / 2 ? ob->max_cap : ob->cap * 2;
    uint8_t *d;
    if (ob->on_heap) {
        d = realloc(ob->data, ncap);
        if (!d)
            return PG_ERR_NOMEM;
    } else {
        d = malloc(ncap);
        if (!d)
            return PG_ERR_NOMEM;
        memcpy(d, ob->data, ob->len);
        ob->on_heap = 1;
    }
    ob->data = d;
    ob->cap = ncap;
    return PG_OK;
}

static int ob_finish(outbuf *ob, const uint8_t **out, size_t *out_len)
{
    if (ob->on_heap) {
        uint8_t *copy = pg_arena_memdup(ob->arena, ob->data, ob->len);
        int limit_hit = pg_arena_limit_hit(ob->arena);
        ob_release(ob);
        if (!copy)
            return limit_hit ? PG_ERR_LIMIT : PG_ERR_NOMEM;
        *out = copy;
    } else {
        *out = ob->data;
    }
    *out_len = ob->len;
    return PG_OK;
}

/* Largest pre-allocation made on the strength of a size the input claims. */
#define SIZE_HINT_CAP ((size_t)16 << 20)

static size_t gzip_size_hint(const uint8_t *in, size_t len)
{
    if (len < 18 || in[0] != 0x1f || in[1] != 0x8b)
        return SIZE_MAX;
    /* ISIZE of the last member: exact for the common single-member body. It is
     * only a hint: a truncated or hostile body may claim anything, and deflate
     * cannot expand more than about 1032:1, so a larger claim is ignored and a
     * plausible one is capped; the buffer grows as real output arrives. */
    const uint8_t *t = in + len - 4;
    size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    if (len <= SIZE_MAX / 1032 && isize > len * 1032)
        return SIZE_MAX;
    return isize > SIZE_HINT_CAP ? SIZE_HINT_CAP : isize;
}

static int deflate_is_zlib(const uint8_t *in, size_t len)
{
    return len >= 2 && (in[0] & 0x0f) == 8 && ((unsigned)in[0] << 8 | in[1]) % 31 == 0;
}

static int zlib_error(pg_error *err, const char *what, const z_stream *zs, int rc)
{
    return pg_error_set(err, PG_ERR_INVALID, "corrupt %s data: %s", what,
                        zs->msg ? zs->msg : (rc == Z_BUF_ERROR ? "truncated input" : "error"));
}

/* Skips padding after the last gzip member (some writers append zeros). */
static int only_zeros(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i])
            return 0;
    }
    return 1;
}

static int inflate_all(outbuf *ob, int window_bits, int gzip, const uint8_t *in, size_t len,
                       pg_error *err)
{
    const char *what = gzip ? "gzip" : "deflate";
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, window_bits) != Z_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "inflateInit2 failed");
    size_t in_left = len;
    int rc = PG_OK;
    for (;;) {
        if ((rc = ob_grow(ob)) != PG_OK)
            break;
        if (zs.avail_in == 0 && in_left) {
            zs.next_in = (Bytef *)(in + (len - in_left));
            zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in_left -= zs.avail_in;
        }
        size_t room = ob->cap - ob->len;
        zs.next_out = ob->data + ob->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        ob->len += before - zs.avail_out;
        if (zr == Z_STREAM_END) {
            size_t rest = zs.avail_in + in_left;
            if (!gzip || rest == 0 || only_zeros(in + len - rest, rest))
                break;
            inflateReset(&zs); /* next gzip member */
            continue;
        }
        if (zr == Z_OK || (zr == Z_BUF_ERROR && zs.avail_out == 0))
            continue;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0)
            rc = pg_error_set(err, PG_ERR_INVALID, "corrupt %s data: truncated input", what);
        else
            rc = zlib_error(err, what, &zs, zr);
        break;
    }
    inflateEnd(&zs);
    if (rc == PG_OK && ob->len >= ob->max_cap)
        rc = PG_ERR_LIMIT;
    return rc;
}

static size_t zstd_size_hint(const uint8_t *in, size_t len)
{
    unsigned long long n = ZSTD_getFrameContentSize(in, len);
    if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR || n >= SIZE_MAX)
        return SIZE_MAX;
    if (ZSTD_findFrameCompressedSize(in, len) != len)
        return SIZE_MAX; /* several frames: the first one's size says little */
    /* the frame header is the sender's claim: never pre-allocate more than the cap */
    return n > SIZE_HINT_CAP ? SIZE_HINT_CAP : (size_t)n;
}

static int zstd_all(outbuf *ob, const uint8_t *in, size_t len, pg_error *err)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return pg_error_set(err, PG_ERR_NOMEM, "ZSTD_createDCtx failed");
    ZSTD_inBuffer ib = {in, len, 0};
    size_t last = 1; /* nonzero: a frame is unfinished */
    int rc = PG_OK;
    while (ib.pos < ib.size || last != 0) {
        if ((rc = ob_grow(ob)) != PG_OK)
            break;
        ZSTD_outBuffer obuf = {ob->data, ob->cap, ob->len};
        size_t in_before = ib.pos;
        last = ZSTD_decompressStream(dctx, &obuf, &ib);
        if (ZSTD_isError(last)) {
            rc =
                pg_error_set(err, PG_ERR_INVALID, "corrupt zstd data: %s", ZSTD_getErrorName(last));
            break;
        }
        int progressed = obuf.pos != ob->len || ib.pos != in_before;
        ob->len = obuf.pos;
        if (ib.pos == ib.size && last != 0 && ob->len < ob->cap && !progressed) {
            rc = pg_error_set(err, PG_ERR_INVALID, "corrupt zstd data: truncated input");
            break;
        }
        if (ib.pos == ib.size && last == 0)
            break;
    }
    ZSTD_freeDCtx(dctx);
    if (rc == PG_OK && ob->len >= ob->max_cap)
        rc = PG_ERR_LIMIT;
    return rc;
}

int pg_decompress(pg_arena *arena, const char *encoding, const uint8_t *in, size_t len,
                  uint64_t limit, const uint8_t **out, size_t *out_len, pg_error *err)
{
    enc_kind kind = enc_parse(encoding);
    if (limit == 0 || limit >= SIZE_MAX - 1)
        limit = SIZE_MAX - 1;
    if (kind == ENC_UNKNOWN)
        return pg_error_set(err, PG_ERR_UNSUPPORTED, "unsupported encoding '%.64s' (supported: %s)",
                            encoding, PG_DECOMPRESS_ACCEPTED);
    if (kind == ENC_IDENTITY) {
        if (len > limit)
            return pg_error_set(err, PG_ERR_LIMIT, "body of %zu bytes exceeds the limit of %llu",
                                len, (unsigned long long)limit);
        *out = in;
        *out_len = len;
        return PG_OK;
    }
    if (len == 0) {
        /* some clients label an empty body with their usual encoding */
        *out = in;
        *out_len = 0;
        return PG_OK;
    }
    size_t hint = SIZE_MAX;
    if (kind == ENC_GZIP)
        hint = gzip_size_hint(in, len);
    else if (kind == ENC_ZSTD)
        hint = zstd_size_hint(in, len);
    outbuf ob;
    size_t slack = kind == ENC_ZSTD ? 0 : INFLATE_FAST_ROOM;
    if (ob_init(&ob, arena, (size_t)limit + 1, hint, slack, len) != PG_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory for the decompressed body");
    int rc;
    if (kind == ENC_ZSTD)
        rc = zstd_all(&ob, in, len, err);
    else if (kind == ENC_GZIP)
        rc = inflate_all(&ob, 15 + 16, 1, in, len, err);
    else
        rc = inflate_all(&ob, deflate_is_zlib(in, len) ? 15 : -15, 0, in, len, err);
    if (rc == PG_OK)
        rc = ob_finish(&ob, out, out_len);
    else
        ob_release(&ob);
    if (rc == PG_ERR_LIMIT)
        return pg_error_set(err, PG_ERR_LIMIT, "decompressed body exceeds the limit of %llu bytes",
                            (unsigned long long)limit);
    if (rc == PG_ERR_NOMEM)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory while decompressing");
    return rc;
}
