/*
 * Structural self-check of a converted document: the promises the converter
 * makes about its output (pprof's CheckValid rules, plus ids 1..n and no
 * unreferenced location or function). Used by the tests and the fuzz target.
 */
#include "convert/otlp_to_pprof_internal.h"

#include <stdlib.h>
#include <string.h>

#define BAD(...) pg_error_set(err, PG_ERR_INVALID, __VA_ARGS__)

static int str_ok(const pg_pprof *p, int64_t i)
{
    return i >= 0 && (uint64_t)i < p->n_string_table && p->string_table[i];
}

static int check_labels(const pg_pprof *p, const pg_pprof_sample *s, size_t si, pg_error *err)
{
    for (size_t k = 0; k < s->n_label; k++) {
        const pg_pprof_label *l = s->label[k];
        if (!l || !str_ok(p, l->key) || !str_ok(p, l->str) || !str_ok(p, l->num_unit))
            return BAD("sample[%zu].label[%zu] has a bad string index", si, k);
    }
    return 0;
}

static int check_samples(const pg_pprof *p, uint8_t *loc_used, pg_error *err)
{
    if (p->n_sample && !p->n_sample_type)
        return BAD("samples without sample types");
    for (size_t i = 0; i < p->n_sample_type; i++) {
        if (!p->sample_type[i] || !str_ok(p, p->sample_type[i]->type) ||
            !str_ok(p, p->sample_type[i]->unit))
            return BAD("sample_type[%zu] has a bad string index", i);
    }
    for (size_t i = 0; i < p->n_sample; i++) {
        const pg_pprof_sample *s = p->sample[i];
        if (!s || s->n_value != p->n_sample_type)
            return BAD("sample[%zu] does not have %zu values", i, p->n_sample_type);
        for (size_t k = 0; k < s->n_location_id; k++) {
            uint64_t id = s->location_id[k];
            if (id == 0 || id > p->n_location)
                return BAD("sample[%zu].location_id[%zu] %llu does not resolve", i, k,
                           (unsigned long long)id);
            loc_used[id - 1] = 1;
        }
        if (check_labels(p, s, i, err) < 0)
            return -1;
    }
    return 0;
}

static int check_locations(const pg_pprof *p, const uint8_t *loc_used, uint8_t *fun_used,
                           pg_error *err)
{
    for (size_t i = 0; i < p->n_location; i++) {
        const pg_pprof_location *l = p->location[i];
        if (!l || l->id != i + 1)
            return BAD("location[%zu] id is not %zu", i, i + 1);
        if (!loc_used[i])
            return BAD("location %zu is not referenced", i + 1);
        if (l->mapping_id > p->n_mapping)
            return BAD("location %zu mapping_id does not resolve", i + 1);
        for (size_t k = 0; k < l->n_line; k++) {
            uint64_t f = l->line[k] ? l->line[k]->function_id : 0;
            if (f == 0 || f > p->n_function)
                return BAD("location %zu line %zu function_id does not resolve", i + 1, k);
            fun_used[f - 1] = 1;
        }
    }
    return 0;
}

static int check_tables(const pg_pprof *p, const uint8_t *fun_used, pg_error *err)
{
    for (size_t i = 0; i < p->n_mapping; i++) {
        const pg_pprof_mapping *m = p->mapping[i];
        if (!m || m->id != i + 1)
            return BAD("mapping[%zu]: id is not %zu", i, i + 1);
        if (!str_ok(p, m->filename) || !str_ok(p, m->build_id))
            return BAD("mapping %zu has a bad string index", i + 1);
    }
    for (size_t i = 0; i < p->n_function; i++) {
        const pg_pprof_function *f = p->function[i];
        if (!f || f->id != i + 1 || !fun_used[i])
            return BAD("function[%zu]: id not %zu or unreferenced", i, i + 1);
        if (!str_ok(p, f->name) || !str_ok(p, f->system_name) || !str_ok(p, f->filename))
            return BAD("function %zu has a bad string index", i + 1);
    }
    for (size_t i = 0; i < p->n_comment; i++) {
        if (!str_ok(p, p->comment[i]))
            return BAD("comment[%zu] has a bad string index", i);
    }
    if (!str_ok(p, p->drop_frames) || !str_ok(p, p->keep_frames) || !str_ok(p, p->doc_url) ||
        !str_ok(p, p->default_sample_type) ||
        (p->period_type && (!str_ok(p, p->period_type->type) || !str_ok(p, p->period_type->unit))))
        return BAD("a profile field has a bad string index");
    return 0;
}

int o2p_check_doc(const pg_pprof *p, pg_error *err)
{
    if (!p->n_string_table || !p->string_table[0] || p->string_table[0][0])
        return BAD("string_table[0] is not \"\"");
    size_t n = p->n_location + p->n_function;
    uint8_t *used = calloc(n ? n : 1, 1);
    if (!used)
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory");
    uint8_t *loc = used, *fun = used + p->n_location;
    int rc = check_samples(p, loc, err);
    if (rc == 0)
        rc = check_locations(p, loc, fun, err);
    if (rc == 0)
        rc = check_tables(p, fun, err);
    free(used);
    return rc < 0 ? PG_ERR_INVALID : 0;
}
