/*
 * pprof encoding. gzip uses zlib's fastest level, as Go's runtime/pprof does:
 * profiles are written often and read rarely.
 */
#include "convert/convert_internal.h"

#include <stdlib.h>
#include <zlib.h>

static int gzip_into(const uint8_t *raw, size_t n, pg_buf *out, pg_error *err)
{
    z_stream z = {0};
    /* 15 window bits + 16 = gzip wrapper */
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return pg_error_set(err, PG_ERR_NOMEM, "pprof: cannot start gzip compression");
    int rc = PG_OK;
    z.next_in = (Bytef *)raw;
    size_t left = n;
    int flush = Z_NO_FLUSH;
    while (rc == PG_OK) {
        uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        if (z.avail_in == 0) {
            z.avail_in = chunk;
            left -= chunk;
            flush = left ? Z_NO_FLUSH : Z_FINISH;
        }
        size_t room = deflateBound(&z, z.avail_in) + 64;
        if (pg_buf_reserve(out, room) != 0) {
            rc = pg_error_set(err, PG_ERR_NOMEM, "pprof: out of memory compressing");
            break;
        }
        z.next_out = out->data + out->len;
        z.avail_out = (uInt)(out->cap - out->len > (1u << 30) ? (1u << 30) : out->cap - out->len);
        uInt before = z.avail_out;
        int zr = deflate(&z, flush);
        out->len += before - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            rc = pg_error_set(err, PG_ERR_IO, "pprof: gzip compression failed (%d)", zr);
    }
    deflateEnd(&z);
    return rc;
}

int pg_pprof_encode(const pg_pprof *p, int gzip, pg_buf *out, pg_error *err)
{
    const ProtobufCMessage *m = &p->base;
    size_t n = protobuf_c_message_get_packed_size(m);
    if (!gzip) {
        if (pg_buf_reserve(out, n) != 0)
            return pg_error_set(err, PG_ERR_NOMEM, "pprof: out of memory encoding");
        out->len += protobuf_c_message_pack(m, out->data + out->len);
        return PG_OK;
    }
    uint8_t *raw = malloc(n ? n : 1);
    if (!raw)
        return pg_error_set(err, PG_ERR_NOMEM, "pprof: out of memory encoding");
    protobuf_c_message_pack(m, raw);
    int rc = gzip_into(raw, n, out, err);
    free(raw);
    return rc;
}
