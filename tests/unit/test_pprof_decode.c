/* pprof decoding, validation (exact messages) and encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <zlib.h>

#include "test_pprof_util.h"

static uint8_t *pack_doc(const pg_pprof *p, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(&p->base);
    uint8_t *b = malloc(*len ? *len : 1);
    protobuf_c_message_pack(&p->base, b);
    return b;
}

/* Validates directly, then decodes the packed document, expecting msg both
 * times (decode adds the "pprof: " prefix). */
static void expect_invalid(const tp_doc *d, const char *msg)
{
    pg_error err = {0};
    assert_int_equal(pg_pprof_validate(&d->p, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    size_t len;
    uint8_t *b = pack_doc(&d->p, &len);
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *out = (pg_pprof *)1;
    memset(&err, 0, sizeof(err));
    assert_int_equal(pg_pprof_decode(a, b, len, 0, &out, &err), PG_ERR_INVALID);
    assert_null(out);
    char want[PG_ERROR_MSG_MAX];
    snprintf(want, sizeof(want), "pprof: %s", msg);
    assert_string_equal(err.msg, want);
    pg_arena_free(a);
    free(b);
}

static void test_fixtures_decode(void **state)
{
    (void)state;
    tp_fixtures f;
    tp_find_fixtures(&f);
    assert_true(f.n >= 45);
    size_t ok = 0, utf8_failures = 0;
    for (size_t i = 0; i < f.n; i++) {
        size_t len = 0;
        uint8_t *buf = tp_read_file(f.path[i], &len);
        assert_non_null(buf);
        pg_arena *a = pg_arena_new(0, 0);
        pg_pprof *p = NULL;
        pg_error err = {0};
        int rc = pg_pprof_decode(a, buf, len, 64u << 20, &p, &err);
        if (strstr(f.path[i], "invalid-utf8.pb.gz")) {
            assert_int_equal(rc, PG_ERR_INVALID);
            assert_non_null(strstr(err.msg, "is not valid UTF-8"));
            utf8_failures++;
        } else {
            if (rc != PG_OK)
                fail_msg("%s: %s", f.path[i], err.msg);
            assert_true(p->n_sample_type > 0);
            assert_int_equal(pg_pprof_validate(p, &err), PG_OK);
            ok++;
        }
        pg_arena_free(a);
        free(buf);
    }
    assert_int_equal(utf8_failures, 1);
    assert_int_equal(ok, f.n - 1);
    tp_free_fixtures(&f);
}

static void test_valid_doc(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    pg_error err = {0};
    assert_int_equal(pg_pprof_validate(&d.p, &err), PG_OK);
}

static void test_bad_references(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    d.locs[1][1] = 77;
    expect_invalid(&d, "sample[1].location_id[1] 77 does not match any location id");
    tp_doc_init(&d);
    d.locs[0][0] = 0;
    expect_invalid(&d, "sample[0].location_id[0] 0 does not match any location id");
    tp_doc_init(&d);
    d.l[0].mapping_id = 9;
    expect_invalid(&d, "location[0].mapping_id 9 does not match any mapping id");
    tp_doc_init(&d);
    d.ln[1].function_id = 5;
    expect_invalid(&d, "location[1].line[0].function_id 5 does not match any function id");
    tp_doc_init(&d);
    d.ln[1].function_id = 0;
    expect_invalid(&d, "location[1].line[0].function_id 0 does not match any function id");
}

static void test_bad_string_indices(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    d.f[1].name = 99;
    expect_invalid(&d, "function[1].name 99 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    d.f[0].filename = -1;
    expect_invalid(&d, "function[0].filename -1 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    d.lab[0].key = -3;
    expect_invalid(&d, "sample[0].label[0].key -3 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    d.lab[1].num_unit = 8;
    expect_invalid(&d, "sample[1].label[0].num_unit 8 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    d.st[1].unit = 8;
    expect_invalid(&d, "sample_type[1].unit 8 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    d.m[1].build_id = 12;
    expect_invalid(&d, "mapping[1].build_id 12 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    int64_t comments[2] = {1, 40};
    d.p.n_comment = 2;
    d.p.comment = comments;
    expect_invalid(&d, "comment[1] 40 out of range (string table has 8 entries)");
    tp_doc_init(&d);
    d.p.doc_url = -2;
    expect_invalid(&d, "doc_url -2 out of range (string table has 8 entries)");
}

static void test_bad_ids(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    d.l[1].id = 0;
    d.locs[0][1] = d.locs[1][1] = 1;
    expect_invalid(&d, "location[1].id is 0");
    tp_doc_init(&d);
    d.m[0].id = d.m[1].id = 7;
    d.l[0].mapping_id = d.l[1].mapping_id = 7;
    expect_invalid(&d, "mapping id 7 appears twice");
    /* sparse ids take the hash-table path */
    tp_doc_init(&d);
    d.f[0].id = d.f[1].id = 1000000007;
    d.ln[0].function_id = d.ln[1].function_id = 1000000007;
    expect_invalid(&d, "function id 1000000007 appears twice");
}

static void test_bad_strings_and_values(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    d.strings[5] = "ma\xffin";
    expect_invalid(&d, "string_table[5] is not valid UTF-8");
    tp_doc_init(&d);
    d.strings[7] = "\xed\xa0\x80"; /* a surrogate */
    expect_invalid(&d, "string_table[7] is not valid UTF-8");
    tp_doc_init(&d);
    d.strings[0] = "x";
    expect_invalid(&d, "string_table[0] must be empty");
    tp_doc_init(&d);
    d.s[1].n_value = 1;
    expect_invalid(&d, "sample[1] has 1 value(s) but there are 2 sample types");
    tp_doc_init(&d);
    d.p.n_string_table = 0;
    d.p.n_sample_type = 0;
    d.p.n_sample = d.p.n_mapping = d.p.n_function = d.p.n_location = 0;
    expect_invalid(&d, "string_table is empty (entry 0 must be \"\")");
}

/* Shuffled dense ids (direct array) and sparse ids (hash table) resolve. */
static void test_id_layouts(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    pg_error err = {0};
    d.l[0].id = 2;
    d.l[1].id = 1;
    assert_int_equal(pg_pprof_validate(&d.p, &err), PG_OK);
    d.l[0].id = 1ull << 40;
    d.l[1].id = 3;
    d.locs[0][0] = 1ull << 40;
    d.locs[1][0] = 3;
    d.locs[0][1] = d.locs[1][1] = 3;
    assert_int_equal(pg_pprof_validate(&d.p, &err), PG_OK);
    d.locs[1][1] = 2;
    assert_int_equal(pg_pprof_validate(&d.p, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "sample[1].location_id[1] 2 does not match any location id");
}

/* The .NET profiler writes functions without ids; decode numbers them. */
static void test_function_id_repair(void **state)
{
    (void)state;
    tp_doc d;
    tp_doc_init(&d);
    d.f[0].id = d.f[1].id = 0;
    size_t len = 0;
    uint8_t *b = pack_doc(&d.p, &len);
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *p = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_decode(a, b, len, 0, &p, &err), PG_OK);
    assert_int_equal(p->function[0]->id, 1);
    assert_int_equal(p->function[1]->id, 2);
    pg_arena_free(a);
    free(b);
    tp_doc_init(&d);
    d.f[0].id = 0;
    expect_invalid(&d, "function[0].id is 0");
}

static void test_gzip_sniff_and_limits(void **state)
{
    (void)state;
    const uint8_t gz[] = {0x1f, 0x8b, 0x08};
    assert_true(pg_is_gzip(gz, 3));
    assert_true(pg_is_gzip(gz, 2));
    assert_false(pg_is_gzip(gz, 1));
    assert_false(pg_is_gzip(gz + 1, 2));
    assert_false(pg_is_gzip(NULL, 0));

    const char *shared = getenv("PG_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/fixtures/third_party/grafana-pyroscope/go-heap.pb.gz",
             shared ? shared : "../shared");
    size_t len = 0;
    uint8_t *buf = tp_read_file(path, &len);
    assert_non_null(buf);
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *p = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_decode(a, buf, len, 1000, &p, &err), PG_ERR_LIMIT);
    assert_null(p);
    /* truncated gzip */
    assert_int_equal(pg_pprof_decode(a, buf, len / 2, 64u << 20, &p, &err), PG_ERR_INVALID);
    /* an arena limit below the decoded size */
    pg_arena *small = pg_arena_new(4096, 64 * 1024);
    int rc = pg_pprof_decode(small, buf, len, 0, &p, &err);
    assert_int_equal(rc, PG_ERR_LIMIT);
    pg_arena_free(small);
    /* not protobuf at all */
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(pg_pprof_decode(a, junk, sizeof(junk), 0, &p, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "pprof: not a valid perftools.profiles.Profile protobuf message");
    /* empty input is a document without a string table */
    assert_int_equal(pg_pprof_decode(a, junk, 0, 0, &p, &err), PG_ERR_INVALID);
    pg_arena_free(a);
    free(buf);
}

/* Appends one more string_table entry to an encoded document and decodes it. */
static int decode_with_string(const char *s, size_t n, pg_error *err)
{
    tp_doc d;
    tp_doc_init(&d);
    size_t len = 0;
    uint8_t *b = pack_doc(&d.p, &len);
    b = realloc(b, len + n + 2);
    b[len] = 0x32; /* field 6, length-delimited */
    b[len + 1] = (uint8_t)n;
    memcpy(b + len + 2, s, n);
    pg_arena *a = pg_arena_new(0, 0);
    pg_pprof *p = NULL;
    int rc = pg_pprof_decode(a, b, len + n + 2, 0, &p, err);
    if (rc == PG_OK)
        assert_int_equal(p->n_string_table, 9);
    pg_arena_free(a);
    free(b);
    return rc;
}

static void test_encoded_strings(void **state)
{
    (void)state;
    pg_error err = {0};
    assert_int_equal(decode_with_string("ok \xc3\xa9", 5, &err), PG_OK);
    assert_int_equal(decode_with_string("a\0b", 3, &err), PG_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "pprof: string_table[8] contains a NUL byte");
    /* a NUL first must not hide the invalid bytes behind it */
    assert_int_equal(decode_with_string("\0\x80", 2, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "pprof: string_table[8] is not valid UTF-8");
}

static int64_t value_sum(const pg_pprof *p, size_t t)
{
    int64_t sum = 0;
    for (size_t i = 0; i < p->n_sample; i++)
        sum += p->sample[i]->value[t];
    return sum;
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    tp_fixtures f;
    tp_find_fixtures(&f);
    for (size_t i = 0; i < f.n; i++) {
        if (strstr(f.path[i], "invalid-utf8"))
            continue;
        size_t len = 0;
        uint8_t *buf = tp_read_file(f.path[i], &len);
        pg_arena *a = pg_arena_new(0, 0);
        pg_pprof *p = NULL, *q = NULL;
        pg_error err = {0};
        assert_int_equal(pg_pprof_decode(a, buf, len, 0, &p, &err), PG_OK);
        pg_buf raw, gz;
        pg_buf_init(&raw);
        pg_buf_init(&gz);
        assert_int_equal(pg_pprof_encode(p, 0, &raw, &err), PG_OK);
        assert_int_equal(pg_pprof_encode(p, 1, &gz, &err), PG_OK);
        assert_false(pg_is_gzip(raw.data, raw.len));
        assert_true(pg_is_gzip(gz.data, gz.len));
        /* the gzip stream holds exactly the raw encoding */
        uLongf n = raw.len + 16;
        uint8_t *inflated = malloc(n);
        z_stream z = {0};
        assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
        z.next_in = gz.data;
        z.avail_in = (uInt)gz.len;
        z.next_out = inflated;
        z.avail_out = (uInt)n;
        assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
        assert_int_equal(z.total_out, raw.len);
        assert_memory_equal(inflated, raw.data, raw.len);
        inflateEnd(&z);
        free(inflated);
        assert_int_equal(pg_pprof_decode(a, gz.data, gz.len, 0, &q, &err), PG_OK);
        assert_int_equal(q->n_sample, p->n_sample);
        assert_int_equal(q->n_string_table, p->n_string_table);
        for (size_t t = 0; t < p->n_sample_type; t++)
            assert_int_equal(value_sum(q, t), value_sum(p, t));
        pg_buf_free(&raw);
        pg_buf_free(&gz);
        pg_arena_free(a);
        free(buf);
    }
    tp_free_fixtures(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_decode),
        cmocka_unit_test(test_valid_doc),
        cmocka_unit_test(test_bad_references),
        cmocka_unit_test(test_bad_string_indices),
        cmocka_unit_test(test_bad_ids),
        cmocka_unit_test(test_bad_strings_and_values),
        cmocka_unit_test(test_id_layouts),
        cmocka_unit_test(test_function_id_repair),
        cmocka_unit_test(test_gzip_sniff_and_limits),
        cmocka_unit_test(test_encoded_strings),
        cmocka_unit_test(test_encode_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
