/*
 * Mapping, function and location tables of the direct pprof -> OTLP encoder:
 * pprof entry i becomes OTLP entry i+1 after the zero entry, encoded straight
 * into the table's byte run (field tag included). Each run is reserved once
 * from an upper bound of its size.
 */
#include "convert/pprof_to_otlp_fast_internal.h"

/* The largest encoding of an int32 / 64-bit varint field, tag included. */
#define MAX_I32_FIELD 11
#define MAX_I64_FIELD 11

static int32_t strindex(p2f_ctx *c, int64_t index)
{
    return p2f_strindex(c, p2f_sid(c, index));
}

/* Packed attribute_indices field of n indices. */
static size_t packed_size(const int32_t *v, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += pg_pbs_int(v[i]);
    return n ? pg_pbs_len_field(bytes) : 0;
}

static void packed_write(uint8_t **p, unsigned field, const int32_t *v, size_t n)
{
    if (!n)
        return;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += pg_pbs_int(v[i]);
    pg_pbw_len_head(p, field, bytes);
    for (size_t i = 0; i < n; i++)
        pg_pbw_varint(p, (uint64_t)(int64_t)v[i]);
}

static int mapping_attrs(p2f_ctx *c, const pgw_mapping *m, int32_t *list)
{
    int n = 0;
    uint32_t build_id = p2f_sid(c, m->build_id);
    if (c->strs[build_id].len) {
        int64_t key = p2f_key(c, P2F_KEY_BUILD_ID);
        p2o_attr_key k = {(uint32_t)key, 0, {P2O_STR, build_id}, NULL};
        if (key < 0 || (list[n++] = p2f_attr(c, &k)) < 0)
            return -1;
    }
    const uint8_t flags[4] = {m->has_functions, m->has_filenames, m->has_line_numbers,
                              m->has_inline_frames};
    for (int f = 0; f < 4; f++) {
        if (!flags[f])
            continue;
        int64_t key = p2f_key(c, P2F_KEY_HAS_FUNCTIONS + f);
        p2o_attr_key k = {(uint32_t)key, 0, {P2O_BOOL, 1}, NULL};
        if (key < 0 || (list[n++] = p2f_attr(c, &k)) < 0)
            return -1;
    }
    return n;
}

/* Largest bodies: every field present at its longest. Both stay below 128
 * bytes, so their entries are written with pg_pbw_short_begin. */
#define MAX_MAPPING_BODY  (4 * MAX_I64_FIELD + 2 + 5 * 5)
#define MAX_FUNCTION_BODY (3 * MAX_I32_FIELD + MAX_I64_FIELD)
_Static_assert(MAX_MAPPING_BODY < 128 && MAX_FUNCTION_BODY < 128, "one-byte lengths");

static int mappings(p2f_ctx *c)
{
    const pg_pprof_wire *w = c->w;
    size_t max = MAX_MAPPING_BODY;
    if (p2f_reserve(c, &c->mappings, 2 + w->n_mappings * pg_pbs_len_field(max)) != PG_OK)
        return c->err->code;
    uint8_t *p = c->mappings.p;
    pg_pbw_len_head(&p, 1, 0);
    for (size_t i = 0; i < w->n_mappings; i++) {
        const pgw_mapping *m = &w->mappings[i];
        int32_t filename = strindex(c, m->filename), attrs[5];
        int n = mapping_attrs(c, m, attrs);
        if (n < 0)
            return c->err->code;
        uint8_t *len = pg_pbw_short_begin(&p, 1);
        pg_pbw_int_field(&p, 1, (int64_t)m->memory_start);
        pg_pbw_int_field(&p, 2, (int64_t)m->memory_limit);
        pg_pbw_int_field(&p, 3, (int64_t)m->file_offset);
        pg_pbw_int_field(&p, 4, filename);
        packed_write(&p, 5, attrs, (size_t)n);
        pg_pbw_short_end(&p, len);
    }
    c->mappings.n = (size_t)(p - c->mappings.p);
    return PG_OK;
}

static int functions(p2f_ctx *c)
{
    const pg_pprof_wire *w = c->w;
    size_t max = MAX_FUNCTION_BODY;
    if (p2f_reserve(c, &c->functions, 2 + w->n_functions * pg_pbs_len_field(max)) != PG_OK)
        return c->err->code;
    uint8_t *p = c->functions.p;
    pg_pbw_len_head(&p, 3, 0);
    for (size_t i = 0; i < w->n_functions; i++) {
        const pgw_function *f = &w->functions[i];
        int32_t name = strindex(c, f->name), system_name = strindex(c, f->system_name),
                filename = strindex(c, f->filename);
        uint8_t *len = pg_pbw_short_begin(&p, 3);
        pg_pbw_int_field(&p, 1, name);
        pg_pbw_int_field(&p, 2, system_name);
        pg_pbw_int_field(&p, 3, filename);
        pg_pbw_int_field(&p, 4, f->start_line);
        pg_pbw_short_end(&p, len);
    }
    c->functions.n = (size_t)(p - c->functions.p);
    return PG_OK;
}

static size_t line_size(const pgw_line *l)
{
    return pg_pbs_int_field((int64_t)l->function + 1) + pg_pbs_int_field(l->line) +
           pg_pbs_int_field(l->column);
}

static void location_write(const p2f_ctx *c, const pgw_location *l, int32_t folded, uint8_t **p)
{
    const pgw_line *lines = c->w->lines + l->first_line;
    size_t body = pg_pbs_int_field(l->mapping) + pg_pbs_int_field((int64_t)l->address) +
                  (l->is_folded ? packed_size(&folded, 1) : 0);
    for (uint32_t k = 0; k < l->n_line; k++)
        body += pg_pbs_len_field(line_size(&lines[k]));
    pg_pbw_len_head(p, 2, body);
    pg_pbw_int_field(p, 1, l->mapping);
    pg_pbw_int_field(p, 2, (int64_t)l->address);
    for (uint32_t k = 0; k < l->n_line; k++) {
        pg_pbw_len_head(p, 3, line_size(&lines[k]));
        pg_pbw_int_field(p, 1, (int64_t)lines[k].function + 1);
        pg_pbw_int_field(p, 2, lines[k].line);
        pg_pbw_int_field(p, 3, lines[k].column);
    }
    if (l->is_folded)
        packed_write(p, 4, &folded, 1);
}

static int locations(p2f_ctx *c)
{
    const pg_pprof_wire *w = c->w;
    size_t n_folded = 0;
    for (size_t i = 0; i < w->n_locations; i++)
        n_folded += w->locations[i].is_folded != 0;
    int32_t folded = 0;
    if (n_folded) {
        int64_t key = p2f_key(c, P2F_KEY_FOLDED);
        p2o_attr_key k = {(uint32_t)key, 0, {P2O_BOOL, 1}, NULL};
        if (key < 0 || (folded = p2f_attr(c, &k)) < 0)
            return c->err->code;
    }
    size_t max_line = pg_pbs_len_field(MAX_I32_FIELD + 2 * MAX_I64_FIELD);
    size_t max_loc = pg_pbs_len_field(MAX_I32_FIELD + MAX_I64_FIELD + MAX_I32_FIELD + 2) + 10;
    if (p2f_reserve(c, &c->locations, 2 + w->n_locations * max_loc + w->n_lines * max_line) !=
        PG_OK)
        return c->err->code;
    uint8_t *p = c->locations.p;
    pg_pbw_len_head(&p, 2, 0);
    for (size_t i = 0; i < w->n_locations; i++)
        location_write(c, &w->locations[i], folded, &p);
    c->locations.n = (size_t)(p - c->locations.p);
    return PG_OK;
}

int p2f_tables(p2f_ctx *c)
{
    int rc = mappings(c);
    if (rc == PG_OK)
        rc = functions(c);
    if (rc == PG_OK)
        rc = locations(c);
    return rc;
}
