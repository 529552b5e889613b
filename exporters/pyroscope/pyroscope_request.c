#include "exporters/pyroscope/pyroscope_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processors/convert/convert_processor.h"

typedef struct build_ctx {
    const pg_batch *b;
    const pg_str_map *external;
    const pg_pyroexp_sink *sink;
    pg_pyroexp_stats *st;
    pg_pprof_docs docs;
    pg_pyroexp_doc *valid; /* documents whose labels pass, in batch order */
    size_t n_valid;
} build_ctx;

static void count(uint32_t *counter, char *why, size_t cap, uint32_t n, const char *msg)
{
    if (!*counter)
        snprintf(why, cap, "%s", msg);
    *counter += n;
}

static int labels_of(build_ctx *c, const pg_pprof_docs_entry *e, pg_pyroexp_labels *l)
{
    pg_arena *a = c->docs.arena;
    pg_error lerr;
    pg_error_clear(&lerr);
    int rc = pg_pyroexp_labels_build(a, e->src, c->external, e->doc, l, &lerr);
    if (rc == PG_ERR_NOTFOUND) {
        /* only a profile without __name__ needs its document read */
        pg_pprof *doc = NULL;
        rc = pg_pprof_decode(a, e->data, e->len, PG_CONVERT_MAX_PPROF_BYTES, &doc, &lerr);
        if (rc == PG_ERR_NOMEM)
            return rc;
        if (rc != PG_OK) {
            count(&c->st->convert_failed, c->st->convert_why, sizeof(c->st->convert_why),
                  e->profiles, lerr.msg);
            return PG_ERR_INVALID;
        }
        rc = pg_pyroexp_labels_build(a, e->src, c->external, doc, l, &lerr);
    }
    if (rc == PG_ERR_INVALID)
        count(&c->st->invalid, c->st->invalid_why, sizeof(c->st->invalid_why), e->profiles,
              lerr.msg);
    return rc;
}

static int label_docs(build_ctx *c)
{
    c->valid = pg_arena_calloc(c->docs.arena, c->docs.n + 1, sizeof(*c->valid));
    if (!c->valid)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < c->docs.n; i++) {
        pg_pyroexp_doc *d = &c->valid[c->n_valid];
        d->entry = &c->docs.entries[i];
        int rc = labels_of(c, d->entry, &d->labels);
        if (rc == PG_ERR_NOMEM)
            return rc;
        if (rc == PG_OK)
            c->n_valid++;
    }
    return PG_OK;
}

static int admitted(build_ctx *c, uint32_t profiles)
{
    if (c->sink->full && c->sink->full(c->sink->arg, profiles)) {
        c->st->skipped += profiles;
        return 0;
    }
    return 1;
}

static int emit(build_ctx *c, pg_pyroexp_request *r, pg_error *err)
{
    c->st->sent += r->profiles;
    return c->sink->emit(c->sink->arg, r, err);
}

/* One PushRequest per tenant, tenants in the order they first appear. */
static int push_all(build_ctx *c, pg_error *err)
{
    const pg_pyroexp_doc **group = pg_arena_calloc(c->docs.arena, c->n_valid + 1, sizeof(*group));
    unsigned char *done = pg_arena_calloc(c->docs.arena, c->n_valid + 1, 1);
    if (!group || !done)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->n_valid; i++) {
        if (done[i])
            continue;
        const char *tenant = c->valid[i].entry->src->tenant;
        size_t n = 0;
        uint32_t profiles = 0;
        for (size_t j = i; j < c->n_valid; j++) {
            if (done[j] || strcmp(c->valid[j].entry->src->tenant, tenant) != 0)
                continue;
            done[j] = 1;
            group[n++] = &c->valid[j];
            profiles += c->valid[j].entry->profiles;
        }
        if (!admitted(c, profiles))
            continue;
        pg_pyroexp_request r = {.path = PG_PYROEXP_PUSH_PATH,
                                .content_type = "application/proto",
                                .tenant = tenant,
                                .profiles = profiles};
        int rc = pg_pyroexp_push_body(group, n, &r.body, &r.len, err);
        if (rc == PG_OK)
            rc = emit(c, &r, err);
        if (rc != PG_OK)
            return rc;
    }
    return PG_OK;
}

static int ingest_all(build_ctx *c, pg_error *err)
{
    for (size_t i = 0; i < c->n_valid; i++) {
        const pg_pyroexp_doc *d = &c->valid[i];
        if (!admitted(c, d->entry->profiles))
            continue;
        pg_pyroexp_request r;
        pg_error lerr;
        pg_error_clear(&lerr);
        int rc = pg_pyroexp_ingest_request(c->docs.arena, d, &r, &lerr);
        if (rc == PG_ERR_INVALID) {
            count(&c->st->invalid, c->st->invalid_why, sizeof(c->st->invalid_why),
                  d->entry->profiles, lerr.msg);
            continue;
        }
        if (rc != PG_OK)
            return pg_error_set(err, rc, "%s", lerr.msg);
        r.tenant = d->entry->src->tenant;
        r.profiles = d->entry->profiles;
        if ((rc = emit(c, &r, err)) != PG_OK)
            return rc;
    }
    return PG_OK;
}

int pg_pyroexp_build(const pg_batch *b, pg_pyroexp_api api, const pg_str_map *external,
                     const pg_pyroexp_sink *sink, pg_pyroexp_stats *st, pg_error *err)
{
    memset(st, 0, sizeof(*st));
    build_ctx c = {.b = b, .external = external, .sink = sink, .st = st};
    /* converted documents go out gzipped, as agents send theirs */
    pg_pprof_docs_opts o = {.decode_pprof = 0, .gzip = 1};
    int rc = pg_pprof_docs_build(b, &o, &c.docs, err);
    if (c.docs.failed)
        count(&st->convert_failed, st->convert_why, sizeof(st->convert_why), c.docs.failed,
              c.docs.why);
    if (rc == PG_OK && (rc = label_docs(&c)) != PG_OK)
        pg_error_set(err, rc, "out of memory");
    if (rc == PG_OK)
        rc = api == PG_PYROEXP_API_INGEST ? ingest_all(&c, err) : push_all(&c, err);
    pg_pprof_docs_release(&c.docs);
    return rc;
}
