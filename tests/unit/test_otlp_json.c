/* OTLP/JSON: the protojson fixture, key spellings, leniencies, type errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>

#include "model/otlp_types.h"
#include "test_otlp_util.h"

static pg_otlp_request *decode_pb_fixture(pg_arena *a)
{
    size_t len = 0;
    uint8_t *p = ot_read(OT_V110, &len);
    assert_non_null(p);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, p, len, &req, &err), PG_OK);
    free(p);
    return req;
}

static void assert_same_request(const pg_otlp_request *x, const pg_otlp_request *y)
{
    size_t nx, ny;
    uint8_t *px = ot_pack(&x->base, &nx), *py = ot_pack(&y->base, &ny);
    assert_int_equal(nx, ny);
    assert_memory_equal(px, py, nx);
    free(px);
    free(py);
}

static void test_fixture_json_equals_pb(void **state)
{
    size_t len = 0;
    char *json = (char *)ot_read(OT_V110_JSON, &len);
    assert_non_null(json);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *from_json = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_json_decode(a, json, len, &from_json, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(from_json), 82);
    assert_same_request(from_json, decode_pb_fixture(a));
    pg_arena_free(a);
    free(json);
}

static void test_encode_round_trip(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = decode_pb_fixture(a), *back = NULL;
    pg_buf out;
    pg_buf_init(&out);
    pg_error err = {0};
    assert_int_equal(pg_otlp_json_encode(req, &out, &err), PG_OK);
    assert_int_equal(pg_buf_append(&out, "", 1), PG_OK);
    const char *text = (const char *)out.data;
    assert_null(strchr(text, '\n'));
    /* OTLP/JSON conventions, as in the protojson fixture */
    assert_non_null(strstr(text, "\"linkTable\":[{}]"));
    assert_non_null(strstr(text, "\"attributeTable\":[{\"value\":{}},"));
    assert_non_null(strstr(text, "\"timeUnixNano\":\"1774910497545532978\""));
    assert_non_null(strstr(text, "\"stackIndex\":1,"));
    assert_non_null(strstr(text, "\"value\":{\"intValue\":\"66\"}"));
    assert_null(strstr(text, "_strindex"));
    assert_int_equal(pg_otlp_json_decode(a, text, out.len - 1, &back, &err), PG_OK);
    assert_same_request(req, back);
    pg_buf_free(&out);
    pg_arena_free(a);
}

static pg_otlp_request *decode_ok(pg_arena *a, const char *json)
{
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    int rc = pg_otlp_json_decode(a, json, strlen(json), &req, &err);
    if (rc != PG_OK)
        fail_msg("decode failed: %s", err.msg);
    return req;
}

static void expect_error(const char *json, const char *msg)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    int rc = pg_otlp_json_decode(a, json, strlen(json), &req, &err);
    pg_arena_free(a);
    if (rc != PG_ERR_INVALID)
        fail_msg("%s: got %d (%s)", json, rc, rc ? err.msg : "no error");
    assert_null(req);
    assert_string_equal(err.msg, msg);
}

#define ONE_PROFILE(profile)                                                                       \
    "{\"resourceProfiles\":[{\"scopeProfiles\":[{\"profiles\":[" profile "]}]}],"                  \
    "\"dictionary\":{\"stringTable\":[\"\",\"cpu\",\"ns\"],\"stackTable\":[{}]}}"

static const pg_otlp_profile *first_profile(const pg_otlp_request *req)
{
    return req->resource_profiles[0]->scope_profiles[0]->profiles[0];
}

static void test_snake_case_keys(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    const pg_otlp_request *req = decode_ok(
        a, "{\"resource_profiles\":[{\"schema_url\":\"s\",\"scope_profiles\":[{\"profiles\":[{"
           "\"sample_type\":{\"type_strindex\":1,\"unit_strindex\":2},\"time_unix_nano\":"
           "\"18446744073709551615\",\"duration_nano\":5,\"samples\":[{\"stack_index\":0,"
           "\"timestamps_unix_nano\":[\"7\"],\"values\":[-3]}]}]}]}],\"dictionary\":{"
           "\"string_table\":[\"\",\"cpu\",\"ns\"],\"stack_table\":[{}]}}");
    const pg_otlp_profile *p = first_profile(req);
    assert_string_equal(req->resource_profiles[0]->schema_url, "s");
    assert_int_equal(p->sample_type->type_strindex, 1);
    assert_int_equal(p->sample_type->unit_strindex, 2);
    assert_true(p->time_unix_nano == UINT64_MAX);
    assert_int_equal(p->duration_nano, 5);
    assert_int_equal(p->samples[0]->n_values, 1);
    assert_int_equal(p->samples[0]->values[0], -3);
    assert_int_equal(p->samples[0]->timestamps_unix_nano[0], 7);
    pg_arena_free(a);
}

static void test_unknown_fields_and_nulls(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    const pg_otlp_request *req = decode_ok(
        a, ONE_PROFILE("{\"futureField\":{\"x\":[1,2,{}]},\"period\":null,\"periodType\":null,"
                       "\"sampleType\":{\"typeStrindex\":\"1\",\"extra\":true},\"period\":"
                       "\"10\"}"));
    const pg_otlp_profile *p = first_profile(req);
    assert_int_equal(p->period, 10);
    assert_null(p->period_type);
    assert_int_equal(p->sample_type->type_strindex, 1);
    pg_arena_free(a);
}

static void test_hex_ids(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    const pg_otlp_request *req =
        decode_ok(a, "{\"dictionary\":{\"linkTable\":[{},{\"traceId\":"
                     "\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"eee19b7ec3c1b174\"},"
                     "{\"traceId\":\"AAECAwQFBgcICQoLDA0ODw==\",\"spanId\":\"AAECAwQFBgc\"}]}}");
    const pg_otlp_dictionary *d = req->dictionary;
    assert_int_equal(d->n_link_table, 3);
    const uint8_t t1[] = {0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03,
                          0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c};
    assert_int_equal(d->link_table[1]->trace_id.len, 16);
    assert_memory_equal(d->link_table[1]->trace_id.data, t1, 16);
    assert_int_equal(d->link_table[1]->span_id.len, 8);
    assert_int_equal(d->link_table[1]->span_id.data[7], 0x74);
    /* base64 (Go protojson output) is accepted too */
    assert_int_equal(d->link_table[2]->trace_id.len, 16);
    assert_int_equal(d->link_table[2]->trace_id.data[15], 15);
    assert_int_equal(d->link_table[2]->span_id.len, 8);
    assert_int_equal(d->link_table[2]->span_id.data[7], 7);

    pg_buf out;
    pg_buf_init(&out);
    pg_error err = {0};
    assert_int_equal(pg_otlp_json_encode(req, &out, &err), PG_OK);
    pg_buf_append(&out, "", 1);
    assert_non_null(strstr((char *)out.data, "{\"traceId\":\"5b8efff798038103d269b633813fc60c\","
                                             "\"spanId\":\"eee19b7ec3c1b174\"}"));
    assert_non_null(strstr((char *)out.data, "\"spanId\":\"0001020304050607\""));
    pg_buf_free(&out);
    pg_arena_free(a);
}

static void test_values_and_oneof(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    const pg_otlp_request *req =
        decode_ok(a, "{\"dictionary\":{\"stringTable\":[\"\",\"k\"],\"attributeTable\":[{},"
                     "{\"keyStrindex\":1,\"value\":{\"doubleValue\":\"NaN\"}},"
                     "{\"value\":{\"doubleValue\":\"-Infinity\"}},{\"value\":{\"doubleValue\":2}},"
                     "{\"value\":{\"bytesValue\":\"aGk=\"}},{\"value\":{\"boolValue\":false}},"
                     "{\"value\":{\"stringValueStrindex\":1}},{\"value\":{\"intValue\":-9}}]}}");
    pg_otlp_kvu **t = req->dictionary->attribute_table;
    assert_true(isnan(t[1]->value->double_value));
    assert_true(isinf(t[2]->value->double_value) && t[2]->value->double_value < 0);
    assert_true(t[3]->value->double_value == 2.0);
    assert_int_equal(t[4]->value->bytes_value.len, 2);
    assert_memory_equal(t[4]->value->bytes_value.data, "hi", 2);
    assert_int_equal(t[5]->value->value_case, PG_ANY(BOOL_VALUE));
    assert_int_equal(t[6]->value->string_value_strindex, 1);
    assert_int_equal(t[7]->value->int_value, -9);

    /* set oneof members survive even with default values */
    pg_buf out;
    pg_buf_init(&out);
    pg_error err = {0};
    assert_int_equal(pg_otlp_json_encode(req, &out, &err), PG_OK);
    pg_buf_append(&out, "", 1);
    assert_non_null(strstr((char *)out.data, "{\"value\":{\"boolValue\":false}}"));
    assert_non_null(strstr((char *)out.data, "{\"keyStrindex\":1,\"value\":{\"doubleValue\":"
                                             "\"NaN\"}}"));
    assert_non_null(strstr((char *)out.data, "{\"value\":{\"intValue\":\"-9\"}}"));
    pg_buf_free(&out);
    pg_arena_free(a);
}

static void test_type_errors(void **state)
{
    expect_error("[1]", "(top level): expected an object, got array");
    expect_error("{\"resourceProfiles\":{}}", "resourceProfiles: expected an array, got object");
    expect_error(ONE_PROFILE("{\"timeUnixNano\":{}}"),
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].timeUnixNano: expected an "
                 "unsigned 64-bit integer (number or decimal string), got object");
    expect_error(ONE_PROFILE("{\"timeUnixNano\":\"12x\"}"),
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].timeUnixNano: expected an "
                 "unsigned 64-bit integer (number or decimal string), got a string out of range "
                 "or not an integer");
    expect_error(ONE_PROFILE("{\"samples\":[{\"stackIndex\":4294967296}]}"),
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].stackIndex: "
                 "expected a 32-bit integer, got a number out of range or not an integer");
    expect_error(ONE_PROFILE("{\"samples\":[{\"values\":[1,true]}]}"),
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0].values[1]: "
                 "expected a 64-bit integer (number or decimal string), got boolean");
    expect_error(ONE_PROFILE("{\"samples\":[null]}"),
                 "resourceProfiles[0].scopeProfiles[0].profiles[0].samples[0]: null is not "
                 "allowed inside an array");
    expect_error("{\"dictionary\":{\"stringTable\":[\"\",7]}}",
                 "dictionary.stringTable[1]: expected a string, got number");
    expect_error("{\"dictionary\":{\"linkTable\":[{\"traceId\":\"no-hex!\"}]}}",
                 "dictionary.linkTable[0].traceId: a hex (or base64) string");
    expect_error("{\"dictionary\":{\"attributeTable\":[{\"value\":{\"intValue\":1,"
                 "\"boolValue\":true}}]}}",
                 "dictionary.attributeTable[0].value.boolValue: more than one member of a "
                 "oneof is set");
    expect_error("{\"dictionary\":{\"attributeTable\":[{\"value\":{\"boolValue\":1}}]}}",
                 "dictionary.attributeTable[0].value.boolValue: expected true or false, got "
                 "number");
    expect_error("{\"resourceProfiles\":[", "invalid JSON at line 1 column 21: ']' expected "
                                            "near end of file");
    /* validation runs after decoding, with proto field paths */
    expect_error(ONE_PROFILE("{\"samples\":[{\"stackIndex\":3}]}"),
                 "resource_profiles[0].scope_profiles[0].profiles[0].samples[0].stack_index 3 "
                 "out of range (stack_table has 1 entries)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_json_equals_pb),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_snake_case_keys),
        cmocka_unit_test(test_unknown_fields_and_nulls),
        cmocka_unit_test(test_hex_ids),
        cmocka_unit_test(test_values_and_oneof),
        cmocka_unit_test(test_type_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
