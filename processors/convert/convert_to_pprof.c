/* OTLP -> pprof half of the convert processor. */
#include <stdlib.h>
#include <string.h>

#include "processors/convert/convert_internal.h"

/* The profiles of one payload and tenant, converted together so that the
 * profiles that came from one pprof document are re-assembled. */
typedef struct group {
    const pg_payload *payload;
    const char *tenant;
    size_t *members; /* indices into the input batch */
    pg_otlp_ref *refs;
    size_t n;
} group;

static int same_group(const pg_profile *a, const pg_profile *b)
{
    return a->payload == b->payload && strcmp(a->tenant, b->tenant) == 0;
}

/* Collects the unconverted OTLP profiles like in->profiles[first]. */
static int collect(pg_convert_call *c, size_t first, unsigned char *done, group *g)
{
    const pg_profile *lead = &c->in->profiles[first];
    size_t max = c->in->count - first;
    g->payload = lead->payload;
    g->tenant = lead->tenant;
    g->members = pg_arena_alloc(c->tmp, max * sizeof(*g->members));
    g->refs = pg_arena_alloc(c->tmp, max * sizeof(*g->refs));
    if (!g->members || !g->refs)
        return PG_ERR_NOMEM;
    g->n = 0;
    for (size_t i = first; i < c->in->count; i++) {
        const pg_profile *p = &c->in->profiles[i];
        if (done[i] || !same_group(p, lead))
            continue;
        done[i] = 1;
        g->members[g->n] = i;
        g->refs[g->n++] = (pg_otlp_ref){p->resource_index, p->scope_index, p->profile_index};
    }
    return PG_OK;
}

/* The input profile a document's first source came from. */
static const pg_profile *source_of(pg_convert_call *c, const group *g, const pg_pprof_doc *doc)
{
    if (doc->n_sources)
        for (size_t k = 0; k < g->n; k++) {
            const pg_otlp_ref *r = &g->refs[k];
            if (r->resource_index == doc->sources[0].resource_index &&
                r->scope_index == doc->sources[0].scope_index &&
                r->profile_index == doc->sources[0].profile_index)
                return &c->in->profiles[g->members[k]];
        }
    return &c->in->profiles[g->members[0]];
}

static int add_document(pg_convert_call *c, const group *g, const pg_pprof_doc *doc)
{
    pg_buf buf;
    pg_buf_init(&buf);
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_pprof_encode(doc->profile, 1, &buf, &err);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        if (rc == PG_ERR_NOMEM)
            return rc;
        pg_convert_drop(c, (uint32_t)doc->n_sources, err.msg);
        return PG_OK;
    }
    size_t len = 0;
    uint8_t *bytes = pg_buf_detach(&buf, &len);
    pg_payload *p = bytes ? pg_payload_new(PG_PAYLOAD_PPROF, bytes, len) : NULL;
    if (!p) {
        free(bytes);
        return PG_ERR_NOMEM;
    }
    const pg_pprof *d = doc->profile;
    pg_profile *prof = pg_convert_add_derived(c, p, source_of(c, g, doc));
    pg_payload_unref(p);
    if (!prof || pg_profile_set_type(c->out, prof, pg_pprof_profile_type(c->tmp, d)) != PG_OK)
        return PG_ERR_NOMEM;
    prof->time_unix_nano = d->time_nanos > 0 ? (uint64_t)d->time_nanos : 0;
    prof->duration_nano = d->duration_nanos > 0 ? (uint64_t)d->duration_nanos : 0;
    pg_pprof_totals(d, &prof->sample_count, &prof->value_total);
    return PG_OK;
}

static int convert_group(pg_convert_call *c, const group *g)
{
    pg_error err;
    pg_error_clear(&err);
    const pg_otlp_request *req = g->payload->decoded;
    if (!req) {
        pg_otlp_request *decoded = NULL;
        int rc = pg_otlp_decode(c->tmp, g->payload->bytes, g->payload->len, &decoded, &err);
        if (rc == PG_ERR_NOMEM)
            return rc;
        if (rc != PG_OK) {
            pg_convert_drop(c, (uint32_t)g->n, err.msg);
            return PG_OK;
        }
        req = decoded;
    }
    pg_pprof_doc *docs = NULL;
    size_t n_docs = 0;
    int rc = pg_otlp_to_pprof(c->tmp, req, g->refs, g->n, &docs, &n_docs, &err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    if (rc != PG_OK) {
        pg_convert_drop(c, (uint32_t)g->n, err.msg);
        return PG_OK;
    }
    for (size_t i = 0; i < n_docs; i++)
        if ((rc = add_document(c, g, &docs[i])) != PG_OK)
            return rc;
    return PG_OK;
}

int pg_convert_batch_to_pprof(pg_convert_call *c)
{
    unsigned char *done = pg_arena_calloc(c->tmp, c->in->count + 1, 1);
    if (!done)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < c->in->count; i++) {
        const pg_profile *src = &c->in->profiles[i];
        if (done[i])
            continue;
        if (src->payload->format != PG_PAYLOAD_OTLP) {
            if (!pg_batch_append_copy(c->out, src))
                return PG_ERR_NOMEM;
            continue;
        }
        group g;
        int rc = collect(c, i, done, &g);
        if (rc == PG_OK)
            rc = convert_group(c, &g);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}
