/* File exporter: framing, forwarding, merging, rotation, zstd, back-pressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zstd.h>

#include "common/clock.h"
#include "config/config.h"
#include "exporters/file/file_exporter.h"
#include "telemetry/metrics.h"
#include "test_otlp_merge_util.h"

typedef struct env {
    char dir[64];
    char path[128];
    uint8_t *bytes;
    size_t len;
    pg_payload *payload; /* the fixture, decoded and attached */
    pg_component comp;
    pg_file_exporter_config cfg;
    pg_worker worker;
} env;

static int setup(void **state)
{
    env *e = calloc(1, sizeof(*e));
    snprintf(e->dir, sizeof(e->dir), "/tmp/pg-file-test-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->path, sizeof(e->path), "%s/a/b/out.bin", e->dir);
    e->bytes = tu_read_fixture(&e->len);
    assert_non_null(e->bytes);
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *req = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_decode(a, e->bytes, e->len, &req, &err), PG_OK);
    uint8_t *copy = malloc(e->len);
    memcpy(copy, e->bytes, e->len);
    e->payload = pg_payload_new(PG_PAYLOAD_OTLP, copy, e->len);
    pg_payload_set_decoded(e->payload, req, a);
    e->cfg.path = e->path;
    e->cfg.format = PG_FILE_FORMAT_OTLP_PROTO;
    e->cfg.max_megabytes = 100;
    e->cfg.max_backups = 5;
    e->cfg.flush_interval_ms = 1000;
    e->cfg.queue_max_items = 1024;
    e->cfg.queue_max_bytes = 64 << 20;
    e->comp.def = &pg_file_exporter_def;
    e->comp.config = &e->cfg;
    e->comp.workers = 1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
    assert_int_equal(system(cmd), 0);
    pg_payload_unref(e->payload);
    free(e->bytes);
    free(e);
    return 0;
}

static void create_and_start(env *e, const char *id, int start)
{
    snprintf(e->comp.id, sizeof(e->comp.id), "%s", id);
    pg_error err = {0};
    assert_int_equal(pg_file_exporter_def.create(&e->comp, &err), PG_OK);
    if (start)
        assert_int_equal(pg_file_exporter_def.start(&e->comp, &err), PG_OK);
}

static void finish(env *e)
{
    pg_file_exporter_def.shutdown(&e->comp, pg_now_ms() + 10000);
    pg_file_exporter_def.shutdown(&e->comp, pg_now_ms() + 10000); /* twice is fine */
    pg_file_exporter_def.destroy(&e->comp);
}

/* A batch of the fixture's profiles: every `step`-th one from `first`. */
static pg_batch *fixture_batch(env *e, size_t first, size_t step)
{
    const pg_otlp_request *req = e->payload->decoded;
    pg_batch *b = pg_batch_new();
    size_t k = 0;
    for (size_t r = 0; r < req->n_resource_profiles; r++)
        for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
            for (size_t p = 0; p < req->resource_profiles[r]->scope_profiles[s]->n_profiles;
                 p++, k++) {
                if (k < first || (k - first) % step)
                    continue;
                pg_profile *pr = pg_batch_add(b, e->payload);
                pr->resource_index = (uint32_t)r;
                pr->scope_index = (uint32_t)s;
                pr->profile_index = (uint32_t)p;
                pr->value_total =
                    tu_value_total(req->resource_profiles[r]->scope_profiles[s]->profiles[p]);
            }
    return b;
}

static pg_consume_status send_batch(env *e, pg_batch *b)
{
    pg_consume_result res;
    pg_consume_result_init(&res);
    pg_consume_status st = pg_file_exporter_def.consume(&e->comp, &e->worker, b, &res);
    pg_batch_free(b);
    return st;
}

/* Splits a length-prefixed file into frames; fails on a torn frame. */
static size_t read_frames(const uint8_t *p, size_t len, const uint8_t **frames, size_t *lens,
                          size_t max)
{
    size_t n = 0, off = 0;
    while (off < len) {
        assert_true(off + 4 <= len);
        size_t f =
            (size_t)p[off] << 24 | (size_t)p[off + 1] << 16 | (size_t)p[off + 2] << 8 | p[off + 3];
        off += 4;
        assert_true(off + f <= len);
        assert_true(n < max);
        frames[n] = p + off;
        lens[n++] = f;
        off += f;
    }
    return n;
}

static void test_forwards_whole_payload_unchanged(void **state)
{
    env *e = *state;
    create_and_start(e, "file/forward", 1);
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    finish(e);
    size_t len = 0;
    uint8_t *data = tu_read_file(e->path, &len);
    assert_non_null(data);
    const uint8_t *frames[4];
    size_t lens[4];
    assert_int_equal(read_frames(data, len, frames, lens, 4), 1);
    assert_int_equal(lens[0], e->len);
    assert_memory_equal(frames[0], e->bytes, e->len);
    free(data);
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_exporter_sent_profiles_total",
                                                    "exporter=\"file/forward\"")),
                     82);
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_exporter_sent_bytes_total",
                                                    "exporter=\"file/forward\"")),
                     (int64_t)e->len + 4);
}

static void test_merges_a_subset(void **state)
{
    env *e = *state;
    create_and_start(e, "file/merge", 1);
    pg_batch *even = fixture_batch(e, 0, 2), *odd = fixture_batch(e, 1, 2);
    size_t n_even = even->count, n_odd = odd->count;
    int64_t want[2] = {0, 0};
    for (size_t i = 0; i < n_even; i++)
        want[0] += even->profiles[i].value_total;
    for (size_t i = 0; i < n_odd; i++)
        want[1] += odd->profiles[i].value_total;
    assert_int_equal(send_batch(e, even), PG_CONSUME_OK);
    assert_int_equal(send_batch(e, odd), PG_CONSUME_OK);
    finish(e);

    size_t len = 0;
    uint8_t *data = tu_read_file(e->path, &len);
    const uint8_t *frames[4];
    size_t lens[4];
    assert_int_equal(read_frames(data, len, frames, lens, 4), 2);
    const size_t counts[2] = {n_even, n_odd};
    for (int f = 0; f < 2; f++) {
        pg_arena *a = pg_arena_new(0, 0);
        pg_otlp_request *req = NULL;
        pg_error err = {0};
        assert_int_equal(pg_otlp_decode(a, frames[f], lens[f], &req, &err), PG_OK);
        assert_int_equal(tu_profile_count(req), counts[f]);
        int64_t total = 0;
        for (size_t r = 0; r < req->n_resource_profiles; r++)
            for (size_t s = 0; s < req->resource_profiles[r]->n_scope_profiles; s++)
                for (size_t p = 0; p < req->resource_profiles[r]->scope_profiles[s]->n_profiles;
                     p++)
                    total +=
                        tu_value_total(req->resource_profiles[r]->scope_profiles[s]->profiles[p]);
        assert_int_equal(total, want[f]);
        /* a part of the request carries a pruned dictionary */
        assert_true(lens[f] < e->len);
        pg_arena_free(a);
    }
    free(data);
}

static void test_rotation_by_size(void **state)
{
    env *e = *state;
    e->cfg.max_megabytes = 1;
    e->cfg.max_backups = 2;
    create_and_start(e, "file/rotate", 1);
    for (int i = 0; i < 25; i++)
        assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    finish(e);
    /* 9 records of ~105 KB fit under 1 MiB: 25 = 9 (path.2) + 9 (path.1) + 7 (path) */
    static const char *const suffix[] = {"", ".1", ".2"};
    static const size_t expect[] = {7, 9, 9};
    char p[256];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", e->path, suffix[i]);
        size_t len = 0;
        uint8_t *data = tu_read_file(p, &len);
        assert_non_null(data);
        assert_true(len <= 1024 * 1024);
        const uint8_t *frames[16];
        size_t lens[16];
        assert_int_equal(read_frames(data, len, frames, lens, 16), expect[i]);
        for (size_t k = 0; k < expect[i]; k++)
            assert_memory_equal(frames[k], e->bytes, e->len);
        free(data);
    }
    snprintf(p, sizeof(p), "%s.3", e->path);
    assert_int_equal(access(p, F_OK), -1);
}

static void test_zstd_frames(void **state)
{
    env *e = *state;
    e->cfg.compression = PG_FILE_COMPRESSION_ZSTD;
    create_and_start(e, "file/zstd", 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    finish(e);
    size_t len = 0;
    uint8_t *data = tu_read_file(e->path, &len);
    assert_true(len < 3 * e->len);
    /* one zstd frame per record */
    size_t off = 0, frames = 0;
    while (off < len) {
        size_t f = ZSTD_findFrameCompressedSize(data + off, len - off);
        assert_false(ZSTD_isError(f));
        off += f;
        frames++;
    }
    assert_int_equal(frames, 3);
    /* the frames decompress into the uncompressed layout */
    size_t cap = 3 * (e->len + 4);
    uint8_t *plain = malloc(cap);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    ZSTD_inBuffer in = {data, len, 0};
    ZSTD_outBuffer out = {plain, cap, 0};
    while (in.pos < in.size)
        assert_false(ZSTD_isError(ZSTD_decompressStream(d, &out, &in)));
    ZSTD_freeDCtx(d);
    const uint8_t *fr[4];
    size_t lens[4];
    assert_int_equal(read_frames(plain, out.pos, fr, lens, 4), 3);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(fr[i], e->bytes, e->len);
    free(plain);
    free(data);
}

static void test_queue_full_is_resource_exhausted(void **state)
{
    env *e = *state;
    e->cfg.queue_max_items = 2;
    create_and_start(e, "file/full", 0); /* writer not running yet: nothing drains */
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_RESOURCE_EXHAUSTED);
    pg_error err = {0};
    assert_int_equal(pg_file_exporter_def.start(&e->comp, &err), PG_OK);
    finish(e);
    size_t len = 0;
    uint8_t *data = tu_read_file(e->path, &len);
    const uint8_t *frames[4];
    size_t lens[4];
    assert_int_equal(read_frames(data, len, frames, lens, 4), 2);
    free(data);
}

static void test_shutdown_counts_unwritten(void **state)
{
    env *e = *state;
    create_and_start(e, "file/lost", 0);
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    pg_file_exporter_def.shutdown(&e->comp, pg_now_ms()); /* no writer, deadline now */
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_exporter_failed_profiles_total",
                                                    "exporter=\"file/lost\",reason=\"write\"")),
                     82);
    /* after shutdown the exporter refuses with a retryable answer */
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_RETRYABLE);
    pg_file_exporter_def.destroy(&e->comp);
}

/* A pprof payload that does not decode cannot be converted: refused. */
static void test_undecodable_pprof_refused(void **state)
{
    env *e = *state;
    create_and_start(e, "file/pprof", 1);
    pg_payload *pp = pg_payload_new(PG_PAYLOAD_PPROF, calloc(1, 8), 8);
    pg_batch *b = pg_batch_new();
    pg_batch_add(b, pp);
    pg_batch_add(b, pp);
    pg_consume_result res;
    pg_consume_result_init(&res);
    assert_int_equal(pg_file_exporter_def.consume(&e->comp, &e->worker, b, &res),
                     PG_CONSUME_PERMANENT);
    assert_int_equal(res.rejected, 2);
    pg_batch_free(b);
    pg_payload_unref(pp);
    assert_int_equal(pg_metric_value(pg_metric_find("profgate_exporter_failed_profiles_total",
                                                    "exporter=\"file/pprof\",reason=\"convert\"")),
                     2);
    finish(e);
    size_t len = 99;
    uint8_t *data = tu_read_file(e->path, &len);
    assert_int_equal(len, 0); /* created, nothing written */
    free(data);
}

/* Profiles in one OTLP/JSON request line, read with jansson. */
static size_t json_profiles(const char *line, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(line, len, 0, &jerr);
    assert_non_null(root);
    size_t n = 0, i, j;
    json_t *rp, *sp;
    json_array_foreach(json_object_get(root, "resourceProfiles"), i, rp)
        json_array_foreach(json_object_get(rp, "scopeProfiles"), j, sp) n +=
        json_array_size(json_object_get(sp, "profiles"));
    json_decref(root);
    return n;
}

static void test_json_lines(void **state)
{
    env *e = *state;
    e->cfg.format = PG_FILE_FORMAT_OTLP_JSON;
    create_and_start(e, "file/json", 1);
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 1)), PG_CONSUME_OK);
    assert_int_equal(send_batch(e, fixture_batch(e, 0, 3)), PG_CONSUME_OK);
    finish(e);
    size_t len = 0;
    char *data = (char *)tu_read_file(e->path, &len);
    char *nl = memchr(data, '\n', len);
    assert_non_null(nl);
    assert_int_equal(json_profiles(data, (size_t)(nl - data)), 82);
    /* the forwarded line means exactly what the payload means */
    pg_arena *a = pg_arena_new(0, 0);
    pg_otlp_request *back = NULL;
    pg_error err = {0};
    assert_int_equal(pg_otlp_json_decode(a, data, (size_t)(nl - data), &back, &err), PG_OK);
    pg_buf want, got;
    pg_buf_init(&want);
    pg_buf_init(&got);
    const pg_otlp_request *orig = e->payload->decoded;
    for (size_t r = 0; r < orig->n_resource_profiles; r++)
        for (size_t p = 0; p < orig->resource_profiles[r]->scope_profiles[0]->n_profiles; p++) {
            tu_render(orig, r, 0, p, &want);
            tu_render(back, r, 0, p, &got);
        }
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    pg_buf_free(&want);
    pg_buf_free(&got);
    pg_arena_free(a);
    char *second = nl + 1;
    char *nl2 = memchr(second, '\n', len - (size_t)(second - data));
    assert_non_null(nl2);
    assert_int_equal((size_t)(nl2 - data) + 1, len);
    assert_int_equal(json_profiles(second, (size_t)(nl2 - second)), 28);
    free(data);
}

static void test_validate_pprof_combinations(void **state)
{
    (void)state;
    pg_config_node key = {
        .kind = PG_NODE_SCALAR, .file = "c.yaml", .line = 4, .col = 5, .scalar = "compression"};
    pg_config_node val = {
        .kind = PG_NODE_SCALAR, .file = "c.yaml", .line = 4, .col = 18, .scalar = "zstd"};
    pg_config_node *keys[] = {&key}, *vals[] = {&val};
    pg_config_node map = {.kind = PG_NODE_MAP,
                          .file = "c.yaml",
                          .line = 3,
                          .col = 3,
                          .keys = keys,
                          .values = vals,
                          .n = 1};
    pg_file_exporter_config c = {
        .path = "/tmp/x", .format = PG_FILE_FORMAT_PPROF, .compression = PG_FILE_COMPRESSION_ZSTD};
    pg_config_report *r = pg_config_report_new();
    pg_file_exporter_def.validate(&c, r, &map);
    assert_int_equal(pg_config_report_errors(r), 1);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    pg_config_report_print(r, f);
    fclose(f);
    assert_non_null(strstr(text, "c.yaml:4:18"));
    assert_non_null(strstr(text, "compression applies to the otlp formats"));
    free(text);
    pg_config_report_free(r);
    /* pprof itself is fine, and so is zstd with the otlp formats */
    c.compression = PG_FILE_COMPRESSION_NONE;
    r = pg_config_report_new();
    pg_file_exporter_def.validate(&c, r, &map);
    assert_int_equal(pg_config_report_errors(r), 0);
    pg_config_report_free(r);
    c.format = PG_FILE_FORMAT_OTLP_JSON;
    c.compression = PG_FILE_COMPRESSION_ZSTD;
    r = pg_config_report_new();
    pg_file_exporter_def.validate(&c, r, &map);
    assert_int_equal(pg_config_report_errors(r), 0);
    pg_config_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forwards_whole_payload_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merges_a_subset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full_is_resource_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_counts_unwritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_undecodable_pprof_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_lines, setup, teardown),
        cmocka_unit_test(test_validate_pprof_combinations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
