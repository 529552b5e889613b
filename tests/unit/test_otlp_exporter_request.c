/* exporters/common/otlp_request: batch (one tenant) -> one encoded
 * ExportProfilesServiceRequest; forwarding, merging, tenants, JSON, pprof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "exporters/common/otlp_request.h"
#include "test_convert_processor_util.h"
#include "test_otlp_merge_util.h"

typedef struct env {
    pg_payload *payload; /* the fixture, decoded and attached */
    size_t n;            /* its profiles */
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));
    e->payload = tc_otlp_payload();
    assert_non_null(e->payload);
    e->n = pg_otlp_profile_count(e->payload->decoded);
    assert_int_equal(e->n, 82);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    pg_payload_unref(e->payload);
    free(e);
    return 0;
}

/* Adds fixture profile k (request order) with the given tenant. */
static void add_fixture_profile(env *e, pg_batch *b, size_t k, const char *tenant)
{
    const pg_otlp_request *req = e->payload->decoded;
    size_t i = 0;
    for (size_t r = 0; r < req->n_resource_profiles; r++)
        for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t p = 0; p < req->resource_profiles[r]->scope_profiles[s]->n_profiles;
                 p++, i++) {
                if (i != k)
                    continue;
                pg_profile *pr = pg_batch_add(b, e->payload);
                assert_non_null(pr);
                pr->resource_index = (uint32_t)r;
                pr->scope_index = (uint32_t)s;
                pr->profile_index = (uint32_t)p;
                assert_int_equal(pg_profile_set_tenant(b, pr, tenant), PG_OK);
                return;
            }
    fail_msg("no profile %zu", k);
}

/* Every profile of the fixture; tenant "a" for even positions, odd ones get
 * `odd` (so "a" alone gives the whole payload). */
static pg_batch *fixture_batch(env *e, const char *odd)
{
    pg_batch *b = pg_batch_new();
    for (size_t k = 0; k < e->n; k++)
        add_fixture_profile(e, b, k, k % 2 ? odd : "a");
    return b;
}

/* Rendering of profile k of r (request order), as text. */
static char *render_nth(const pg_otlp_request *r, size_t k)
{
    size_t i = 0;
    for (size_t ri = 0; ri < r->n_resource_profiles; ri++)
        for (size_t si = 0; si < r->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < r->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++, i++)
                if (i == k) {
                    pg_buf o;
                    pg_buf_init(&o);
                    tu_render(r, ri, si, pi, &o);
                    pg_buf_append(&o, "", 1);
                    size_t len;
                    return (char *)pg_buf_detach(&o, &len);
                }
    return NULL;
}

static void assert_same_profile(const pg_otlp_request *a, size_t ka, const pg_otlp_request *b,
                                size_t kb)
{
    char *x = render_nth(a, ka), *y = render_nth(b, kb);
    assert_non_null(x);
    assert_non_null(y);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static void test_whole_payload_is_forwarded_byte_for_byte(void **state)
{
    env *e = *state;
    pg_batch *b = fixture_batch(e, "a");
    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "a", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_ptr_equal(body.payload, e->payload);
    assert_int_equal(body.whole, 1);
    assert_int_equal(body.profiles, 82);
    assert_int_equal(body.failed, 0);
    assert_int_equal(body.len, e->payload->len);
    assert_memory_equal(body.data, e->payload->bytes, body.len);
    /* take: a malloc'd copy, the payload reference dropped */
    int refs = atomic_load(&e->payload->refs);
    size_t len = 0;
    uint8_t *copy = pg_otlp_body_take(&body, &len);
    assert_non_null(copy);
    assert_int_equal(len, e->payload->len);
    assert_memory_equal(copy, e->payload->bytes, len);
    assert_int_equal(atomic_load(&e->payload->refs), refs - 1);
    assert_null(body.data);
    free(copy);
    pg_otlp_body_release(&body);
    /* NULL tenant: every profile, the same request */
    assert_int_equal(pg_otlp_body_build(b, NULL, PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_ptr_equal(body.payload, e->payload);
    pg_otlp_body_release(&body);
    pg_batch_free(b);
}

typedef struct label_list {
    char text[4096];
} label_list;

static int collect_label(void *ctx, const char *name, const char *value)
{
    label_list *l = ctx;
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof(l->text) - used, "%s=%s;", name, value);
    return 0;
}

static int set_batch_label(void *ctx, const char *name, const char *value)
{
    void **pair = ctx;
    return pg_profile_set_label(pair[0], pair[1], name, value);
}

/* A processor removed a label and added two: the
 * payload is rebuilt and the output says the new labels; the other profiles
 * are as they were. */
static void test_changed_labels_are_written(void **state)
{
    env *e = *state;
    const pg_otlp_request *req = e->payload->decoded;
    pg_batch *b = fixture_batch(e, "a");
    pg_profile *pr = &b->profiles[0];
    void *pair[2] = {b, pr};
    pg_arena *a = pg_arena_new(0, 0);
    assert_int_equal(pg_otlp_labels(a, req, pr->resource_index, pr->scope_index, pr->profile_index,
                                    set_batch_label, pair),
                     PG_OK);
    /* the fixture's first profile has one label, process.pid */
    assert_int_equal(pr->n_labels, 1);
    const char *removed = pg_arena_strdup(a, pr->labels[0].name);
    assert_int_equal(pg_profile_remove_label(pr, removed), PG_OK);
    assert_int_equal(pg_profile_set_label(b, pr, "service_name", "renamed"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, pr, "env", "prod"), PG_OK);
    assert_int_equal(pg_profile_set_label(b, pr, "__internal__", "x"), PG_OK);
    pr->labels_changed = 1;

    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "a", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_null(body.payload); /* not forwarded */
    assert_int_equal(body.whole, 0);
    assert_int_equal(body.profiles, 82);
    pg_otlp_request *out = NULL;
    assert_int_equal(pg_otlp_decode(a, body.data, body.len, &out, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(out), 82);

    label_list want = {0}, got = {0};
    for (uint32_t i = 0; i < pr->n_labels; i++)
        if (strncmp(pr->labels[i].name, "__", 2) != 0)
            collect_label(&want, pr->labels[i].name, pr->labels[i].value);
    /* the changed profile is the merged request's first; labels come out in
     * attribute order, so compare them as sets through a sorted batch */
    pg_batch *check = pg_batch_new();
    pg_profile *cp = pg_batch_add(check, e->payload);
    void *cpair[2] = {check, cp};
    assert_int_equal(pg_otlp_labels(a, out, 0, 0, 0, set_batch_label, cpair), PG_OK);
    for (uint32_t i = 0; i < cp->n_labels; i++)
        collect_label(&got, cp->labels[i].name, cp->labels[i].value);
    assert_string_equal(got.text, want.text);
    assert_null(strstr(got.text, removed));
    assert_non_null(strstr(got.text, "service_name=renamed;"));
    assert_non_null(strstr(got.text, "env=prod;"));
    pg_batch_free(check);
    /* the samples of the changed profile and every other profile are unchanged */
    for (size_t k = 1; k < 82; k++)
        assert_same_profile(req, k, out, k);
    pg_otlp_body_release(&body);
    pg_arena_free(a);
    pg_batch_free(b);
}

static void test_tenants_split_into_merged_requests(void **state)
{
    env *e = *state;
    pg_batch *b = fixture_batch(e, "b");
    pg_arena *a = pg_arena_new(0, 0);
    const char **tenants = NULL;
    size_t nt = 0;
    assert_int_equal(pg_otlp_batch_tenants(b, a, &tenants, &nt), PG_OK);
    assert_int_equal(nt, 2);
    assert_string_equal(tenants[0], "a");
    assert_string_equal(tenants[1], "b");
    for (size_t t = 0; t < 2; t++) {
        pg_otlp_body body;
        pg_error err = {0};
        assert_int_equal(pg_otlp_body_build(b, tenants[t], PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
        assert_null(body.payload);
        assert_int_equal(body.whole, 0);
        assert_int_equal(body.profiles, 41);
        /* decoding validates every index: the merged dictionary is sound */
        pg_otlp_request *req = NULL;
        assert_int_equal(pg_otlp_decode(a, body.data, body.len, &req, &err), PG_OK);
        assert_int_equal(pg_otlp_profile_count(req), 41);
        assert_true(req->dictionary->n_string_table <
                    ((pg_otlp_request *)e->payload->decoded)->dictionary->n_string_table);
        for (size_t k = 0; k < 41; k++)
            assert_same_profile(req, k, e->payload->decoded, 2 * k + t);
        pg_otlp_body_release(&body);
    }
    pg_arena_free(a);
    pg_batch_free(b);
}

static void test_one_tenant_whole_among_others(void **state)
{
    env *e = *state;
    pg_batch *b = fixture_batch(e, "a");
    add_fixture_profile(e, b, 5, "other");
    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "a", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_ptr_equal(body.payload, e->payload); /* the other tenant does not spoil it */
    pg_otlp_body_release(&body);
    assert_int_equal(pg_otlp_body_build(b, "other", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_int_equal(body.profiles, 1);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    assert_int_equal(pg_otlp_decode(a, body.data, body.len, &req, &err), PG_OK);
    assert_same_profile(req, 0, e->payload->decoded, 5);
    pg_arena_free(a);
    pg_otlp_body_release(&body);
    /* nobody */
    assert_int_equal(pg_otlp_body_build(b, "nobody", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_int_equal(body.profiles, 0);
    assert_null(body.data);
    pg_otlp_body_release(&body);
    pg_batch_free(b);
}

static void test_out_of_order_is_merged(void **state)
{
    env *e = *state;
    pg_batch *b = pg_batch_new();
    for (size_t k = e->n; k-- > 0;)
        add_fixture_profile(e, b, k, "");
    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_null(body.payload);
    assert_int_equal(body.profiles, 82);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    assert_int_equal(pg_otlp_decode(a, body.data, body.len, &req, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(req), 82);
    assert_same_profile(req, 0, e->payload->decoded, 81);
    assert_same_profile(req, 81, e->payload->decoded, 0);
    pg_arena_free(a);
    pg_otlp_body_release(&body);
    pg_batch_free(b);
}

static void test_json_means_the_same(void **state)
{
    env *e = *state;
    pg_batch *b = fixture_batch(e, "a");
    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "a", PG_OTLP_BODY_JSON, &body, &err), PG_OK);
    assert_null(body.payload);
    assert_int_equal(body.whole, 1);
    assert_int_equal(body.profiles, 82);
    assert_int_equal(body.data[0], '{');
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    assert_int_equal(pg_otlp_json_decode(a, (const char *)body.data, body.len, &req, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(req), 82);
    for (size_t k = 0; k < 82; k += 9)
        assert_same_profile(req, k, e->payload->decoded, k);
    pg_arena_free(a);
    pg_otlp_body_release(&body);
    pg_batch_free(b);
}

static pg_profile *add_pprof(pg_batch *b, pg_payload *p, const char *service, const char *tenant)
{
    pg_profile *pr = pg_batch_add(b, p);
    assert_non_null(pr);
    assert_int_equal(pg_profile_set_label(b, pr, "service_name", service), PG_OK);
    assert_int_equal(pg_profile_set_label(b, pr, "env", "prod"), PG_OK);
    assert_int_equal(pg_profile_set_tenant(b, pr, tenant), PG_OK);
    return pr;
}

static const char *resource_attr(const pg_otlp_request *r, size_t ri, const char *key)
{
    const Opentelemetry__Proto__Resource__V1__Resource *res = r->resource_profiles[ri]->resource;
    for (size_t i = 0; res && i < res->n_attributes; i++) {
        const Opentelemetry__Proto__Common__V1__KeyValue *kv = res->attributes[i];
        const char *k = kv->key && kv->key[0] ? kv->key : pg_otlp_string(r, kv->key_strindex);
        if (strcmp(k, key) == 0 && kv->value)
            return kv->value->value_case ==
                           OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE_STRINDEX
                       ? pg_otlp_string(r, kv->value->string_value_strindex)
                       : kv->value->string_value;
    }
    return NULL;
}

static void test_pprof_is_converted(void **state)
{
    env *e = *state;
    pg_payload *heap = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    assert_non_null(heap);
    pg_arena *a = pg_arena_new(0, 0);
    Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, heap->bytes, heap->len);
    assert_non_null(doc);
    pg_batch *b = pg_batch_new();
    add_pprof(b, heap, "shop", "t");
    add_fixture_profile(e, b, 3, "t");
    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "t", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_int_equal(body.profiles, 2);
    assert_int_equal(body.failed, 0);
    pg_otlp_request *req = NULL;
    assert_int_equal(pg_otlp_decode(a, body.data, body.len, &req, &err), PG_OK);
    /* one OTLP profile per pprof sample type, then the OTLP one */
    assert_int_equal(pg_otlp_profile_count(req), doc->n_sample_type + 1);
    assert_same_profile(req, doc->n_sample_type, e->payload->decoded, 3);
    assert_string_equal(resource_attr(req, 0, "service.name"), "shop");
    assert_string_equal(resource_attr(req, 0, "env"), "prod");
    /* the values survive: the first sample type's total */
    const char *t0 = tc_pstr(doc, doc->sample_type[0]->type);
    int64_t want = tc_pprof_total(doc, t0);
    pg_otlp_profile_view v;
    assert_int_equal(pg_otlp_view(a, req, 0, 0, 0, &v), PG_OK);
    assert_int_equal(v.value_total, want);
    assert_int_equal(strncmp(v.profile_type, t0, strlen(t0)), 0);
    pg_otlp_body_release(&body);
    pg_batch_free(b);
    pg_payload_unref(heap);
    pg_arena_free(a);
}

static void test_unconvertible_pprof_counted(void **state)
{
    env *e = *state;
    uint8_t *junk = malloc(16);
    memset(junk, 0xff, 16);
    pg_payload *bad = pg_payload_new(PG_PAYLOAD_PPROF, junk, 16);
    pg_batch *b = pg_batch_new();
    add_pprof(b, bad, "x", "");
    add_fixture_profile(e, b, 0, "");
    add_pprof(b, bad, "y", "");
    pg_otlp_body body;
    pg_error err = {0};
    assert_int_equal(pg_otlp_body_build(b, "", PG_OTLP_BODY_PROTO, &body, &err), PG_OK);
    assert_int_equal(body.failed, 2);
    assert_int_equal(body.profiles, 1);
    assert_true(strlen(body.why) > 0);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    assert_int_equal(pg_otlp_decode(a, body.data, body.len, &req, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(req), 1);
    pg_arena_free(a);
    pg_otlp_body_release(&body);
    pg_batch_free(b);

    /* nothing converts: no body, still not an error */
    b = pg_batch_new();
    add_pprof(b, bad, "x", "");
    assert_int_equal(pg_otlp_body_build(b, NULL, PG_OTLP_BODY_JSON, &body, &err), PG_OK);
    assert_int_equal(body.failed, 1);
    assert_int_equal(body.profiles, 0);
    assert_null(body.data);
    size_t len = 0;
    assert_null(pg_otlp_body_take(&body, &len));
    pg_otlp_body_release(&body);
    pg_batch_free(b);
    pg_payload_unref(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whole_payload_is_forwarded_byte_for_byte, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changed_labels_are_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tenants_split_into_merged_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_tenant_whole_among_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_is_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_means_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pprof_is_converted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unconvertible_pprof_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
