/* pprof -> OTLP half of the convert processor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/convert/convert_internal.h"

/* A payload's decoded document, or why it has none; decoded once per call
 * however many profiles share the payload. */
typedef struct decoded_doc {
    const pg_payload *payload;
    const pg_pprof *doc; /* NULL when decoding failed */
    const char *why;     /* the decoding error */
} decoded_doc;

typedef struct doc_cache {
    decoded_doc *items;
    size_t n, cap;
} doc_cache;

static decoded_doc *cache_get(pg_convert_call *c, doc_cache *dc, const pg_payload *p)
{
    for (size_t i = dc->n; i-- > 0;)
        if (dc->items[i].payload == p)
            return &dc->items[i];
    if (dc->n == dc->cap) {
        size_t cap = dc->cap ? dc->cap * 2 : 8;
        decoded_doc *ni = pg_arena_alloc(c->tmp, cap * sizeof(*ni));
        if (!ni)
            return NULL;
        if (dc->n)
            memcpy(ni, dc->items, dc->n * sizeof(*ni));
        dc->items = ni;
        dc->cap = cap;
    }
    decoded_doc *d = &dc->items[dc->n++];
    d->payload = p;
    d->doc = NULL;
    d->why = NULL;
    pg_pprof *doc = NULL;
    pg_error err;
    pg_error_clear(&err);
    if (pg_pprof_decode(c->tmp, p->bytes, p->len, PG_CONVERT_MAX_PPROF_BYTES, &doc, &err) == PG_OK)
        d->doc = doc;
    else if (err.code == PG_ERR_NOMEM || !(d->why = pg_arena_strdup(c->tmp, err.msg)))
        c->nomem = 1;
    return d;
}

/* One new OTLP payload (decoded form attached) holding req. */
static pg_payload *otlp_payload(const pg_otlp_request *req, pg_arena *arena)
{
    pg_buf buf;
    pg_buf_init(&buf);
    if (pg_otlp_encode(req, &buf) != PG_OK) {
        pg_buf_free(&buf);
        return NULL;
    }
    size_t len = 0;
    uint8_t *bytes = pg_buf_detach(&buf, &len);
    if (!bytes)
        bytes = calloc(1, 1); /* an empty request encodes to nothing */
    pg_payload *p = bytes ? pg_payload_new(PG_PAYLOAD_OTLP, bytes, len) : NULL;
    if (!p) {
        free(bytes);
        return NULL;
    }
    pg_payload_set_decoded(p, (void *)req, arena);
    return p;
}

/* One pipeline profile per OTLP profile of p's request. */
static int add_profiles(pg_convert_call *c, pg_payload *p, const pg_profile *src)
{
    const pg_otlp_request *req = p->decoded;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++) {
                pg_profile *prof = pg_convert_add_derived(c, p, src);
                pg_otlp_profile_view v;
                if (!prof || pg_otlp_view(c->out->arena, req, ri, si, pi, &v) != PG_OK ||
                    pg_profile_set_type(c->out, prof, v.profile_type) != PG_OK)
                    return PG_ERR_NOMEM;
                prof->resource_index = (uint32_t)ri;
                prof->scope_index = (uint32_t)si;
                prof->profile_index = (uint32_t)pi;
                prof->time_unix_nano = v.time_unix_nano;
                prof->duration_nano = v.duration_nano;
                prof->sample_count = v.sample_count;
                prof->value_total = v.value_total;
            }
    return PG_OK;
}

static int convert_one(pg_convert_call *c, doc_cache *dc, const pg_profile *src, int keep_original)
{
    decoded_doc *d = cache_get(c, dc, src->payload);
    if (!d)
        return PG_ERR_NOMEM;
    if (!d->doc) {
        if (!c->nomem)
            pg_convert_drop(c, 1, d->why);
        return c->nomem ? PG_ERR_NOMEM : PG_OK;
    }
    /* the request lives as long as its payload, in the payload's arena */
    pg_arena *arena = pg_arena_new(0, 0);
    if (!arena)
        return PG_ERR_NOMEM;
    pg_otlp_request *req = NULL;
    pg_error err;
    pg_error_clear(&err);
    int rc =
        pg_convert_pprof_profile(arena, src, d->doc, keep_original ? src->payload->bytes : NULL,
                                 src->payload->len, &req, &err);
    if (rc != PG_OK) {
        pg_arena_free(arena);
        if (rc == PG_ERR_NOMEM)
            return rc;
        pg_convert_drop(c, 1, err.msg);
        return PG_OK;
    }
    pg_payload *p = otlp_payload(req, arena);
    if (!p) {
        pg_arena_free(arena);
        return PG_ERR_NOMEM;
    }
    rc = add_profiles(c, p, src);
    pg_payload_unref(p); /* the new batch holds its own references */
    return rc;
}

int pg_convert_batch_to_otlp(pg_convert_call *c, int keep_original)
{
    doc_cache dc = {0};
    for (size_t i = 0; i < c->in->count && !c->nomem; i++) {
        const pg_profile *src = &c->in->profiles[i];
        if (src->payload->format != PG_PAYLOAD_PPROF) {
            if (!pg_batch_append_copy(c->out, src))
                return PG_ERR_NOMEM;
            continue;
        }
        if (convert_one(c, &dc, src, keep_original) != PG_OK)
            return PG_ERR_NOMEM;
    }
    return c->nomem ? PG_ERR_NOMEM : PG_OK;
}
