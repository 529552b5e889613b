/* The push API's PushRequest body (see pyroscope_request.h). */
#include <stdlib.h>
#include <string.h>

#include "exporters/pyroscope/pyroscope_request.h"
#include "pyroscope_push.pb-c.h"

typedef Push__V1__RawProfileSeries push_series;

/* The series docs[i] belongs to: an existing one with equal labels or a new
 * one. Fills series_of and counts; returns the number of series. */
static size_t group(const pg_pyroexp_doc *const *docs, size_t n, size_t *series_of, size_t *counts,
                    size_t *first_doc)
{
    size_t n_series = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < n_series &&
               !pg_pyroexp_labels_equal(&docs[first_doc[j]]->labels, &docs[i]->labels))
            j++;
        if (j == n_series) {
            first_doc[n_series++] = i;
            counts[j] = 0;
        }
        series_of[i] = j;
        counts[j]++;
    }
    return n_series;
}

static push_series *new_series(pg_arena *a, const pg_pyroexp_labels *l, size_t n_samples)
{
    push_series *s = pg_arena_alloc(a, sizeof(*s));
    Types__V1__LabelPair *pairs = pg_arena_calloc(a, l->n + 1, sizeof(*pairs));
    Types__V1__LabelPair **pp = pg_arena_calloc(a, l->n + 1, sizeof(*pp));
    Push__V1__RawSample **samples = pg_arena_calloc(a, n_samples, sizeof(*samples));
    if (!s || !pairs || !pp || !samples)
        return NULL;
    *s = (push_series)PUSH__V1__RAW_PROFILE_SERIES__INIT;
    for (size_t i = 0; i < l->n; i++) {
        pairs[i] = (Types__V1__LabelPair)TYPES__V1__LABEL_PAIR__INIT;
        pairs[i].name = (char *)l->labels[i].name;
        pairs[i].value = (char *)l->labels[i].value;
        pp[i] = &pairs[i];
    }
    s->labels = pp;
    s->n_labels = l->n;
    s->samples = samples;
    return s;
}

static int add_sample(pg_arena *a, push_series *s, const pg_pyroexp_doc *d)
{
    Push__V1__RawSample *smp = pg_arena_alloc(a, sizeof(*smp));
    if (!smp)
        return PG_ERR_NOMEM;
    *smp = (Push__V1__RawSample)PUSH__V1__RAW_SAMPLE__INIT;
    smp->raw_profile.data = (uint8_t *)d->entry->data;
    smp->raw_profile.len = d->entry->len;
    if (d->labels.profile_id)
        smp->id = (char *)d->labels.profile_id;
    s->samples[s->n_samples++] = smp;
    return PG_OK;
}

static int build(pg_arena *a, const pg_pyroexp_doc *const *docs, size_t n,
                 Push__V1__PushRequest *req)
{
    size_t *series_of = pg_arena_calloc(a, n + 1, sizeof(size_t));
    size_t *counts = pg_arena_calloc(a, n + 1, sizeof(size_t));
    size_t *first_doc = pg_arena_calloc(a, n + 1, sizeof(size_t));
    push_series **series = pg_arena_calloc(a, n + 1, sizeof(*series));
    if (!series_of || !counts || !first_doc || !series)
        return PG_ERR_NOMEM;
    size_t n_series = group(docs, n, series_of, counts, first_doc);
    for (size_t j = 0; j < n_series; j++)
        if (!(series[j] = new_series(a, &docs[first_doc[j]]->labels, counts[j])))
            return PG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (add_sample(a, series[series_of[i]], docs[i]) != PG_OK)
            return PG_ERR_NOMEM;
    req->series = series;
    req->n_series = n_series;
    return PG_OK;
}

int pg_pyroexp_push_body(const pg_pyroexp_doc *const *docs, size_t n, uint8_t **body, size_t *len,
                         pg_error *err)
{
    *body = NULL;
    *len = 0;
    pg_arena *a = pg_arena_new(0, 0);
    Push__V1__PushRequest req = PUSH__V1__PUSH_REQUEST__INIT;
    int rc = a ? build(a, docs, n, &req) : PG_ERR_NOMEM;
    if (rc == PG_OK) {
        size_t size = push__v1__push_request__get_packed_size(&req);
        if ((*body = malloc(size ? size : 1)))
            *len = push__v1__push_request__pack(&req, *body);
        else
            rc = PG_ERR_NOMEM;
    }
    pg_arena_free(a);
    return rc == PG_OK ? PG_OK : pg_error_set(err, rc, "out of memory building a PushRequest");
}
