/*
 * The per-sample half of the fast pprof reader: one Sample message parsed
 * into reusable scratch space and checked as pg_pprof_validate checks it
 * (value count, then location ids, then label string indices), plus the
 * slow paths of the wire primitives.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "convert/pprof_wire_internal.h"

int pgw_varint_slow(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    /* ten bytes at most; the tenth contributes only bit 63 */
    if (end - p >= 10) {
        for (unsigned i = 0; i < 10; i++) {
            x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (p[i] < 0x80) {
                *v = x;
                *pp = p + i + 1;
                return 1;
            }
        }
        return 0;
    }
    for (unsigned shift = 0; p < end; shift += 7) {
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

int pgw_tag_slow(const uint8_t **pp, const uint8_t *end, uint64_t *key)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (unsigned i = 0; i < 5 && p < end; i++) {
        uint8_t c = *p++;
        x |= (uint64_t)(c & 0x7f) << (7 * i);
        if (!(c & 0x80)) {
            if (i == 0 && x < 8)
                return 0;
            *key = x; /* 35 bits at most: a 32-bit field number */
            *pp = p;
            return 1;
        }
    }
    return 0;
}

int pgw_packed_count(const uint8_t *p, size_t n, size_t *count)
{
    const uint8_t *end = p + n;
    size_t k = 0;
    uint64_t v;
    while (p < end) {
        if (!pgw_varint(&p, end, &v))
            return 0;
        k++;
    }
    *count = k;
    return 1;
}

int pgw_bad_str(pg_error *err, int64_t x, size_t n_str, const char *fmt, ...)
{
    char path[PG_ERROR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    return pg_error_set(err, PG_ERR_INVALID, "%s %lld out of range (string table has %zu entries)",
                        path, (long long)x, n_str);
}

int pg_pprof_wire_sample_init(pg_arena *a, const pg_pprof_wire *w, pgw_sample *s, pg_error *err)
{
    memset(s, 0, sizeof(*s));
    /* every location id, value and label takes at least one byte */
    size_t cap = w->max_sample_bytes ? w->max_sample_bytes : 1;
    if (cap > SIZE_MAX / sizeof(pgw_label))
        return pg_error_set(err, PG_ERR_LIMIT, "a sample of %zu bytes is too large", cap);
    s->locations = pg_arena_alloc(a, cap * sizeof(*s->locations));
    s->values = pg_arena_alloc(a, cap * sizeof(*s->values));
    s->labels = pg_arena_alloc(a, cap * sizeof(*s->labels));
    if (!s->locations || !s->values || !s->labels) {
        if (pg_arena_limit_hit(a))
            return pg_error_set(err, PG_ERR_LIMIT,
                                "the scratch space for a sample of %zu bytes exceeds the memory "
                                "limit",
                                cap);
        return pg_error_set(err, PG_ERR_NOMEM, "out of memory allocating sample scratch space");
    }
    s->cap = cap;
    return PG_OK;
}

/* A label (key, str, num, num_unit); the largest of its string indices
 * (as unsigned) is folded into *str_max. */
static int parse_label(const uint8_t *p, const uint8_t *end, pgw_label *l, uint64_t *str_max)
{
    pgw_field f = {0}; /* gcc cannot see that pgw_next fills it before use */
    uint64_t m = *str_max;
    int rc;
    *l = (pgw_label){0, 0, 0, 0};
    while ((rc = pgw_next(&p, end, &f)) > 0) {
        if (f.key == PGW_KEY(1, PGW_VARINT))
            l->key = (int64_t)f.v;
        else if (f.key == PGW_KEY(2, PGW_VARINT))
            l->str = (int64_t)f.v;
        else if (f.key == PGW_KEY(3, PGW_VARINT))
            l->num = (int64_t)f.v;
        else if (f.key == PGW_KEY(4, PGW_VARINT))
            l->num_unit = (int64_t)f.v;
        else if (pgw_misplaced(f.key, 4))
            return -1;
        else
            continue;
        /* num is no index. The maximum may keep a value a later one
         * replaced: then the full check runs, and finds nothing. */
        if (f.key != PGW_KEY(3, PGW_VARINT) && f.v > m)
            m = f.v;
    }
    *str_max = m;
    return rc;
}

/* First location id that does not resolve. */
typedef struct dangling {
    size_t at;
    uint64_t id;
} dangling;

/* Stores the position + 1 of location id at out (0 when it does not
 * resolve); first is the start of the sample's array. */
static inline int32_t *add_id(const pg_idmap *m, int32_t *out, const int32_t *first, uint64_t id,
                              dangling *d)
{
    int32_t at = (int32_t)(pg_idmap_find(m, id) + 1);
    if (!at && d->at == SIZE_MAX) {
        d->at = (size_t)(out - first);
        d->id = id;
    }
    *out = at;
    return out + 1;
}

/* True when the 8 bytes of x are 8 one-byte varints, each an id in 1..n:
 * no high bit, no zero byte, none above n. */
static inline int eight_small_ids(uint64_t x, uint64_t n)
{
    if (x & PGW_BYTES(0x80))
        return 0;
    if ((x - PGW_BYTES(1)) & ~x & PGW_BYTES(0x80))
        return 0;
    /* a byte b <= 0x7f reaches 0x80 exactly when b > n (no carry: b + 0x7f - n < 0x100) */
    return n >= 0x7f || !((x + PGW_BYTES(0x7f - n)) & PGW_BYTES(0x80));
}

/* Appends the packed location ids of [p, stop); NULL when a varint is
 * malformed. Ids 1..n in table order (the common case) cost a compare per
 * id, and one-byte ids are taken eight at a time. */
static int32_t *add_locations(const pg_idmap *m, const uint8_t *p, const uint8_t *stop,
                              int32_t *out, const int32_t *first, dangling *d)
{
    uint64_t id, n = m->n;
    if (m->mode != PG_IDMAP_SEQUENTIAL) {
        while (p < stop) {
            if (!pgw_varint(&p, stop, &id))
                return NULL;
            out = add_id(m, out, first, id, d);
        }
        return out;
    }
    while (p < stop) {
#if PGW_LITTLE_ENDIAN
        uint64_t x;
        if (stop - p >= 8) {
            memcpy(&x, p, 8);
            if (eight_small_ids(x, n)) {
                for (int k = 0; k < 8; k++)
                    out[k] = (int32_t)((x >> (8 * k)) & 0xff);
                out += 8;
                p += 8;
                continue;
            }
            /* the id from the bytes at hand */
            if (!(x & 0x80)) {
                id = x & 0x7f;
                p++;
            } else if (!(x & 0x8000)) {
                id = (x & 0x7f) | ((x >> 1) & 0x3f80);
                p += 2;
            } else if (!pgw_varint(&p, stop, &id)) {
                return NULL;
            }
        } else if (!pgw_varint(&p, stop, &id)) {
            return NULL;
        }
#else
        if (!pgw_varint(&p, stop, &id))
            return NULL;
#endif
        if (id - 1 >= n && d->at == SIZE_MAX) {
            d->at = (size_t)(out - first);
            d->id = id;
        }
        *out++ = id - 1 < n ? (int32_t)id : 0;
    }
    return out;
}

/* Appends the packed values of [p, stop); NULL when a varint is malformed. */
static int64_t *add_values(const uint8_t *p, const uint8_t *stop, int64_t *out)
{
    uint64_t v;
    while (p < stop) {
        if (!pgw_varint(&p, stop, &v))
            return NULL;
        *out++ = (int64_t)v;
    }
    return out;
}

/* The cursors stay in registers; the counts are stored once at the end.
 * *label_max gets the largest string index of the labels (as unsigned). */
static int parse_sample(const pg_pprof_wire *w, const pgw_span *sp, pgw_sample *s, dangling *d,
                        uint64_t *label_max)
{
    const pg_idmap *m = &w->location_ids;
    const uint8_t *p = sp->p, *end = sp->p + sp->n;
    int32_t *loc = s->locations;
    int64_t *val = s->values;
    pgw_label *lab = s->labels;
    uint64_t str_max = 0;
    pgw_field f = {0}; /* gcc cannot see that pgw_next fills it before use */
    while (p < end) {
        if (!pgw_tag(&p, end, &f.key) || !pgw_body(&p, end, &f))
            return -1;
        if (f.key == PGW_KEY(1, PGW_VARINT)) {
            loc = add_id(m, loc, s->locations, f.v, d);
        } else if (f.key == PGW_KEY(1, PGW_LEN)) {
            if (!(loc = add_locations(m, f.p, f.p + f.n, loc, s->locations, d)))
                return -1;
        } else if (f.key == PGW_KEY(2, PGW_LEN)) {
            if (!(val = add_values(f.p, f.p + f.n, val)))
                return -1;
        } else if (f.key == PGW_KEY(2, PGW_VARINT)) {
            *val++ = (int64_t)f.v;
        } else if (f.key == PGW_KEY(3, PGW_LEN)) {
            if (parse_label(f.p, f.p + f.n, lab++, &str_max) < 0)
                return -1;
        } else if (pgw_misplaced(f.key, 3)) {
            return -1;
        }
    }
    s->n_locations = (size_t)(loc - s->locations);
    s->n_values = (size_t)(val - s->values);
    s->n_labels = (size_t)(lab - s->labels);
    *label_max = str_max;
    return 0;
}

static int check_labels(const pg_pprof_wire *w, size_t i, const pgw_sample *s, pg_error *err)
{
    size_t n = w->n_strings;
    for (size_t k = 0; k < s->n_labels; k++) {
        const pgw_label *l = &s->labels[k];
        if (!pgw_str_ok(l->key, n))
            return pgw_bad_str(err, l->key, n, "sample[%zu].label[%zu].key", i, k);
        if (!pgw_str_ok(l->str, n))
            return pgw_bad_str(err, l->str, n, "sample[%zu].label[%zu].str", i, k);
        if (!pgw_str_ok(l->num_unit, n))
            return pgw_bad_str(err, l->num_unit, n, "sample[%zu].label[%zu].num_unit", i, k);
    }
    return PG_OK;
}

int pg_pprof_wire_sample(const pg_pprof_wire *w, size_t i, pgw_sample *s, pg_error *err)
{
    s->n_locations = s->n_values = s->n_labels = 0;
    if (i >= w->n_samples)
        return pg_error_set(err, PG_ERR_INVALID, "sample[%zu] does not exist", i);
    const pgw_span *sp = &w->samples[i];
    if (sp->n > s->cap)
        return pg_error_set(err, PG_ERR_INVALID,
                            "sample[%zu] is larger than the scratch space (%zu bytes)", i, s->cap);
    dangling d = {SIZE_MAX, 0};
    uint64_t label_max;
    if (parse_sample(w, sp, s, &d, &label_max) < 0) {
        s->n_locations = s->n_values = s->n_labels = 0;
        return pg_error_set(err, PG_ERR_INVALID, PGW_BAD_WIRE " (in sample[%zu])", i);
    }
    if (s->n_values != w->n_sample_types)
        return pg_error_set(err, PG_ERR_INVALID,
                            "sample[%zu] has %zu value(s) but there are %zu sample types", i,
                            s->n_values, w->n_sample_types);
    if (d.at != SIZE_MAX)
        return pg_error_set(err, PG_ERR_INVALID,
                            "sample[%zu].location_id[%zu] %llu does not match any location id", i,
                            d.at, (unsigned long long)d.id);
    /* only a sample with an index out of range needs the search for the
     * first one */
    return label_max < w->n_strings ? PG_OK : check_labels(w, i, s, err);
}
