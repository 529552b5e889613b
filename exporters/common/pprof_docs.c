#include "exporters/common/pprof_docs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/otlp.h"
#include "processors/convert/convert_processor.h"

typedef struct docs_build {
    const pg_batch *b;
    const pg_pprof_docs_opts *o;
    pg_pprof_docs *out;
    size_t cap;
    unsigned char *done; /* batch profiles already in an entry (or failed) */
} docs_build;

static void left_out(docs_build *s, uint32_t n, const pg_error *err)
{
    if (!s->out->failed)
        snprintf(s->out->why, sizeof(s->out->why), "%s", err->msg);
    s->out->failed += n;
}

static pg_pprof_docs_entry *new_entry(docs_build *s)
{
    pg_pprof_docs *d = s->out;
    if (d->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        pg_pprof_docs_entry *e = pg_arena_calloc(d->arena, cap, sizeof(*e));
        if (!e)
            return NULL;
        if (d->n)
            memcpy(e, d->entries, d->n * sizeof(*e));
        d->entries = e;
        s->cap = cap;
    }
    pg_pprof_docs_entry *e = &d->entries[d->n++];
    memset(e, 0, sizeof(*e));
    return e;
}

/* Marks the profiles like b->profiles[first] (same payload and tenant) done;
 * fills refs (when given) with their positions and members with their batch
 * indices. Returns their number. */
static size_t take_group(docs_build *s, size_t first, pg_otlp_ref *refs, size_t *members)
{
    const pg_profile *lead = &s->b->profiles[first];
    size_t n = 0;
    for (size_t i = first; i < s->b->count; i++) {
        const pg_profile *p = &s->b->profiles[i];
        if (s->done[i] || p->payload != lead->payload || strcmp(p->tenant, lead->tenant) != 0)
            continue;
        s->done[i] = 1;
        if (refs) {
            refs[n] = (pg_otlp_ref){p->resource_index, p->scope_index, p->profile_index};
            members[n] = i;
        }
        n++;
    }
    return n;
}

static int pprof_payload(docs_build *s, size_t first)
{
    const pg_profile *src = &s->b->profiles[first];
    pg_payload *p = src->payload;
    uint32_t n = (uint32_t)take_group(s, first, NULL, NULL);
    pg_pprof *doc = NULL;
    if (s->o->decode_pprof) {
        pg_error err;
        pg_error_clear(&err);
        int rc = pg_pprof_decode(s->out->arena, p->bytes, p->len, PG_CONVERT_MAX_PPROF_BYTES, &doc,
                                 &err);
        if (rc == PG_ERR_NOMEM)
            return rc;
        if (rc != PG_OK) {
            left_out(s, n, &err);
            return PG_OK;
        }
    }
    pg_pprof_docs_entry *e = new_entry(s);
    if (!e)
        return PG_ERR_NOMEM;
    *e = (pg_pprof_docs_entry){.src = src,
                               .payload = p,
                               .data = p->bytes,
                               .len = p->len,
                               .gzipped = pg_is_gzip(p->bytes, p->len),
                               .doc = doc,
                               .profiles = n};
    return PG_OK;
}

static int converted_doc(docs_build *s, const pg_profile *src, const pg_pprof_doc *doc)
{
    pg_buf buf;
    pg_buf_init(&buf);
    pg_error err;
    pg_error_clear(&err);
    int rc = pg_pprof_encode(doc->profile, s->o->gzip, &buf, &err);
    if (rc != PG_OK) {
        pg_buf_free(&buf);
        if (rc == PG_ERR_NOMEM)
            return rc;
        left_out(s, (uint32_t)doc->n_sources, &err);
        return PG_OK;
    }
    size_t len = 0;
    uint8_t *data = pg_buf_detach(&buf, &len);
    pg_pprof_docs_entry *e = data ? new_entry(s) : NULL;
    if (!e) {
        free(data);
        return PG_ERR_NOMEM;
    }
    *e = (pg_pprof_docs_entry){.src = src,
                               .data = data,
                               .len = len,
                               .gzipped = s->o->gzip,
                               .doc = doc->profile,
                               .profiles = (uint32_t)doc->n_sources,
                               .owned = data};
    return PG_OK;
}

/* The batch profile a converted document speaks for: its first source. */
static const pg_profile *doc_source(docs_build *s, const pg_pprof_doc *doc, const pg_otlp_ref *refs,
                                    const size_t *members, size_t n)
{
    for (size_t k = 0; k < n && doc->n_sources; k++)
        if (memcmp(&refs[k], &doc->sources[0], sizeof(refs[k])) == 0)
            return &s->b->profiles[members[k]];
    return &s->b->profiles[members[0]];
}

static int otlp_payload(docs_build *s, size_t first)
{
    pg_arena *a = s->out->arena;
    size_t max = s->b->count - first;
    pg_otlp_ref *refs = pg_arena_alloc(a, max * sizeof(*refs));
    size_t *members = pg_arena_alloc(a, max * sizeof(*members));
    if (!refs || !members)
        return PG_ERR_NOMEM;
    size_t n = take_group(s, first, refs, members);
    pg_payload *p = s->b->profiles[first].payload;
    pg_error err;
    pg_error_clear(&err);
    const pg_otlp_request *req = p->decoded;
    pg_otlp_request *decoded = NULL;
    int rc = req ? PG_OK : pg_otlp_decode(a, p->bytes, p->len, &decoded, &err);
    pg_pprof_doc *docs = NULL;
    size_t n_docs = 0;
    if (rc == PG_OK)
        rc = pg_otlp_to_pprof(a, req ? req : decoded, refs, n, &docs, &n_docs, &err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    if (rc != PG_OK) {
        left_out(s, (uint32_t)n, &err);
        return PG_OK;
    }
    for (size_t d = 0; d < n_docs && rc == PG_OK; d++)
        rc = converted_doc(s, doc_source(s, &docs[d], refs, members, n), &docs[d]);
    return rc;
}

int pg_pprof_docs_build(const pg_batch *b, const pg_pprof_docs_opts *o, pg_pprof_docs *out,
                        pg_error *err)
{
    static const pg_pprof_docs_opts defaults = {0};
    memset(out, 0, sizeof(*out));
    docs_build s = {.b = b, .o = o ? o : &defaults, .out = out};
    out->arena = pg_arena_new(0, 0);
    s.done = out->arena ? pg_arena_calloc(out->arena, b->count + 1, 1) : NULL;
    int rc = s.done ? PG_OK : PG_ERR_NOMEM;
    for (size_t i = 0; i < b->count && rc == PG_OK; i++) {
        if (s.done[i])
            continue;
        rc = b->profiles[i].payload->format == PG_PAYLOAD_PPROF ? pprof_payload(&s, i)
                                                                : otlp_payload(&s, i);
    }
    if (rc != PG_OK)
        return pg_error_set(err, rc, "%s", rc == PG_ERR_NOMEM ? "out of memory" : pg_strerror(rc));
    return PG_OK;
}

uint8_t *pg_pprof_docs_take(pg_pprof_docs *d, size_t i, size_t *len)
{
    pg_pprof_docs_entry *e = &d->entries[i];
    uint8_t *data = e->owned;
    *len = e->len;
    if (data) {
        e->owned = NULL;
        e->data = NULL;
        e->len = 0;
        return data;
    }
    data = malloc(e->len ? e->len : 1);
    if (data && e->len)
        memcpy(data, e->data, e->len);
    return data;
}

void pg_pprof_docs_release(pg_pprof_docs *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->entries[i].owned);
    pg_arena_free(d->arena);
    memset(d, 0, sizeof(*d));
}
