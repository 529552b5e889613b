/* The fast pprof reader (convert/pprof_wire.h) against pg_pprof_decode: every
 * fixture read both ways and compared field by field, and hand-built bytes
 * for each protobuf rule and each validation failure, each checking that the
 * two paths agree and what they say. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <ftw.h>

#include "pprof_wire_compare.h"
#include "test_pprof_util.h"

/* ---- building documents by hand ---- */

typedef struct tb {
    uint8_t b[1 << 16]; /* room for documents the reader counts before reading */
    size_t n;
} tb;

static void put(tb *t, const void *p, size_t n)
{
    assert_true(t->n + n <= sizeof(t->b));
    memcpy(t->b + t->n, p, n);
    t->n += n;
}

static void vint(tb *t, uint64_t v)
{
    do {
        uint8_t c = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        put(t, &c, 1);
        v >>= 7;
    } while (v);
}

/* Field num = v (wire type 0). */
static void fv(tb *t, uint32_t num, uint64_t v)
{
    vint(t, (uint64_t)num << 3);
    vint(t, v);
}

/* Field num = bytes (wire type 2). */
static void fb(tb *t, uint32_t num, const void *p, size_t n)
{
    vint(t, (uint64_t)num << 3 | 2);
    vint(t, n);
    put(t, p, n);
}

static void fm(tb *t, uint32_t num, const tb *m)
{
    fb(t, num, m->b, m->n);
}

#define RAW(t, ...)                                                                                \
    do {                                                                                           \
        static const uint8_t raw_[] = {__VA_ARGS__};                                               \
        put(t, raw_, sizeof(raw_));                                                                \
    } while (0)

/* tp_doc_init's valid document (8 strings, 2 sample types, 2 of each table,
 * 2 samples with one label each), as protobuf-c packs it. */
static void base(tb *t)
{
    tp_doc d;
    tp_doc_init(&d);
    t->n = protobuf_c_message_get_packed_size(&d.p.base);
    assert_true(t->n <= sizeof(t->b));
    protobuf_c_message_pack(&d.p.base, t->b);
}

/* A sample of the base document: locations 1 2, values v0 v1. */
static void add_sample(tb *t, uint64_t v0, uint64_t v1)
{
    tb s = {.n = 0};
    RAW(&s, 0x0a, 0x02, 0x01, 0x02);
    fv(&s, 2, v0);
    fv(&s, 2, v1);
    fm(t, 2, &s);
}

/* ---- running both paths ---- */

typedef struct both {
    int rc_pb, rc_wire;
    pg_error err_pb, err_wire;
    pg_arena *a_pb, *a_wire;
    pg_pprof *p;
    pg_pprof_wire w;
} both;

/* limit: the arenas' byte limit (0: none), in 4 KiB chunks when set */
static void run_both(both *r, const uint8_t *buf, size_t len, size_t limit)
{
    memset(r, 0, sizeof(*r));
    r->a_pb = pg_arena_new(limit ? 4096 : 0, limit);
    r->a_wire = pg_arena_new(limit ? 4096 : 0, limit);
    r->rc_pb = pg_pprof_decode(r->a_pb, buf, len, 64u << 20, &r->p, &r->err_pb);
    r->rc_wire = pgw_read_all(r->a_wire, buf, len, 64u << 20, &r->w, &r->err_wire);
}

static void both_free(both *r)
{
    pg_arena_free(r->a_pb);
    pg_arena_free(r->a_wire);
}

/* Both accept and read the same values. */
static void agree_ok(both *r, const char *what)
{
    if (r->rc_pb != PG_OK || r->rc_wire != PG_OK)
        fail_msg("%s: protobuf-c %d (%s), wire %d (%s)", what, r->rc_pb, r->err_pb.msg, r->rc_wire,
                 r->err_wire.msg);
    char why[256];
    if (pgw_compare(r->a_wire, r->p, &r->w, why, sizeof(why)) != 0)
        fail_msg("%s: %s", what, why);
}

static void expect_ok(const tb *t)
{
    both r;
    run_both(&r, t->b, t->n, 0);
    agree_ok(&r, "document");
    both_free(&r);
}

/* Both reject with rc; pg_pprof_decode says "pprof: <msg>", the wire path
 * says the same, or <msg> alone when a sample failed (its callers add the
 * prefix); a wire-format error inside a sample also names the sample. */
static void expect_fail_within(const tb *t, size_t limit, int rc, const char *msg)
{
    both r;
    run_both(&r, t->b, t->n, limit);
    char want[PG_ERROR_MSG_MAX];
    snprintf(want, sizeof(want), "pprof: %s", msg);
    if (r.rc_pb != rc || r.rc_wire != rc)
        fail_msg("want %d (%s): protobuf-c %d (%s), wire %d (%s)", rc, msg, r.rc_pb, r.err_pb.msg,
                 r.rc_wire, r.err_wire.msg);
    assert_string_equal(r.err_pb.msg, want);
    const char *got = r.err_wire.msg;
    if (strncmp(got, "pprof: ", 7) == 0)
        assert_string_equal(got, want);
    else if (strncmp(msg, "not a valid", 11) == 0)
        assert_true(strncmp(got, msg, strlen(msg)) == 0 && strstr(got, "(in sample["));
    else
        assert_string_equal(got, msg);
    both_free(&r);
}

static void expect_fail(const tb *t, int rc, const char *msg)
{
    expect_fail_within(t, 0, rc, msg);
}

#define BAD_WIRE "not a valid perftools.profiles.Profile protobuf message"

/* ---- fixtures ---- */

static size_t fixtures_ok, fixtures_rejected;

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    const char *base_name = path + ftw->base;
    if (flag != FTW_F || strstr(base_name, "otlp") || strstr(base_name, ".json") ||
        strstr(base_name, ".jfr") || strstr(base_name, ".md"))
        return 0;
    size_t len = 0;
    uint8_t *buf = tp_read_file(path, &len);
    assert_non_null(buf);
    both r;
    run_both(&r, buf, len, 0);
    if (r.rc_pb == PG_OK) {
        agree_ok(&r, path);
        fixtures_ok++;
    } else {
        /* whatever protobuf-c refuses, the wire reader refuses too, and
         * for the same reason */
        char why[256];
        if (pgw_compare_errors(r.rc_pb, &r.err_pb, r.rc_wire, &r.err_wire, why, sizeof(why)))
            fail_msg("%s: %s", path, why);
        fixtures_rejected++;
    }
    both_free(&r);
    free(buf);
    return 0;
}

static void test_fixtures(void **state)
{
    (void)state;
    const char *shared = getenv("PG_SHARED_DIR");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fixtures", shared ? shared : "../shared");
    fixtures_ok = fixtures_rejected = 0;
    assert_int_equal(nftw(dir, visit, 16, FTW_PHYS), 0);
    print_message("%zu fixtures read alike, %zu refused by both\n", fixtures_ok, fixtures_rejected);
    assert_true(fixtures_ok >= 45);
    assert_true(fixtures_rejected >= 1); /* the non-pprof captures */
}

/* A gzipped fixture; and the sample arrays of a real profile. */
static void test_fixture_values(void **state)
{
    (void)state;
    size_t len = 0;
    char path[1024];
    const char *shared = getenv("PG_SHARED_DIR");
    snprintf(path, sizeof(path), "%s/fixtures/third_party/grafana-pyroscope/go-cpu-labels.pb.gz",
             shared ? shared : "../shared");
    uint8_t *buf = tp_read_file(path, &len);
    assert_non_null(buf);
    both r;
    run_both(&r, buf, len, 0);
    agree_ok(&r, path);
    assert_true(r.w.n_samples > 10);
    pgw_sample s;
    pg_error err;
    assert_int_equal(pg_pprof_wire_sample_init(r.a_wire, &r.w, &s, &err), PG_OK);
    size_t labels = 0;
    for (size_t i = 0; i < r.w.n_samples; i++) {
        assert_int_equal(pg_pprof_wire_sample(&r.w, i, &s, &err), PG_OK);
        assert_int_equal(s.n_values, r.w.n_sample_types);
        labels += s.n_labels;
    }
    assert_true(labels > 0);
    assert_int_equal(pg_pprof_wire_sample(&r.w, r.w.n_samples, &s, &err), PG_ERR_INVALID);
    both_free(&r);
    free(buf);
}

static void test_memory_limit(void **state)
{
    (void)state;
    size_t len = 0;
    char path[1024];
    const char *shared = getenv("PG_SHARED_DIR");
    snprintf(path, sizeof(path), "%s/fixtures/third_party/grafana-pyroscope/dotnet-multi.pb",
             shared ? shared : "../shared");
    uint8_t *buf = tp_read_file(path, &len);
    assert_non_null(buf);
    both r;
    run_both(&r, buf, len, 0);
    agree_ok(&r, path);
    size_t used = pg_arena_used(r.a_wire);
    both_free(&r);
    run_both(&r, buf, len, used / 2);
    assert_int_equal(r.rc_pb, PG_ERR_LIMIT);
    assert_int_equal(r.rc_wire, PG_ERR_LIMIT);
    char want[200];
    snprintf(want, sizeof(want),
             "pprof: the decoded document (%zu bytes encoded) exceeds the memory limit", len);
    assert_string_equal(r.err_wire.msg, want);
    both_free(&r);
    print_message("wire reader: %zu arena bytes for %zu encoded\n", used, len);
    /* gzip: inflating past max_decompressed */
    tb t;
    base(&t);
    pg_buf gz;
    pg_buf_init(&gz);
    tp_doc d;
    tp_doc_init(&d);
    pg_error err;
    assert_int_equal(pg_pprof_encode(&d.p, 1, &gz, &err), PG_OK);
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof_wire w;
    assert_int_equal(pg_pprof_wire_read(a, gz.data, gz.len, 16, &w, &err), PG_ERR_LIMIT);
    assert_int_equal(strncmp(err.msg, "pprof: ", 7), 0);
    assert_int_equal(pg_pprof_wire_read(a, gz.data, gz.len, 0, &w, &err), PG_OK);
    assert_int_equal(w.n_samples, 2);
    pg_arena_free(a);
    pg_buf_free(&gz);
    free(buf);
}

/* ---- protobuf rules ---- */

static void test_base_document(void **state)
{
    (void)state;
    tb t;
    base(&t);
    both r;
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "base");
    assert_int_equal(r.w.n_strings, 8);
    assert_memory_equal(r.w.strings[5].s, "main", 4);
    assert_int_equal(r.w.n_locations, 2);
    assert_int_equal(r.w.locations[1].mapping, 2);
    assert_int_equal(r.w.lines[1].function, 1);
    assert_int_equal(r.w.has_period_type, 0);
    both_free(&r);
}

static void test_packed_and_unpacked(void **state)
{
    (void)state;
    tb t, s = {.n = 0};
    base(&t);
    /* location_id 2, [1 2], 1; value [5], 6: interleaved */
    fv(&s, 1, 2);
    RAW(&s, 0x0a, 0x02, 0x01, 0x02);
    RAW(&s, 0x12, 0x01, 0x05);
    fv(&s, 1, 1);
    RAW(&s, 0x0a, 0x00); /* empty packed run */
    fv(&s, 2, 6);
    fm(&t, 2, &s);
    /* comments: 1, [2 3], 4 */
    fv(&t, 13, 1);
    RAW(&t, 0x6a, 0x02, 0x02, 0x03);
    fv(&t, 13, 4);
    both r;
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "interleaved");
    assert_int_equal(r.w.n_comments, 4);
    assert_int_equal(r.w.comments[3], 4);
    pgw_sample x;
    pg_error err;
    assert_int_equal(pg_pprof_wire_sample_init(r.a_wire, &r.w, &x, &err), PG_OK);
    assert_int_equal(pg_pprof_wire_sample(&r.w, 2, &x, &err), PG_OK);
    assert_int_equal(x.n_locations, 4);
    int32_t want_locs[4] = {2, 1, 2, 1};
    assert_memory_equal(x.locations, want_locs, sizeof(want_locs));
    assert_int_equal(x.n_values, 2);
    assert_int_equal(x.values[0], 5);
    assert_int_equal(x.values[1], 6);
    both_free(&r);
}

static void test_last_wins_and_period_type(void **state)
{
    (void)state;
    tb t, pt = {.n = 0}, pt2 = {.n = 0};
    base(&t);
    fv(&t, 7, 3);
    fv(&t, 7, 5); /* drop_frames: the last one */
    fv(&pt, 1, 3);
    fv(&pt, 2, 4);
    fm(&t, 11, &pt);
    fv(&pt2, 2, 2);
    fm(&t, 11, &pt2);
    both r;
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "last wins");
    assert_int_equal(r.w.drop_frames, 5);
    assert_int_equal(r.w.has_period_type, 1);
    /* protobuf-c 1.4 keeps only the last copy's scalars */
    assert_int_equal(r.w.period_type.type, 0);
    assert_int_equal(r.w.period_type.unit, 2);
    both_free(&r);
    /* fields out of their usual order, and repeated after it */
    base(&t);
    tb fn = {.n = 0}, loc = {.n = 0}, ln = {.n = 0};
    fv(&fn, 2, 5);
    fv(&fn, 1, 3);
    fv(&fn, 4, 6);
    fv(&fn, 1, 4); /* function id 4 */
    fm(&t, 5, &fn);
    fv(&ln, 2, 9);
    fv(&ln, 1, 4);
    fm(&loc, 4, &ln);
    fv(&loc, 3, 77);
    fv(&loc, 1, 3);
    fv(&loc, 2, 2);
    fv(&loc, 3, 78); /* address 78 */
    fm(&t, 4, &loc);
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "out of order");
    assert_int_equal(r.w.functions[2].id, 4);
    assert_int_equal(r.w.functions[2].name, 5);
    assert_int_equal(r.w.locations[2].address, 78);
    assert_int_equal(r.w.locations[2].mapping, 2);
    assert_int_equal(r.w.lines[r.w.locations[2].first_line].function, 2);
    assert_int_equal(r.w.lines[r.w.locations[2].first_line].line, 9);
    both_free(&r);
    /* an empty period_type is present */
    base(&t);
    RAW(&t, 0x5a, 0x00);
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "empty period_type");
    assert_int_equal(r.w.has_period_type, 1);
    both_free(&r);
    /* every copy must parse */
    base(&t);
    RAW(&t, 0x5a, 0x01, 0x08, 0x5a, 0x00);
    expect_fail(&t, PG_ERR_INVALID, BAD_WIRE);
}

static void test_unknown_fields(void **state)
{
    (void)state;
    tb t;
    base(&t);
    fv(&t, 20, 7);
    RAW(&t, 0xa1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8);             /* 20: fixed64 */
    RAW(&t, 0xa5, 0x01, 1, 2, 3, 4);                         /* 20: fixed32 */
    RAW(&t, 0xa2, 0x01, 0x81, 0x80, 0x80, 0x80, 0x00, 0x41); /* 5-byte length */
    RAW(&t, 0x80, 0x00, 0x05);                               /* field 0 in a two-byte tag */
    RAW(&t, 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01);             /* field 2^32-1 */
    RAW(&t, 0xb8, 0x80, 0x80, 0x80, 0x00, 0x00);             /* drop_frames in a 5-byte tag */
    tb m = {.n = 0}, s = {.n = 0};
    fv(&m, 1, 3);
    fv(&m, 99, 1);
    fm(&t, 3, &m); /* a mapping with an unknown field */
    add_sample(&t, 1, 1);
    RAW(&s, 0x0a, 0x01, 0x01, 0x10, 0x01, 0x10, 0x02, 0x48, 0x07);
    fm(&t, 2, &s); /* a sample with one */
    expect_ok(&t);
}

static void test_wire_errors(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t b[16];
        size_t n;
    } cases[] = {
        {"field 0 in a one-byte tag", {0x00, 0x05}, 2},
        {"group start", {0xa3, 0x01}, 2},
        {"group end", {0xa4, 0x01}, 2},
        {"wire type 6", {0xa6, 0x01, 0x00}, 3},
        {"wire type 7", {0xa7, 0x01, 0x00}, 3},
        {"drop_frames as bytes", {0x3a, 0x01, 0x05}, 3},
        {"drop_frames as fixed32", {0x3d, 1, 0, 0, 0}, 5},
        {"mapping as varint", {0x18, 0x01}, 2},
        {"string as varint", {0x30, 0x01}, 2},
        {"comment as fixed64", {0x69, 1, 0, 0, 0, 0, 0, 0, 0}, 9},
        {"truncated varint", {0x38, 0x80}, 2},
        {"11-byte varint",
         {0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00},
         12},
        {"truncated packed varint", {0x6a, 0x02, 0x01, 0x82}, 4},
        {"length past the end", {0x32, 0x05, 0x41}, 3},
        {"6-byte length", {0xa2, 0x01, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x41}, 9},
        {"6-byte tag", {0xb8, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}, 7},
        {"truncated tag", {0xb8}, 1},
        {"truncated fixed64", {0xa1, 0x01, 1, 2, 3}, 5},
        {"mapping id as bytes", {0x1a, 0x03, 0x0a, 0x01, 0x05}, 5},
        {"line as varint", {0x22, 0x04, 0x08, 0x09, 0x20, 0x01}, 6},
        {"line.function_id as fixed32", {0x22, 0x06, 0x08, 0x09, 0x22, 0x02, 0x0d, 0x00}, 8},
        {"function name as bytes", {0x2a, 0x05, 0x08, 0x09, 0x12, 0x01, 0x00}, 7},
        {"sample_type truncated inside", {0x0a, 0x01, 0x08}, 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tb t;
        base(&t);
        put(&t, cases[i].b, cases[i].n);
        print_message("wire error: %s\n", cases[i].what);
        expect_fail(&t, PG_ERR_INVALID, BAD_WIRE);
    }
    /* inside a sample, found by pg_pprof_wire_sample */
    static const uint8_t in_sample[][8] = {
        {0x12, 0x06, 0x09, 1, 2, 3, 4, 5},    /* location_id as fixed64, cut */
        {0x12, 0x03, 0x12, 0x01, 0x80},       /* truncated packed value */
        {0x12, 0x02, 0x18, 0x01},             /* label as varint */
        {0x12, 0x04, 0x1a, 0x02, 0x0a, 0x00}, /* label.key as bytes */
        {0x12, 0x02, 0x0b, 0x00},             /* group */
    };
    for (size_t i = 0; i < sizeof(in_sample) / sizeof(in_sample[0]); i++) {
        tb t;
        base(&t);
        put(&t, in_sample[i], 2 + in_sample[i][1]);
        expect_fail(&t, PG_ERR_INVALID, BAD_WIRE);
    }
}

static void test_varints_and_bools(void **state)
{
    (void)state;
    tb t;
    base(&t);
    /* ten bytes: bits past 64 are dropped, drop_frames is 1 */
    RAW(&t, 0x38, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e);
    tb m = {.n = 0};
    fv(&m, 1, 3);
    RAW(&m, 0x3a, 0x01, 0x00);                   /* has_functions: bytes -> true */
    RAW(&m, 0x41, 0x80, 0, 0, 0, 0, 0, 0, 0x80); /* has_filenames: fixed64, no low bits */
    RAW(&m, 0x48, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02); /* bit 64 */
    RAW(&m, 0x55, 0, 0, 1, 0); /* has_inline_frames: fixed32 */
    fm(&t, 3, &m);
    both r;
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "bools");
    assert_int_equal(r.w.drop_frames, 1);
    const pgw_mapping *x = &r.w.mappings[2];
    assert_int_equal(x->has_functions, 1);
    assert_int_equal(x->has_filenames, 0);
    assert_int_equal(x->has_line_numbers, 1);
    assert_int_equal(x->has_inline_frames, 1);
    both_free(&r);
    /* a negative int64 is the varint's two's complement */
    base(&t);
    RAW(&t, 0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01);
    expect_fail(&t, PG_ERR_INVALID, "drop_frames -1 out of range (string table has 8 entries)");
}

/* ---- the validator's checks ---- */

static void test_strings(void **state)
{
    (void)state;
    tb t;
    base(&t);
    fb(&t, 6, "a\0b", 3);
    expect_fail(&t, PG_ERR_UNSUPPORTED, "string_table[8] contains a NUL byte");
    base(&t);
    fb(&t, 6, "\xc3\x28", 2);
    expect_fail(&t, PG_ERR_INVALID, "string_table[8] is not valid UTF-8");
    t.n = 0;
    fv(&t, 7, 0);
    expect_fail(&t, PG_ERR_INVALID, "string_table is empty (entry 0 must be \"\")");
    t.n = 0;
    fb(&t, 6, "x", 1);
    expect_fail(&t, PG_ERR_INVALID, "string_table[0] must be empty");
    t.n = 0;
    expect_fail(&t, PG_ERR_INVALID, "string_table is empty (entry 0 must be \"\")");
}

static void test_string_indices(void **state)
{
    (void)state;
    static const struct {
        uint8_t field, inner; /* top-level field, field inside (0: none) */
        const char *msg;
    } cases[] = {
        {1, 1, "sample_type[2].type 8 out of range (string table has 8 entries)"},
        {1, 2, "sample_type[2].unit 8 out of range (string table has 8 entries)"},
        {11, 1, "period_type.type 8 out of range (string table has 8 entries)"},
        {11, 2, "period_type.unit 8 out of range (string table has 8 entries)"},
        {7, 0, "drop_frames 8 out of range (string table has 8 entries)"},
        {8, 0, "keep_frames 8 out of range (string table has 8 entries)"},
        {14, 0, "default_sample_type 8 out of range (string table has 8 entries)"},
        {15, 0, "doc_url 8 out of range (string table has 8 entries)"},
        {13, 0, "comment[0] 8 out of range (string table has 8 entries)"},
        {3, 5, "mapping[2].filename 8 out of range (string table has 8 entries)"},
        {3, 6, "mapping[2].build_id 8 out of range (string table has 8 entries)"},
        {5, 2, "function[2].name 8 out of range (string table has 8 entries)"},
        {5, 3, "function[2].system_name 8 out of range (string table has 8 entries)"},
        {5, 4, "function[2].filename 8 out of range (string table has 8 entries)"},
        {2, 1, "sample[2].label[0].key 8 out of range (string table has 8 entries)"},
        {2, 2, "sample[2].label[0].str 8 out of range (string table has 8 entries)"},
        {2, 4, "sample[2].label[0].num_unit 8 out of range (string table has 8 entries)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tb t, m = {.n = 0};
        base(&t);
        if (!cases[i].inner) {
            fv(&t, cases[i].field, 8);
        } else if (cases[i].field == 2) {
            tb s = {.n = 0}, l = {.n = 0};
            fv(&l, 1, 7);
            fv(&l, cases[i].inner, 8);
            RAW(&s, 0x12, 0x02, 0x01, 0x02);
            fm(&s, 3, &l);
            fm(&t, 2, &s);
        } else {
            if (cases[i].field == 3 || cases[i].field == 5)
                fv(&m, 1, 3);
            fv(&m, cases[i].inner, 8);
            fm(&t, cases[i].field, &m);
        }
        expect_fail(&t, PG_ERR_INVALID, cases[i].msg);
    }
    /* negative indices */
    tb t;
    base(&t);
    fv(&t, 8, (uint64_t)-2);
    expect_fail(&t, PG_ERR_INVALID, "keep_frames -2 out of range (string table has 8 entries)");
}

static void test_ids(void **state)
{
    (void)state;
    tb t, m = {.n = 0};
    base(&t);
    fv(&m, 5, 6);
    fm(&t, 3, &m);
    expect_fail(&t, PG_ERR_INVALID, "mapping[2].id is 0");
    base(&t);
    m.n = 0;
    fv(&m, 1, 2);
    fm(&t, 3, &m);
    expect_fail(&t, PG_ERR_INVALID, "mapping id 2 appears twice");
    base(&t);
    m.n = 0;
    fv(&m, 1, 1);
    fm(&t, 4, &m);
    expect_fail(&t, PG_ERR_INVALID, "location id 1 appears twice");
    base(&t);
    m.n = 0;
    fv(&m, 2, 1); /* a location without id */
    fm(&t, 4, &m);
    expect_fail(&t, PG_ERR_INVALID, "location[2].id is 0");
    base(&t);
    m.n = 0;
    fv(&m, 1, 2);
    fv(&m, 2, 5);
    fm(&t, 5, &m); /* function id 2 again (field 2 is the name) */
    expect_fail(&t, PG_ERR_INVALID, "function id 2 appears twice");
    base(&t);
    m.n = 0;
    fv(&m, 1, 9);
    fv(&m, 2, 7);
    fm(&t, 4, &m);
    expect_fail(&t, PG_ERR_INVALID, "location[2].mapping_id 7 does not match any mapping id");
    base(&t);
    m.n = 0;
    tb ln = {.n = 0};
    fv(&ln, 1, 1);
    fm(&m, 4, &ln);
    ln.n = 0;
    fv(&ln, 1, 9);
    fm(&m, 4, &ln);
    fv(&m, 1, 9);
    fm(&t, 4, &m);
    expect_fail(&t, PG_ERR_INVALID,
                "location[2].line[1].function_id 9 does not match any function id");
    base(&t);
    tb s = {.n = 0};
    RAW(&s, 0x0a, 0x03, 0x01, 0x02, 0x09, 0x12, 0x02, 0x01, 0x02);
    fm(&t, 2, &s);
    expect_fail(&t, PG_ERR_INVALID, "sample[2].location_id[2] 9 does not match any location id");
    base(&t);
    add_sample(&t, 1, 2);
    RAW(&t, 0x12, 0x03, 0x0a, 0x01, 0x01); /* no values */
    expect_fail(&t, PG_ERR_INVALID, "sample[3] has 0 value(s) but there are 2 sample types");
}

/* .NET writes every function id as 0 and uses positions as ids. */
static void test_dotnet_function_ids(void **state)
{
    (void)state;
    tb t = {.n = 0}, m = {.n = 0}, ln = {.n = 0};
    fb(&t, 6, "", 0);
    fb(&t, 6, "f", 1);
    for (int i = 0; i < 2; i++) {
        m.n = 0;
        fv(&m, 2, 1); /* name "f", id 0 */
        fm(&t, 5, &m);
    }
    m.n = 0;
    fv(&m, 1, 1);
    fv(&ln, 1, 2);
    fm(&m, 4, &ln);
    fm(&t, 4, &m);
    both r;
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "dotnet");
    assert_int_equal(r.w.functions[1].id, 2);
    assert_int_equal(r.w.lines[0].function, 1);
    both_free(&r);
    /* one non-zero id: no repair, and a zero id is an error */
    m.n = 0;
    fv(&m, 1, 5);
    fm(&t, 5, &m);
    expect_fail(&t, PG_ERR_INVALID, "function[0].id is 0");
}

/* ---- string hashes ---- */

/* The reader hashes each string while checking it, loading the last bytes
 * ahead of the string or behind it: every length, both ways, must give
 * pg_hash_bytes's value (pgw_compare checks every hash). */
static void test_string_hashes(void **state)
{
    (void)state;
    char s[64];
    for (size_t len = 0; len <= 40; len++) {
        for (size_t i = 0; i < len; i++)
            s[i] = (char)('a' + (i * 7 + len) % 26);
        tb t;
        base(&t);
        fb(&t, 6, s, len); /* last in the document: the tail is read behind */
        expect_ok(&t);
        fv(&t, 9, 5); /* something after it: the tail is read ahead */
        expect_ok(&t);
        /* non-ASCII UTF-8 takes the full check, and the same hash */
        base(&t);
        for (size_t i = 0; i + 1 < len; i += 2)
            memcpy(s + i, "\xc3\xa9", 2);
        fb(&t, 6, s, len & ~(size_t)1);
        expect_ok(&t);
    }
    /* documents too short for either load */
    for (size_t len = 0; len <= 4; len++) {
        tb t = {.n = 0};
        fb(&t, 6, "", 0);
        fb(&t, 6, "wxyz", len);
        both r;
        run_both(&r, t.b, t.n, 0);
        agree_ok(&r, "short document");
        assert_int_equal(r.w.strings[1].hash, (uint32_t)pg_hash_bytes("wxyz", len, 0));
        both_free(&r);
    }
}

/* ---- tables larger than the reader's first guess ---- */

static void add_string(tb *t, const char *fmt, size_t i)
{
    char s[32];
    int n = snprintf(s, sizeof(s), fmt, i);
    fb(t, 6, s, (size_t)n);
}

/* A location with id `id` and `lines` lines of function 1 or 2. */
static void add_location(tb *t, uint64_t id, size_t lines)
{
    tb l = {.n = 0}, ln = {.n = 0};
    fv(&l, 1, id);
    for (size_t k = 0; k < lines; k++) {
        ln.n = 0;
        fv(&ln, 1, 1 + k % 2);
        fv(&ln, 2, 10 + k);
        fm(&l, 4, &ln);
    }
    fv(&l, 3, 0x1000 + id);
    fm(t, 4, &l);
}

static void test_growth(void **state)
{
    (void)state;
    tb t, m;
    /* a small document with more strings than guessed */
    base(&t);
    for (size_t i = 0; i < 300; i++)
        add_string(&t, "s%zu", i);
    assert_true(t.n < 4096);
    expect_ok(&t);
    /* one location with many lines, and more mappings than guessed */
    base(&t);
    add_location(&t, 3, 200);
    for (uint64_t id = 3; id < 20; id++) {
        m.n = 0;
        fv(&m, 1, id);
        fv(&m, 2, id << 40);
        fm(&t, 3, &m);
    }
    expect_ok(&t);
    /* a large document whose locations get more lines further on: the
     * extrapolated room for lines falls short more than once */
    base(&t);
    for (uint64_t id = 3; id < 900; id++)
        add_location(&t, id, id < 400 ? 1 : id < 700 ? 3 : 7);
    assert_true(t.n > 4096);
    both r;
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "more lines later");
    assert_int_equal(r.w.n_locations, 899);
    assert_int_equal(r.w.n_lines, 2 + 397 + 300 * 3 + 200 * 7);
    both_free(&r);
    /* in a small document, lines that overflow first, while the locations
     * table must grow too: the location being read moves with it */
    base(&t);
    add_location(&t, 3, 3);
    for (uint64_t id = 4; id < 120; id++)
        add_location(&t, id, 1);
    assert_true(t.n < 4096);
    expect_ok(&t);
    /* the same in a small document, where the lines are counted late */
    base(&t);
    for (uint64_t id = 3; id < 40; id++)
        add_location(&t, id, id < 20 ? 1 : 9);
    assert_true(t.n < 4096);
    expect_ok(&t);
    /* kinds interleaved in a large document, and comments both ways */
    base(&t);
    for (size_t i = 0; i < 1200; i++) {
        add_string(&t, "x%zu", i);
        add_sample(&t, i, 2 * i);
        m.n = 0;
        fv(&m, 1, 3 + i);
        fv(&m, 2, 1);
        fm(&t, 5, &m);
        fv(&t, 13, 1 + i % 7);
        if (i % 100 == 0)
            RAW(&t, 0x6a, 0x03, 0x01, 0x02, 0x03);
    }
    assert_true(t.n > 4096);
    run_both(&r, t.b, t.n, 0);
    agree_ok(&r, "interleaved");
    assert_int_equal(r.w.n_functions, 1202);
    assert_int_equal(r.w.n_comments, 1200 + 12 * 3);
    both_free(&r);
    /* comments in a small document */
    base(&t);
    for (size_t i = 0; i < 100; i++)
        fv(&t, 13, i % 8);
    RAW(&t, 0x6a, 0x04, 0x01, 0x02, 0x03, 0x04);
    expect_ok(&t);
    /* more sample types than guessed (the samples then lack values) */
    base(&t);
    for (size_t i = 0; i < 5; i++)
        RAW(&t, 0x0a, 0x04, 0x08, 0x01, 0x10, 0x02);
    expect_fail(&t, PG_ERR_INVALID, "sample[0] has 2 value(s) but there are 7 sample types");
    /* a large document malformed half-way: counting stops where the walk
     * will */
    base(&t);
    for (size_t i = 0; i < 600; i++) {
        add_string(&t, "y%zu", i);
        if (i == 300)
            RAW(&t, 0x18, 0x01);
    }
    expect_fail(&t, PG_ERR_INVALID, BAD_WIRE);
}

/* ---- which error comes first ---- */

/* pg_pprof_decode checks the strings' bytes before anything else, in a
 * walk that goes past what protobuf-c refuses: a bad string found there
 * wins over a malformed document. */
static void test_error_order(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t b[16];
        size_t n;
        int string_wins; /* the lax walk goes past it */
    } cases[] = {
        {"mapping as varint", {0x18, 0x01}, 2, 1},
        {"mapping id as bytes", {0x1a, 0x03, 0x0a, 0x01, 0x05}, 5, 1},
        {"field 0 in a one-byte tag", {0x00, 0x05}, 2, 1},
        {"6-byte tag", {0xb8, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}, 7, 1},
        {"6-byte length", {0xa2, 0x01, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x41}, 9, 1},
        {"label as varint in a sample", {0x12, 0x02, 0x18, 0x01}, 4, 1},
        {"line as varint", {0x22, 0x04, 0x08, 0x09, 0x20, 0x01}, 6, 1},
        {"group start", {0xa3, 0x01}, 2, 0},
        {"wire type 7", {0xa7, 0x01, 0x00}, 3, 0},
        {"11-byte varint",
         {0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00},
         12,
         0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("malformed, then a bad string: %s\n", cases[i].what);
        tb t;
        base(&t);
        put(&t, cases[i].b, cases[i].n);
        fb(&t, 6, "\xc3\x28", 2);
        if (cases[i].string_wins)
            expect_fail(&t, PG_ERR_INVALID, "string_table[8] is not valid UTF-8");
        else
            expect_fail(&t, PG_ERR_INVALID, BAD_WIRE);
        base(&t);
        put(&t, cases[i].b, cases[i].n);
        fb(&t, 6, "a\0b", 3);
        if (cases[i].string_wins)
            expect_fail(&t, PG_ERR_UNSUPPORTED, "string_table[8] contains a NUL byte");
        else
            expect_fail(&t, PG_ERR_INVALID, BAD_WIRE);
    }
    /* and over running out of memory, in a document large enough to be
     * counted first */
    tb t;
    base(&t);
    for (size_t i = 0; i < 1000; i++)
        add_sample(&t, i, i);
    fb(&t, 6, "\xff", 1);
    assert_true(t.n > 4096);
    expect_fail_within(&t, 4096, PG_ERR_INVALID, "string_table[8] is not valid UTF-8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_fixture_values),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_base_document),
        cmocka_unit_test(test_packed_and_unpacked),
        cmocka_unit_test(test_last_wins_and_period_type),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_wire_errors),
        cmocka_unit_test(test_varints_and_bools),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_string_indices),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_dotnet_function_ids),
        cmocka_unit_test(test_string_hashes),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_error_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
