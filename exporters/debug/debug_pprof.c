/* Detailed lines for a pprof payload: sample types and the top stacks. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "convert/convert.h"
#include "exporters/debug/debug_exporter.h"

#define TOP_STACKS   5
#define MAX_FRAMES   64           /* frames printed per stack; deeper stacks end in "..." */
#define MAX_INFLATED (256u << 20) /* a debugging aid does not inflate more than this */

typedef struct id_slot {
    uint64_t id;
    size_t index;
} id_slot;

typedef struct pprof_view {
    const pg_pprof *p;
    id_slot *locs, *funcs; /* sorted by id */
    size_t col;            /* the value column stacks are ranked by */
} pprof_view;

static int by_id(const void *a, const void *b)
{
    const id_slot *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static id_slot *index_ids(pg_arena *a, void *const *items, size_t n, size_t id_offset)
{
    id_slot *s = pg_arena_alloc(a, (n + 1) * sizeof(*s));
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(&s[i].id, (const char *)items[i] + id_offset, sizeof(uint64_t));
        s[i].index = i;
    }
    qsort(s, n, sizeof(*s), by_id);
    return s;
}

static long find_id(const id_slot *s, size_t n, uint64_t id)
{
    id_slot key = {id, 0};
    const id_slot *hit = bsearch(&key, s, n, sizeof(*s), by_id);
    return hit ? (long)hit->index : -1;
}

/* The column of the profile's own type when it names one, else the
 * document's default (the last sample type when none is named). */
static size_t rank_column(const pg_pprof *p, const char *profile_type)
{
    size_t fallback = p->n_sample_type - 1;
    for (size_t i = 0; i < p->n_sample_type; i++) {
        const char *t = pg_pprof_str(p, p->sample_type[i]->type);
        size_t n = strlen(t);
        if (profile_type && strncmp(profile_type, t, n) == 0 && profile_type[n] == ':')
            return i;
        if (p->default_sample_type && strcmp(t, pg_pprof_str(p, p->default_sample_type)) == 0)
            fallback = i;
    }
    return fallback;
}

/* Orders samples by stack (location id sequence) so equal stacks are adjacent. */
static int by_stack(const void *a, const void *b, void *ctx)
{
    const pg_pprof *p = ctx;
    const Perftools__Profiles__Sample *x = p->sample[*(const size_t *)a],
                                      *y = p->sample[*(const size_t *)b];
    size_t n = x->n_location_id < y->n_location_id ? x->n_location_id : y->n_location_id;
    for (size_t i = 0; i < n; i++)
        if (x->location_id[i] != y->location_id[i])
            return x->location_id[i] < y->location_id[i] ? -1 : 1;
    return (x->n_location_id > n) - (y->n_location_id > n);
}

typedef struct stack_sum {
    size_t sample; /* a sample with this stack */
    int64_t value;
} stack_sum;

static int by_value_desc(const void *a, const void *b)
{
    const stack_sum *x = a, *y = b;
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    return x->sample < y->sample ? -1 : x->sample > y->sample;
}

static void print_stack(const pprof_view *v, const Perftools__Profiles__Sample *s, pg_buf *out)
{
    const pg_pprof *p = v->p;
    size_t printed = 0;
    for (size_t i = 0; i < s->n_location_id; i++) {
        long li = find_id(v->locs, p->n_location, s->location_id[i]);
        if (li < 0)
            continue;
        const Perftools__Profiles__Location *l = p->location[li];
        /* line[0] is the innermost inlined function: leaf first throughout */
        for (size_t k = 0; k < l->n_line || (k == 0 && l->n_line == 0); k++) {
            if (printed++ == MAX_FRAMES) {
                pg_buf_append_str(out, ";...");
                return;
            }
            if (printed > 1)
                pg_buf_append_str(out, ";");
            long fi = l->n_line ? find_id(v->funcs, p->n_function, l->line[k]->function_id) : -1;
            const char *name = fi >= 0 ? pg_pprof_str(p, p->function[fi]->name) : "";
            if (*name)
                pg_buf_append_str(out, name);
            else
                pg_buf_printf(out, "0x%" PRIx64, l->address);
        }
    }
    if (!printed)
        pg_buf_append_str(out, "(empty stack)");
}

static int print_top_stacks(pg_arena *a, const pprof_view *v, pg_buf *out)
{
    const pg_pprof *p = v->p;
    size_t *order = pg_arena_alloc(a, (p->n_sample + 1) * sizeof(*order));
    stack_sum *sums = pg_arena_alloc(a, (p->n_sample + 1) * sizeof(*sums));
    if (!order || !sums)
        return PG_ERR_NOMEM;
    for (size_t i = 0; i < p->n_sample; i++)
        order[i] = i;
    qsort_r(order, p->n_sample, sizeof(*order), by_stack, (void *)p);
    size_t n = 0;
    for (size_t i = 0; i < p->n_sample; i++) {
        int64_t val = p->sample[order[i]]->value[v->col];
        if (n && by_stack(&sums[n - 1].sample, &order[i], (void *)p) == 0) {
            sums[n - 1].value += val;
            continue;
        }
        sums[n++] = (stack_sum){order[i], val};
    }
    qsort(sums, n, sizeof(*sums), by_value_desc);
    for (size_t i = 0; i < n && i < TOP_STACKS; i++) {
        pg_buf_printf(out, "  top %zu: value=%" PRId64 " stack=", i + 1, sums[i].value);
        print_stack(v, p->sample[sums[i].sample], out);
        pg_buf_append_str(out, "\n");
    }
    return PG_OK;
}

static void print_types(const pg_pprof *p, size_t col, pg_buf *out)
{
    pg_buf_append_str(out, "  sample_types=");
    for (size_t i = 0; i < p->n_sample_type; i++)
        pg_buf_printf(out, "%s%s/%s%s", i ? "," : "", pg_pprof_str(p, p->sample_type[i]->type),
                      pg_pprof_str(p, p->sample_type[i]->unit), i == col ? "*" : "");
    if (p->period_type)
        pg_buf_printf(out, " period_type=%s/%s", pg_pprof_str(p, p->period_type->type),
                      pg_pprof_str(p, p->period_type->unit));
    else
        pg_buf_append_str(out, " period_type=-");
    pg_buf_printf(out, " period=%" PRId64 "\n", p->period);
}

int pg_debug_format_pprof_details(const pg_profile *prof, pg_buf *out)
{
    pg_arena *a = pg_arena_new(0, 0);
    if (!a)
        return PG_ERR_NOMEM;
    pg_pprof *p = NULL;
    pg_error err;
    pg_error_clear(&err);
    int rc = PG_OK;
    if (pg_pprof_decode(a, prof->payload->bytes, prof->payload->len, MAX_INFLATED, &p, &err) !=
        PG_OK) {
        pg_buf_printf(out, "  (pprof payload does not decode: %s)\n", err.msg);
    } else if (!p->n_sample_type) {
        pg_buf_append_str(out, "  (pprof payload without sample types)\n");
    } else {
        pprof_view v = {.p = p, .col = rank_column(p, prof->profile_type)};
        v.locs = index_ids(a, (void *const *)p->location, p->n_location,
                           offsetof(Perftools__Profiles__Location, id));
        v.funcs = index_ids(a, (void *const *)p->function, p->n_function,
                            offsetof(Perftools__Profiles__Function, id));
        print_types(p, v.col, out);
        rc = v.locs && v.funcs ? print_top_stacks(a, &v, out) : PG_ERR_NOMEM;
    }
    pg_arena_free(a);
    return rc;
}
