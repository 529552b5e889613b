/* Series labels of Pyroscope uploads and the legacy kind table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "receivers/pyroscope/legacy_kind.h"
#include "receivers/pyroscope/pyroscope_internal.h"

static pg_profile *new_profile(pg_batch **b)
{
    *b = pg_batch_new();
    uint8_t *bytes = malloc(1);
    pg_payload *p = pg_payload_new(PG_PAYLOAD_PPROF, bytes, 1);
    pg_profile *prof = pg_batch_add(*b, p);
    pg_payload_unref(p);
    return prof;
}

static void test_app_name_becomes_service_name(void **state)
{
    (void)state;
    pg_batch *b;
    pg_profile *p = new_profile(&b);
    const pg_label tags[] = {{"env", "prod"}, {"__session_id__", "abc"}, {"__private", "x"}};
    pg_pyro_series s = {"checkout", tags, 3, "gospy", "process_cpu"};
    assert_int_equal(pg_pyro_set_series_labels(b, p, &s), PG_OK);
    assert_string_equal(pg_profile_label(p, "service_name"), "checkout");
    assert_string_equal(pg_profile_label(p, "env"), "prod");
    assert_string_equal(pg_profile_label(p, "__session_id__"), "abc");
    assert_null(pg_profile_label(p, "__private"));
    assert_null(pg_profile_label(p, "app_name"));
    assert_string_equal(pg_profile_label(p, "pyroscope_spy"), "gospy");
    assert_string_equal(pg_profile_label(p, "__name__"), "process_cpu");
    assert_int_equal(p->n_labels, 5);
    pg_batch_free(b);
}

static void test_service_name_tag_wins(void **state)
{
    (void)state;
    pg_batch *b;
    pg_profile *p = new_profile(&b);
    const pg_label tags[] = {{"service_name", "real"}};
    pg_pyro_series s = {"appname", tags, 1, NULL, "memory"};
    assert_int_equal(pg_pyro_set_series_labels(b, p, &s), PG_OK);
    assert_string_equal(pg_profile_label(p, "service_name"), "real");
    assert_string_equal(pg_profile_label(p, "app_name"), "appname");
    assert_null(pg_profile_label(p, "pyroscope_spy"));
    pg_batch_free(b);
}

static void test_legacy_kinds(void **state)
{
    (void)state;
    size_t n = 0;
    const pg_pyro_legacy_kind *k = pg_pyro_legacy_kind_of("my.app.cpu", &n);
    assert_non_null(k);
    assert_int_equal(n, 6);
    assert_string_equal(k->profile, "process_cpu");
    assert_string_equal(k->sampled_type, "cpu");
    k = pg_pyro_legacy_kind_of("app", &n);
    assert_non_null(k);
    assert_int_equal(n, 3);
    assert_string_equal(k->sample_type, "samples");
    k = pg_pyro_legacy_kind_of("svc.inuse_space", &n);
    assert_string_equal(k->profile, "memory");
    assert_string_equal(k->sample_unit, "bytes");
    assert_null(k->sampled_type);
    k = pg_pyro_legacy_kind_of("svc.block_duration", &n);
    assert_string_equal(k->profile, "block");
    assert_string_equal(k->sample_type, "delay");
    assert_string_equal(k->sample_unit, "nanoseconds");
    assert_null(pg_pyro_legacy_kind_of("my.app", &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app_name_becomes_service_name),
        cmocka_unit_test(test_service_name_tag_wins),
        cmocka_unit_test(test_legacy_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
