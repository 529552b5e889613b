/* pprof -> OTLP over every pprof fixture: the output validates, has one
 * profile per sample type, keeps every sample (zero values too), per-type
 * totals and stacks, and follows the dictionary rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "model/otlp_types.h"
#include "test_pprof_util.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_unique_strings(const pg_otlp_dictionary *d)
{
    char **copy = malloc(d->n_string_table * sizeof(*copy));
    memcpy(copy, d->string_table, d->n_string_table * sizeof(*copy));
    qsort(copy, d->n_string_table, sizeof(*copy), cmp_str);
    for (size_t i = 1; i < d->n_string_table; i++) {
        if (strcmp(copy[i - 1], copy[i]) == 0)
            fail_msg("string \"%s\" appears twice", copy[i]);
    }
    free(copy);
}

static void check_unique_keys(const pg_otlp_dictionary *d, const int32_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = i + 1; k < n; k++)
            assert_int_not_equal(d->attribute_table[list[i]]->key_strindex,
                                 d->attribute_table[list[k]]->key_strindex);
    }
}

/* Distinct label keys of a pprof sample (by string content). */
static size_t distinct_keys(const pg_pprof *p, const Perftools__Profiles__Sample *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_label; i++) {
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++)
            seen =
                strcmp(p->string_table[s->label[k]->key], p->string_table[s->label[i]->key]) == 0;
        n += !seen;
    }
    return n;
}

static uint64_t location_address(const pg_pprof *p, uint64_t id)
{
    if (id && id <= p->n_location && p->location[id - 1]->id == id)
        return p->location[id - 1]->address;
    for (size_t i = 0; i < p->n_location; i++) {
        if (p->location[i]->id == id)
            return p->location[i]->address;
    }
    fail_msg("location id %llu missing", (unsigned long long)id);
    return 0;
}

static void check_conversion(const char *path, const pg_pprof *p, const pg_otlp_request *req)
{
    pg_error err = {0};
    if (pg_otlp_validate(req, &err) != PG_OK)
        fail_msg("%s: output does not validate: %s", path, err.msg);
    const pg_otlp_dictionary *d = req->dictionary;
    const Opentelemetry__Proto__Profiles__V1development__ScopeProfiles *sp =
        req->resource_profiles[0]->scope_profiles[0];
    assert_int_equal(sp->n_profiles, p->n_sample_type);
    check_unique_strings(d);
    for (size_t t = 0; t < p->n_sample_type; t++) {
        const pg_otlp_profile *o = sp->profiles[t];
        assert_int_equal(o->n_samples, p->n_sample);
        assert_string_equal(pg_otlp_string(req, o->sample_type->type_strindex),
                            p->string_table[p->sample_type[t]->type]);
        int64_t want = 0, got = 0;
        for (size_t i = 0; i < p->n_sample; i++) {
            want += p->sample[i]->value[t];
            got += o->samples[i]->values[0];
        }
        assert_int_equal(got, want);
        assert_int_equal(o->time_unix_nano, (uint64_t)p->time_nanos);
        assert_int_equal(o->period, p->period);
    }
    if (!p->n_sample_type)
        return;
    for (size_t i = 0; i < p->n_sample; i++) {
        const Perftools__Profiles__Sample *s = p->sample[i];
        const pg_otlp_sample *o = sp->profiles[0]->samples[i];
        const pg_otlp_stack *st = d->stack_table[o->stack_index];
        assert_int_equal(st->n_location_indices, s->n_location_id);
        for (size_t k = 0; k < s->n_location_id; k++)
            assert_int_equal(d->location_table[st->location_indices[k]]->address,
                             location_address(p, s->location_id[k]));
        check_unique_keys(d, o->attribute_indices, o->n_attribute_indices);
        assert_int_equal(o->n_attribute_indices, distinct_keys(p, s));
    }
}

static void test_every_fixture(void **state)
{
    (void)state;
    tp_fixtures f;
    tp_find_fixtures(&f);
    assert_true(f.n >= 45);
    size_t converted = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (strstr(f.path[i], "invalid-utf8"))
            continue;
        size_t len = 0;
        uint8_t *buf = tp_read_file(f.path[i], &len);
        pg_arena *a = pg_arena_new(0, 0);
        pg_pprof *p = NULL;
        pg_otlp_request *req = NULL;
        pg_error err = {0};
        if (pg_pprof_decode(a, buf, len, 64u << 20, &p, &err) != PG_OK)
            fail_msg("%s: %s", f.path[i], err.msg);
        pg_pprof_to_otlp_options opt = {.service_name = "svc",
                                        .resource_attrs = NULL,
                                        .n_resource_attrs = 0,
                                        .original_payload = buf,
                                        .original_payload_len = len};
        if (pg_pprof_to_otlp(a, p, &opt, &req, &err) != PG_OK)
            fail_msg("%s: %s", f.path[i], err.msg);
        check_conversion(f.path[i], p, req);
        /* the encoding decodes again (our own decoder validates it too) */
        pg_buf enc;
        pg_buf_init(&enc);
        assert_int_equal(pg_otlp_encode(req, &enc), PG_OK);
        pg_otlp_request *back = NULL;
        if (pg_otlp_decode(a, enc.data, enc.len, &back, &err) != PG_OK)
            fail_msg("%s: re-decoding: %s", f.path[i], err.msg);
        assert_int_equal(pg_otlp_profile_count(back), p->n_sample_type);
        pg_buf_free(&enc);
        pg_arena_free(a);
        free(buf);
        converted++;
    }
    assert_int_equal(converted, f.n - 1);
    tp_free_fixtures(&f);
}

/* Every arena limit either fits or fails cleanly with PG_ERR_LIMIT. */
static void test_memory_limits(void **state)
{
    (void)state;
    const char *shared = getenv("PG_SHARED_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/fixtures/third_party/grafana-pyroscope/go-cpu-labels.pb.gz",
             shared ? shared : "../shared");
    size_t len = 0;
    uint8_t *buf = tp_read_file(path, &len);
    assert_non_null(buf);
    pg_arena *in = pg_arena_new(0, 0);
    pg_pprof *p = NULL;
    pg_error err = {0};
    assert_int_equal(pg_pprof_decode(in, buf, len, 0, &p, &err), PG_OK);
    int fitted = 0;
    for (size_t limit = 1024; limit < (8u << 20) && !fitted; limit = limit * 5 / 4) {
        pg_arena *a = pg_arena_new(4096, limit);
        pg_otlp_request *req = NULL;
        int rc = pg_pprof_to_otlp(a, p, NULL, &req, &err);
        if (rc == PG_OK) {
            assert_int_equal(pg_otlp_validate(req, &err), PG_OK);
            fitted = 1;
        } else {
            assert_int_equal(rc, PG_ERR_LIMIT);
            assert_null(req);
        }
        pg_arena_free(a);
    }
    assert_true(fitted);
    pg_arena_free(in);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture),
        cmocka_unit_test(test_memory_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
