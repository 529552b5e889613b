/* The sample processor's configuration through the real loader: the
 * documented shape, defaults, and the mistakes validate reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "processors/sample/sample.h"
#include "test_config_util.h"

static const char *const base = "receivers:\n"
                                "  otlp:\n"
                                "    protocols:\n"
                                "      http: {endpoint: 127.0.0.1:14318}\n"
                                "processors:\n"
                                "  sample:\n"
                                "%s"
                                "exporters:\n"
                                "  debug: {}\n"
                                "service:\n"
                                "  pipelines:\n"
                                "    profiles: {receivers: [otlp], processors: [sample], "
                                "exporters: [debug]}\n";

/* Loads base with the sample section body; returns the report. */
static pg_config_report *load(const char *body, pg_config **cfg)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml), base, body);
    pg_config_report *r = pg_config_report_new();
    *cfg = NULL;
    pg_config_load_string("c.yaml", yaml, strlen(yaml), cfg, r);
    return r;
}

static const pg_sample_processor_config *sample_cfg(const pg_config *cfg)
{
    for (size_t i = 0; i < cfg->n_processors; i++)
        if (strcmp(cfg->processors[i].def->type, "sample") == 0)
            return cfg->processors[i].typed;
    fail_msg("no sample processor");
    return NULL;
}

static void test_documented_shape(void **state)
{
    (void)state;
    pg_config *cfg;
    pg_config_report *r = load("    probability: 0.25\n"
                               "    hash_seed: 7\n"
                               "    rate_limit:\n"
                               "      action: refuse\n"
                               "      burst: 2s\n"
                               "      max_keys: 500\n"
                               "      per_tenant:  {profiles_per_second: 100, bytes_per_second: "
                               "16MiB}\n"
                               "      per_service: {profiles_per_second: 10,  bytes_per_second: "
                               "2MiB}\n",
                               &cfg);
    assert_int_equal(pg_config_report_errors(r), 0);
    assert_non_null(cfg);
    const pg_sample_processor_config *c = sample_cfg(cfg);
    assert_true(c->probability == 0.25);
    assert_int_equal(c->hash_seed, 7);
    assert_true(c->rate_limit_present);
    assert_int_equal(c->action, PG_SAMPLE_REFUSE);
    assert_int_equal(c->burst_ms, 2000);
    assert_int_equal(c->max_keys, 500);
    assert_true(c->per_tenant.profiles_per_second == 100);
    assert_int_equal(c->per_tenant.bytes_per_second, 16 << 20);
    assert_true(c->per_service.profiles_per_second == 10);
    assert_int_equal(c->per_service.bytes_per_second, 2 << 20);
    pg_config_free(cfg);
    pg_config_report_free(r);
}

static void test_defaults(void **state)
{
    (void)state;
    pg_config *cfg;
    pg_config_report *r = load("    rate_limit: {per_service: {profiles_per_second: 0.5}}\n", &cfg);
    assert_int_equal(pg_config_report_errors(r), 0);
    const pg_sample_processor_config *c = sample_cfg(cfg);
    assert_true(c->probability == 1.0);
    assert_int_equal(c->hash_seed, 0);
    assert_int_equal(c->action, PG_SAMPLE_DROP);
    assert_int_equal(c->burst_ms, 1000);
    assert_int_equal(c->max_keys, 10000);
    assert_false(c->per_tenant.present);
    assert_true(c->per_tenant.profiles_per_second == 0);
    assert_true(c->per_service.profiles_per_second == 0.5);
    assert_int_equal(c->per_service.bytes_per_second, 0);
    pg_config_free(cfg);
    pg_config_report_free(r);
}

static void test_mistakes(void **state)
{
    (void)state;
    pg_config *cfg;
    pg_config_report *r = load("    probability: 1.5\n"
                               "    rate_limit:\n"
                               "      action: block\n"
                               "      burst: 0s\n"
                               "      per_tenant: {profiles_per_second: -1, bytes: 3}\n",
                               &cfg);
    assert_null(cfg);
    assert_true(report_has(r, "c.yaml:7:18: error: probability: 1.5 is out of range"));
    assert_true(report_has(r, "c.yaml:9:15: error: rate_limit.action: invalid value 'block'"));
    assert_true(report_has(r, "c.yaml:10:14: error: rate_limit.burst: '0s' is out of range"));
    assert_true(report_has(
        r, "c.yaml:11:41: error: rate_limit.per_tenant.profiles_per_second: -1 is out of range"));
    assert_true(report_has(r, "unknown key 'bytes'"));
    pg_config_report_free(r);

    r = load("    rate_limit:\n"
             "      per_tenant: {profiles_per_second: 0}\n",
             &cfg);
    assert_null(cfg);
    assert_true(report_has(r, "c.yaml:8:7: error: rate_limit sets no rate"));
    pg_config_report_free(r);

    r = load("    probability: 1\n", &cfg);
    assert_non_null(cfg);
    assert_true(report_has(r, "warning: sample keeps everything"));
    pg_config_free(cfg);
    pg_config_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documented_shape),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_mistakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
