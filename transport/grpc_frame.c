#include "transport/grpc_frame.h"

#include <string.h>

#include "transport/decompress.h"
#include "transport/http_server.h"

int pg_grpc_frame_next(const uint8_t *buf, size_t len, uint64_t max_len, pg_grpc_msg *msg,
                       size_t *consumed, pg_error *err)
{
    if (len < 1)
        return 0;
    if (buf[0] > 1)
        return pg_error_set(err, PG_ERR_INVALID, "invalid gRPC compressed flag %u", buf[0]);
    if (len < PG_GRPC_PREFIX_LEN)
        return 0;
    uint64_t n = (uint64_t)buf[1] << 24 | (uint64_t)buf[2] << 16 | (uint64_t)buf[3] << 8 | buf[4];
    if (n > max_len)
        return pg_error_set(err, PG_ERR_LIMIT,
                            "gRPC message of %llu bytes exceeds the limit of %llu",
                            (unsigned long long)n, (unsigned long long)max_len);
    if (len - PG_GRPC_PREFIX_LEN < n)
        return 0;
    msg->compressed = buf[0];
    msg->data = buf + PG_GRPC_PREFIX_LEN;
    msg->len = (size_t)n;
    *consumed = PG_GRPC_PREFIX_LEN + (size_t)n;
    return 1;
}

int pg_grpc_unframe_unary(const uint8_t *body, size_t len, uint64_t max_len, pg_grpc_msg *msg,
                          pg_error *err)
{
    size_t used = 0;
    if (len == 0) {
        pg_error_set(err, PG_ERR_INVALID, "unary call carried no request message");
        return PG_GRPC_INVALID_ARGUMENT;
    }
    int rc = pg_grpc_frame_next(body, len, max_len, msg, &used, err);
    if (rc == PG_ERR_LIMIT)
        return PG_GRPC_RESOURCE_EXHAUSTED;
    if (rc < 0)
        return PG_GRPC_INTERNAL;
    if (rc == 0) {
        pg_error_set(err, PG_ERR_INVALID, "truncated gRPC message (%zu bytes received)", len);
        return PG_GRPC_INTERNAL;
    }
    if (used != len) {
        pg_error_set(err, PG_ERR_UNSUPPORTED,
                     "unary method received more than one request message (client streaming "
                     "is not supported)");
        return PG_GRPC_UNIMPLEMENTED;
    }
    return PG_GRPC_OK;
}

int pg_grpc_frame_append(pg_buf *out, const uint8_t *msg, size_t len)
{
    if ((uint64_t)len > UINT32_MAX)
        return PG_ERR_LIMIT;
    uint8_t prefix[PG_GRPC_PREFIX_LEN] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                          (uint8_t)(len >> 8), (uint8_t)len};
    if (pg_buf_reserve(out, sizeof(prefix) + len) != PG_OK)
        return PG_ERR_NOMEM;
    pg_buf_append(out, prefix, sizeof(prefix));
    return pg_buf_append(out, msg, len);
}

int pg_grpc_timeout_parse(const char *value, uint64_t *ns)
{
    if (!value)
        return PG_ERR_INVALID;
    uint64_t n = 0;
    size_t digits = 0;
    while (value[digits] >= '0' && value[digits] <= '9') {
        if (digits == 8)
            return PG_ERR_INVALID;
        n = n * 10 + (uint64_t)(value[digits] - '0');
        digits++;
    }
    if (digits == 0 || value[digits] == '\0' || value[digits + 1] != '\0')
        return PG_ERR_INVALID;
    uint64_t unit;
    switch (value[digits]) {
    case 'H':
        unit = 3600ull * 1000000000ull;
        break;
    case 'M':
        unit = 60ull * 1000000000ull;
        break;
    case 'S':
        unit = 1000000000ull;
        break;
    case 'm':
        unit = 1000000ull;
        break;
    case 'u':
        unit = 1000ull;
        break;
    case 'n':
        unit = 1;
        break;
    default:
        return PG_ERR_INVALID;
    }
    /* 99999999H is about 3.6e17 ns: no overflow */
    *ns = n * unit;
    return PG_OK;
}

char *pg_grpc_percent_encode(pg_arena *a, const char *msg)
{
    static const char hex[] = "0123456789ABCDEF";
    if (!msg)
        msg = "";
    size_t n = strlen(msg), extra = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c < 0x20 || c > 0x7e || c == '%')
            extra += 2;
    }
    char *out = pg_arena_alloc(a, n + extra + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)msg[i];
        if (c < 0x20 || c > 0x7e || c == '%') {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char)c;
        }
    }
    *p = '\0';
    return out;
}

int pg_grpc_unary_message(pg_arena *a, const char *encoding, const uint8_t *body, size_t len,
                          uint64_t max_len, uint64_t max_decompressed, const uint8_t **msg,
                          size_t *msg_len, pg_error *err)
{
    if (!pg_decompress_supported(encoding)) {
        pg_error_set(err, PG_ERR_UNSUPPORTED,
                     "grpc-encoding '%.64s' is not supported (supported: %s)", encoding,
                     PG_DECOMPRESS_ACCEPTED);
        return PG_GRPC_UNIMPLEMENTED;
    }
    pg_grpc_msg m;
    int code = pg_grpc_unframe_unary(body, len, max_len, &m, err);
    if (code != PG_GRPC_OK)
        return code;
    if (m.compressed && pg_decompress_is_identity(encoding)) {
        pg_error_set(err, PG_ERR_INVALID, "compressed flag set but no grpc-encoding was given");
        return PG_GRPC_INTERNAL;
    }
    int rc = pg_decompress(a, m.compressed ? encoding : NULL, m.data, m.len, max_decompressed, msg,
                           msg_len, err);
    if (rc == PG_ERR_LIMIT)
        return PG_GRPC_RESOURCE_EXHAUSTED;
    return rc == PG_OK ? PG_GRPC_OK : PG_GRPC_INTERNAL;
}
