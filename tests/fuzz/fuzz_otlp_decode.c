/*
 * libFuzzer target: protobuf OTLP decoding (layout sniffing, depth guard,
 * unpack, validation). Whatever decodes must also validate, re-encode,
 * round-trip through JSON, and answer views and labels without tripping the
 * sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"

static int ignore_label(void *ctx, const char *name, const char *value)
{
    (void)ctx;
    return name[0] == '\0' || value == NULL; /* touches both strings */
}

static void exercise(pg_arena *a, const pg_otlp_request *req)
{
    pg_error err;
    pg_buf out;
    if (pg_otlp_validate(req, &err) != PG_OK)
        abort(); /* decoding promised a valid request */
    pg_otlp_lint(req, &err);
    pg_buf_init(&out);
    if (pg_otlp_encode(req, &out) == PG_OK && pg_otlp_json_encode(req, &out, &err) != PG_OK)
        abort(); /* every decoded string is valid UTF-8, so JSON must work */
    pg_buf_free(&out);
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++) {
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++) {
            size_t np = req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
            for (size_t pi = 0; pi < np; pi++) {
                pg_otlp_profile_view v;
                pg_otlp_view(a, req, ri, si, pi, &v);
                pg_otlp_labels(a, req, ri, si, pi, ignore_label, NULL);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 64u << 20);
    pg_otlp_request *req = NULL;
    pg_error err;
    (void)pg_otlp_sniff_version(data, size);
    if (pg_otlp_decode(a, data, size, &req, &err) == PG_OK)
        exercise(a, req);
    pg_arena_free(a);
    return 0;
}
