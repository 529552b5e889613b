/*
 * Structural validation of a pprof document, so that the conversions can
 * index its tables without further checks. protobuf-c checks neither UTF-8 nor
 * any cross reference, so everything is checked here. Error paths are
 * rendered only on failure.
 */
#include "convert/convert_internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct vstate {
    const pg_pprof *p;
    pg_error *err;
    size_t n_str;
    int utf8;
} vstate;

/* Formats "<path> <what>" into the error. */
static int failv(const vstate *v, const char *what, const char *fmt, va_list ap)
{
    char path[PG_ERROR_MSG_MAX / 2];
    vsnprintf(path, sizeof(path), fmt, ap);
    return pg_error_set(v->err, PG_ERR_INVALID, "%s%s", path, what);
}

static int fail(const vstate *v, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(const vstate *v, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(v, what, fmt, ap);
    va_end(ap);
    return rc;
}

static int bad_str(const vstate *v, int64_t x, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad_str(const vstate *v, int64_t x, const char *fmt, ...)
{
    char what[128];
    snprintf(what, sizeof(what), " %lld out of range (string table has %zu entries)", (long long)x,
             v->n_str);
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(v, what, fmt, ap);
    va_end(ap);
    return rc;
}

static inline int str_ok(const vstate *v, int64_t x)
{
    return x >= 0 && (uint64_t)x < v->n_str;
}

static int check_strings(const vstate *v)
{
    const pg_pprof *p = v->p;
    if (!p->n_string_table)
        return pg_error_set(v->err, PG_ERR_INVALID, "string_table is empty (entry 0 must be \"\")");
    for (size_t i = 0; i < p->n_string_table; i++) {
        const char *s = p->string_table[i];
        if (!s)
            return fail(v, " is null", "string_table[%zu]", i);
        if (i == 0 && s[0])
            return pg_error_set(v->err, PG_ERR_INVALID, "string_table[0] must be empty");
        if (!v->utf8)
            continue;
        size_t n = strlen(s);
        if (pg_cv_utf8_invalid_at(s, n) != n)
            return fail(v, " is not valid UTF-8", "string_table[%zu]", i);
    }
    return 0;
}

static int check_value_type(const vstate *v, const pg_pprof_value_type *t, const char *name, long i)
{
    char path[64];
    if (i >= 0)
        snprintf(path, sizeof(path), "%s[%ld]", name, i);
    else
        snprintf(path, sizeof(path), "%s", name);
    if (!t)
        return fail(v, " is null", "%s", path);
    if (!str_ok(v, t->type))
        return bad_str(v, t->type, "%s.type", path);
    if (!str_ok(v, t->unit))
        return bad_str(v, t->unit, "%s.unit", path);
    return 0;
}

static int check_header(const vstate *v)
{
    const pg_pprof *p = v->p;
    for (size_t i = 0; i < p->n_sample_type; i++) {
        if (check_value_type(v, p->sample_type[i], "sample_type", (long)i) < 0)
            return -1;
    }
    if (p->period_type && check_value_type(v, p->period_type, "period_type", -1) < 0)
        return -1;
    if (!str_ok(v, p->drop_frames))
        return bad_str(v, p->drop_frames, "drop_frames");
    if (!str_ok(v, p->keep_frames))
        return bad_str(v, p->keep_frames, "keep_frames");
    if (!str_ok(v, p->default_sample_type))
        return bad_str(v, p->default_sample_type, "default_sample_type");
    if (!str_ok(v, p->doc_url))
        return bad_str(v, p->doc_url, "doc_url");
    for (size_t i = 0; i < p->n_comment; i++) {
        if (!str_ok(v, p->comment[i]))
            return bad_str(v, p->comment[i], "comment[%zu]", i);
    }
    return 0;
}

static int check_mappings_functions(const vstate *v)
{
    const pg_pprof *p = v->p;
    for (size_t i = 0; i < p->n_mapping; i++) {
        const pg_pprof_mapping *m = p->mapping[i];
        if (!m)
            return fail(v, " is null", "mapping[%zu]", i);
        if (!str_ok(v, m->filename))
            return bad_str(v, m->filename, "mapping[%zu].filename", i);
        if (!str_ok(v, m->build_id))
            return bad_str(v, m->build_id, "mapping[%zu].build_id", i);
    }
    for (size_t i = 0; i < p->n_function; i++) {
        const pg_pprof_function *f = p->function[i];
        if (!f)
            return fail(v, " is null", "function[%zu]", i);
        if (!str_ok(v, f->name))
            return bad_str(v, f->name, "function[%zu].name", i);
        if (!str_ok(v, f->system_name))
            return bad_str(v, f->system_name, "function[%zu].system_name", i);
        if (!str_ok(v, f->filename))
            return bad_str(v, f->filename, "function[%zu].filename", i);
    }
    for (size_t i = 0; i < p->n_location; i++) {
        if (!p->location[i])
            return fail(v, " is null", "location[%zu]", i);
    }
    return 0;
}

static int build_index(const vstate *v, pg_idmap *m, void *const *items, size_t n, size_t off,
                       const char *table)
{
    pg_idmap_problem why;
    if (pg_idmap_build(m, NULL, items, n, off, &why) == 0)
        return 0;
    switch (why.kind) {
    case PG_IDMAP_ZERO:
        return fail(v, ".id is 0", "%s[%zu]", table, why.position);
    case PG_IDMAP_DUPLICATE:
        return pg_error_set(v->err, PG_ERR_INVALID, "%s id %llu appears twice", table,
                            (unsigned long long)why.id);
    default:
        return pg_error_set(v->err, PG_ERR_NOMEM, "out of memory indexing %s ids", table);
    }
}

static int check_locations(const vstate *v, const pg_idmap *maps, const pg_idmap *funs)
{
    const pg_pprof *p = v->p;
    for (size_t i = 0; i < p->n_location; i++) {
        const pg_pprof_location *l = p->location[i];
        if (l->mapping_id && pg_idmap_find(maps, l->mapping_id) < 0)
            return fail(v, "", "location[%zu].mapping_id %llu does not match any mapping id", i,
                        (unsigned long long)l->mapping_id);
        for (size_t k = 0; k < l->n_line; k++) {
            const pg_pprof_line *ln = l->line[k];
            if (!ln)
                return fail(v, " is null", "location[%zu].line[%zu]", i, k);
            if (pg_idmap_find(funs, ln->function_id) < 0)
                return fail(v, "",
                            "location[%zu].line[%zu].function_id %llu does not match any "
                            "function id",
                            i, k, (unsigned long long)ln->function_id);
        }
    }
    return 0;
}

static int check_labels(const vstate *v, const pg_pprof_sample *s, size_t i)
{
    for (size_t k = 0; k < s->n_label; k++) {
        const pg_pprof_label *l = s->label[k];
        if (!l)
            return fail(v, " is null", "sample[%zu].label[%zu]", i, k);
        if (!str_ok(v, l->key))
            return bad_str(v, l->key, "sample[%zu].label[%zu].key", i, k);
        if (!str_ok(v, l->str))
            return bad_str(v, l->str, "sample[%zu].label[%zu].str", i, k);
        if (!str_ok(v, l->num_unit))
            return bad_str(v, l->num_unit, "sample[%zu].label[%zu].num_unit", i, k);
    }
    return 0;
}

static int check_samples(const vstate *v, const pg_idmap *locs)
{
    const pg_pprof *p = v->p;
    for (size_t i = 0; i < p->n_sample; i++) {
        const pg_pprof_sample *s = p->sample[i];
        if (!s)
            return fail(v, " is null", "sample[%zu]", i);
        if (s->n_value != p->n_sample_type)
            return fail(v, "", "sample[%zu] has %zu value(s) but there are %zu sample types", i,
                        s->n_value, p->n_sample_type);
        for (size_t k = 0; k < s->n_location_id; k++) {
            if (pg_idmap_find(locs, s->location_id[k]) < 0)
                return fail(v, "",
                            "sample[%zu].location_id[%zu] %llu does not match any location id", i,
                            k, (unsigned long long)s->location_id[k]);
        }
        if (check_labels(v, s, i) < 0)
            return -1;
    }
    return 0;
}

static int check_references(const vstate *v)
{
    const pg_pprof *p = v->p;
    pg_idmap maps, funs, locs;
    memset(&funs, 0, sizeof(funs));
    memset(&locs, 0, sizeof(locs));
    int rc = build_index(v, &maps, (void *const *)p->mapping, p->n_mapping,
                         offsetof(pg_pprof_mapping, id), "mapping");
    if (rc == 0)
        rc = build_index(v, &funs, (void *const *)p->function, p->n_function,
                         offsetof(pg_pprof_function, id), "function");
    if (rc == 0)
        rc = build_index(v, &locs, (void *const *)p->location, p->n_location,
                         offsetof(pg_pprof_location, id), "location");
    if (rc == 0)
        rc = check_locations(v, &maps, &funs);
    if (rc == 0)
        rc = check_samples(v, &locs);
    pg_idmap_release(&maps);
    pg_idmap_release(&funs);
    pg_idmap_release(&locs);
    return rc < 0 ? rc : 0;
}

int pg_pprof_validate(const pg_pprof *p, pg_error *err)
{
    return pg_pprof_validate_strings(p, 1, err);
}

int pg_pprof_validate_strings(const pg_pprof *p, int check_utf8, pg_error *err)
{
    if (!p)
        return pg_error_set(err, PG_ERR_INVALID, "no pprof document");
    vstate v = {p, err, p->n_string_table, check_utf8};
    if (check_strings(&v) < 0 || check_header(&v) < 0 || check_mappings_functions(&v) < 0)
        return PG_ERR_INVALID;
    return check_references(&v);
}
