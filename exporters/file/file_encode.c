#include "exporters/file/file_encode.h"

#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"
#include "model/otlp_merge.h"
#include "processors/convert/convert_processor.h"

/* The payload's request: its decoded form when the receiver attached one,
 * otherwise decoded here (and validated) into tmp. */
static const pg_otlp_request *payload_request(pg_payload *p, pg_arena *tmp, pg_error *err)
{
    if (p->decoded)
        return p->decoded;
    pg_otlp_request *req = NULL;
    if (pg_otlp_decode(tmp, p->bytes, p->len, &req, err) != PG_OK)
        return NULL;
    return req;
}

static size_t profile_count(const pg_otlp_request *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_resource_profiles; i++)
        for (size_t j = 0; j < r->resource_profiles[i]->n_scope_profiles; j++)
            n += r->resource_profiles[i]->scope_profiles[j]->n_profiles;
    return n;
}

/* The payload's request when the OTLP profiles of b are all profiles of one
 * payload, in order; NULL otherwise. */
static const pg_otlp_request *whole_payload(const pg_batch *b, size_t n_otlp, pg_arena *tmp,
                                            pg_payload **payload)
{
    pg_payload *p = NULL;
    for (size_t i = 0; i < b->count; i++) {
        if (b->profiles[i].payload->format != PG_PAYLOAD_OTLP)
            continue;
        if (p && b->profiles[i].payload != p)
            return NULL;
        p = b->profiles[i].payload;
    }
    pg_error err;
    const pg_otlp_request *req = p ? payload_request(p, tmp, &err) : NULL;
    if (!req || profile_count(req) != n_otlp)
        return NULL;
    size_t k = 0;
    for (size_t r = 0; r < req->n_resource_profiles; r++)
        for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t q = 0; q < req->resource_profiles[r]->scope_profiles[s]->n_profiles; q++) {
                while (b->profiles[k].payload->format != PG_PAYLOAD_OTLP)
                    k++;
                const pg_profile *pr = &b->profiles[k++];
                if (pr->resource_index != r || pr->scope_index != s || pr->profile_index != q)
                    return NULL;
            }
    *payload = p;
    return req;
}

/* Adds every profile of pr's pprof payload, converted, to the builder.
 * PG_ERR_INVALID (and out->failed counted) when it does not convert. */
static int add_pprof(pg_otlp_builder *bld, const pg_profile *pr, pg_arena *tmp,
                     pg_file_encoded *out, pg_error *err)
{
    pg_pprof *doc = NULL;
    pg_otlp_request *req = NULL;
    pg_error cerr;
    pg_error_clear(&cerr);
    int rc = pg_pprof_decode(tmp, pr->payload->bytes, pr->payload->len, PG_CONVERT_MAX_PPROF_BYTES,
                             &doc, &cerr);
    if (rc == PG_OK)
        rc = pg_convert_pprof_profile(tmp, pr, doc, NULL, 0, &req, &cerr);
    if (rc == PG_ERR_NOMEM)
        return pg_error_set(err, rc, "out of memory");
    if (rc != PG_OK) {
        if (!out->failed)
            snprintf(out->why, sizeof(out->why), "%s", cerr.msg);
        out->failed++;
        return PG_OK;
    }
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++)
                if ((rc = pg_otlp_builder_add(bld, req, ri, si, pi, err)) != PG_OK)
                    return rc;
    return PG_OK;
}

static pg_otlp_request *merge(const pg_batch *b, pg_arena *tmp, pg_file_encoded *out, pg_error *err)
{
    pg_otlp_builder *bld = pg_otlp_builder_new(tmp);
    if (!bld) {
        pg_error_set(err, PG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    pg_payload *last = NULL;
    const pg_otlp_request *req = NULL;
    for (size_t i = 0; i < b->count; i++) {
        const pg_profile *pr = &b->profiles[i];
        if (pr->payload->format != PG_PAYLOAD_OTLP) {
            if (add_pprof(bld, pr, tmp, out, err) != PG_OK)
                return NULL;
            continue;
        }
        if (pr->payload != last) {
            last = pr->payload;
            if (!(req = payload_request(last, tmp, err)))
                return NULL;
        }
        if (pg_otlp_builder_add(bld, req, pr->resource_index, pr->scope_index, pr->profile_index,
                                err) != PG_OK)
            return NULL;
    }
    return pg_otlp_builder_finish(bld);
}

static int encode(const pg_otlp_request *req, pg_file_encoding enc, uint8_t **data, size_t *len,
                  pg_error *err)
{
    pg_buf buf;
    pg_buf_init(&buf);
    int rc =
        enc == PG_FILE_ENC_JSON ? pg_otlp_json_encode(req, &buf, err) : pg_otlp_encode(req, &buf);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        if (enc != PG_FILE_ENC_JSON)
            pg_error_set(err, rc, "cannot encode request");
        return rc;
    }
    *data = pg_buf_detach(&buf, len);
    if (!*data)
        *data = calloc(1, 1); /* an empty request is a valid, empty record */
    return *data ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}

int pg_file_encode_batch(const pg_batch *b, pg_file_encoding enc, pg_file_encoded *out,
                         pg_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t n_otlp = 0;
    for (size_t i = 0; i < b->count; i++)
        n_otlp += b->profiles[i].payload->format == PG_PAYLOAD_OTLP;
    if (!b->count)
        return PG_OK;
    pg_arena *tmp = pg_arena_new(0, 0);
    if (!tmp)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    int rc = PG_OK;
    pg_payload *whole = NULL;
    const pg_otlp_request *req = n_otlp == b->count ? whole_payload(b, n_otlp, tmp, &whole) : NULL;
    if (req && enc == PG_FILE_ENC_PROTO) {
        out->forwarded = 1;
        out->record = pg_file_record_forward(whole, (uint32_t)n_otlp);
    } else {
        out->forwarded = req != NULL;
        if (!req)
            req = merge(b, tmp, out, err);
        uint32_t written = (uint32_t)b->count - out->failed;
        uint8_t *data = NULL;
        size_t len = 0;
        rc = req ? encode(req, enc, &data, &len, err) : (err ? err->code : PG_ERR_INVALID);
        if (rc == PG_OK && !written)
            free(data); /* nothing converted: nothing to write */
        else if (rc == PG_OK && !(out->record = pg_file_record_new(data, len, written)))
            free(data);
    }
    pg_arena_free(tmp);
    if (rc == PG_OK && !out->record && out->failed < b->count)
        rc = pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    return rc;
}
