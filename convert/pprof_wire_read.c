/*
 * The document half of the fast pprof reader. One walk over the top-level
 * fields parses every message into its table, checks and hashes every
 * string, and keeps what the checks need (whether ids are 1..n, the largest
 * string index of the mappings and functions); then the checks of
 * pg_pprof_validate that do not concern samples run in the validator's
 * order, so a document with one problem gets the same message.
 *
 * The tables start with room guessed from the document's size. When one is
 * full, the rest of the document is counted once (a walk over the top-level
 * tags and lengths only) and every table gets exactly the room it still
 * needs; large documents are counted before the walk. So a small document
 * is read once and a large one does not waste memory on doubled tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "convert/pprof_wire_internal.h"

/* The tables of pg_pprof_wire, for the code that sizes them, in the order
 * they are allocated: the lines last, as the one table that may still need
 * to grow once sized (see resize). */
enum {
    T_STRINGS,
    T_SAMPLE_TYPES,
    T_SAMPLES,
    T_MAPPINGS,
    T_LOCATIONS,
    T_FUNCTIONS,
    T_COMMENTS,
    T_LINES,
    T_COUNT
};

/* Documents up to this size are read without counting first. */
#define PGW_GUESS_MAX 4096

typedef struct reader {
    pg_arena *a;
    pg_error *err;
    pg_pprof_wire *w;
    const uint8_t *buf, *end;
    size_t cap[T_COUNT];    /* room in each table */
    int counted;            /* the capacities come from counting the rest */
    size_t locations_total; /* once counted */
    /* learnt during the walk, for the checks */
    uint64_t str_max;  /* largest string index (as unsigned) of the mappings and functions */
    uint64_t fn_ids;   /* OR of the function ids: 0 when .NET left them all 0 */
    int maps_in_order; /* mapping i has id i + 1, for every i */
    int fns_in_order;
    int locs_in_order;
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

/* ---- strings ---- */

/* Up to 7 bytes at t, zero-padded as pg_hash_tail pads them. The bytes
 * around them are part of the document [lo, hi), so one 8-byte load that
 * covers them, ahead or behind, is cheaper still; pg_hash_tail serves
 * documents too short for either. */
static inline uint64_t tail_word(const uint8_t *t, size_t n, const uint8_t *lo, const uint8_t *hi)
{
    uint64_t x = 0;
    if (!n)
        return 0;
#if PGW_LITTLE_ENDIAN
    if (hi - t >= 8) {
        memcpy(&x, t, 8);
        return x & ((1ull << (8 * n)) - 1);
    }
    if (t + n - lo >= 8) {
        memcpy(&x, t + n - 8, 8);
        return x >> (8 * (8 - n));
    }
#endif
    return pg_hash_tail(t, n);
}

/* (uint32_t)pg_hash_bytes(s, n, 0), computed here so that each string is
 * read once: the same words are checked for non-ASCII and NUL bytes on the
 * way. 1 when s is plain ASCII without NUL (most strings of a profile), 0
 * when it needs the full check. */
static inline int hash_plain_ascii(const uint8_t *s, size_t n, const uint8_t *lo, const uint8_t *hi,
                                   uint32_t *hash)
{
    const uint64_t ones = PGW_BYTES(1), highs = PGW_BYTES(0x80);
    uint64_t h = pg_hash_start(n, 0);
    uint64_t bad = 0, x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        bad |= x | ((x - ones) & ~x & highs);
        h = pg_hash_word(h, x);
    }
    size_t rest = n - i;
    x = tail_word(s + i, rest, lo, hi);
    /* the padding must not read as NUL bytes */
#if PGW_LITTLE_ENDIAN
    uint64_t pad = ~((1ull << (8 * rest)) - 1);
#else
    uint64_t pad = rest ? (1ull << (8 * (8 - rest))) - 1 : ~0ull;
#endif
    uint64_t y = x | (ones & pad);
    bad |= y | ((y - ones) & ~y & highs);
    *hash = (uint32_t)pg_hash_finish(h, x);
    return !(bad & highs);
}

/* check_encoded_strings' checks (convert/pprof_decode.c), in its order:
 * UTF-8, then NUL. */
static int check_string(pg_error *err, const uint8_t *p, size_t n, size_t index)
{
    const char *s = (const char *)p;
    if (pg_cv_utf8_invalid_at(s, n) != n)
        return pg_error_set(err, PG_ERR_INVALID, "string_table[%zu] is not valid UTF-8", index);
    if (memchr(s, 0, n))
        return pg_error_set(err, PG_ERR_UNSUPPORTED, "string_table[%zu] contains a NUL byte",
                            index);
    return 0;
}

/* A lenient varint as check_encoded_strings reads it: at most 10 bytes. */
static int lenient_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64 && *pp < end; shift += 7) {
        uint8_t c = *(*pp)++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

/* pg_pprof_decode checks the strings in a laxer walk of its own before it
 * unpacks (check_encoded_strings), so when the document turns out
 * malformed, or too large, a bad string that walk reaches (possibly past
 * the malformed bytes) is what it reports: its error, else 0. */
static int bad_string_anywhere(reader *r)
{
    const uint8_t *p = r->buf, *end = r->end;
    size_t index = 0;
    uint64_t tag, n;
    while (p < end && lenient_varint(&p, end, &tag)) {
        switch (tag & 7) {
        case PGW_VARINT:
            if (!lenient_varint(&p, end, &n))
                return 0;
            continue;
        case PGW_I64:
        case PGW_I32:
            n = (tag & 7) == PGW_I64 ? 8 : 4;
            break;
        case PGW_LEN:
            if (!lenient_varint(&p, end, &n))
                return 0;
            break;
        default:
            return 0;
        }
        if (n > (uint64_t)(end - p))
            return 0;
        if (tag >> 3 == 6 && (tag & 7) == PGW_LEN && check_string(r->err, p, n, index++) < 0)
            return r->err->code;
        p += n;
    }
    return 0;
}

static int wire_error(reader *r)
{
    int rc = bad_string_anywhere(r);
    return rc < 0 ? rc : bad_wire(r);
}

/* Out of memory before every string was checked. */
static int nomem_reading(reader *r)
{
    int rc = bad_string_anywhere(r);
    return rc < 0 ? rc : nomem(r);
}

/* ---- the tables' room ---- */

static void **table_of(pg_pprof_wire *w, int t, size_t **n, size_t *size)
{
    switch (t) {
    case T_STRINGS:
        *n = &w->n_strings, *size = sizeof(*w->strings);
        return (void **)&w->strings;
    case T_SAMPLE_TYPES:
        *n = &w->n_sample_types, *size = sizeof(*w->sample_types);
        return (void **)&w->sample_types;
    case T_SAMPLES:
        *n = &w->n_samples, *size = sizeof(*w->samples);
        return (void **)&w->samples;
    case T_MAPPINGS:
        *n = &w->n_mappings, *size = sizeof(*w->mappings);
        return (void **)&w->mappings;
    case T_LOCATIONS:
        *n = &w->n_locations, *size = sizeof(*w->locations);
        return (void **)&w->locations;
    case T_LINES:
        *n = &w->n_lines, *size = sizeof(*w->lines);
        return (void **)&w->lines;
    case T_FUNCTIONS:
        *n = &w->n_functions, *size = sizeof(*w->functions);
        return (void **)&w->functions;
    default:
        *n = &w->n_comments, *size = sizeof(*w->comments);
        return (void **)&w->comments;
    }
}

/* Gives table t room for cap entries. The table allocated last (the lines,
 * once sized) grows in place while the arena's chunk has room; otherwise
 * it moves. */
static int resize(reader *r, int t, size_t cap)
{
    size_t *n, size;
    void **table = table_of(r->w, t, &n, &size);
    if (cap > SIZE_MAX / size)
        return nomem_reading(r);
    if (pg_arena_extend(r->a, *table, r->cap[t] * size, cap * size)) {
        r->cap[t] = cap;
        return 0;
    }
    void *p = pg_arena_alloc(r->a, cap * size);
    if (!p)
        return nomem_reading(r);
    if (*n)
        memcpy(p, *table, *n * size);
    *table = p;
    r->cap[t] = cap;
    return 0;
}

/* Room guessed from the size of a small document, in one allocation: the
 * Go profiles among the fixtures (up to 33 bytes per string, 45 per
 * location, line or function) fit, and anything else is counted when it
 * does not. */
static int guess_room(reader *r)
{
    static const struct {
        uint8_t base, shift, size; /* base + len >> shift entries of size bytes */
    } guess[T_COUNT] = {
        [T_STRINGS] = {8, 5, sizeof(pgw_str)},
        [T_SAMPLE_TYPES] = {2, 9, sizeof(pgw_value_type)},
        [T_SAMPLES] = {4, 6, sizeof(pgw_span)},
        [T_MAPPINGS] = {6, 9, sizeof(pgw_mapping)},
        [T_LOCATIONS] = {4, 6, sizeof(pgw_location)},
        [T_LINES] = {4, 6, sizeof(pgw_line)},
        [T_FUNCTIONS] = {4, 6, sizeof(pgw_function)},
        [T_COMMENTS] = {0, 63, sizeof(int64_t)},
    };
    size_t len = (size_t)(r->end - r->buf), at[T_COUNT], total = 0;
    for (int t = 0; t < T_COUNT; t++) {
        r->cap[t] = t == T_COMMENTS ? 0 : guess[t].base + (len >> guess[t].shift);
        at[t] = total;
        total += (r->cap[t] * guess[t].size + 15) & ~(size_t)15;
    }
    uint8_t *block = pg_arena_alloc(r->a, total);
    if (!block)
        return nomem_reading(r);
    for (int t = 0; t < T_COUNT; t++) {
        size_t *n, size;
        *table_of(r->w, t, &n, &size) = block + at[t];
    }
    return 0;
}

/* Counts the entries of every table in the top-level fields from p on; it
 * stops at malformed bytes, where the walk will stop too. */
static void count_rest(const uint8_t *p, const uint8_t *end, size_t count[T_COUNT])
{
    size_t strings = 0, samples = 0, locations = 0, functions = 0, other[T_COUNT] = {0};
    pgw_field f;
    while (pgw_next(&p, end, &f) > 0) {
        size_t k;
        if (f.key == PGW_KEY(2, PGW_LEN))
            samples++;
        else if (f.key == PGW_KEY(6, PGW_LEN))
            strings++;
        else if (f.key == PGW_KEY(4, PGW_LEN))
            locations++;
        else if (f.key == PGW_KEY(5, PGW_LEN))
            functions++;
        else if (f.key == PGW_KEY(1, PGW_LEN))
            other[T_SAMPLE_TYPES]++;
        else if (f.key == PGW_KEY(3, PGW_LEN))
            other[T_MAPPINGS]++;
        else if (f.key == PGW_KEY(13, PGW_VARINT))
            other[T_COMMENTS]++;
        else if (f.key == PGW_KEY(13, PGW_LEN) && pgw_packed_count(f.p, f.n, &k))
            other[T_COMMENTS] += k;
    }
    for (int t = 0; t < T_COUNT; t++)
        count[t] = other[t];
    count[T_STRINGS] = strings;
    count[T_SAMPLES] = samples;
    count[T_LOCATIONS] = locations;
    count[T_FUNCTIONS] = functions;
    /* lines are not counted: a location has about one (make_line_room
     * extrapolates when it has more) */
    count[T_LINES] = locations + locations / 4;
}

/* Room for `need` more entries of table t, whose field starts at `at`. The
 * first time, the rest of the document is counted and every table sized. */
static int make_room(reader *r, int t, size_t need, const uint8_t *at)
{
    size_t *n, size;
    table_of(r->w, t, &n, &size);
    if (!r->counted) {
        size_t count[T_COUNT];
        count_rest(at, r->end, count);
        r->counted = 1;
        r->locations_total = r->w->n_locations + count[T_LOCATIONS];
        for (int k = 0; k < T_COUNT; k++) {
            size_t *nk, sk;
            table_of(r->w, k, &nk, &sk);
            if (r->cap[k] - *nk < count[k] && resize(r, k, *nk + count[k]) < 0)
                return r->err->code;
        }
        if (r->cap[t] - *n >= need)
            return 0;
    }
    /* malformed bytes ahead: doubling keeps the copies linear */
    size_t cap = r->cap[t] * 2 > *n + need ? r->cap[t] * 2 : *n + need + 16;
    return resize(r, t, cap);
}

/* Room for one more line of location `loc` (0-based), whose field starts
 * at `at`. Lines per location stay about the same through a document: once
 * the locations are counted, the lines still to come are extrapolated. */
static int make_line_room(reader *r, size_t loc, const uint8_t *at)
{
    size_t n = r->w->n_lines, cap = r->cap[T_LINES];
    if (!r->counted)
        return make_room(r, T_LINES, 1, at);
    size_t left = r->locations_total > loc ? r->locations_total - loc : 1;
    /* lines per location so far, in sixteenths, rounded up (n and left
     * are below the document's size) */
    size_t per16 = n * 16 / (loc + 1) + 1;
    size_t want = left <= UINT32_MAX && per16 <= UINT32_MAX ? n + left * per16 / 16 + 16 : 0;
    /* and at least an eighth more, so that bad guesses cost few moves */
    if (want < cap + cap / 8 + 16)
        want = cap + cap / 8 + 16;
    return resize(r, T_LINES, want);
}

/* ---- the messages inside the document ---- */

/* Each parser takes the usual encoding (a one-byte tag of a known field,
 * varint values) in a fast path that stores by field number (see
 * pgw_varints), and anything else (other wire types, longer tags, unknown
 * fields) through pgw_next_raw and the full rules. */

_Static_assert(offsetof(pgw_mapping, build_id) == 40 &&
                   offsetof(pgw_mapping, has_inline_frames) ==
                       offsetof(pgw_mapping, has_functions) + 3,
               "the parsers store fields by number");

PGW_INLINE int parse_value_type(const uint8_t *p, size_t n, pgw_value_type *t)
{
    uint64_t v[2] = {0, 0};
    int rc = pgw_varints(p, p + n, v, 2);
    *t = (pgw_value_type){(int64_t)v[0], (int64_t)v[1]};
    return rc;
}

/* Fields 1..6 are varints, 7..10 bools (any wire type reads as one). */
static int parse_mapping(const uint8_t *p, size_t n, pgw_mapping *m)
{
    const uint8_t *end = p + n;
    uint8_t *bools = &m->has_functions;
    *m = (pgw_mapping){0};
    while (p < end) {
        uint32_t tag = *p;
        pgw_field f;
        if (PGW_FAST_VARINT(tag, 6)) {
            p++;
            if (!pgw_varint(&p, end, &f.v))
                return -1;
            pgw_store_field(m, tag >> 3, f.v);
            continue;
        }
        if (PGW_FAST_VARINT(tag, 10) && end - p >= 2 && p[1] < 0x80) {
            bools[(tag >> 3) - 7] = p[1] != 0;
            p += 2;
            continue;
        }
        if (pgw_next_raw(&p, end, &f) < 0)
            return -1;
        uint32_t num = pgw_num(f.key);
        if (num >= 7 && num <= 10)
            bools[num - 7] = pgw_bool(&f, p);
        else if (pgw_wt(f.key) == PGW_VARINT && pgw_misplaced(f.key, 6))
            pgw_store_field(m, num, f.v);
        else if (pgw_misplaced(f.key, 6))
            return -1;
    }
    return 0;
}

/* Fields 1..3 varints (id, mapping_id, address), 4 lines, 5 a bool. The
 * lines go to w->lines. `loc` is the location's position, `at` its field.
 * The entry is written at the end: making room for a line may move the
 * locations table. */
static int parse_location(reader *r, const uint8_t *p, size_t n, size_t loc, const uint8_t *at)
{
    pg_pprof_wire *w = r->w;
    const uint8_t *end = p + n;
    uint64_t v[3] = {0, 0, 0};
    size_t first_line = w->n_lines;
    uint8_t folded = 0;
    while (p < end) {
        uint32_t tag = *p;
        pgw_field f;
        if (PGW_FAST_VARINT(tag, 3)) {
            p++;
            if (!pgw_varint(&p, end, &f.v))
                return -1;
            pgw_store_field(v, tag >> 3, f.v);
            continue;
        }
        if (pgw_next_raw(&p, end, &f) < 0)
            return -1;
        if (f.key == PGW_KEY(4, PGW_LEN)) {
            if (w->n_lines == r->cap[T_LINES] && make_line_room(r, loc, at) < 0)
                return 1; /* r->err is set */
            uint64_t ln[3] = {0, 0, 0};
            if (pgw_varints(f.p, f.p + f.n, ln, 3) < 0)
                return -1;
            w->lines[w->n_lines++] = (pgw_line){ln[0], (int64_t)ln[1], (int64_t)ln[2], 0};
        } else if (pgw_num(f.key) == 5) {
            folded = pgw_bool(&f, p);
        } else if (pgw_wt(f.key) == PGW_VARINT && pgw_misplaced(f.key, 3)) {
            pgw_store_field(v, pgw_num(f.key), f.v);
        } else if (pgw_misplaced(f.key, 4)) {
            return -1;
        }
    }
    w->locations[loc] = (pgw_location){.id = v[0],
                                       .mapping_id = v[1],
                                       .address = v[2],
                                       .first_line = (uint32_t)first_line,
                                       .n_line = (uint32_t)(w->n_lines - first_line),
                                       .is_folded = folded};
    return 0;
}

static int parse_function(const uint8_t *p, size_t n, pgw_function *fn)
{
    uint64_t v[5] = {0, 0, 0, 0, 0};
    int rc = pgw_varints(p, p + n, v, 5);
    *fn = (pgw_function){v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3], (int64_t)v[4]};
    return rc;
}

/* ---- the walk ---- */

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
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

/* The rarer top-level fields: singular ones, comments, period_type; 0, 1
 * when r->err is set, -1 for a wire error. */
static int read_other(reader *r, const pgw_field *f, const uint8_t *at)
{
    pg_pprof_wire *w = r->w;
    int64_t *dst = singular(w, f->key);
    if (dst) {
        *dst = (int64_t)f->v;
        return 0;
    }
    switch (f->key) {
    case PGW_KEY(13, PGW_LEN): {
        size_t k;
        if (!pgw_packed_count(f->p, f->n, &k))
            return -1;
        if (r->cap[T_COMMENTS] - w->n_comments < k && make_room(r, T_COMMENTS, k, at) < 0)
            return 1;
        const uint8_t *p = f->p, *end = f->p + f->n;
        uint64_t v;
        while (p < end && pgw_varint(&p, end, &v))
            w->comments[w->n_comments++] = (int64_t)v;
        return 0;
    }
    case PGW_KEY(13, PGW_VARINT):
        if (w->n_comments == r->cap[T_COMMENTS] && make_room(r, T_COMMENTS, 1, at) < 0)
            return 1;
        w->comments[w->n_comments++] = (int64_t)f->v;
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

/* Room for one more entry of table t, or return its error. */
#define PGW_ROOM(r, t, n, at)                                                                      \
    do {                                                                                           \
        if ((n) == (r)->cap[t] && make_room((r), (t), 1, (at)) < 0)                                \
            return (r)->err->code;                                                                 \
    } while (0)

/* Tests the kinds by frequency (samples, strings, locations, functions) with
 * conditional branches: they predict well, as the fields of a kind come
 * together. */
static int walk(reader *r)
{
    pg_pprof_wire *w = r->w;
    const uint8_t *p = r->buf, *end = r->end;
    size_t max_sample = 0;
    uint64_t str_max = 0, fn_ids = 0;
    int maps_in_order = 1, fns_in_order = 1, locs_in_order = 1;
    while (p < end) {
        const uint8_t *at = p;
        pgw_field f;
        int rc = 0;
        if (!pgw_tag(&p, end, &f.key) || !pgw_body(&p, end, &f))
            return wire_error(r);
        if (f.key == PGW_KEY(2, PGW_LEN)) {
            PGW_ROOM(r, T_SAMPLES, w->n_samples, at);
            w->samples[w->n_samples++] = (pgw_span){f.p, f.n};
            max_sample = f.n > max_sample ? f.n : max_sample;
        } else if (f.key == PGW_KEY(6, PGW_LEN)) {
            PGW_ROOM(r, T_STRINGS, w->n_strings, at);
            pgw_str *s = &w->strings[w->n_strings];
            *s = (pgw_str){(const char *)f.p, (uint32_t)f.n, 0};
            if (!hash_plain_ascii(f.p, f.n, r->buf, end, &s->hash) &&
                check_string(r->err, f.p, f.n, w->n_strings) < 0)
                return r->err->code;
            w->n_strings++;
        } else if (f.key == PGW_KEY(4, PGW_LEN)) {
            PGW_ROOM(r, T_LOCATIONS, w->n_locations, at);
            size_t i = w->n_locations;
            rc = parse_location(r, f.p, f.n, i, at);
            if (rc != 0) /* the entry is written only when it parsed */
                return rc > 0 ? r->err->code : wire_error(r);
            locs_in_order &= w->locations[i].id == i + 1;
            w->n_locations++;
        } else if (f.key == PGW_KEY(5, PGW_LEN)) {
            PGW_ROOM(r, T_FUNCTIONS, w->n_functions, at);
            size_t i = w->n_functions;
            pgw_function *fn = &w->functions[i];
            rc = parse_function(f.p, f.n, fn);
            fns_in_order &= fn->id == i + 1;
            fn_ids |= fn->id;
            str_max = max_u64(str_max,
                              max_u64((uint64_t)fn->name,
                                      max_u64((uint64_t)fn->system_name, (uint64_t)fn->filename)));
            w->n_functions++;
        } else if (f.key == PGW_KEY(1, PGW_LEN)) {
            PGW_ROOM(r, T_SAMPLE_TYPES, w->n_sample_types, at);
            rc = parse_value_type(f.p, f.n, &w->sample_types[w->n_sample_types++]);
        } else if (f.key == PGW_KEY(3, PGW_LEN)) {
            PGW_ROOM(r, T_MAPPINGS, w->n_mappings, at);
            size_t i = w->n_mappings;
            pgw_mapping *m = &w->mappings[i];
            rc = parse_mapping(f.p, f.n, m);
            maps_in_order &= m->id == i + 1;
            str_max = max_u64(str_max, max_u64((uint64_t)m->filename, (uint64_t)m->build_id));
            w->n_mappings++;
        } else {
            rc = read_other(r, &f, at);
            if (rc > 0)
                return r->err->code;
        }
        if (rc < 0)
            return wire_error(r);
    }
    w->max_sample_bytes = max_sample;
    r->str_max = str_max;
    r->fn_ids = fn_ids;
    r->maps_in_order = maps_in_order;
    r->fns_in_order = fns_in_order;
    r->locs_in_order = locs_in_order;
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

/* The walk kept the largest index: only a document with one out of range
 * needs the search for the first, in the validator's order. */
static int check_tables(reader *r)
{
    const pg_pprof_wire *w = r->w;
    size_t n = w->n_strings;
    if (r->str_max < n)
        return 0;
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

/* An index of the ids of a table; ids 1..n in order (Go's numbering, seen
 * by the walk) need none. */
static int index_ids(reader *r, pg_idmap *m, int in_order, const void *items, size_t n,
                     size_t stride, size_t off, const char *name)
{
    if (in_order && n < UINT32_MAX / 2) {
        *m = (pg_idmap){.mode = PG_IDMAP_SEQUENTIAL, .n = n};
        return 0;
    }
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

/* .NET numbers its functions by position and leaves every id 0. */
static void repair_function_ids(reader *r)
{
    pg_pprof_wire *w = r->w;
    if (r->fn_ids || !w->n_functions)
        return;
    for (size_t i = 0; i < w->n_functions; i++)
        w->functions[i].id = i + 1;
    r->fns_in_order = 1;
}

static int check_references(reader *r)
{
    pg_pprof_wire *w = r->w;
    pg_idmap maps, funs;
    int rc = index_ids(r, &maps, r->maps_in_order, w->mappings, w->n_mappings, sizeof(pgw_mapping),
                       offsetof(pgw_mapping, id), "mapping");
    if (rc == 0)
        rc = index_ids(r, &funs, r->fns_in_order, w->functions, w->n_functions,
                       sizeof(pgw_function), offsetof(pgw_function, id), "function");
    if (rc == 0)
        rc = index_ids(r, &w->location_ids, r->locs_in_order, w->locations, w->n_locations,
                       sizeof(pgw_location), offsetof(pgw_location, id), "location");
    if (rc == 0)
        rc = link_locations(r, &maps, &funs);
    return rc;
}

static int read_document(reader *r)
{
    size_t len = (size_t)(r->end - r->buf);
    int rc;
    if (len <= PGW_GUESS_MAX)
        rc = guess_room(r);
    else /* counting first costs less than growing big tables */
        rc = make_room(r, T_STRINGS, 0, r->buf);
    if (rc == 0)
        rc = walk(r);
    if (rc < 0)
        return rc;
    if (r->w->n_lines > UINT32_MAX)
        return nomem(r);
    repair_function_ids(r);
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
    reader r = {.a = a, .err = err, .w = w, .buf = data, .end = data + n};
    int rc = read_document(&r);
    if (rc < 0) {
        pg_error_prefix(err, "pprof: ");
        memset(w, 0, sizeof(*w));
    }
    return rc;
}
