/* Pyroscope's __name__ for pprof uploads, from real profiles' sample types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_fixture_util.h"

#include "convert/convert.h"
#include "receivers/pyroscope/profile_name.h"

#define TP "third_party/grafana-pyroscope/"

/* The profile name of a fixture, with its sample_type_config when cfg_file
 * is not NULL and with Pyroscope's defaults when use_defaults is set. */
static const char *name_of(const char *pprof_file, const char *cfg_file, int use_defaults)
{
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    size_t len, n_cfg = 0;
    uint8_t *buf = pg_test_read_fixture(pprof_file, &len);
    pg_pprof *p;
    if (pg_pprof_decode(a, buf, len, 64u << 20, &p, &err) != PG_OK)
        fail_msg("%s: %s", pprof_file, err.msg);
    free(buf);
    const pg_pyro_stconfig_entry *cfg = NULL;
    if (cfg_file) {
        pg_pyro_stconfig_entry *parsed;
        buf = pg_test_read_fixture(cfg_file, &len);
        assert_int_equal(pg_pyro_stconfig_parse(a, buf, len, &parsed, &n_cfg, &err), PG_OK);
        free(buf);
        cfg = parsed;
    } else if (use_defaults) {
        cfg = pg_pyro_stconfig_defaults(&n_cfg);
    }
    const char **types = pg_arena_calloc(a, p->n_sample_type + 1, sizeof(*types));
    for (size_t i = 0; i < p->n_sample_type; i++)
        types[i] = p->string_table[p->sample_type[i]->type];
    const char *name = pg_pyro_profile_name(types, p->n_sample_type, cfg, n_cfg);
    pg_arena_free(a);
    return name;
}

#define EXPECT_NAME(got, want)                                                                     \
    do {                                                                                           \
        const char *g_ = (got);                                                                    \
        if (want)                                                                                  \
            assert_string_equal(g_, want);                                                         \
        else                                                                                       \
            assert_null(g_);                                                                       \
    } while (0)

static void test_node(void **state)
{
    (void)state;
    /* samples, wall, cpu */
    EXPECT_NAME(name_of("captured/pyroscope-nodejs-0.4.13/ingest-002-wall.profile.pb.gz", NULL, 0),
                "wall");
    EXPECT_NAME(name_of("captured/pyroscope-nodejs-0.6.4/ingest-001-wall.body", NULL, 0), "wall");
    EXPECT_NAME(name_of(TP "nodejs-wall.pb.gz", NULL, 0), "wall");
    /* inuse_objects, inuse_space */
    EXPECT_NAME(name_of("captured/pyroscope-nodejs-0.4.13/ingest-001-heap.profile.pb.gz", NULL, 0),
                "memory");
    EXPECT_NAME(name_of(TP "nodejs-heap.pb.gz", NULL, 0), "memory");
}

static void test_go(void **state)
{
    (void)state;
    EXPECT_NAME(name_of(TP "go-cpu.pb.gz", NULL, 0), "process_cpu");
    EXPECT_NAME(name_of(TP "go-cpu.pb.gz", NULL, 1), "process_cpu");
    EXPECT_NAME(name_of("captured/go-files/cpu.pb.gz", NULL, 0), "process_cpu");
    EXPECT_NAME(name_of(TP "go-heap.pb.gz", NULL, 0), "memory");
    EXPECT_NAME(name_of(TP "ingest-go-heap.pb.gz", TP "ingest-go-heap.sample_type_config.json", 0),
                "memory");
    EXPECT_NAME(name_of(TP "ingest-go-goroutine.pb.gz",
                        TP "ingest-go-goroutine.sample_type_config.json", 0),
                "goroutines");
    /* goroutine/count: no rule matches the bare type name */
    EXPECT_NAME(name_of(TP "ingest-go-goroutine.pb.gz", NULL, 0), NULL);
    EXPECT_NAME(name_of(TP "ingest-go-goroutine.pb.gz", NULL, 1), "goroutines");
    EXPECT_NAME(
        name_of(TP "ingest-go-mutex.pb.gz", TP "ingest-go-mutex.sample_type_config.json", 0),
        "mutex");
    EXPECT_NAME(
        name_of(TP "ingest-go-block.pb.gz", TP "ingest-go-block.sample_type_config.json", 0),
        "block");
    /* contentions/delay alone match nothing; Pyroscope's defaults call a
     * block profile without config "mutex" */
    EXPECT_NAME(name_of(TP "ingest-go-block.pb.gz", NULL, 0), NULL);
    EXPECT_NAME(name_of(TP "ingest-go-block.pb.gz", NULL, 1), "mutex");
}

/* .NET: hyphenated sample types that only match through their display names. */
static void test_dotnet(void **state)
{
    (void)state;
    pg_arena *a = pg_arena_new(0, 0);
    pg_error err = {0};
    size_t len, n_cfg;
    uint8_t *buf = pg_test_read_fixture(TP "dotnet-multi.pb", &len);
    pg_pprof *p;
    assert_int_equal(pg_pprof_decode(a, buf, len, 64u << 20, &p, &err), PG_OK);
    free(buf);
    buf = pg_test_read_fixture(TP "dotnet-multi.sample_type_config.json", &len);
    pg_pyro_stconfig_entry *cfg;
    assert_int_equal(pg_pyro_stconfig_parse(a, buf, len, &cfg, &n_cfg, &err), PG_OK);
    free(buf);
    static const char *const want[] = {"cpu",        "exception",  "alloc-samples",
                                       "alloc-size", "lock-count", "lock-time"};
    assert_int_equal(p->n_sample_type, 6);
    const char *types[6];
    for (size_t i = 0; i < 6; i++) {
        types[i] = p->string_table[p->sample_type[i]->type];
        assert_string_equal(types[i], want[i]);
    }
    EXPECT_NAME(pg_pyro_profile_name(types, 6, cfg, n_cfg), "process_cpu");
    EXPECT_NAME(pg_pyro_profile_name(types, 6, NULL, 0), "process_cpu");
    /* exception -> "exceptions" matches nothing; alloc-samples -> alloc_objects */
    EXPECT_NAME(pg_pyro_profile_name(types + 1, 5, cfg, n_cfg), "memory");
    EXPECT_NAME(pg_pyro_profile_name(types + 1, 5, NULL, 0), NULL);
    EXPECT_NAME(pg_pyro_profile_name(types + 4, 2, cfg, n_cfg), "mutex");
    EXPECT_NAME(pg_pyro_profile_name(types + 4, 2, NULL, 0), NULL);
    pg_arena_free(a);
}

static void test_rules(void **state)
{
    (void)state;
    static const pg_pyro_stconfig_entry cfg[] = {
        {.sample_type = "a", .display_name = "block_count", .cumulative = -1, .sampled = -1},
        {.sample_type = "b", .display_name = "", .cumulative = -1, .sampled = -1},
        {.sample_type = "cpu", .display_name = "goroutines", .cumulative = -1, .sampled = -1},
    };
    const char *t1[] = {"objects", "space"};
    EXPECT_NAME(pg_pyro_profile_name(t1, 2, NULL, 0), "memory");
    const char *t2[] = {"x", "space"};
    EXPECT_NAME(pg_pyro_profile_name(t2, 2, NULL, 0), "memory");
    const char *t3[] = {"alloc_x_objects"};
    EXPECT_NAME(pg_pyro_profile_name(t3, 1, NULL, 0), "memory");
    /* the first matching type decides, in order */
    const char *t4[] = {"a", "cpu"};
    EXPECT_NAME(pg_pyro_profile_name(t4, 2, cfg, 3), "block");
    EXPECT_NAME(pg_pyro_profile_name(t4, 2, NULL, 0), "process_cpu");
    /* a display name replaces the type, so "cpu" stops matching cpu */
    const char *t5[] = {"cpu"};
    EXPECT_NAME(pg_pyro_profile_name(t5, 1, cfg, 3), "goroutines");
    /* an empty display name is no display name */
    const char *t6[] = {"b", "mutex_wait"};
    EXPECT_NAME(pg_pyro_profile_name(t6, 2, cfg, 3), "mutex");
    /* wall wins wherever it is */
    const char *t7[] = {"cpu", "alloc_space", "wall"};
    EXPECT_NAME(pg_pyro_profile_name(t7, 3, cfg, 3), "wall");
    const char *t8[] = {"walls", "objects_x"};
    EXPECT_NAME(pg_pyro_profile_name(t8, 2, NULL, 0), NULL);
    EXPECT_NAME(pg_pyro_profile_name(NULL, 0, NULL, 0), NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node),
        cmocka_unit_test(test_go),
        cmocka_unit_test(test_dotnet),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
