/*
 * The document half of the fast pprof reader. Two walks over the top-level
 * fields: the first checks the framing, counts every table (descending only
 * into locations, to count their lines), checks the string table's bytes and
 * takes the singular fields; the second fills exact-size arena arrays. Then
 * the checks of pg_pprof_validate that do not concern samples run in the
 * validator's order, so a document with one problem gets the same message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "convert/pprof_wire_internal.h"

typedef struct reader {
    pg_arena *a;
    pg_error *err;
    pg_pprof_wire *w;
    const uint8_t *buf, *end;
} reader;

static int bad_wire(reader *r)
{
    return pg_error_set(r->err, PG_ERR_INVALID, PGW_BAD_WIRE);
}

static int nomem(reader *r)
{
    if (pg_arena_limit_hit(r->a))
        return pg_error_set(r->err, PG_ERR_LIMIT,
                            "the decoded document (%zu bytes encoded) exceeds the memory limit",
                            (size_t)(r->end - r->buf));
    return pg_error_set(r->err, PG_ERR_NOMEM, "out of memory reading the document");
}

/* ---- messages inside the document ---- */

/* The parsers test the expected keys one after the other: conditional
 * branches that predict well when every message has the same layout, and
 * stores straight into the result (values kept in a local array indexed by
 * field number made the compiler keep the read position in memory). */

static int parse_value_type(const uint8_t *p, size_t n, pgw_value_type *t)
{
    const uint8_t *end = p + n;
    pgw_field f;
    int rc;
    *t = (pgw_value_type){0, 0};
    while ((rc = pgw_next(&p, end, &f)) > 0) {
        if (f.key == PGW_KEY(1, PGW_VARINT))
            t->type = (int64_t)f.v;
        else if (f.key == PGW_KEY(2, PGW_VARINT))
            t->unit = (int64_t)f.v;
        else if (pgw_misplaced(f.key, 2))
            return -1;
    }
    return rc;
}

static int parse_function(const uint8_t *p, size_t n, pgw_function *fn)
{
    const uint8_t *end = p + n;
    pgw_field f;
    int rc;
    *fn = (pgw_function){0, 0, 0, 0, 0};
    while ((rc = pgw_next(&p, end, &f)) > 0) {
        if (f.key == PGW_KEY(1, PGW_VARINT))
            fn->id = f.v;
        else if (f.key == PGW_KEY(2, PGW_VARINT))
            fn->name = (int64_t)f.v;
        else if (f.key == PGW_KEY(3, PGW_VARINT))
            fn->system_name = (int64_t)f.v;
        else if (f.key == PGW_KEY(4, PGW_VARINT))
            fn->filename = (int64_t)f.v;
        else if (f.key == PGW_KEY(5, PGW_VARINT))
            fn->start_line = (int64_t)f.v;
        else if (pgw_misplaced(f.key, 5))
            return -1;
    }
    return rc;
}

static int parse_line(const uint8_t *p, size_t n, pgw_line *ln)
{
    const uint8_t *end = p + n;
    pgw_field f;
    int rc;
    *ln = (pgw_line){0, 0, 0, 0};
    while ((rc = pgw_next(&p, end, &f)) > 0) {
        if (f.key == PGW_KEY(1, PGW_VARINT))
            ln->function_id = f.v;
        else if (f.key == PGW_KEY(2, PGW_VARINT))
            ln->line = (int64_t)f.v;
        else if (f.key == PGW_KEY(3, PGW_VARINT))
            ln->column = (int64_t)f.v;
        else if (pgw_misplaced(f.key, 3))
            return -1;
    }
    return rc;
}

/* Fields 1..6 are varints, 7..10 bools (any wire type reads as one). */
static int parse_mapping(const uint8_t *p, size_t n, pgw_mapping *m)
{
    const uint8_t *end = p + n;
    pgw_field f;
    uint64_t v[10] = {0};
    int rc = 0;
    while (rc == 0 && (rc = pgw_next_raw(&p, end, &f)) > 0) {
        rc = pgw_misplaced(f.key, 6) && pgw_wt(f.key) != PGW_VARINT ? -1 : 0;
        if (pgw_misplaced(f.key, 6))
            v[pgw_num(f.key) - 1] = f.v;
        else if (pgw_misplaced(f.key, 10))
            v[pgw_num(f.key) - 1] = pgw_bool(&f, p);
    }
    *m = (pgw_mapping){v[0],          v[1],          v[2],          v[3],          (int64_t)v[4],
                       (int64_t)v[5], (uint8_t)v[6], (uint8_t)v[7], (uint8_t)v[8], (uint8_t)v[9]};
    return rc;
}

/* Lines of a location, for sizing; malformed bytes stop the count and
 * parse_location reports them. */
static size_t count_lines(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    pgw_field f;
    size_t k = 0;
    while (pgw_next(&p, end, &f) > 0)
        k += f.key == PGW_KEY(4, PGW_LEN);
    return k;
}

/* Appends the location's lines to w->lines, which has room for max_lines. */
static int parse_location(pg_pprof_wire *w, const uint8_t *p, size_t n, size_t max_lines,
                          pgw_location *l)
{
    const uint8_t *end = p + n;
    pgw_field f;
    int rc;
    *l = (pgw_location){.first_line = (uint32_t)w->n_lines};
    while ((rc = pgw_next_raw(&p, end, &f)) > 0) {
        if (f.key == PGW_KEY(1, PGW_VARINT)) {
            l->id = f.v;
        } else if (f.key == PGW_KEY(3, PGW_VARINT)) {
            l->address = f.v;
        } else if (f.key == PGW_KEY(4, PGW_LEN)) {
            if (w->n_lines >= max_lines || parse_line(f.p, f.n, &w->lines[w->n_lines]) < 0)
                return -1;
            w->n_lines++;
            l->n_line++;
        } else if (f.key == PGW_KEY(2, PGW_VARINT)) {
            l->mapping_id = f.v;
        } else if (pgw_num(f.key) == 5) {
            l->is_folded = pgw_bool(&f, p);
        } else if (pgw_misplaced(f.key, 4)) {
            return -1;
        }
    }
    return rc;
}

/* ---- first walk: framing, counts, strings, singular fields ---- */

/* True when s is ASCII without NUL, eight bytes at a time: most strings of
 * a profile are, and then one pass replaces the UTF-8 check and memchr. */
static int plain_ascii(const uint8_t *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t bad = 0, x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        bad |= x | ((x - ones) & ~x & highs);
    }
    for (; i < n; i++)
        bad |= (uint64_t)(s[i] ? s[i] : 0x80);
    return !(bad & highs);
}

/* check_encoded_strings' checks, in its order: UTF-8, then NUL. */
static int check_string(reader *r, const uint8_t *p, size_t n, size_t index)
{
    const char *s = (const char *)p;
    if (plain_ascii(p, n))
        return 0;
    if (pg_cv_utf8_invalid_at(s, n) != n)
        return pg_error_set(r->err, PG_ERR_INVALID, "string_table[%zu] is not valid UTF-8", index);
    if (memchr(s, 0, n))
        return pg_error_set(r->err, PG_ERR_UNSUPPORTED, "string_table[%zu] contains a NUL byte",
                            index);
    return 0;
}

static int64_t *singular(pg_pprof_wire *w, uint64_t key)
{
    switch (key) {
    case PGW_KEY(7, PGW_VARINT):
        return &w->drop_frames;
    case PGW_KEY(8, PGW_VARINT):
        return &w->keep_frames;
    case PGW_KEY(9, PGW_VARINT):
        return &w->time_nanos;
    case PGW_KEY(10, PGW_VARINT):
        return &w->duration_nanos;
    case PGW_KEY(12, PGW_VARINT):
        return &w->period;
    case PGW_KEY(14, PGW_VARINT):
        return &w->default_sample_type;
    case PGW_KEY(15, PGW_VARINT):
        return &w->doc_url;
    default:
        return NULL;
    }
}

/* The rarer top-level fields: singular ones, comments, period_type; 0, or
 * -1 for a wire error. */
static int count_other(reader *r, pgw_field field)
{
    const pgw_field *f = &field;
    pg_pprof_wire *w = r->w;
    int64_t *dst = singular(w, f->key);
    size_t k = 1;
    if (dst) {
        *dst = (int64_t)f->v;
        return 0;
    }
    switch (f->key) {
    case PGW_KEY(13, PGW_LEN):
        if (!pgw_packed_count(f->p, f->n, &k))
            return -1;
        /* fall through */
    case PGW_KEY(13, PGW_VARINT):
        w->n_comments += k;
        return 0;
    case PGW_KEY(11, PGW_LEN):
        /* protobuf-c 1.4 "merges" a repeated period_type by keeping the
         * last one's scalars, but every copy must parse */
        w->has_period_type = 1;
        return parse_value_type(f->p, f->n, &w->period_type);
    default:
        return pgw_misplaced(f->key, 15) ? -1 : 0;
    }
}

/* Tests the kinds by frequency (samples, strings, locations, functions) with
 * conditional branches, and counts in locals: both keep the loop in
 * registers, where a switch and counters in *w did not. */
static int first_walk(reader *r)
{
    pg_pprof_wire *w = r->w;
    const uint8_t *p = r->buf;
    size_t samples = 0, max_sample = 0, strings = 0, locations = 0, lines = 0, functions = 0;
    pgw_field f;
    int rc;
    while ((rc = pgw_next(&p, r->end, &f)) > 0) {
        if (f.key == PGW_KEY(2, PGW_LEN)) {
            samples++;
            max_sample = f.n > max_sample ? f.n : max_sample;
        } else if (f.key == PGW_KEY(6, PGW_LEN)) {
            if (check_string(r, f.p, f.n, strings) < 0)
                return r->err->code;
            strings++;
        } else if (f.key == PGW_KEY(4, PGW_LEN)) {
            locations++;
            lines += count_lines(f.p, f.n);
        } else if (f.key == PGW_KEY(5, PGW_LEN)) {
            functions++;
        } else if (f.key == PGW_KEY(1, PGW_LEN)) {
            w->n_sample_types++;
        } else if (f.key == PGW_KEY(3, PGW_LEN)) {
            w->n_mappings++;
        } else if (count_other(r, f) < 0) {
            return bad_wire(r);
        }
    }
    w->n_samples = samples;
    w->max_sample_bytes = max_sample;
    w->n_strings = strings;
    w->n_locations = locations;
    w->n_lines = lines;
    w->n_functions = functions;
    return rc < 0 ? bad_wire(r) : 0;
}

/* ---- second walk: the tables ---- */

static void *table(reader *r, size_t n, size_t size, int *failed)
{
    if (!n)
        return NULL;
    void *p = n <= SIZE_MAX / size ? pg_arena_alloc(r->a, n * size) : NULL;
    *failed |= p == NULL;
    return p;
}

static int alloc_tables(reader *r)
{
    pg_pprof_wire *w = r->w;
    int failed = 0;
    w->strings = table(r, w->n_strings, sizeof(*w->strings), &failed);
    w->sample_types = table(r, w->n_sample_types, sizeof(*w->sample_types), &failed);
    w->samples = table(r, w->n_samples, sizeof(*w->samples), &failed);
    w->mappings = table(r, w->n_mappings, sizeof(*w->mappings), &failed);
    w->locations = table(r, w->n_locations, sizeof(*w->locations), &failed);
    w->lines = table(r, w->n_lines, sizeof(*w->lines), &failed);
    w->functions = table(r, w->n_functions, sizeof(*w->functions), &failed);
    w->comments = table(r, w->n_comments, sizeof(*w->comments), &failed);
    if (failed || w->n_lines > UINT32_MAX)
        return nomem(r);
    return 0;
}

static void fill_comments(pg_pprof_wire *w, pgw_field field, size_t *k)
{
    const pgw_field *f = &field;
    if (pgw_wt(f->key) == PGW_VARINT) {
        w->comments[(*k)++] = (int64_t)f->v;
        return;
    }
    const uint8_t *p = f->p, *end = f->p + f->n;
    uint64_t v;
    while (p < end && pgw_varint(&p, end, &v))
        w->comments[(*k)++] = (int64_t)v;
}

/* The first walk checked the framing and the wire types of these fields,
 * and counted them: each table has exactly the room its fields need. */
static int second_walk(reader *r)
{
    pg_pprof_wire *w = r->w;
    size_t lines = w->n_lines, comments = 0;
    pgw_span *sample = w->samples;
    pgw_str *str = w->strings;
    pgw_location *loc = w->locations;
    pgw_function *fn = w->functions;
    pgw_value_type *type = w->sample_types;
    pgw_mapping *map = w->mappings;
    const uint8_t *p = r->buf;
    pgw_field f;
    w->n_lines = 0;
    while (pgw_next(&p, r->end, &f) > 0) {
        int rc = 0;
        if (f.key == PGW_KEY(2, PGW_LEN))
            *sample++ = (pgw_span){f.p, f.n};
        else if (f.key == PGW_KEY(6, PGW_LEN))
            *str++ =
                (pgw_str){(const char *)f.p, (uint32_t)f.n, (uint32_t)pg_hash_bytes(f.p, f.n, 0)};
        else if (f.key == PGW_KEY(4, PGW_LEN))
            rc = parse_location(w, f.p, f.n, lines, loc++);
        else if (f.key == PGW_KEY(5, PGW_LEN))
            rc = parse_function(f.p, f.n, fn++);
        else if (f.key == PGW_KEY(1, PGW_LEN))
            rc = parse_value_type(f.p, f.n, type++);
        else if (f.key == PGW_KEY(3, PGW_LEN))
            rc = parse_mapping(f.p, f.n, map++);
        else if (pgw_num(f.key) == 13)
            fill_comments(w, f, &comments);
        if (rc < 0)
            return bad_wire(r);
    }
    return 0;
}

/* ---- the validator's checks ---- */

/* Checks sample_type[i] (i >= 0) or period_type (i < 0). */
static int check_value_type(reader *r, const pgw_value_type *t, long i)
{
    size_t n = r->w->n_strings;
    const char *name = i < 0 ? "period_type" : "sample_type";
    char index[32] = "";
    int type_ok = pgw_str_ok(t->type, n);
    if (type_ok && pgw_str_ok(t->unit, n))
        return 0;
    if (i >= 0)
        snprintf(index, sizeof(index), "[%ld]", i);
    if (!type_ok)
        return pgw_bad_str(r->err, t->type, n, "%s%s.type", name, index);
    return pgw_bad_str(r->err, t->unit, n, "%s%s.unit", name, index);
}

static int check_header(reader *r)
{
    const pg_pprof_wire *w = r->w;
    size_t n = w->n_strings;
    if (!n)
        return pg_error_set(r->err, PG_ERR_INVALID, "string_table is empty (entry 0 must be \"\")");
    if (w->strings[0].len)
        return pg_error_set(r->err, PG_ERR_INVALID, "string_table[0] must be empty");
    for (size_t i = 0; i < w->n_sample_types; i++) {
        if (check_value_type(r, &w->sample_types[i], (long)i) < 0)
            return PG_ERR_INVALID;
    }
    if (w->has_period_type && check_value_type(r, &w->period_type, -1) < 0)
        return PG_ERR_INVALID;
    const int64_t v[4] = {w->drop_frames, w->keep_frames, w->default_sample_type, w->doc_url};
    const char *const name[4] = {"drop_frames", "keep_frames", "default_sample_type", "doc_url"};
    for (int i = 0; i < 4; i++) {
        if (!pgw_str_ok(v[i], n))
            return pgw_bad_str(r->err, v[i], n, "%s", name[i]);
    }
    for (size_t i = 0; i < w->n_comments; i++) {
        if (!pgw_str_ok(w->comments[i], n))
            return pgw_bad_str(r->err, w->comments[i], n, "comment[%zu]", i);
    }
    return 0;
}

static int check_tables(reader *r)
{
    const pg_pprof_wire *w = r->w;
    size_t n = w->n_strings;
    for (size_t i = 0; i < w->n_mappings; i++) {
        const pgw_mapping *m = &w->mappings[i];
        if (!pgw_str_ok(m->filename, n))
            return pgw_bad_str(r->err, m->filename, n, "mapping[%zu].filename", i);
        if (!pgw_str_ok(m->build_id, n))
            return pgw_bad_str(r->err, m->build_id, n, "mapping[%zu].build_id", i);
    }
    for (size_t i = 0; i < w->n_functions; i++) {
        const pgw_function *f = &w->functions[i];
        if (!pgw_str_ok(f->name, n))
            return pgw_bad_str(r->err, f->name, n, "function[%zu].name", i);
        if (!pgw_str_ok(f->system_name, n))
            return pgw_bad_str(r->err, f->system_name, n, "function[%zu].system_name", i);
        if (!pgw_str_ok(f->filename, n))
            return pgw_bad_str(r->err, f->filename, n, "function[%zu].filename", i);
    }
    return 0;
}

static int index_ids(reader *r, pg_idmap *m, const void *items, size_t n, size_t stride, size_t off,
                     const char *name)
{
    pg_idmap_problem why;
    if (pg_idmap_build_array(m, r->a, items, n, stride, off, &why) == 0)
        return 0;
    switch (why.kind) {
    case PG_IDMAP_ZERO:
        return pg_error_set(r->err, PG_ERR_INVALID, "%s[%zu].id is 0", name, why.position);
    case PG_IDMAP_DUPLICATE:
        return pg_error_set(r->err, PG_ERR_INVALID, "%s id %llu appears twice", name,
                            (unsigned long long)why.id);
    default:
        return nomem(r);
    }
}

/* Resolves every location's mapping and every line's function. */
static int link_locations(reader *r, const pg_idmap *maps, const pg_idmap *funs)
{
    pg_pprof_wire *w = r->w;
    for (size_t i = 0; i < w->n_locations; i++) {
        pgw_location *l = &w->locations[i];
        if (l->mapping_id) {
            int64_t m = pg_idmap_find(maps, l->mapping_id);
            if (m < 0)
                return pg_error_set(r->err, PG_ERR_INVALID,
                                    "location[%zu].mapping_id %llu does not match any mapping id",
                                    i, (unsigned long long)l->mapping_id);
            l->mapping = (uint32_t)m + 1;
        }
        for (uint32_t k = 0; k < l->n_line; k++) {
            pgw_line *ln = &w->lines[l->first_line + k];
            int64_t f = pg_idmap_find(funs, ln->function_id);
            if (f < 0)
                return pg_error_set(r->err, PG_ERR_INVALID,
                                    "location[%zu].line[%u].function_id %llu does not match any "
                                    "function id",
                                    i, k, (unsigned long long)ln->function_id);
            ln->function = (uint32_t)f;
        }
    }
    return 0;
}

static int check_references(reader *r)
{
    pg_pprof_wire *w = r->w;
    pg_idmap maps, funs;
    int rc = index_ids(r, &maps, w->mappings, w->n_mappings, sizeof(pgw_mapping),
                       offsetof(pgw_mapping, id), "mapping");
    if (rc == 0)
        rc = index_ids(r, &funs, w->functions, w->n_functions, sizeof(pgw_function),
                       offsetof(pgw_function, id), "function");
    if (rc == 0)
        rc = index_ids(r, &w->location_ids, w->locations, w->n_locations, sizeof(pgw_location),
                       offsetof(pgw_location, id), "location");
    if (rc == 0)
        rc = link_locations(r, &maps, &funs);
    return rc;
}

/* .NET numbers its functions by position and leaves every id 0. */
static void repair_function_ids(pg_pprof_wire *w)
{
    for (size_t i = 0; i < w->n_functions; i++) {
        if (w->functions[i].id)
            return;
    }
    for (size_t i = 0; i < w->n_functions; i++)
        w->functions[i].id = i + 1;
}

static int read_document(reader *r)
{
    int rc = first_walk(r);
    if (rc == 0)
        rc = alloc_tables(r);
    if (rc == 0)
        rc = second_walk(r);
    if (rc < 0)
        return rc;
    repair_function_ids(r->w);
    if (check_header(r) < 0 || check_tables(r) < 0)
        return PG_ERR_INVALID;
    return check_references(r);
}

int pg_pprof_wire_read(pg_arena *a, const uint8_t *buf, size_t len, uint64_t max_decompressed,
                       pg_pprof_wire *w, pg_error *err)
{
    static const uint8_t empty[1];
    memset(w, 0, sizeof(*w));
    const uint8_t *data;
    size_t n;
    int inflated = pg_pprof_inflate(a, buf, len, max_decompressed, &data, &n, err);
    if (inflated != PG_OK)
        return inflated;
    if (!n)
        data = empty;
    reader r = {a, err, w, data, data + n};
    int rc = read_document(&r);
    if (rc < 0) {
        pg_error_prefix(err, "pprof: ");
        memset(w, 0, sizeof(*w));
    }
    return rc;
}
