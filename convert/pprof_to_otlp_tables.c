/*
 * Mapping, function and location tables of the pprof -> OTLP conversion.
 * pprof entry i becomes OTLP entry i+1 (entry 0 is the zero entry), so ids
 * resolve to positions through the id indexes and nothing is re-ordered.
 * Each table is allocated in one piece, sized from the input.
 */
#include "convert/convert_internal.h"

#include <stddef.h>

static const pg_otlp_mapping mapping_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__MAPPING__INIT;
static const pg_otlp_function function_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__FUNCTION__INIT;
static const pg_otlp_location location_init =
    OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LOCATION__INIT;
static const pg_otlp_line line_init = OPENTELEMETRY__PROTO__PROFILES__V1DEVELOPMENT__LINE__INIT;

static int index_ids(p2o_ctx *c, pg_idmap *m, void *const *items, size_t n, size_t off,
                     const char *table)
{
    pg_idmap_problem why;
    if (n >= INT32_MAX)
        return pg_error_set(c->err, PG_ERR_LIMIT, "%s has too many entries for OTLP", table);
    if (pg_idmap_build(m, c->a, items, n, off, &why) == 0)
        return PG_OK;
    if (why.kind == PG_IDMAP_ZERO)
        return pg_error_set(c->err, PG_ERR_INVALID, "%s[%zu].id is 0", table, why.position);
    if (why.kind == PG_IDMAP_DUPLICATE)
        return pg_error_set(c->err, PG_ERR_INVALID, "%s id %llu appears twice", table,
                            (unsigned long long)why.id);
    return p2o_nomem(c);
}

/* Index of a pprof string in the OTLP table; -1 with the error set. */
static int32_t strindex(p2o_ctx *c, int64_t index, const char *field)
{
    int64_t sid = p2o_sid(c, index, field);
    return sid < 0 ? -1 : p2o_strindex(c, (uint32_t)sid);
}

static int mapping_attrs(p2o_ctx *c, const pg_pprof_mapping *m, pg_otlp_mapping *o, int32_t *pool)
{
    int64_t build_id = p2o_sid(c, m->build_id, "mapping.build_id");
    if (build_id < 0)
        return -1;
    size_t n = 0;
    if (c->strs[build_id].len) {
        p2o_attr_key k = {c->k_build_id, 0, {P2O_STR, build_id}, NULL};
        if ((pool[n++] = p2o_attr(c, &k)) < 0)
            return -1;
    }
    const protobuf_c_boolean flags[4] = {m->has_functions, m->has_filenames, m->has_line_numbers,
                                         m->has_inline_frames};
    for (int f = 0; f < 4; f++) {
        if (!flags[f])
            continue;
        p2o_attr_key k = {c->k_has[f], 0, {P2O_BOOL, 1}, NULL};
        if ((pool[n++] = p2o_attr(c, &k)) < 0)
            return -1;
    }
    o->n_attribute_indices = n;
    o->attribute_indices = n ? pool : NULL;
    return (int)n;
}

static int mappings(p2o_ctx *c)
{
    size_t n = c->p->n_mapping;
    pg_otlp_mapping *ms = pg_arena_alloc(c->a, (n + 1) * sizeof(*ms));
    pg_otlp_mapping **ptrs = pg_arena_alloc(c->a, (n + 1) * sizeof(*ptrs));
    int32_t *pool = pg_arena_alloc(c->a, (n * 5 + 1) * sizeof(*pool));
    if (!ms || !ptrs || !pool)
        return p2o_nomem(c);
    ms[0] = mapping_init;
    ptrs[0] = &ms[0];
    for (size_t i = 0; i < n; i++) {
        const pg_pprof_mapping *m = c->p->mapping[i];
        pg_otlp_mapping *o = &ms[i + 1];
        *o = mapping_init;
        o->memory_start = m->memory_start;
        o->memory_limit = m->memory_limit;
        o->file_offset = m->file_offset;
        o->filename_strindex = strindex(c, m->filename, "mapping.filename");
        int used = o->filename_strindex < 0 ? -1 : mapping_attrs(c, m, o, pool);
        if (used < 0)
            return c->err ? c->err->code : PG_ERR_INVALID;
        pool += used;
        ptrs[i + 1] = o;
    }
    c->dict->n_mapping_table = n + 1;
    c->dict->mapping_table = ptrs;
    return PG_OK;
}

static int functions(p2o_ctx *c)
{
    size_t n = c->p->n_function;
    pg_otlp_function *fs = pg_arena_alloc(c->a, (n + 1) * sizeof(*fs));
    pg_otlp_function **ptrs = pg_arena_alloc(c->a, (n + 1) * sizeof(*ptrs));
    if (!fs || !ptrs)
        return p2o_nomem(c);
    fs[0] = function_init;
    ptrs[0] = &fs[0];
    for (size_t i = 0; i < n; i++) {
        const pg_pprof_function *f = c->p->function[i];
        pg_otlp_function *o = &fs[i + 1];
        *o = function_init;
        o->name_strindex = strindex(c, f->name, "function.name");
        o->system_name_strindex = strindex(c, f->system_name, "function.system_name");
        o->filename_strindex = strindex(c, f->filename, "function.filename");
        if (o->name_strindex < 0 || o->system_name_strindex < 0 || o->filename_strindex < 0)
            return c->err ? c->err->code : PG_ERR_INVALID;
        o->start_line = f->start_line;
        ptrs[i + 1] = o;
    }
    c->dict->n_function_table = n + 1;
    c->dict->function_table = ptrs;
    return PG_OK;
}

static int location_lines(p2o_ctx *c, const pg_pprof_location *l, size_t i, pg_otlp_location *o,
                          pg_otlp_line **lines, pg_otlp_line **ptrs)
{
    for (size_t k = 0; k < l->n_line; k++) {
        const pg_pprof_line *ln = l->line[k];
        int64_t f = pg_idmap_find(&c->functions, ln->function_id);
        if (f < 0)
            return pg_error_set(c->err, PG_ERR_INVALID,
                                "location[%zu].line[%zu].function_id %llu does not match any "
                                "function id",
                                i, k, (unsigned long long)ln->function_id);
        pg_otlp_line *out = (*lines)++;
        *out = line_init;
        out->function_index = (int32_t)f + 1;
        out->line = ln->line;
        out->column = ln->column;
        ptrs[k] = out;
    }
    o->n_lines = l->n_line;
    o->lines = l->n_line ? ptrs : NULL;
    return PG_OK;
}

static int locations(p2o_ctx *c)
{
    const pg_pprof *p = c->p;
    size_t n = p->n_location, n_lines = 0, n_folded = 0;
    for (size_t i = 0; i < n; i++) {
        n_lines += p->location[i]->n_line;
        n_folded += p->location[i]->is_folded != 0;
    }
    pg_otlp_location *ls = pg_arena_alloc(c->a, (n + 1) * sizeof(*ls));
    pg_otlp_location **ptrs = pg_arena_alloc(c->a, (n + 1) * sizeof(*ptrs));
    pg_otlp_line *lines = pg_arena_alloc(c->a, (n_lines + 1) * sizeof(*lines));
    pg_otlp_line **line_ptrs = pg_arena_alloc(c->a, (n_lines + 1) * sizeof(*line_ptrs));
    int32_t *folded = pg_arena_alloc(c->a, sizeof(int32_t));
    if (!ls || !ptrs || !lines || !line_ptrs || !folded)
        return p2o_nomem(c);
    if (n_folded) {
        p2o_attr_key k = {c->k_folded, 0, {P2O_BOOL, 1}, NULL};
        if ((*folded = p2o_attr(c, &k)) < 0)
            return c->err->code;
    }
    ls[0] = location_init;
    ptrs[0] = &ls[0];
    for (size_t i = 0; i < n; i++) {
        const pg_pprof_location *l = p->location[i];
        pg_otlp_location *o = &ls[i + 1];
        *o = location_init;
        if (l->mapping_id) {
            int64_t m = pg_idmap_find(&c->mappings, l->mapping_id);
            if (m < 0)
                return pg_error_set(c->err, PG_ERR_INVALID,
                                    "location[%zu].mapping_id %llu does not match any mapping id",
                                    i, (unsigned long long)l->mapping_id);
            o->mapping_index = (int32_t)m + 1;
        }
        o->address = l->address;
        if (location_lines(c, l, i, o, &lines, line_ptrs) != PG_OK)
            return c->err->code;
        line_ptrs += l->n_line;
        if (l->is_folded) {
            o->n_attribute_indices = 1;
            o->attribute_indices = folded; /* shared: read-only after the conversion */
        }
        ptrs[i + 1] = o;
    }
    c->dict->n_location_table = n + 1;
    c->dict->location_table = ptrs;
    return PG_OK;
}

int p2o_tables(p2o_ctx *c)
{
    const pg_pprof *p = c->p;
    int rc = index_ids(c, &c->mappings, (void *const *)p->mapping, p->n_mapping,
                       offsetof(pg_pprof_mapping, id), "mapping");
    if (rc == PG_OK)
        rc = index_ids(c, &c->functions, (void *const *)p->function, p->n_function,
                       offsetof(pg_pprof_function, id), "function");
    if (rc == PG_OK)
        rc = index_ids(c, &c->locations, (void *const *)p->location, p->n_location,
                       offsetof(pg_pprof_location, id), "location");
    if (rc == PG_OK)
        rc = mappings(c);
    if (rc == PG_OK)
        rc = functions(c);
    if (rc == PG_OK)
        rc = locations(c);
    return rc;
}
