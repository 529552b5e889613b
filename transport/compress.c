#include "transport/compress.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/error.h"

const char *pg_compression_name(pg_compression c)
{
    switch (c) {
    case PG_COMPRESSION_GZIP:
        return "gzip";
    case PG_COMPRESSION_ZSTD:
        return "zstd";
    default:
        return NULL;
    }
}

static int gzip_all(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    if (len > UINT32_MAX)
        return PG_ERR_LIMIT;
    z_stream z;
    memset(&z, 0, sizeof(z));
    /* window bits 15 + 16: a gzip header and trailer rather than zlib's */
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return PG_ERR_NOMEM;
    uLong cap = deflateBound(&z, (uLong)len);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) {
        deflateEnd(&z);
        return PG_ERR_NOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(buf);
        return PG_ERR_LIMIT;
    }
    *out = buf;
    return PG_OK;
}

static int zstd_all(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return PG_ERR_NOMEM;
    size_t n = ZSTD_compress(buf, cap, in, len, 3);
    if (ZSTD_isError(n)) {
        free(buf);
        return PG_ERR_NOMEM;
    }
    *out = buf;
    *out_len = n;
    return PG_OK;
}

int pg_compress(pg_compression c, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    if (c == PG_COMPRESSION_GZIP)
        return gzip_all(in, len, out, out_len);
    if (c == PG_COMPRESSION_ZSTD)
        return zstd_all(in, len, out, out_len);
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return PG_ERR_NOMEM;
    if (len)
        memcpy(copy, in, len);
    *out = copy;
    *out_len = len;
    return PG_OK;
}
