/* Sample-type filtering inside pprof documents. */
#include <stdlib.h>
#include <string.h>

#include "processors/convert/convert_processor.h"
#include "processors/filter/filter_internal.h"

/* The sorted ids of one table, with a used flag per id. */
typedef struct id_set {
    uint64_t *ids;
    uint8_t *used;
    size_t n;
} id_set;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int id_set_init(pg_arena *a, id_set *s, size_t n)
{
    s->n = n;
    s->ids = pg_arena_alloc(a, (n ? n : 1) * sizeof(*s->ids));
    s->used = pg_arena_calloc(a, n ? n : 1, 1);
    return s->ids && s->used ? PG_OK : PG_ERR_NOMEM;
}

static void id_set_sort(id_set *s)
{
    qsort(s->ids, s->n, sizeof(*s->ids), cmp_u64);
}

/* Position of id in the set, or -1 (a validated document has no dangling ids). */
static ptrdiff_t id_set_find(const id_set *s, uint64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ids[mid] == id)
            return (ptrdiff_t)mid;
        if (s->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void id_set_mark(id_set *s, uint64_t id)
{
    ptrdiff_t i = id_set_find(s, id);
    if (i >= 0)
        s->used[i] = 1;
}

static int id_set_has(const id_set *s, uint64_t id)
{
    ptrdiff_t i = id_set_find(s, id);
    return i >= 0 && s->used[i];
}

/* Drops locations no sample reaches and functions no kept location calls.
 * Mappings stay: they are few and describe the process, not the samples. */
static int prune_tables(pg_arena *a, pg_pprof *doc)
{
    id_set locs, funcs;
    if (id_set_init(a, &locs, doc->n_location) != PG_OK ||
        id_set_init(a, &funcs, doc->n_function) != PG_OK)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < doc->n_location; i++)
        locs.ids[i] = doc->location[i]->id;
    for (size_t i = 0; i < doc->n_function; i++)
        funcs.ids[i] = doc->function[i]->id;
    id_set_sort(&locs);
    id_set_sort(&funcs);
    for (size_t i = 0; i < doc->n_sample; i++)
        for (size_t k = 0; k < doc->sample[i]->n_location_id; k++)
            id_set_mark(&locs, doc->sample[i]->location_id[k]);
    size_t n = 0;
    for (size_t i = 0; i < doc->n_location; i++) {
        Perftools__Profiles__Location *l = doc->location[i];
        if (!id_set_has(&locs, l->id))
            continue;
        for (size_t k = 0; k < l->n_line; k++)
            id_set_mark(&funcs, l->line[k]->function_id);
        doc->location[n++] = l;
    }
    doc->n_location = n;
    n = 0;
    for (size_t i = 0; i < doc->n_function; i++)
        if (id_set_has(&funcs, doc->function[i]->id))
            doc->function[n++] = doc->function[i];
    doc->n_function = n;
    return PG_OK;
}

/* Keeps the value columns listed in cols; removes samples left all zero. */
static int cut_samples(pg_arena *a, pg_pprof *doc, const size_t *cols, size_t n_cols)
{
    size_t n = 0;
    for (size_t i = 0; i < doc->n_sample; i++) {
        Perftools__Profiles__Sample *s = doc->sample[i];
        int64_t *v = pg_arena_alloc(a, n_cols * sizeof(*v));
        if (!v)
            return PG_ERR_NOMEM;
        int any = 0;
        for (size_t k = 0; k < n_cols; k++) {
            v[k] = cols[k] < s->n_value ? s->value[cols[k]] : 0;
            any |= v[k] != 0;
        }
        if (!any)
            continue;
        s->value = v;
        s->n_value = n_cols;
        doc->sample[n++] = s;
    }
    doc->n_sample = n;
    return PG_OK;
}

/* default_sample_type names a type; it goes when no kept type has that name. */
static void fix_default(pg_pprof *doc)
{
    if (!doc->default_sample_type)
        return;
    const char *name = pg_pprof_str(doc, doc->default_sample_type);
    for (size_t i = 0; i < doc->n_sample_type; i++)
        if (strcmp(pg_pprof_str(doc, doc->sample_type[i]->type), name) == 0)
            return;
    doc->default_sample_type = 0;
}

int pg_filter_pprof_doc(pg_arena *a, pg_pprof *doc, const pg_filter_types *t, size_t *kept)
{
    size_t *cols = pg_arena_alloc(a, (doc->n_sample_type ? doc->n_sample_type : 1) * sizeof(*cols));
    if (!cols)
        return PG_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < doc->n_sample_type; i++) {
        const Perftools__Profiles__ValueType *vt = doc->sample_type[i];
        if (pg_filter_type_wanted(t, pg_pprof_str(doc, vt->type), pg_pprof_str(doc, vt->unit)))
            cols[n++] = i;
    }
    *kept = n;
    if (n == 0 || n == doc->n_sample_type)
        return PG_OK;
    int rc = cut_samples(a, doc, cols, n);
    if (rc != PG_OK)
        return rc;
    for (size_t k = 0; k < n; k++)
        doc->sample_type[k] = doc->sample_type[cols[k]];
    doc->n_sample_type = n;
    fix_default(doc);
    return prune_tables(a, doc);
}

/* Re-encodes doc into a new payload for prof and updates its summaries. */
static int replace(pg_arena *tmp, const pg_pprof *doc, int gzip, pg_batch *b, pg_profile *prof,
                   pg_error *err)
{
    pg_buf buf;
    pg_buf_init(&buf);
    int rc = pg_pprof_encode(doc, gzip, &buf, err);
    size_t len = 0;
    uint8_t *bytes = rc == PG_OK ? pg_buf_detach(&buf, &len) : NULL;
    pg_buf_free(&buf);
    if (rc != PG_OK)
        return rc;
    pg_payload *p = bytes ? pg_payload_new(PG_PAYLOAD_PPROF, bytes, len) : NULL;
    if (!p) {
        free(bytes);
        return PG_ERR_NOMEM;
    }
    pg_profile_replace_payload(b, prof, p);
    pg_payload_unref(p);
    const char *type = pg_pprof_profile_type(tmp, doc);
    if (!type || pg_profile_set_type(b, prof, type) != PG_OK)
        return PG_ERR_NOMEM;
    pg_pprof_totals(doc, &prof->sample_count, &prof->value_total);
    return PG_OK;
}

int pg_filter_pprof_profile(pg_arena *tmp, const pg_filter_types *t, pg_batch *b, pg_profile *prof,
                            pg_filter_outcome *out, pg_error *err)
{
    const pg_payload *in = prof->payload;
    pg_pprof *doc = NULL;
    *out = PG_FILTER_UNCHANGED;
    int rc = pg_pprof_decode(tmp, in->bytes, in->len, PG_CONVERT_MAX_PPROF_BYTES, &doc, err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    if (rc != PG_OK) {
        *out = PG_FILTER_UNDECODABLE;
        return PG_OK;
    }
    size_t kept = 0, before = doc->n_sample_type;
    if ((rc = pg_filter_pprof_doc(tmp, doc, t, &kept)) != PG_OK)
        return rc;
    if (kept == 0) {
        /* a document without sample types has nothing to drop, but nothing
         * a keep list asks for either */
        *out = before || t->n_keep ? PG_FILTER_NO_TYPES : PG_FILTER_UNCHANGED;
        return PG_OK;
    }
    if (kept == before)
        return PG_OK;
    rc = replace(tmp, doc, pg_is_gzip(in->bytes, in->len), b, prof, err);
    if (rc == PG_ERR_NOMEM)
        return rc;
    /* an encoder failure on a document that decoded is a bug, not input */
    *out = rc == PG_OK ? PG_FILTER_REWRITTEN : PG_FILTER_UNDECODABLE;
    return PG_OK;
}
