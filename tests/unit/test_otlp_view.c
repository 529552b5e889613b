/* Per-profile views and labels; receiver answer bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/otlp_status.h"
#include "model/otlp_types.h"
#include "status.pb-c.h"
#include "test_otlp_util.h"

typedef struct labels {
    size_t n;
    char text[1024]; /* "name=value;" in call order */
} labels;

static int collect(void *ctx, const char *name, const char *value)
{
    labels *l = ctx;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof(l->text) - used, "%s=%s;", name, value);
    l->n++;
    return 0;
}

static pg_otlp_request *synth(pg_arena *a)
{
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_json_decode(a, ot_synth_json(), strlen(ot_synth_json()), &req, &err),
                     PG_OK);
    return req;
}

static void test_view_synthetic(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = synth(a);
    pg_otlp_profile_view v;
    assert_int_equal(pg_otlp_view(a, req, 0, 0, 0, &v), PG_OK);
    assert_string_equal(v.service_name, "checkout");
    assert_string_equal(v.profile_type, "samples:count:cpu:nanoseconds");
    assert_int_equal(v.time_unix_nano, 1000);
    assert_int_equal(v.duration_nano, 500);
    assert_int_equal(v.sample_count, 3);
    assert_int_equal(v.value_total, 3 + 4 + 3 + 10); /* 3 timestamps-only events count 1 each */
    assert_int_equal(pg_otlp_view(a, req, 0, 0, 1, &v), PG_ERR_INVALID);
    assert_int_equal(pg_otlp_view(a, req, 1, 0, 0, &v), PG_ERR_INVALID);

    /* service.name given by reference into the string table */
    pg_otlp_kv *kv = req->resource_profiles[0]->resource->attributes[0];
    req->dictionary->string_table[5] = "service.name";
    kv->key = "";
    kv->key_strindex = 5;
    kv->value->value_case = PG_ANY(STRING_VALUE_STRINDEX);
    kv->value->string_value_strindex = 7;
    assert_int_equal(pg_otlp_view(a, req, 0, 0, 0, &v), PG_OK);
    assert_string_equal(v.service_name, "/bin/app");
    pg_arena_free(a);
}

static void test_labels_synthetic(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = synth(a);
    labels l = {0};
    assert_int_equal(pg_otlp_labels(a, req, 0, 0, 0, collect, &l), PG_OK);
    /* nested kvlist values are not labels; strindex keys/values are resolved */
    assert_string_equal(l.text,
                        "service_name=checkout;host.name=node-1;scope.attr=true;profile.kind=cpu;");

    /* a profile attribute overrides the resource attribute of the same name */
    req->dictionary->attribute_table[2]->key_strindex = 5;
    memset(&l, 0, sizeof(l));
    assert_int_equal(pg_otlp_labels(a, req, 0, 0, 0, collect, &l), PG_OK);
    assert_string_equal(l.text, "service_name=checkout;host.name=cpu;scope.attr=true;");

    /* numbers are rendered as text, doubles in their shortest exact form */
    pg_otlp_any *v = req->resource_profiles[0]->scope_profiles[0]->scope->attributes[0]->value;
    v->value_case = PG_ANY(DOUBLE_VALUE);
    v->double_value = 0.1;
    memset(&l, 0, sizeof(l));
    assert_int_equal(pg_otlp_labels(a, req, 0, 0, 0, collect, &l), PG_OK);
    assert_non_null(strstr(l.text, "scope.attr=0.1;"));
    pg_arena_free(a);
}

static int stop_after_one(void *ctx, const char *name, const char *value)
{
    return ++*(int *)ctx == 1 ? 0 : -42;
}

static void test_labels_callback_error(void **state)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = synth(a);
    int calls = 0;
    assert_int_equal(pg_otlp_labels(a, req, 0, 0, 0, stop_after_one, &calls), -42);
    assert_int_equal(calls, 2);
    pg_arena_free(a);
}

static void test_view_fixture(void **state)
{
    size_t len = 0;
    uint8_t *p = ot_read(OT_V110, &len);
    assert_non_null(p);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, p, len, &req, &err), PG_OK);
    pg_otlp_profile_view v;
    assert_int_equal(pg_otlp_view(a, req, 0, 0, 0, &v), PG_OK);
    assert_string_equal(v.profile_type, "off_cpu:nanoseconds::");
    assert_string_equal(v.service_name, "");
    assert_int_equal(v.sample_count, 1);
    assert_int_equal(v.value_total, 5265097141);
    assert_int_equal(pg_otlp_view(a, req, 15, 0, 0, &v), PG_OK);
    assert_string_equal(v.profile_type, "samples:count:cpu:nanoseconds");
    assert_int_equal(v.sample_count, 4);
    assert_int_equal(v.value_total, 4);
    assert_int_equal(v.time_unix_nano, 1774910497545532978ull);
    assert_int_equal(v.duration_nano, 4788991611ull);

    labels l = {0};
    assert_int_equal(pg_otlp_labels(a, req, 6, 0, 0, collect, &l), PG_OK);
    assert_string_equal(l.text, "process.pid=2001;process.executable.path=/usr/bin/containerd;"
                                "process.executable.name=containerd;");
    pg_arena_free(a);
    free(p);
}

static void test_status_bodies(void **state)
{
    pg_buf b;
    pg_buf_init(&b);
    assert_int_equal(pg_rpc_status_json(3, "bad \"index\"", &b), PG_OK);
    assert_int_equal(b.len, strlen("{\"code\":3,\"message\":\"bad \\\"index\\\"\"}"));
    assert_memory_equal(b.data, "{\"code\":3,\"message\":\"bad \\\"index\\\"\"}", b.len);
    b.len = 0;
    assert_int_equal(pg_rpc_status_pack(14, "busy", &b), PG_OK);
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, b.len, b.data);
    assert_non_null(st);
    assert_int_equal(st->code, 14);
    assert_string_equal(st->message, "busy");
    google__rpc__status__free_unpacked(st, NULL);

    b.len = 0;
    assert_int_equal(pg_rpc_status_json(3, "bad \xff byte", &b), PG_OK);
    assert_memory_equal(b.data, "{\"code\":3,\"message\":\"bad ? byte\"}", b.len);

    b.len = 0;
    assert_int_equal(pg_otlp_export_response_json(0, "", &b), PG_OK);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "{}", 2);
    b.len = 0;
    assert_int_equal(pg_otlp_export_response_pack(0, NULL, &b), PG_OK);
    assert_int_equal(b.len, 0);
    const char *want = "{\"partialSuccess\":{\"rejectedProfiles\":\"2\",\"errorMessage\":\"two "
                       "dropped\"}}";
    assert_int_equal(pg_otlp_export_response_json(2, "two dropped", &b), PG_OK);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    b.len = 0;
    assert_int_equal(pg_otlp_export_response_pack(2, "two dropped", &b), PG_OK);
    /* partial_success{ rejected_profiles=2, error_message="two dropped" } */
    const uint8_t pb[] = {0x0a, 0x0f, 0x08, 0x02, 0x12, 0x0b, 't', 'w', 'o',
                          ' ',  'd',  'r',  'o',  'p',  'p',  'e', 'd'};
    assert_int_equal(b.len, sizeof(pb));
    assert_memory_equal(b.data, pb, sizeof(pb));
    pg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_synthetic),        cmocka_unit_test(test_labels_synthetic),
        cmocka_unit_test(test_labels_callback_error), cmocka_unit_test(test_view_fixture),
        cmocka_unit_test(test_status_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
