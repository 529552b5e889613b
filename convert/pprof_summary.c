#include <string.h>

#include "convert/convert.h"

const char *pg_pprof_profile_type(pg_arena *a, const pg_pprof *doc)
{
    const char *t = "", *u = "", *pt = "", *pu = "";
    if (doc->n_sample_type && doc->sample_type[0]) {
        t = pg_pprof_str(doc, doc->sample_type[0]->type);
        u = pg_pprof_str(doc, doc->sample_type[0]->unit);
    }
    if (doc->period_type) {
        pt = pg_pprof_str(doc, doc->period_type->type);
        pu = pg_pprof_str(doc, doc->period_type->unit);
    }
    return pg_arena_sprintf(a, "%s:%s:%s:%s", t, u, pt, pu);
}

/* Column of the default sample type: the one named by default_sample_type,
 * else the last one (pprof's documented fallback). */
static size_t default_column(const pg_pprof *doc)
{
    if (doc->default_sample_type) {
        const char *want = pg_pprof_str(doc, doc->default_sample_type);
        for (size_t i = 0; i < doc->n_sample_type; i++)
            if (strcmp(pg_pprof_str(doc, doc->sample_type[i]->type), want) == 0)
                return i;
    }
    return doc->n_sample_type - 1;
}

void pg_pprof_totals(const pg_pprof *doc, uint64_t *samples, int64_t *total)
{
    *samples = doc->n_sample;
    *total = 0;
    if (!doc->n_sample_type)
        return;
    size_t col = default_column(doc);
    uint64_t sum = 0; /* unsigned: wraps instead of overflowing on hostile input */
    for (size_t i = 0; i < doc->n_sample; i++)
        if (col < doc->sample[i]->n_value)
            sum += (uint64_t)doc->sample[i]->value[col];
    *total = (int64_t)sum;
}
