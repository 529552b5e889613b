/* OTLP protobuf: layout detection, decoding of the real fixture, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/otlp_types.h"
#include "test_otlp_util.h"

static const char *sniff_file(const char *rel)
{
    size_t len = 0;
    uint8_t *p = ot_read(rel, &len);
    assert_non_null(p);
    const char *v = pg_otlp_sniff_version(p, len);
    free(p);
    return v;
}

static void test_sniff_fixtures(void **state)
{
    assert_string_equal(sniff_file(OT_V110), "v1.10");
    assert_string_equal(sniff_file(OT_DIR "otlp-v1.8-ebpf.pb"), "v1.8");
    assert_string_equal(sniff_file(OT_DIR "otlp-v1.7-ebpf-unsymbolized.pb"), "v1.7");
    assert_string_equal(sniff_file(OT_DIR "otlp-v1.7-async-profiler-java-corrupted.pb"), "v1.7");
    assert_string_equal(sniff_file(OT_DIR "otlp-v1.5-ebpf-unsymbolized.pb"), "v1.4");
}

static void test_sniff_garbage(void **state)
{
    const uint8_t text[] = "hello, this is not protobuf";
    const uint8_t group[] = {0x0b, 0x0c};       /* start/end group: proto2 only */
    const uint8_t trunc[] = {0x0a, 0x10, 0x01}; /* length past the end */
    const uint8_t field0[] = {0x00, 0x01};
    assert_string_equal(pg_otlp_sniff_version(text, sizeof(text) - 1), "unknown");
    assert_string_equal(pg_otlp_sniff_version(group, sizeof(group)), "unknown");
    assert_string_equal(pg_otlp_sniff_version(trunc, sizeof(trunc)), "unknown");
    assert_string_equal(pg_otlp_sniff_version(field0, sizeof(field0)), "unknown");
    assert_string_equal(pg_otlp_sniff_version(NULL, 0), "v1.10");
}

/* A gzip header is what a client sends when it forgets Content-Encoding. */
static void test_sniff_gzip(void **state)
{
    size_t len = 0;
    uint8_t *p = ot_read(OT_DIR "go-cpu.pb.gz", &len);
    assert_non_null(p);
    assert_string_equal(pg_otlp_sniff_version(p, len), "unknown");
    free(p);
}

/* Hand-made samples that differ only in the v1.8/v1.10 renumbering. */
static void test_sniff_sample_layouts(void **state)
{
    /* request{ rp{ sp{ profile{ samples{ ... } } } } } */
    const uint8_t v18[] = {0x0a, 0x09, 0x12, 0x07, 0x12, 0x05, 0x12, 0x03, 0x1a, 0x01, 0x01};
    const uint8_t v110_link[] = {0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x12, 0x02, 0x18, 0x01};
    const uint8_t v110_values[] = {0x0a, 0x09, 0x12, 0x07, 0x12, 0x05,
                                   0x12, 0x03, 0x22, 0x01, 0x05};
    assert_string_equal(pg_otlp_sniff_version(v18, sizeof(v18)), "v1.8");
    assert_string_equal(pg_otlp_sniff_version(v110_link, sizeof(v110_link)), "v1.10");
    assert_string_equal(pg_otlp_sniff_version(v110_values, sizeof(v110_values)), "v1.10");
    /* ambiguous sample (only field 1): decided as v1.10 */
    uint8_t amb[] = {0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01};
    assert_string_equal(pg_otlp_sniff_version(amb, sizeof(amb)), "v1.10");
}

static void test_decode_fixture(void **state)
{
    size_t len = 0;
    uint8_t *p = ot_read(OT_V110, &len);
    assert_non_null(p);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, p, len, &req, &err), PG_OK);
    assert_non_null(req);
    assert_int_equal(req->n_resource_profiles, 77);
    assert_int_equal(pg_otlp_profile_count(req), 82);
    size_t samples = 0;
    for (size_t i = 0; i < req->n_resource_profiles; i++)
        for (size_t k = 0; k < req->resource_profiles[i]->n_scope_profiles; k++)
            for (size_t j = 0; j < req->resource_profiles[i]->scope_profiles[k]->n_profiles; j++)
                samples += req->resource_profiles[i]->scope_profiles[k]->profiles[j]->n_samples;
    assert_int_equal(samples, 317);
    assert_string_equal(pg_otlp_string(req, 1), "off_cpu");
    assert_string_equal(pg_otlp_string(req, 2), "nanoseconds");
    assert_string_equal(pg_otlp_string(req, -1), "");
    assert_string_equal(pg_otlp_string(req, 100000), "");

    /* re-encoding gives the same bytes */
    pg_buf out;
    pg_buf_init(&out);
    assert_int_equal(pg_otlp_encode(req, &out), PG_OK);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, p, len);
    pg_buf_free(&out);
    pg_arena_free(a);
    free(p);
}

static void expect_refusal(const char *rel, const char *version)
{
    size_t len = 0;
    uint8_t *p = ot_read(rel, &len);
    assert_non_null(p);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, p, len, &req, &err), PG_ERR_UNSUPPORTED);
    assert_null(req);
    char want[256];
    snprintf(want, sizeof(want),
             "request uses the OTLP profiles %s wire layout; profgate accepts v1.10/v1.11 "
             "(opentelemetry-proto >= 1.10.0)",
             version);
    assert_string_equal(err.msg, want);
    pg_arena_free(a);
    free(p);
}

static void test_refuse_old_layouts(void **state)
{
    expect_refusal(OT_DIR "otlp-v1.8-ebpf.pb", "v1.8/v1.9");
    expect_refusal(OT_DIR "otlp-v1.7-ebpf-unsymbolized.pb", "v1.7");
    expect_refusal(OT_DIR "otlp-v1.7-async-profiler-java-corrupted.pb", "v1.7");
    expect_refusal(OT_DIR "otlp-v1.5-ebpf-unsymbolized.pb", "v1.4/v1.5");
}

static void test_decode_garbage(void **state)
{
    const uint8_t text[] = "definitely not protobuf";
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, text, sizeof(text) - 1, &req, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "malformed protobuf"));
    pg_arena_free(a);
}

static void test_decode_memory_limit(void **state)
{
    size_t len = 0;
    uint8_t *p = ot_read(OT_V110, &len);
    assert_non_null(p);
    pg_arena *a = pg_arena_new(4096, 64 * 1024);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, p, len, &req, &err), PG_ERR_LIMIT);
    assert_null(req);
    pg_arena_free(a);
    free(p);
}

/* AnyValue{array{AnyValue{array{...}}}} nested `depth` times, as the value
 * of a resource attribute. */
static uint8_t *nested_request(int depth, size_t *len)
{
    /* built back to front so that each wrapper costs only its header */
    size_t cap = (size_t)depth * 24 + 64, pos = cap;
    uint8_t *buf = malloc(cap);
    static const uint8_t tags[] = {0x0a, 0x2a}; /* ArrayValue.values, AnyValue.array_value */
    for (int i = 0; i < depth * 2 + 4; i++) {
        /* after the values: KeyValue.value(0x12), Resource.attributes(0x0a),
         * ResourceProfiles.resource(0x0a), request.resource_profiles(0x0a) */
        uint8_t tag = i < depth * 2 ? tags[i % 2] : (i == depth * 2 ? 0x12 : 0x0a);
        uint8_t hdr[12];
        size_t h = 0, v = cap - pos;
        hdr[h++] = tag;
        while (v >= 0x80) {
            hdr[h++] = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        hdr[h++] = (uint8_t)v;
        pos -= h;
        memcpy(buf + pos, hdr, h);
    }
    *len = cap - pos;
    memmove(buf, buf + pos, *len);
    return buf;
}

static void test_decode_depth_limit(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    size_t len = 0;
    uint8_t *ok = nested_request(PG_OTLP_MAX_VALUE_DEPTH - 1, &len);
    assert_int_equal(pg_otlp_decode(a, ok, len, &req, &err), PG_OK);
    free(ok);
    /* deep enough to overflow the stack inside protobuf-c without the guard */
    uint8_t *deep = nested_request(200000, &len);
    assert_int_equal(pg_otlp_decode(a, deep, len, &req, &err), PG_ERR_INVALID);
    assert_non_null(strstr(err.msg, "nest deeper than 64"));
    free(deep);
    pg_arena_free(a);
}

/* Empty tables get their zero entry so index 0 is always usable. */
static void test_zero_entries(void **state)
{
    /* request{ rp{ sp{ profile{ samples{} } } }, dictionary{} } */
    const uint8_t msg[] = {0x0a, 0x08, 0x12, 0x06, 0x12, 0x04, 0x12, 0x02, 0x12, 0x00, 0x12, 0x00};
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, msg, sizeof(msg), &req, &err), PG_OK);
    assert_int_equal(req->dictionary->n_stack_table, 1);
    assert_int_equal(req->dictionary->n_string_table, 1);
    assert_string_equal(req->dictionary->string_table[0], "");
    assert_int_equal(req->dictionary->stack_table[0]->n_location_indices, 0);
    /* without a dictionary the same request is refused */
    assert_int_equal(pg_otlp_decode(a, msg, sizeof(msg) - 2, &req, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, "dictionary missing: the request has 1 profiles whose indices "
                                 "refer to it");
    pg_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_fixtures),     cmocka_unit_test(test_sniff_garbage),
        cmocka_unit_test(test_sniff_gzip),         cmocka_unit_test(test_sniff_sample_layouts),
        cmocka_unit_test(test_decode_fixture),     cmocka_unit_test(test_refuse_old_layouts),
        cmocka_unit_test(test_decode_garbage),     cmocka_unit_test(test_decode_memory_limit),
        cmocka_unit_test(test_decode_depth_limit), cmocka_unit_test(test_zero_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
