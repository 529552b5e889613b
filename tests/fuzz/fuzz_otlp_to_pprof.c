/*
 * libFuzzer target: OTLP -> pprof. Whatever decodes must convert (unless the
 * arena limit is hit), every document must pass the converter's own
 * structural checks and pg_pprof_validate, keep each source profile's value
 * total in its column, and encode.
 */
#include <stdint.h>
#include <stdlib.h>

#include "convert/convert.h"
#include "convert/otlp_to_pprof_internal.h"

static uint64_t otlp_total(const pg_otlp_profile *p)
{
    uint64_t t = 0;
    for (size_t i = 0; i < p->n_samples; i++) {
        const pg_otlp_sample *s = p->samples[i];
        if (!s->n_values)
            t += s->n_timestamps_unix_nano;
        for (size_t k = 0; k < s->n_values; k++)
            t += (uint64_t)s->values[k];
    }
    return t;
}

static void check_doc(const pg_otlp_request *req, const pg_pprof_doc *d)
{
    pg_error err;
    pg_buf out;
    const pg_pprof *p = d->profile;
    if (o2p_check_doc(p, &err) != 0 || pg_pprof_validate(p, &err) != PG_OK)
        abort();
    if (p->n_sample_type != d->n_sources || d->n_sources == 0)
        abort();
    for (size_t col = 0; col < p->n_sample_type; col++) {
        pg_otlp_ref r = d->sources[col];
        uint64_t t = 0;
        for (size_t i = 0; i < p->n_sample; i++)
            t += (uint64_t)p->sample[i]->value[col];
        const pg_otlp_profile *src = req->resource_profiles[r.resource_index]
                                         ->scope_profiles[r.scope_index]
                                         ->profiles[r.profile_index];
        if (t != otlp_total(src))
            abort();
    }
    pg_buf_init(&out);
    if (pg_pprof_encode(p, 0, &out, &err) != PG_OK)
        abort();
    pg_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pg_arena *a = pg_arena_new(0, 64u << 20);
    pg_otlp_request *req = NULL;
    pg_pprof_doc *docs = NULL;
    size_t n_docs = 0;
    pg_error err;
    if (pg_otlp_decode(a, data, size, &req, &err) == PG_OK) {
        int rc = pg_otlp_to_pprof(a, req, NULL, 0, &docs, &n_docs, &err);
        if (rc != PG_OK && rc != PG_ERR_LIMIT)
            abort();
        size_t sources = 0;
        for (size_t i = 0; rc == PG_OK && i < n_docs; i++) {
            check_doc(req, &docs[i]);
            sources += docs[i].n_sources;
        }
        if (rc == PG_OK && sources != pg_otlp_profile_count(req))
            abort();
    }
    pg_arena_free(a);
    return 0;
}
