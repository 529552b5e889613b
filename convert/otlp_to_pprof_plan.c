/*
 * OTLP -> pprof: which selected profiles go into which document.
 *
 * A scope that carries PG_ATTR_SAMPLE_TYPE_ORDER came from pprof documents;
 * its profiles that agree on time, duration, period and period type are put
 * back together, each sample type at its recorded position. Profiles are
 * placed greedily into the first document of their header that still lacks
 * their sample type; since a type always goes to the first such document and
 * new documents are appended, the documents holding a given type form a
 * prefix, so "first lacking" is simply the count of documents that have it.
 * Every other profile is a document of its own.
 */
#include "convert/otlp_to_pprof_internal.h"
#include "common/hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct member {
    uint32_t pos; /* position of the sample type in the scope's order */
    pg_otlp_ref ref;
} member;

typedef struct doc_plan {
    member *m;
    size_t n, cap;
    const char *default_type;
} doc_plan;

typedef struct scope_info {
    int ready;
    const char **names; /* the recorded sample-type order; NULL: none */
    size_t n_names;
    o2p_index ix; /* name -> first position */
    const char *default_type;
} scope_info;

/* Profiles of one scope with one header: the documents they fill. */
typedef struct header_key {
    uint32_t ri, si;
    uint64_t time, duration;
    int64_t period;
    const char *pt_type, *pt_unit;
    uint32_t *docs;
    size_t n_docs, cap_docs;
} header_key;

/* How many documents of a header already hold sample-type position pos. */
typedef struct type_count {
    uint32_t header, pos, count;
} type_count;

typedef struct planner {
    pg_arena *a;
    const pg_otlp_request *req;
    pg_error *err;
    size_t *scope_base; /* flat scope number of (ri, 0) */
    scope_info *scopes;
    doc_plan *docs;
    size_t n_docs;
    header_key *headers;
    size_t n_headers;
    o2p_index header_ix;
    type_count *counts;
    size_t n_counts;
    o2p_index count_ix;
} planner;

static int nomem(planner *pl)
{
    if (pg_arena_limit_hit(pl->a))
        return pg_error_set(pl->err, PG_ERR_LIMIT, "pprof conversion: arena limit reached");
    return pg_error_set(pl->err, PG_ERR_NOMEM, "pprof conversion: out of memory");
}

typedef struct name_key {
    const scope_info *s;
    const char *name;
} name_key;

static int name_eq(const void *ctx, uint32_t entry)
{
    const name_key *k = ctx;
    return strcmp(k->s->names[entry], k->name) == 0;
}

static uint64_t hash_str(const char *s, uint64_t seed)
{
    return pg_hash_bytes(s, strlen(s), seed);
}

static int index_names(planner *pl, scope_info *s)
{
    if (o2p_index_init(pl->a, &s->ix, s->n_names) < 0)
        return nomem(pl);
    for (size_t i = 0; i < s->n_names; i++) {
        name_key k = {s, s->names[i]};
        int inserted;
        if (o2p_index_intern(pl->a, &s->ix, hash_str(k.name, 0), name_eq, &k, (uint32_t)i,
                             &inserted) < 0)
            return nomem(pl);
    }
    return 0;
}

/* Reads the order and default-type attributes of a scope. */
static int load_scope(planner *pl, scope_info *s, const pg_otlp_scope *scope)
{
    s->ready = 1;
    for (size_t i = 0; scope && i < scope->n_attributes; i++) {
        const pg_otlp_kv *kv = scope->attributes[i];
        const char *key = o2p_kv_key(pl->req, kv);
        const pg_otlp_any *v = kv->value;
        if (strcmp(key, PG_ATTR_DEFAULT_SAMPLE_TYPE) == 0) {
            s->default_type = o2p_any_string(pl->req, v);
            continue;
        }
        if (strcmp(key, PG_ATTR_SAMPLE_TYPE_ORDER) != 0 || !v)
            continue;
        int is_array = v->value_case == PG_ANY(ARRAY_VALUE) && v->array_value;
        size_t n = is_array ? v->array_value->n_values : 1;
        s->names = pg_arena_alloc(pl->a, (n ? n : 1) * sizeof(char *));
        if (!s->names)
            return nomem(pl);
        s->n_names = 0;
        for (size_t k = 0; k < n; k++) {
            const char *name = o2p_any_string(pl->req, is_array ? v->array_value->values[k] : v);
            if (name)
                s->names[s->n_names++] = name;
        }
    }
    return s->names ? index_names(pl, s) : 0;
}

static int push_member(planner *pl, doc_plan *d, uint32_t pos, pg_otlp_ref ref)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        member *m = pg_arena_alloc(pl->a, cap * sizeof(*m));
        if (!m)
            return nomem(pl);
        if (d->n)
            memcpy(m, d->m, d->n * sizeof(*m));
        d->m = m;
        d->cap = cap;
    }
    d->m[d->n++] = (member){pos, ref};
    return 0;
}

static int new_doc(planner *pl, uint32_t pos, pg_otlp_ref ref, const char *default_type)
{
    doc_plan *d = &pl->docs[pl->n_docs++];
    memset(d, 0, sizeof(*d));
    d->default_type = default_type;
    return push_member(pl, d, pos, ref);
}

typedef struct header_ref {
    const planner *pl;
    const header_key *k;
} header_ref;

static int header_eq(const void *ctx, uint32_t entry)
{
    const header_ref *r = ctx;
    const header_key *a = &r->pl->headers[entry], *b = r->k;
    return a->ri == b->ri && a->si == b->si && a->time == b->time && a->duration == b->duration &&
           a->period == b->period && strcmp(a->pt_type, b->pt_type) == 0 &&
           strcmp(a->pt_unit, b->pt_unit) == 0;
}

typedef struct count_ref {
    const planner *pl;
    uint32_t header, pos;
} count_ref;

static int count_eq(const void *ctx, uint32_t entry)
{
    const count_ref *r = ctx;
    const type_count *t = &r->pl->counts[entry];
    return t->header == r->header && t->pos == r->pos;
}

/* The header entry of a profile (created on first sight). */
static header_key *find_header(planner *pl, pg_otlp_ref ref, const pg_otlp_profile *pr)
{
    const pg_otlp_value_type *pt = pr->period_type;
    header_key k = {ref.resource_index,
                    ref.scope_index,
                    pr->time_unix_nano,
                    pr->duration_nano,
                    pr->period,
                    pt ? pg_otlp_string(pl->req, pt->type_strindex) : "",
                    pt ? pg_otlp_string(pl->req, pt->unit_strindex) : "",
                    NULL,
                    0,
                    0};
    uint64_t h = o2p_hash_mix(((uint64_t)k.ri << 32) | k.si, k.time);
    h = o2p_hash_mix(h, k.duration ^ ((uint64_t)k.period << 1));
    h = hash_str(k.pt_unit, hash_str(k.pt_type, h));
    header_ref r = {pl, &k};
    int inserted;
    int64_t e = o2p_index_intern(pl->a, &pl->header_ix, h, header_eq, &r, (uint32_t)pl->n_headers,
                                 &inserted);
    if (e < 0)
        return NULL;
    if (inserted)
        pl->headers[pl->n_headers++] = k;
    return &pl->headers[e];
}

static int place_grouped(planner *pl, const scope_info *s, uint32_t pos, pg_otlp_ref ref,
                         const pg_otlp_profile *pr)
{
    header_key *hk = find_header(pl, ref, pr);
    if (!hk)
        return nomem(pl);
    count_ref r = {pl, (uint32_t)(hk - pl->headers), pos};
    int inserted;
    int64_t e = o2p_index_intern(pl->a, &pl->count_ix, o2p_hash_mix(r.header, pos), count_eq, &r,
                                 (uint32_t)pl->n_counts, &inserted);
    if (e < 0)
        return nomem(pl);
    if (inserted)
        pl->counts[pl->n_counts++] = (type_count){r.header, pos, 0};
    type_count *tc = &pl->counts[e];
    if (tc->count == hk->n_docs) {
        if (hk->n_docs == hk->cap_docs) {
            size_t cap = hk->cap_docs ? hk->cap_docs * 2 : 4;
            uint32_t *v = pg_arena_alloc(pl->a, cap * sizeof(uint32_t));
            if (!v)
                return nomem(pl);
            if (hk->n_docs)
                memcpy(v, hk->docs, hk->n_docs * sizeof(uint32_t));
            hk->docs = v;
            hk->cap_docs = cap;
        }
        hk->docs[hk->n_docs++] = (uint32_t)pl->n_docs;
        tc->count++;
        return new_doc(pl, pos, ref, s->default_type);
    }
    return push_member(pl, &pl->docs[hk->docs[tc->count++]], pos, ref);
}

static int place(planner *pl, pg_otlp_ref ref)
{
    const pg_otlp_resource_profiles *rp = pl->req->resource_profiles[ref.resource_index];
    const pg_otlp_scope_profiles *sp = rp->scope_profiles[ref.scope_index];
    const pg_otlp_profile *pr = sp->profiles[ref.profile_index];
    scope_info *s = &pl->scopes[pl->scope_base[ref.resource_index] + ref.scope_index];
    if (!s->ready && load_scope(pl, s, sp->scope) < 0)
        return -1;
    if (!s->names)
        return new_doc(pl, 0, ref, NULL);
    name_key k = {s,
                  pr->sample_type ? pg_otlp_string(pl->req, pr->sample_type->type_strindex) : ""};
    int64_t pos = o2p_index_find(&s->ix, hash_str(k.name, 0), name_eq, &k);
    if (pos < 0)
        return new_doc(pl, 0, ref, NULL);
    return place_grouped(pl, s, (uint32_t)pos, ref, pr);
}

static int planner_init(planner *pl, pg_arena *a, const pg_otlp_request *req, size_t n,
                        pg_error *err)
{
    memset(pl, 0, sizeof(*pl));
    pl->a = a;
    pl->req = req;
    pl->err = err;
    size_t n_scopes = 0;
    pl->scope_base = pg_arena_alloc(a, (req->n_resource_profiles + 1) * sizeof(size_t));
    if (!pl->scope_base)
        return nomem(pl);
    for (size_t i = 0; i < req->n_resource_profiles; i++) {
        pl->scope_base[i] = n_scopes;
        n_scopes += req->resource_profiles[i]->n_scope_profiles;
    }
    pl->scopes = pg_arena_calloc(a, n_scopes + 1, sizeof(scope_info));
    pl->docs = pg_arena_alloc(a, n * sizeof(doc_plan));
    pl->headers = pg_arena_alloc(a, n * sizeof(header_key));
    pl->counts = pg_arena_alloc(a, n * sizeof(type_count));
    if (!pl->scopes || !pl->docs || !pl->headers || !pl->counts ||
        o2p_index_init(a, &pl->header_ix, n) < 0 || o2p_index_init(a, &pl->count_ix, n) < 0)
        return nomem(pl);
    return 0;
}

static int cmp_member(const void *x, const void *y)
{
    const member *a = x, *b = y;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

int o2p_plan(pg_arena *a, const pg_otlp_request *req, const pg_otlp_ref *refs, size_t n,
             o2p_plan_doc **docs, size_t *n_docs, pg_error *err)
{
    planner pl;
    int rc = planner_init(&pl, a, req, n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = place(&pl, refs[i]);
    if (rc < 0)
        return rc;
    o2p_plan_doc *out = pg_arena_alloc(a, (pl.n_docs ? pl.n_docs : 1) * sizeof(*out));
    if (!out)
        return nomem(&pl);
    for (size_t i = 0; i < pl.n_docs; i++) {
        doc_plan *d = &pl.docs[i];
        if (d->n > 1)
            qsort(d->m, d->n, sizeof(member), cmp_member);
        out[i].refs = pg_arena_alloc(a, d->n * sizeof(pg_otlp_ref));
        if (!out[i].refs)
            return nomem(&pl);
        for (size_t k = 0; k < d->n; k++)
            out[i].refs[k] = d->m[k].ref;
        out[i].n = d->n;
        out[i].default_type = d->default_type;
    }
    *docs = out;
    *n_docs = pl.n_docs;
    return 0;
}
