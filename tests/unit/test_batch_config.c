/* The batch, file and debug components through the real configuration loader:
 * registration, defaults, bounds and cross-key checks at their positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "exporters/debug/debug_exporter.h"
#include "exporters/file/file_exporter.h"
#include "processors/batch/batch.h"

static const char *const base = "receivers:\n"
                                "  otlp:\n"
                                "    protocols:\n"
                                "      http: {endpoint: 127.0.0.1:14318}\n"
                                "processors:\n"
                                "  batch:%s\n"
                                "exporters:\n"
                                "  debug:%s\n"
                                "  file:\n"
                                "    path: /tmp/out.otlp\n"
                                "%s"
                                "service:\n"
                                "  pipelines:\n"
                                "    profiles:\n"
                                "      receivers: [otlp]\n"
                                "      processors: [batch]\n"
                                "      exporters: [debug, file]\n";

static char *report_text(const pg_config_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pg_config_report_print(r, f);
    fclose(f);
    return buf;
}

/* Loads the config; returns the report text (caller frees) and *cfg on success. */
static char *load(const char *batch, const char *debug, const char *file_extra, pg_config **cfg)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml), base, batch, debug, file_extra);
    pg_config_report *r = pg_config_report_new();
    *cfg = NULL;
    pg_config_load_string("c.yaml", yaml, strlen(yaml), cfg, r);
    char *text = report_text(r);
    pg_config_report_free(r);
    return text;
}

static const void *typed(const pg_config_component *list, size_t n, const char *type)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].def->type, type) == 0)
            return list[i].typed;
    fail_msg("component %s not loaded", type);
    return NULL;
}

static void test_defaults(void **state)
{
    (void)state;
    pg_config *cfg;
    char *text = load(" {}", " {}", "", &cfg);
    assert_non_null(cfg);
    const pg_batch_processor_config *b = typed(cfg->processors, cfg->n_processors, "batch");
    assert_int_equal(b->send_batch_size, 64);
    assert_int_equal(b->send_batch_max_size, 0);
    assert_int_equal(b->timeout_ms, 200);
    const pg_file_exporter_config *f = typed(cfg->exporters, cfg->n_exporters, "file");
    assert_string_equal(f->path, "/tmp/out.otlp");
    assert_int_equal(f->format, PG_FILE_FORMAT_OTLP_PROTO);
    assert_int_equal(f->compression, PG_FILE_COMPRESSION_NONE);
    assert_int_equal(f->max_megabytes, 100);
    assert_int_equal(f->max_backups, 5);
    assert_int_equal(f->flush_interval_ms, 1000);
    assert_int_equal(f->queue_max_items, 1024);
    assert_int_equal(f->queue_max_bytes, 64 << 20);
    const pg_debug_exporter_config *d = typed(cfg->exporters, cfg->n_exporters, "debug");
    assert_int_equal(d->verbosity, PG_DEBUG_BASIC);
    pg_config_free(cfg);
    free(text);
}

static void test_values(void **state)
{
    (void)state;
    pg_config *cfg;
    char *text = load(" {send_batch_size: 10, send_batch_max_size: 20, timeout: 2s}",
                      " {verbosity: detailed}",
                      "    format: otlp_json\n"
                      "    compression: zstd\n"
                      "    rotation: {max_megabytes: 7, max_backups: 0}\n",
                      &cfg);
    assert_non_null(cfg);
    const pg_batch_processor_config *b = typed(cfg->processors, cfg->n_processors, "batch");
    assert_int_equal(b->send_batch_size, 10);
    assert_int_equal(b->send_batch_max_size, 20);
    assert_int_equal(b->timeout_ms, 2000);
    const pg_file_exporter_config *f = typed(cfg->exporters, cfg->n_exporters, "file");
    assert_int_equal(f->format, PG_FILE_FORMAT_OTLP_JSON);
    assert_int_equal(f->compression, PG_FILE_COMPRESSION_ZSTD);
    assert_int_equal(f->max_megabytes, 7);
    assert_int_equal(f->max_backups, 0);
    const pg_debug_exporter_config *d = typed(cfg->exporters, cfg->n_exporters, "debug");
    assert_int_equal(d->verbosity, PG_DEBUG_DETAILED);
    pg_config_free(cfg);
    free(text);
}

static void test_errors_at_their_keys(void **state)
{
    (void)state;
    pg_config *cfg;
    char *text = load(" {send_batch_size: 100, send_batch_max_size: 50}", " {verbosity: loud}",
                      "    format: pprof\n    compression: zstd\n", &cfg);
    assert_null(cfg);
    /* line 6 is the batch line; line 12 is "    compression: zstd" under "format: pprof" */
    assert_non_null(strstr(text, "c.yaml:6:"));
    assert_non_null(strstr(text, "send_batch_max_size (50) must be 0 or >= send_batch_size (100)"));
    assert_non_null(strstr(text, "c.yaml:12:18: error: compression applies to the otlp formats; "
                                 "pprof files are always gzipped"));
    assert_non_null(strstr(text, "loud"));
    free(text);

    text = load(" {send_batch_size: 0}", " {}", "", &cfg);
    assert_null(cfg);
    assert_non_null(strstr(text, "send_batch_size"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors_at_their_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
