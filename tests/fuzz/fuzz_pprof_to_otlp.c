/*
 * libFuzzer target: pprof bytes -> pg_pprof_decode -> pg_pprof_to_otlp. A
 * document that decodes must convert (or fail cleanly on a documented
 * limitation), and the request must pass pg_otlp_validate and re-decode.
 */
#include <stdint.h>
#include <stdlib.h>

#include "convert/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 64u << 20);
    pg_pprof *p = NULL;
    pg_otlp_request *req = NULL, *back = NULL;
    pg_error err;
    if (pg_pprof_decode(a, data, size, 16u << 20, &p, &err) == PG_OK) {
        static const pg_convert_attr extra[] = {{"k", "v"}};
        pg_pprof_to_otlp_options opt = {"svc", extra, 1, data, size};
        int rc = pg_pprof_to_otlp(a, p, &opt, &req, &err);
        if (rc == PG_OK) {
            if (pg_otlp_validate(req, &err) != PG_OK)
                abort();
            pg_buf out;
            pg_buf_init(&out);
            if (pg_otlp_encode(req, &out) == PG_OK &&
                pg_otlp_decode(a, out.data, out.len, &back, &err) != PG_OK &&
                err.code != PG_ERR_LIMIT)
                abort();
            pg_buf_free(&out);
        } else if (rc != PG_ERR_UNSUPPORTED && rc != PG_ERR_LIMIT && rc != PG_ERR_NOMEM) {
            abort(); /* a validated document must not be called invalid */
        }
    }
    pg_arena_free(a);
    return 0;
}
