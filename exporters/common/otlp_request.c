#include "exporters/common/otlp_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"
#include "model/otlp_merge.h"
#include "processors/convert/convert_processor.h"

static int selected(const pg_profile *pr, const char *tenant)
{
    return !tenant || strcmp(pr->tenant ? pr->tenant : "", tenant) == 0;
}

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

/* 1 when the selected profiles, in batch order, walk every profile of req
 * in request order. */
static int covers_in_order(const pg_batch *b, const char *tenant, const pg_otlp_request *req)
{
    size_t k = 0;
    for (size_t r = 0; r < req->n_resource_profiles; r++)
        for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t q = 0; q < req->resource_profiles[r]->scope_profiles[s]->n_profiles; q++) {
                while (k < b->count && !selected(&b->profiles[k], tenant))
                    k++;
                if (k == b->count)
                    return 0;
                const pg_profile *pr = &b->profiles[k++];
                if (pr->resource_index != r || pr->scope_index != s || pr->profile_index != q)
                    return 0;
            }
    return 1;
}

/* The payload's request when the selected profiles are all OTLP and are all
 * profiles of one payload, in order; NULL otherwise. */
static const pg_otlp_request *whole_payload(const pg_batch *b, const char *tenant, size_t n_sel,
                                            pg_arena *tmp, pg_payload **payload)
{
    pg_payload *p = NULL;
    for (size_t i = 0; i < b->count; i++) {
        if (!selected(&b->profiles[i], tenant))
            continue;
        /* changed labels must reach the output: the received bytes no longer say them */
        if (b->profiles[i].payload->format != PG_PAYLOAD_OTLP || b->profiles[i].labels_changed)
            return NULL;
        if (p && b->profiles[i].payload != p)
            return NULL;
        p = b->profiles[i].payload;
    }
    pg_error err;
    const pg_otlp_request *req = p ? payload_request(p, tmp, &err) : NULL;
    if (!req || pg_otlp_profile_count(req) != n_sel || !covers_in_order(b, tenant, req))
        return NULL;
    *payload = p;
    return req;
}

/* Adds every profile of pr's pprof payload, converted, to the builder.
 * A document that does not convert is counted in out->failed, not an error. */
static int add_pprof(pg_otlp_builder *bld, const pg_profile *pr, pg_arena *tmp, pg_otlp_body *out,
                     pg_error *err)
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
    out->profiles++;
    return PG_OK;
}

/* Adds an OTLP profile; one whose labels a processor changed goes in with
 * attributes that say its labels now. */
static int add_otlp(pg_otlp_builder *bld, const pg_otlp_request *req, const pg_profile *pr,
                    pg_arena *tmp, pg_error *err)
{
    size_t ri = pr->resource_index, si = pr->scope_index, pi = pr->profile_index;
    if (!pr->labels_changed)
        return pg_otlp_builder_add(bld, req, ri, si, pi, err);
    pg_otlp_label *labels = pg_arena_alloc(tmp, (pr->n_labels + 1) * sizeof(*labels));
    if (!labels)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (uint32_t i = 0; i < pr->n_labels; i++)
        labels[i] = (pg_otlp_label){pr->labels[i].name, pr->labels[i].value};
    pg_otlp_request *one = NULL;
    int rc = pg_otlp_with_labels(tmp, req, ri, si, pi, labels, pr->n_labels, &one, err);
    return rc == PG_OK ? pg_otlp_builder_add(bld, one, 0, 0, 0, err) : rc;
}

/* A lone pprof profile is encoded straight from its bytes: no document or
 * request is built in memory (see pg_pprof_to_otlp_encoded). */
static int direct_pprof(const pg_profile *pr, pg_arena *tmp, pg_otlp_body *out, pg_error *err)
{
    pg_pprof_to_otlp_options opt;
    int rc = pg_convert_pprof_options(tmp, pr, NULL, 0, &opt, err);
    if (rc != PG_OK)
        return rc;
    pg_buf buf;
    pg_buf_init(&buf);
    pg_error cerr;
    pg_error_clear(&cerr);
    rc = pg_pprof_to_otlp_encoded(tmp, pr->payload->bytes, pr->payload->len,
                                  PG_CONVERT_MAX_PPROF_BYTES, &opt, &buf, &cerr);
    if (rc == PG_ERR_NOMEM) {
        pg_buf_free(&buf);
        return pg_error_set(err, rc, "out of memory");
    }
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        snprintf(out->why, sizeof(out->why), "%s", cerr.msg);
        out->failed++;
        return PG_OK;
    }
    uint8_t *data = pg_buf_detach(&buf, &out->len);
    out->data = data ? data : calloc(1, 1);
    out->profiles = 1;
    return out->data ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}

static const pg_profile *lone_pprof(const pg_batch *b, const char *tenant, size_t n_sel)
{
    if (n_sel != 1)
        return NULL;
    for (size_t i = 0; i < b->count; i++) {
        if (selected(&b->profiles[i], tenant))
            return b->profiles[i].payload->format == PG_PAYLOAD_PPROF ? &b->profiles[i] : NULL;
    }
    return NULL;
}

static pg_otlp_request *merge(const pg_batch *b, const char *tenant, pg_arena *tmp,
                              pg_otlp_body *out, pg_error *err)
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
        if (!selected(pr, tenant))
            continue;
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
        if (add_otlp(bld, req, pr, tmp, err) != PG_OK)
            return NULL;
        out->profiles++;
    }
    return pg_otlp_builder_finish(bld);
}

static int encode(const pg_otlp_request *req, pg_otlp_body_encoding enc, pg_otlp_body *out,
                  pg_error *err)
{
    pg_buf buf;
    pg_buf_init(&buf);
    int rc =
        enc == PG_OTLP_BODY_JSON ? pg_otlp_json_encode(req, &buf, err) : pg_otlp_encode(req, &buf);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        if (enc != PG_OTLP_BODY_JSON)
            pg_error_set(err, rc, "cannot encode request");
        return rc;
    }
    uint8_t *data = pg_buf_detach(&buf, &out->len);
    if (!data)
        data = calloc(1, 1); /* an empty request is a valid, empty body */
    out->data = data;
    return data ? PG_OK : pg_error_set(err, PG_ERR_NOMEM, "out of memory");
}

int pg_otlp_body_build(const pg_batch *b, const char *tenant, pg_otlp_body_encoding enc,
                       pg_otlp_body *out, pg_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t n_sel = 0;
    for (size_t i = 0; i < b->count; i++)
        n_sel += selected(&b->profiles[i], tenant);
    if (!n_sel)
        return PG_OK;
    pg_arena *tmp = pg_arena_new(0, 0);
    if (!tmp)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    int rc = PG_OK;
    const pg_profile *lone = enc == PG_OTLP_BODY_PROTO ? lone_pprof(b, tenant, n_sel) : NULL;
    if (lone) {
        rc = direct_pprof(lone, tmp, out, err);
        pg_arena_free(tmp);
        return rc;
    }
    pg_payload *whole = NULL;
    const pg_otlp_request *req = whole_payload(b, tenant, n_sel, tmp, &whole);
    out->whole = req != NULL;
    if (req && enc == PG_OTLP_BODY_PROTO) {
        out->payload = pg_payload_ref(whole);
        out->data = whole->bytes;
        out->len = whole->len;
        out->profiles = (uint32_t)n_sel;
    } else {
        if (req)
            out->profiles = (uint32_t)n_sel;
        else
            req = merge(b, tenant, tmp, out, err);
        rc = req ? encode(req, enc, out, err) : (err && err->code ? err->code : PG_ERR_INVALID);
        if (rc != PG_OK || !out->profiles) {
            /* nothing converted: no body; a failure leaves none either */
            free((void *)out->data);
            out->data = NULL;
            out->len = 0;
            if (rc != PG_OK)
                out->profiles = 0;
        }
    }
    pg_arena_free(tmp);
    return rc;
}

uint8_t *pg_otlp_body_take(pg_otlp_body *out, size_t *len)
{
    if (!out->data)
        return NULL;
    uint8_t *data = (uint8_t *)out->data;
    if (out->payload) {
        if (!(data = malloc(out->len ? out->len : 1)))
            return NULL;
        memcpy(data, out->data, out->len);
        pg_payload_unref(out->payload);
        out->payload = NULL;
    }
    *len = out->len;
    out->data = NULL;
    out->len = 0;
    return data;
}

void pg_otlp_body_release(pg_otlp_body *out)
{
    if (!out)
        return;
    if (out->payload)
        pg_payload_unref(out->payload);
    else
        free((void *)out->data);
    out->payload = NULL;
    out->data = NULL;
    out->len = 0;
}

int pg_otlp_batch_tenants(const pg_batch *b, pg_arena *a, const char ***tenants, size_t *n)
{
    *n = 0;
    *tenants = pg_arena_calloc(a, b->count ? b->count : 1, sizeof(**tenants));
    if (!*tenants)
        return PG_ERR_NOMEM;
    /* batches hold one or a few tenants: a linear scan beats a hash here */
    for (size_t i = 0; i < b->count; i++) {
        const char *t = b->profiles[i].tenant ? b->profiles[i].tenant : "";
        size_t j = 0;
        while (j < *n && strcmp((*tenants)[j], t) != 0)
            j++;
        if (j == *n)
            (*tenants)[(*n)++] = t;
    }
    return PG_OK;
}
