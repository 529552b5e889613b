/*
 * libFuzzer target: pprof bytes -> pg_pprof_decode -> pg_pprof_to_otlp. A
 * document that decodes must convert (or fail cleanly on a documented
 * limitation), and the request must pass pg_otlp_validate and re-decode.
 * Differential: the direct encoder (pg_pprof_to_otlp_encoded) must accept
 * exactly what this path accepts and write the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"

/* The reference path's result: PG_OK with *out filled, or its error. */
static int reference(pg_arena *a, const uint8_t *data, size_t size,
                     const pg_pprof_to_otlp_options *opt, pg_buf *out)
{
    pg_pprof *p = NULL;
    pg_otlp_request *req = NULL, *back = NULL;
    pg_error err;
    int rc = pg_pprof_decode(a, data, size, 16u << 20, &p, &err);
    if (rc != PG_OK)
        return rc;
    rc = pg_pprof_to_otlp(a, p, opt, &req, &err);
    if (rc != PG_OK) {
        if (rc != PG_ERR_UNSUPPORTED && rc != PG_ERR_LIMIT && rc != PG_ERR_NOMEM)
            abort(); /* a validated document must not be called invalid */
        return rc;
    }
    if (pg_otlp_validate(req, &err) != PG_OK)
        abort();
    rc = pg_otlp_encode(req, out);
    if (rc == PG_OK && pg_otlp_decode(a, out->data, out->len, &back, &err) != PG_OK &&
        err.code != PG_ERR_LIMIT)
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 64u << 20);
    static const pg_convert_attr extra[] = {{"k", "v"}};
    pg_pprof_to_otlp_options opt = {"svc", extra, 1, data, size, NULL, 0};
    pg_buf ref, fast;
    pg_buf_init(&ref);
    pg_buf_init(&fast);
    pg_error err;
    int rrc = reference(a, data, size, &opt, &ref);
    int frc = pg_pprof_to_otlp_encoded(a, data, size, 16u << 20, &opt, &fast, &err);
    /* memory limits may be met at different points by the two paths */
    int limited =
        rrc == PG_ERR_LIMIT || rrc == PG_ERR_NOMEM || frc == PG_ERR_LIMIT || frc == PG_ERR_NOMEM;
    if (!limited && (rrc == PG_OK) != (frc == PG_OK))
        abort();
    if (rrc == PG_OK && frc == PG_OK &&
        (ref.len != fast.len || memcmp(ref.data, fast.data, ref.len) != 0))
        abort();
    pg_buf_free(&ref);
    pg_buf_free(&fast);
    pg_arena_free(a);
    return 0;
}
