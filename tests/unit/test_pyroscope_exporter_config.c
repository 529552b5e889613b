/* Pyroscope exporter configuration: defaults, api, external_labels checked
 * at start-up with the label-name rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "exporters/pyroscope/pyroscope_exporter.h"

static const char *load(const char *exporter_yaml, pg_config **cfg, size_t *errors)
{
    static char yaml[2048], printed[4096];
    snprintf(yaml, sizeof(yaml),
             "receivers:\n  pyroscope: {endpoint: 127.0.0.1:4040}\n"
             "exporters:\n  pyroscope:\n%s"
             "service:\n  pipelines:\n    profiles: {receivers: [pyroscope], exporters: "
             "[pyroscope]}\n",
             exporter_yaml);
    pg_config_report *r = pg_config_report_new();
    *cfg = NULL;
    pg_config_load_string("test.yaml", yaml, strlen(yaml), cfg, r);
    *errors = pg_config_report_errors(r);
    FILE *f = fmemopen(printed, sizeof(printed), "w");
    pg_config_report_print(r, f);
    fclose(f);
    pg_config_report_free(r);
    return printed;
}

static void test_defaults(void **state)
{
    (void)state;
    pg_config *cfg = NULL;
    size_t errors = 0;
    load("    endpoint: http://127.0.0.1:4041\n", &cfg, &errors);
    assert_int_equal(errors, 0);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_exporters, 1);
    const pg_pyroscope_exporter_config *c = cfg->exporters[0].typed;
    assert_int_equal(c->api, PG_PYROEXP_API_PUSH);
    assert_int_equal(c->external_labels.n, 0);
    assert_int_equal(c->delivery.timeout_ms, 10000);
    assert_string_equal(c->delivery.tenant_header, "X-Scope-OrgID");
    pg_config_free(cfg);

    load("    endpoint: http://127.0.0.1:4041\n    api: ingest\n"
         "    external_labels: {cluster: eu-1, service.namespace: shop}\n",
         &cfg, &errors);
    assert_int_equal(errors, 0);
    c = cfg->exporters[0].typed;
    assert_int_equal(c->api, PG_PYROEXP_API_INGEST);
    assert_int_equal(c->external_labels.n, 2);
    pg_config_free(cfg);
}

static void test_external_label_names_checked(void **state)
{
    (void)state;
    pg_config *cfg = NULL;
    size_t errors = 0;
    const char *out = load("    endpoint: http://127.0.0.1:4041\n"
                           "    external_labels: {bad-name: x, __name__: y, ok: z}\n",
                           &cfg, &errors);
    assert_null(cfg);
    assert_int_equal(errors, 2);
    assert_non_null(strstr(out, "external_labels: label name 'bad-name' does not match "
                                "[A-Za-z_][A-Za-z0-9_.]*"));
    assert_non_null(strstr(out, "'__name__' starts with \"__\""));
    /* reported at the key's position */
    assert_non_null(strstr(out, "test.yaml:"));

    out = load("    endpoint: http://127.0.0.1:4041\n    api: pull\n", &cfg, &errors);
    assert_null(cfg);
    assert_true(errors >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_external_label_names_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
