/* File exporter with pprof: the directory layout of format pprof, and pprof
 * payloads written by the otlp formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <regex.h>
#include <unistd.h>

#include "common/clock.h"
#include "exporters/file/file_exporter.h"
#include "exporters/file/file_tree.h"
#include "telemetry/metrics.h"
#include "test_convert_processor_util.h"
#include "test_file_exporter_util.h"

typedef fe_env env;

static int setup(void **state)
{
    *state = fe_env_new("pg-filepprof");
    return 0;
}

static int teardown(void **state)
{
    fe_env_free(*state);
    return 0;
}

/* Runs one batch through an exporter writing to <dir>/<sub> and stops it, so
 * every file is written when this returns. */
static pg_consume_result export_batch(env *e, const char *sub, int format, pg_batch *b)
{
    static char path[192];
    snprintf(path, sizeof(path), "%s/%s", e->dir, sub);
    e->cfg.path = path;
    e->cfg.format = format;
    snprintf(e->comp.id, sizeof(e->comp.id), "file/%s", sub);
    return fe_export_batch(e, b);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *data = malloc(1 << 22);
    *len = fread(data, 1, 1 << 22, f);
    fclose(f);
    return data;
}

static void set_service(pg_batch *b, pg_profile *p, const char *svc, const char *tenant)
{
    assert_int_equal(pg_profile_set_label(b, p, "service_name", svc), PG_OK);
    assert_int_equal(pg_profile_set_tenant(b, p, tenant), PG_OK);
}

static void test_otlp_becomes_pprof_files(void **state)
{
    env *e = *state;
    pg_payload *op = tc_otlp_payload();
    assert_non_null(op);
    const pg_otlp_request *req = op->decoded;
    pg_batch *b = pg_batch_new();
    int64_t want = 0;
    pg_arena *a = pg_arena_new(0, 0);
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++)
        for (size_t si = 0; si < req->resource_profiles[ri]->n_scope_profiles; si++)
            for (size_t pi = 0; pi < req->resource_profiles[ri]->scope_profiles[si]->n_profiles;
                 pi++) {
                pg_profile *p = pg_batch_add(b, op);
                p->resource_index = (uint32_t)ri;
                p->scope_index = (uint32_t)si;
                p->profile_index = (uint32_t)pi;
                /* odd names must come out as safe path components */
                set_service(b, p, "shop/../x y", "");
                pg_otlp_profile_view v;
                assert_int_equal(pg_otlp_view(a, req, ri, si, pi, &v), PG_OK);
                want += v.value_total;
            }
    size_t n_in = b->count;
    pg_consume_result res = export_batch(e, "out", PG_FILE_FORMAT_PPROF, b);
    assert_int_equal(res.status, PG_CONSUME_OK);
    assert_int_equal(res.rejected, 0);
    char root[128];
    snprintf(root, sizeof(root), "%s/out", e->dir);
    fe_list_files(root);
    assert_true(fe_n_found >= 1 && fe_n_found <= n_in);
    regex_t re;
    char pat[256];
    snprintf(pat, sizeof(pat),
             "^%s/_default/shop_.._x_y/[A-Za-z0-9._-]+/[0-9]{8}T[0-9]{6}Z-[0-9]{6}\\.pb\\.gz$",
             root);
    assert_int_equal(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB), 0);
    int64_t got = 0;
    for (size_t i = 0; i < fe_n_found; i++) {
        assert_int_equal(regexec(&re, fe_found[i], 0, NULL, 0), 0);
        size_t n = 0;
        uint8_t *data = read_all(fe_found[i], &n);
        assert_true(n > 2 && data[0] == 0x1f && data[1] == 0x8b);
        Perftools__Profiles__Profile *doc = tc_unpack_pprof(a, data, n);
        assert_non_null(doc);
        /* the directory names the first sample type */
        char want_dir[160];
        snprintf(want_dir, sizeof(want_dir), "/%s/", tc_pstr(doc, doc->sample_type[0]->type));
        assert_non_null(
            strstr(fe_found[i] + strlen(root) + 1 + strlen("_default/shop_.._x_y"), want_dir));
        for (size_t t = 0; t < doc->n_sample_type; t++)
            got += tc_pprof_total(doc, tc_pstr(doc, doc->sample_type[t]->type));
        free(data);
    }
    regfree(&re);
    assert_int_equal(got, want);
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_exporter_sent_profiles_total",
                                                    "exporter=\"file/out\"")),
                     (int64_t)n_in);
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(op);
}

static void test_gzipped_pprof_written_byte_for_byte(void **state)
{
    env *e = *state;
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    set_service(b, pg_batch_add(b, pp), "shop", "team-a");
    set_service(b, pg_batch_add(b, pp), "shop", "team-a"); /* same payload: one file */
    set_service(b, pg_batch_add(b, pp), "shop", "..");
    pg_consume_result res = export_batch(e, "heap", PG_FILE_FORMAT_PPROF, b);
    assert_int_equal(res.status, PG_CONSUME_OK);
    char root[128];
    snprintf(root, sizeof(root), "%s/heap", e->dir);
    fe_list_files(root);
    assert_int_equal(fe_n_found, 2);
    char want[256];
    /* the fixture's time_nanos is 2026-11-24 19:06:09 UTC */
    snprintf(want, sizeof(want), "%s/_default/shop/alloc_objects/20261124T190609Z-000001.pb.gz",
             root);
    assert_string_equal(fe_found[0], want);
    snprintf(want, sizeof(want), "%s/team-a/shop/alloc_objects/20261124T190609Z-000000.pb.gz",
             root);
    assert_string_equal(fe_found[1], want);
    size_t len = 0;
    uint8_t *data = read_all(fe_found[1], &len);
    assert_int_equal(len, pp->len);
    assert_memory_equal(data, pp->bytes, len);
    free(data);
    pg_batch_free(b);
    pg_payload_unref(pp);
}

static void test_raw_pprof_is_gzipped(void **state)
{
    env *e = *state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_payload *gz = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    const uint8_t *raw = NULL;
    size_t raw_len = 0;
    pg_error err;
    assert_int_equal(pg_decompress(a, "gzip", gz->bytes, gz->len, 0, &raw, &raw_len, &err), 0);
    uint8_t *copy = malloc(raw_len);
    memcpy(copy, raw, raw_len);
    pg_payload *pp = pg_payload_new(PG_PAYLOAD_PPROF, copy, raw_len);
    pg_batch *b = pg_batch_new();
    set_service(b, pg_batch_add(b, pp), "", "t");
    pg_consume_result res = export_batch(e, "raw", PG_FILE_FORMAT_PPROF, b);
    assert_int_equal(res.status, PG_CONSUME_OK);
    char root[128];
    snprintf(root, sizeof(root), "%s/raw", e->dir);
    fe_list_files(root);
    assert_int_equal(fe_n_found, 1);
    assert_non_null(strstr(fe_found[0], "/t/_unknown/alloc_objects/"));
    size_t len = 0;
    uint8_t *data = read_all(fe_found[0], &len);
    assert_true(len > 2 && data[0] == 0x1f && data[1] == 0x8b);
    const uint8_t *back = NULL;
    size_t back_len = 0;
    assert_int_equal(pg_decompress(a, "gzip", data, len, 0, &back, &back_len, &err), 0);
    assert_int_equal(back_len, raw_len);
    assert_memory_equal(back, raw, raw_len);
    free(data);
    pg_batch_free(b);
    pg_payload_unref(pp);
    pg_payload_unref(gz);
    pg_arena_free(a);
}

/* otlp_proto: pprof payloads are converted and merged with the OTLP ones. */
static void test_otlp_proto_merges_pprof(void **state)
{
    env *e = *state;
    pg_payload *op = tc_otlp_payload();
    pg_payload *pp = tc_payload(PG_PAYLOAD_PPROF, TC_HEAP_FIXTURE);
    pg_batch *b = pg_batch_new();
    pg_profile *o = pg_batch_add(b, op);
    o->profile_index = 0;
    set_service(b, pg_batch_add(b, pp), "heapsvc", "");
    pg_consume_result res = export_batch(e, "merged.bin", PG_FILE_FORMAT_OTLP_PROTO, b);
    assert_int_equal(res.status, PG_CONSUME_OK);
    assert_int_equal(res.rejected, 0);
    char path[128];
    snprintf(path, sizeof(path), "%s/merged.bin", e->dir);
    size_t len = 0;
    uint8_t *data = read_all(path, &len);
    assert_true(len > 4);
    size_t n = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
    assert_int_equal(n + 4, len);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err;
    assert_int_equal(pg_otlp_decode(a, data + 4, n, &req, &err), PG_OK);
    assert_int_equal(pg_otlp_profile_count(req), 1 + 4);
    int heap_resource = 0;
    for (size_t ri = 0; ri < req->n_resource_profiles; ri++) {
        pg_otlp_profile_view v;
        assert_int_equal(pg_otlp_view(a, req, ri, 0, 0, &v), PG_OK);
        heap_resource += strcmp(v.service_name, "heapsvc") == 0;
    }
    assert_int_equal(heap_resource, 1);
    free(data);
    pg_arena_free(a);
    pg_batch_free(b);
    pg_payload_unref(op);
    pg_payload_unref(pp);
}

/* format pprof needs a directory: a file in the way fails start. */
static void test_path_must_be_a_directory(void **state)
{
    env *e = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/plain", e->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    e->cfg.path = path;
    snprintf(e->comp.id, sizeof(e->comp.id), "file/notdir");
    pg_error err = {0};
    assert_int_equal(pg_file_exporter_def.create(&e->comp, &err), PG_OK);
    assert_int_equal(pg_file_exporter_def.start(&e->comp, &err), PG_ERR_IO);
    assert_non_null(strstr(err.msg, "is not a directory"));
    pg_file_exporter_def.shutdown(&e->comp, pg_now_ms() + 1000);
    pg_file_exporter_def.destroy(&e->comp);
}

static void test_sanitize(void **state)
{
    (void)state;
    char s[32];
    snprintf(s, sizeof(s), "a/b c\xc3\xa9:d");
    pg_file_tree_sanitize(s, sizeof(s), "_x");
    assert_string_equal(s, "a_b_c___d");
    snprintf(s, sizeof(s), "..");
    pg_file_tree_sanitize(s, sizeof(s), "_x");
    assert_string_equal(s, "_x");
    snprintf(s, sizeof(s), ".");
    pg_file_tree_sanitize(s, sizeof(s), "_x");
    assert_string_equal(s, "_x");
    s[0] = 0;
    pg_file_tree_sanitize(s, sizeof(s), "_x");
    assert_string_equal(s, "_x");
    snprintf(s, sizeof(s), "v1.2_ok-A");
    pg_file_tree_sanitize(s, sizeof(s), "_x");
    assert_string_equal(s, "v1.2_ok-A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_otlp_becomes_pprof_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzipped_pprof_written_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_pprof_is_gzipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_otlp_proto_merges_pprof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_must_be_a_directory, setup, teardown),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
