/*
 * libFuzzer target: pprof decoding (gzip sniffing, unpacking, the encoded
 * string check, validation). Whatever decodes must validate again and
 * re-encode, raw and gzipped, into something that decodes.
 */
#include <stdint.h>
#include <stdlib.h>

#include "convert/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 64u << 20);
    pg_pprof *p = NULL, *q = NULL;
    pg_error err;
    (void)pg_is_gzip(data, size);
    if (pg_pprof_decode(a, data, size, 16u << 20, &p, &err) == PG_OK) {
        if (pg_pprof_validate(p, &err) != PG_OK)
            abort(); /* decoding promised a valid document */
        pg_buf out;
        pg_buf_init(&out);
        for (int gzip = 0; gzip < 2; gzip++) {
            out.len = 0;
            if (pg_pprof_encode(p, gzip, &out, &err) != PG_OK)
                abort();
            if (pg_pprof_decode(a, out.data, out.len, 0, &q, &err) != PG_OK &&
                err.code != PG_ERR_LIMIT)
                abort(); /* our own encoding of a valid document must decode */
        }
        pg_buf_free(&out);
    }
    pg_arena_free(a);
    return 0;
}
