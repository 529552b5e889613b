/*
 * Arbitrary bytes as a gRPC request body: framing (streamed and unary),
 * grpc-timeout parsing, grpc-message encoding, and decompression of the
 * message under every supported grpc-encoding with a small output limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transport/decompress.h"
#include "transport/grpc_frame.h"

static void walk_frames(const uint8_t *data, size_t size)
{
    size_t off = 0;
    pg_grpc_msg m;
    pg_error err;
    for (;;) {
        size_t used = 0;
        int rc = pg_grpc_frame_next(data + off, size - off, 1 << 20, &m, &used, &err);
        if (rc != 1)
            break;
        if (used < PG_GRPC_PREFIX_LEN || used > size - off || m.len != used - PG_GRPC_PREFIX_LEN)
            abort();
        off += used;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk_frames(data, size);

    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    uint64_t ns;
    pg_grpc_timeout_parse(text, &ns);

    pg_arena *a = pg_arena_new(0, 4 << 20);
    if (!a) {
        free(text);
        return 0;
    }
    char *enc = pg_grpc_percent_encode(a, text);
    if (enc && strpbrk(enc, "\r\n"))
        abort();
    free(text);

    pg_grpc_msg m;
    pg_error err;
    if (pg_grpc_unframe_unary(data, size, 1 << 20, &m, &err) == 0) {
        static const char *const encodings[] = {"gzip", "deflate", "zstd", "identity"};
        for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
            const uint8_t *out;
            size_t out_len;
            if (pg_decompress(a, encodings[i], m.data, m.len, 1 << 20, &out, &out_len, &err) == 0 &&
                out_len > (1 << 20))
                abort();
        }
    }
    pg_arena_free(a);
    return 0;
}
