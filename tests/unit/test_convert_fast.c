/* The direct pprof -> OTLP encoder (pg_pprof_to_otlp_encoded) against the
 * reference path (pg_pprof_decode + pg_pprof_to_otlp + pg_otlp_encode): the
 * same bytes for every fixture under several option sets, and the same
 * accept/reject decision for truncated and mutated documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_pprof_util.h"

#define MAX_INFLATE (64u << 20)

/* Both paths; returns 1 when both accepted (bytes compared), 0 when both
 * refused, and fails the test when they disagree. */
static int compare_paths(const char *what, const uint8_t *buf, size_t len,
                         const pg_pprof_to_otlp_options *opt)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_buf ref, fast;
    pg_buf_init(&ref);
    pg_buf_init(&fast);
    pg_error rerr = {0}, ferr = {0};
    pg_pprof *p = NULL;
    pg_otlp_request *req = NULL;
    int rrc = pg_pprof_decode(a, buf, len, MAX_INFLATE, &p, &rerr);
    if (rrc == PG_OK)
        rrc = pg_pprof_to_otlp(a, p, opt, &req, &rerr);
    if (rrc == PG_OK)
        rrc = pg_otlp_encode(req, &ref);
    int frc = pg_pprof_to_otlp_encoded(a, buf, len, MAX_INFLATE, opt, &fast, &ferr);
    if ((rrc == PG_OK) != (frc == PG_OK))
        fail_msg("%s: reference %s (%s), direct %s (%s)", what, rrc ? "refused" : "accepted",
                 rerr.msg, frc ? "refused" : "accepted", ferr.msg);
    if (rrc == PG_OK) {
        if (ref.len != fast.len)
            fail_msg("%s: reference wrote %zu bytes, direct %zu", what, ref.len, fast.len);
        for (size_t i = 0; i < ref.len; i++) {
            if (ref.data[i] != fast.data[i])
                fail_msg("%s: first difference at byte %zu of %zu", what, i, ref.len);
        }
    } else {
        /* refusals are explained, in the same category */
        assert_true(ferr.msg[0] != '\0');
        if (rrc == PG_ERR_INVALID || rrc == PG_ERR_UNSUPPORTED)
            assert_true(frc == PG_ERR_INVALID || frc == PG_ERR_UNSUPPORTED);
        else
            assert_int_equal(frc, rrc);
    }
    pg_buf_free(&ref);
    pg_buf_free(&fast);
    pg_arena_free(a);
    return rrc == PG_OK;
}

static void test_fixtures_byte_for_byte(void **state)
{
    (void)state;
    tp_fixtures f;
    tp_find_fixtures(&f);
    assert_true(f.n >= 45);
    static const pg_convert_attr extra[] = {
        {"service.name", "override"}, {"env", "prod"}, {"env", "dev"}};
    static const pg_convert_type_attr types[] = {{"cpu", "pyroscope.sample_type.units", "ns"},
                                                 {"alloc_space", "k", "v"},
                                                 {"samples", "k", "v"},
                                                 {"inuse_space", "pprof.profile.doc_url", "x"}};
    size_t same = 0;
    for (size_t i = 0; i < f.n; i++) {
        size_t len = 0;
        uint8_t *buf = tp_read_file(f.path[i], &len);
        pg_pprof_to_otlp_options opts[3] = {{0}};
        opts[1].service_name = "svc";
        opts[1].resource_attrs = extra;
        opts[1].n_resource_attrs = 3;
        opts[2].type_attrs = types;
        opts[2].n_type_attrs = 4;
        opts[2].original_payload = buf;
        opts[2].original_payload_len = len;
        int accepted = compare_paths(f.path[i], buf, len, NULL);
        for (int k = 1; k < 3; k++)
            assert_int_equal(compare_paths(f.path[i], buf, len, &opts[k]), accepted);
        same += accepted;
        free(buf);
    }
    tp_free_fixtures(&f);
    assert_true(same >= 40); /* a few fixtures are deliberately invalid */
}

/* xorshift: the same mutations on every run */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_damaged_documents_agree(void **state)
{
    (void)state;
    tp_fixtures f;
    tp_find_fixtures(&f);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    size_t accepted = 0, refused = 0;
    for (size_t i = 0; i < f.n; i++) {
        size_t len = 0;
        uint8_t *buf = tp_read_file(f.path[i], &len);
        if (pg_is_gzip(buf, len) || len > (256u << 10)) {
            free(buf); /* damage inside gzip only tests zlib */
            continue;
        }
        for (size_t cut = 1; cut < 8 && cut < len; cut++) {
            int ok = compare_paths(f.path[i], buf, len - cut * len / 8, NULL);
            accepted += ok;
            refused += !ok;
        }
        uint8_t *copy = malloc(len);
        for (int round = 0; round < 40; round++) {
            memcpy(copy, buf, len);
            for (int k = 0; k < 1 + round % 4; k++)
                copy[next_rand(&seed) % len] = (uint8_t)next_rand(&seed);
            int ok = compare_paths(f.path[i], copy, len, NULL);
            accepted += ok;
            refused += !ok;
        }
        free(copy);
        free(buf);
    }
    tp_free_fixtures(&f);
    /* the damage must exercise both outcomes */
    assert_true(accepted > 20);
    assert_true(refused > 20);
}

static void test_empty_and_tiny_inputs(void **state)
{
    (void)state;
    static const uint8_t string_only[] = {0x32, 0x00};
    static const uint8_t bad_tag[] = {0x07};
    /* no sample types, samples with labels: no Profile holds them, so they
     * must not add attributes (found by fuzz_pprof_to_otlp) */
    static const uint8_t no_types[] = {0x12, 0x00, 0x12, 0x00, 0x32, 0x00, 0x12, 0x08,
                                       0x1a, 0x00, 0x68, 0x3f, 0x68, 0x3f, 0x1a, 0x00};
    assert_int_equal(compare_paths("empty", (const uint8_t *)"", 0, NULL), 0);
    assert_int_equal(compare_paths("string table only", string_only, sizeof(string_only), NULL), 1);
    assert_int_equal(compare_paths("bad tag", bad_tag, sizeof(bad_tag), NULL), 0);
    assert_int_equal(compare_paths("no sample types", no_types, sizeof(no_types), NULL), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_byte_for_byte),
        cmocka_unit_test(test_damaged_documents_agree),
        cmocka_unit_test(test_empty_and_tiny_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
