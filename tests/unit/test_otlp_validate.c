/* OTLP validation: exact error messages, UTF-8, truncated and damaged input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/otlp_types.h"
#include "test_otlp_util.h"

typedef struct synth {
    pg_arena *arena;
    pg_otlp_request *req;
} synth;

static int setup(void **state)
{
    synth *s = calloc(1, sizeof(*s));
    pg_error err = {0};
    s->arena = pg_arena_new(0, 0);
    if (pg_otlp_json_decode(s->arena, ot_synth_json(), strlen(ot_synth_json()), &s->req, &err) !=
        PG_OK) {
        fprintf(stderr, "synthetic request: %s\n", err.msg);
        return -1;
    }
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    synth *s = *state;
    pg_arena_free(s->arena);
    free(s);
    return 0;
}

#define PROFILE0(s) ((s)->req->resource_profiles[0]->scope_profiles[0]->profiles[0])
#define P0          "resource_profiles[0].scope_profiles[0].profiles[0]"

/* Validates directly, then again after a protobuf round trip. */
static void expect_invalid(const pg_otlp_request *req, const char *msg)
{
    pg_error err = {0};
    assert_int_equal(pg_otlp_validate(req, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    size_t len = 0;
    uint8_t *bytes = ot_pack(&req->base, &len);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *out = NULL;
    memset(&err, 0, sizeof(err));
    assert_int_equal(pg_otlp_decode(a, bytes, len, &out, &err), PG_ERR_INVALID);
    assert_string_equal(err.msg, msg);
    pg_arena_free(a);
    free(bytes);
}

static void test_synthetic_valid(void **state)
{
    synth *s = *state;
    pg_error err = {0};
    assert_int_equal(pg_otlp_validate(s->req, &err), PG_OK);
    size_t len = 0;
    uint8_t *bytes = ot_pack(&s->req->base, &len);
    assert_string_equal(pg_otlp_sniff_version(bytes, len), "v1.10");
    free(bytes);
}

static void test_sample_indices(void **state)
{
    synth *s = *state;
    Opentelemetry__Proto__Profiles__V1development__Sample *smp = PROFILE0(s)->samples[1];
    smp->stack_index = 912;
    expect_invalid(s->req, P0 ".samples[1].stack_index 912 out of range (stack_table has 3 "
                              "entries)");
    smp->stack_index = -1;
    expect_invalid(s->req, P0 ".samples[1].stack_index -1 out of range (stack_table has 3 "
                              "entries)");
    smp->stack_index = 2;
    smp = PROFILE0(s)->samples[0];
    smp->attribute_indices[0] = 4;
    expect_invalid(s->req, P0 ".samples[0].attribute_indices[0] 4 out of range (attribute_table "
                              "has 4 entries)");
    smp->attribute_indices[0] = 1;
    smp->link_index = 2;
    expect_invalid(s->req, P0 ".samples[0].link_index 2 out of range (link_table has 2 entries)");
    smp->link_index = 1;
    smp->n_timestamps_unix_nano = 1;
    expect_invalid(s->req, P0 ".samples[0] has 2 values but 1 timestamps_unix_nano");
}

static void test_profile_indices(void **state)
{
    synth *s = *state;
    pg_otlp_profile *p = PROFILE0(s);
    p->sample_type->unit_strindex = 14;
    expect_invalid(s->req, P0 ".sample_type.unit_strindex 14 out of range (string_table has 14 "
                              "entries)");
    p->sample_type->unit_strindex = 2;
    p->period_type->type_strindex = -7;
    expect_invalid(s->req, P0 ".period_type.type_strindex -7 out of range (string_table has 14 "
                              "entries)");
    p->period_type->type_strindex = 3;
    p->attribute_indices[0] = 40;
    expect_invalid(s->req, P0 ".attribute_indices[0] 40 out of range (attribute_table has 4 "
                              "entries)");
}

static void test_dictionary_indices(void **state)
{
    synth *s = *state;
    pg_otlp_dictionary *d = s->req->dictionary;
    d->stack_table[1]->location_indices[1] = 3;
    expect_invalid(s->req, "dictionary.stack_table[1].location_indices[1] 3 out of range "
                           "(location_table has 3 entries)");
    d->stack_table[1]->location_indices[1] = 2;
    d->location_table[2]->lines[0]->function_index = 3;
    expect_invalid(s->req, "dictionary.location_table[2].lines[0].function_index 3 out of range "
                           "(function_table has 3 entries)");
    d->location_table[2]->lines[0]->function_index = 2;
    d->location_table[1]->mapping_index = 2;
    expect_invalid(s->req, "dictionary.location_table[1].mapping_index 2 out of range "
                           "(mapping_table has 2 entries)");
    d->location_table[1]->mapping_index = 1;
    d->function_table[2]->system_name_strindex = 99;
    expect_invalid(s->req, "dictionary.function_table[2].system_name_strindex 99 out of range "
                           "(string_table has 14 entries)");
    d->function_table[2]->system_name_strindex = 10;
    d->mapping_table[1]->attribute_indices[0] = 9;
    expect_invalid(s->req, "dictionary.mapping_table[1].attribute_indices[0] 9 out of range "
                           "(attribute_table has 4 entries)");
    d->mapping_table[1]->attribute_indices[0] = 3;
    d->attribute_table[3]->unit_strindex = 20;
    expect_invalid(s->req, "dictionary.attribute_table[3].unit_strindex 20 out of range "
                           "(string_table has 14 entries)");
    d->attribute_table[3]->unit_strindex = 0;
}

static void test_attribute_strindex(void **state)
{
    synth *s = *state;
    pg_otlp_kv **attrs = s->req->resource_profiles[0]->resource->attributes;
    attrs[1]->key_strindex = 30;
    expect_invalid(s->req, "resource_profiles[0].resource.attributes[1].key_strindex 30 out of "
                           "range (string_table has 14 entries)");
    attrs[1]->key_strindex = 5;
    pg_otlp_any *inner = attrs[2]->value->kvlist_value->values[0]->value->array_value->values[0];
    inner->string_value_strindex = 14;
    expect_invalid(s->req, "resource_profiles[0].resource.attributes[2].value.kvlist_value."
                           "values[0].value.array_value.values[0].string_value_strindex 14 out "
                           "of range (string_table has 14 entries)");
    inner->string_value_strindex = 6;
}

static void test_invalid_utf8(void **state)
{
    synth *s = *state;
    pg_otlp_dictionary *d = s->req->dictionary;
    char bad[] = "ma\xc3\x28in";
    char *saved = d->string_table[8];
    d->string_table[8] = bad;
    expect_invalid(s->req, "dictionary.string_table[8] is not valid UTF-8 (byte 2)");
    d->string_table[8] = saved;
    char overlong[] = "\xc0\xaf";
    pg_otlp_scope *scope = s->req->resource_profiles[0]->scope_profiles[0]->scope;
    saved = scope->version;
    scope->version = overlong;
    expect_invalid(s->req, "resource_profiles[0].scope_profiles[0].scope.version is not valid "
                           "UTF-8 (byte 0)");
    scope->version = saved;
    char surrogate[] = "x\xed\xa0\x80";
    pg_otlp_kv *kv = s->req->resource_profiles[0]->resource->attributes[0];
    saved = kv->value->string_value;
    kv->value->string_value = surrogate;
    expect_invalid(s->req, "resource_profiles[0].resource.attributes[0].value.string_value is "
                           "not valid UTF-8 (byte 1)");
    kv->value->string_value = saved;
    char four[] = "\xf0\x9f\x94\xa5 ok \xe2\x82\xac";
    d->string_table[8] = four;
    pg_error err = {0};
    assert_int_equal(pg_otlp_validate(s->req, &err), PG_OK);
    d->string_table[8] = saved;
}

/* Every prefix of a valid request decodes or fails cleanly. */
static void test_truncated_prefixes(void **state)
{
    synth *s = *state;
    size_t len = 0;
    uint8_t *bytes = ot_pack(&s->req->base, &len);
    pg_arena *a = pg_arena_new(0, 0);
    size_t ok = 0;
    for (size_t n = 0; n <= len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size so ASan sees over-reads */
        memcpy(copy, bytes, n);
        pg_otlp_request *req = NULL;
        pg_error err = {0};
        int rc = pg_otlp_decode(a, copy, n, &req, &err);
        assert_true(rc == PG_OK || rc == PG_ERR_INVALID || rc == PG_ERR_UNSUPPORTED);
        assert_true((rc == PG_OK) == (req != NULL));
        assert_true(rc == PG_OK || err.msg[0] != '\0');
        ok += rc == PG_OK;
        free(copy);
        pg_arena_reset(a);
    }
    assert_true(ok >= 2); /* at least the empty and the full request */
    pg_arena_free(a);
    free(bytes);
}

/* Flipping bits anywhere never crashes, and results stay self-consistent. */
static void test_damaged_bytes(void **state)
{
    synth *s = *state;
    size_t len = 0;
    uint8_t *bytes = ot_pack(&s->req->base, &len);
    pg_arena *a = pg_arena_new(0, 0);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            bytes[i] ^= (uint8_t)(1u << bit);
            pg_otlp_request *req = NULL;
            pg_error err = {0};
            int rc = pg_otlp_decode(a, bytes, len, &req, &err);
            if (rc == PG_OK)
                assert_int_equal(pg_otlp_validate(req, &err), PG_OK);
            bytes[i] ^= (uint8_t)(1u << bit);
            pg_arena_reset(a);
        }
    }
    pg_arena_free(a);
    free(bytes);
}

static void test_lint(void **state)
{
    synth *s = *state;
    pg_error warn = {0};
    assert_int_equal(pg_otlp_lint(s->req, &warn), 0);
    pg_otlp_dictionary *d = s->req->dictionary;
    char *saved = d->string_table[0];
    d->string_table[0] = "samples";
    d->function_table[0]->name_strindex = 1;
    assert_int_equal(pg_otlp_lint(s->req, &warn), 2);
    assert_string_equal(warn.msg, "dictionary.string_table[0] should be \"\" (is \"samples\")");
    d->string_table[0] = saved;
    d->function_table[0]->name_strindex = 0;
    d->link_table[1]->span_id.len = 4;
    assert_int_equal(pg_otlp_lint(s->req, &warn), 1);
    assert_string_equal(warn.msg, "dictionary.link_table[1].span_id has 4 bytes (should be 8)");
    d->link_table[1]->span_id.len = 8;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_synthetic_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sample_indices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_indices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dictionary_indices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_strindex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_prefixes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lint, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
